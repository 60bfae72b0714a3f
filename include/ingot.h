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

/* The model's chat template (GGUF tokenizer.chat_template), or NULL. Lives
 * as long as the model. */
const char *ingot_model_chat_template(const ingot_model *model);
/* The model's tokenizer (from its GGUF vocabulary), or NULL if it has none.
 * Lives as long as the model. */
struct ingot_tokenizer;
const struct ingot_tokenizer *ingot_model_tokenizer(const ingot_model *model);

/* ----------------------------------------------------------- tokenizer -- */
/* (section owned by src/tokenizer/) */

/* A tokenizer turns text into token ids and back, exactly as the model's
 * own tokenizer does (Hugging Face `tokenizers` semantics): SentencePiece-
 * style BPE (U+2581 for spaces, <0xXX> byte fallback) or byte-level BPE
 * (GPT-2 byte map) with the model's pre-tokenizer. Immutable once loaded:
 * one handle may be used by several threads at once. */
typedef struct ingot_tokenizer ingot_tokenizer;

/* Loads a tokenizer from path: a Hugging Face tokenizer.json, a directory
 * holding tokenizer.json or vocab.json + merges.txt (tokenizer_config.json
 * beside them supplies special tokens and add_bos), or a .gguf file (its
 * tokenizer.ggml.* vocabulary). */
ingot_status ingot_tokenizer_load(const char *path, ingot_tokenizer **out, ingot_error *err);
void ingot_tokenizer_free(ingot_tokenizer *tok);

/* Encodes len bytes of text. add_bos: add the BOS (and EOS) tokens the
 * tokenizer's configuration asks for (see ingot_tokenizer_add_bos).
 * parse_special: control tokens written in the text ("<|im_end|>") become
 * their ids; when false they are tokenized as plain text (non-special added
 * tokens such as "<think>" are always matched). Invalid UTF-8 never fails:
 * each ill-formed sequence is encoded as U+FFFD. *ids is malloc'ed (free()
 * it; never NULL on success, even when *n_ids is 0). */
ingot_status ingot_tokenize(const ingot_tokenizer *tok, const char *text, size_t len, bool add_bos,
                            bool parse_special, int32_t **ids, int32_t *n_ids, ingot_error *err);

/* Decodes ids to text with the tokenizer's decoder rules (byte-level
 * mapping or U+2581 -> ' ' with <0xXX> bytes; the leading space a
 * SentencePiece model prepends is removed). special: include the text of
 * control tokens ("<s>", "<|im_end|>"); when false they are skipped. The
 * result is always valid UTF-8 (ill-formed bytes become U+FFFD) and
 * NUL-terminated; *text is malloc'ed (free() it). Fails with
 * INGOT_E_RANGE on an id outside [0, n_vocab). */
ingot_status ingot_detokenize(const ingot_tokenizer *tok, const int32_t *ids, size_t n, bool special,
                              char **text, size_t *len, ingot_error *err);

/* The vocabulary entry of id as stored ("▁Hello", "Ġworld", "<0x0A>"),
 * NUL-terminated, living as long as tok; NULL when id is out of range. */
const char *ingot_token_piece(const ingot_tokenizer *tok, int32_t id, size_t *len);
/* The bytes id decodes to on its own (no leading-space removal; may be a
 * fragment of a UTF-8 character). Writes at most cap bytes to buf and
 * returns the full length, or -1 for an id out of range. */
int32_t ingot_token_to_bytes(const ingot_tokenizer *tok, int32_t id, bool special, char *buf, size_t cap);
/* Id of the token whose vocabulary text is exactly s[0..len), or -1. */
int32_t ingot_token_find(const ingot_tokenizer *tok, const char *s, size_t len);

int32_t ingot_tokenizer_n_vocab(const ingot_tokenizer *tok);
/* Special ids; -1 when the tokenizer has none. */
int32_t ingot_tokenizer_bos(const ingot_tokenizer *tok);
int32_t ingot_tokenizer_eos(const ingot_tokenizer *tok);
int32_t ingot_tokenizer_eot(const ingot_tokenizer *tok); /* end of turn: <|eot_id|>, <|im_end|>... */
int32_t ingot_tokenizer_pad(const ingot_tokenizer *tok);
int32_t ingot_tokenizer_unk(const ingot_tokenizer *tok);
/* Text of BOS / EOS ("<s>", "<|im_end|>"), "" when absent; lives as long
 * as tok (chat templates need bos_token / eos_token). */
const char *ingot_tokenizer_bos_text(const ingot_tokenizer *tok);
const char *ingot_tokenizer_eos_text(const ingot_tokenizer *tok);
/* Whether encoding with add_bos=true prepends BOS / appends EOS. */
bool ingot_tokenizer_add_bos(const ingot_tokenizer *tok);
bool ingot_tokenizer_add_eos(const ingot_tokenizer *tok);
/* End of generation: EOS, EOT, and the usual end-of-turn tokens present
 * in the vocabulary (<|im_end|>, <|eot_id|>, <end_of_turn>, <|end|>,
 * <|endoftext|>...). */
bool ingot_tokenizer_is_eog(const ingot_tokenizer *tok, int32_t id);
/* Control tokens (special, not meant to be shown as text). */
bool ingot_token_is_control(const ingot_tokenizer *tok, int32_t id);
/* "llama" (SentencePiece-style BPE) or "gpt2" (byte-level BPE). */
const char *ingot_tokenizer_model(const ingot_tokenizer *tok);

/* Streaming decoder: feed ids one at a time and get back only complete
 * UTF-8 text; the bytes of a character split across tokens are held until
 * it is complete (or flushed as U+FFFD when it never completes). */
