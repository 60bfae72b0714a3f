/* Owns the reference implementations of the forward pass's element-wise
 * ops and the threaded weight x activations product. Activations are
 * converted to the weight type's vec_dot_type first (as llama.cpp does, so
 * quantized models see the same rounding), then each thread computes a
 * contiguous range of output rows for every token. */
#include "tensor/ops.h"

#include <math.h>
#include <string.h>

#include "tensor/quants.h"

/* Activation rows for Q8_0/Q8_1 dots are quantized the way llama.cpp's
 * SIMD x86/ARM paths do it at run time — scale 127/amax and ties to even —
 * which differs from the reference weight quantizer (1/(amax/127), ties
 * away) in the last bit. The difference flips a few int8 values per row,
 * and random-weight parity fixtures amplify such flips. */
static void act_q8_0(const float *x, void *vy, int64_t n) {
    ingot_block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[i].d = ingot_fp32_to_fp16(d);
        for (int j = 0; j < 32; j++) y[i].qs[j] = (int8_t)nearbyintf(x[j] * id);
    }
}

static void act_q8_1(const float *x, void *vy, int64_t n) {
    ingot_block_q8_1 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            y[i].qs[j] = (int8_t)nearbyintf(x[j] * id);
            sum += y[i].qs[j];
        }
        y[i].d = ingot_fp32_to_fp16(d);
        y[i].s = ingot_fp32_to_fp16(d * (float)sum);
    }
}

static ingot_from_float_fn act_quantizer(ingot_type vec_dot_type) {
    if (vec_dot_type == INGOT_TYPE_Q8_0) return act_q8_0;
    if (vec_dot_type == INGOT_TYPE_Q8_1) return act_q8_1;
    return ingot_type_traits_get(vec_dot_type)->from_float;
}

size_t ingot_matmul_scratch(const ingot_weight *w, int64_t n) {
    const ingot_type_traits *tr = ingot_type_traits_get(w->type);
    if (!tr || tr->vec_dot_type == INGOT_TYPE_F32) return 0;
    size_t row = ingot_type_row_size(tr->vec_dot_type, w->ne0);
    row = (row + 63) & ~(size_t)63;
    return row * (size_t)n;
}

typedef struct {
    const ingot_weight *w;
    const float *x;
    int64_t n;
    float *y;
    int64_t ldy;
    char *q;        /* converted activations */
    size_t q_row;   /* stride of q rows */
} matmul_task;

static void matmul_convert(void *arg, int ith, int nth) {
    matmul_task *t = arg;
    const ingot_type_traits *tr = ingot_type_traits_get(t->w->type);
    ingot_from_float_fn quantize = act_quantizer(tr->vec_dot_type);
    long long lo, hi;
    ingot_split(t->n, ith, nth, &lo, &hi);
    for (long long i = lo; i < hi; i++)
        quantize(t->x + i * t->w->ne0, t->q + (size_t)i * t->q_row, t->w->ne0);
}

static void matmul_rows(void *arg, int ith, int nth) {
    matmul_task *t = arg;
    const ingot_weight *w = t->w;
    const ingot_type_traits *tr = ingot_type_traits_get(w->type);
    long long lo, hi;
    ingot_split(w->ne1, ith, nth, &lo, &hi);
    const char *base = w->data;
    for (long long r = lo; r < hi; r++) {
        const void *row = base + (size_t)r * w->row_bytes;
        for (int64_t i = 0; i < t->n; i++) {
            const void *xi = t->q ? (const void *)(t->q + (size_t)i * t->q_row)
                                  : (const void *)(t->x + i * w->ne0);
            tr->vec_dot(w->ne0, &t->y[i * t->ldy + r], row, xi);
        }
    }
}

void ingot_matmul(ingot_pool *pool, const ingot_weight *w, const float *x, int64_t n, float *y,
                  int64_t ldy, void *scratch) {
    const ingot_type_traits *tr = ingot_type_traits_get(w->type);
    matmul_task t = {w, x, n, y, ldy, NULL, 0};
    if (tr->vec_dot_type != INGOT_TYPE_F32) {
        t.q = scratch;
        t.q_row = (ingot_type_row_size(tr->vec_dot_type, w->ne0) + 63) & ~(size_t)63;
        ingot_pool_run(pool, matmul_convert, &t);
    }
    ingot_pool_run(pool, matmul_rows, &t);
}

void ingot_weight_row(const ingot_weight *w, int64_t row, float *out) {
    const ingot_type_traits *tr = ingot_type_traits_get(w->type);
    tr->to_float((const char *)w->data + (size_t)row * w->row_bytes, out, w->ne0);
}

void ingot_rmsnorm(float *out, const float *x, const float *weight, int64_t n, float eps) {
    /* Sum of squares and scale in double: a few thousand squares lose
     * digits in float. */
    double ss = 0;
    for (int64_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    const float scale = (float)(1.0 / sqrt(ss / (double)n + eps));
    if (weight)
        for (int64_t i = 0; i < n; i++) out[i] = (x[i] * scale) * weight[i];
    else
        for (int64_t i = 0; i < n; i++) out[i] = x[i] * scale;
}

void ingot_rope(float *x, int n_head, int head_dim, int n_rot, int32_t pos, float base,
                float freq_scale, const float *factors, float attn_factor, ingot_rope_style style) {
    const float theta_scale = powf(base, -2.0f / (float)n_rot);
    for (int h = 0; h < n_head; h++) {
        float *v = x + (size_t)h * head_dim;
        float theta = (float)pos * freq_scale;
        for (int i = 0; i < n_rot / 2; i++) {
            float th = factors ? theta / factors[i] : theta;
            float c = cosf(th) * attn_factor, s = sinf(th) * attn_factor;
            int a, b;
            if (style == INGOT_ROPE_NORM) { a = 2 * i; b = 2 * i + 1; }
            else { a = i; b = i + n_rot / 2; }
            float x0 = v[a], x1 = v[b];
            v[a] = x0 * c - x1 * s;
            v[b] = x0 * s + x1 * c;
            theta *= theta_scale;
        }
    }
}

void ingot_softmax(float *x, int64_t n) {
    float mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) if (x[i] > mx) mx = x[i];
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        float e = (x[i] == -INFINITY) ? 0.0f : expf(x[i] - mx);
        x[i] = e;
        sum += e;
    }
    float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

float ingot_silu(float x) { return x / (1.0f + expf(-x)); }

float ingot_gelu_tanh(float x) {
    const float c = 0.7978845608028654f; /* sqrt(2/pi) */
    return 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x)));
}
