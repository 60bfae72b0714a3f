/* Owns the transformer forward pass shared by every supported family:
 * embeddings -> n_layer x (attention + gated FFN) -> final norm -> logits.
 * Family differences come from the hparams (rope style, norms present,
 * scales, sliding windows), so one readable loop serves all of them. */
#include <math.h>
#include <string.h>

#include "base/error.h"
#include "model/context.h"

typedef struct attn_task {
    ingot_context *c;
    int il;
    int32_t n, pos0;
    bool swa;
    float scale;
} attn_task;

static inline float kv_load(const ingot_context *c, const char *base, int64_t i) {
    if (c->kv_elt == 2) {
        uint16_t h;
        memcpy(&h, base + i * 2, 2);
        return ingot_fp16_to_fp32(h);
    }
    float f;
    memcpy(&f, base + i * 4, 4);
    return f;
}

static inline float round_like_kv(const ingot_context *c, float x) {
    /* With an F16 cache llama.cpp rounds the other operand of each
     * attention product to F16 too; doing the same keeps logits aligned. */
    return c->kv_elt == 2 ? ingot_fp16_to_fp32(ingot_fp32_to_fp16(x)) : x;
}

/* One (token, head) pair per work item: scores over the visible keys,
 * softmax, weighted sum of values. */
static void attn_worker(void *arg, int ith, int nth) {
    attn_task *t = arg;
    ingot_context *c = t->c;
    const ingot_hparams *hp = &c->model->hp;
    const int hd = hp->head_dim, nh = hp->n_head, group = hp->n_head / hp->n_head_kv;
    const size_t layer_off = (size_t)t->il * (size_t)c->n_ctx * (size_t)c->kv_dim * c->kv_elt;
    const char *kbase = c->kv_k + layer_off, *vbase = c->kv_v + layer_off;
    float *scores = c->scores + (size_t)ith * (size_t)c->n_ctx;
    float *qv = c->qtmp + (size_t)ith * (size_t)hd;
    long long lo, hi;
    ingot_split((long long)t->n * nh, ith, nth, &lo, &hi);
    for (long long item = lo; item < hi; item++) {
        int32_t ti = (int32_t)(item / nh);
        int h = (int)(item % nh), hk = h / group;
        int32_t p = t->pos0 + ti;
        int32_t first = 0;
        if (t->swa && p - hp->n_swa + 1 > 0) first = p - hp->n_swa + 1;
        const float *q = c->q + ((size_t)ti * nh + h) * hd;
        for (int d = 0; d < hd; d++) qv[d] = round_like_kv(c, q[d]);
        for (int32_t j = first; j <= p; j++) {
            const char *kr = kbase + ((size_t)j * c->kv_dim + (size_t)hk * hd) * c->kv_elt;
            float s = 0;
            for (int d = 0; d < hd; d++) s += qv[d] * kv_load(c, kr, d);
            s *= t->scale;
            if (hp->attn_softcap > 0) s = hp->attn_softcap * tanhf(s / hp->attn_softcap);
            scores[j - first] = s;
        }
        int32_t nk = p - first + 1;
        ingot_softmax(scores, nk);
        float *o = c->attn + ((size_t)ti * nh + h) * hd;
        for (int d = 0; d < hd; d++) o[d] = 0;
        for (int32_t j = first; j <= p; j++) {
            const char *vr = vbase + ((size_t)j * c->kv_dim + (size_t)hk * hd) * c->kv_elt;
            float w = round_like_kv(c, scores[j - first]);
            for (int d = 0; d < hd; d++) o[d] += w * kv_load(c, vr, d);
        }
    }
}

