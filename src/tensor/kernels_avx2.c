/* AVX2+FMA+F16C kernels of the float types (F32, F16, BF16) and the
 * 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL), the
 * activation quantizers, and the filling of the avx2 table (the K-quants
 * are in kernels_k_avx2.c). Integer dot products use maddubs/madd on two
 * blocks of 32 per step, each weight block unpacked once for all NY
 * activation rows. Compiled to nothing off x86_64; only called when
 * the CPU has AVX2, FMA and F16C (kernels.c checks). */
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
    AVX2_ENTRY_POINTS(name)

FLOAT_ROWS(f32)
FLOAT_ROWS(f16)
FLOAT_ROWS(bf16)

/* ---- 32-element blocks ----
 * Two blocks per step: their int32 partial sums are merged by one hadd
 * (lanes 0,1,4,5 from the first block, 2,3,6,7 from the second) so one
 * cvt and one FMA serve both, against a scale vector built from one
 * fp16 conversion of [dx0 dx1] (once per pair) and [dy0 dy1] per row.
 * NAME##_unpack gives the 32 weights of a block as int8 (signed for the
 * symmetric types against Q8_0, unsigned 0..31 for the types with a min
 * against Q8_1, whose min term gathers in lanes 1 and 3 of mins[j]). */

AVX2_INLINE __m128 fp16x2(const uint16_t *a, const uint16_t *b) {
    return _mm_cvtph_ps(_mm_insert_epi16(_mm_cvtsi32_si128(*a), *b, 1));
}

/* [d0d0 d1d1 d0d0 d1d1]-style spread of lanes 0 and `second` of v. */
AVX2_INLINE __m256 spread2(__m128 v, int second) {
    const __m256i idx = second == 1 ? _mm256_setr_epi32(0, 0, 1, 1, 0, 0, 1, 1)
                                    : _mm256_setr_epi32(0, 0, 2, 2, 0, 0, 2, 2);
    return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(v), idx);
}

#define SYM_ROWS(name, xtype)                                                               \
    AVX2_INLINE void name##_rows(int64_t n, float *s, const void *vx, const void *vy,       \
                                 size_t st, const int NY) {                                 \
        const xtype *x = vx;                                                                \
        const int64_t nb = n / 32;                                                          \
        const __m256i ones = _mm256_set1_epi16(1);                                          \
        __m256 acc[4];                                                                      \
        for (int j = 0; j < 4; j++) acc[j] = _mm256_setzero_ps();                           \
        int64_t i = 0;                                                                      \
        for (; i + 2 <= nb; i += 2) {                                                       \
            const __m256i q0 = name##_unpack(x + i), q1 = name##_unpack(x + i + 1);         \
            const __m256i a0 = _mm256_abs_epi8(q0), a1 = _mm256_abs_epi8(q1);               \
            const __m128 xd = fp16x2(&x[i].d, &x[i + 1].d);                                 \
            _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                          \
                const ingot_block_q8_0 *y = AVX2_YROW(ingot_block_q8_0, vy, st, j) + i;     \
                const __m256i p0 = _mm256_maddubs_epi16(a0, _mm256_sign_epi8(avx2_loadu(y[0].qs), q0)); \
                const __m256i p1 = _mm256_maddubs_epi16(a1, _mm256_sign_epi8(avx2_loadu(y[1].qs), q1)); \
                const __m256i t = _mm256_hadd_epi32(_mm256_madd_epi16(p0, ones),            \
                                                    _mm256_madd_epi16(p1, ones));           \
                const __m256 sc = spread2(_mm_mul_ps(xd, fp16x2(&y[0].d, &y[1].d)), 1);    \
                acc[j] = _mm256_fmadd_ps(sc, _mm256_cvtepi32_ps(t), acc[j]);                \
            }                                                                               \
        }                                                                                   \
        if (i < nb) {                                                                       \
            const __m256i q0 = name##_unpack(x + i), a0 = _mm256_abs_epi8(q0);              \
            const float dx = avx2_fp16(x[i].d);                                             \
            _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                          \
                const ingot_block_q8_0 *y = AVX2_YROW(ingot_block_q8_0, vy, st, j) + i;     \
                const __m256i p = avx2_dot_i8(a0, q0, avx2_loadu(y->qs));                   \
                acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(dx * avx2_fp16(y->d)),              \
                                         _mm256_cvtepi32_ps(p), acc[j]);                    \
            }                                                                               \
        }                                                                                   \
        _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) s[j] = avx2_hsum(acc[j]);      \
    }                                                                                       \
    AVX2_ENTRY_POINTS(name)

/* [d m] of a block with a min (d and m are its first two fields) */
AVX2_INLINE __m128i dm_bits(const void *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return _mm_cvtsi32_si128((int)v);
}
/* [d0 m0 d1 m1] of two consecutive blocks */
AVX2_INLINE __m128 dm_pair(const void *b0, const void *b1) {
    uint32_t v1;
    memcpy(&v1, b1, 4);
    return _mm_cvtph_ps(_mm_insert_epi32(dm_bits(b0), (int)v1, 1));
}

