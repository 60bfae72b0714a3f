/* AVX-512 (BW, VNNI) packed kernels of Q4_K and Q6_K (layouts and the
 * canonical order in pack.h): one 64-byte vector holds four weights of
 * sixteen rows, so a vpdpbusd against four broadcast activation bytes
 * advances a sub-block's sum for all sixteen rows, and the sub-block
 * scales multiply sixteen int32 lanes at once. Up to 8 activation rows
 * share each unpacked sub-block; per activation row and super-block the
 * data that depends only on the activations (offsets from bsums, the
 * scale dy) is prepared once per chunk, outside the loop over groups.
 *
 * The integers are exact, so they equal the scalar kernel's whatever
 * order forms them; the float steps are its steps, in its order:
 * results are bit-identical to ingot_pack_gemm_ref.
 *   Q4_K, per sub-block j of 32 and activation row: s starts at
 *     -8 * S32_j and gets the 8 vpdpbusd of the sub-block, so
 *     s = sum (q - 8) * y, |s| <= 32 * 8 * 127 = 32512 fits int16; the
 *     s of sub-blocks 2i and 2i+1 are blended into the words of one
 *     vector and one vpdpwssd with (sc_2i, sc_2i+1) adds both products
 *     (an int32 multiply would cost two uops per sub-block; (sc_j, 0)
 *     pairs one vpdpwssd per sub-block). Per super-block, 4 vpdpwssd with (sc_2i,
 *     sc_2i+1) pairs add back sum_j sc_j * 8 * S32_j (|8 S32| <= 32512)
 *     and 4 with (m_2i, m_2i+1) form msum.
 *   Q6_K, per sub-block j of 16: s starts at -32 * S16_j, 4 vpdpbusd give
 *     sum (q6 - 32) * y, up to 65024 in size: too wide for int16 words,
 *     so one vpmulld by the sign-extended scales and one add.
 * Measured (bench/matmul_bench, one thread, 8192 x 2048, 64 tokens, shared
 * machine, +-10%): Q6_K with two 8-weight halves per sub-block, each
 * small enough for a vpdpwssd, was ~10% slower than vpmulld; Q4_K with
 * vpmulld instead of the int16 steps was within the noise.
 * Compiled to nothing off x86_64; only called when the CPU has the
 * extensions (kernels.c checks). */
#include "tensor/kernels.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <stddef.h>
#include <string.h>

#include "tensor/pack.h"
#include "tensor/pack_avx512.h"
#include "tensor/quants.h"

/* Super-blocks whose activation data is prepared at once. */
#define KC 16
#define QK INGOT_QK_K

/* Per activation row and super-block: Q4_K uses k[0..7] (-8 * S32_j),
 * c[0..3] (8 * S32 of sub-blocks 2i, 2i+1 as int16 words) and m[0..3]
 * (S32 of the same pairs); Q6_K uses k[0..15] (-32 * S16_j). */
typedef struct kact {
    int32_t k[16];
    int32_t c[4], m[4];
} kact;

static int32_t words(int lo, int hi) { return (int32_t)((uint32_t)(uint16_t)lo | (uint32_t)(uint16_t)hi << 16); }

static void prepare(ingot_type type, const ingot_block_q8_k *a, kact *p, float *dy) {
    *dy = a->d;
    if (type == INGOT_TYPE_Q6_K) {
        for (int j = 0; j < 16; j++) p->k[j] = -32 * a->bsums[j];
        return;
    }
    int s[8];
    for (int j = 0; j < 8; j++) {
        s[j] = a->bsums[2 * j] + a->bsums[2 * j + 1];
        p->k[j] = -8 * s[j];
    }
    for (int i = 0; i < 4; i++) {
        p->c[i] = words(8 * s[2 * i], 8 * s[2 * i + 1]);
        p->m[i] = words(s[2 * i], s[2 * i + 1]);
    }
}

/* vpshufb controls: bytes 4k+lo and 4k+hi of each 128-bit lane's dword k
 * into that dword's words (0x80 = zero; +4k keeps bit 7 set). */
PK_INLINE __m512i shuf_ctl(int lo, int hi) {
    const __m512i koff = _mm512_setr_epi32(0, 0x04040404, 0x08080808, 0x0c0c0c0c, 0, 0x04040404, 0x08080808,
                                           0x0c0c0c0c, 0, 0x04040404, 0x08080808, 0x0c0c0c0c, 0, 0x04040404,
                                           0x08080808, 0x0c0c0c0c);
    return _mm512_add_epi8(_mm512_set1_epi32((int32_t)(0x80008000u | (uint32_t)lo | (uint32_t)hi << 16)), koff);
}