typedef struct ingot_detok_stream ingot_detok_stream;
/* special: as in ingot_detokenize. tok must outlive the stream. */
ingot_status ingot_detok_stream_new(const ingot_tokenizer *tok, bool special, ingot_detok_stream **out,
                                    ingot_error *err);
/* Adds one id; *text and *len receive the newly complete text (possibly empty),
 * NUL-terminated, valid until the next call on the stream. */
ingot_status ingot_detok_stream_push(ingot_detok_stream *s, int32_t id, const char **text, size_t *len,
                                     ingot_error *err);
/* Emits what is held back (an incomplete character becomes U+FFFD) and
 * resets the stream to its initial state. */
ingot_status ingot_detok_stream_flush(ingot_detok_stream *s, const char **text, size_t *len);
void ingot_detok_stream_free(ingot_detok_stream *s);

/* ---------------------------------------------------------------- chat -- */
/* (section owned by src/chat/) */

/* Chat templates: a Jinja2 interpreter that renders a model's chat template
 * exactly as Python Jinja2 does under Hugging Face's apply_chat_template
 * (sandboxed, trim_blocks + lstrip_blocks, loop controls, raise_exception,
 * tojson, strftime_now). docs/TEMPLATES.md lists the supported subset. */
typedef struct ingot_template ingot_template;

typedef struct ingot_template_options {
    int64_t now;        /* strftime_now's clock: epoch seconds read as a UTC wall-clock
                           time (pin it for reproducible prompts); 0 = real local time */
    size_t max_output;  /* bytes of output (and of any one string); 0 = 16 MiB */
    size_t max_memory;  /* bytes of working memory; 0 = 256 MiB */
    uint64_t max_steps; /* loop iterations + calls; 0 = 10 million */
} ingot_template_options;
ingot_template_options ingot_template_default_options(void);

/* Parses a template (source need not be NUL-terminated). Syntax errors fail
 * with INGOT_E_TEMPLATE and a message naming line and column, e.g.
 * "template syntax error at line 3, column 5: Encountered unknown tag 'x'." */
ingot_status ingot_template_new(const char *source, size_t len, ingot_template **out,
                                ingot_error *err);
void ingot_template_free(ingot_template *t);

/* Renders with the variables of context_json, a JSON object (NULL = none):
 * messages, add_generation_prompt, bos_token, eos_token, tools, ... A
 * variable left out is Jinja's Undefined. *out is malloc'ed and
 * NUL-terminated (the caller frees it); *out_len (if given) excludes the
 * NUL. Errors: INGOT_E_TEMPLATE with "Kind: message (template line N)",
 * e.g. "TemplateError: System role not supported (template line 3)" from
 * raise_exception, or a limit of opt being reached; INGOT_E_INVALID_ARG for
 * a context that is not a JSON object. A template may be rendered from
 * several threads at once. */
ingot_status ingot_template_render(const ingot_template *t, const char *context_json,
                                   const ingot_template_options *opt, char **out,
                                   size_t *out_len, ingot_error *err);

/* Messages -> prompt, set up as apply_chat_template does. */
typedef struct ingot_chat_params {
    const char *bos_token, *eos_token; /* NULL = "" */
    bool add_generation_prompt;
    const char *tools_json;  /* JSON array of tools, or NULL (then `tools` is undefined) */
    const char *extra_json;  /* JSON object of more variables (e.g. {"enable_thinking":
                                false}), or NULL */
    int64_t now;             /* as ingot_template_options.now */
} ingot_chat_params;

/* messages_json: a JSON array of {"role", "content", ...} objects. With
 * t == NULL (a model without a template) the prompt is the plain
 * concatenation of the string contents, each followed by "\n". */
ingot_status ingot_chat_apply(const ingot_template *t, const char *messages_json,
                              const ingot_chat_params *params, char **out, size_t *out_len,
                              ingot_error *err);

/* ------------------------------------------------------------ generate -- */
/* (section owned by src/generate/; see docs/GENERATION.md) */

/* --- sampling ---
 * One row of logits becomes one token through this chain, in this order
 * (llama.cpp's): logit bias; repeat, presence and frequency penalties over
 * the last repeat_last_n accepted tokens (the prompt counts); top-k; top-p;
 * min-p; temperature; then a draw from what is left with the sampler's own
 * PRNG (xoshiro256**), so one seed gives the same tokens on every machine
 * and at every thread count. temperature <= 0 is plain greedy decoding: the
 * argmax of the logits plus logit bias, with no penalties and no draw (ties
 * go to the lowest id). */
#define INGOT_SEED_RANDOM UINT64_MAX /* seed from the clock */

typedef struct ingot_logit_bias {
    int32_t token;
    float bias; /* added to the logit; -INFINITY bans the token */
} ingot_logit_bias;

typedef struct ingot_sampler_params {
    float temperature;       /* 0.7; <= 0: greedy */
    int32_t top_k;           /* 40; <= 0: off */
    float top_p;             /* 0.9; in [0, 1], 1: off */
    float min_p;             /* 0 (off); keeps p >= min_p * p_max, in [0, 1] */
    float repeat_penalty;    /* 1.1; 1: off; divides positive logits and
                                multiplies negative ones, once per seen token */
    int32_t repeat_last_n;   /* 64; window of all three penalties; 0: off; -1: all */
    float presence_penalty;  /* 0; subtracted once from every seen token */
    float frequency_penalty; /* 0; subtracted once per occurrence */
    uint64_t seed;           /* INGOT_SEED_RANDOM (default): from the clock */
    const ingot_logit_bias *logit_bias; /* n_logit_bias entries, copied */
    int32_t n_logit_bias;
} ingot_sampler_params;
ingot_sampler_params ingot_sampler_default_params(void);