#define MIN_ROWS(name, xtype)                                                               \
    AVX2_INLINE void name##_rows(int64_t n, float *s, const void *vx, const void *vy,       \
                                 size_t st, const int NY) {                                 \
        const xtype *x = vx;                                                                \
        const int64_t nb = n / 32;                                                          \
        const __m256i ones = _mm256_set1_epi16(1);                                          \
        __m256 acc[4];                                                                      \
        __m128 mins[4];                                                                     \
        for (int j = 0; j < 4; j++) {                                                       \
            acc[j] = _mm256_setzero_ps();                                                   \
            mins[j] = _mm_setzero_ps();                                                     \
        }                                                                                   \
        int64_t i = 0;                                                                      \
        for (; i + 2 <= nb; i += 2) {                                                       \
            const __m256i q0 = name##_unpack(x + i), q1 = name##_unpack(x + i + 1);         \
            const __m128 xdm = dm_pair(&x[i], &x[i + 1]);                                   \
            _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                          \
                const ingot_block_q8_1 *y = AVX2_YROW(ingot_block_q8_1, vy, st, j) + i;     \
                const __m256i t = _mm256_hadd_epi32(                                        \
                    avx2_dot_u8(q0, avx2_loadu(y[0].qs), ones),                             \
                    avx2_dot_u8(q1, avx2_loadu(y[1].qs), ones));                            \
                const __m128 prod = _mm_mul_ps(xdm, dm_pair(&y[0], &y[1]));                 \
                acc[j] = _mm256_fmadd_ps(spread2(prod, 2), _mm256_cvtepi32_ps(t), acc[j]);  \
                mins[j] = _mm_add_ps(mins[j], prod);                                        \
            }                                                                               \
        }                                                                                   \
        if (i < nb) {                                                                       \
            const __m256i q0 = name##_unpack(x + i);                                        \
            const __m128 xdm = _mm_cvtph_ps(dm_bits(&x[i]));                                \
            _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                          \
                const ingot_block_q8_1 *y = AVX2_YROW(ingot_block_q8_1, vy, st, j) + i;     \
                const __m256i p = avx2_dot_u8(q0, avx2_loadu(y->qs), ones);                 \
                const __m128 prod = _mm_mul_ps(xdm, _mm_cvtph_ps(dm_bits(y)));              \
                acc[j] = _mm256_fmadd_ps(_mm256_broadcastss_ps(prod), _mm256_cvtepi32_ps(p), acc[j]); \
                mins[j] = _mm_add_ps(mins[j], _mm_blend_ps(_mm_setzero_ps(), prod, 2));    \
            }                                                                               \
        }                                                                                   \
        _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                              \
            const __m128 m = _mm_add_ps(mins[j], _mm_movehl_ps(mins[j], mins[j]));          \
            s[j] = avx2_hsum(acc[j]) + _mm_cvtss_f32(_mm_movehdup_ps(m));                   \
        }                                                                                   \
    }                                                                                       \
    AVX2_ENTRY_POINTS(name)

AVX2_INLINE __m256i q4_0_unpack(const ingot_block_q4_0 *x) {
    return _mm256_sub_epi8(avx2_nibbles16(x->qs), _mm256_set1_epi8(8));
}
SYM_ROWS(q4_0, ingot_block_q4_0)

AVX2_INLINE __m256i q4_1_unpack(const ingot_block_q4_1 *x) { return avx2_nibbles16(x->qs); }
MIN_ROWS(q4_1, ingot_block_q4_1)

AVX2_INLINE __m256i q5_0_unpack(const ingot_block_q5_0 *x) {
    /* q - 16 = nibble - 16 where the 5th bit is clear, the nibble where set */
    const __m256i hi = _mm256_andnot_si256(avx2_bits32(x->qh), _mm256_set1_epi8(0x10));
    return _mm256_sub_epi8(avx2_nibbles16(x->qs), hi);
}
SYM_ROWS(q5_0, ingot_block_q5_0)

AVX2_INLINE __m256i q5_1_unpack(const ingot_block_q5_1 *x) {
    const __m256i hi = _mm256_and_si256(avx2_bits32(x->qh), _mm256_set1_epi8(0x10));
    return _mm256_or_si256(avx2_nibbles16(x->qs), hi);
}
MIN_ROWS(q5_1, ingot_block_q5_1)

AVX2_INLINE __m256i q8_0_unpack(const ingot_block_q8_0 *x) { return avx2_loadu(x->qs); }
SYM_ROWS(q8_0, ingot_block_q8_0)

AVX2_INLINE __m256i iq4_nl_unpack(const ingot_block_iq4_nl *x) {
    const __m256i table =
        _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)ingot_iq4nl_values));
    return _mm256_shuffle_epi8(table, avx2_nibbles16(x->qs));
}
SYM_ROWS(iq4_nl, ingot_block_iq4_nl)

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

#define SET(id, pre) \
    (k->vec_dot[INGOT_TYPE_##id] = pre##_dot, k->vec_dot_n[INGOT_TYPE_##id] = pre##_dot_n)

void ingot_kernels_fill_avx2(ingot_kernels *k) {
    SET(F32, f32);
    SET(F16, f16);
    SET(BF16, bf16);
    SET(Q4_0, q4_0);
    SET(Q4_1, q4_1);
    SET(Q5_0, q5_0);
    SET(Q5_1, q5_1);
    SET(Q8_0, q8_0);
    SET(IQ4_NL, iq4_nl);
    k->quantize_act[INGOT_TYPE_F16] = act_f16_avx2;
    k->quantize_act[INGOT_TYPE_BF16] = act_bf16_avx2;
    k->quantize_act[INGOT_TYPE_Q8_0] = act_q8_0_avx2;
    k->quantize_act[INGOT_TYPE_Q8_1] = act_q8_1_avx2;
    k->quantize_act[INGOT_TYPE_Q8_K] = act_q8_k_avx2;
    ingot_kernels_fill_k_avx2(k);
}
#undef SET
#endif
