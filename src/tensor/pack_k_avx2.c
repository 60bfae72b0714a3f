/* AVX2 (+FMA, F16C) packed kernels of Q4_K and Q6_K (layouts and the
 * canonical order in pack.h and pack_k.c). A 64-byte chunk of a packed
 * super-block holds four weights of sixteen rows; its two 256-bit halves
 * are rows 0-7 and 8-15, so one ymm of unpacked weights against four
 * broadcast activation bytes advances eight rows (one int32 lane each)
 * and no horizontal sum is ever needed. The eight weight vectors of one
 * unit (a Q4_K sub-block, two Q6_K sub-blocks) stay in registers while
 * every activation row of the tile passes them; the integer sums of the
 * rows live in a small array (exact), which leaves the registers to the
 * weights, as in pack_ymm.h.
 *
 * Integers, per half, activation row and sub-block j (all exact; with
 * activation quants in [-128, 127], weights as stored):
 *   Q4_K: q in 0..15: a vpmaddubsw pair sum is at most 2 * 15 * 128 =
 *     3840, the eight of a sub-block at most 30720 < 32767, so they add
 *     as int16 and one vpmaddwd with the words (sc_j, sc_j) gives
 *     sc_j * raw_j directly (|sc_j raw_j| <= 63 * 60960). Per
 *     super-block, 4 vpmaddwd of the (m_2i, m_2i+1) words with the
 *     activation's (S32_2i, S32_2i+1) (|S32| <= 4064) form msum.
 *   Q6_K: q6 in 0..63: a pair sum is at most 2 * 63 * 128 = 16128, two
 *     at most 32256: the four products of a 16-weight sub-block become
 *     two int16 vectors, each taken by one vpmaddwd with (sc_j, sc_j)
 *     (sign-extended scales). The offset sum_j sc_j * 32 * S16_j comes
 *     per super-block from 8 vpmaddwd of (sc_2i, sc_2i+1) with
 *     (S16_2i, S16_2i+1), shifted left by 5 (|.| <= 16 * 128 * 2032 * 32).
 * These are the integers of ingot_pack_k_gemm_ref, and the float steps
 * are its steps in its order, so results are bit-identical to it.
 * Compiled to nothing off x86_64; only called when the CPU has AVX2, FMA
 * and F16C (kernels.c checks). */
#include "tensor/kernels.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <stddef.h>
#include <string.h>

#include "tensor/pack.h"
#include "tensor/quants.h"

#define KI static inline __attribute__((always_inline))
#define QK INGOT_QK_K
/* Activation rows per pass over a group, super-blocks whose activation
 * data is prepared at once. */
#define KTT 64
#define KC 16
/* How far ahead (bytes) the one-row kernels prefetch the weights: one
 * packed Q6_K super-block (16 x 210 bytes), about one and a half Q4_K
 * ones. Overridable (-DKPF=N, 0: none) for measuring. */
#ifndef KPF
#define KPF 3360
#endif

/* Per activation row and super-block: the words of pairs of activation
 * sums (Q4_K: (S32_2i, S32_2i+1), i < 4; Q6_K: (S16_2i, S16_2i+1), i < 8)
 * and the scale. */
typedef struct kact {
    int32_t p[8];
    float d;
} kact;

static int32_t words(int lo, int hi) { return (int32_t)((uint32_t)(uint16_t)lo | (uint32_t)(uint16_t)hi << 16); }

static void prepare(ingot_type type, const ingot_block_q8_k *a, kact *o) {
    o->d = a->d;
    if (type == INGOT_TYPE_Q6_K) {
        for (int i = 0; i < 8; i++) o->p[i] = words(a->bsums[2 * i], a->bsums[2 * i + 1]);
        return;
    }
    for (int i = 0; i < 4; i++)
        o->p[i] = words(a->bsums[4 * i] + a->bsums[4 * i + 1], a->bsums[4 * i + 2] + a->bsums[4 * i + 3]);
}

