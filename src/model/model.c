/* Owns loading a model: opens the GGUF, reads hyperparameters, binds every
 * weight by the architecture's tensor names with shape and type checks,
 * and answers questions about the model (info, type histogram). Matrices
 * stay in the file mapping (or get packed copies, pack_weights.c); 1-D
 * vectors are copied, and the mapping's pages are dropped after loading
 * (release_mapping). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/error.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

ingot_model_params ingot_model_default_params(void) {
    ingot_model_params p = {.use_mmap = true};
    return p;
}

typedef struct binder {
    ingot_model *m;
    ingot_error *err;
} binder;

static const ingot_gguf_tensor *find(binder *b, const char *name) {
    return ingot_gguf_find_tensor(b->m->gguf, name);
}

/* Binds a 2-D weight [ne0 x ne1] usable by ingot_matmul. */
static ingot_status bind_weight(binder *b, const char *name, int64_t ne0, int64_t ne1, bool required,
                                ingot_weight *w) {
    const ingot_gguf_tensor *t = find(b, name);
    if (!t) {
        if (!required) return INGOT_OK;
        return ingot_error_set(b->err, INGOT_E_FORMAT, "%s: missing tensor '%s' required by %s",
                               b->m->path, name, b->m->hp.arch_name);
    }
    if (t->n_dims > 2 || t->ne[0] != ne0 || t->ne[1] != ne1)
        return ingot_error_set(b->err, INGOT_E_FORMAT,
                               "%s: tensor '%s' has shape [%lld, %lld] (%d dims), expected [%lld, %lld]",
                               b->m->path, name, (long long)t->ne[0], (long long)t->ne[1], t->n_dims,
                               (long long)ne0, (long long)ne1);
    const ingot_type_traits *tr = ingot_type_traits_get(t->type);
    const ingot_type_traits *vt = tr ? ingot_type_traits_get(tr->vec_dot_type) : NULL;
    if (!tr || !tr->to_float || !tr->vec_dot || !vt || !vt->from_float)
        return ingot_error_set(b->err, INGOT_E_UNSUPPORTED, "%s: tensor '%s' has type %s, which ingot cannot compute with",
                               b->m->path, name, ingot_type_name(t->type) ? ingot_type_name(t->type) : "unknown");
    if (ne0 % tr->block_size || ne0 % vt->block_size)
        return ingot_error_set(b->err, INGOT_E_FORMAT,
                               "%s: tensor '%s' row length %lld is not a multiple of the %s block size",
                               b->m->path, name, (long long)ne0, tr->name);
    w->type = t->type;
    w->ne0 = ne0;
    w->ne1 = ne1;
    w->row_bytes = ingot_type_row_size(t->type, ne0);
    w->data = t->data;
    b->m->n_params += (uint64_t)ne0 * (uint64_t)ne1;
    return INGOT_OK;
}

/* Binds a 1-D F32 vector (norm weights, biases, rope factors). */
static ingot_status bind_vec(binder *b, const char *name, int64_t n, bool required, const float **out) {
    *out = NULL;
    const ingot_gguf_tensor *t = find(b, name);
    if (!t) {
        if (!required) return INGOT_OK;
        return ingot_error_set(b->err, INGOT_E_FORMAT, "%s: missing tensor '%s' required by %s",
                               b->m->path, name, b->m->hp.arch_name);
    }
    int64_t total = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    if (total != n)
        return ingot_error_set(b->err, INGOT_E_FORMAT, "%s: tensor '%s' has %lld elements, expected %lld",
                               b->m->path, name, (long long)total, (long long)n);
    if (t->type != INGOT_TYPE_F32)
        return ingot_error_set(b->err, INGOT_E_UNSUPPORTED, "%s: tensor '%s' is %s; 1-D tensors must be F32",
                               b->m->path, name, ingot_type_name(t->type) ? ingot_type_name(t->type) : "?");
    if ((uintptr_t)t->data % sizeof(float))
        return ingot_error_set(b->err, INGOT_E_FORMAT, "%s: tensor '%s' data is not 4-byte aligned",
                               b->m->path, name);
    /* a private copy, read without mapping the file's pages (release_mapping) */
    if (b->m->n_owned == b->m->cap_owned) {
        int cap = b->m->cap_owned ? 2 * b->m->cap_owned : 64;
        void **o = realloc(b->m->owned, (size_t)cap * sizeof *o);
        if (!o) return ingot_error_set(b->err, INGOT_E_NOMEM, "out of memory");
        b->m->owned = o;
        b->m->cap_owned = cap;
    }
    float *copy = malloc((size_t)n * sizeof *copy);
    if (!copy) return ingot_error_set(b->err, INGOT_E_NOMEM, "out of memory");
    ingot_gguf_read(b->m->gguf, t->data, (size_t)n * sizeof *copy, copy);
    b->m->owned[b->m->n_owned++] = copy;
    *out = copy;
    b->m->n_params += (uint64_t)n;
    return INGOT_OK;
}

