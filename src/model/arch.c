/* Owns the architecture registry: which GGUF architectures ingot runs and
 * how each one's hyperparameters are read, with llama.cpp's defaults where
 * a key is missing. Per-family differences in the forward pass are data
 * here (rope style, activation, scales), not branches in forward.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "model/model.h"

typedef struct arch_desc {
    const char *name;
    ingot_arch arch;
    ingot_rope_style rope;
    ingot_ffn_act act;
    float default_eps;
} arch_desc;

static const arch_desc archs[] = {
    {"llama", INGOT_ARCH_LLAMA, INGOT_ROPE_NORM, INGOT_ACT_SILU, 1e-5f},
    {"qwen2", INGOT_ARCH_QWEN2, INGOT_ROPE_NEOX, INGOT_ACT_SILU, 1e-6f},
    {"qwen3", INGOT_ARCH_QWEN3, INGOT_ROPE_NEOX, INGOT_ACT_SILU, 1e-6f},
    {"gemma3", INGOT_ARCH_GEMMA3, INGOT_ROPE_NEOX, INGOT_ACT_GELU_TANH, 1e-6f},
    {"phi3", INGOT_ARCH_PHI3, INGOT_ROPE_NEOX, INGOT_ACT_SILU, 1e-5f},
};

static bool key_u32(const ingot_gguf *g, const char *arch, const char *suffix, uint32_t *out) {
    char key[256];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return ingot_gguf_get_u32(g, key, out);
}

static bool key_f32(const ingot_gguf *g, const char *arch, const char *suffix, float *out) {
    char key[256];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return ingot_gguf_get_f32(g, key, out);
}

/* Some GGUFs store per-layer values (head counts, FFN sizes) as arrays;
 * ingot supports them when every layer has the same value. */
static ingot_status key_u32_uniform(const ingot_gguf *g, const char *arch, const char *suffix,
                                    bool required, uint32_t *out, ingot_error *err) {
    char key[256];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (ingot_gguf_get_u32(g, key, out)) return INGOT_OK;
    int64_t kid = ingot_gguf_find_key(g, key);
    if (kid >= 0 && ingot_gguf_kv_type(g, kid) == INGOT_GGUF_ARRAY) {
        ingot_gguf_vtype et = ingot_gguf_arr_type(g, kid);
        uint64_t n = ingot_gguf_arr_n(g, kid);
        const void *d = ingot_gguf_arr_data(g, kid);
        if ((et == INGOT_GGUF_UINT32 || et == INGOT_GGUF_INT32) && n > 0 && d) {
            uint32_t first;
            memcpy(&first, d, 4);
            for (uint64_t i = 1; i < n; i++) {
                uint32_t v;
                memcpy(&v, (const char *)d + i * 4, 4);
                if (v != first)
                    return ingot_error_set(err, INGOT_E_UNSUPPORTED,
                                           "%s: per-layer values that differ (layer 0: %u, layer %llu: %u) "
                                           "are not supported",
                                           key, first, (unsigned long long)i, v);
            }
            *out = first;
            return INGOT_OK;
        }
    }
    if (kid >= 0)
        return ingot_error_set(err, INGOT_E_FORMAT, "metadata key %s has an unexpected type", key);
    if (required)
        return ingot_error_set(err, INGOT_E_FORMAT, "missing metadata key %s", key);
    return INGOT_E_NOT_FOUND;
}

