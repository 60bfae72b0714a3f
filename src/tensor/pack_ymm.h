/* The 256-bit packed kernels of the 32-element block types (see pack.h),
 * shared by pack_avx2.c (vpmaddubsw + vpmaddwd) and pack_avxvnni.c
 * (vpdpbusd on ymm; defines PK_YMM_VNNI before including this). A 64-byte
 * chunk of a packed block holds four weights of sixteen rows; its two
 * 256-bit halves are rows 0-7 and rows 8-15, so one ymm of unpacked
 * weights against four broadcast activation bytes advances eight output
 * rows (one int32 lane per row) and no horizontal sum is ever needed.
 *
 * Integer part, per block and half: the exact int32 block dot isum of
 * each row.
 * - AVX-VNNI: vpdpbusd (u8 x s8, four products summed into each int32
 *   lane, no saturation) of the stored unsigned weights u, started from
 *   -offset * sum(y) (offsets 8, 16, 128: pack.h).
 * - AVX2: vpmaddubsw (u8 x s8 -> int16 pair sums, saturating) and
 *   vpmaddwd against ones (int16 pairs -> int32), with the int16 sums of
 *   several vpmaddubsw added before the one vpmaddwd where that cannot
 *   overflow (activation quants in [-127, 127], as quantize_act makes
 *   them; the bounds below hold even for -128):
 *   Q4_0: u <= 15: a pair sum is at most 2 * 15 * 128 = 3840, the eight
 *         of a whole block at most 30720 < 32767: one vpmaddwd per block;
 *   Q5_0: u <= 31: a pair sum is at most 2 * 31 * 128 = 7936, four at
 *         most 31744 < 32767: two vpmaddwd per block;
 *   Q4_0 and Q5_0 then add -offset * sum(y).
 *   Q8_0: the stored u = q + 128 reaches 255, and 2 * 255 * 127 would
 *         saturate vpmaddubsw. So q = u ^ 0x80 (signed again) and the
 *         products are maddubs(|q|, sign(y, q)), q * y per byte (where
 *         q = 0 so is the product). |q| <= 128 and |sign(y, q)| = |y| <=
 *         127 (here -128 would not do: its negation wraps), so a pair sum
 *         is at most 2 * 128 * 127 = 32512 < 32767: one vpmaddwd per four
 *         weights, and no offset.
 * Float part, per row: one conversion of isum, the product dx * dy and
 * one FMA into the running sum — the operations of ingot_pack_gemm_ref in
 * the same order, so results are bit-identical to it.
 *
 * Loop order: per group, block and half, the eight unpacked weight
 * vectors stay in registers while every activation row of the tile (up to
 * PK_TT) passes them, so unpacking (Q5_0's 5th bits above all) is paid
 * once per tile; the running sums of the group live in a small
 * contiguous array (a float store is exact), which leaves the registers
 * to the weights. (Both halves at once would need sixteen weight vectors,
 * all the ymm registers there are.) The per-block activation sums and
 * scales are prepared once per tile and chunk of blocks, or read from an
 * ingot_packed_act layout made once per product (packed_gemm_act). */
#ifndef INGOT_TENSOR_PACK_YMM_H
#define INGOT_TENSOR_PACK_YMM_H
#include <immintrin.h>
#include <string.h>

#include "tensor/kernels.h"
#include "tensor/pack.h"
#include "tensor/quants.h"

#define PK_INLINE static inline __attribute__((always_inline))
/* Activation rows per tile, blocks whose activation sums and scales are
 * prepared at once, and how far ahead (bytes) the weights are prefetched:
 * PK_PF in the tile path, PK_PF_ROW in the one-row path (generation,
 * which streams every weight from memory once per token). In-model
 * llama3.2-1b tg64 with the avx2 set on a Zen 5, alternating runs: Q4_0
 * 44-55 t/s at 1024, 47-57 at 8192 (+3-6% in each of 7 rounds; 4096 in
 * between), Q8_0 +0-5%; the avx512 set had found 4-8 KiB best too
 * (pack_avx512.h). -DPK_PF_ROW=N overrides it for measuring. */
