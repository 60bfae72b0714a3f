/* Owns model-level quantization: the table of file types `ingot quantize`
 * accepts, the choice of each tensor's type (llama.cpp's documented rules
 * of llama_tensor_get_type: Q6_K output, attn_v / ffn_down bumped on some
 * layers in the _M kinds, the tied-embedding case, fallbacks when a row
 * length is not a multiple of a type's block), and the conversion: rows of
 * F32/F16/BF16 tensors quantized with the reference quantizers on a thread
 * pool into a scratch file mapping, then written by the atomic GGUF writer
 * with every key of the input copied. */
#include "model/quantize.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/platform.h"
#include "base/pool.h"

/* llama_ftype numbers (the values of general.file_type). */
enum {
    FT_ALL_F32 = 0, FT_F16 = 1, FT_Q4_0 = 2, FT_Q4_1 = 3, FT_Q8_0 = 7, FT_Q5_0 = 8, FT_Q5_1 = 9,
    FT_Q2_K = 10, FT_Q3_K_S = 11, FT_Q3_K_M = 12, FT_Q3_K_L = 13, FT_Q4_K_S = 14, FT_Q4_K_M = 15,
    FT_Q5_K_S = 16, FT_Q5_K_M = 17, FT_Q6_K = 18, FT_IQ4_NL = 25, FT_IQ4_XS = 30, FT_BF16 = 32
};

static const ingot_qftype qftypes[] = {
    {"Q2_K", FT_Q2_K, INGOT_TYPE_Q2_K, "2.96 bpw mixture (Q2_K, attn_v/ffn_down/attn_output Q3_K-Q4_K)"},
    {"Q3_K_S", FT_Q3_K_S, INGOT_TYPE_Q3_K, "3.44 bpw, Q3_K everywhere but the output"},
    {"Q3_K_M", FT_Q3_K_M, INGOT_TYPE_Q3_K, "3.91 bpw mixture of Q3_K/Q4_K/Q5_K"},
    {"Q3_K_L", FT_Q3_K_L, INGOT_TYPE_Q3_K, "4.27 bpw mixture of Q3_K/Q5_K"},
    {"Q4_0", FT_Q4_0, INGOT_TYPE_Q4_0, "4.5 bpw, 32-element blocks"},
    {"Q4_1", FT_Q4_1, INGOT_TYPE_Q4_1, "5.0 bpw, 32-element blocks with a minimum"},
    {"Q4_K_S", FT_Q4_K_S, INGOT_TYPE_Q4_K, "4.58 bpw, mostly Q4_K"},
    {"Q4_K_M", FT_Q4_K_M, INGOT_TYPE_Q4_K, "4.89 bpw mixture of Q4_K/Q6_K (the usual choice)"},
    {"Q5_0", FT_Q5_0, INGOT_TYPE_Q5_0, "5.5 bpw, 32-element blocks"},
    {"Q5_1", FT_Q5_1, INGOT_TYPE_Q5_1, "6.0 bpw, 32-element blocks with a minimum"},
    {"Q5_K_S", FT_Q5_K_S, INGOT_TYPE_Q5_K, "5.54 bpw, mostly Q5_K"},
    {"Q5_K_M", FT_Q5_K_M, INGOT_TYPE_Q5_K, "5.70 bpw mixture of Q5_K/Q6_K"},
    {"Q6_K", FT_Q6_K, INGOT_TYPE_Q6_K, "6.56 bpw"},
    {"Q8_0", FT_Q8_0, INGOT_TYPE_Q8_0, "8.5 bpw, nearly lossless"},
    {"IQ4_NL", FT_IQ4_NL, INGOT_TYPE_IQ4_NL, "4.5 bpw non-linear grid, 32-element blocks"},
    {"IQ4_XS", FT_IQ4_XS, INGOT_TYPE_IQ4_XS, "4.25 bpw non-linear grid"},
    {"F16", FT_F16, INGOT_TYPE_F16, "16-bit floats"},
    {"BF16", FT_BF16, INGOT_TYPE_BF16, "bfloat16"},
    {"F32", FT_ALL_F32, INGOT_TYPE_F32, "32-bit floats (no loss)"},
};
#define N_QFTYPES (sizeof qftypes / sizeof qftypes[0])