typedef struct ingot_sampler ingot_sampler;
/* Fails with INGOT_E_RANGE on a parameter out of range (NaN temperature,
 * top_p outside [0,1], repeat_penalty <= 0, a biased token outside the
 * vocabulary...). */
ingot_status ingot_sampler_new(const ingot_sampler_params *params, int32_t n_vocab,
                               ingot_sampler **out, ingot_error *err);
void ingot_sampler_free(ingot_sampler *s);
/* Chooses the next token from one row of n_vocab logits (left unchanged).
 * Always returns an id in [0, n_vocab). Does not record it: call accept. */
int32_t ingot_sampler_sample(ingot_sampler *s, const float *logits);
/* Adds a token to the penalty history (prompt tokens, then sampled ones). */
void ingot_sampler_accept(ingot_sampler *s, int32_t token);
/* Forgets the history and restarts the PRNG from the seed. */
void ingot_sampler_reset(ingot_sampler *s);
/* The seed in use (the drawn one when INGOT_SEED_RANDOM was asked for). */
uint64_t ingot_sampler_seed(const ingot_sampler *s);

/* --- one generation request ---
 * The request is backend-neutral: a local session runs it here, a remote
 * backend can send the same fields to an OpenAI or Ollama server. */
typedef struct ingot_message {
    const char *role;    /* "system", "user", "assistant", ... */
    const char *content;
} ingot_message;

typedef struct ingot_generate_params {
    /* Input: either a list of messages (a conversation, sent whole on
     * every turn) or, when n_messages is 0, one prompt text that is treated
     * as a single user message. */
    const char *prompt;
    const ingot_message *messages;
    int32_t n_messages;
    /* A system message put before the messages (NULL: none; ignored when
     * messages already start with a "system" one). */
    const char *system;
    /* true: no chat template; the text is tokenized as is, after the
     * model's BOS: the system prompt, then the prompt or the messages'
     * contents, joined with "\n" (also what a model without a template
     * gets). */
    bool raw;
    ingot_sampler_params sampling;
    const char *const *stop; /* n_stop stop strings: generation ends before */
    int32_t n_stop;          /* the first one and it is never emitted */
    int32_t max_tokens;      /* 512; 0: only process the prompt; -1: no limit */
} ingot_generate_params;
ingot_generate_params ingot_generate_default_params(void);

/* Why a generation ended. */
typedef enum ingot_finish_reason {
    INGOT_FINISH_NONE = 0,  /* did not start (an error before the first token) */
    INGOT_FINISH_STOP,      /* an end-of-generation token or a stop string */
    INGOT_FINISH_LENGTH,    /* max_tokens reached */
    INGOT_FINISH_CONTEXT,   /* no room left: the prompt did not fit, or the window
                               filled up while generating (INGOT_E_CONTEXT_FULL) */
    INGOT_FINISH_CANCELLED, /* the callback returned false (INGOT_E_CANCELLED) */
    INGOT_FINISH_ERROR      /* any other failure mid-way */
} ingot_finish_reason;
/* "stop", "length", "context_full", "cancelled", "error" or "none". */
const char *ingot_finish_reason_str(ingot_finish_reason r);

/* Filled on every generation, also a failed or cancelled one. */
typedef struct ingot_metrics {
    int32_t prompt_tokens;    /* tokens of the whole rendered prompt */
    int32_t reused_tokens;    /* of those, found in the KV cache (not re-run) */
    int32_t generated_tokens; /* sampled tokens, the end-of-generation one excluded */
    double load_ms;           /* model + context load; first generation of a session only */
    double ttft_ms;           /* from the call to the first sampled token */
    double prompt_tps;        /* (prompt_tokens - reused_tokens) per second of prefill */
    double gen_tps;           /* decode steps per second after the first token */
    double total_ms;          /* the whole call */
    double peak_rss_mb;       /* peak resident memory of the process so far */
    uint64_t seed;            /* the sampling seed used (the drawn one if random) */
    ingot_finish_reason finish;
} ingot_metrics;

/* Receives the generated text in pieces: valid, complete UTF-8 (an invalid
 * byte becomes U+FFFD), never part of a stop string. Return false to stop:
 * the generation then ends with INGOT_E_CANCELLED, the text so far kept. */
typedef bool (*ingot_piece_fn)(const char *piece, size_t len, void *user);

/* --- sessions ---
 * A session is one conversation on one model: a context (KV cache) that
 * outlives generations. Each generation renders the whole request to
 * tokens, keeps the longest common prefix with what the cache holds,
 * evaluates only the rest, then samples one token per step. */
typedef struct ingot_session ingot_session;

typedef struct ingot_session_params {
    ingot_context_params context;
    /* Jinja chat template used instead of the model's own
     * (tokenizer.chat_template); NULL: the model's. Copied. */
    const char *chat_template;
} ingot_session_params;
ingot_session_params ingot_session_default_params(void);

/* A session on a model the caller owns (and frees after the session). */
ingot_status ingot_session_new(ingot_model *model, const ingot_session_params *params,
                               ingot_session **out, ingot_error *err);
/* Loads the model at path and owns it; the load time is reported in the
 * first generation's metrics. */
ingot_status ingot_session_open(const char *model_path, const ingot_model_params *model_params,
                                const ingot_session_params *params, ingot_session **out,
                                ingot_error *err);
void ingot_session_free(ingot_session *s);
/* Message of the session's last failure ("" if none); lives until the next call. */
const char *ingot_session_errmsg(const ingot_session *s);

