/* NEON (baseline ARMv8-A, no dot-product extension) kernels of every
 * weight type and the activation quantizers, and the filling of the neon
 * table. Weights are unpacked once per block into signed int8 vectors
 * (NEON multiplies signed by signed, so offsets like Q4_0's -8 or Q6_K's
 * -32 are applied to the weights, not folded through bsums), then each
 * of the NY activation rows is multiplied with widening smull/smlal and
 * pairwise-accumulated into int32 (two products of |x| <= 128, |y| <= 127
 * fit int16). Sub-block scales multiply int32 vectors, so nothing is
 * summed horizontally before the end of the row. Every row runs the same
 * instructions whatever NY is: vec_dot_n is bit-identical to vec_dot.
 * Compiled to nothing off aarch64. */
#include "tensor/kernels.h"
#if defined(__aarch64__)
#include <arm_neon.h>
#include <math.h>
#include <string.h>

#include "tensor/quants.h"

#define NEON_INLINE static inline __attribute__((always_inline))
#define YROW(type, vy, stride, j) ((const type *)((const char *)(vy) + (size_t)(j) * (stride)))
#define QK INGOT_QK_K

NEON_INLINE float fp16(uint16_t h) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

NEON_INLINE uint32_t rd32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* acc + pairwise sums of x*y over 16 bytes (x*y + x'*y' fits int16). */
NEON_INLINE int32x4_t dot16(int32x4_t acc, int8x16_t x, int8x16_t y) {
    int16x8_t p = vmull_s8(vget_low_s8(x), vget_low_s8(y));
    p = vmlal_high_s8(p, x, y);
    return vpadalq_s16(acc, p);
}

NEON_INLINE int32x4_t dot32(int8x16_t x0, int8x16_t x1, const int8_t *y) {
    return dot16(dot16(vdupq_n_s32(0), x0, vld1q_s8(y)), x1, vld1q_s8(y + 16));
}

/* Byte k of the result is 0xff where bit k of the 16-bit word at p is set. */
NEON_INLINE uint8x16_t bits16(const uint8_t *p) {
    static const uint8_t mask[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t b = vcombine_u8(vdup_n_u8(p[0]), vdup_n_u8(p[1]));
    return vtstq_u8(b, vld1q_u8(mask));
}

#define NEON_ENTRY_POINTS(name)                                                             \
    static void name##_dot(int64_t n, float *s, const void *x, const void *y) {             \
        name##_rows(n, s, x, y, 0, 1);                                                      \
    }                                                                                       \
    static void name##_dot_n(int64_t n, float *s, const void *x, const void *vy, size_t st, \
                             int ny) {                                                      \
        for (int j = 0; j < ny; j += 4) { /* rows kernels take up to 4 */                   \
            const void *y = (const char *)vy + (size_t)j * st;                              \
            switch (ny - j) {                                                               \
            case 1: name##_rows(n, s + j, x, y, st, 1); break;                              \
            case 2: name##_rows(n, s + j, x, y, st, 2); break;                              \
            case 3: name##_rows(n, s + j, x, y, st, 3); break;                              \
            default: name##_rows(n, s + j, x, y, st, 4); break;                             \
            }                                                                               \
        }                                                                                   \
    }                                                                                       \
    /* one weight row at a time, so every pair is exactly this set's vec_dot */             \
    static void name##_gemm(int64_t n, float *s, size_t ld, const void *x, size_t xs,       \
                            int nx, const void *y, size_t ys, int ny) {                     \
        for (int i = 0; i < nx; i++)                                                        \
            name##_dot_n(n, s + (size_t)i * ld, (const char *)x + (size_t)i * xs, y, ys, ny); \
    }

/* ---- float types: 16 elements per step, four chains per row ---- */

NEON_INLINE float32x4_t f32_load4(const void *p, int64_t i) { return vld1q_f32((const float *)p + i); }
NEON_INLINE float32x4_t f16_load4(const void *p, int64_t i) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)p + i)));
}
NEON_INLINE float32x4_t bf16_load4(const void *p, int64_t i) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16((const uint16_t *)p + i), 16));
}
NEON_INLINE float f32_at(const void *p, int64_t i) { return ((const float *)p)[i]; }
NEON_INLINE float f16_at(const void *p, int64_t i) { return fp16(((const uint16_t *)p)[i]); }
NEON_INLINE float bf16_at(const void *p, int64_t i) {
    return ingot_bf16_to_fp32(((const uint16_t *)p)[i]);
}

