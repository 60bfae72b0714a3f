/* AVX2+FMA+F16C kernels of the float types (F32, F16, BF16) and the
 * 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL), the
 * activation quantizers, and the filling of the avx2 table (the K-quants
 * are in kernels_k_avx2.c). The block types are the shared bodies of
 * kernels_x86_q32.h with the AVX2 integer primitives (maddubs, madd);
 * the float types take one weight row per gemm tile. Compiled to nothing
 * off x86_64; only called when the CPU has AVX2, FMA and F16C (kernels.c
 * checks). */
#include "tensor/kernels.h"
#if defined(__x86_64__)
#include "tensor/kernels_avx2.h"

/* ---- float types: 16 elements per step, two chains per row ---- */

AVX2_INLINE __m256 f32_load8(const void *p, int64_t i) {
    return _mm256_loadu_ps((const float *)p + i);
}
AVX2_INLINE __m256 f16_load8(const void *p, int64_t i) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + i)));
}
AVX2_INLINE __m256 bf16_load8(const void *p, int64_t i) {
    const __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)p + i));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
AVX2_INLINE float f32_at(const void *p, int64_t i) { return ((const float *)p)[i]; }
AVX2_INLINE float f16_at(const void *p, int64_t i) { return avx2_fp16(((const uint16_t *)p)[i]); }
AVX2_INLINE float bf16_at(const void *p, int64_t i) {
    return ingot_bf16_to_fp32(((const uint16_t *)p)[i]);
}

#define FLOAT_ROWS(name)                                                                    \
    AVX2_INLINE void name##_rows(int64_t n, float *s, const void *x, const void *vy,        \
                                 size_t st, const int NY) {                                 \
        __m256 a0[4], a1[4];                                                                \
        for (int j = 0; j < 4; j++) a0[j] = a1[j] = _mm256_setzero_ps();                    \
        int64_t i = 0;                                                                      \
        for (; i + 16 <= n; i += 16) {                                                      \
            const __m256 x0 = name##_load8(x, i), x1 = name##_load8(x, i + 8);              \
            _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                          \
                const void *y = (const char *)vy + (size_t)j * st;                          \
                a0[j] = _mm256_fmadd_ps(x0, name##_load8(y, i), a0[j]);                     \
                a1[j] = _mm256_fmadd_ps(x1, name##_load8(y, i + 8), a1[j]);                 \
            }                                                                               \
        }                                                                                   \
        if (i + 8 <= n) {                                                                   \
            const __m256 x0 = name##_load8(x, i);                                           \
            _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                          \
                const void *y = (const char *)vy + (size_t)j * st;                          \
                a0[j] = _mm256_fmadd_ps(x0, name##_load8(y, i), a0[j]);                     \
            }                                                                               \
            i += 8;                                                                         \
        }                                                                                   \
        _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                              \
            const void *y = (const char *)vy + (size_t)j * st;                              \
            float t = avx2_hsum(_mm256_add_ps(a0[j], a1[j]));                               \
            for (int64_t k = i; k < n; k++) t += name##_at(x, k) * name##_at(y, k);         \
            s[j] = t;                                                                       \
        }                                                                                   \
    }                                                                                       \
    /* one weight row at a time: the activation loads dominate anyway */                   \
    AVX2_INLINE void name##_tile(int64_t n, float *s, size_t ld, const void *x, size_t xs,  \
                                 const void *vy, size_t ys, const int NX, const int NY) {   \
        name##_rows(n, s, x, vy, ys, NY);                                                   \
    }                                                                                       \
    X86_ENTRY_POINTS(name, 1)

FLOAT_ROWS(f32)
FLOAT_ROWS(f16)
FLOAT_ROWS(bf16)

/* ---- 32-element blocks: kernels_x86_q32.h with maddubs/madd ---- */
#define Q_PREP_SYM(q) avx2_prep_sym(q)
#define Q_DOT_SYM(p, q, y) avx2_dot_sym(p, q, y)
#define Q_DOT_U(x, y) avx2_dot_u(x, y)
#define Q32_SYM_TILE SYM_TILE
#include "tensor/kernels_x86_q32.h"

/* ---- activation quantizers (bit-identical to kernels.c's reference) ---- */

/* 32 int32 (four vectors) -> 32 int8 in order. */
AVX2_INLINE __m256i pack32(__m256i q0, __m256i q1, __m256i q2, __m256i q3) {
    const __m256i a = _mm256_packs_epi32(q0, q1), b = _mm256_packs_epi32(q2, q3);
    const __m256i c = _mm256_packs_epi16(a, b);
    return _mm256_permutevar8x32_epi32(c, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

AVX2_INLINE __m256 abs_ps(__m256 v) {
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
}

AVX2_INLINE float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* Quantizes 32 floats with scale 127/amax, ties to even (cvtps rounds in
 * the default mode); returns d and the sum of the quants. */
AVX2_INLINE float q8_block(const float *x, int8_t *qs, int32_t *sum) {
    const __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
    const __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
    const __m256 m = _mm256_max_ps(_mm256_max_ps(abs_ps(v0), abs_ps(v1)),
                                   _mm256_max_ps(abs_ps(v2), abs_ps(v3)));
    const float amax = hmax(m);
    float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    if (!isfinite(id)) id = 0.0f; /* as the reference: amax tiny, d is 0 anyway */
    const __m256 vid = _mm256_set1_ps(id);
    const __m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, vid));
    const __m256i q1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, vid));
    const __m256i q2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, vid));
    const __m256i q3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, vid));
    _mm256_storeu_si256((__m256i *)qs, pack32(q0, q1, q2, q3));
    if (sum)
        *sum = avx2_hsum_i32(_mm256_add_epi32(_mm256_add_epi32(q0, q1), _mm256_add_epi32(q2, q3)));
    return amax / 127.0f;
}