/* Runs one request. on_piece (may be NULL) receives the text as it is
 * generated; metrics (may be NULL) is filled whatever the outcome. Returns
 * INGOT_OK when generation stopped at an end-of-generation token, a stop
 * string or max_tokens; INGOT_E_CANCELLED when on_piece returned false;
 * INGOT_E_CONTEXT_FULL when the prompt does not fit (nothing generated) or
 * the context filled up mid-way (the text so far was delivered). */
ingot_status ingot_session_generate(ingot_session *s, const ingot_generate_params *params,
                                    ingot_piece_fn on_piece, void *user, ingot_metrics *metrics);
/* The prompt text a request renders to (template applied), before
 * tokenization. *out is malloc'ed, NUL-terminated; the caller frees it. */
ingot_status ingot_session_render(ingot_session *s, const ingot_generate_params *params,
                                  char **out, size_t *len);
/* Forgets the KV cache (the next generation evaluates its whole prompt). */
void ingot_session_reset(ingot_session *s);
/* The tokens whose keys and values are in the cache, in order; valid until
 * the next call on the session. */
const int32_t *ingot_session_tokens(const ingot_session *s, int32_t *n);
ingot_context *ingot_session_context(ingot_session *s);
const ingot_model *ingot_session_model(const ingot_session *s);

/* ------------------------------------------------------------ quantize -- */
/* (section owned by src/tensor/quantize_model.c; see docs/QUANTIZE.md)
 * Converts an F32/F16/BF16 GGUF model to a smaller file type, choosing each
 * tensor's type as llama.cpp's llama-quantize does (its mixtures for the
 * _S/_M/_L kinds, Q6_K output, fallbacks for rows that do not fit a type's
 * block), with the same quantizers. 1-D tensors, norms and the other
 * tensors llama.cpp never quantizes keep their type; every metadata key is
 * copied; general.file_type and general.quantization_version (2) are set.
 * The output is written atomically (nothing appears at out_path on
 * failure). */
typedef struct ingot_quantize_params {
    int32_t n_threads; /* 0 = number of cores */
    bool pure;         /* every quantizable tensor in the base type: no mixture */
} ingot_quantize_params;
ingot_quantize_params ingot_quantize_default_params(void);

/* Reported twice per tensor, in file order: before it is converted
 * (done false) and after (done true). Strings live until the callback
 * returns. */
typedef struct ingot_quantize_progress {
    int32_t index, n_tensors;       /* index is 0-based */
    bool done;
    const char *name;
    int32_t n_dims;
    int64_t ne[4];
    const char *from_type, *to_type; /* "F16", "Q4_K", ... */
    bool converted;                  /* false: copied unchanged */
    bool fallback;                   /* the row length forced a smaller-block type */
    uint64_t from_bytes, to_bytes;
    uint64_t done_bytes, total_bytes; /* input tensor bytes finished / in all */
} ingot_quantize_progress;
/* Return false to cancel (INGOT_E_CANCELLED; nothing is written). */
typedef bool (*ingot_quantize_progress_fn)(const ingot_quantize_progress *p, void *user);

typedef struct ingot_quantize_result {
    char file_type[16];  /* "Q4_K_M" */
    uint32_t ftype;      /* its llama_ftype number (general.file_type) */
    int32_t n_tensors, n_converted, n_copied, n_fallback;
    uint64_t in_bytes, out_bytes; /* tensor data before and after */
    double seconds;
} ingot_quantize_result;

/* Quantizes in_path into out_path. type: a name from
 * ingot_quantize_type_name (case-insensitive; Q3_K/Q4_K/Q5_K mean the _M
 * kinds). Errors: INGOT_E_INVALID_ARG for an unknown type (the message
 * lists the known ones), INGOT_E_UNSUPPORTED when a tensor to convert is
 * already quantized, INGOT_E_IO when the output directory is missing or not
 * writable, and the reader's errors for a bad input. progress and result
 * may be NULL. */
ingot_status ingot_quantize_file(const char *in_path, const char *out_path, const char *type,
                                 const ingot_quantize_params *params, ingot_quantize_progress_fn progress,
                                 void *user, ingot_quantize_result *result, ingot_error *err);
/* The i-th accepted type name ("Q4_K_M"), with a one-line description in
 * *about (may be NULL); NULL when i is past the end. Static strings. */
const char *ingot_quantize_type_name(int32_t i, const char **about);
/* Name of a general.file_type value ("Q4_K_M" for 15), or NULL if unknown. */
const char *ingot_file_type_name(uint32_t ftype);
/* Reads general.file_type of a GGUF file (INGOT_E_NOT_FOUND when absent). */
ingot_status ingot_file_type_read(const char *path, uint32_t *ftype, ingot_error *err);

/* -------------------------------------------------------------- config -- */
/* (section owned by src/config/; see docs/CONFIG.md) Settings come from, in
 * rising precedence: defaults < the config file ($XDG_CONFIG_HOME/ingot/
 * config.json, else ~/.config/ingot/config.json, or the file given with
 * --config; JSON with // and block comments allowed) < environment
 * variables (INGOT_BACKEND, INGOT_THREADS, ...) < command-line flags. Every
 * setting remembers where its value came from. A bad value or an unknown key
 * is an error naming the key, the value and its origin ("config.json:7",
 * "environment variable INGOT_TOP_P", "--backend"). */
typedef struct ingot_config ingot_config;

