/* AVX-512 kernels (F, BW, VL, DQ, VNNI, with FMA and F16C) of the
 * quantized weight types. Two parts:
 * - the shared bodies of kernels_x86_q32.h and kernels_x86_qk.h with the
 *   EVEX forms of the VNNI primitives on 256-bit vectors; 32 vector
 *   registers let K-quant and min-type tiles take two weight rows, and
 *   the symmetric 32-block types use the split tile (block pairs
 *   regrouped once per row so that two chained vpdpbusd give hadd's
 *   lanes: no hadd per pair);
 * - Q4_K and Q6_K on 512-bit vectors: two groups of 32 weights per
 *   vector (the nibble or bit-pair split of a group pair is one variable
 *   shift; its int16 scales one vpermw), vpmaddubsw then vpdpwssd per
 *   pair, and the two 256-bit halves of each int32 sum added once per
 *   super-block.
 * Every integer lane sum equals the avx2 set's (integer addition is
 * exact) and the float operations are the same, so results are
 * bit-identical to avx2's. The float types and the activation quantizers
 * are inherited. Compiled to nothing off x86_64; only called when the CPU
 * has all of these extensions (kernels.c checks). */
#include "tensor/kernels.h"
#if defined(__x86_64__)
#include "tensor/kernels_avx2.h"

/* -128 * sum of q over each 4-byte lane: the start of every dot with q. */
AVX2_INLINE __m256i evex_prep_sym(__m256i q) {
    const __m256i zero = _mm256_setzero_si256();
    return _mm256_sub_epi32(zero, _mm256_dpbusd_epi32(zero, _mm256_set1_epi8((char)0x80), q));
}
/* sum (y + 128) * q - 128 * sum q = sum y * q, exactly */
AVX2_INLINE __m256i evex_dot_sym(__m256i start, __m256i q, __m256i y) {
    return _mm256_dpbusd_epi32(start, _mm256_xor_si256(y, _mm256_set1_epi8((char)0x80)), q);
}
AVX2_INLINE __m256i evex_dot_u(__m256i x, __m256i y) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), x, y);
}
AVX2_INLINE __m256i evex_dot_w(__m256i acc, __m256i x, __m256i y, __m256i w) {
    return _mm256_dpwssd_epi32(acc, _mm256_maddubs_epi16(x, y), w);
}

/* Chained dots for SYM_TILE_SPLIT: the start is -128 * (sum of the 8
 * weight bytes each merged lane covers), the activations go in as y + 128. */
AVX2_INLINE __m256i evex_split_prep(__m256i ex, __m256i ox) {
    const __m256i zero = _mm256_setzero_si256(), k = _mm256_set1_epi8((char)0x80);
    return _mm256_sub_epi32(zero, _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(zero, k, ex), k, ox));
}
AVX2_INLINE __m256i evex_split_dot(__m256i c, __m256i ex, __m256i ox, __m256i ey, __m256i oy) {
    return _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(c, ey, ex), oy, ox);
}

#define Q_PREP_SYM(q) evex_prep_sym(q)
#define Q_SPLIT_PREP(ex, ox) evex_split_prep(ex, ox)
#define Q_SPLIT_Y(v) _mm256_xor_si256(v, _mm256_set1_epi8((char)0x80))
#define Q_SPLIT_DOT(c, ex, ox, ey, oy) evex_split_dot(c, ex, ox, ey, oy)
#define Q32_SYM_TILE SYM_TILE_SPLIT
#define Q_DOT_SYM(p, q, y) evex_dot_sym(p, q, y)
#define Q_DOT_U(x, y) evex_dot_u(x, y)
#define Q_DOT_W(acc, x, y, w) evex_dot_w(acc, x, y, w)
#define Q32_NX_MIN 2
#define QK_NX 2
#include "tensor/kernels_x86_q32.h"
#include "tensor/kernels_x86_qk.h"

/* ---- 512-bit Q4_K and Q6_K ---- */

/* 256-bit halves: a in the low one, b in the high one. */
AVX2_INLINE __m512i z_halves(__m256i a, __m256i b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
}
/* The 8 int32 lanes of an avx2-layout sum from a sum over group pairs. */
AVX2_INLINE __m256i z_fold(__m512i v) {
    return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}
/* Adds, for every pair, the dot of a group pair (u[i]: 64 unsigned weights
 * of row i, activations at byte `off` of the super-block) weighted by w[i]. */
#define Z_GROUP2(off, u, w)                                                                 \
    _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                                  \
        const __m512i yv = _mm512_loadu_si512(K_Y(j)->qs + (off));                          \
        _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++)                                \
            zsum[i][j] = _mm512_dpwssd_epi32(zsum[i][j], _mm512_maddubs_epi16((u)[i], yv), (w)[i]); \
    }
#define Z_SUM_ZERO                                                                          \
    __m512i zsum[QK_NX][4];                                                                 \
    for (int i = 0; i < QK_NX; i++)                                                         \
        for (int j = 0; j < 4; j++) zsum[i][j] = _mm512_setzero_si512();