static void act_q8_0_avx2(const float *x, void *vy, int64_t n) {
    ingot_block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32)
        y[i].d = _cvtss_sh(q8_block(x, y[i].qs, NULL), 0);
}

static void act_q8_1_avx2(const float *x, void *vy, int64_t n) {
    ingot_block_q8_1 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        int32_t sum;
        const float d = q8_block(x, y[i].qs, &sum);
        y[i].d = _cvtss_sh(d, 0);
        y[i].s = _cvtss_sh(d * (float)sum, 0);
    }
}

/* Q8_K: the first element of largest magnitude maps to -127 (so its sign
 * sets the scale's), quants round to even, bsums are sums of 16. */
static void act_q8_k_avx2(const float *x, void *vy, int64_t n) {
    ingot_block_q8_k *y = vy;
    for (int64_t i = 0; i < n / INGOT_QK_K; i++, x += INGOT_QK_K) {
        __m256 m = _mm256_setzero_ps();
        for (int k = 0; k < INGOT_QK_K; k += 8) m = _mm256_max_ps(m, abs_ps(_mm256_loadu_ps(x + k)));
        const float amax = hmax(m);
        if (amax == 0.0f) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        const __m256 vmax = _mm256_set1_ps(amax);
        float max = 0;
        for (int k = 0; k < INGOT_QK_K; k += 8) {
            const __m256 v = _mm256_loadu_ps(x + k);
            const int hit = _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(v), vmax, _CMP_EQ_OQ));
            if (hit) {
                max = x[k + __builtin_ctz((unsigned)hit)];
                break;
            }
        }
        const float iscale = -127.0f / max;
        if (!isfinite(iscale)) { /* subnormal extreme: the reference's clamping, rarely */
            ingot_q8_k_from_float(x, &y[i], INGOT_QK_K);
            continue;
        }
        const __m256 vis = _mm256_set1_ps(iscale);
        const __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127);
        for (int k = 0; k < INGOT_QK_K; k += 64) {
            __m256i q[8];
            for (int l = 0; l < 8; l++) {
                const __m256i r = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + k + 8 * l), vis));
                q[l] = _mm256_min_epi32(_mm256_max_epi32(r, lo), hi);
            }
            _mm256_storeu_si256((__m256i *)(y[i].qs + k), pack32(q[0], q[1], q[2], q[3]));
            _mm256_storeu_si256((__m256i *)(y[i].qs + k + 32), pack32(q[4], q[5], q[6], q[7]));
            /* four sums of 16: hadd twice, then fold the 128-bit halves */
            const __m256i h0 = _mm256_hadd_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
            const __m256i h1 = _mm256_hadd_epi32(_mm256_add_epi32(q[4], q[5]), _mm256_add_epi32(q[6], q[7]));
            const __m256i h = _mm256_hadd_epi32(h0, h1);
            const __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
            _mm_storel_epi64((__m128i *)&y[i].bsums[k / 16], _mm_packs_epi32(s4, s4));
        }
        y[i].d = 1.0f / iscale;
    }
}

static void act_f16_avx2(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) y[i] = ingot_fp32_to_fp16(x[i]);
}

static void act_bf16_avx2(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t i = 0;
    const __m256i one = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7fff);
    const __m256i absm = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
    for (; i + 8 <= n; i += 8) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(x + i));
        const __m256i hi = _mm256_srli_epi32(v, 16);
        const __m256i r = _mm256_srli_epi32(
            _mm256_add_epi32(v, _mm256_add_epi32(bias, _mm256_and_si256(hi, one))), 16);
        const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(v, absm), inf);
        const __m256i q = _mm256_blendv_epi8(r, _mm256_or_si256(hi, _mm256_set1_epi32(64)), nan);
        const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(q, q), 0x08);
        _mm_storeu_si128((__m128i *)(y + i), _mm256_castsi256_si128(p));
    }
    for (; i < n; i++) y[i] = ingot_fp32_to_bf16(x[i]);
}

void ingot_kernels_fill_avx2(ingot_kernels *k) {
    X86_SET(k, F32, f32);
    X86_SET(k, F16, f16);
    X86_SET(k, BF16, bf16);
    x86_fill_q32(k);
    k->quantize_act[INGOT_TYPE_F16] = act_f16_avx2;
    k->quantize_act[INGOT_TYPE_BF16] = act_bf16_avx2;
    k->quantize_act[INGOT_TYPE_Q8_0] = act_q8_0_avx2;
    k->quantize_act[INGOT_TYPE_Q8_1] = act_q8_1_avx2;
    k->quantize_act[INGOT_TYPE_Q8_K] = act_q8_k_avx2;
    ingot_kernels_fill_k_avx2(k);
    ingot_pack_fill_avx2(k);
    ingot_pack_k_fill_avx2(k);
}
#endif