static void store_kv(ingot_context *c, int il, int32_t pos, const float *k, const float *v) {
    size_t off = ((size_t)il * (size_t)c->n_ctx + (size_t)pos) * (size_t)c->kv_dim;
    if (c->kv_elt == 2) {
        uint16_t *kd = (uint16_t *)c->kv_k + off, *vd = (uint16_t *)c->kv_v + off;
        for (int64_t i = 0; i < c->kv_dim; i++) {
            kd[i] = ingot_fp32_to_fp16(k[i]);
            vd[i] = ingot_fp32_to_fp16(v[i]);
        }
    } else {
        memcpy((float *)c->kv_k + off, k, (size_t)c->kv_dim * 4);
        memcpy((float *)c->kv_v + off, v, (size_t)c->kv_dim * 4);
    }
}

static void add_bias(float *x, const float *b, int64_t n) {
    if (b)
        for (int64_t i = 0; i < n; i++) x[i] += b[i];
}

static void head_norm(float *x, int n_head, int hd, const float *w, float eps) {
    if (!w) return;
    for (int h = 0; h < n_head; h++) ingot_rmsnorm(x + (size_t)h * hd, x + (size_t)h * hd, w, hd, eps);
}

static void attention_block(ingot_context *c, int il, int32_t n, int32_t pos0) {
    const ingot_model *m = c->model;
    const ingot_hparams *hp = &m->hp;
    const ingot_layer *L = &m->layers[il];
    const int64_t E = hp->n_embd, hd = hp->head_dim, Q = (int64_t)hp->n_head * hd, KV = c->kv_dim;
    for (int32_t t = 0; t < n; t++) ingot_rmsnorm(c->xb + t * E, c->x + t * E, L->attn_norm, E, hp->norm_eps);
    if (L->wqkv.data) {
        ingot_matmul(c->pool, &L->wqkv, c->xb, n, c->qkv, Q + 2 * KV, c->mm_scratch);
        for (int32_t t = 0; t < n; t++) {
            const float *row = c->qkv + t * (Q + 2 * KV);
            memcpy(c->q + t * Q, row, (size_t)Q * 4);
            memcpy(c->k + t * KV, row + Q, (size_t)KV * 4);
            memcpy(c->v + t * KV, row + Q + KV, (size_t)KV * 4);
        }
    } else {
        ingot_matmul(c->pool, &L->wq, c->xb, n, c->q, Q, c->mm_scratch);
        ingot_matmul(c->pool, &L->wk, c->xb, n, c->k, KV, c->mm_scratch);
        ingot_matmul(c->pool, &L->wv, c->xb, n, c->v, KV, c->mm_scratch);
    }
    const bool swa = hp->n_swa > 0 && hp->swa_layer[il];
    const float base = swa ? hp->rope_base_swa : hp->rope_base;
    const float fscale = swa ? hp->rope_freq_scale_swa : hp->rope_freq_scale;
    /* Gemma scales queries before the product (kq scale 1); others scale
     * the scores. Same maths, but it decides where F16 rounding happens. */
    const bool prescale = hp->arch == INGOT_ARCH_GEMMA3;
    for (int32_t t = 0; t < n; t++) {
        float *q = c->q + t * Q, *k = c->k + t * KV, *v = c->v + t * KV;
        add_bias(q, L->bq, Q);
        add_bias(k, L->bk, KV);
        add_bias(v, L->bv, KV);
        head_norm(q, hp->n_head, (int)hd, L->q_norm, hp->norm_eps);
        head_norm(k, hp->n_head_kv, (int)hd, L->k_norm, hp->norm_eps);
        ingot_rope(q, hp->n_head, (int)hd, hp->n_rot, pos0 + t, base, fscale, c->rope_factors, 1.0f,
                   hp->rope_style);
        ingot_rope(k, hp->n_head_kv, (int)hd, hp->n_rot, pos0 + t, base, fscale, c->rope_factors, 1.0f,
                   hp->rope_style);
        if (prescale)
            for (int64_t i = 0; i < Q; i++) q[i] *= hp->attn_scale;
        store_kv(c, il, pos0 + t, k, v);
    }
    attn_task task = {c, il, n, pos0, swa, prescale ? 1.0f : hp->attn_scale};
    ingot_pool_run(c->pool, attn_worker, &task);
    ingot_matmul(c->pool, &L->wo, c->attn, n, c->out, E, c->mm_scratch);
    for (int32_t t = 0; t < n; t++) {
        float *o = c->out + t * E, *x = c->x + t * E;
        if (L->post_attn_norm) ingot_rmsnorm(o, o, L->post_attn_norm, E, hp->norm_eps);
        for (int64_t i = 0; i < E; i++) x[i] += o[i];
    }
}