#define PK_TT 64
#define PK_BC 32
#define PK_PF 1024
#ifndef PK_PF_ROW
#define PK_PF_ROW 8192
#endif
/* -DPK_SPLIT=0: avx2's Q4_0/Q5_0 tiles by row halves (for measuring) */
#ifndef PK_SPLIT
#define PK_SPLIT 1
#endif

/* Per activation row and block: -offset * sum(y) and the fp32 scale. */
typedef struct pk_act {
    int32_t ys;
    float dy;
} pk_act;

PK_INLINE __m256i bcast4(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/* Byte j of the result is 16 where bit j of the 32-bit word at p is set,
 * else 0. */
PK_INLINE __m256i bits16(const uint8_t *p) {
    const __m256i shuf = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i b = _mm256_shuffle_epi8(bcast4(p), shuf);
    const __m256i bit = _mm256_set1_epi64x(0x7fbfdfeff7fbfdfeLL);
    /* b | ~bit is all ones exactly where the byte's own bit is set */
    const __m256i m = _mm256_cmpeq_epi8(_mm256_or_si256(b, bit), _mm256_set1_epi64x(-1));
    return _mm256_and_si256(m, _mm256_set1_epi8(16));
}

/* Whether the avx2 Q8_0 path (|q| and sign) is used. */
#if defined(PK_YMM_VNNI)
#define PK_SIGNED_Q8 0
#else
#define PK_SIGNED_Q8 1
#endif

/* Q4_0/Q5_0: chunk c of half h of a packed block unpacked: lo = weights
 * 4c..4c+3 of the eight rows, hi = weights 16+4c..16+4c+3 (as stored,
 * Q5_0 with its 5th bits). */
PK_INLINE void unpack_nibbles(ingot_type type, const uint8_t *blk, int h, int c, __m256i *lo, __m256i *hi) {
    const __m256i m4 = _mm256_set1_epi8(15);
    const __m256i v = _mm256_loadu_si256((const __m256i *)(blk + 32 + 64 * c + 32 * h));
    *lo = _mm256_and_si256(v, m4);
    *hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    if (type == INGOT_TYPE_Q5_0) {
        const uint8_t *qh = blk + 32 + 256 + 4 * h;
        *lo = _mm256_or_si256(*lo, bits16(qh + 8 * c));
        *hi = _mm256_or_si256(*hi, bits16(qh + 8 * (c + 4)));
    }
}

#if !defined(PK_YMM_VNNI)
/* Q4_0/Q5_0 (avx2): int32 lanes of the int16 vpmaddubsw sums lo (weights
 * 0..15 of the block) and hi (16..31), by the bounds above: Q4_0's
 * eight pair sums add in int16, Q5_0's four. */
PK_INLINE __m256i nibble_sums(ingot_type type, __m256i lo, __m256i hi) {
    const __m256i ones = _mm256_set1_epi16(1);
    if (type == INGOT_TYPE_Q4_0) return _mm256_madd_epi16(_mm256_add_epi16(lo, hi), ones);
    return _mm256_add_epi32(_mm256_madd_epi16(lo, ones), _mm256_madd_epi16(hi, ones));
}
#endif

/* Half h (rows 8h..8h+7) of one packed block: u[g] = weights 4g..4g+3 of
 * the eight rows as stored (unsigned), except for avx2's Q8_0: |q| in u
 * and q in qs[g] (the sign source, kept in memory to spare registers). */
PK_INLINE void unpack_half(ingot_type type, const uint8_t *blk, int h, __m256i u[8], __m256i qs[8]) {
    const uint8_t *q = blk + 32 + 32 * h;
    if (type == INGOT_TYPE_Q8_0) {
        for (int g = 0; g < 8; g++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(q + 64 * g));
            if (PK_SIGNED_Q8) {
                const __m256i s = _mm256_xor_si256(v, _mm256_set1_epi8((char)0x80));
                _mm256_store_si256(&qs[g], s);
                u[g] = _mm256_abs_epi8(s);
            } else {
                u[g] = v;
            }
        }
        return;
    }
    for (int c = 0; c < 4; c++) unpack_nibbles(type, blk, h, c, &u[c], &u[c + 4]);
}

/* The exact block dots (int32, one lane per row) of the unpacked half u
 * with the activation quants at a; ys = -offset * sum(y). */