#define FLOAT_ROWS(name)                                                                    \
    NEON_INLINE void name##_rows(int64_t n, float *s, const void *x, const void *vy,        \
                                 size_t st, const int NY) {                                 \
        float32x4_t a[4][4];                                                                \
        for (int j = 0; j < 4; j++)                                                         \
            for (int c = 0; c < 4; c++) a[j][c] = vdupq_n_f32(0.0f);                        \
        int64_t i = 0;                                                                      \
        for (; i + 16 <= n; i += 16) {                                                      \
            float32x4_t xv[4];                                                              \
            for (int c = 0; c < 4; c++) xv[c] = name##_load4(x, i + 4 * c);                 \
            _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                          \
                const void *y = (const char *)vy + (size_t)j * st;                          \
                for (int c = 0; c < 4; c++)                                                 \
                    a[j][c] = vfmaq_f32(a[j][c], xv[c], name##_load4(y, i + 4 * c));        \
            }                                                                               \
        }                                                                                   \
        for (; i + 4 <= n; i += 4) {                                                        \
            const float32x4_t xv = name##_load4(x, i);                                      \
            _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                          \
                const void *y = (const char *)vy + (size_t)j * st;                          \
                a[j][0] = vfmaq_f32(a[j][0], xv, name##_load4(y, i));                       \
            }                                                                               \
        }                                                                                   \
        _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                              \
            const void *y = (const char *)vy + (size_t)j * st;                              \
            float t = vaddvq_f32(vaddq_f32(vaddq_f32(a[j][0], a[j][1]),                     \
                                           vaddq_f32(a[j][2], a[j][3])));                   \
            for (int64_t k = i; k < n; k++) t += name##_at(x, k) * name##_at(y, k);         \
            s[j] = t;                                                                       \
        }                                                                                   \
    }                                                                                       \
    NEON_ENTRY_POINTS(name)

FLOAT_ROWS(f32)
FLOAT_ROWS(f16)
FLOAT_ROWS(bf16)

/* ---- 32-element blocks: NAME##_blk adds block i to acc[j] (and the
 * min term to mins[j]); two accumulator sets for even and odd blocks ---- */

#define LEGACY_ROWS(name, xtype)                                                            \
    NEON_INLINE void name##_rows(int64_t n, float *s, const void *vx, const void *vy,       \
                                 size_t st, const int NY) {                                 \
        const xtype *x = vx;                                                                \
        const int64_t nb = n / 32;                                                          \
        float32x4_t a0[4], a1[4];                                                           \
        float m0[4] = {0, 0, 0, 0};                                                         \
        for (int j = 0; j < 4; j++) a0[j] = a1[j] = vdupq_n_f32(0.0f);                      \
        int64_t i = 0;                                                                      \
        for (; i + 2 <= nb; i += 2) {                                                       \
            name##_blk(x + i, vy, st, i, NY, a0, m0);                                       \
            name##_blk(x + i + 1, vy, st, i + 1, NY, a1, m0);                               \
        }                                                                                   \
        if (i < nb) name##_blk(x + i, vy, st, i, NY, a0, m0);                               \
        for (int j = 0; j < NY; j++) s[j] = vaddvq_f32(vaddq_f32(a0[j], a1[j])) + m0[j];    \
    }                                                                                       \
    NEON_ENTRY_POINTS(name)

NEON_INLINE void sym_blk(int8x16_t x0, int8x16_t x1, float dx, const void *vy, size_t st,
                         int64_t i, const int NY, float32x4_t *acc) {
    _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {
        const ingot_block_q8_0 *y = YROW(ingot_block_q8_0, vy, st, j) + i;
        const int32x4_t p = dot32(x0, x1, y->qs);
        acc[j] = vfmaq_n_f32(acc[j], vcvtq_f32_s32(p), dx * fp16(y->d));
    }
}