KI __m256i bcast4(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/* vpshufb control: bytes lo and hi of each dword into its two words,
 * zero-extended (0x80 zeroes; +4k keeps bit 7 set). */
KI __m256i shuf_ctl(int lo, int hi) {
    const __m256i koff = _mm256_setr_epi32(0, 0x04040404, 0x08080808, 0x0c0c0c0c, 0, 0x04040404, 0x08080808,
                                           0x0c0c0c0c);
    return _mm256_add_epi8(_mm256_set1_epi32((int32_t)(0x80008000u | (uint32_t)lo | (uint32_t)hi << 16)), koff);
}

/* Half h of a Q4_K block's scales: sw[j] = (sc_j, sc_j), mp[i] = (m_2i,
 * m_2i+1), int16 words per row. Bytes as ingot_k4_scale_min reads them:
 * per row, bytes 0-3 sc 0-3 (and in their top bits the high bits of sc
 * 4-7), bytes 4-7 the mins likewise, bytes 8-11 the low nibbles of sc/m
 * 4-7. */
KI void q4k_scales(const ingot_pack_q4_k *p, int h, __m256i sw[8], __m256i mp[4]) {
    const __m256i a = _mm256_loadu_si256((const __m256i *)(p->scales[0] + 32 * h));
    const __m256i b = _mm256_loadu_si256((const __m256i *)(p->scales[1] + 32 * h));
    const __m256i c = _mm256_loadu_si256((const __m256i *)(p->scales[2] + 32 * h));
    const __m256i m6 = _mm256_set1_epi8(0x3f), m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30);
    const __m256i slo = _mm256_and_si256(a, m6), mlo = _mm256_and_si256(b, m6);
    const __m256i shi = _mm256_or_si256(_mm256_and_si256(c, m4), _mm256_and_si256(_mm256_srli_epi32(a, 2), m30));
    const __m256i mhi =
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(c, 4), m4), _mm256_and_si256(_mm256_srli_epi32(b, 2), m30));
    for (int k = 0; k < 4; k++) {
        const __m256i ctl = shuf_ctl(k, k);
        sw[k] = _mm256_shuffle_epi8(slo, ctl);
        sw[k + 4] = _mm256_shuffle_epi8(shi, ctl);
    }
    const __m256i p01 = shuf_ctl(0, 1), p23 = shuf_ctl(2, 3);
    mp[0] = _mm256_shuffle_epi8(mlo, p01);
    mp[1] = _mm256_shuffle_epi8(mlo, p23);
    mp[2] = _mm256_shuffle_epi8(mhi, p01);
    mp[3] = _mm256_shuffle_epi8(mhi, p23);
}

/* Half h of a Q6_K block's scales: sw[j] = (sc_j, sc_j), sp[i] = (sc_2i,
 * sc_2i+1), sign-extended int16 words per row. */
KI void q6k_scales(const int8_t *sc, int h, __m256i sw[16], __m256i sp[8]) {
    __m256i v[16];
    for (int j = 0; j < 16; j++) {
        v[j] = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(sc + 16 * j + 8 * h)));
        sw[j] = _mm256_blend_epi16(v[j], _mm256_slli_epi32(v[j], 16), 0xaa);
    }
    for (int i = 0; i < 8; i++) sp[i] = _mm256_blend_epi16(v[2 * i], _mm256_slli_epi32(v[2 * i + 1], 16), 0xaa);
}

/* The int16 sum of n vpmaddubsw of u[0..n) with the four-byte runs at a. */
KI __m256i madd_run(const __m256i *u, const uint8_t *a, int n) {
    __m256i s0 = _mm256_maddubs_epi16(u[0], bcast4(a));
    __m256i s1 = _mm256_maddubs_epi16(u[1], bcast4(a + 4));
    for (int i = 2; i < n; i += 2) {
        s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(u[i], bcast4(a + 4 * i)));
        s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(u[i + 1], bcast4(a + 4 * i + 4)));
    }
    return _mm256_add_epi16(s0, s1);
}