typedef enum ingot_config_source {
    INGOT_CONFIG_DEFAULT = 0,
    INGOT_CONFIG_FILE,
    INGOT_CONFIG_ENV,
    INGOT_CONFIG_FLAG
} ingot_config_source;
/* "default", "file", "env", "flag". */
const char *ingot_config_source_str(ingot_config_source s);

/* One effective setting. Strings live until the config is next changed or
 * freed. */
typedef struct ingot_setting {
    const char *key;    /* "inference.temperature", "remotes.ollama.url" */
    const char *value;  /* as text ("0.7", "cpu,lmstudio,ollama"); a secret
                           (API key) that is set reads "********" */
    const char *type;   /* "string", "integer", "number", "boolean", "list" */
    ingot_config_source source;
    const char *origin; /* "default", "/path/config.json:7", "INGOT_TOP_P", "--backend" */
    const char *env;    /* the environment variable that sets it, or NULL */
    const char *help;   /* one line */
} ingot_setting;

/* Defaults only. */
ingot_status ingot_config_new(ingot_config **out, ingot_error *err);
void ingot_config_free(ingot_config *cfg);
/* Every layer but flags: defaults, then the file at path (NULL: the default
 * file, skipped when absent; a path given must exist), then the environment
 * envp ("NAME=value" strings, NULL-terminated; NULL: this process's). */
ingot_status ingot_config_load(const char *path, const char *const *envp, ingot_config **out,
                               ingot_error *err);
/* The default file's path for envp (NULL: this process's environment).
 * False when neither XDG_CONFIG_HOME nor HOME is set or it does not fit. */
bool ingot_config_default_path(const char *const *envp, char *buf, size_t size);
/* Applies one layer on top of what cfg holds. */
ingot_status ingot_config_load_file(ingot_config *cfg, const char *path, ingot_error *err);
ingot_status ingot_config_load_env(ingot_config *cfg, const char *const *envp, ingot_error *err);
/* Sets key from a command-line flag: value is parsed as the key's type and
 * checked; origin names the flag ("--temp") for messages and `config show`.
 * On failure cfg is unchanged. */
ingot_status ingot_config_set(ingot_config *cfg, const char *key, const char *value,
                              const char *origin, ingot_error *err);
/* The file that was loaded, or NULL. */
const char *ingot_config_file(const ingot_config *cfg);

/* Typed reads; an unknown key (or a different type) gives NULL / 0 / false. */
const char *ingot_config_get_str(const ingot_config *cfg, const char *key);
int64_t ingot_config_get_int(const ingot_config *cfg, const char *key);
double ingot_config_get_float(const ingot_config *cfg, const char *key);
bool ingot_config_get_bool(const ingot_config *cfg, const char *key);
/* A list setting's items (*items lives like a setting's strings). */
int32_t ingot_config_get_list(const ingot_config *cfg, const char *key, const char *const **items);
bool ingot_config_get(const ingot_config *cfg, const char *key, ingot_setting *out);
/* Calls fn for every setting, sorted by key; fn returns false to stop. */
void ingot_config_foreach(const ingot_config *cfg, bool (*fn)(const ingot_setting *s, void *user),
                          void *user);
/* Names of the configured remotes (built in: "lmstudio", "ollama"), sorted;
 * writes at most cap and returns the count. */
int32_t ingot_config_remotes(const ingot_config *cfg, const char **names, int32_t cap);
/* Copies the inference settings into request and session parameters
 * (either may be NULL): max_tokens, temperature, top_p, top_k,
 * repeat_penalty, threads, context. Call before applying flags. */
void ingot_config_apply(const ingot_config *cfg, ingot_generate_params *gp, ingot_session_params *sp);
/* log.level as a level. */
ingot_log_level ingot_config_log_level(const ingot_config *cfg);
/* The documented default config file (JSON with comments), malloc'ed. */
char *ingot_config_default_text(void);

/* ------------------------------------------------------------- backend -- */
/* (section owned by src/backend/; see docs/BACKENDS.md) A backend runs
 * generation requests for one model: `cpu` is ingot's own engine (GGUF
 * files; also called `gguf`), `mlx` is Apple's MLX (only on macOS on Apple
 * Silicon, and only in builds that contain it: never this one), `remote`
 * is an OpenAI-compatible server (/v1/chat/completions, /v1/completions,
 * /v1/models; LM Studio, llama.cpp, vLLM...) or an Ollama server
 * (/api/chat, /api/generate, /api/tags). All take the same
 * ingot_generate_params and fill the same ingot_metrics. */
typedef struct ingot_backend ingot_backend;

typedef enum ingot_backend_kind {
    INGOT_BACKEND_CPU = 0,
    INGOT_BACKEND_MLX,
    INGOT_BACKEND_REMOTE
} ingot_backend_kind;
/* "cpu", "mlx", "remote". */
const char *ingot_backend_kind_str(ingot_backend_kind k);

typedef enum ingot_remote_api { INGOT_REMOTE_OPENAI = 0, INGOT_REMOTE_OLLAMA } ingot_remote_api;
/* "openai", "ollama". */
const char *ingot_remote_api_str(ingot_remote_api a);

/* Platform facts. Selection decides on the first four only, so that tests
 * can inject any platform; the rest describe the machine for `doctor`. */
typedef struct ingot_platform {
    char os[16];        /* "linux", "macos", "windows" */
    char arch[16];      /* "x86_64", "arm64" */
    bool apple_silicon;
    bool mlx_engine;    /* this build contains an MLX engine */
    char cpu_model[128];     /* "AMD EPYC 7B13", or "unknown" */
    char cpu_features[160];  /* SIMD features found at run time: "avx avx2 fma f16c" */
    int32_t n_cores;         /* online cores */
    uint64_t ram_total, ram_available; /* bytes; 0 = unknown */
} ingot_platform;
/* This machine's facts. */
void ingot_platform_detect(ingot_platform *out);