PK_INLINE __m256i half_dot(ingot_type type, const __m256i u[8], const __m256i qs[8], const uint8_t *a,
                           int32_t ys) {
#if defined(PK_YMM_VNNI)
    (void)type;
    (void)qs;
    /* two chains, so that the latency of vpdpbusd halves */
    __m256i s0 = _mm256_set1_epi32(ys), s1 = _mm256_setzero_si256();
    for (int g = 0; g < 8; g += 2) {
        s0 = _mm256_dpbusd_avx_epi32(s0, u[g], bcast4(a + 4 * g));
        s1 = _mm256_dpbusd_avx_epi32(s1, u[g + 1], bcast4(a + 4 * g + 4));
    }
    return _mm256_add_epi32(s0, s1);
#else
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i p[8];
    if (type == INGOT_TYPE_Q8_0) {
        for (int g = 0; g < 8; g++)
            p[g] = _mm256_madd_epi16(_mm256_maddubs_epi16(u[g], _mm256_sign_epi8(bcast4(a + 4 * g), qs[g])), ones);
        return _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(p[0], p[1]), _mm256_add_epi32(p[2], p[3])),
                                _mm256_add_epi32(_mm256_add_epi32(p[4], p[5]), _mm256_add_epi32(p[6], p[7])));
    }
    for (int g = 0; g < 8; g++) p[g] = _mm256_maddubs_epi16(u[g], bcast4(a + 4 * g));
    const __m256i lo = _mm256_add_epi16(_mm256_add_epi16(p[0], p[1]), _mm256_add_epi16(p[2], p[3]));
    const __m256i hi = _mm256_add_epi16(_mm256_add_epi16(p[4], p[5]), _mm256_add_epi16(p[6], p[7]));
    return _mm256_add_epi32(nibble_sums(type, lo, hi), _mm256_set1_epi32(ys));
#endif
}

/* Rows of the next sub-tile of an ingot_packed_act layout (8, 4, 2, 1)
 * when `left` rows of the tile remain (ingot_packed_act_place). */
PK_INLINE int pk_subtile(int left) { return left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1; }

#if !defined(PK_YMM_VNNI)
/* avx2's Q4_0 and Q5_0 tiles, split by weights instead of rows: the low
 * planes (weights 0-15) of all sixteen rows of a block are eight
 * registers, so each broadcast of four activation bytes feeds two
 * vpmaddubsw (rows 0-7 and 8-15) instead of one. The first pass's sums
 * wait in part[] while the second adds the high planes (weights 16-31)
 * and finishes the rows. Q4_0 keeps them in int16 (the whole block's
 * sixteen products per lane stay under 30720, the bound above); Q5_0's
 * four pair sums per pass are its int16 limit, so each pass widens its
 * own. Q4_0: ~28 instructions per 256 multiply-adds against 33 for the
 * row halves. Same integers, same float steps in the same order. */

/* Both halves' sums of one pass for one activation row (each broadcast
 * read once, before any store: a store could alias the activations). */
PK_INLINE void split_sums(ingot_type type, const __m256i P[8], const uint8_t *a, const __m256i *init, __m256i p[2]) {
    __m256i y = bcast4(a);
    p[0] = _mm256_maddubs_epi16(P[0], y);
    p[1] = _mm256_maddubs_epi16(P[1], y);
    if (init) /* Q4_0's second pass: the chain starts from the first's sums */
        for (int h = 0; h < 2; h++) p[h] = _mm256_add_epi16(init[h], p[h]);
    for (int c = 1; c < 4; c++) {
        y = bcast4(a + 4 * c);
        p[0] = _mm256_add_epi16(p[0], _mm256_maddubs_epi16(P[2 * c], y));
        p[1] = _mm256_add_epi16(p[1], _mm256_maddubs_epi16(P[2 * c + 1], y));
    }
    if (type != INGOT_TYPE_Q4_0)
        for (int h = 0; h < 2; h++) p[h] = _mm256_madd_epi16(p[h], _mm256_set1_epi16(1));
}

