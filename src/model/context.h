/* The session state: KV cache and activation scratch, carved from one
 * allocation made when the context is created. */
#ifndef INGOT_MODEL_CONTEXT_H
#define INGOT_MODEL_CONTEXT_H
#include "model/model.h"

#define INGOT_ACT_SLOTS 3

struct ingot_context {
    ingot_model *model;
    ingot_context_params params;
    ingot_pool *pool;
    int32_t n_ctx, n_batch, n_past, n_threads;
    int64_t kv_dim;        /* n_head_kv * head_dim */
    size_t kv_elt;         /* 2 (F16) or 4 (F32) bytes */
    char *kv_k, *kv_v;     /* [n_layer][n_ctx][kv_dim] */
    void *mem;             /* the one allocation */
    /* activations, [n_batch][...] */
    float *x, *xb, *out;   /* [E] */
    float *qkv;            /* [Q + 2 KV]: q heads, then k heads, then v heads */
    float *attn;           /* [Q] */
    float *ff;             /* [2 F]: gate, then up */
    float *ffh;            /* [F]: act(gate) * up */
    float *rope_cs;        /* [2][n_rot]: cos/sin per token, global then sliding layers */
    float *scores;         /* [n_threads][scores_stride]: attention scratch */
    size_t scores_stride;  /* floats per thread */
    int attn_tile;         /* tokens per prompt attention call */
    float *qtmp;           /* [n_threads][head_dim] */
    char *embd_row;        /* [n_threads][embd_row_stride]: a token embedding row as stored */
    size_t embd_row_stride;
    char *act[INGOT_ACT_SLOTS]; /* converted activations for products */
    size_t act_row;        /* bytes per converted row (max over weights) */
    char *act_pk;          /* the Q8_0 rows again as ingot_packed_act, for
                              packed kernels that want them so (else NULL) */
    int64_t act_pk_nb;     /* blocks per row it holds (max over weights) */
    float *logits;         /* [logits_cap rows][n_vocab] */
    int32_t logits_cap, n_logit_rows;
    const struct ingot_attn_kernels *attn_kernels;
    const float *rope_factors; /* chosen per context length (phi3 LongRoPE) */
    ingot_error err;
};

/* Runs the model over tokens[0..n) at positions n_past.. (n <= n_batch),
 * writing logits for rows [first_logit, n) into out (row-major, n_vocab). */
ingot_status ingot_forward(ingot_context *ctx, const int32_t *tokens, int32_t n, int32_t first_logit,
                           float *out);
#endif