typedef struct ingot_remote_params {
    const char *name;          /* label in reports ("ollama"); NULL: the api's name */
    ingot_remote_api api;
    const char *url;           /* openai: base URL with /v1; ollama: http://HOST:PORT */
    const char *api_key;       /* sent as "Authorization: Bearer"; NULL/"": none */
    int32_t connect_timeout_ms; /* 2000 */
    int32_t read_timeout_ms;   /* longest silence while a reply is due: 120000 */
    int32_t probe_timeout_ms;  /* is_available's whole check: 1000 */
} ingot_remote_params;
ingot_remote_params ingot_remote_default_params(void);

/* Constructors. Nothing is loaded yet; strings are copied. */
ingot_status ingot_backend_new_cpu(const ingot_session_params *sp, ingot_backend **out, ingot_error *err);
ingot_status ingot_backend_new_remote(const ingot_remote_params *p, ingot_backend **out, ingot_error *err);
/* pf: NULL = this machine. Always succeeds; is_available says whether it can run. */
ingot_status ingot_backend_new_mlx(const ingot_platform *pf, ingot_backend **out, ingot_error *err);
/* By name as --backend and inference.fallback spell them: "cpu"/"gguf",
 * "mlx", or a configured remote ("lmstudio", "ollama", ...). sp: the cpu
 * backend's session parameters (NULL: from cfg). */
ingot_status ingot_backend_new(const char *name, const ingot_config *cfg, const ingot_platform *pf,
                               const ingot_session_params *sp, ingot_backend **out, ingot_error *err);
/* Destroys the backend (unloading its model). NULL is a no-op. */
void ingot_backend_free(ingot_backend *b);

/* "cpu", "mlx", or the remote's name. Lives as long as b. */
const char *ingot_backend_name(const ingot_backend *b);
ingot_backend_kind ingot_backend_kind_of(const ingot_backend *b);
/* Whether it can run here and now; when not, reason (if given) says why.
 * cpu: always; mlx: only on macOS on Apple Silicon with the engine built in;
 * remote: the server answers its model list within probe_timeout_ms. When
 * available, reason gets a short description. */
bool ingot_backend_is_available(ingot_backend *b, char *reason, size_t cap);
/* Prepares model: cpu opens the GGUF file (or a hub reference through the
 * cache); remote checks that the server lists the model. Replaces a model
 * already loaded. */
ingot_status ingot_backend_load(ingot_backend *b, const char *model, ingot_error *err);
/* The loaded model's name or path, or NULL. */
const char *ingot_backend_model(const ingot_backend *b);
/* Runs one request with the same contract as ingot_session_generate:
 * pieces are complete UTF-8 and never part of a stop string, metrics (may
 * be NULL) are filled whatever the outcome. Remote failures: INGOT_E_NETWORK
 * (connection refused, read timeout, dropped connection), INGOT_E_AUTH
 * (401/403), INGOT_E_NOT_FOUND (404, unknown model), INGOT_E_INVALID_ARG
 * (other 4xx), INGOT_E_UNAVAILABLE (5xx), INGOT_E_FORMAT (a reply that
 * breaks the wire format); the message holds the server's own words. */
ingot_status ingot_backend_generate(ingot_backend *b, const ingot_generate_params *params,
                                    ingot_piece_fn on_piece, void *user, ingot_metrics *metrics);
/* Forgets conversation state (cpu: the KV cache). */
void ingot_backend_reset(ingot_backend *b);
/* Releases the model (the backend stays usable for another load). */
void ingot_backend_unload(ingot_backend *b);
/* The message of the last failure ("" if none). */
const char *ingot_backend_errmsg(const ingot_backend *b);
/* cpu: the session of the loaded model (render, tokens...); else NULL. */
ingot_session *ingot_backend_session(ingot_backend *b);
/* Models the backend offers: remote: the server's list; cpu/mlx: none. fn
 * returns false to stop. */
ingot_status ingot_backend_list_models(ingot_backend *b, bool (*fn)(const char *id, void *user),
                                       void *user, ingot_error *err);

/* --- selection ---
 * The strategy is --backend (set into cfg as inference.backend with
 * ingot_config_set) > INGOT_BACKEND > the file's inference.backend >
 * "auto". A model reference with a scheme chooses by itself:
 *   ollama://MODEL                      the `ollama` remote
 *   lmstudio://MODEL                    the `lmstudio` remote
 *   openai+http(s)://HOST[:PORT]/PATH#MODEL  an OpenAI-compatible server
 *   ollama+http(s)://HOST[:PORT]#MODEL  an Ollama server
 *   mlx://org/repo                      the mlx backend
 * auto: mlx on Apple Silicon when built in (for models that are not GGUF
 * files), else cpu; then, on failure, the rest of inference.fallback in
 * order. A named strategy (cpu, mlx, a remote) tries only that backend and
 * fails with its reason; `remote` tries the remotes of the fallback chain. */
#define INGOT_PLAN_MAX 8

typedef struct ingot_plan_step {
    char backend[64];     /* "cpu", "mlx", a remote's name, or "openai"/"ollama" for a URL reference */
    ingot_backend_kind kind;
    ingot_remote_api api; /* remote only */
    char url[512];        /* remote only */
    char model[1024];     /* what the step's load gets */
    char why[256];        /* why this step is in the plan */
} ingot_plan_step;