/* One half (8 rows) of Q4_K block p against nt activation rows. */
KI void q4k_half(const ingot_pack_q4_k *p, int h, const uint8_t *ab, size_t act_row, int nt, const kact *pre,
                 int64_t kstride, float (*acc)[16], __m256i *isum) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256i sw[8], mp[4];
    q4k_scales(p, h, sw, mp);
    for (int t = 0; t < nt; t++) isum[t] = _mm256_setzero_si256();
    for (int j = 0; j < 8; j++) {
        __m256i u[8];
        for (int i = 0; i < 8; i++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(p->qs[8 * (j / 2) + i] + 32 * h));
            u[i] = _mm256_and_si256(j & 1 ? _mm256_srli_epi16(v, 4) : v, m4);
        }
        const __m256i sc = sw[j];
        for (int t = 0; t < nt; t++) {
            const __m256i s = madd_run(u, ab + (size_t)t * act_row + 32 * j, 8);
            isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(s, sc));
        }
    }
    const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p->d + 8 * h)));
    const __m256 dm = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p->dmin + 8 * h)));
    for (int t = 0; t < nt; t++) {
        const kact *q = pre + (size_t)t * kstride;
        __m256i ms = _mm256_madd_epi16(mp[0], _mm256_set1_epi32(q->p[0]));
        for (int i = 1; i < 4; i++) ms = _mm256_add_epi32(ms, _mm256_madd_epi16(mp[i], _mm256_set1_epi32(q->p[i])));
        const __m256 dy = _mm256_set1_ps(q->d);
        float *o = &acc[t][8 * h];
        __m256 r = _mm256_fmadd_ps(_mm256_mul_ps(dx, dy), _mm256_cvtepi32_ps(isum[t]), _mm256_load_ps(o));
        r = _mm256_fnmadd_ps(_mm256_mul_ps(dm, dy), _mm256_cvtepi32_ps(ms), r);
        _mm256_store_ps(o, r);
    }
}

/* One half of Q6_K block b (at blk) against nt activation rows. */
KI void q6k_half(const uint8_t *blk, int64_t b, int h, const uint8_t *ab, size_t act_row, int nt,
                 const kact *pre, int64_t kstride, float (*acc)[16], __m256i *isum) {
    const __m256i m6 = _mm256_set1_epi8(0x3f), m3 = _mm256_set1_epi8(0x03), mc = _mm256_set1_epi8(0x0c);
    const __m256i m30 = _mm256_set1_epi8(0x30);
    const uint8_t *q = blk + ingot_pack_q6_k_q(b) + 32 * h;
    __m256i sw[16], sp[8];
    q6k_scales((const int8_t *)(blk + ingot_pack_q6_k_scales(b)), h, sw, sp);
    for (int t = 0; t < nt; t++) isum[t] = _mm256_setzero_si256();
    for (int j = 0; j < 16; j += 2) {
        __m256i u[8];
        for (int e = 0; e < 2; e++) {
            const uint8_t *qj = q + 192 * (j + e);
            const __m256i x0 = _mm256_loadu_si256((const __m256i *)qj);
            const __m256i x1 = _mm256_loadu_si256((const __m256i *)(qj + 64));
            const __m256i x2 = _mm256_loadu_si256((const __m256i *)(qj + 128));
            u[4 * e] = _mm256_and_si256(x0, m6);
            u[4 * e + 1] = _mm256_and_si256(x1, m6);
            u[4 * e + 2] = _mm256_and_si256(x2, m6);
            /* weights 12..15: bits 6-7 of x0, x1, x2 to bits 0-1, 2-3, 4-5 */
            u[4 * e + 3] = _mm256_or_si256(
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(x0, 6), m3),
                                _mm256_and_si256(_mm256_srli_epi16(x1, 4), mc)),
                _mm256_and_si256(_mm256_srli_epi16(x2, 2), m30));
        }
        const __m256i s0 = sw[j], s1 = sw[j + 1];
        for (int t = 0; t < nt; t++) {
            const uint8_t *a = ab + (size_t)t * act_row + 16 * j;
            const __m256i p0 = _mm256_add_epi16(_mm256_maddubs_epi16(u[0], bcast4(a)),
                                                _mm256_maddubs_epi16(u[1], bcast4(a + 4)));
            const __m256i p1 = _mm256_add_epi16(_mm256_maddubs_epi16(u[2], bcast4(a + 8)),
                                                _mm256_maddubs_epi16(u[3], bcast4(a + 12)));
            const __m256i p2 = _mm256_add_epi16(_mm256_maddubs_epi16(u[4], bcast4(a + 16)),
                                                _mm256_maddubs_epi16(u[5], bcast4(a + 20)));
            const __m256i p3 = _mm256_add_epi16(_mm256_maddubs_epi16(u[6], bcast4(a + 24)),
                                                _mm256_maddubs_epi16(u[7], bcast4(a + 28)));
            const __m256i r0 = _mm256_add_epi32(_mm256_madd_epi16(p0, s0), _mm256_madd_epi16(p1, s0));
            const __m256i r1 = _mm256_add_epi32(_mm256_madd_epi16(p2, s1), _mm256_madd_epi16(p3, s1));
            isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(r0, r1));
        }
    }
    const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + ingot_pack_q6_k_d(b) + 16 * h)));
    for (int t = 0; t < nt; t++) {
        const kact *k = pre + (size_t)t * kstride;
        __m256i off = _mm256_madd_epi16(sp[0], _mm256_set1_epi32(k->p[0]));
        for (int i = 1; i < 8; i++) off = _mm256_add_epi32(off, _mm256_madd_epi16(sp[i], _mm256_set1_epi32(k->p[i])));
        const __m256i is = _mm256_sub_epi32(isum[t], _mm256_slli_epi32(off, 5));
        float *o = &acc[t][8 * h];
        _mm256_store_ps(o, _mm256_fmadd_ps(_mm256_mul_ps(dx, _mm256_set1_ps(k->d)), _mm256_cvtepi32_ps(is),
                                           _mm256_load_ps(o)));
    }
}

