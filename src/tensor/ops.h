/* Numeric building blocks of the forward pass: norms, activations, rope,
 * softmax, and the weight-times-activations product. Everything here is a
 * pure function of its inputs and (ith, nth), meant to run inside one pool
 * task: callers put ingot_pool_barrier between dependent stages. */
#ifndef INGOT_TENSOR_OPS_H
#define INGOT_TENSOR_OPS_H
#include <stddef.h>
#include <stdint.h>

#include "base/pool.h"
#include "tensor/pack.h"
#include "tensor/types.h"

/* A 2-D weight: ne1 rows of ne0 elements, each row row_bytes long. */
typedef struct ingot_weight {
    ingot_type type;
    int64_t ne0; /* input features (row length) */
    int64_t ne1; /* output features (rows) */
    size_t row_bytes;
    const void *data;
    /* The same rows in the packed layout of tensor/pack.h (groups of 16
     * rows, group_bytes each), or NULL: products then use the packed
     * kernel of the chosen kernel set. `data` stays valid either way. */
    const void *packed;
    size_t group_bytes;
} ingot_weight;

/* Whether products with w would use packed kernels in the chosen set, and
 * then the bytes of its packed form (0: leave it unpacked). */
size_t ingot_weight_pack_size(const ingot_weight *w);

/* The type activations are converted to before a product with w. */
ingot_type ingot_weight_act_type(const ingot_weight *w);
/* Bytes of one converted activation row (64-byte multiple), 0 for F32. */
size_t ingot_act_row_bytes(const ingot_weight *w);

/* Converts rows [lo, hi) of x ([n][ne0] floats) to `type` (the weights'
 * activation type) into dst (rows row_bytes apart). Split across threads
 * by row; run before the products that read dst. */
void ingot_act_convert(int ith, int nth, ingot_type type, const float *x, int64_t n, int64_t ne0,
                       void *dst, size_t row_bytes);
/* Whether products with w read their activations from an
 * ingot_packed_act layout (the chosen set's packed kernel for w's type
 * wants them so); then convert with ingot_act_convert_packed. */
int ingot_act_wants_packed(const ingot_weight *w);
/* As ingot_act_convert, and each converted row also goes into pa (laid
 * out for pa->rows = n rows of ne0 / 32 blocks; NULL: as
 * ingot_act_convert). */
void ingot_act_convert_packed(int ith, int nth, ingot_type type, const float *x, int64_t n, int64_t ne0,
                              void *dst, size_t row_bytes, const ingot_packed_act *pa);
/* One row of that conversion: x (ne0 floats) into row, which is row i
 * of dst, and into pa when pa is not NULL. type is not F32. */
void ingot_act_convert_row(ingot_type type, const float *x, int64_t ne0, void *row, int64_t i,
                           const ingot_packed_act *pa);

/* One product y[t][r] = dot(w row r, act row t) for t < n, r < w->ne1. */
typedef struct ingot_mm_job {
    const ingot_weight *w;
    const void *act;   /* converted rows (or the floats themselves for F32) */
    size_t act_row;    /* bytes between activation rows */
    float *y;          /* output, rows ldy floats apart */
    int64_t ldy;
    /* the same activations in the layout of the packed kernel, when
     * ingot_act_wants_packed(w) (else NULL: read from act) */
    const ingot_packed_act *pact;
} ingot_mm_job;

/* Runs several products over the same n activation rows (e.g. q, k and v)
 * as one pool of output rows split evenly across threads (each thread
 * calls it with its ith). */
void ingot_mm_run(int ith, int nth, const ingot_mm_job *jobs, int n_jobs, int64_t n);
/* The same inside a task of pool: packed weights are handed out in units
 * through ingot_pool_take, so the call must sit between two barriers (or
 * the task's start and a barrier or its end) with no other taker there.
 * pool NULL: as ingot_mm_run. */
void ingot_mm_run_pool(ingot_pool *pool, int ith, int nth, const ingot_mm_job *jobs, int n_jobs, int64_t n);

/* Convenience for code outside a task: convert + product on the pool.
 * scratch: ingot_matmul_scratch_bytes(w, n) bytes, 64-byte aligned. */
size_t ingot_matmul_scratch_bytes(const ingot_weight *w, int64_t n);
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

/* cs[2i], cs[2i+1] = cos, sin of theta_i = pos * freq_scale *
 * base^(-2i/n_rot) / factors[i] (factors may be NULL), times attn_factor,
 * for i < n_rot/2. Computed once per token, shared by all heads/layers. */
void ingot_rope_cache(float *cs, int n_rot, int32_t pos, float base, float freq_scale,
                      const float *factors, float attn_factor);
/* Rotates the first n_rot dims of each of n_head vectors of head_dim. */
void ingot_rope_apply(float *x, int n_head, int head_dim, int n_rot, const float *cs,
                      ingot_rope_style style);

void ingot_softmax(float *x, int64_t n);
float ingot_silu(float x);
float ingot_gelu_tanh(float x);
#endif