PK_INLINE void split_pass_lo(ingot_type type, const __m256i L[8], const uint8_t *a, int cnt, __m256i (*part)[2]) {
    for (int k = 0; k < cnt; k++, a += 32) {
        __m256i p[2];
        split_sums(type, L, a, NULL, p);
        _mm256_store_si256(&part[k][0], p[0]);
        _mm256_store_si256(&part[k][1], p[1]);
    }
}

PK_INLINE void split_pass_hi(ingot_type type, const __m256i H[8], const float *dx, const uint8_t *a,
                             const int32_t *ys, const float *dy, int cnt, const __m256i (*part)[2],
                             float (*acc)[16]) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int k = 0; k < cnt; k++, a += 32) {
        __m256i p[2];
        split_sums(type, H, a + 16, type == INGOT_TYPE_Q4_0 ? part[k] : NULL, p);
        const __m256i yv = _mm256_set1_epi32(ys[k]);
        const __m256 dyv = _mm256_set1_ps(dy[k]);
        for (int h = 0; h < 2; h++) {
            __m256i si = type == INGOT_TYPE_Q4_0 ? _mm256_madd_epi16(p[h], ones)
                                                 : _mm256_add_epi32(p[h], part[k][h]);
            si = _mm256_add_epi32(si, yv);
            _mm256_store_ps(&acc[k][8 * h], _mm256_fmadd_ps(_mm256_mul_ps(_mm256_load_ps(dx + 8 * h), dyv),
                                                            _mm256_cvtepi32_ps(si), _mm256_load_ps(&acc[k][8 * h])));
        }
    }
}

/* One block (16 rows) against the nt rows of a tile of an
 * ingot_packed_act layout (sub-tiles of 8, 4, 2, 1 rows). */
PK_INLINE void block_split(ingot_type type, const uint8_t *blk, const ingot_packed_act *pa, size_t e0, int64_t nb,
                           int64_t b, int nt, float (*acc)[16]) {
    __m256i part[PK_TT][2];
    float dx[16] __attribute__((aligned(32)));
    _mm256_store_ps(dx, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)blk)));
    _mm256_store_ps(dx + 8, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 16))));
    const int32_t *ysa = ingot_packed_act_ys(pa, type);
    /* the two passes written out: a loop over them would keep the planes
     * in memory */
    {
        __m256i L[8]; /* L[2c + h]: chunk c, rows 8h.. */
        for (int i = 0; i < 8; i++) {
            __m256i unused;
            unpack_nibbles(type, blk, i % 2, i / 2, &L[i], &unused);
        }
        for (int ts = 0, cnt; ts < nt; ts += cnt) {
            cnt = pk_subtile(nt - ts);
            const size_t e = e0 + (size_t)ts * (size_t)nb + (size_t)b * (size_t)cnt;
            split_pass_lo(type, L, pa->q + 32 * e, cnt, part + ts);
        }
    }
    __m256i H[8];
    for (int i = 0; i < 8; i++) {
        __m256i unused;
        unpack_nibbles(type, blk, i % 2, i / 2, &unused, &H[i]);
    }
    for (int ts = 0, cnt; ts < nt; ts += cnt) {
        cnt = pk_subtile(nt - ts);
        const size_t e = e0 + (size_t)ts * (size_t)nb + (size_t)b * (size_t)cnt;
        split_pass_hi(type, H, dx, pa->q + 32 * e, ysa + e, pa->d + e, cnt, (const __m256i(*)[2])(part + ts),
                      acc + ts);
    }
}
#endif

static size_t pk_block_bytes(ingot_type type) {
    return type == INGOT_TYPE_Q4_0 ? sizeof(ingot_pack_q4_0)
         : type == INGOT_TYPE_Q5_0 ? sizeof(ingot_pack_q5_0)
                                   : sizeof(ingot_pack_q8_0);
}

/* Sum of the 32 quants of an activation block. */
PK_INLINE int32_t act_sum(const int8_t *qs) {
    const __m256i q = _mm256_loadu_si256((const __m256i *)qs);
    const __m256i s32 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
    return _mm_cvtsi128_si32(h);
}

/* cnt activation rows against the unpacked half (u, qs, dx) of one
 * block: row k's quants at a + k * astep, its -offset * sum(y) and scale
 * at ys[k] and dy[k], its running sums at acc[k][8h..]. */