AVX2_INLINE void q4_k_z_tile(K_TILE_ARGS) {
    K_TILE_ACC
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    /* low half: low nibbles (group 2k), high half: high nibbles (2k+1) */
    const __m512i shift = z_halves(_mm256_setzero_si256(), _mm256_set1_epi16(4));
    for (int64_t b = 0; b < n / QK; b++) {
        __m256i sc[QK_NX], mn[QK_NX];
        _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++)
            k4_scales(K_X(ingot_block_q4_k, i)->scales, &sc[i], &mn[i]);
        Z_SUM_ZERO
        _Pragma("GCC unroll 4") for (int k = 0; k < 4; k++) {
            /* int16 scale 2k in the low half, 2k+1 in the high one */
            const __m512i idx = z_halves(_mm256_set1_epi16((short)(2 * k)), _mm256_set1_epi16((short)(2 * k + 1)));
            __m512i u[QK_NX], w[QK_NX];
            _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) {
                const __m512i q = _mm512_broadcast_i64x4(avx2_loadu(K_X(ingot_block_q4_k, i)->qs + 32 * k));
                u[i] = _mm512_and_si512(_mm512_srlv_epi16(q, shift), m4);
                w[i] = _mm512_permutexvar_epi16(idx, _mm512_castsi256_si512(sc[i]));
            }
            Z_GROUP2(64 * k, u, w)
        }
        _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++)
            _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) {
                const ingot_block_q4_k *x = K_X(ingot_block_q4_k, i);
                finish_min(&acc[i][j], z_fold(zsum[i][j]), mn[i], avx2_fp16(x->d), avx2_fp16(x->dmin), K_Y(j));
            }
    }
    K_TILE_STORE
}
X86_ENTRY_POINTS(q4_k_z, QK_NX)

/* vpermw indices for the 16-element scales of groups gg and gg+1: scale
 * 2gg on bytes 0-15, 2gg+1 on 16-31, 2gg+2 on 32-47, 2gg+3 on 48-63. */
AVX2_INLINE __m512i q6_k_scale_idx(int gg) {
    const short e = (short)(2 * gg);
    const __m256i lo = _mm256_setr_epi16(e, e, e, e, e, e, e, e, (short)(e + 1), (short)(e + 1),
                                         (short)(e + 1), (short)(e + 1), (short)(e + 1),
                                         (short)(e + 1), (short)(e + 1), (short)(e + 1));
    return z_halves(lo, _mm256_add_epi16(lo, _mm256_set1_epi16(2)));
}

AVX2_INLINE void q6_k_z_tile(K_TILE_ARGS) {
    K_TILE_ACC
    const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
    /* bit pair g of qh to bits 4-5: << 4, << 2 (groups 0, 1); >> 0, >> 2 (2, 3) */
    const __m512i shl01 = z_halves(_mm256_set1_epi16(4), _mm256_set1_epi16(2));
    const __m512i shr23 = z_halves(_mm256_setzero_si256(), _mm256_set1_epi16(2));
    for (int64_t b = 0; b < n / QK; b++) {
        __m256i sc16[QK_NX];
        _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++)
            sc16[i] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)K_X(ingot_block_q6_k, i)->scales));
        Z_SUM_ZERO
        _Pragma("GCC unroll 2") for (int h = 0; h < 2; h++) {
            const __m512i idx01 = q6_k_scale_idx(4 * h), idx23 = q6_k_scale_idx(4 * h + 2);
            __m512i u01[QK_NX], u23[QK_NX], w01[QK_NX], w23[QK_NX];
            _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) {
                const ingot_block_q6_k *x = K_X(ingot_block_q6_k, i);
                const __m512i l = _mm512_loadu_si512(x->ql + 64 * h);
                const __m512i qh = _mm512_broadcast_i64x4(avx2_loadu(x->qh + 32 * h));
                u01[i] = _mm512_or_si512(_mm512_and_si512(l, m4),
                                         _mm512_and_si512(_mm512_sllv_epi16(qh, shl01), m30));
                u23[i] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                         _mm512_and_si512(_mm512_srlv_epi16(qh, shr23), m30));
                w01[i] = _mm512_permutexvar_epi16(idx01, _mm512_castsi256_si512(sc16[i]));
                w23[i] = _mm512_permutexvar_epi16(idx23, _mm512_castsi256_si512(sc16[i]));
            }
            Z_GROUP2(128 * h, u01, w01)
            Z_GROUP2(128 * h + 64, u23, w23)
        }
        _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++)
            _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++)
                finish_off16(&acc[i][j], z_fold(zsum[i][j]), sc16[i], 5,
                             avx2_fp16(K_X(ingot_block_q6_k, i)->d), K_Y(j));
    }
    K_TILE_STORE
}
X86_ENTRY_POINTS(q6_k_z, QK_NX)

void ingot_kernels_fill_avx512(ingot_kernels *k) {
    x86_fill_q32(k);
    x86_fill_qk(k);
    X86_SET(k, Q4_K, q4_k_z);
    X86_SET(k, Q6_K, q6_k_z);
    ingot_pack_fill_avx512(k);
}
#endif