static void ffn_block(ingot_context *c, int il, int32_t n) {
    const ingot_model *m = c->model;
    const ingot_hparams *hp = &m->hp;
    const ingot_layer *L = &m->layers[il];
    const int64_t E = hp->n_embd, F = hp->n_ff;
    for (int32_t t = 0; t < n; t++) ingot_rmsnorm(c->xb + t * E, c->x + t * E, L->ffn_norm, E, hp->norm_eps);
    if (L->w_gate_up.data) {
        /* Fused [gate | up] rows: split into ff_a (gate) and ff_b (up). */
        ingot_matmul(c->pool, &L->w_gate_up, c->xb, n, c->ff_a, 2 * F, c->mm_scratch);
        for (int32_t t = 0; t < n; t++) memcpy(c->ff_b + t * F, c->ff_a + t * 2 * F + F, (size_t)F * 4);
        for (int32_t t = 0; t < n; t++) memmove(c->ff_a + t * F, c->ff_a + t * 2 * F, (size_t)F * 4);
    } else {
        ingot_matmul(c->pool, &L->w_gate, c->xb, n, c->ff_a, F, c->mm_scratch);
        ingot_matmul(c->pool, &L->w_up, c->xb, n, c->ff_b, F, c->mm_scratch);
    }
    for (int64_t i = 0; i < (int64_t)n * F; i++) {
        float g = c->ff_a[i];
        c->ff_a[i] = (hp->act == INGOT_ACT_GELU_TANH ? ingot_gelu_tanh(g) : ingot_silu(g)) * c->ff_b[i];
    }
    ingot_matmul(c->pool, &L->w_down, c->ff_a, n, c->out, E, c->mm_scratch);
    for (int32_t t = 0; t < n; t++) {
        float *o = c->out + t * E, *x = c->x + t * E;
        if (L->post_ffn_norm) ingot_rmsnorm(o, o, L->post_ffn_norm, E, hp->norm_eps);
        for (int64_t i = 0; i < E; i++) x[i] += o[i];
    }
}

ingot_status ingot_forward(ingot_context *c, const int32_t *tokens, int32_t n, int32_t first_logit, float *out) {
    const ingot_model *m = c->model;
    const ingot_hparams *hp = &m->hp;
    const int64_t E = hp->n_embd;
    if (n <= 0 || n > c->n_batch || c->n_past + n > c->n_ctx)
        return ingot_error_set(&c->err, INGOT_E_INTERNAL, "forward: bad batch of %d tokens", n);
    const int32_t pos0 = c->n_past;
    for (int32_t t = 0; t < n; t++) {
        float *x = c->x + t * E;
        ingot_weight_row(&m->tok_embd, tokens[t], x);
        if (hp->embd_scale != 1.0f)
            for (int64_t i = 0; i < E; i++) x[i] *= hp->embd_scale;
    }
    for (int il = 0; il < hp->n_layer; il++) {
        attention_block(c, il, n, pos0);
        ffn_block(c, il, n);
    }
    int32_t rows = n - first_logit;
    if (rows <= 0) return INGOT_OK;
    for (int32_t t = 0; t < rows; t++)
        ingot_rmsnorm(c->xb + t * E, c->x + (first_logit + t) * E, m->output_norm, E, hp->norm_eps);
    ingot_matmul(c->pool, &m->output, c->xb, rows, out, hp->n_vocab, c->mm_scratch);
    if (hp->final_softcap > 0) {
        const float cap = hp->final_softcap;
        for (int64_t i = 0; i < (int64_t)rows * hp->n_vocab; i++) out[i] = cap * tanhf(out[i] / cap);
    }
    return INGOT_OK;
}