NEON_INLINE void min_blk(int8x16_t x0, int8x16_t x1, float dx, float mx, const void *vy,
                         size_t st, int64_t i, const int NY, float32x4_t *acc, float *mins) {
    _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {
        const ingot_block_q8_1 *y = YROW(ingot_block_q8_1, vy, st, j) + i;
        const int32x4_t p = dot32(x0, x1, y->qs);
        acc[j] = vfmaq_n_f32(acc[j], vcvtq_f32_s32(p), dx * fp16(y->d));
        mins[j] += mx * fp16(y->s);
    }
}

NEON_INLINE void q4_0_blk(const ingot_block_q4_0 *x, const void *vy, size_t st, int64_t i,
                          const int NY, float32x4_t *acc, float *mins) {
    const uint8x16_t q = vld1q_u8(x->qs);
    const int8x16_t eight = vdupq_n_s8(8);
    const int8x16_t x0 = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0f))), eight);
    const int8x16_t x1 = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight);
    sym_blk(x0, x1, fp16(x->d), vy, st, i, NY, acc);
}
LEGACY_ROWS(q4_0, ingot_block_q4_0)

NEON_INLINE void q4_1_blk(const ingot_block_q4_1 *x, const void *vy, size_t st, int64_t i,
                          const int NY, float32x4_t *acc, float *mins) {
    const uint8x16_t q = vld1q_u8(x->qs);
    const int8x16_t x0 = vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0f)));
    const int8x16_t x1 = vreinterpretq_s8_u8(vshrq_n_u8(q, 4));
    min_blk(x0, x1, fp16(x->d), fp16(x->m), vy, st, i, NY, acc, mins);
}
LEGACY_ROWS(q4_1, ingot_block_q4_1)

/* 5-bit quants: nibble | 16 where the bit in qh is set. */
NEON_INLINE void q5_unpack(const uint8_t *qs, const uint8_t *qh, uint8x16_t *u0, uint8x16_t *u1) {
    const uint8x16_t q = vld1q_u8(qs), b16 = vdupq_n_u8(0x10);
    *u0 = vorrq_u8(vandq_u8(q, vdupq_n_u8(0x0f)), vandq_u8(bits16(qh), b16));
    *u1 = vorrq_u8(vshrq_n_u8(q, 4), vandq_u8(bits16(qh + 2), b16));
}

NEON_INLINE void q5_0_blk(const ingot_block_q5_0 *x, const void *vy, size_t st, int64_t i,
                          const int NY, float32x4_t *acc, float *mins) {
    uint8x16_t u0, u1;
    q5_unpack(x->qs, x->qh, &u0, &u1);
    const int8x16_t off = vdupq_n_s8(16);
    sym_blk(vsubq_s8(vreinterpretq_s8_u8(u0), off), vsubq_s8(vreinterpretq_s8_u8(u1), off),
            fp16(x->d), vy, st, i, NY, acc);
}
LEGACY_ROWS(q5_0, ingot_block_q5_0)

NEON_INLINE void q5_1_blk(const ingot_block_q5_1 *x, const void *vy, size_t st, int64_t i,
                          const int NY, float32x4_t *acc, float *mins) {
    uint8x16_t u0, u1;
    q5_unpack(x->qs, x->qh, &u0, &u1);
    min_blk(vreinterpretq_s8_u8(u0), vreinterpretq_s8_u8(u1), fp16(x->d), fp16(x->m), vy, st, i,
            NY, acc, mins);
}
LEGACY_ROWS(q5_1, ingot_block_q5_1)

NEON_INLINE void q8_0_blk(const ingot_block_q8_0 *x, const void *vy, size_t st, int64_t i,
                          const int NY, float32x4_t *acc, float *mins) {
    sym_blk(vld1q_s8(x->qs), vld1q_s8(x->qs + 16), fp16(x->d), vy, st, i, NY, acc);
}
LEGACY_ROWS(q8_0, ingot_block_q8_0)

