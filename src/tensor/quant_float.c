/* Reference kernels of the unquantized types F32, F16 and BF16: widening
 * to float, rounding from float (nearest even, as ggml does), and dot
 * products whose products are taken in float and summed in double, like
 * ggml's scalar reference, so that SIMD kernels have a precise oracle. */
#include "tensor/quants.h"
#include "tensor/types.h"

/* Results must not depend on the compiler fusing a*b+c into one rounding
 * (clang does by default): dequantization is compared bit for bit with
 * the reference and quantization block for block with llama-quantize. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include <string.h>

void ingot_f32_to_float(const void *x, float *y, int64_t n) {
    memcpy(y, x, (size_t)n * sizeof(float));
}

void ingot_f32_from_float(const float *x, void *y, int64_t n) {
    memcpy(y, x, (size_t)n * sizeof(float));
}

void ingot_f32_vec_dot(int64_t n, float *s, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += (double)(x[i] * y[i]);
    *s = (float)sum;
}

void ingot_f16_to_float(const void *vx, float *y, int64_t n) {
    const uint16_t *x = vx;
    for (int64_t i = 0; i < n; i++) y[i] = ingot_fp16_to_fp32(x[i]);
}

void ingot_f16_from_float(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    for (int64_t i = 0; i < n; i++) y[i] = ingot_fp32_to_fp16(x[i]);
}

void ingot_f16_vec_dot(int64_t n, float *s, const void *vx, const void *vy) {
    const uint16_t *x = vx, *y = vy;
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)(ingot_fp16_to_fp32(x[i]) * ingot_fp16_to_fp32(y[i]));
    *s = (float)sum;
}

void ingot_bf16_to_float(const void *vx, float *y, int64_t n) {
    const uint16_t *x = vx;
    for (int64_t i = 0; i < n; i++) y[i] = ingot_bf16_to_fp32(x[i]);
}

void ingot_bf16_from_float(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    for (int64_t i = 0; i < n; i++) y[i] = ingot_fp32_to_bf16(x[i]);
}

void ingot_bf16_vec_dot(int64_t n, float *s, const void *vx, const void *vy) {
    const uint16_t *x = vx, *y = vy;
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)(ingot_bf16_to_fp32(x[i]) * ingot_bf16_to_fp32(y[i]));
    *s = (float)sum;
}