#define TRY(x) do { ingot_status s_ = (x); if (s_) return s_; } while (0)

static ingot_status bind_layer(binder *b, int il) {
    ingot_model *m = b->m;
    const ingot_hparams *hp = &m->hp;
    ingot_layer *L = &m->layers[il];
    int64_t E = hp->n_embd, Q = (int64_t)hp->n_head * hp->head_dim,
            KV = (int64_t)hp->n_head_kv * hp->head_dim, F = hp->n_ff;
    char n[128];
#define NAME(s) (snprintf(n, sizeof n, "blk.%d.%s", il, s), n)
    TRY(bind_vec(b, NAME("attn_norm.weight"), E, true, &L->attn_norm));
    if (hp->arch == INGOT_ARCH_PHI3) {
        TRY(bind_weight(b, NAME("attn_qkv.weight"), E, Q + 2 * KV, false, &L->wqkv));
    }
    if (!L->wqkv.data) {
        TRY(bind_weight(b, NAME("attn_q.weight"), E, Q, true, &L->wq));
        TRY(bind_weight(b, NAME("attn_k.weight"), E, KV, true, &L->wk));
        TRY(bind_weight(b, NAME("attn_v.weight"), E, KV, true, &L->wv));
    }
    bool need_bias = hp->arch == INGOT_ARCH_QWEN2;
    TRY(bind_vec(b, NAME("attn_q.bias"), Q, need_bias, &L->bq));
    TRY(bind_vec(b, NAME("attn_k.bias"), KV, need_bias, &L->bk));
    TRY(bind_vec(b, NAME("attn_v.bias"), KV, need_bias, &L->bv));
    bool need_qk_norm = hp->arch == INGOT_ARCH_QWEN3 || hp->arch == INGOT_ARCH_GEMMA3;
    TRY(bind_vec(b, NAME("attn_q_norm.weight"), hp->head_dim, need_qk_norm, &L->q_norm));
    TRY(bind_vec(b, NAME("attn_k_norm.weight"), hp->head_dim, need_qk_norm, &L->k_norm));
    TRY(bind_weight(b, NAME("attn_output.weight"), Q, E, true, &L->wo));
    bool gemma = hp->arch == INGOT_ARCH_GEMMA3;
    TRY(bind_vec(b, NAME("post_attention_norm.weight"), E, gemma, &L->post_attn_norm));
    TRY(bind_vec(b, NAME("ffn_norm.weight"), E, true, &L->ffn_norm));
    if (hp->arch == INGOT_ARCH_PHI3) {
        TRY(bind_weight(b, NAME("ffn_up.weight"), E, 2 * F, true, &L->w_gate_up));
    } else {
        TRY(bind_weight(b, NAME("ffn_gate.weight"), E, F, true, &L->w_gate));
        TRY(bind_weight(b, NAME("ffn_up.weight"), E, F, true, &L->w_up));
    }
    TRY(bind_weight(b, NAME("ffn_down.weight"), F, E, true, &L->w_down));
    TRY(bind_vec(b, NAME("post_ffw_norm.weight"), E, gemma, &L->post_ffn_norm));
#undef NAME
    return INGOT_OK;
}