/* Generation: one activation row against the nb super-blocks of the
 * group at wg, both halves per sub-block (the broadcast activations
 * serve both), the running sums in registers. Same integers, same float
 * steps as the tile kernels above. Software prefetch KPF bytes ahead,
 * spread over the sub-blocks (a few lines per step, each line of
 * the block once), not in a burst per super-block: on this Zen 3 machine
 * a burst 2 or 8 KiB ahead made llama3.2-1b Q4_K_M tg64 ~8% slower than
 * none, while the spread requests make it ~30% faster (four
 * alternations, tg64 means: none 29.9, KPF 3360 38.8 t/s; 1680 and 6720
 * did no better); qwen2.5-0.5b Q4_K_M tg64 and pp are unchanged. */

KI void q4k_row(const uint8_t *wg, const uint8_t *a0, int64_t nb, __m256 acc[2]) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    for (int64_t b = 0; b < nb; b++) {
        const ingot_pack_q4_k *p = (const ingot_pack_q4_k *)wg + b;
        const uint8_t *ab = a0 + (size_t)b * sizeof(ingot_block_q8_k) + offsetof(ingot_block_q8_k, qs);
        kact qa;
        prepare(INGOT_TYPE_Q4_K, (const ingot_block_q8_k *)a0 + b, &qa);
        const kact *q = &qa;
        __m256i sw[2][8], mp[2][4];
        q4k_scales(p, 0, sw[0], mp[0]);
        q4k_scales(p, 1, sw[1], mp[1]);
        __m256i is[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
        for (int j = 0; j < 8; j++) {
#if KPF
            { /* the block's 36 lines, over the 8 sub-blocks: 4 or 5 each */
                const char *f = (const char *)p + KPF + 256 * j;
                _mm_prefetch(f, _MM_HINT_T0);
                _mm_prefetch(f + 64, _MM_HINT_T0);
                _mm_prefetch(f + 128, _MM_HINT_T0);
                _mm_prefetch(f + 192, _MM_HINT_T0);
                if (j < 4) _mm_prefetch((const char *)p + KPF + 2048 + 64 * j, _MM_HINT_T0);
            }
#endif
            /* each broadcast of four activation bytes serves both halves;
             * int16 sums in two chains per half (bounds above) */
            __m256i s[2][2];
            for (int i = 0; i < 8; i++) {
                const __m256i yv = bcast4(ab + 32 * j + 4 * i);
                for (int h = 0; h < 2; h++) {
                    const __m256i v = _mm256_loadu_si256((const __m256i *)(p->qs[8 * (j / 2) + i] + 32 * h));
                    const __m256i pr = _mm256_maddubs_epi16(_mm256_and_si256(j & 1 ? _mm256_srli_epi16(v, 4) : v, m4), yv);
                    s[h][i & 1] = i < 2 ? pr : _mm256_add_epi16(s[h][i & 1], pr);
                }
            }
            for (int h = 0; h < 2; h++)
                is[h] = _mm256_add_epi32(is[h], _mm256_madd_epi16(_mm256_add_epi16(s[h][0], s[h][1]), sw[h][j]));
        }
        const __m256 dy = _mm256_set1_ps(q->d);
        for (int h = 0; h < 2; h++) {
            __m256i ms = _mm256_madd_epi16(mp[h][0], _mm256_set1_epi32(q->p[0]));
            for (int i = 1; i < 4; i++)
                ms = _mm256_add_epi32(ms, _mm256_madd_epi16(mp[h][i], _mm256_set1_epi32(q->p[i])));
            const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p->d + 8 * h)));
            const __m256 dm = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p->dmin + 8 * h)));
            acc[h] = _mm256_fmadd_ps(_mm256_mul_ps(dx, dy), _mm256_cvtepi32_ps(is[h]), acc[h]);
            acc[h] = _mm256_fnmadd_ps(_mm256_mul_ps(dm, dy), _mm256_cvtepi32_ps(ms), acc[h]);
        }
    }
}

