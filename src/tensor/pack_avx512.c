/* AVX-512 (BW, VNNI) kernels of the packed 32-element block types (see
 * pack.h): one 64-byte vector holds four weights of sixteen rows, so a
 * vpdpbusd against four broadcast activation bytes advances sixteen
 * output rows at once and no horizontal sum is ever needed. Per block:
 * eight vpdpbusd per activation row (started from -offset * sum(y)), one
 * conversion, one product of the scales and one FMA — the float
 * operations of ingot_pack_gemm_ref in the same order, so results are
 * bit-identical to it. Up to 8 activation rows share each unpacked block.
 * Compiled to nothing off x86_64; only called when the CPU has the
 * extensions (kernels.c checks). */
#include "tensor/kernels.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#include "tensor/pack.h"
#include "tensor/quants.h"

#define PK_INLINE static inline __attribute__((always_inline))
#define PK_PRAGMA(x) _Pragma(#x)
#define PK_UNROLL(n) PK_PRAGMA(GCC unroll n)
/* Activation blocks whose sums and scales are prepared at once. */
#define PK_CHUNK 128

/* The 64-lane vector u (weights 4g..4g+3 of 16 rows, unsigned) of one
 * packed block, g = 0..7. */
PK_INLINE __m512i unpack1(ingot_type type, const uint8_t *blk, int g) {
    const uint8_t *qs = blk + 32;
    if (type == INGOT_TYPE_Q8_0) return _mm512_loadu_si512(qs + 64 * g);
    const __m512i m4 = _mm512_set1_epi8(15);
    const __m512i v = _mm512_loadu_si512(qs + 64 * (g & 3));
    __m512i u = _mm512_and_si512(g < 4 ? v : _mm512_srli_epi16(v, 4), m4);
    if (type == INGOT_TYPE_Q5_0) {
        uint64_t bits;
        memcpy(&bits, qs + 256 + 8 * g, 8);
        u = _mm512_mask_add_epi8(u, _cvtu64_mask64(bits), u, _mm512_set1_epi8(16));
    }
    return u;
}

static size_t pk_block_bytes(ingot_type type) {
    return type == INGOT_TYPE_Q4_0 ? sizeof(ingot_pack_q4_0)
         : type == INGOT_TYPE_Q5_0 ? sizeof(ingot_pack_q5_0)
                                   : sizeof(ingot_pack_q8_0);
}

/* NT activation rows (1..8) against groups [0, ngroups), blocks [b0, b1):
 * ys[t][b - b0] = -offset * sum(y), dys[t][b - b0] = fp32 scale. The
 * running sums start at 0 when b0 == 0, else continue from y. */
PK_INLINE void tile(ingot_type type, const int NT, int64_t n, const uint8_t *w, int64_t ngroups,
                    const uint8_t *act, size_t act_row, int64_t b0, int64_t b1,
                    const int32_t ys[8][PK_CHUNK], const float dys[8][PK_CHUNK], float *y, size_t ldy) {
    const size_t bb = pk_block_bytes(type), gb = (size_t)(n / 32) * bb;
    for (int64_t g = 0; g < ngroups; g++) {
        __m512 acc[8];
        for (int t = 0; t < NT; t++)
            acc[t] = b0 ? _mm512_loadu_ps(y + (size_t)t * ldy + 16 * g) : _mm512_setzero_ps();
        const uint8_t *blk = w + (size_t)g * gb + (size_t)b0 * bb;
        const uint8_t *a = act + (size_t)b0 * sizeof(ingot_block_q8_0) + 2;
        for (int64_t b = b0; b < b1; b++, blk += bb, a += sizeof(ingot_block_q8_0)) {
            /* the NT sums are independent chains, interleaved so that the
             * dot-product unit never waits on one of them */
            __m512i s[8];
            PK_UNROLL(8) for (int t = 0; t < NT; t++) s[t] = _mm512_set1_epi32(ys[t][b - b0]);
            PK_UNROLL(8) for (int q = 0; q < 8; q++) {
                const __m512i u = unpack1(type, blk, q);
                PK_UNROLL(8) for (int t = 0; t < NT; t++) {
                    int32_t a4;
                    memcpy(&a4, a + (size_t)t * act_row + 4 * q, 4);
                    s[t] = _mm512_dpbusd_epi32(s[t], u, _mm512_set1_epi32(a4));
                }
            }
            const __m512 dx = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)blk));
            PK_UNROLL(8) for (int t = 0; t < NT; t++) {
                const __m512 sc = _mm512_mul_ps(dx, _mm512_set1_ps(dys[t][b - b0]));
                acc[t] = _mm512_fmadd_ps(sc, _mm512_cvtepi32_ps(s[t]), acc[t]);
            }
        }
        for (int t = 0; t < NT; t++) _mm512_storeu_ps(y + (size_t)t * ldy + 16 * g, acc[t]);
    }
}

