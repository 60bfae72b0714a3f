/* Owns sessions: creating the KV cache and scratch in one allocation,
 * decoding tokens in batches, exposing logits and truncating the cache for
 * prefix reuse. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/platform.h"
#include "model/context.h"
#include "tensor/attn.h"

ingot_context_params ingot_context_default_params(void) {
    ingot_context_params p = {.n_ctx = 0, .n_batch = 512, .n_threads = 0, .kv_type = INGOT_KV_F16};
    return p;
}

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

static void act_size_of(const ingot_weight *w, size_t *row_bytes, int64_t *pk_nb) {
    if (!w->data) return;
    const size_t rb = ingot_act_row_bytes(w);
    if (rb > *row_bytes) *row_bytes = rb;
    if (ingot_act_wants_packed(w) && w->ne0 / 32 > *pk_nb) *pk_nb = w->ne0 / 32;
}

/* Over every product weight of the model: the largest converted
 * activation row (bytes, at least 64), and the blocks per row of the
 * widest weight whose products read an ingot_packed_act layout (0: none
 * does). */
static void act_sizes(const ingot_model *m, size_t *row_bytes, int64_t *pk_nb) {
    *row_bytes = 64;
    *pk_nb = 0;
    act_size_of(&m->output, row_bytes, pk_nb);
    for (int il = 0; il < m->hp.n_layer; il++) {
        const ingot_layer *L = &m->layers[il];
        const ingot_weight *ws[] = {&L->wq,     &L->wk,   &L->wv,        &L->wqkv,  &L->wo,
                                    &L->w_gate, &L->w_up, &L->w_gate_up, &L->w_down};
        for (size_t i = 0; i < sizeof ws / sizeof *ws; i++) act_size_of(ws[i], row_bytes, pk_nb);
    }
}

ingot_status ingot_context_new(ingot_model *model, const ingot_context_params *params, ingot_context **out,
                               ingot_error *err) {
    if (out) *out = NULL;
    if (!model || !out) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_context_new: NULL argument");
    ingot_context_params p = params ? *params : ingot_context_default_params();
    const ingot_hparams *hp = &model->hp;
    if (p.n_ctx < 0 || p.n_batch < 0 || p.n_threads < 0)
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "context parameters must not be negative");
    if (p.kv_type != INGOT_KV_F16 && p.kv_type != INGOT_KV_F32)
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "unknown KV cache type %d", (int)p.kv_type);
    int32_t n_ctx = p.n_ctx ? p.n_ctx : hp->n_ctx_train;
    if (n_ctx > (1 << 22))
        return ingot_error_set(err, INGOT_E_RANGE, "context length %d is too large", n_ctx);
    int32_t n_batch = p.n_batch ? p.n_batch : 512;
    if (n_batch > n_ctx) n_batch = n_ctx;
    int n_threads = p.n_threads ? p.n_threads : ingot_cpu_count();
    if (n_threads > 256) n_threads = 256;

    ingot_context *c = calloc(1, sizeof *c);
    if (!c) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    c->model = model;
    c->params = p;
    c->n_ctx = n_ctx;
    c->n_batch = n_batch;
    c->n_threads = n_threads;
    c->kv_dim = (int64_t)hp->n_head_kv * hp->head_dim;
    c->kv_elt = p.kv_type == INGOT_KV_F16 ? 2 : 4;
    c->logits_cap = n_batch;

    int64_t E = hp->n_embd, Q = (int64_t)hp->n_head * hp->head_dim, F = hp->n_ff, B = n_batch;
    int64_t QKV = Q + 2 * c->kv_dim;
    act_sizes(model, &c->act_row, &c->act_pk_nb);
    size_t kv_bytes = align64((size_t)hp->n_layer * (size_t)n_ctx * (size_t)c->kv_dim * c->kv_elt);
    size_t act_bytes = align64((size_t)B * c->act_row);
    size_t act_pk_bytes = c->act_pk_nb ? ingot_packed_act_bytes(B, c->act_pk_nb) : 0;
    const int group = hp->n_head / hp->n_head_kv;
    /* Prompt attention takes up to 32 query rows (tokens x the heads of a
     * kv head) per call, keys and values converted once for all of them. */
    c->attn_tile = group >= 32 ? 1 : 32 / group;
    if (c->attn_tile > n_batch) c->attn_tile = n_batch > 0 ? n_batch : 1;
    c->scores_stride = ingot_attend_scratch(group * c->attn_tile, n_ctx + c->attn_tile, hp->head_dim);
    if (c->scores_stride < (size_t)n_ctx) c->scores_stride = (size_t)n_ctx;
    c->scores_stride = (c->scores_stride + 15) & ~(size_t)15;
    c->embd_row_stride = align64(model->tok_embd.row_bytes);
    size_t sizes[] = {
        kv_bytes, kv_bytes,
        align64((size_t)(B * E) * 4), align64((size_t)(B * E) * 4), align64((size_t)(B * E) * 4), /* x xb out */
        align64((size_t)(B * QKV) * 4), align64((size_t)(B * Q) * 4),                           /* qkv attn */
        align64((size_t)(B * 2 * F) * 4), align64((size_t)(B * F) * 4),                         /* ff ffh */
        align64((size_t)B * 2 * (size_t)hp->n_rot * 4),                                         /* rope_cs */
        align64((size_t)n_threads * c->scores_stride * 4),                                      /* scores */
        align64((size_t)n_threads * (size_t)hp->head_dim * 4),                                  /* qtmp */
        (size_t)n_threads * c->embd_row_stride,                                                 /* embd_row */
        act_bytes, act_bytes, act_bytes,                                                        /* act[] */
        act_pk_bytes,                                                                           /* act_pk */
        align64((size_t)B * (size_t)hp->n_vocab * 4),                                           /* logits */
    };
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) total += sizes[i];
    c->mem = aligned_alloc(64, total);
    if (!c->mem) {
        free(c);
        return ingot_error_set(err, INGOT_E_NOMEM, "cannot allocate %.1f MiB for a %d-token context",
                               (double)total / (1 << 20), n_ctx);
    }
    char *pmem = c->mem;
    void **slots[] = {(void **)&c->kv_k, (void **)&c->kv_v, (void **)&c->x, (void **)&c->xb,
                      (void **)&c->out, (void **)&c->qkv, (void **)&c->attn, (void **)&c->ff,
                      (void **)&c->ffh, (void **)&c->rope_cs, (void **)&c->scores, (void **)&c->qtmp, (void **)&c->embd_row,
                      (void **)&c->act[0], (void **)&c->act[1], (void **)&c->act[2], (void **)&c->act_pk,
                      (void **)&c->logits};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        *slots[i] = pmem;
        pmem += sizes[i];
    }
    if (!act_pk_bytes) c->act_pk = NULL;
    c->pool = ingot_pool_new(n_threads);
    if (!c->pool) {
        free(c->mem);
        free(c);
        return ingot_error_set(err, INGOT_E_NOMEM, "cannot start %d threads", n_threads);
    }
    c->attn_kernels = ingot_attn_kernels_get();
    /* LongRoPE (phi3): long factors once the context exceeds the original. */
    c->rope_factors = model->rope_freqs;
    if (model->rope_factors_long || model->rope_factors_short)
        c->rope_factors = n_ctx > hp->n_ctx_orig ? model->rope_factors_long : model->rope_factors_short;
    *out = c;
    return INGOT_OK;
}