NEON_INLINE void iq4_nl_blk(const ingot_block_iq4_nl *x, const void *vy, size_t st, int64_t i,
                            const int NY, float32x4_t *acc, float *mins) {
    const int8x16_t table = vld1q_s8(ingot_iq4nl_values);
    const uint8x16_t q = vld1q_u8(x->qs);
    const int8x16_t x0 = vqtbl1q_s8(table, vandq_u8(q, vdupq_n_u8(0x0f)));
    const int8x16_t x1 = vqtbl1q_s8(table, vshrq_n_u8(q, 4));
    sym_blk(x0, x1, fp16(x->d), vy, st, i, NY, acc);
}
LEGACY_ROWS(iq4_nl, ingot_block_iq4_nl)

/* ---- K-quants against Q8_K ---- */

/* sum_k w[k] * bsums[k] over 16 int16 pairs. */
NEON_INLINE int32_t bsums_dot(const int16_t *bsums, int16x8_t w0, int16x8_t w1) {
    const int16x8_t b0 = vld1q_s16(bsums), b1 = vld1q_s16(bsums + 8);
    int32x4_t s = vmull_s16(vget_low_s16(b0), vget_low_s16(w0));
    s = vmlal_high_s16(s, b0, w0);
    s = vmlal_s16(s, vget_low_s16(b1), vget_low_s16(w1));
    s = vmlal_high_s16(s, b1, w1);
    return vaddvq_s32(s);
}

/* Adds 16 signed weights times row j's activations at qs offset `off`,
 * scaled by sc, for each row. */
#define ROWS16(q, off, sc)                                                                  \
    _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                                  \
        const ingot_block_q8_k *y = YROW(ingot_block_q8_k, vy, st, j) + i;                  \
        sumi[j] = vmlaq_n_s32(sumi[j], dot16(vdupq_n_s32(0), (q), vld1q_s8(y->qs + (off))), (sc)); \
    }
/* Same for 32 weights in two vectors. */
#define ROWS32(q0, q1, off, sc)                                                             \
    _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                                  \
        const ingot_block_q8_k *y = YROW(ingot_block_q8_k, vy, st, j) + i;                  \
        sumi[j] = vmlaq_n_s32(sumi[j], dot32((q0), (q1), y->qs + (off)), (sc));             \
    }

#define K_BEGIN(xtype)                                                                      \
    const xtype *x = vx;                                                                    \
    float32x4_t acc[4];                                                                     \
    float mins[4] = {0, 0, 0, 0};                                                           \
    for (int j = 0; j < 4; j++) acc[j] = vdupq_n_f32(0.0f);                                 \
    for (int64_t i = 0; i < n / QK; i++) {                                                  \
        int32x4_t sumi[4];                                                                  \
        for (int j = 0; j < 4; j++) sumi[j] = vdupq_n_s32(0);

/* msum_ is the integer min sum of row y (0 when the type has none). */
#define K_END(dx_, dminx_, msum_)                                                             \
        _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                              \
            const ingot_block_q8_k *y = YROW(ingot_block_q8_k, vy, st, j) + i;              \
            acc[j] = vfmaq_n_f32(acc[j], vcvtq_f32_s32(sumi[j]), y->d * (dx_));               \
            mins[j] += y->d * (dminx_) * (float)(msum_);                                    \
        }                                                                                   \
    }                                                                                       \
    for (int j = 0; j < NY; j++) s[j] = vaddvq_f32(acc[j]) - mins[j];

NEON_INLINE void q2_k_rows(int64_t n, float *s, const void *vx, const void *vy, size_t st,
                           const int NY) {
    K_BEGIN(ingot_block_q2_k)
    const uint8x16_t sm = vld1q_u8(x[i].scales);
    uint8_t sc[16];
    vst1q_u8(sc, vandq_u8(sm, vdupq_n_u8(0x0f)));
    const uint8x16_t mn = vshrq_n_u8(sm, 4);
    const int16x8_t m0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(mn)));
    const int16x8_t m1 = vreinterpretq_s16_u16(vmovl_high_u8(mn));
    for (int h = 0; h < 2; h++) {
        uint8x16_t c0 = vld1q_u8(x[i].qs + 32 * h), c1 = vld1q_u8(x[i].qs + 32 * h + 16);
        _Pragma("GCC unroll 4") for (int g = 0; g < 4; g++) {
            const int8x16_t q0 = vreinterpretq_s8_u8(vandq_u8(c0, vdupq_n_u8(3)));
            const int8x16_t q1 = vreinterpretq_s8_u8(vandq_u8(c1, vdupq_n_u8(3)));
            c0 = vshrq_n_u8(c0, 2);
            c1 = vshrq_n_u8(c1, 2);
            const int G = 4 * h + g;
            ROWS16(q0, 32 * G, sc[2 * G])
            ROWS16(q1, 32 * G + 16, sc[2 * G + 1])
        }
    }
    K_END(fp16(x[i].d), fp16(x[i].dmin), bsums_dot(y->bsums, m0, m1))
}
NEON_ENTRY_POINTS(q2_k)