/* The Q4_K scales of a block's 16 rows: w[j] lanes = (sc_j, 0), sp[i] =
 * (sc_2i, sc_2i+1), mp[i] = (m_2i, m_2i+1), int16 words. The bytes are
 * Q4_K's 12 (ingot_k4_scale_min): per dword, bytes 0-3 hold sc 0-3 and
 * (top 2 bits) the high bits of sc 4-7, bytes 4-7 the mins likewise,
 * bytes 8-11 the low nibbles of sc/m 4-7. */
PK_INLINE void q4k_scales(const ingot_pack_q4_k *p, __m512i sp[4], __m512i mp[4]) {
    const __m512i a = _mm512_loadu_si512(p->scales[0]), b = _mm512_loadu_si512(p->scales[1]);
    const __m512i c = _mm512_loadu_si512(p->scales[2]);
    const __m512i m6 = _mm512_set1_epi8(0x3f), m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
    const __m512i slo = _mm512_and_si512(a, m6), mlo = _mm512_and_si512(b, m6);
    /* (m4 & x) | z, with z = the top bits moved to 4-5 */
    const __m512i shi = _mm512_ternarylogic_epi32(m4, c, _mm512_and_si512(_mm512_srli_epi32(a, 2), m30), 0xea);
    const __m512i mhi =
        _mm512_ternarylogic_epi32(m4, _mm512_srli_epi32(c, 4), _mm512_and_si512(_mm512_srli_epi32(b, 2), m30), 0xea);
    const __m512i p01 = shuf_ctl(0, 1), p23 = shuf_ctl(2, 3);
    sp[0] = _mm512_shuffle_epi8(slo, p01);
    sp[1] = _mm512_shuffle_epi8(slo, p23);
    sp[2] = _mm512_shuffle_epi8(shi, p01);
    sp[3] = _mm512_shuffle_epi8(shi, p23);
    mp[0] = _mm512_shuffle_epi8(mlo, p01);
    mp[1] = _mm512_shuffle_epi8(mlo, p23);
    mp[2] = _mm512_shuffle_epi8(mhi, p01);
    mp[3] = _mm512_shuffle_epi8(mhi, p23);
}

/* NT activation rows (1..8) against the group at w, super-blocks
 * [b0, b1); pre/dys indexed [t][b - b0]. The running sums start at 0 when
 * b0 == 0, else continue from y. pf: the next group's weights to
 * prefetch, or NULL (batches only; see pk_prefetch_l2). */