typedef struct ingot_backend_plan {
    char strategy[64];      /* "auto", "cpu", "mlx", "remote", a remote's name, or "ollama://"... */
    char origin[512];       /* where the strategy came from: "default", "--backend",
                               "INGOT_BACKEND", "/path/config.json:3", "model reference" */
    char why[512];          /* why the first step comes first */
    ingot_plan_step steps[INGOT_PLAN_MAX];
    int32_t n_steps;        /* >= 1 on success; later steps are fallbacks */
} ingot_backend_plan;

/* Decides, without any I/O, which backends would serve model_ref and in
 * which order. pf: NULL = this machine. Fails (INGOT_E_INVALID_ARG) on a
 * malformed reference or a strategy that contradicts the reference. */
ingot_status ingot_backend_plan_for(const char *model_ref, const ingot_config *cfg,
                                    const ingot_platform *pf, ingot_backend_plan *out, ingot_error *err);

/* One step of opening a backend. */
typedef struct ingot_backend_attempt {
    char backend[64];
    char model[1024];
    ingot_status status; /* INGOT_OK: this backend serves the model */
    char reason[768];    /* why it failed, or what it loaded */
    double ms;           /* time spent on this step */
} ingot_backend_attempt;

typedef struct ingot_backend_report {
    ingot_backend_plan plan;
    ingot_backend_attempt attempts[INGOT_PLAN_MAX];
    int32_t n_attempts;
    bool benchmarked;   /* inference.benchmark_on_startup ran */
    ingot_metrics bench; /* its metrics */
} ingot_backend_report;

typedef struct ingot_backend_open_params {
    const ingot_platform *platform;      /* NULL: this machine */
    const ingot_session_params *session; /* cpu backend; NULL: from cfg */
    /* Called after each attempt (for progress on stderr); may be NULL. */
    void (*on_attempt)(const ingot_backend_attempt *a, void *user);
    void *user;
} ingot_backend_open_params;

/* Plans, then tries each step: creates the backend, checks availability,
 * loads the model; the first that succeeds is returned in *out. Every
 * attempt is recorded in report (may be NULL). When
 * inference.benchmark_on_startup is on, runs a short benchmark on the
 * loaded model, logs it (INGOT_LOG_INFO) and puts it in report->bench.
 * When every step fails, err holds the last failure's status and a message
 * listing each attempt. p may be NULL. */
ingot_status ingot_backend_open_for_model(const char *model_ref, const ingot_config *cfg,
                                          const ingot_backend_open_params *p, ingot_backend **out,
                                          ingot_backend_report *report, ingot_error *err);

/* ----------------------------------------------------------------- hub -- */
/* (section owned by src/hub/) Models from the Hugging Face hub, kept in the
 * cache layout huggingface_hub uses (models--ORG--NAME/{blobs,snapshots,refs}),
 * so files pulled by ingot are found by other tools and the other way round.
 * A reference is one of:
 *   org/repo                 GGUF repo: the Q4_K_M file, else the best fit for
 *                            this machine's RAM; safetensors/MLX repo: the
 *                            whole snapshot (config, tokenizer, weights)
 *   org/repo:QUANT           the GGUF file of that quantization (Q8_0, ...)
 *   org/repo:FILE            a file by name (stories260K.gguf, or its stem)
 *   org/repo/path/file.gguf  one file; hf://... is the same
 *   org/repo@REV...          any of the above at a branch, tag or commit
 *   alias                    a catalog entry (qwen2.5:0.5b, llama3.2:3b...) */

typedef enum ingot_hub_event {
    INGOT_HUB_EV_START = 0,  /* the files to fetch and their total are known */
    INGOT_HUB_EV_FILE_START, /* a file starts (resumed_from > 0: resuming) */
    INGOT_HUB_EV_WAITING,    /* another process is downloading this file */
    INGOT_HUB_EV_PROGRESS,   /* bytes arrived (at most ~10 per second) */
    INGOT_HUB_EV_FILE_DONE,  /* a file is verified and in the snapshot */
    INGOT_HUB_EV_RETRY,      /* a connection dropped; resuming */
    INGOT_HUB_EV_DONE        /* every file is in place */
} ingot_hub_event;

/* One progress report. Strings live until the callback returns. Byte counts
 * cover only the files this pull fetches (already cached files are not
 * counted); bytes found on disk from an earlier attempt count as done. */
typedef struct ingot_hub_progress {
    ingot_hub_event event;
    const char *repo;         /* "org/name" */
    const char *file;         /* the file the event is about, or NULL */
    uint64_t file_done, file_total;
    uint64_t resumed_from;    /* FILE_START: bytes already on disk */
    uint64_t done, total;     /* over all files of this pull */
    int files_done, files_total;
    double bytes_per_sec;     /* over the last few seconds; 0 = unknown */
    double eta_sec;           /* < 0 = unknown */
} ingot_hub_progress;
/* Called on the thread that called ingot_hub_pull/resolve, never
 * concurrently. Returning false cancels (partial downloads are kept). */
typedef bool (*ingot_hub_progress_fn)(const ingot_hub_progress *p, void *user);

typedef struct ingot_hub_options {
    const char *endpoint;   /* NULL: $HF_ENDPOINT, else https://huggingface.co */
    const char *token;      /* NULL: $HF_TOKEN, else the file $HF_TOKEN_PATH or
                               $HF_HOME/token; "" = send no token */
    const char *cache_dir;  /* NULL: $HF_HUB_CACHE, else $HF_HOME/hub, else
                               $XDG_CACHE_HOME/huggingface/hub, ~/.cache/... */
    int offline;            /* -1: from $HF_HUB_OFFLINE; 0: online; 1: cache only */
    int max_parallel;       /* files downloaded at once; 0 = 4 */
    int retries;            /* resumed attempts after a dropped connection; -1 = 3 */
    int stall_timeout_s;    /* give up on a transfer idle this long; 0 = 30 */
    uint64_t ram_bytes;     /* budget for choosing a GGUF file; 0 = this machine */
    ingot_hub_progress_fn progress;
    void *progress_user;
} ingot_hub_options;
ingot_hub_options ingot_hub_default_options(void);

