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
    size_t max_memory;  /* bytes of working memory; 0 = 512 MiB */
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
    INGOT_FINISH_CONTEXT,   /* the context window filled up (INGOT_E_CONTEXT_FULL) */
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