void ingot_context_free(ingot_context *c) {
    if (!c) return;
    ingot_pool_free(c->pool);
    if (c->logits_cap > c->n_batch) free(c->logits);
    free(c->mem);
    free(c);
}

const char *ingot_context_errmsg(const ingot_context *c) {
    return c ? c->err.message : "no context";
}

ingot_status ingot_context_decode(ingot_context *c, const int32_t *tokens, int32_t n, bool all_logits) {
    if (!c || (!tokens && n > 0) || n < 0)
        return ingot_error_set(c ? &c->err : NULL, INGOT_E_INVALID_ARG, "decode: invalid arguments");
    ingot_error_clear(&c->err);
    if (n == 0) return ingot_error_set(&c->err, INGOT_E_INVALID_ARG, "decode: no tokens");
    if ((int64_t)c->n_past + n > c->n_ctx)
        return ingot_error_set(&c->err, INGOT_E_CONTEXT_FULL,
                               "context full: %d tokens in the cache + %d new > context length %d",
                               c->n_past, n, c->n_ctx);
    int32_t nv = c->model->hp.n_vocab;
    for (int32_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= nv)
            return ingot_error_set(&c->err, INGOT_E_RANGE, "token id %d at index %d is outside the vocabulary [0, %d)",
                                   tokens[i], i, nv);
    int32_t rows = all_logits ? n : 1;
    if (rows > c->logits_cap) {
        /* Growing the logits buffer happens outside the forward pass. */
        float *nl = malloc((size_t)rows * (size_t)nv * sizeof(float));
        if (!nl) return ingot_error_set(&c->err, INGOT_E_NOMEM, "cannot allocate logits for %d rows", rows);
        if (c->logits_cap > c->n_batch) free(c->logits);
        c->logits = nl;
        c->logits_cap = rows;
    }
    int32_t done = 0;
    while (done < n) {
        int32_t chunk = n - done < c->n_batch ? n - done : c->n_batch;
        bool last = done + chunk == n;
        int32_t first = all_logits ? 0 : (last ? chunk - 1 : chunk);
        float *dst = all_logits ? c->logits + (size_t)done * nv : c->logits;
        ingot_status s = ingot_forward(c, tokens + done, chunk, first, dst);
        if (s) return s;
        c->n_past += chunk;
        done += chunk;
    }
    c->n_logit_rows = rows;
    return INGOT_OK;
}

const float *ingot_context_logits(const ingot_context *c, int32_t *n_rows) {
    if (n_rows) *n_rows = c ? c->n_logit_rows : 0;
    return c && c->n_logit_rows ? c->logits : NULL;
}

int32_t ingot_context_n_past(const ingot_context *c) { return c ? c->n_past : 0; }
int32_t ingot_context_n_ctx(const ingot_context *c) { return c ? c->n_ctx : 0; }
const ingot_model *ingot_context_model(const ingot_context *c) { return c ? c->model : NULL; }

ingot_status ingot_context_truncate(ingot_context *c, int32_t n_keep) {
    if (!c) return INGOT_E_INVALID_ARG;
    if (n_keep < 0 || n_keep > c->n_past)
        return ingot_error_set(&c->err, INGOT_E_RANGE, "truncate: n_keep %d outside [0, %d]", n_keep, c->n_past);
    c->n_past = n_keep;
    c->n_logit_rows = 0;
    return INGOT_OK;
}