PK_INLINE void rows_pass(ingot_type type, const __m256i u[8], const __m256i qs[8], __m256 dx, int h,
                         const uint8_t *a, size_t astep, const int32_t *ys, const float *dy, int cnt,
                         float (*acc)[16]) {
    for (int k = 0; k < cnt; k++) {
        const __m256i s = half_dot(type, u, qs, a + (size_t)k * astep, ys[k]);
        const __m256 sc = _mm256_mul_ps(dx, _mm256_set1_ps(dy[k]));
        float *o = &acc[k][8 * h];
        _mm256_store_ps(o, _mm256_fmadd_ps(sc, _mm256_cvtepi32_ps(s), _mm256_load_ps(o)));
    }
}

/* Generation (one activation row, from an ingot_packed_act layout): each
 * group's blocks in one run, both halves per block so that every
 * broadcast of the activations serves sixteen rows, the weights taken
 * straight from their load (no copy of the signed Q8_0 weights), the
 * running sums in registers. The same integers (exact, so their order is
 * free) and the same float steps, in the same order, as the tile path. */
PK_INLINE void packed_row(ingot_type type, int64_t n, const uint8_t *w, int64_t ngroups, const ingot_packed_act *pa,
                          float *y) {
    const int64_t nb = n / 32;
    const size_t bb = pk_block_bytes(type), gb = (size_t)nb * bb;
    const int32_t *ysa = ingot_packed_act_ys(pa, type);
#if !defined(PK_YMM_VNNI)
    const __m256i ones = _mm256_set1_epi16(1);
#endif
    for (int64_t g = 0; g < ngroups; g++) {
        const uint8_t *blk = w + (size_t)g * gb;
        __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
        for (int64_t b = 0; b < nb; b++, blk += bb) {
            for (size_t l = 0; l < bb; l += 64) _mm_prefetch((const char *)blk + PK_PF_ROW + l, _MM_HINT_T0);
            const uint8_t *a = pa->q + 32 * (size_t)b, *q = blk + 32;
            const int32_t ys = PK_SIGNED_Q8 && type == INGOT_TYPE_Q8_0 ? 0 : ysa[b];
            __m256i s[2];
            for (int h = 0; h < 2; h++) s[h] = _mm256_set1_epi32(ys);
            if (type == INGOT_TYPE_Q8_0) {
                for (int k = 0; k < 8; k++) {
                    const __m256i yv = bcast4(a + 4 * k);
                    for (int h = 0; h < 2; h++) {
                        const __m256i v = _mm256_loadu_si256((const __m256i *)(q + 64 * k + 32 * h));
#if defined(PK_YMM_VNNI)
                        s[h] = _mm256_dpbusd_avx_epi32(s[h], v, yv);
#else
                        const __m256i sq = _mm256_xor_si256(v, _mm256_set1_epi8((char)0x80));
                        const __m256i p = _mm256_maddubs_epi16(_mm256_abs_epi8(sq), _mm256_sign_epi8(yv, sq));
                        s[h] = _mm256_add_epi32(s[h], _mm256_madd_epi16(p, ones));
#endif
                    }
                }
            } else {
#if !defined(PK_YMM_VNNI)
                __m256i lo[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
                __m256i hi[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
#endif
                for (int c = 0; c < 4; c++) {
                    const __m256i yl = bcast4(a + 4 * c), yh = bcast4(a + 16 + 4 * c);
                    for (int h = 0; h < 2; h++) {
                        __m256i ul, uh;
                        unpack_nibbles(type, blk, h, c, &ul, &uh);
#if defined(PK_YMM_VNNI)
                        s[h] = _mm256_dpbusd_avx_epi32(_mm256_dpbusd_avx_epi32(s[h], ul, yl), uh, yh);
#else
                        lo[h] = _mm256_add_epi16(lo[h], _mm256_maddubs_epi16(ul, yl));
                        hi[h] = _mm256_add_epi16(hi[h], _mm256_maddubs_epi16(uh, yh));
#endif
                    }
                }
#if !defined(PK_YMM_VNNI)
                for (int h = 0; h < 2; h++) s[h] = _mm256_add_epi32(s[h], nibble_sums(type, lo[h], hi[h]));
#endif
            }
            const __m256 dy = _mm256_set1_ps(pa->d[b]);
            for (int h = 0; h < 2; h++) {
                const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 16 * h)));
                acc[h] = _mm256_fmadd_ps(_mm256_mul_ps(dx, dy), _mm256_cvtepi32_ps(s[h]), acc[h]);
            }
        }
        _mm256_storeu_ps(y + 16 * g, acc[0]);
        _mm256_storeu_ps(y + 16 * g + 8, acc[1]);
    }
}

