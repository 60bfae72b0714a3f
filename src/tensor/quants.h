/* Quantized block layouts, exactly as GGUF stores them (little-endian, fp16
 * scales kept as raw uint16_t bits), and the scalar reference kernels of
 * every type: to_float (dequantize), from_float (quantize from F32) and
 * vec_dot (weights x activations in the type's vec_dot_type). These
 * kernels are the oracle for any SIMD version; the traits table in
 * types.c points at them. Every n is a multiple of the type's block size. */
#ifndef INGOT_TENSOR_QUANTS_H
#define INGOT_TENSOR_QUANTS_H
#include <stdint.h>

#define INGOT_QK4_0 32
#define INGOT_QK4_1 32
#define INGOT_QK5_0 32
#define INGOT_QK5_1 32
#define INGOT_QK8_0 32
#define INGOT_QK8_1 32
#define INGOT_QK4_NL 32
#define INGOT_QK_K 256
#define INGOT_K_SCALE_SIZE 12 /* bytes of packed 6-bit scales (Q3_K..Q5_K) */

/* y = d * (q - 8), q in 0..15; element j in low nibble of qs[j], j+16 high */
typedef struct { uint16_t d; uint8_t qs[INGOT_QK4_0 / 2]; } ingot_block_q4_0;
/* y = d * q + m */
typedef struct { uint16_t d, m; uint8_t qs[INGOT_QK4_1 / 2]; } ingot_block_q4_1;
/* y = d * (q - 16), q's 5th bit in qh (bit j of the little-endian u32) */
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[INGOT_QK5_0 / 2]; } ingot_block_q5_0;
/* y = d * q + m */
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[INGOT_QK5_1 / 2]; } ingot_block_q5_1;
/* y = d * q */
typedef struct { uint16_t d; int8_t qs[INGOT_QK8_0]; } ingot_block_q8_0;
/* y = d * q; s = d * sum(q), which lets Q4_1/Q5_1 dots fold in their min */
typedef struct { uint16_t d, s; int8_t qs[INGOT_QK8_1]; } ingot_block_q8_1;

/* 16 sub-blocks of 16; scales[i] = scale (low nibble) | min (high nibble);
 * y = d * sc * q - dmin * m, q 2 bits. */
typedef struct {
    uint8_t scales[INGOT_QK_K / 16];
    uint8_t qs[INGOT_QK_K / 4];
    uint16_t d, dmin;
} ingot_block_q2_k;
/* 16 sub-blocks of 16, 6-bit signed scales (offset 32); q = 2 low bits in
 * qs + high bit in hmask, y = d * (sc - 32) * (q - 4). */
typedef struct {
    uint8_t hmask[INGOT_QK_K / 8];
    uint8_t qs[INGOT_QK_K / 4];
    uint8_t scales[INGOT_K_SCALE_SIZE];
    uint16_t d;
} ingot_block_q3_k;
/* 8 sub-blocks of 32 with 6-bit scale and min; y = d * sc * q - dmin * m. */
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[INGOT_K_SCALE_SIZE];
    uint8_t qs[INGOT_QK_K / 2];
} ingot_block_q4_k;
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[INGOT_K_SCALE_SIZE];
    uint8_t qh[INGOT_QK_K / 8];
    uint8_t qs[INGOT_QK_K / 2];
} ingot_block_q5_k;
/* 16 sub-blocks of 16, int8 scales; y = d * sc * (q - 32), q 6 bits. */
typedef struct {
    uint8_t ql[INGOT_QK_K / 2];
    uint8_t qh[INGOT_QK_K / 4];
    int8_t scales[INGOT_QK_K / 16];
    uint16_t d;
} ingot_block_q6_k;
/* Activations for K-quant dots: float scale, bsums = sums of 16 qs. */
typedef struct {
    float d;
    int8_t qs[INGOT_QK_K];
    int16_t bsums[INGOT_QK_K / 16];
} ingot_block_q8_k;