/* Activation rows that share one pass over a group's weights: a group
 * (16 rows x at most PK_CHUNK blocks, <= 17 KiB) is read from memory once
 * and then from L1/L2 for every 8-row tile of these, instead of streaming
 * the whole weight once per 8 activation rows. */
#define PK_TT 64

PK_INLINE void packed_gemm(ingot_type type, int64_t n, const void *w, int64_t ngroups, const void *act,
                           size_t act_row, int64_t ny, float *y, size_t ldy) {
    const int off = type == INGOT_TYPE_Q4_0 ? 8 : type == INGOT_TYPE_Q5_0 ? 16 : 128;
    const int64_t nb = n / 32;
    const size_t gb = (size_t)nb * pk_block_bytes(type);
    int32_t ys[PK_TT][PK_CHUNK];
    float dys[PK_TT][PK_CHUNK];
    for (int64_t t0 = 0; t0 < ny; t0 += PK_TT) {
        const int nt = ny - t0 < PK_TT ? (int)(ny - t0) : PK_TT;
        const uint8_t *a0 = (const uint8_t *)act + (size_t)t0 * act_row;
        float *y0 = y + (size_t)t0 * ldy;
        for (int64_t b0 = 0; b0 < nb; b0 += PK_CHUNK) {
            const int64_t b1 = nb - b0 < PK_CHUNK ? nb : b0 + PK_CHUNK;
            for (int t = 0; t < nt; t++) {
                const ingot_block_q8_0 *a = (const ingot_block_q8_0 *)(a0 + (size_t)t * act_row);
                for (int64_t b = b0; b < b1; b++) {
                    const __m256i q = _mm256_loadu_si256((const __m256i *)a[b].qs);
                    const __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);
                    const __m256i s32 = _mm256_madd_epi16(s16, _mm256_set1_epi16(1));
                    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
                    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
                    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
                    ys[t][b - b0] = -off * _mm_cvtsi128_si32(h);
                    dys[t][b - b0] = _cvtsh_ss(a[b].d);
                }
            }
            for (int64_t g = 0; g < ngroups; g++) {
                const uint8_t *wg = (const uint8_t *)w + (size_t)g * gb;
                float *yg = y0 + 16 * g;
                /* row blocks of 8, 4, 2, 1 activation rows */
                int t = 0;
                for (; t + 8 <= nt; t += 8)
                    tile(type, 8, n, wg, 1, a0 + (size_t)t * act_row, act_row, b0, b1,
                         (const int32_t(*)[PK_CHUNK])ys + t, (const float(*)[PK_CHUNK])dys + t, yg + (size_t)t * ldy, ldy);
                if (t + 4 <= nt) {
                    tile(type, 4, n, wg, 1, a0 + (size_t)t * act_row, act_row, b0, b1,
                         (const int32_t(*)[PK_CHUNK])ys + t, (const float(*)[PK_CHUNK])dys + t, yg + (size_t)t * ldy, ldy);
                    t += 4;
                }
                if (t + 2 <= nt) {
                    tile(type, 2, n, wg, 1, a0 + (size_t)t * act_row, act_row, b0, b1,
                         (const int32_t(*)[PK_CHUNK])ys + t, (const float(*)[PK_CHUNK])dys + t, yg + (size_t)t * ldy, ldy);
                    t += 2;
                }
                if (t < nt)
                    tile(type, 1, n, wg, 1, a0 + (size_t)t * act_row, act_row, b0, b1,
                         (const int32_t(*)[PK_CHUNK])ys + t, (const float(*)[PK_CHUNK])dys + t, yg + (size_t)t * ldy, ldy);
            }
        }
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

void ingot_pack_fill_avx512(ingot_kernels *k) {
    k->packed_gemm[INGOT_TYPE_Q4_0] = pk_q4_0;
    k->packed_gemm[INGOT_TYPE_Q5_0] = pk_q5_0;
    k->packed_gemm[INGOT_TYPE_Q8_0] = pk_q8_0;
    ingot_pack_k_fill_avx512(k);
}
#endif