PK_INLINE void q4k_tile(const int NT, const uint8_t *w, const uint8_t *act,
                        size_t act_row, int64_t b0, int64_t b1, const kact pre[8][KC], const float dys[8][KC],
                        float *y, size_t ldy, const uint8_t *pf) {
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    {
        __m512 acc[8];
        for (int t = 0; t < NT; t++)
            acc[t] = b0 ? _mm512_loadu_ps(y + (size_t)t * ldy) : _mm512_setzero_ps();
        for (int64_t b = b0; b < b1; b++) {
            const ingot_pack_q4_k *p = (const ingot_pack_q4_k *)w + b;
            if (NT == 1) pk_prefetch(p, sizeof *p);
            else if (pf) pk_prefetch_l2(pf + (size_t)b * sizeof *p, sizeof *p);
            const uint8_t *ab = act + (size_t)b * sizeof(ingot_block_q8_k) + offsetof(ingot_block_q8_k, qs);
            __m512i sp[4], mp[4], isum[8], s_even[8];
            q4k_scales(p, sp, mp);
            for (int t = 0; t < NT; t++) isum[t] = _mm512_setzero_si512();
            PK_UNROLL(8) for (int j = 0; j < 8; j++) {
                __m512i u[8];
                for (int i = 0; i < 8; i++) {
                    const __m512i v = _mm512_loadu_si512(p->qs[8 * (j / 2) + i]);
                    u[i] = _mm512_and_si512(j & 1 ? _mm512_srli_epi16(v, 4) : v, m4);
                }
                PK_UNROLL(8) for (int t = 0; t < NT; t++) {
                    const uint8_t *a = ab + (size_t)t * act_row + 32 * j;
                    __m512i s = _mm512_set1_epi32(pre[t][b - b0].k[j]);
                    if (NT == 1) {
                        /* one row: four short chains instead of one of
                         * eight dependent dpbusd (int32 sums are exact, so
                         * the grouping changes nothing) */
                        __m512i c[4];
                        c[0] = dpbusd_bcst(s, u[0], a);
                        for (int i = 1; i < 4; i++) c[i] = dpbusd_bcst(_mm512_setzero_si512(), u[i], a + 4 * i);
                        for (int i = 4; i < 8; i++) c[i - 4] = dpbusd_bcst(c[i - 4], u[i], a + 4 * i);
                        s = _mm512_add_epi32(_mm512_add_epi32(c[0], c[1]), _mm512_add_epi32(c[2], c[3]));
                    } else {
                        for (int i = 0; i < 8; i++) s = dpbusd_bcst(s, u[i], a + 4 * i);
                    }
                    if (!(j & 1)) {
                        s_even[t] = s;
                    } else {
                        /* (s_2i, s_2i+1) as the words of each dword: one
                         * vpdpwssd with (sc_2i, sc_2i+1) adds both */
                        const __m512i pr = _mm512_mask_blend_epi16(0xAAAAAAAAu, s_even[t], _mm512_slli_epi32(s, 16));
                        isum[t] = _mm512_dpwssd_epi32(isum[t], pr, sp[j / 2]);
                    }
                }
            }
            const __m512 dx = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p->d));
            const __m512 dm = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p->dmin));
            PK_UNROLL(8) for (int t = 0; t < NT; t++) {
                const kact *q = &pre[t][b - b0];
                __m512i ms = _mm512_setzero_si512();
                for (int i = 0; i < 4; i++) {
                    isum[t] = _mm512_dpwssd_epi32(isum[t], sp[i], _mm512_set1_epi32(q->c[i]));
                    ms = _mm512_dpwssd_epi32(ms, mp[i], _mm512_set1_epi32(q->m[i]));
                }
                const __m512 dyv = _mm512_set1_ps(dys[t][b - b0]);
                acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(dx, dyv), _mm512_cvtepi32_ps(isum[t]), acc[t]);
                acc[t] = _mm512_fnmadd_ps(_mm512_mul_ps(dm, dyv), _mm512_cvtepi32_ps(ms), acc[t]);
            }
        }
        for (int t = 0; t < NT; t++) _mm512_storeu_ps(y + (size_t)t * ldy, acc[t]);
    }
}

PK_INLINE void q6k_tile(const int NT, const uint8_t *w, const uint8_t *act,
                        size_t act_row, int64_t b0, int64_t b1, const kact pre[8][KC], const float dys[8][KC],
                        float *y, size_t ldy, const uint8_t *pf) {
    const __m512i m6 = _mm512_set1_epi8(0x3f), m3 = _mm512_set1_epi8(0x03), m4 = _mm512_set1_epi8(0x0f);
    const __m512i m30 = _mm512_set1_epi8(0x30);
    {
        __m512 acc[8];
        for (int t = 0; t < NT; t++)
            acc[t] = b0 ? _mm512_loadu_ps(y + (size_t)t * ldy) : _mm512_setzero_ps();
        for (int64_t b = b0; b < b1; b++) {
            const uint8_t *blk = w + (size_t)b * INGOT_PACK_Q6_K_BYTES;
            if (NT == 1) pk_prefetch(blk, INGOT_PACK_Q6_K_BYTES);
            else if (pf) pk_prefetch_l2(pf + (size_t)b * INGOT_PACK_Q6_K_BYTES, INGOT_PACK_Q6_K_BYTES);
            const uint8_t *q = blk + ingot_pack_q6_k_q(b);
            const int8_t *sc = (const int8_t *)(blk + ingot_pack_q6_k_scales(b));
            const uint8_t *ab = act + (size_t)b * sizeof(ingot_block_q8_k) + offsetof(ingot_block_q8_k, qs);
            __m512i isum[8];
            for (int t = 0; t < NT; t++) isum[t] = _mm512_setzero_si512();
            PK_UNROLL(4) for (int j = 0; j < 16; j++) {
                const uint8_t *qj = q + 192 * j;
                const __m512i x0 = _mm512_loadu_si512(qj), x1 = _mm512_loadu_si512(qj + 64);
                const __m512i x2 = _mm512_loadu_si512(qj + 128);
                __m512i u[4];
                u[0] = _mm512_and_si512(x0, m6);
                u[1] = _mm512_and_si512(x1, m6);
                u[2] = _mm512_and_si512(x2, m6);
                /* weights 12..15: bits 6-7 of x0, x1, x2 to bits 0-1, 2-3, 4-5 */
                const __m512i lo = _mm512_ternarylogic_epi32(m3, _mm512_srli_epi16(x0, 6), _mm512_srli_epi16(x1, 4), 0xca);
                u[3] = _mm512_ternarylogic_epi32(m4, lo, _mm512_and_si512(_mm512_srli_epi16(x2, 2), m30), 0xea);
                const __m512i scj = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(sc + 16 * j)));
                PK_UNROLL(8) for (int t = 0; t < NT; t++) {
                    const uint8_t *a = ab + (size_t)t * act_row + 16 * j;
                    __m512i s = _mm512_set1_epi32(pre[t][b - b0].k[j]);
                    for (int i = 0; i < 4; i++) s = dpbusd_bcst(s, u[i], a + 4 * i);
                    isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(s, scj));
                }
            }
            const __m512 dx = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(blk + ingot_pack_q6_k_d(b))));
            PK_UNROLL(8) for (int t = 0; t < NT; t++)
                acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(dx, _mm512_set1_ps(dys[t][b - b0])),
                                         _mm512_cvtepi32_ps(isum[t]), acc[t]);
        }
        for (int t = 0; t < NT; t++) _mm512_storeu_ps(y + (size_t)t * ldy, acc[t]);
    }
}