NEON_INLINE void q3_k_rows(int64_t n, float *s, const void *vx, const void *vy, size_t st,
                           const int NY) {
    K_BEGIN(ingot_block_q3_k)
    const uint32_t a = rd32(x[i].scales), b = rd32(x[i].scales + 4), c = rd32(x[i].scales + 8);
    const uint32_t m4 = 0x0f0f0f0f, m2 = 0x03030303;
    const uint32_t w[4] = {(a & m4) | (c & m2) << 4, (b & m4) | ((c >> 2) & m2) << 4,
                           ((a >> 4) & m4) | ((c >> 4) & m2) << 4,
                           ((b >> 4) & m4) | ((c >> 6) & m2) << 4};
    int8_t sc[16];
    vst1q_s8(sc, vsubq_s8(vreinterpretq_s8_u32(vld1q_u32(w)), vdupq_n_s8(32)));
    uint8x16_t h0 = vld1q_u8(x[i].hmask), h1 = vld1q_u8(x[i].hmask + 16);
    const int8x16_t four = vdupq_n_s8(4);
    for (int h = 0; h < 2; h++) {
        uint8x16_t c0 = vld1q_u8(x[i].qs + 32 * h), c1 = vld1q_u8(x[i].qs + 32 * h + 16);
        _Pragma("GCC unroll 4") for (int g = 0; g < 4; g++) {
            const uint8x16_t u0 = vorrq_u8(vandq_u8(c0, vdupq_n_u8(3)),
                                           vandq_u8(vshlq_n_u8(h0, 2), vdupq_n_u8(4)));
            const uint8x16_t u1 = vorrq_u8(vandq_u8(c1, vdupq_n_u8(3)),
                                           vandq_u8(vshlq_n_u8(h1, 2), vdupq_n_u8(4)));
            c0 = vshrq_n_u8(c0, 2);
            c1 = vshrq_n_u8(c1, 2);
            h0 = vshrq_n_u8(h0, 1);
            h1 = vshrq_n_u8(h1, 1);
            const int8x16_t q0 = vsubq_s8(vreinterpretq_s8_u8(u0), four);
            const int8x16_t q1 = vsubq_s8(vreinterpretq_s8_u8(u1), four);
            const int G = 4 * h + g;
            ROWS16(q0, 32 * G, sc[2 * G])
            ROWS16(q1, 32 * G + 16, sc[2 * G + 1])
        }
    }
    K_END(fp16(x[i].d), 0.0f, 0)
}
NEON_ENTRY_POINTS(q3_k)

/* Q4_K/Q5_K scales and mins (6 bits each) of one super-block. */
NEON_INLINE void k4_scales(const uint8_t *p, uint8_t sc[8], int16x8_t *mins) {
    const uint32_t a = rd32(p), b = rd32(p + 4), c = rd32(p + 8);
    const uint32_t m6 = 0x3f3f3f3f, m4 = 0x0f0f0f0f, h2 = 0x30303030;
    const uint32_t w[4] = {a & m6, (c & m4) | ((a >> 2) & h2), b & m6,
                           ((c >> 4) & m4) | ((b >> 2) & h2)};
    memcpy(sc, w, 8);
    *mins = vreinterpretq_s16_u16(vmovl_u8(vld1_u8((const uint8_t *)w + 8)));
}

/* sum_k m[k] * (bsums[2k] + bsums[2k+1]) */
NEON_INLINE int32_t k4_msum(const int16_t *bsums, int16x8_t mins) {
    const int16x8_t pairs = vpaddq_s16(vld1q_s16(bsums), vld1q_s16(bsums + 8));
    return vaddvq_s32(vmlal_high_s16(vmull_s16(vget_low_s16(pairs), vget_low_s16(mins)), pairs, mins));
}