/* Q6_K, one row: per sub-block the exact raw_j - 32 * S16_j of each row
 * times sc_j (vpmulld), as the reference forms isum. */
KI void q6k_row(const uint8_t *wg, const uint8_t *a0, int64_t nb, __m256 acc[2]) {
    const __m256i m6 = _mm256_set1_epi8(0x3f), m3 = _mm256_set1_epi8(0x03), mc = _mm256_set1_epi8(0x0c);
    const __m256i m30 = _mm256_set1_epi8(0x30), ones = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = wg + (size_t)b * INGOT_PACK_Q6_K_BYTES;
        const ingot_block_q8_k *a = (const ingot_block_q8_k *)a0 + b;
        const uint8_t *q = blk + ingot_pack_q6_k_q(b);
        const int8_t *sc = (const int8_t *)(blk + ingot_pack_q6_k_scales(b));
        __m256i is[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
        for (int j = 0; j < 16; j++) {
#if KPF
            {
                const char *f = (const char *)blk + KPF + 210 * j;
                _mm_prefetch(f, _MM_HINT_T0);
                _mm_prefetch(f + 64, _MM_HINT_T0);
                _mm_prefetch(f + 128, _MM_HINT_T0);
                if (j & 1) _mm_prefetch(f + 192, _MM_HINT_T0);
            }
#endif
            const uint8_t *ay = (const uint8_t *)a->qs + 16 * j;
            const __m256i y0 = bcast4(ay), y1 = bcast4(ay + 4), y2 = bcast4(ay + 8), y3 = bcast4(ay + 12);
            const __m256i off = _mm256_set1_epi32(32 * a->bsums[j]);
            for (int h = 0; h < 2; h++) {
                const uint8_t *qj = q + 192 * j + 32 * h;
                const __m256i x0 = _mm256_loadu_si256((const __m256i *)qj);
                const __m256i x1 = _mm256_loadu_si256((const __m256i *)(qj + 64));
                const __m256i x2 = _mm256_loadu_si256((const __m256i *)(qj + 128));
                const __m256i u3 = _mm256_or_si256(
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(x0, 6), m3),
                                    _mm256_and_si256(_mm256_srli_epi16(x1, 4), mc)),
                    _mm256_and_si256(_mm256_srli_epi16(x2, 2), m30));
                const __m256i p0 = _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(x0, m6), y0),
                                                    _mm256_maddubs_epi16(_mm256_and_si256(x1, m6), y1));
                const __m256i p1 = _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(x2, m6), y2),
                                                    _mm256_maddubs_epi16(u3, y3));
                const __m256i raw = _mm256_add_epi32(_mm256_madd_epi16(p0, ones), _mm256_madd_epi16(p1, ones));
                const __m256i scj = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(sc + 16 * j + 8 * h)));
                is[h] = _mm256_add_epi32(is[h], _mm256_mullo_epi32(_mm256_sub_epi32(raw, off), scj));
            }
        }
        const __m256 dy = _mm256_set1_ps(a->d);
        for (int h = 0; h < 2; h++) {
            const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + ingot_pack_q6_k_d(b) + 16 * h)));
            acc[h] = _mm256_fmadd_ps(_mm256_mul_ps(dx, dy), _mm256_cvtepi32_ps(is[h]), acc[h]);
        }
    }
}

