/* Numeric building blocks of the forward pass: norms, activations, rope,
 * softmax, and the weight-times-activations product. Kernels are pure
 * functions of (ith, nth); the *_mt wrappers spread them over the pool. */
#ifndef INGOT_TENSOR_OPS_H
#define INGOT_TENSOR_OPS_H
#include <stddef.h>
#include <stdint.h>

#include "base/pool.h"
#include "tensor/types.h"

/* A 2-D weight: ne1 rows of ne0 elements, each row row_bytes long. */
typedef struct ingot_weight {
    ingot_type type;
    int64_t ne0; /* input features (row length) */
    int64_t ne1; /* output features (rows) */
    size_t row_bytes;
    const void *data;
} ingot_weight;

/* Bytes of scratch ingot_matmul needs to hold n activation rows of length
 * ne0 converted to w's vec_dot_type. */
size_t ingot_matmul_scratch(const ingot_weight *w, int64_t n);

/* y[t][r] = dot(w row r, x[t]) for t < n, r < ne1 (y rows are ldy apart).
 * scratch: ingot_matmul_scratch bytes, 64-byte aligned. */
void ingot_matmul(ingot_pool *pool, const ingot_weight *w, const float *x, int64_t n, float *y,
                  int64_t ldy, void *scratch);

/* Dequantizes row `row` of w into out[ne0]. */
void ingot_weight_row(const ingot_weight *w, int64_t row, float *out);

/* out = x / rms(x) * weight (weight may be NULL: no scale). In place ok. */
void ingot_rmsnorm(float *out, const float *x, const float *weight, int64_t n, float eps);

typedef enum ingot_rope_style {
    INGOT_ROPE_NORM = 0, /* rotates adjacent pairs (x[2i], x[2i+1]) — llama */
    INGOT_ROPE_NEOX = 1  /* rotates (x[i], x[i + n/2]) — qwen, gemma, phi3 */
} ingot_rope_style;

/* Rotates the first n_rot dims of each of n_head vectors of head_dim at
 * position pos. theta_i = pos * freq_scale * base^(-2i/n_rot) / factors[i]
 * (factors may be NULL); attn_factor scales cos/sin (YaRN-style mscale, 1
 * otherwise). */
void ingot_rope(float *x, int n_head, int head_dim, int n_rot, int32_t pos, float base,
                float freq_scale, const float *factors, float attn_factor, ingot_rope_style style);

void ingot_softmax(float *x, int64_t n);
float ingot_silu(float x);
float ingot_gelu_tanh(float x);
#endif