/* y = d * kvalues[q] (non-linear 4-bit grid) */
typedef struct { uint16_t d; uint8_t qs[INGOT_QK4_NL / 2]; } ingot_block_iq4_nl;
/* 8 sub-blocks of 32 with 6-bit scales (offset 32), split in low nibbles
 * (scales_l) and 2 high bits each (scales_h); y = d * (ls - 32) * kvalues[q]. */
typedef struct {
    uint16_t d;
    uint16_t scales_h;
    uint8_t scales_l[INGOT_QK_K / 64];
    uint8_t qs[INGOT_QK_K / 2];
} ingot_block_iq4_xs;

_Static_assert(sizeof(ingot_block_q4_0) == 18, "q4_0 block");
_Static_assert(sizeof(ingot_block_q4_1) == 20, "q4_1 block");
_Static_assert(sizeof(ingot_block_q5_0) == 22, "q5_0 block");
_Static_assert(sizeof(ingot_block_q5_1) == 24, "q5_1 block");
_Static_assert(sizeof(ingot_block_q8_0) == 34, "q8_0 block");
_Static_assert(sizeof(ingot_block_q8_1) == 36, "q8_1 block");
_Static_assert(sizeof(ingot_block_q2_k) == 84, "q2_K block");
_Static_assert(sizeof(ingot_block_q3_k) == 110, "q3_K block");
_Static_assert(sizeof(ingot_block_q4_k) == 144, "q4_K block");
_Static_assert(sizeof(ingot_block_q5_k) == 176, "q5_K block");
_Static_assert(sizeof(ingot_block_q6_k) == 210, "q6_K block");
_Static_assert(sizeof(ingot_block_q8_k) == 292, "q8_K block");
_Static_assert(sizeof(ingot_block_iq4_nl) == 18, "iq4_nl block");
_Static_assert(sizeof(ingot_block_iq4_xs) == 136, "iq4_xs block");

/* The 16 levels of IQ4_NL / IQ4_XS (part of the format). */
extern const int8_t ingot_iq4nl_values[16];

/* Unpacks the j-th (0..7) 6-bit scale and min of a Q4_K/Q5_K block. */
void ingot_k4_scale_min(int j, const uint8_t *scales, uint8_t *sc, uint8_t *m);
/* Unpacks the 16 6-bit scales of a Q3_K block, minus 32. */
void ingot_q3_k_scales(const uint8_t *packed, int8_t out[16]);

/* ---- float types (quant_float.c) ---- */
void ingot_f32_to_float(const void *x, float *y, int64_t n);
void ingot_f32_from_float(const float *x, void *y, int64_t n);
void ingot_f32_vec_dot(int64_t n, float *s, const void *x, const void *y);
void ingot_f16_to_float(const void *x, float *y, int64_t n);
void ingot_f16_from_float(const float *x, void *y, int64_t n);
void ingot_f16_vec_dot(int64_t n, float *s, const void *x, const void *y);
void ingot_bf16_to_float(const void *x, float *y, int64_t n);
void ingot_bf16_from_float(const float *x, void *y, int64_t n);
void ingot_bf16_vec_dot(int64_t n, float *s, const void *x, const void *y);