static ingot_status bind_all(binder *b) {
    ingot_model *m = b->m;
    const ingot_hparams *hp = &m->hp;
    const ingot_gguf_tensor *te = find(b, "token_embd.weight");
    if (!te)
        return ingot_error_set(b->err, INGOT_E_FORMAT, "%s: missing tensor 'token_embd.weight'", m->path);
    m->hp.n_vocab = (int32_t)te->ne[1];
    if (te->n_dims != 2 || te->ne[1] <= 0 || te->ne[1] > INT32_MAX)
        return ingot_error_set(b->err, INGOT_E_FORMAT, "%s: tensor 'token_embd.weight' has an invalid shape",
                               m->path);
    TRY(bind_weight(b, "token_embd.weight", hp->n_embd, hp->n_vocab, true, &m->tok_embd));
    TRY(bind_vec(b, "output_norm.weight", hp->n_embd, true, &m->output_norm));
    TRY(bind_weight(b, "output.weight", hp->n_embd, hp->n_vocab, false, &m->output));
    if (!m->output.data) m->output = m->tok_embd; /* tied embeddings */
    TRY(bind_vec(b, "rope_freqs.weight", hp->n_rot / 2, false, &m->rope_freqs));
    TRY(bind_vec(b, "rope_factors_long.weight", hp->n_rot / 2, false, &m->rope_factors_long));
    TRY(bind_vec(b, "rope_factors_short.weight", hp->n_rot / 2, false, &m->rope_factors_short));
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) return ingot_error_set(b->err, INGOT_E_NOMEM, "out of memory");
    for (int il = 0; il < hp->n_layer; il++) TRY(bind_layer(b, il));
    return INGOT_OK;
}

/* Once loaded, the model needs no page of the file mapping resident:
 * packed matrices have their own copy, vectors were copied at bind time,
 * embedding rows are read with pread (ingot_model_embed_row), and what is
 * still used from the mapping (unpacked matrices, metadata strings) is
 * faulted back in from the page cache when touched. Dropping the mapped
 * pages here keeps the resident set to what is really used: the kernel
 * maps whole large folios around each faulting address, so the tokenizer,
 * a norm vector or a few embedding rows could otherwise keep hundreds of
 * megabytes of the file mapped. */
static void release_mapping(const ingot_model *m) {
    const void *base = NULL;
    size_t len = 0;
    if (ingot_gguf_mapping(m->gguf, &base, &len)) (void)madvise((void *)base, len, MADV_DONTNEED);
}

void ingot_model_embed_row(const ingot_model *m, int32_t tok, void *scratch, float *out) {
    const ingot_weight *w = &m->tok_embd;
    const char *row = (const char *)w->data + (size_t)tok * w->row_bytes;
    if (!ingot_gguf_is_mapped(m->gguf)) {
        ingot_weight_row(w, tok, out);
        return;
    }
    ingot_gguf_read(m->gguf, row, w->row_bytes, scratch);
    ingot_type_traits_get(w->type)->to_float(scratch, out, w->ne0);
}