ingot_status ingot_hparams_load(const ingot_gguf *g, ingot_hparams *hp, ingot_error *err) {
    memset(hp, 0, sizeof *hp);
    const char *name = ingot_gguf_get_str(g, "general.architecture");
    if (!name)
        return ingot_error_set(err, INGOT_E_FORMAT, "missing metadata key general.architecture");
    const arch_desc *d = NULL;
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
        if (!strcmp(archs[i].name, name)) d = &archs[i];
    if (!d)
        return ingot_error_set(err, INGOT_E_UNSUPPORTED,
                               "unknown architecture '%s' (supported: llama, qwen2, qwen3, gemma3, phi3)",
                               name);
    hp->arch = d->arch;
    hp->arch_name = d->name;
    hp->rope_style = d->rope;
    hp->act = d->act;

    uint32_t v;
    ingot_status s;
    if ((s = key_u32_uniform(g, name, "embedding_length", true, &v, err))) return s;
    hp->n_embd = (int32_t)v;
    if ((s = key_u32_uniform(g, name, "block_count", true, &v, err))) return s;
    hp->n_layer = (int32_t)v;
    if ((s = key_u32_uniform(g, name, "feed_forward_length", true, &v, err))) return s;
    hp->n_ff = (int32_t)v;
    if ((s = key_u32_uniform(g, name, "attention.head_count", true, &v, err))) return s;
    hp->n_head = (int32_t)v;
    s = key_u32_uniform(g, name, "attention.head_count_kv", false, &v, err);
    if (s == INGOT_OK) hp->n_head_kv = (int32_t)v;
    else if (s == INGOT_E_NOT_FOUND) hp->n_head_kv = hp->n_head;
    else return s;
    hp->n_ctx_train = key_u32(g, name, "context_length", &v) ? (int32_t)v : 2048;

    if (hp->n_embd <= 0 || hp->n_embd > 1 << 16 || hp->n_layer <= 0 ||
        hp->n_layer > INGOT_MAX_LAYERS || hp->n_head <= 0 || hp->n_head > 1024 ||
        hp->n_head_kv <= 0 || hp->n_head % hp->n_head_kv != 0 || hp->n_ff <= 0 ||
        hp->n_ff > 1 << 20 || hp->n_ctx_train <= 0)
        return ingot_error_set(err, INGOT_E_FORMAT,
                               "implausible hyperparameters for %s: n_embd=%d n_layer=%d n_head=%d "
                               "n_head_kv=%d n_ff=%d context_length=%d",
                               name, hp->n_embd, hp->n_layer, hp->n_head, hp->n_head_kv, hp->n_ff,
                               hp->n_ctx_train);

    hp->head_dim = hp->n_embd / hp->n_head;
    if (key_u32(g, name, "attention.key_length", &v)) hp->head_dim = (int32_t)v;
    uint32_t vlen;
    if (key_u32(g, name, "attention.value_length", &vlen) && (int32_t)vlen != hp->head_dim)
        return ingot_error_set(err, INGOT_E_UNSUPPORTED,
                               "%s.attention.value_length (%u) differs from key_length (%d)", name,
                               vlen, hp->head_dim);
    if (hp->head_dim <= 0 || hp->head_dim > 1024 || hp->head_dim % 2)
        return ingot_error_set(err, INGOT_E_FORMAT, "implausible head dimension %d", hp->head_dim);
    hp->n_rot = hp->head_dim;
    if (key_u32(g, name, "rope.dimension_count", &v)) hp->n_rot = (int32_t)v;
    if (hp->n_rot <= 0 || hp->n_rot > hp->head_dim || hp->n_rot % 2)
        return ingot_error_set(err, INGOT_E_FORMAT, "%s.rope.dimension_count %d is not an even number <= %d",
                               name, hp->n_rot, hp->head_dim);

    hp->norm_eps = d->default_eps;
    key_f32(g, name, "attention.layer_norm_rms_epsilon", &hp->norm_eps);
    hp->rope_base = 10000.0f;
    key_f32(g, name, "rope.freq_base", &hp->rope_base);
    hp->rope_freq_scale = 1.0f;
    float factor;
    const char *stype = NULL;
    {
        char key[256];
        snprintf(key, sizeof key, "%s.rope.scaling.type", name);
        stype = ingot_gguf_get_str(g, key);
    }
    if (key_f32(g, name, "rope.scaling.factor", &factor) || key_f32(g, name, "rope.scale_linear", &factor)) {
        if (factor > 0 && (!stype || !strcmp(stype, "linear"))) hp->rope_freq_scale = 1.0f / factor;
    }
    if (stype && strcmp(stype, "none") && strcmp(stype, "linear") && strcmp(stype, "longrope"))
        return ingot_error_set(err, INGOT_E_UNSUPPORTED, "%s.rope.scaling.type '%s' is not supported", name,
                               stype);
    hp->n_ctx_orig = hp->n_ctx_train;
    if (key_u32(g, name, "rope.scaling.original_context_length", &v)) hp->n_ctx_orig = (int32_t)v;
    hp->rope_base_swa = hp->rope_base;
    hp->rope_freq_scale_swa = hp->rope_freq_scale;
    hp->attn_scale = 1.0f / sqrtf((float)hp->head_dim);
    hp->embd_scale = 1.0f;
    key_f32(g, name, "final_logit_softcapping", &hp->final_softcap);
    key_f32(g, name, "attn_logit_softcapping", &hp->attn_softcap);

    if (hp->arch == INGOT_ARCH_GEMMA3) {
        hp->embd_scale = sqrtf((float)hp->n_embd);
        /* Gemma 3 runs its local (sliding-window) layers at rope base 10000
         * with no scaling; llama.cpp hard-codes this for the family. */
        hp->rope_base_swa = 10000.0f;
        hp->rope_freq_scale_swa = 1.0f;
        key_f32(g, name, "rope.freq_base_swa", &hp->rope_base_swa);
        if (key_u32(g, name, "attention.sliding_window", &v)) hp->n_swa = (int32_t)v;
        char key[256];
        snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", name);
        int64_t kid = ingot_gguf_find_key(g, key);
        uint32_t pattern = 6;
        if (kid >= 0 && ingot_gguf_kv_type(g, kid) == INGOT_GGUF_ARRAY &&
            ingot_gguf_arr_type(g, kid) == INGOT_GGUF_BOOL) {
            uint64_t n = ingot_gguf_arr_n(g, kid);
            const uint8_t *b = ingot_gguf_arr_data(g, kid);
            if (n != (uint64_t)hp->n_layer)
                return ingot_error_set(err, INGOT_E_FORMAT, "%s has %llu entries for %d layers", key,
                                       (unsigned long long)n, hp->n_layer);
            for (int i = 0; i < hp->n_layer; i++) hp->swa_layer[i] = b[i] != 0;
        } else {
            if (kid >= 0 && !ingot_gguf_get_u32(g, key, &pattern))
                return ingot_error_set(err, INGOT_E_FORMAT, "%s has an unexpected type", key);
            /* Every pattern-th layer is global; the others slide. */
            for (int i = 0; i < hp->n_layer; i++)
                hp->swa_layer[i] = pattern == 0 || (uint32_t)i % pattern < pattern - 1;
        }
        if (hp->n_swa <= 0)
            for (int i = 0; i < hp->n_layer; i++) hp->swa_layer[i] = false;
    } else if (key_u32(g, name, "attention.sliding_window", &v) && v > 0) {
        hp->n_swa = (int32_t)v;
        for (int i = 0; i < hp->n_layer; i++) hp->swa_layer[i] = true;
    }
    return INGOT_OK;
}