/* The product over tiles of PK_TT activation rows and chunks of PK_BC
 * blocks, each chunk of every group of weights passing every row of the
 * tile. Activations as they are (pa NULL: act, act_row; the chunk's sums
 * and scales are prepared first), or from an ingot_packed_act layout
 * (pa: sums and scales were made once per product, and each sub-tile's
 * rows lie 32 bytes apart; avx2's Q8_0 reads no ys: half_dot ignores
 * it). */
PK_INLINE void packed_gemm_any(ingot_type type, int64_t n, const void *w, int64_t ngroups, const void *act,
                               size_t act_row, const ingot_packed_act *pa, int64_t ny, float *y, size_t ldy) {
    if (ny == 1 && pa) {
        packed_row(type, n, w, ngroups, pa, y);
        return;
    }
    const int off = type == INGOT_TYPE_Q4_0 ? 8 : type == INGOT_TYPE_Q5_0 ? 16 : PK_SIGNED_Q8 ? 0 : 128;
    const int64_t nb = n / 32;
    const size_t bb = pk_block_bytes(type), gb = (size_t)nb * bb;
    int32_t ysa[PK_BC][PK_TT];
    float dya[PK_BC][PK_TT];
    /* the running sums of one group, contiguous: y's rows may lie a power
     * of two apart, which would put them all in one cache set */
    float acc[PK_TT][16] __attribute__((aligned(32)));
    __m256i qs[8]; /* avx2's Q8_0: the signed weights of the current half */
    for (int64_t t0 = 0; t0 < ny; t0 += PK_TT) {
        const int nt = ny - t0 < PK_TT ? (int)(ny - t0) : PK_TT;
        const uint8_t *a0 = pa ? NULL : (const uint8_t *)act + (size_t)t0 * act_row;
        const size_t e0 = (size_t)t0 * (size_t)nb; /* pa: the tile's first element */
        float *y0 = y + (size_t)t0 * ldy;
        for (int64_t b0 = 0; b0 < nb; b0 += PK_BC) {
            const int64_t b1 = nb - b0 < PK_BC ? nb : b0 + PK_BC;
            if (!pa)
                for (int64_t b = b0; b < b1; b++)
                    for (int t = 0; t < nt; t++) {
                        const ingot_block_q8_0 *a = (const ingot_block_q8_0 *)(a0 + (size_t)t * act_row) + b;
                        ysa[b - b0][t] = off ? -off * act_sum(a->qs) : 0;
                        dya[b - b0][t] = _cvtsh_ss(a->d);
                    }
            for (int64_t g = 0; g < ngroups; g++) {
                /* the running sums start at +0, as the reference's */
                for (int t = 0; t < nt; t++)
                    for (int h = 0; h < 2; h++)
                        _mm256_store_ps(&acc[t][8 * h], b0 ? _mm256_loadu_ps(y0 + (size_t)t * ldy + 16 * g + 8 * h)
                                                           : _mm256_setzero_ps());
                const uint8_t *blk = (const uint8_t *)w + (size_t)g * gb + (size_t)b0 * bb;
                for (int64_t b = b0; b < b1; b++, blk += bb) {
                    for (size_t l = 0; l < bb; l += 64) _mm_prefetch((const char *)blk + PK_PF + l, _MM_HINT_T0);
#if !defined(PK_YMM_VNNI) && PK_SPLIT
                    if (type != INGOT_TYPE_Q8_0 && pa) {
                        block_split(type, blk, pa, e0, nb, b, nt, acc);
                        continue;
                    }
#endif
                    for (int h = 0; h < 2; h++) {
                        __m256i u[8];
                        unpack_half(type, blk, h, u, qs);
                        const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 16 * h)));
                        if (!pa) {
                            rows_pass(type, u, qs, dx, h, a0 + (size_t)b * sizeof(ingot_block_q8_0) + 2, act_row,
                                      ysa[b - b0], dya[b - b0], nt, acc);
                            continue;
                        }
                        /* sub-tiles of 8, 4, 2, 1 rows (ingot_packed_act_place) */
                        for (int ts = 0, cnt; ts < nt; ts += cnt) {
                            cnt = pk_subtile(nt - ts);
                            const size_t e = e0 + (size_t)ts * (size_t)nb + (size_t)b * (size_t)cnt;
                            rows_pass(type, u, qs, dx, h, pa->q + 32 * e, 32, ingot_packed_act_ys(pa, type) + e,
                                      pa->d + e, cnt, acc + ts);
                        }
                    }
                }
                for (int t = 0; t < nt; t++)
                    for (int h = 0; h < 2; h++)
                        _mm256_storeu_ps(y0 + (size_t)t * ldy + 16 * g + 8 * h, _mm256_load_ps(&acc[t][8 * h]));
            }
        }
    }
}