/* What a pull or resolve found. */
typedef struct ingot_hub_pull_result {
    char path[4096];     /* GGUF file (first part when split) or snapshot dir */
    char repo[256];      /* "org/name" */
    char revision[256];  /* as asked ("main" by default) */
    char commit[64];     /* the snapshot's commit */
    char format[16];     /* "gguf", "safetensors" or "mlx" */
    char quant[32];      /* "Q4_K_M", "4bit", ... or "" when unknown */
    char note[512];      /* why this file was chosen; "" when the ref named it */
    int n_files;         /* files in the model */
    int n_downloaded;    /* of which fetched now */
    uint64_t bytes_total;      /* size of the model's files */
    uint64_t bytes_downloaded; /* received over the network now */
} ingot_hub_pull_result;

/* Fetches what ref names into the cache: asks the hub for the revision's
 * current commit and downloads the files not yet cached (resuming partial
 * ones, verifying each before it appears in the snapshot). Offline, works
 * from the cache alone. out may be NULL. */
ingot_status ingot_hub_pull(const char *ref, const ingot_hub_options *opt,
                            ingot_hub_pull_result *out, ingot_error *err);
/* Local path for ref: a GGUF file or a snapshot directory. Uses the cache
 * when it already holds the model (no network), else pulls it; offline, a
 * missing model is an INGOT_E_NOT_FOUND naming what is missing. *path_out
 * is malloc'ed (free() it). */
ingot_status ingot_hub_resolve(const char *ref, const ingot_hub_options *opt,
                               char **path_out, ingot_error *err);
/* True when s reads as a hub reference or catalog alias rather than a local
 * path: an existing file or directory, an absolute or ./ path, and a
 * single-slash name ending in .gguf/.safetensors/.bin are local. */
bool ingot_hub_is_reference(const char *s);
/* The cache directory the options select (no I/O). False if it would not fit. */
bool ingot_hub_cache_dir(const ingot_hub_options *opt, char *buf, size_t size);

/* An installed model, as ingot_hub_list reports it. Strings live until the
 * callback returns. */
typedef struct ingot_hub_model {
    const char *ref;        /* names it for pull/rm: "org/repo/file.gguf",
                               "org/repo" or "org/repo@commit" */
    const char *repo;
    const char *commit;
    const char *revisions;  /* refs pointing at the commit ("main"), or "" */
    const char *path;       /* the GGUF file or the snapshot directory */
    const char *format;     /* "gguf", "safetensors", "mlx" */
    const char *quant;      /* from the file name or config.json, or "" */
    uint64_t size;          /* bytes of its files */
    int64_t mtime;          /* seconds since the epoch, newest file */
} ingot_hub_model;
typedef bool (*ingot_hub_list_fn)(const ingot_hub_model *m, void *user); /* false stops */
/* Calls fn for every model in the cache (repos sorted by name). total_bytes
 * (may be NULL) receives the size of all blobs of model repos, each once. */
ingot_status ingot_hub_list(const ingot_hub_options *opt, ingot_hub_list_fn fn, void *user,
                            uint64_t *total_bytes, ingot_error *err);

typedef struct ingot_hub_removal {
    int n_links;          /* snapshot entries removed */
    int n_blobs;          /* blobs deleted */
    int n_blobs_kept;     /* blobs still used by another snapshot */
    uint64_t bytes_freed;
    char what[1024];      /* "org/repo@abc1234: file.gguf" */
} ingot_hub_removal;
/* Removes what ref names from the cache: a file (org/repo/file, :QUANT) or
 * a whole snapshot (org/repo = the one `main` points at; @REV for another),
 * with refs pointing at a removed snapshot and every blob no other snapshot
 * links to. dry_run only fills out. Never touches the network. */
ingot_status ingot_hub_remove(const char *ref, const ingot_hub_options *opt, bool dry_run,
                              ingot_hub_removal *out, ingot_error *err);

/* The curated catalog: models known to run well, by alias. */
typedef struct ingot_hub_catalog_entry {
    const char *alias;        /* "qwen2.5:0.5b" */
    const char *repo;         /* "Qwen/Qwen2.5-0.5B-Instruct-GGUF" */
    const char *file;         /* GGUF file, or NULL for a whole MLX snapshot */
    const char *format;       /* "gguf" or "mlx" */
    const char *description;
    uint64_t size_bytes;      /* download size (rounded) */
    uint64_t mem_bytes;       /* memory to run it with a 4096-token context */
} ingot_hub_catalog_entry;
/* The whole table (static storage); *n receives its length. */
const ingot_hub_catalog_entry *ingot_hub_catalog(size_t *n);
/* The entry for alias (case-insensitive), or NULL. */
const ingot_hub_catalog_entry *ingot_hub_catalog_find(const char *alias);
/* True when the entry's memory need fits a machine with ram_bytes of RAM
 * (0 = this machine), leaving room for the OS and other programs. */
bool ingot_hub_catalog_fits(const ingot_hub_catalog_entry *e, uint64_t ram_bytes);
/* This machine's RAM in bytes, as the catalog and the GGUF choice see it. */
uint64_t ingot_hub_machine_ram(void);

#ifdef __cplusplus
}
#endif
#endif