KI void packed_gemm(ingot_type type, int64_t n, const void *w, int64_t ngroups, const void *act, size_t act_row,
                    int64_t ny, float *y, size_t ldy) {
    const int64_t nb = n / QK;
    const size_t bb = type == INGOT_TYPE_Q4_K ? sizeof(ingot_pack_q4_k) : INGOT_PACK_Q6_K_BYTES, gb = (size_t)nb * bb;
    kact pre[KTT][KC];
    float acc[KTT][16] __attribute__((aligned(32)));
    __m256i isum[KTT];
    if (ny == 1) {
        /* generation: each group's blocks in one run, so the weights
         * stream in order */
        for (int64_t g = 0; g < ngroups; g++) {
            __m256 r[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
            if (type == INGOT_TYPE_Q4_K)
                q4k_row((const uint8_t *)w + (size_t)g * gb, act, nb, r);
            else
                q6k_row((const uint8_t *)w + (size_t)g * gb, act, nb, r);
            _mm256_storeu_ps(y + 16 * g, r[0]);
            _mm256_storeu_ps(y + 16 * g + 8, r[1]);
        }
        return;
    }
    for (int64_t t0 = 0; t0 < ny; t0 += KTT) {
        const int nt = ny - t0 < KTT ? (int)(ny - t0) : KTT;
        const uint8_t *a0 = (const uint8_t *)act + (size_t)t0 * act_row;
        float *y0 = y + (size_t)t0 * ldy;
        for (int64_t b0 = 0; b0 < nb; b0 += KC) {
            const int64_t b1 = nb - b0 < KC ? nb : b0 + KC;
            for (int t = 0; t < nt; t++) {
                const ingot_block_q8_k *a = (const ingot_block_q8_k *)(a0 + (size_t)t * act_row);
                for (int64_t b = b0; b < b1; b++) prepare(type, &a[b], &pre[t][b - b0]);
            }
            for (int64_t g = 0; g < ngroups; g++) {
                /* the running sums start at +0, as the reference's */
                for (int t = 0; t < nt; t++)
                    for (int h = 0; h < 2; h++)
                        _mm256_store_ps(&acc[t][8 * h], b0 ? _mm256_loadu_ps(y0 + (size_t)t * ldy + 16 * g + 8 * h)
                                                           : _mm256_setzero_ps());
                const uint8_t *wg = (const uint8_t *)w + (size_t)g * gb;
                for (int64_t b = b0; b < b1; b++) {
                    const uint8_t *blk = wg + (size_t)b * bb;
                    /* a group's blocks of a chunk come in a short run:
                     * ask for the next group's into L2 */
                    if (g + 1 < ngroups)
                        for (size_t l = 0; l < bb; l += 64) _mm_prefetch((const char *)blk + gb + l, _MM_HINT_T1);
                    const uint8_t *ab = a0 + (size_t)b * sizeof(ingot_block_q8_k) + offsetof(ingot_block_q8_k, qs);
                    for (int h = 0; h < 2; h++) {
                        if (type == INGOT_TYPE_Q4_K)
                            q4k_half((const ingot_pack_q4_k *)blk, h, ab, act_row, nt, &pre[0][b - b0], KC, acc,
                                     isum);
                        else
                            q6k_half(blk, b, h, ab, act_row, nt, &pre[0][b - b0], KC, acc, isum);
                    }
                }
                for (int t = 0; t < nt; t++)
                    for (int h = 0; h < 2; h++)
                        _mm256_storeu_ps(y0 + (size_t)t * ldy + 16 * g + 8 * h, _mm256_load_ps(&acc[t][8 * h]));
            }
        }
    }
}

static void pk_q4_k(int64_t n, const void *w, int64_t ngroups, const void *act, size_t act_row, int64_t ny,
                    float *y, size_t ldy) {
    packed_gemm(INGOT_TYPE_Q4_K, n, w, ngroups, act, act_row, ny, y, ldy);
}

static void pk_q6_k(int64_t n, const void *w, int64_t ngroups, const void *act, size_t act_row, int64_t ny,
                    float *y, size_t ldy) {
    packed_gemm(INGOT_TYPE_Q6_K, n, w, ngroups, act, act_row, ny, y, ldy);
}

void ingot_pack_k_fill_avx2(ingot_kernels *k) {
    k->packed_gemm[INGOT_TYPE_Q4_K] = pk_q4_k;
    k->packed_gemm[INGOT_TYPE_Q6_K] = pk_q6_k;
}
#endif