const ingot_qftype *ingot_qftype_table(size_t *n) {
    if (n) *n = N_QFTYPES;
    return qftypes;
}

const ingot_qftype *ingot_qftype_find(const char *name) {
    if (!name) return NULL;
    static const struct { const char *alias, *name; } aliases[] = {
        {"Q3_K", "Q3_K_M"}, {"Q4_K", "Q4_K_M"}, {"Q5_K", "Q5_K_M"}};
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcasecmp(name, aliases[i].alias)) name = aliases[i].name;
    for (size_t i = 0; i < N_QFTYPES; i++)
        if (!strcasecmp(name, qftypes[i].name)) return &qftypes[i];
    return NULL;
}

const ingot_qftype *ingot_qftype_by_id(uint32_t ftype) {
    for (size_t i = 0; i < N_QFTYPES; i++)
        if (qftypes[i].ftype == ftype) return &qftypes[i];
    return NULL;
}

/* ---- which tensors are quantized ---------------------------------------- */

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !memcmp(s + n - m, suffix, m);
}

/* Dimensions as ggml counts them: trailing dimensions of 1 do not count. */
static int effective_dims(const ingot_gguf_tensor *t) {
    int n = 1;
    for (int d = 1; d < INGOT_GGUF_MAX_DIMS; d++)
        if (t->ne[d] > 1) n = d + 1;
    return n;
}