ingot_status ingot_model_load(const char *path, const ingot_model_params *params, ingot_model **out,
                              ingot_error *err) {
    if (out) *out = NULL;
    if (!path || !out) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_model_load: NULL argument");
    ingot_model_params p = params ? *params : ingot_model_default_params();
    ingot_model *m = calloc(1, sizeof *m);
    if (!m) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    m->path = strdup(path);
    ingot_status s = m->path ? INGOT_OK : ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    if (!s) s = ingot_gguf_open(path, p.use_mmap, &m->gguf, err);
    if (!s) {
        s = ingot_hparams_load(m->gguf, &m->hp, err);
        if (s) ingot_error_prefix(err, "%s", path);
    }
    binder b = {m, err};
    if (!s) s = bind_all(&b);
    /* the tokenizer loads while helper threads pack the weights */
    ingot_pack_run *packing = NULL;
    if (!s) s = ingot_model_pack_start(m, &packing, err);
    if (!s && ingot_gguf_find_key(m->gguf, "tokenizer.ggml.model") >= 0) {
        s = ingot_tokenizer_from_gguf(m->gguf, &m->tokenizer, err);
        if (s) ingot_error_prefix(err, "%s: tokenizer", path);
    }
    ingot_model_pack_finish(packing);
    if (!s) release_mapping(m);
    if (s) {
        ingot_model_free(m);
        return s;
    }
    /* The dominant weight type names the file's quantization. */
    uint64_t best = 0;
    int counts[INGOT_TYPE_COUNT] = {0};
    uint64_t bytes[INGOT_TYPE_COUNT] = {0};
    for (int64_t i = 0; i < ingot_gguf_n_tensors(m->gguf); i++) {
        const ingot_gguf_tensor *t = ingot_gguf_tensor_at(m->gguf, i);
        if (t->n_dims < 2 || (unsigned)t->type >= INGOT_TYPE_COUNT) continue;
        counts[t->type]++;
        bytes[t->type] += t->nbytes;
    }
    m->file_type = "F32";
    for (int t = 0; t < INGOT_TYPE_COUNT; t++)
        if (bytes[t] > best && ingot_type_name((ingot_type)t)) {
            best = bytes[t];
            m->file_type = ingot_type_name((ingot_type)t);
        }
    *out = m;
    return INGOT_OK;
}

void ingot_model_free(ingot_model *m) {
    if (!m) return;
    ingot_tokenizer_free(m->tokenizer);
    free(m->layers);
    free(m->packed_mem);
    for (int i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    ingot_gguf_close(m->gguf);
    free(m->path);
    free(m);
}

void ingot_model_get_info(const ingot_model *m, ingot_model_info *info) {
    memset(info, 0, sizeof *info);
    const ingot_hparams *hp = &m->hp;
    info->arch = hp->arch_name;
    const char *name = ingot_gguf_get_str(m->gguf, "general.name");
    info->name = name ? name : "";
    info->path = m->path;
    info->file_size = ingot_gguf_file_size(m->gguf);
    info->n_params = m->n_params;
    info->n_vocab = hp->n_vocab;
    info->n_ctx_train = hp->n_ctx_train;
    info->n_embd = hp->n_embd;
    info->n_layer = hp->n_layer;
    info->n_head = hp->n_head;
    info->n_head_kv = hp->n_head_kv;
    info->head_dim = hp->head_dim;
    info->n_ff = hp->n_ff;
    info->n_tensors = (int32_t)ingot_gguf_n_tensors(m->gguf);
    info->file_type = m->file_type;
    const char *tk = ingot_gguf_get_str(m->gguf, "tokenizer.ggml.model");
    info->tokenizer = tk ? tk : "";
    info->has_chat_template = ingot_gguf_find_key(m->gguf, "tokenizer.chat_template") >= 0;
}

void ingot_model_foreach_type(const ingot_model *m,
                              void (*fn)(const char *type_name, int n_tensors, uint64_t n_bytes, void *user),
                              void *user) {
    int counts[INGOT_TYPE_COUNT] = {0};
    uint64_t bytes[INGOT_TYPE_COUNT] = {0};
    for (int64_t i = 0; i < ingot_gguf_n_tensors(m->gguf); i++) {
        const ingot_gguf_tensor *t = ingot_gguf_tensor_at(m->gguf, i);
        if ((unsigned)t->type >= INGOT_TYPE_COUNT) continue;
        counts[t->type]++;
        bytes[t->type] += t->nbytes;
    }
    for (int t = 0; t < INGOT_TYPE_COUNT; t++)
        if (counts[t]) fn(ingot_type_name((ingot_type)t), counts[t], bytes[t], user);
}

const char *ingot_model_chat_template(const ingot_model *m) {
    return m ? ingot_gguf_get_str(m->gguf, "tokenizer.chat_template") : NULL;
}

const struct ingot_tokenizer *ingot_model_tokenizer(const ingot_model *m) {
    return m ? m->tokenizer : NULL;
}