/* ---- 32-element block types (quant_legacy.c) ---- */
void ingot_q4_0_to_float(const void *x, float *y, int64_t n);
void ingot_q4_0_from_float(const float *x, void *y, int64_t n);
void ingot_q4_0_vec_dot(int64_t n, float *s, const void *x, const void *y);
void ingot_q4_1_to_float(const void *x, float *y, int64_t n);
void ingot_q4_1_from_float(const float *x, void *y, int64_t n);
void ingot_q4_1_vec_dot(int64_t n, float *s, const void *x, const void *y);
void ingot_q5_0_to_float(const void *x, float *y, int64_t n);
void ingot_q5_0_from_float(const float *x, void *y, int64_t n);
void ingot_q5_0_vec_dot(int64_t n, float *s, const void *x, const void *y);
void ingot_q5_1_to_float(const void *x, float *y, int64_t n);
void ingot_q5_1_from_float(const float *x, void *y, int64_t n);
void ingot_q5_1_vec_dot(int64_t n, float *s, const void *x, const void *y);
void ingot_q8_0_to_float(const void *x, float *y, int64_t n);
void ingot_q8_0_from_float(const float *x, void *y, int64_t n);
void ingot_q8_0_vec_dot(int64_t n, float *s, const void *x, const void *y);
void ingot_q8_1_to_float(const void *x, float *y, int64_t n);
void ingot_q8_1_from_float(const float *x, void *y, int64_t n);

/* ---- K-quants (quant_k.c: layouts, dequantization, dots;
 *      quant_k_quantize.c: quantizers) ---- */
void ingot_q2_k_to_float(const void *x, float *y, int64_t n);
void ingot_q2_k_from_float(const float *x, void *y, int64_t n);
void ingot_q2_k_vec_dot(int64_t n, float *s, const void *x, const void *y);
void ingot_q3_k_to_float(const void *x, float *y, int64_t n);
void ingot_q3_k_from_float(const float *x, void *y, int64_t n);
void ingot_q3_k_vec_dot(int64_t n, float *s, const void *x, const void *y);
void ingot_q4_k_to_float(const void *x, float *y, int64_t n);
void ingot_q4_k_from_float(const float *x, void *y, int64_t n);
void ingot_q4_k_vec_dot(int64_t n, float *s, const void *x, const void *y);
void ingot_q5_k_to_float(const void *x, float *y, int64_t n);
void ingot_q5_k_from_float(const float *x, void *y, int64_t n);
void ingot_q5_k_vec_dot(int64_t n, float *s, const void *x, const void *y);
void ingot_q6_k_to_float(const void *x, float *y, int64_t n);
void ingot_q6_k_from_float(const float *x, void *y, int64_t n);
void ingot_q6_k_vec_dot(int64_t n, float *s, const void *x, const void *y);
void ingot_q8_k_to_float(const void *x, float *y, int64_t n);
void ingot_q8_k_from_float(const float *x, void *y, int64_t n);

/* ---- non-linear 4-bit types (quant_iq.c) ---- */
void ingot_iq4_nl_to_float(const void *x, float *y, int64_t n);
void ingot_iq4_nl_from_float(const float *x, void *y, int64_t n);
void ingot_iq4_nl_vec_dot(int64_t n, float *s, const void *x, const void *y);
void ingot_iq4_xs_to_float(const void *x, float *y, int64_t n);
void ingot_iq4_xs_from_float(const float *x, void *y, int64_t n);
void ingot_iq4_xs_vec_dot(int64_t n, float *s, const void *x, const void *y);

/* ---- helpers shared by the quantizers ---- */
#include <math.h>
/* Nearest integer (ties to even, as the formats' reference quantizers
 * round), clamped to [lo, hi]; NaN maps to lo instead of undefined
 * behaviour, so garbage weights give garbage blocks, never a crash. */
static inline int ingot_q_round(float v, int lo, int hi) {
    if (!(v >= (float)lo)) return lo;
    if (v >= (float)hi) return hi;
    return (int)lrintf(v);
}
/* Same with ties away from zero (roundf), which Q8_0/Q8_1 use. */
static inline int ingot_q_round_away(float v, int lo, int hi) {
    if (!(v >= (float)lo)) return lo;
    if (v >= (float)hi) return hi;
    return (int)roundf(v);
}
/* Truncation toward zero of a value expected in [0, hi + 1). */
static inline int ingot_q_trunc(float v, int hi) {
    if (!(v >= 0.0f)) return 0;
    if (v >= (float)hi) return hi;
    return (int)v;
}
#endif