NEON_INLINE void q4_k_rows(int64_t n, float *s, const void *vx, const void *vy, size_t st,
                           const int NY) {
    K_BEGIN(ingot_block_q4_k)
    uint8_t sc[8];
    int16x8_t mn;
    k4_scales(x[i].scales, sc, &mn);
    const uint8x16_t m4 = vdupq_n_u8(0x0f);
    _Pragma("GCC unroll 4") for (int k = 0; k < 4; k++) {
        const uint8x16_t q0 = vld1q_u8(x[i].qs + 32 * k), q1 = vld1q_u8(x[i].qs + 32 * k + 16);
        const int8x16_t l0 = vreinterpretq_s8_u8(vandq_u8(q0, m4));
        const int8x16_t l1 = vreinterpretq_s8_u8(vandq_u8(q1, m4));
        const int8x16_t h0 = vreinterpretq_s8_u8(vshrq_n_u8(q0, 4));
        const int8x16_t h1 = vreinterpretq_s8_u8(vshrq_n_u8(q1, 4));
        ROWS32(l0, l1, 64 * k, sc[2 * k])
        ROWS32(h0, h1, 64 * k + 32, sc[2 * k + 1])
    }
    K_END(fp16(x[i].d), fp16(x[i].dmin), k4_msum(y->bsums, mn))
}
NEON_ENTRY_POINTS(q4_k)

NEON_INLINE void q5_k_rows(int64_t n, float *s, const void *vx, const void *vy, size_t st,
                           const int NY) {
    K_BEGIN(ingot_block_q5_k)
    uint8_t sc[8];
    int16x8_t mn;
    k4_scales(x[i].scales, sc, &mn);
    const uint8x16_t m4 = vdupq_n_u8(0x0f), b4 = vdupq_n_u8(0x10);
    uint8x16_t hb0 = vld1q_u8(x[i].qh), hb1 = vld1q_u8(x[i].qh + 16);
    _Pragma("GCC unroll 4") for (int k = 0; k < 4; k++) {
        const uint8x16_t q0 = vld1q_u8(x[i].qs + 32 * k), q1 = vld1q_u8(x[i].qs + 32 * k + 16);
        const int8x16_t l0 = vreinterpretq_s8_u8(
            vorrq_u8(vandq_u8(q0, m4), vandq_u8(vshlq_n_u8(hb0, 4), b4)));
        const int8x16_t l1 = vreinterpretq_s8_u8(
            vorrq_u8(vandq_u8(q1, m4), vandq_u8(vshlq_n_u8(hb1, 4), b4)));
        const int8x16_t h0 = vreinterpretq_s8_u8(
            vorrq_u8(vshrq_n_u8(q0, 4), vandq_u8(vshlq_n_u8(hb0, 3), b4)));
        const int8x16_t h1 = vreinterpretq_s8_u8(
            vorrq_u8(vshrq_n_u8(q1, 4), vandq_u8(vshlq_n_u8(hb1, 3), b4)));
        hb0 = vshrq_n_u8(hb0, 2);
        hb1 = vshrq_n_u8(hb1, 2);
        ROWS32(l0, l1, 64 * k, sc[2 * k])
        ROWS32(h0, h1, 64 * k + 32, sc[2 * k + 1])
    }
    K_END(fp16(x[i].d), fp16(x[i].dmin), k4_msum(y->bsums, mn))
}
NEON_ENTRY_POINTS(q5_k)

