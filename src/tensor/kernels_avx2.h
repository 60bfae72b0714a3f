/* Private helpers of the x86 kernel files (*_avx2.c, *_avxvnni.c,
 * *_avx512.c; each is built with at least AVX2+FMA+F16C): horizontal
 * sums, nibble and bit unpacking, the AVX2 integer dot primitives, and
 * the macro that turns one tile kernel (NX weight rows against NY
 * activation rows, both compile-time constants once inlined) into the
 * vec_dot, vec_dot_n and gemm entry points. Every pair of a tile runs
 * the same instructions in the same order whatever NX and NY are, so
 * vec_dot_n's and gemm's results are bit-identical to vec_dot's. */
#ifndef INGOT_TENSOR_KERNELS_AVX2_H
#define INGOT_TENSOR_KERNELS_AVX2_H
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "tensor/kernels.h"
#include "tensor/quants.h"

#define AVX2_INLINE static inline __attribute__((always_inline))

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

/* Weight row or activation row i of a tile (rows are `stride` bytes apart). */
#define X86_ROW(type, v, stride, i) ((const type *)((const char *)(v) + (size_t)(i) * (stride)))

/* Entry points of a tile kernel NAME##_tile(n, s, ld, x, xs, y, ys, NX, NY),
 * NX (1..NXB) weight rows by NY (1..NYB, 4 or 8) activation rows,
 * s[i*ld + j] = dot of weight row i and activation row j, NX and NY
 * compile-time constants once inlined: vec_dot (1 x 1), vec_dot_n (1 x ny)
 * and gemm (nx x ny, the weight rows NXB at a time and the rest one by
 * one, the activation rows NYB at a time). */
#define X86_NY_CASES4(name, s, ld, x, xs, y, ys, NX, m)                                     \
    switch (m) {                                                                            \
    case 1: name##_tile(n, s, ld, x, xs, y, ys, NX, 1); break;                              \
    case 2: name##_tile(n, s, ld, x, xs, y, ys, NX, 2); break;                              \
    case 3: name##_tile(n, s, ld, x, xs, y, ys, NX, 3); break;                              \
    default: name##_tile(n, s, ld, x, xs, y, ys, NX, 4); break;                             \
    }
#define X86_NY_CASES8(name, s, ld, x, xs, y, ys, NX, m)                                     \
    switch (m) {                                                                            \
    case 1: name##_tile(n, s, ld, x, xs, y, ys, NX, 1); break;                              \
    case 2: name##_tile(n, s, ld, x, xs, y, ys, NX, 2); break;                              \
    case 3: name##_tile(n, s, ld, x, xs, y, ys, NX, 3); break;                              \
    case 4: name##_tile(n, s, ld, x, xs, y, ys, NX, 4); break;                              \
    case 5: name##_tile(n, s, ld, x, xs, y, ys, NX, 5); break;                              \
    case 6: name##_tile(n, s, ld, x, xs, y, ys, NX, 6); break;                              \
    case 7: name##_tile(n, s, ld, x, xs, y, ys, NX, 7); break;                              \
    default: name##_tile(n, s, ld, x, xs, y, ys, NX, 8); break;                             \
    }
#define X86_ENTRY_POINTS_NY(name, NXB, NYB, CASES)                                          \
    /* NX weight rows against ny activation rows, NYB at a time */                         \
    AVX2_INLINE void name##_cols(int64_t n, float *s, size_t ld, const void *x, size_t xs,  \
                                 const void *y, size_t ys, const int NX, int ny) {          \
        for (int j = 0; j < ny; j += (NYB)) {                                               \
            const int m = ny - j < (NYB) ? ny - j : (NYB);                                  \
            float *sj = s + j;                                                              \
            const void *yj = (const char *)y + (size_t)j * ys;                              \
            CASES(name, sj, ld, x, xs, yj, ys, NX, m)                                       \
        }                                                                                   \
    }                                                                                       \
    static void name##_dot(int64_t n, float *s, const void *x, const void *y) {             \
        name##_tile(n, s, 0, x, 0, y, 0, 1, 1);                                             \
    }                                                                                       \
    static void name##_dot_n(int64_t n, float *s, const void *x, const void *y, size_t st,  \
                             int ny) {                                                      \
        name##_cols(n, s, 0, x, 0, y, st, 1, ny);                                           \
    }                                                                                       \
    static void name##_gemm(int64_t n, float *s, size_t ld, const void *x, size_t xs,       \
                            int nx, const void *y, size_t ys, int ny) {                     \
        int i = 0;                                                                          \
        if ((NXB) >= 2)                                                                     \
            for (; i + 2 <= nx; i += 2)                                                     \
                name##_cols(n, s + (size_t)i * ld, ld, (const char *)x + (size_t)i * xs, xs, y, ys, 2, ny); \
        for (; i < nx; i++)                                                                 \
            name##_cols(n, s + (size_t)i * ld, ld, (const char *)x + (size_t)i * xs, xs, y, ys, 1, ny); \
    }
#define X86_ENTRY_POINTS(name, NXB) X86_ENTRY_POINTS_NY(name, NXB, 4, X86_NY_CASES4)
#define X86_ENTRY_POINTS8(name, NXB) X86_ENTRY_POINTS_NY(name, NXB, 8, X86_NY_CASES8)

/* Puts a type's three entry points into table k. */
#define X86_SET(k, id, pre)                                                                 \
    ((k)->vec_dot[INGOT_TYPE_##id] = pre##_dot, (k)->vec_dot_n[INGOT_TYPE_##id] = pre##_dot_n, \
     (k)->gemm[INGOT_TYPE_##id] = pre##_gemm)

/* The integer primitives of the avx2 set for the shared kernel bodies
 * (kernels_x86_q32.h, kernels_x86_qk.h): maddubs then madd, the signed
 * weights as |q| times y carrying q's sign (maddubs wants one unsigned
 * side; pair sums stay below 2^15 because |y| <= 127). */
AVX2_INLINE __m256i avx2_prep_sym(__m256i q) { return _mm256_abs_epi8(q); }
AVX2_INLINE __m256i avx2_dot_sym(__m256i aq, __m256i q, __m256i y) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(aq, _mm256_sign_epi8(y, q)), _mm256_set1_epi16(1));
}
AVX2_INLINE __m256i avx2_dot_u(__m256i x, __m256i y) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), _mm256_set1_epi16(1));
}
/* acc + int32 lanes of (x*y pair sums) weighted by the int16 w */
AVX2_INLINE __m256i avx2_dot_w(__m256i acc, __m256i x, __m256i y, __m256i w) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), w));
}

/* The K-quant and IQ4_XS half of the set (kernels_k_avx2.c). */
void ingot_kernels_fill_k_avx2(ingot_kernels *k);
#endif
#endif
