/* Pieces shared by the x86 attention kernels (attn_avx2.c and
 * attn_avx512.c): the F16 conversions of a chunk of keys or values and
 * the roundings, so both sets compute every value the same way. Include
 * only from files compiled with AVX2+FMA+F16C (or more). */
#ifndef INGOT_TENSOR_ATTN_X86_H
#define INGOT_TENSOR_ATTN_X86_H
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Keys (or values) converted to float per chunk, shared by the heads. */
#define ATT_CHUNK 128

static inline __m256 round_f16x8(__m256 x) {
    return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/* rows [j0, j0 + m) of an F16 matrix into dst[m][hd] floats, then zero
 * rows up to a multiple of 8 */
static inline void rows_to_f32(const uint16_t *src, size_t stride, int m, int hd, float *dst) {
    for (int j = 0; j < m; j++)
        for (int d = 0; d < hd; d += 8)
            _mm256_storeu_ps(dst + (size_t)j * hd + d,
                             _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + (size_t)j * stride + d))));
    for (int j = m; j % 8; j++)
        for (int d = 0; d < hd; d += 8) _mm256_storeu_ps(dst + (size_t)j * hd + d, _mm256_setzero_ps());
}

/* Keys [0, m) of a chunk, transposed: dst[d * ld + j] = key j's
 * dimension d as float, zero for m <= j < ld (ld a multiple of 16), so a
 * vector load gives one dimension of 8 consecutive keys. */
static inline void keys_to_f32_t(const uint16_t *src, size_t stride, int m, int hd, float *dst, int ld) {
    for (int j0 = 0; j0 < ld; j0 += 8) {
        for (int d0 = 0; d0 < hd; d0 += 8) {
            __m256 r[8];
            for (int i = 0; i < 8; i++)
                r[i] = j0 + i < m ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + (size_t)(j0 + i) * stride + d0)))
                                  : _mm256_setzero_ps();
            /* 8x8 transpose */
            const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
            const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
            const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
            const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
            const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
            const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
            float *o = dst + (size_t)d0 * ld + j0;
            _mm256_storeu_ps(o + 0 * (size_t)ld, _mm256_permute2f128_ps(u0, u4, 0x20));
            _mm256_storeu_ps(o + 1 * (size_t)ld, _mm256_permute2f128_ps(u1, u5, 0x20));
            _mm256_storeu_ps(o + 2 * (size_t)ld, _mm256_permute2f128_ps(u2, u6, 0x20));
            _mm256_storeu_ps(o + 3 * (size_t)ld, _mm256_permute2f128_ps(u3, u7, 0x20));
            _mm256_storeu_ps(o + 4 * (size_t)ld, _mm256_permute2f128_ps(u0, u4, 0x31));
            _mm256_storeu_ps(o + 5 * (size_t)ld, _mm256_permute2f128_ps(u1, u5, 0x31));
            _mm256_storeu_ps(o + 6 * (size_t)ld, _mm256_permute2f128_ps(u2, u6, 0x31));
            _mm256_storeu_ps(o + 7 * (size_t)ld, _mm256_permute2f128_ps(u3, u7, 0x31));
        }
    }
}

#endif