NEON_INLINE void q6_k_rows(int64_t n, float *s, const void *vx, const void *vy, size_t st,
                           const int NY) {
    K_BEGIN(ingot_block_q6_k)
    const int8_t *sc = x[i].scales;
    const uint8x16_t m4 = vdupq_n_u8(0x0f), m30 = vdupq_n_u8(0x30);
    const int8x16_t off = vdupq_n_s8(32);
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = x[i].ql + 64 * h, *qh = x[i].qh + 32 * h;
        uint8x16_t l[4], hb[2];
        for (int k = 0; k < 4; k++) l[k] = vld1q_u8(ql + 16 * k);
        hb[0] = vld1q_u8(qh);
        hb[1] = vld1q_u8(qh + 16);
        _Pragma("GCC unroll 4") for (int g = 0; g < 4; g++) {
            /* group g: low nibbles of ql[32*(g%2)..] (g < 2) or high ones,
             * bit pair g of qh */
            _Pragma("GCC unroll 2") for (int v = 0; v < 2; v++) {
                const uint8x16_t lb = l[2 * (g % 2) + v];
                const uint8x16_t lo = g < 2 ? vandq_u8(lb, m4) : vshrq_n_u8(lb, 4);
                const uint8x16_t hi = vandq_u8(vshlq_n_u8(hb[v], 4), m30);
                const int8x16_t q = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo, hi)), off);
                const int e = 128 * h + 32 * g + 16 * v;
                ROWS16(q, e, sc[e / 16])
            }
            hb[0] = vshrq_n_u8(hb[0], 2);
            hb[1] = vshrq_n_u8(hb[1], 2);
        }
    }
    K_END(fp16(x[i].d), 0.0f, 0)
}
NEON_ENTRY_POINTS(q6_k)

NEON_INLINE void iq4_xs_rows(int64_t n, float *s, const void *vx, const void *vy, size_t st,
                             const int NY) {
    const int8x16_t table = vld1q_s8(ingot_iq4nl_values);
    K_BEGIN(ingot_block_iq4_xs)
    _Pragma("GCC unroll 8") for (int ib = 0; ib < 8; ib++) {
        const int ls = (((x[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0f) |
                        ((x[i].scales_h >> (2 * ib)) & 3) << 4) - 32;
        const uint8x16_t q = vld1q_u8(x[i].qs + 16 * ib);
        const int8x16_t q0 = vqtbl1q_s8(table, vandq_u8(q, vdupq_n_u8(0x0f)));
        const int8x16_t q1 = vqtbl1q_s8(table, vshrq_n_u8(q, 4));
        ROWS32(q0, q1, 32 * ib, ls)
    }
    K_END(fp16(x[i].d), 0.0f, 0)
}
NEON_ENTRY_POINTS(iq4_xs)

/* ---- activation quantizers (bit-identical to kernels.c's reference) ---- */

/* Four int32x4 -> 16 int8 (values already in int8 range). */
NEON_INLINE int8x16_t narrow16(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
    const int16x8_t lo = vcombine_s16(vqmovn_s32(a), vqmovn_s32(b));
    const int16x8_t hi = vcombine_s16(vqmovn_s32(c), vqmovn_s32(d));
    return vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi));
}

/* 32 floats, scale 127/amax, ties to even (vcvtnq); returns d, sum of q. */
NEON_INLINE float q8_block(const float *x, int8_t *qs, int32_t *sum) {
    float32x4_t v[8];
    float32x4_t m = vdupq_n_f32(0.0f);
    for (int k = 0; k < 8; k++) {
        v[k] = vld1q_f32(x + 4 * k);
        m = vmaxq_f32(m, vabsq_f32(v[k]));
    }
    const float amax = vmaxvq_f32(m);
    float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    if (!isfinite(id)) id = 0.0f; /* as the reference: amax tiny, d is 0 anyway */
    int32x4_t q[8], t = vdupq_n_s32(0);
    for (int k = 0; k < 8; k++) {
        q[k] = vcvtnq_s32_f32(vmulq_n_f32(v[k], id));
        t = vaddq_s32(t, q[k]);
    }
    vst1q_s8(qs, narrow16(q[0], q[1], q[2], q[3]));
    vst1q_s8(qs + 16, narrow16(q[4], q[5], q[6], q[7]));
    *sum = vaddvq_s32(t);
    return amax / 127.0f;
}

static void act_q8_0_neon(const float *x, void *vy, int64_t n) {
    ingot_block_q8_0 *y = vy;
    int32_t sum;
    for (int64_t i = 0; i < n / 32; i++, x += 32)
        y[i].d = ingot_fp32_to_fp16(q8_block(x, y[i].qs, &sum));
}

