/* Owns the AVX2+FMA+F16C attention kernels (compiled with those flags,
 * called only when the CPU has them). */
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "tensor/attn.h"
#include "tensor/types.h"

static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static float dot_f16_avx2(const float *q, const uint16_t *k, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 k0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k + i)));
        __m256 k1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k + i + 8)));
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), k0, a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), k1, a1);
    }
    for (; i + 8 <= n; i += 8)
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k + i))), a0);
    float s = hsum256(_mm256_add_ps(a0, a1));
    for (; i < n; i++) s += q[i] * ingot_fp16_to_fp32(k[i]);
    return s;
}

static void axpy_f16_avx2(float w, const uint16_t *v, float *o, int n) {
    const __m256 wv = _mm256_set1_ps(w);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + i)));
        _mm256_storeu_ps(o + i, _mm256_fmadd_ps(wv, x, _mm256_loadu_ps(o + i)));
    }
    for (; i < n; i++) o[i] += w * ingot_fp16_to_fp32(v[i]);
}

static const ingot_attn_kernels avx2 = {dot_f16_avx2, axpy_f16_avx2, "avx2"};

const ingot_attn_kernels *ingot_attn_kernels_avx2(void) { return &avx2; }
#endif