PK_INLINE void packed_gemm(ingot_type type, int64_t n, const void *w, int64_t ngroups, const void *act,
                           size_t act_row, int64_t ny, float *y, size_t ldy) {
    packed_gemm_any(type, n, w, ngroups, act, act_row, NULL, ny, y, ldy);
}

/* Row t of the layout: quants, -offset * sum for each offset, scale. */
static void pk_act_row(const void *row, int64_t t, const ingot_packed_act *pa) {
    int64_t first;
    int nt;
    ingot_packed_act_place(pa->rows, t, &first, &nt);
    const ingot_block_q8_0 *a = row;
    size_t i = (size_t)first * (size_t)pa->nb + (size_t)(t - first);
    for (int64_t b = 0; b < pa->nb; b++, i += (size_t)nt) {
        memcpy(pa->q + 32 * i, a[b].qs, 32);
        const int32_t s = act_sum(a[b].qs);
        pa->ys[0][i] = -8 * s;
        pa->ys[1][i] = -16 * s;
        pa->ys[2][i] = -128 * s;
        pa->d[i] = _cvtsh_ss(a[b].d);
    }
}

#define PK_ENTRY(name, id)                                                                     \
    static void name(int64_t n, const void *w, int64_t ngroups, const void *act, size_t act_row, \
                     int64_t ny, float *y, size_t ldy) {                                       \
        packed_gemm(INGOT_TYPE_##id, n, w, ngroups, act, act_row, ny, y, ldy);                 \
    }
PK_ENTRY(pk_q4_0, Q4_0)
PK_ENTRY(pk_q5_0, Q5_0)
PK_ENTRY(pk_q8_0, Q8_0)
#undef PK_ENTRY

#define PK_ENTRY_ACT(name, id)                                                                           \
    static void name(int64_t n, const void *w, int64_t ngroups, const ingot_packed_act *pa, float *y, \
                     size_t ldy) {                                                                     \
        packed_gemm_any(INGOT_TYPE_##id, n, w, ngroups, NULL, 0, pa, pa->rows, y, ldy);                \
    }
PK_ENTRY_ACT(pka_q4_0, Q4_0)
PK_ENTRY_ACT(pka_q5_0, Q5_0)
PK_ENTRY_ACT(pka_q8_0, Q8_0)
#undef PK_ENTRY_ACT

/* Puts the kernels (both activation sources) into table k. */
PK_INLINE void pk_fill(ingot_kernels *k) {
    k->packed_gemm[INGOT_TYPE_Q4_0] = pk_q4_0;
    k->packed_gemm[INGOT_TYPE_Q5_0] = pk_q5_0;
    k->packed_gemm[INGOT_TYPE_Q8_0] = pk_q8_0;
    k->packed_gemm_act[INGOT_TYPE_Q4_0] = pka_q4_0;
    k->packed_gemm_act[INGOT_TYPE_Q5_0] = pka_q5_0;
    k->packed_gemm_act[INGOT_TYPE_Q8_0] = pka_q8_0;
    k->packed_act_row = pk_act_row;
}
#endif