PK_INLINE void tile(ingot_type type, const int NT, const uint8_t *w, const uint8_t *act, size_t act_row, int64_t b0, int64_t b1, const kact pre[8][KC],
                    const float dys[8][KC], float *y, size_t ldy, const uint8_t *pf) {
    if (type == INGOT_TYPE_Q4_K)
        q4k_tile(NT, w, act, act_row, b0, b1, pre, dys, y, ldy, pf);
    else
        q6k_tile(NT, w, act, act_row, b0, b1, pre, dys, y, ldy, pf);
}

/* Activation rows that share one pass over a group's weights (see
 * pack_avx512.c): the group's super-blocks of a chunk are read from memory
 * once, then from L1/L2 for every 8-row tile. */
#define KTT 64

PK_INLINE void packed_gemm(ingot_type type, int64_t n, const void *w, int64_t ngroups, const void *act,
                           size_t act_row, int64_t ny, float *y, size_t ldy) {
    const int64_t nb = n / QK;
    const size_t gb = (size_t)nb * (type == INGOT_TYPE_Q4_K ? sizeof(ingot_pack_q4_k) : INGOT_PACK_Q6_K_BYTES);
    kact pre[KTT][KC];
    float dys[KTT][KC];
    for (int64_t t0 = 0; t0 < ny; t0 += KTT) {
        const int nt = ny - t0 < KTT ? (int)(ny - t0) : KTT;
        const uint8_t *a0 = (const uint8_t *)act + (size_t)t0 * act_row;
        float *y0 = y + (size_t)t0 * ldy;
        for (int64_t b0 = 0; b0 < nb; b0 += KC) {
            const int64_t b1 = nb - b0 < KC ? nb : b0 + KC;
            for (int t = 0; t < nt; t++) {
                const ingot_block_q8_k *a = (const ingot_block_q8_k *)(a0 + (size_t)t * act_row);
                for (int64_t b = b0; b < b1; b++) prepare(type, &a[b], &pre[t][b - b0], &dys[t][b - b0]);
            }
            for (int64_t g = 0; g < ngroups; g++) {
                const uint8_t *wg = (const uint8_t *)w + (size_t)g * gb;
                /* the first tile asks for the next group's super-blocks
                 * (see pk_prefetch_l2) */
                const uint8_t *nxt = g + 1 < ngroups ? wg + gb : NULL;
                float *yg = y0 + 16 * g;
#define KT_RUN(t, NT)                                                                                      \
    tile(type, NT, wg, a0 + (size_t)(t) * act_row, act_row, b0, b1, (const kact(*)[KC])pre + (t), \
         (const float(*)[KC])dys + (t), yg + (size_t)(t) * ldy, ldy, (t) == 0 ? nxt : NULL)
                PK_TILES(nt, KT_RUN);
#undef KT_RUN
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

void ingot_pack_k_fill_avx512(ingot_kernels *k) {
    k->packed_gemm[INGOT_TYPE_Q4_K] = pk_q4_k;
    k->packed_gemm[INGOT_TYPE_Q6_K] = pk_q6_k;
}
#endif