bool ingot_quantize_tensor_allowed(const ingot_gguf_tensor *t) {
    const char *name = t->name;
    if (!ends_with(name, "weight") || effective_dims(t) < 2) return false;
    /* Small or sensitive 2-D weights llama.cpp keeps as they are. */
    static const char *const never[] = {
        "_norm.weight", "ffn_gate_inp.weight", "altup", "laurel", "per_layer_model_proj",
        "ssm_conv1d.weight", "shortconv.conv.weight", "time_mix_first.weight", "time_mix_w0.weight",
        "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight",
        "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight",
        "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight",
        "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight",
        ".position_embd", ".patch_embd", ".patch_merger", ".rel_pos"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (strstr(name, never[i])) return false;
    if (!strcmp(name, "position_embd.weight") || !strcmp(name, "token_types.weight")) return false;
    return true;
}

/* ---- the mixture rules --------------------------------------------------- */

typedef enum {
    CAT_OTHER, CAT_OUTPUT, CAT_TOKEN_EMBD, CAT_ATTN_QKV, CAT_ATTN_KV_B, CAT_ATTN_V, CAT_ATTN_K,
    CAT_ATTN_Q, CAT_ATTN_OUTPUT, CAT_FFN_UP, CAT_FFN_GATE, CAT_FFN_DOWN
} tensor_cat;

/* Broad categories by name, tested in llama.cpp's order. */
static tensor_cat categorize(const char *name) {
    if (!strcmp(name, "output.weight")) return CAT_OUTPUT;
    if (!strcmp(name, "token_embd.weight") || !strcmp(name, "per_layer_token_embd.weight"))
        return CAT_TOKEN_EMBD;
    static const struct { const char *part; tensor_cat cat; } parts[] = {
        {"attn_qkv.weight", CAT_ATTN_QKV}, {"attn_kv_b.weight", CAT_ATTN_KV_B},
        {"attn_v.weight", CAT_ATTN_V},     {"attn_k.weight", CAT_ATTN_K},
        {"attn_q.weight", CAT_ATTN_Q},     {"attn_output.weight", CAT_ATTN_OUTPUT},
        {"ffn_up", CAT_FFN_UP},            {"ffn_gate", CAT_FFN_GATE},
        {"ffn_down", CAT_FFN_DOWN}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (strstr(name, parts[i].part)) return parts[i].cat;
    return CAT_OTHER;
}

static int layer_of(const char *name) {
    int layer = -1;
    if (sscanf(name, "blk.%d.", &layer) != 1) return -1;
    return layer;
}

typedef struct plan_state {
    uint32_t ftype;
    bool falcon, is_70b, tied_embeddings;
    int n_layer, n_expert;
    int n_gqa;
    int n_attention_wv, i_attention_wv, i_ffn_down;
} plan_state;

/* More bits for the first and last eighth of the layers and every third
 * layer in between. */
static bool use_more_bits(int i_layer, int n_layers) {
    return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

static ingot_status mixture_type(plan_state *qs, const ingot_gguf_tensor *t, ingot_type *io,
                                 ingot_error *err) {
    const uint32_t ft = qs->ftype;
    ingot_type nt = *io;
    tensor_cat cat = categorize(t->name);
    if (cat == CAT_OUTPUT || (qs->tied_embeddings && cat == CAT_TOKEN_EMBD)) {
        /* The output projection decides most of the quality: Q6_K unless
         * the base type is Q8_0 or the row does not fit K-quant blocks. */
        const ingot_type_traits *tr = ingot_type_traits_get(nt);
        if (qs->falcon || t->ne[0] % tr->block_size != 0) nt = INGOT_TYPE_Q8_0;
        else if (nt != INGOT_TYPE_Q8_0) nt = INGOT_TYPE_Q6_K;
    } else if (cat == CAT_TOKEN_EMBD) {
        /* unchanged for every file type offered here */
    } else if (cat == CAT_ATTN_V || cat == CAT_ATTN_QKV || cat == CAT_ATTN_KV_B) {
        if (ft == FT_Q2_K) nt = qs->n_gqa >= 4 ? INGOT_TYPE_Q4_K : INGOT_TYPE_Q3_K;
        else if (ft == FT_Q3_K_M) nt = qs->i_attention_wv < 2 ? INGOT_TYPE_Q5_K : INGOT_TYPE_Q4_K;
        else if (ft == FT_Q3_K_L) nt = INGOT_TYPE_Q5_K;
        else if ((ft == FT_IQ4_NL || ft == FT_IQ4_XS) && qs->n_gqa >= 4) nt = INGOT_TYPE_Q5_K;
        else if ((ft == FT_Q4_K_M || ft == FT_Q5_K_M) &&
                 use_more_bits(qs->i_attention_wv, qs->n_attention_wv))
            nt = INGOT_TYPE_Q6_K;
        else if (ft == FT_Q4_K_S && qs->i_attention_wv < 4) nt = INGOT_TYPE_Q5_K;
        /* 70B: attn_v is 8x smaller than attn_q, so more bits cost little. */
        if (qs->is_70b && (nt == INGOT_TYPE_Q3_K || nt == INGOT_TYPE_Q4_K)) nt = INGOT_TYPE_Q5_K;
        if (qs->n_expert == 8) nt = INGOT_TYPE_Q8_0;
        qs->i_attention_wv++;
    } else if (cat == CAT_ATTN_K) {
        if (qs->n_expert == 8) nt = INGOT_TYPE_Q8_0;
    } else if (cat == CAT_FFN_DOWN) {
        int i_layer = qs->i_ffn_down, n_layer = qs->n_layer;
        if (qs->n_expert > 1) {
            /* Experts are not stored layer by layer: read the layer from the name. */
            i_layer = layer_of(t->name);
            if (i_layer < 0 || i_layer >= n_layer)
                return ingot_error_set(err, INGOT_E_FORMAT,
                                       "tensor %s: cannot tell its layer (block_count %d)", t->name,
                                       n_layer);
        }
        if (ft == FT_Q2_K) nt = INGOT_TYPE_Q3_K;
        else if (ft == FT_Q3_K_M)
            nt = i_layer < n_layer / 16                            ? INGOT_TYPE_Q5_K
                 : !qs->falcon || use_more_bits(i_layer, n_layer) ? INGOT_TYPE_Q4_K
                                                                   : INGOT_TYPE_Q3_K;
        else if (ft == FT_Q3_K_L) nt = qs->falcon ? INGOT_TYPE_Q4_K : INGOT_TYPE_Q5_K;
        else if (ft == FT_Q4_K_M) {
            if (qs->falcon)
                nt = i_layer < n_layer / 16          ? INGOT_TYPE_Q6_K
                     : use_more_bits(i_layer, n_layer) ? INGOT_TYPE_Q5_K
                                                       : INGOT_TYPE_Q4_K;
            else if (use_more_bits(i_layer, n_layer))
                nt = INGOT_TYPE_Q6_K;
        } else if (i_layer < n_layer / 8 && (ft == FT_IQ4_NL || ft == FT_IQ4_XS))
            nt = INGOT_TYPE_Q5_K;
        else if (ft == FT_Q5_K_M && use_more_bits(i_layer, n_layer))
            nt = INGOT_TYPE_Q6_K;
        else if (ft == FT_Q4_K_S && !qs->falcon && i_layer < n_layer / 8)
            nt = INGOT_TYPE_Q5_K;
        qs->i_ffn_down++;
    } else if (cat == CAT_ATTN_OUTPUT) {
        if (!qs->falcon) {
            if (qs->n_expert == 8) {
                if (ft == FT_Q2_K || ft == FT_Q3_K_S || ft == FT_Q3_K_M || ft == FT_IQ4_NL ||
                    ft == FT_Q4_K_S || ft == FT_Q4_K_M || ft == FT_IQ4_XS)
                    nt = INGOT_TYPE_Q5_K;
            } else {
                if (ft == FT_Q2_K) nt = INGOT_TYPE_Q3_K;
                else if (ft == FT_Q3_K_M) nt = INGOT_TYPE_Q4_K;
                else if (ft == FT_Q3_K_L) nt = INGOT_TYPE_Q5_K;
            }
        } else if (ft == FT_Q3_K_L) {
            nt = INGOT_TYPE_Q4_K;
        }
    }
    *io = nt;
    return INGOT_OK;
}

/* A type whose block fits the row when the chosen one does not. */
static ingot_type fallback_type(ingot_type chosen, int64_t ncols) {
    const ingot_type_traits *tr = ingot_type_traits_get(chosen);
    if (ncols % tr->block_size == 0) return chosen;
    ingot_type r;
    switch (chosen) {
    case INGOT_TYPE_IQ4_XS: r = INGOT_TYPE_IQ4_NL; break;
    case INGOT_TYPE_Q2_K:
    case INGOT_TYPE_Q3_K: r = INGOT_TYPE_Q4_0; break;
    case INGOT_TYPE_Q4_K: r = INGOT_TYPE_Q5_0; break;
    case INGOT_TYPE_Q5_K: r = INGOT_TYPE_Q5_1; break;
    case INGOT_TYPE_Q6_K: r = INGOT_TYPE_Q8_0; break;
    default: r = INGOT_TYPE_F16; break;
    }
    if (ncols % ingot_type_traits_get(r)->block_size != 0) r = INGOT_TYPE_F16;
    return r;
}

/* Reads an unsigned hyperparameter "<arch>.<key>"; an array (per-layer
 * values) gives its first element. */
static int64_t arch_param(const ingot_gguf *g, const char *arch, const char *key, int64_t dflt) {
    char full[256];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    int64_t v;
    if (ingot_gguf_get_i64(g, full, &v)) return v;
    int64_t kid = ingot_gguf_find_key(g, full);
    if (kid >= 0 && ingot_gguf_arr_n(g, kid) > 0 && ingot_gguf_arr_get_i64(g, kid, 0, &v)) return v;
    return dflt;
}

typedef struct order_entry {
    int layer;
    int64_t index;
    const char *name;
} order_entry;

/* llama.cpp visits tensors by layer (non-layer tensors first), then name. */
static int order_cmp(const void *a, const void *b) {
    const order_entry *x = a, *y = b;
    if (x->layer != y->layer) return x->layer < y->layer ? -1 : 1;
    return strcmp(x->name, y->name);
}

ingot_status ingot_quantize_plan(const ingot_gguf *g, const ingot_qftype *ft, bool pure, ingot_type *out,
                                 bool *fallback, ingot_error *err) {
    if (!g || !ft || !out) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_quantize_plan: no file or type");
    int64_t n = ingot_gguf_n_tensors(g);
    const char *arch = ingot_gguf_get_str(g, "general.architecture");
    if (!arch) arch = "";
    plan_state qs = {0};
    qs.ftype = ft->ftype;
    qs.falcon = !strcmp(arch, "falcon");
    qs.n_layer = (int)arch_param(g, arch, "block_count", 0);
    qs.n_expert = (int)arch_param(g, arch, "expert_count", 0);
    int64_t n_head = arch_param(g, arch, "attention.head_count", 0);
    int64_t n_head_kv = arch_param(g, arch, "attention.head_count_kv", n_head);
    qs.n_gqa = n_head_kv > 0 ? (int)(n_head / n_head_kv) : 1;
    /* llama.cpp's size class: 80 layers with grouped-query attention. */
    qs.is_70b = (!strcmp(arch, "llama") && qs.n_layer == 80 && n_head != n_head_kv) ||
                (!strcmp(arch, "qwen2") && qs.n_layer == 80);
    qs.tied_embeddings = true;
    for (int64_t i = 0; i < n; i++) {
        const char *name = ingot_gguf_tensor_at(g, i)->name;
        if (strstr(name, "attn_v.weight") || strstr(name, "attn_qkv.weight") || strstr(name, "attn_kv_b.weight"))
            qs.n_attention_wv++;
        else if (!strcmp(name, "output.weight"))
            qs.tied_embeddings = false;
    }
    order_entry *order = malloc((size_t)(n > 0 ? n : 1) * sizeof *order);
    if (!order) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory planning %lld tensors", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        order[i].index = i;
        order[i].name = ingot_gguf_tensor_at(g, i)->name;
        order[i].layer = layer_of(order[i].name);
    }
    qsort(order, (size_t)n, sizeof *order, order_cmp);
    bool mixture = !pure && ingot_type_traits_get(ft->base)->is_quantized;
    for (int64_t k = 0; k < n; k++) {
        const ingot_gguf_tensor *t = ingot_gguf_tensor_at(g, order[k].index);
        ingot_type nt = t->type;
        bool fb = false;
        if (ingot_quantize_tensor_allowed(t)) {
            nt = ft->base;
            if (mixture) {
                ingot_status s = mixture_type(&qs, t, &nt, err);
                if (s) {
                    free(order);
                    return s;
                }
            }
            /* llama.cpp falls back only for mixtures (--pure would abort);
             * a pure file gets the same fallback instead. */
            ingot_type f = fallback_type(nt, t->ne[0]);
            fb = f != nt;
            nt = f;
        }
        out[order[k].index] = nt;
        if (fallback) fallback[order[k].index] = fb;
    }
    free(order);
    return INGOT_OK;
}

/* ---- conversion ---------------------------------------------------------- */

typedef struct convert_job {
    const ingot_gguf_tensor *src;
    ingot_type dst_type;
    void *dst;
    int64_t n_rows, row_len;
    float *scratch; /* n_threads rows of row_len floats */
} convert_job;

static void convert_task(void *arg, int ith, int nth) {
    convert_job *j = arg;
    const ingot_type_traits *st = ingot_type_traits_get(j->src->type);
    const ingot_type_traits *dt = ingot_type_traits_get(j->dst_type);
    size_t src_row = ingot_type_row_size(j->src->type, j->row_len);
    size_t dst_row = ingot_type_row_size(j->dst_type, j->row_len);
    float *buf = j->scratch + (size_t)ith * (size_t)j->row_len;
    long long lo, hi;
    ingot_split(j->n_rows, ith, nth, &lo, &hi);
    for (long long r = lo; r < hi; r++) {
        const char *in = (const char *)j->src->data + (size_t)r * src_row;
        char *out = (char *)j->dst + (size_t)r * dst_row;
        if (j->src->type == INGOT_TYPE_F32) {
            dt->from_float((const float *)(const void *)in, out, j->row_len);
        } else {
            st->to_float(in, buf, j->row_len);
            dt->from_float(buf, out, j->row_len);
        }
    }
}

ingot_quantize_params ingot_quantize_default_params(void) {
    ingot_quantize_params p = {0};
    p.n_threads = 0;
    p.pure = false;
    return p;
}

const char *ingot_quantize_type_name(int32_t i, const char **about) {
    if (i < 0 || (size_t)i >= N_QFTYPES) return NULL;
    if (about) *about = qftypes[i].about;
    return qftypes[i].name;
}

const char *ingot_file_type_name(uint32_t ftype) {
    const ingot_qftype *q = ingot_qftype_by_id(ftype);
    return q ? q->name : NULL;
}

ingot_status ingot_file_type_read(const char *path, uint32_t *ftype, ingot_error *err) {
    ingot_gguf *g = NULL;
    ingot_status s = ingot_gguf_open(path, true, &g, err);
    if (s) return s;
    uint32_t v;
    if (!ingot_gguf_get_u32(g, "general.file_type", &v))
        s = ingot_error_set(err, INGOT_E_NOT_FOUND, "%s: no general.file_type", path);
    else if (ftype)
        *ftype = v;
    ingot_gguf_close(g);
    return s;
}

static bool is_float_type(ingot_type t) {
    return t == INGOT_TYPE_F32 || t == INGOT_TYPE_F16 || t == INGOT_TYPE_BF16;
}

static int64_t n_elements(const ingot_gguf_tensor *t) {
    int64_t n = 1;
    for (int d = 0; d < INGOT_GGUF_MAX_DIMS; d++) n *= t->ne[d];
    return n;
}

/* The directory part of path ("." when it has none). */
static void dir_of(const char *path, char *buf, size_t cap) {
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(buf, cap, ".");
    else if (slash == path) snprintf(buf, cap, "/");
    else snprintf(buf, cap, "%.*s", (int)(slash - path), path);
}

/* Output tensors live in a mapping of an unlinked scratch file beside the
 * output, so a multi-gigabyte model is written without holding it all in
 * anonymous memory (the kernel can page it out to the file). */
typedef struct scratch_map {
    void *base;
    size_t size;
} scratch_map;

static ingot_status scratch_open(const char *out_path, size_t size, scratch_map *m, ingot_error *err) {
    m->base = NULL;
    m->size = size;
    if (size == 0) return INGOT_OK;
    size_t plen = strlen(out_path);
    char *tmp = malloc(plen + 32);
    if (!tmp) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    memcpy(tmp, out_path, plen);
    memcpy(tmp + plen, ".scratch-XXXXXX", 16);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        ingot_status s = ingot_error_set(err, INGOT_E_IO, "%s: cannot create a scratch file beside it: %s",
                                         out_path, strerror(errno));
        free(tmp);
        return s;
    }
    unlink(tmp);
    free(tmp);
    int rc = posix_fallocate(fd, 0, (off_t)size);
    if (rc == EINVAL || rc == EOPNOTSUPP) rc = ftruncate(fd, (off_t)size) ? errno : 0;
    if (rc != 0) {
        close(fd);
        return ingot_error_set(err, INGOT_E_IO, "%s: cannot reserve %.1f MiB of scratch space: %s", out_path,
                               (double)size / (1024.0 * 1024.0), strerror(rc));
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int saved = errno;
    close(fd);
    if (p == MAP_FAILED)
        return ingot_error_set(err, INGOT_E_IO, "%s: cannot map scratch space: %s", out_path, strerror(saved));
    m->base = p;
    return INGOT_OK;
}

static void scratch_close(scratch_map *m) {
    if (m->base) munmap(m->base, m->size);
    m->base = NULL;
}

ingot_status ingot_quantize_file(const char *in_path, const char *out_path, const char *type,
                                 const ingot_quantize_params *params, ingot_quantize_progress_fn progress,
                                 void *user, ingot_quantize_result *result, ingot_error *err) {
    double t0 = ingot_time_ms();
    if (!in_path || !out_path || !type)
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_quantize_file: input, output and type are required");
    ingot_quantize_params p = params ? *params : ingot_quantize_default_params();
    const ingot_qftype *ft = ingot_qftype_find(type);
    if (!ft) {
        char list[512] = "";
        size_t used = 0;
        for (size_t i = 0; i < N_QFTYPES && used < sizeof list; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? " " : "", qftypes[i].name);
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "unknown type '%s' (known: %s)", type, list);
    }
    if (p.n_threads < 0 || p.n_threads > 1024)
        return ingot_error_set(err, INGOT_E_RANGE, "n_threads %d is out of range [0, 1024]", (int)p.n_threads);
    int nth = p.n_threads > 0 ? p.n_threads : ingot_cpu_count();
    if (nth < 1) nth = 1;

    /* Check the output's directory before any work. */
    char dir[4096];
    dir_of(out_path, dir, sizeof dir);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return ingot_error_set(err, INGOT_E_IO, "%s: the output directory %s does not exist", out_path, dir);
    if (access(dir, W_OK) != 0)
        return ingot_error_set(err, INGOT_E_IO, "%s: the output directory %s is not writable: %s", out_path, dir,
                               strerror(errno));
    if (stat(out_path, &st) == 0 && S_ISDIR(st.st_mode))
        return ingot_error_set(err, INGOT_E_IO, "%s: is a directory", out_path);

    ingot_gguf *g = NULL;
    ingot_status s = ingot_gguf_open(in_path, true, &g, err);
    if (s) return s;
    int64_t split_count = 0;
    if (ingot_gguf_get_i64(g, "split.count", &split_count) && split_count > 1) {
        s = ingot_error_set(err, INGOT_E_UNSUPPORTED, "%s: split files (%lld parts) are not supported; merge them first",
                            in_path, (long long)split_count);
        ingot_gguf_close(g);
        return s;
    }
    int64_t n = ingot_gguf_n_tensors(g);
    if (n > INT32_MAX) {
        ingot_gguf_close(g);
        return ingot_error_set(err, INGOT_E_UNSUPPORTED, "%s: too many tensors", in_path);
    }
    size_t nalloc = (size_t)(n > 0 ? n : 1);
    ingot_type *types = malloc(nalloc * sizeof *types);
    bool *fallback = malloc(nalloc * sizeof *fallback);
    size_t *offs = malloc(nalloc * sizeof *offs);
    ingot_gguf_writer *w = ingot_gguf_writer_new();
    ingot_pool *pool = NULL;
    float *scratch_rows = NULL;
    scratch_map sm = {0};
    if (!types || !fallback || !offs || !w) {
        s = ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        goto done;
    }
    s = ingot_quantize_plan(g, ft, p.pure, types, fallback, err);
    if (s) goto done;

    /* Every tensor to convert must come from floats; a quantized input
     * would lose twice (llama-quantize refuses it too, unless forced). */
    size_t scratch_size = 0;
    int64_t max_row = 1;
    uint64_t total_in = 0;
    for (int64_t i = 0; i < n; i++) {
        const ingot_gguf_tensor *t = ingot_gguf_tensor_at(g, i);
        total_in += t->nbytes;
        if (types[i] == t->type) continue;
        if (!is_float_type(t->type)) {
            s = ingot_error_set(err, INGOT_E_UNSUPPORTED,
                                "%s: already quantized (%s is %s); quantize from an F32, F16 or BF16 file",
                                in_path, t->name, ingot_type_name(t->type));
            goto done;
        }
        if (!ingot_type_traits_get(types[i])->from_float) {
            s = ingot_error_set(err, INGOT_E_UNSUPPORTED, "no quantizer for %s", ingot_type_name(types[i]));
            goto done;
        }
        int64_t rows = n_elements(t) / t->ne[0];
        size_t bytes = ingot_type_row_size(types[i], t->ne[0]) * (size_t)rows;
        offs[i] = scratch_size;
        scratch_size += (bytes + 63) & ~(size_t)63;
        if (t->ne[0] > max_row) max_row = t->ne[0];
    }
    s = scratch_open(out_path, scratch_size, &sm, err);
    if (s) goto done;
    if (scratch_size) {
        pool = ingot_pool_new(nth);
        scratch_rows = malloc((size_t)nth * (size_t)max_row * sizeof *scratch_rows);
        if (!pool || !scratch_rows) {
            s = ingot_error_set(err, INGOT_E_NOMEM, "out of memory starting %d threads", nth);
            goto done;
        }
    }

    for (int64_t kid = 0; kid < ingot_gguf_n_kv(g); kid++) {
        if ((s = ingot_gguf_writer_copy_kv(w, g, kid))) {
            s = ingot_error_set(err, s, "%s: cannot copy key %s", in_path, ingot_gguf_key(g, kid));
            goto done;
        }
    }
    if ((s = ingot_gguf_writer_set_u32(w, "general.quantization_version", 2)) ||
        (s = ingot_gguf_writer_set_u32(w, "general.file_type", ft->ftype))) {
        s = ingot_error_set(err, s, "out of memory");
        goto done;
    }

    ingot_quantize_result res = {0};
    snprintf(res.file_type, sizeof res.file_type, "%s", ft->name);
    res.ftype = ft->ftype;
    res.n_tensors = (int32_t)n;
    uint64_t done_in = 0;
    for (int64_t i = 0; i < n; i++) {
        const ingot_gguf_tensor *t = ingot_gguf_tensor_at(g, i);
        bool convert = types[i] != t->type;
        int64_t rows = n_elements(t) / t->ne[0];
        ingot_quantize_progress pr = {0};
        pr.index = (int32_t)i;
        pr.n_tensors = (int32_t)n;
        pr.name = t->name;
        pr.n_dims = t->n_dims;
        for (int d = 0; d < INGOT_GGUF_MAX_DIMS; d++) pr.ne[d] = t->ne[d];
        pr.from_type = ingot_type_name(t->type);
        pr.to_type = ingot_type_name(types[i]);
        pr.converted = convert;
        pr.fallback = fallback[i];
        pr.from_bytes = t->nbytes;
        pr.to_bytes = convert ? ingot_type_row_size(types[i], t->ne[0]) * (uint64_t)rows : t->nbytes;
        pr.done_bytes = done_in;
        pr.total_bytes = total_in;
        if (progress && !progress(&pr, user)) {
            s = ingot_error_set(err, INGOT_E_CANCELLED, "quantization cancelled at %s", t->name);
            goto done;
        }
        const void *data = t->data;
        if (convert) {
            convert_job job = {t, types[i], (char *)sm.base + offs[i], rows, t->ne[0], scratch_rows};
            ingot_pool_run(pool, convert_task, &job);
            data = job.dst;
            res.n_converted++;
        } else {
            res.n_copied++;
        }
        res.n_fallback += fallback[i];
        res.in_bytes += t->nbytes;
        res.out_bytes += pr.to_bytes;
        s = ingot_gguf_writer_add_tensor(w, t->name, types[i], t->n_dims, t->ne, data);
        if (s) {
            s = ingot_error_set(err, s, "%s: cannot add tensor %s", out_path, t->name);
            goto done;
        }
        done_in += t->nbytes;
        pr.done = true;
        pr.done_bytes = done_in;
        if (progress && !progress(&pr, user)) {
            s = ingot_error_set(err, INGOT_E_CANCELLED, "quantization cancelled after %s", t->name);
            goto done;
        }
    }
    s = ingot_gguf_writer_write(w, out_path, err);
    if (!s) {
        res.seconds = (ingot_time_ms() - t0) / 1000.0;
        if (result) *result = res;
    }
done:
    scratch_close(&sm);
    free(scratch_rows);
    ingot_pool_free(pool);
    ingot_gguf_writer_free(w);
    free(offs);
    free(fallback);
    free(types);
    ingot_gguf_close(g);
    return s;
}