static void act_q8_1_neon(const float *x, void *vy, int64_t n) {
    ingot_block_q8_1 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        int32_t sum;
        const float d = q8_block(x, y[i].qs, &sum);
        y[i].d = ingot_fp32_to_fp16(d);
        y[i].s = ingot_fp32_to_fp16(d * (float)sum);
    }
}

static void act_q8_k_neon(const float *x, void *vy, int64_t n) {
    ingot_block_q8_k *y = vy;
    for (int64_t i = 0; i < n / QK; i++, x += QK) {
        float32x4_t m = vdupq_n_f32(0.0f);
        for (int k = 0; k < QK; k += 4) m = vmaxq_f32(m, vabsq_f32(vld1q_f32(x + k)));
        const float amax = vmaxvq_f32(m);
        if (amax == 0.0f) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        float max = 0; /* the first element of largest magnitude */
        for (int k = 0; k < QK; k++)
            if (fabsf(x[k]) == amax) { max = x[k]; break; }
        const float iscale = -127.0f / max;
        if (!isfinite(iscale)) { /* subnormal extreme: the reference's clamping, rarely */
            ingot_q8_k_from_float(x, &y[i], QK);
            continue;
        }
        const int32x4_t lo = vdupq_n_s32(-127), hi = vdupq_n_s32(127);
        for (int k = 0; k < QK; k += 16) {
            int32x4_t q[4];
            for (int l = 0; l < 4; l++)
                q[l] = vminq_s32(vmaxq_s32(vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + k + 4 * l), iscale)), lo), hi);
            vst1q_s8(y[i].qs + k, narrow16(q[0], q[1], q[2], q[3]));
            y[i].bsums[k / 16] = (int16_t)vaddvq_s32(vaddq_s32(vaddq_s32(q[0], q[1]), vaddq_s32(q[2], q[3])));
        }
        y[i].d = 1.0f / iscale;
    }
}

static void act_f16_neon(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1_u16(y + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(x + i))));
    for (; i < n; i++) y[i] = ingot_fp32_to_fp16(x[i]);
}

static void act_bf16_neon(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint32x4_t v = vld1q_u32((const uint32_t *)(x + i));
        const uint32x4_t top = vshrq_n_u32(v, 16);
        const uint32x4_t r = vshrq_n_u32(
            vaddq_u32(v, vaddq_u32(vdupq_n_u32(0x7fff), vandq_u32(top, vdupq_n_u32(1)))), 16);
        const uint32x4_t nan = vcgtq_u32(vandq_u32(v, vdupq_n_u32(0x7fffffff)), vdupq_n_u32(0x7f800000));
        vst1_u16(y + i, vmovn_u32(vbslq_u32(nan, vorrq_u32(top, vdupq_n_u32(64)), r)));
    }
    for (; i < n; i++) y[i] = ingot_fp32_to_bf16(x[i]);
}

#define SET(id, pre)                                                                        \
    (k->vec_dot[INGOT_TYPE_##id] = pre##_dot, k->vec_dot_n[INGOT_TYPE_##id] = pre##_dot_n,   \
     k->gemm[INGOT_TYPE_##id] = pre##_gemm)

void ingot_kernels_fill_neon(ingot_kernels *k) {
    SET(F32, f32);
    SET(F16, f16);
    SET(BF16, bf16);
    SET(Q4_0, q4_0);
    SET(Q4_1, q4_1);
    SET(Q5_0, q5_0);
    SET(Q5_1, q5_1);
    SET(Q8_0, q8_0);
    SET(IQ4_NL, iq4_nl);
    SET(Q2_K, q2_k);
    SET(Q3_K, q3_k);
    SET(Q4_K, q4_k);
    SET(Q5_K, q5_k);
    SET(Q6_K, q6_k);
    SET(IQ4_XS, iq4_xs);
    k->quantize_act[INGOT_TYPE_F16] = act_f16_neon;
    k->quantize_act[INGOT_TYPE_BF16] = act_bf16_neon;
    k->quantize_act[INGOT_TYPE_Q8_0] = act_q8_0_neon;
    k->quantize_act[INGOT_TYPE_Q8_1] = act_q8_1_neon;
    k->quantize_act[INGOT_TYPE_Q8_K] = act_q8_k_neon;
}
#undef SET
#endif
