/* ingot — run language models on the user's own machine.
 *
 * The public API of libingot. Conventions (see docs/DESIGN.md):
 *  - every function that can fail returns an ingot_status; constructors take
 *    an optional ingot_error* that receives the message when they fail, and
 *    long-lived objects keep the message of their last failure, readable with
 *    the object's *_errmsg() function;
 *  - every _new/_load/_open has exactly one _free; freeing NULL is a no-op;
 *  - the library never prints and never exits; logs go to ingot_log_set().
 * Sections are grouped by layer: base, model, tokenizer, chat, generate,
 * hub, backend, server. */
#ifndef INGOT_H
#define INGOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define INGOT_VERSION "0.1.0"

/* ---------------------------------------------------------------- base -- */

typedef enum ingot_status {
    INGOT_OK = 0,
    INGOT_E_INVALID_ARG,  /* a caller passed something unusable */
    INGOT_E_IO,           /* open/read/write/mmap failed */
    INGOT_E_FORMAT,       /* a file is malformed (truncated, bad field...) */
    INGOT_E_UNSUPPORTED,  /* well-formed but not supported (version, arch, type) */
    INGOT_E_NOMEM,        /* allocation failed */
    INGOT_E_NOT_FOUND,    /* a key, tensor, file or model is missing */
    INGOT_E_RANGE,        /* a value is out of its allowed range */
    INGOT_E_CANCELLED,    /* a callback asked to stop */
    INGOT_E_CONTEXT_FULL, /* the context window has no room left */
    INGOT_E_TEMPLATE,     /* a chat template failed to parse or render */
    INGOT_E_NETWORK,      /* a connection failed or timed out */
    INGOT_E_AUTH,         /* 401/403 from a server */
    INGOT_E_UNAVAILABLE,  /* a backend cannot run here */
    INGOT_E_INTERNAL      /* a bug in ingot */
} ingot_status;

/* A status with its message. The message names what failed, where (file,
 * field, byte offset) and why. */
typedef struct ingot_error {
    ingot_status status;
    char message[1024];
} ingot_error;

/* Short constant name of a status ("format error", ...). */
const char *ingot_status_str(ingot_status s);
const char *ingot_version(void);

typedef enum ingot_log_level {
    INGOT_LOG_ERROR = 0, INGOT_LOG_WARN, INGOT_LOG_INFO, INGOT_LOG_DEBUG
} ingot_log_level;
typedef void (*ingot_log_fn)(ingot_log_level level, const char *msg, void *user);
/* Sets the process-wide log sink (NULL: discard) and the most verbose level
 * passed to it. Default: discard. Call before other threads use ingot. */
void ingot_log_set(ingot_log_fn fn, void *user, ingot_log_level max_level);

/* --------------------------------------------------------------- model -- */

typedef struct ingot_model ingot_model;     /* weights + hparams, read-only once loaded */
typedef struct ingot_context ingot_context; /* one session: KV cache + scratch */

typedef enum ingot_kv_type { INGOT_KV_F16 = 0, INGOT_KV_F32 = 1 } ingot_kv_type;

typedef struct ingot_model_params {
    bool use_mmap; /* map the file (default true); false reads it into memory */
} ingot_model_params;
ingot_model_params ingot_model_default_params(void);

/* Loads a GGUF model file. On failure *out is NULL and err (if given) says why. */
ingot_status ingot_model_load(const char *path, const ingot_model_params *params,
                              ingot_model **out, ingot_error *err);
void ingot_model_free(ingot_model *model);

/* Facts about a loaded model. Strings live as long as the model. */
typedef struct ingot_model_info {
    const char *arch;        /* "llama", "qwen2", ... */
    const char *name;        /* general.name, or "" */
    const char *path;
    uint64_t file_size;      /* bytes */
    uint64_t n_params;       /* elements of all weight tensors */
    int32_t n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff;
    int32_t n_tensors;
    const char *file_type;   /* dominant weight type, e.g. "Q4_K" */
    const char *tokenizer;   /* tokenizer.ggml.model, e.g. "llama", "gpt2", or "" */
    bool has_chat_template;
} ingot_model_info;
void ingot_model_get_info(const ingot_model *model, ingot_model_info *info);

/* Per-type tensor counts: calls fn once per tensor type present. */
void ingot_model_foreach_type(const ingot_model *model,
                              void (*fn)(const char *type_name, int n_tensors,
                                         uint64_t n_bytes, void *user),
                              void *user);

typedef struct ingot_context_params {
    int32_t n_ctx;      /* context length; 0 = the model's trained length */
    int32_t n_batch;    /* max tokens per forward pass (default 512) */
    int32_t n_threads;  /* 0 = number of cores */
    ingot_kv_type kv_type;
} ingot_context_params;
ingot_context_params ingot_context_default_params(void);

ingot_status ingot_context_new(ingot_model *model, const ingot_context_params *params,
                               ingot_context **out, ingot_error *err);
void ingot_context_free(ingot_context *ctx);
const char *ingot_context_errmsg(const ingot_context *ctx);

/* Appends n tokens at the current position and runs the model over them
 * (in chunks of n_batch). When all_logits is true the logits of every token
 * are kept ([n][n_vocab], see ingot_context_logits), else only the last
 * row. Fails with INGOT_E_CONTEXT_FULL when the tokens do not fit. */
ingot_status ingot_context_decode(ingot_context *ctx, const int32_t *tokens, int32_t n,
                                  bool all_logits);
/* Logits of the last decode: row-major [n_rows][n_vocab]; valid until the
 * next decode. */
const float *ingot_context_logits(const ingot_context *ctx, int32_t *n_rows);
/* Number of tokens in the KV cache. */
int32_t ingot_context_n_past(const ingot_context *ctx);
int32_t ingot_context_n_ctx(const ingot_context *ctx);
/* Forgets every token from position n_keep on (n_keep <= n_past). */
ingot_status ingot_context_truncate(ingot_context *ctx, int32_t n_keep);
const ingot_model *ingot_context_model(const ingot_context *ctx);

/* ----------------------------------------------------------- tokenizer -- */
/* (section owned by src/tokenizer/) */

/* ---------------------------------------------------------------- chat -- */
/* (section owned by src/chat/) */

/* ------------------------------------------------------------ generate -- */
/* (section owned by src/generate/) */

/* ----------------------------------------------------------------- hub -- */
/* (section owned by src/hub/) */

#ifdef __cplusplus
}
#endif
#endif
