/* Private helpers of the AVX2+FMA+F16C kernel files (*_avx2.c, built with
 * those instruction sets enabled): horizontal sums, the signed int8 dot
 * product, nibble unpacking, and the macro that turns one "rows" kernel
 * (a weight row against NY activation rows, NY a compile-time constant
 * once inlined) into the vec_dot and vec_dot_n entry points. Every row
 * of a rows kernel runs the same instructions in the same order whatever
 * NY is, so vec_dot_n's results are bit-identical to vec_dot's. */
#ifndef INGOT_TENSOR_KERNELS_AVX2_H
#define INGOT_TENSOR_KERNELS_AVX2_H
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "tensor/kernels.h"
#include "tensor/quants.h"

#define AVX2_INLINE static inline __attribute__((always_inline))

/* Block i of activation row j (rows are `stride` bytes apart). */
#define AVX2_YROW(type, vy, stride, j) ((const type *)((const char *)(vy) + (size_t)(j) * (stride)))

AVX2_INLINE float avx2_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2_INLINE int32_t avx2_hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

AVX2_INLINE float avx2_fp16(uint16_t h) { return _cvtsh_ss(h); }

AVX2_INLINE __m256i avx2_loadu(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

/* 16 bytes of packed nibbles -> 32 bytes: low nibbles, then high ones.
 * A broadcast load and a per-lane shift (no cross-lane insert). */
AVX2_INLINE __m256i avx2_nibbles16(const uint8_t *p) {
    const __m256i q = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p));
    const __m256i sh = _mm256_srlv_epi32(q, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4));
    return _mm256_and_si256(sh, _mm256_set1_epi8(0x0f));
}

/* 8 int32 partial sums of x[k]*y[k] for signed x, y with y in [-127, 127]:
 * |x| times y carrying x's sign (maddubs wants one unsigned side); ax is
 * |x|, computed once per weight block. Pair sums stay below 2^15. */
AVX2_INLINE __m256i avx2_dot_i8(__m256i ax, __m256i x, __m256i y) {
    const __m256i p = _mm256_maddubs_epi16(ax, _mm256_sign_epi8(y, x));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/* Same with x unsigned (0..127) and int16 weights w for the pair sums. */
AVX2_INLINE __m256i avx2_dot_u8(__m256i x, __m256i y, __m256i w) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), w);
}

/* Byte i of the result is 0xff where bit i of the 32-bit little-endian
 * word at p is set. */
AVX2_INLINE __m256i avx2_bits32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    const __m256i shuf = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i b = _mm256_shuffle_epi8(_mm256_set1_epi32((int)v), shuf);
    const __m256i bit = _mm256_set1_epi64x(0x7fbfdfeff7fbfdfeLL);
    /* b | ~bit is all ones exactly where the byte's own bit is set. */
    return _mm256_cmpeq_epi8(_mm256_or_si256(b, bit), _mm256_set1_epi64x(-1));
}

/* Broadcast of int16 element e (0..7) of both 128-bit lanes of v to all
 * of that lane's elements. */
AVX2_INLINE __m256i avx2_bcast16(__m256i v, int e) {
    return _mm256_shuffle_epi8(v, _mm256_set1_epi16((short)(((2 * e + 1) << 8) | (2 * e))));
}

/* Entry points of a rows kernel NAME##_rows(n, s, x, y, stride, NY). */
#define AVX2_ENTRY_POINTS(name)                                                             \
    static void name##_dot(int64_t n, float *s, const void *x, const void *y) {             \
        name##_rows(n, s, x, y, 0, 1);                                                      \
    }                                                                                       \
    static void name##_dot_n(int64_t n, float *s, const void *x, const void *y, size_t st,  \
                             int ny) {                                                      \
        switch (ny) {                                                                       \
        case 1: name##_rows(n, s, x, y, st, 1); break;                                      \
        case 2: name##_rows(n, s, x, y, st, 2); break;                                      \
        case 3: name##_rows(n, s, x, y, st, 3); break;                                      \
        default: name##_rows(n, s, x, y, st, 4); break;                                     \
        }                                                                                   \
    }

/* The K-quant and IQ4_XS half of the set (kernels_k_avx2.c). */
void ingot_kernels_fill_k_avx2(ingot_kernels *k);
#endif
#endif
