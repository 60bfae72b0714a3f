/* The loaded model: hyperparameters read from GGUF metadata (with
 * llama.cpp's defaults for missing keys), per-layer weights bound by the
 * architecture's tensor names, and the session (context) that runs the
 * forward pass over a KV cache. */
#ifndef INGOT_MODEL_MODEL_H
#define INGOT_MODEL_MODEL_H
#include <stdbool.h>
#include <stdint.h>

#include "base/pool.h"
#include "format/gguf.h"
#include "tensor/ops.h"

typedef enum ingot_arch {
    INGOT_ARCH_LLAMA,
    INGOT_ARCH_QWEN2,
    INGOT_ARCH_QWEN3,
    INGOT_ARCH_GEMMA3,
    INGOT_ARCH_PHI3,
} ingot_arch;

typedef enum ingot_ffn_act { INGOT_ACT_SILU, INGOT_ACT_GELU_TANH } ingot_ffn_act;

#define INGOT_MAX_LAYERS 512

typedef struct ingot_hparams {
    ingot_arch arch;
    const char *arch_name;
    int32_t n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, n_ff;
    int32_t head_dim;       /* key_length; value_length must equal it */
    int32_t n_rot;          /* rope dimension count */
    float norm_eps;
    float rope_base, rope_freq_scale;
    float rope_base_swa, rope_freq_scale_swa; /* sliding-window layers */
    int32_t n_ctx_orig;     /* rope scaling original context (phi3 LongRoPE) */
    ingot_rope_style rope_style;
    ingot_ffn_act act;
    float attn_scale;       /* applied to q·k */
    float embd_scale;       /* token embeddings are multiplied by this */
    float final_softcap;    /* 0 = none */
    float attn_softcap;     /* 0 = none */
    int32_t n_swa;          /* sliding window size, 0 = none */
    bool swa_layer[INGOT_MAX_LAYERS];
} ingot_hparams;

typedef struct ingot_layer {
    const float *attn_norm;           /* [n_embd] */
    ingot_weight wq, wk, wv;          /* [n_embd] -> [n_head*hd], [n_head_kv*hd] x2 */
    ingot_weight wqkv;                /* phi3: fused, ne1 = (n_head + 2*n_head_kv)*hd */
    const float *bq, *bk, *bv;        /* optional biases */
    const float *q_norm, *k_norm;     /* [head_dim], qwen3/gemma3 */
    ingot_weight wo;                  /* [n_head*hd] -> [n_embd] */
    const float *post_attn_norm;      /* gemma3 */
    const float *ffn_norm;            /* [n_embd] */
    ingot_weight w_gate, w_up;        /* [n_embd] -> [n_ff] */
    ingot_weight w_gate_up;           /* phi3: fused, ne1 = 2*n_ff (gate first) */
    ingot_weight w_down;              /* [n_ff] -> [n_embd] */
    const float *post_ffn_norm;       /* gemma3 */
} ingot_layer;

struct ingot_model {
    ingot_gguf *gguf;
    char *path;
    ingot_hparams hp;
    ingot_weight tok_embd;            /* [n_embd] x n_vocab rows */
    const float *output_norm;         /* [n_embd] */
    ingot_weight output;              /* [n_embd] -> [n_vocab]; may alias tok_embd */
    const float *rope_factors_short, *rope_factors_long, *rope_freqs; /* [n_rot/2] */
    ingot_layer *layers;
    uint64_t n_params;
    const char *file_type;
    ingot_tokenizer *tokenizer;       /* from the GGUF vocabulary; NULL if it has none */
    void *packed_mem;                 /* packed copies of the matrices (pack_weights.c) */
    size_t packed_bytes;
    void **owned;                     /* private copies of the 1-D vectors */
    int n_owned, cap_owned;
};

/* Row tok of the token embedding as floats; scratch must hold
 * tok_embd.row_bytes (the row is read without mapping file pages). */
void ingot_model_embed_row(const ingot_model *m, int32_t tok, void *scratch, float *out);

/* Packs every matrix the chosen kernel set has packed kernels for
 * (model/pack_weights.c): _start allocates the packed copies, points the
 * weights at them and starts helper threads (*run stays NULL when there is
 * nothing to pack); _finish joins the work on the calling thread and
 * waits for the helpers. The weights must not be used in between; _finish
 * must be called (also on error paths) before the model is freed. */
typedef struct ingot_pack_run ingot_pack_run;
ingot_status ingot_model_pack_start(ingot_model *m, ingot_pack_run **run, ingot_error *err);
void ingot_model_pack_finish(ingot_pack_run *run);

/* Reads hparams from g for a supported architecture. */
ingot_status ingot_hparams_load(const ingot_gguf *g, ingot_hparams *hp, ingot_error *err);
#endif
