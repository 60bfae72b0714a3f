/* Owns sessions and the generation loop: rendering a request to prompt
 * text (chat template, plain concatenation or raw), tokenizing it, reusing
 * the longest common token prefix with the KV cache, prefill, then one
 * decode per sampled token, with stop rules, streaming and metrics. The
 * session mirrors the KV cache as a token list so that the next request
 * can tell which of its tokens are already evaluated. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/platform.h"
#include "generate/prompt.h"
#include "generate/sampler.h"
#include "generate/stream.h"

struct ingot_session {
    ingot_model *model;
    bool owns_model;
    ingot_context *ctx;
    const ingot_tokenizer *tok;
    char *template_override; /* copy of params.chat_template */
    ingot_template *tmpl;    /* parsed on first use */
    int32_t n_vocab;
    int32_t *tokens; /* what the KV cache holds, in order */
    int32_t n_tokens, cap_tokens;
    double load_ms;
    bool load_reported;
    char *piece; /* scratch for one token's bytes */
    size_t piece_cap;
    ingot_error err;
};

ingot_generate_params ingot_generate_default_params(void) {
    ingot_generate_params p;
    memset(&p, 0, sizeof p);
    p.sampling = ingot_sampler_default_params();
    p.max_tokens = 512;
    return p;
}

ingot_session_params ingot_session_default_params(void) {
    ingot_session_params p;
    memset(&p, 0, sizeof p);
    p.context = ingot_context_default_params();
    return p;
}

const char *ingot_finish_reason_str(ingot_finish_reason r) {
    switch (r) {
    case INGOT_FINISH_NONE: return "none";
    case INGOT_FINISH_STOP: return "stop";
    case INGOT_FINISH_LENGTH: return "length";
    case INGOT_FINISH_CONTEXT: return "context_full";
    case INGOT_FINISH_CANCELLED: return "cancelled";
    case INGOT_FINISH_ERROR: return "error";
    }
    return "none";
}

/* ---- tokenizer and chat-template adapters ----
 * The few calls this file makes into the tokenizer and chat layers. */

static bool tk_add_bos(const ingot_tokenizer *t) { return ingot_tokenizer_add_bos(t); }
static const char *tk_bos_text(const ingot_tokenizer *t) { return ingot_tokenizer_bos_text(t); }
static const char *tk_eos_text(const ingot_tokenizer *t) { return ingot_tokenizer_eos_text(t); }
static bool tk_is_eog(const ingot_tokenizer *t, int32_t id) { return ingot_tokenizer_is_eog(t, id); }

static ingot_status tk_tokenize(const ingot_tokenizer *t, const char *text, size_t len, bool add_bos,
                                int32_t **ids, int32_t *n, ingot_error *err) {
    /* Control tokens in the rendered prompt are the template's markup
     * (<|im_start|>...), so they are parsed as such. */
    return ingot_tokenize(t, text, len, add_bos, true, ids, n, err);
}

/* The bytes of one generated token (control tokens give none). */
static ingot_status tk_piece(ingot_session *s, int32_t id, const char **out, size_t *len) {
    int32_t n = ingot_token_to_bytes(s->tok, id, false, s->piece, s->piece_cap);
    if (n < 0) return ingot_error_set(&s->err, INGOT_E_RANGE, "token %d is outside the vocabulary", (int)id);
    if ((size_t)n > s->piece_cap) {
        size_t cap = (size_t)n + 64;
        char *p = realloc(s->piece, cap);
        if (!p) return ingot_error_set(&s->err, INGOT_E_NOMEM, "out of memory");
        s->piece = p;
        s->piece_cap = cap;
        n = ingot_token_to_bytes(s->tok, id, false, s->piece, s->piece_cap);
    }
    *out = s->piece;
    *len = (size_t)n;
    return INGOT_OK;
}

static ingot_status tpl_parse(const char *src, ingot_template **out, ingot_error *err) {
    return ingot_template_new(src, strlen(src), out, err);
}

static ingot_status tpl_render(const ingot_template *t, const char *ctx_json, size_t ctx_len, char **out,
                               size_t *len, ingot_error *err) {
    (void)ctx_len; /* NUL-terminated */
    return ingot_template_render(t, ctx_json, NULL, out, len, err);
}

/* ---- lifetime ---- */

static ingot_status session_init(ingot_session *s, const ingot_session_params *params, ingot_error *err) {
    ingot_session_params p = params ? *params : ingot_session_default_params();
    s->tok = ingot_model_tokenizer(s->model);
    if (!s->tok)
        return ingot_error_set(err, INGOT_E_UNSUPPORTED, "the model has no tokenizer: it cannot generate text");
    ingot_model_info info;
    ingot_model_get_info(s->model, &info);
    s->n_vocab = info.n_vocab;
    /* A long trained context (128k) would allocate gigabytes of KV cache
     * that a chat rarely needs; ask for it explicitly. */
    if (p.context.n_ctx == 0) p.context.n_ctx = info.n_ctx_train > 0 && info.n_ctx_train < 4096 ? info.n_ctx_train : 4096;
    if (p.chat_template) {
        size_t n = strlen(p.chat_template);
        s->template_override = malloc(n + 1);
        if (!s->template_override) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        memcpy(s->template_override, p.chat_template, n + 1);
    }
    ingot_status st = ingot_context_new(s->model, &p.context, &s->ctx, err);
    if (st) return st;
    s->cap_tokens = ingot_context_n_ctx(s->ctx);
    s->tokens = malloc((size_t)s->cap_tokens * sizeof *s->tokens);
    if (!s->tokens) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory (%d tokens)", (int)s->cap_tokens);
    return INGOT_OK;
}

ingot_status ingot_session_new(ingot_model *model, const ingot_session_params *params, ingot_session **out,
                               ingot_error *err) {
    if (!out) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_session_new: out is NULL");
    *out = NULL;
    if (!model) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_session_new: model is NULL");
    double t0 = ingot_time_ms();
    ingot_session *s = calloc(1, sizeof *s);
    if (!s) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    s->model = model;
    ingot_status st = session_init(s, params, err);
    if (st) {
        ingot_session_free(s);
        return st;
    }
    s->load_ms = ingot_time_ms() - t0;
    *out = s;
    return INGOT_OK;
}

ingot_status ingot_session_open(const char *model_path, const ingot_model_params *model_params,
                                const ingot_session_params *params, ingot_session **out, ingot_error *err) {
    if (!out) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_session_open: out is NULL");
    *out = NULL;
    if (!model_path) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_session_open: path is NULL");
    double t0 = ingot_time_ms();
    ingot_model *model = NULL;
    ingot_status st = ingot_model_load(model_path, model_params, &model, err);
    if (st) return st;
    ingot_session *s = calloc(1, sizeof *s);
    if (!s) {
        ingot_model_free(model);
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    s->model = model;
    s->owns_model = true;
    st = session_init(s, params, err);
    if (st) {
        ingot_error_prefix(err, "%s", model_path);
        ingot_session_free(s);
        return st;
    }
    s->load_ms = ingot_time_ms() - t0;
    *out = s;
    return INGOT_OK;
}

void ingot_session_free(ingot_session *s) {
    if (!s) return;
    ingot_template_free(s->tmpl);
    ingot_context_free(s->ctx);
    if (s->owns_model) ingot_model_free(s->model);
    free(s->template_override);
    free(s->tokens);
    free(s->piece);
    free(s);
}

const char *ingot_session_errmsg(const ingot_session *s) { return s ? s->err.message : "no session"; }

void ingot_session_reset(ingot_session *s) {
    if (!s) return;
    ingot_context_truncate(s->ctx, 0);
    s->n_tokens = 0;
}

const int32_t *ingot_session_tokens(const ingot_session *s, int32_t *n) {
    if (n) *n = s ? s->n_tokens : 0;
    return s ? s->tokens : NULL;
}

ingot_context *ingot_session_context(ingot_session *s) { return s ? s->ctx : NULL; }
const ingot_model *ingot_session_model(const ingot_session *s) { return s ? s->model : NULL; }

/* ---- prompt ---- */

/* Renders the request; *templated tells whether a chat template ran. */
static ingot_status render(ingot_session *s, const ingot_generate_params *p, char **out, size_t *len,
                           bool *templated) {
    *out = NULL;
    *templated = false;
    ingot_message *msgs = NULL;
    int32_t n = 0;
    ingot_status st = ingot_prompt_messages(p, &msgs, &n, &s->err);
    if (st) return st;
    const char *src = s->template_override ? s->template_override : ingot_model_chat_template(s->model);
    if (p->raw || !src || !*src) {
        st = ingot_prompt_concat(msgs, n, out, len, &s->err);
        free(msgs);
        return st;
    }
    if (!s->tmpl) {
        st = tpl_parse(src, &s->tmpl, &s->err);
        if (st) {
            free(msgs);
            ingot_error_prefix(&s->err, "chat template");
            return st;
        }
    }
    char *ctx_json = NULL;
    size_t ctx_len = 0;
    st = ingot_prompt_context_json(msgs, n, tk_bos_text(s->tok), tk_eos_text(s->tok), &ctx_json, &ctx_len,
                                   &s->err);
    free(msgs);
    if (st) return st;
    st = tpl_render(s->tmpl, ctx_json, ctx_len, out, len, &s->err);
    free(ctx_json);
    if (st) {
        ingot_error_prefix(&s->err, "chat template");
        return st;
    }
    *templated = true;
    return INGOT_OK;
}

ingot_status ingot_session_render(ingot_session *s, const ingot_generate_params *params, char **out, size_t *len) {
    if (!s || !params || !out) return INGOT_E_INVALID_ARG;
    ingot_error_clear(&s->err);
    bool templated;
    size_t l = 0;
    ingot_status st = render(s, params, out, &l, &templated);
    if (len) *len = l;
    return st;
}

/* ---- generation ---- */

static void finish_metrics(ingot_metrics *m, double t0) {
    m->total_ms = ingot_time_ms() - t0;
    m->peak_rss_mb = (double)ingot_peak_rss() / (1024.0 * 1024.0);
}

ingot_status ingot_session_generate(ingot_session *s, const ingot_generate_params *params, ingot_piece_fn on_piece,
                                    void *user, ingot_metrics *metrics) {
    double t0 = ingot_time_ms();
    ingot_metrics m;
    memset(&m, 0, sizeof m);
    if (!s || !params) {
        if (metrics) *metrics = m;
        return INGOT_E_INVALID_ARG;
    }
    ingot_error_clear(&s->err);
    if (!s->load_reported) {
        m.load_ms = s->load_ms;
        s->load_reported = true;
    }
    ingot_status st = INGOT_OK;
    char *text = NULL;
    int32_t *ptoks = NULL, np = 0;
    ingot_sampler *smp = NULL;
    ingot_textstream ts;
    bool ts_live = false;

    if (params->max_tokens < -1) {
        st = ingot_error_set(&s->err, INGOT_E_INVALID_ARG, "max_tokens must be >= -1, got %d",
                             (int)params->max_tokens);
        goto out;
    }
    /* Parameters are checked before any work, so a bad request costs nothing. */
    st = ingot_sampler_new(&params->sampling, s->n_vocab, &smp, &s->err);
    if (st) goto out;
    m.seed = ingot_sampler_seed(smp);
    st = ingot_textstream_init(&ts, params->stop, params->n_stop, on_piece, user, &s->err);
    if (st) goto out;
    ts_live = true;

    size_t len = 0;
    bool templated = false;
    st = render(s, params, &text, &len, &templated);
    if (st) goto out;
    /* A template that writes BOS itself must not get a second one. */
    const char *bos = tk_bos_text(s->tok);
    bool add_bos = tk_add_bos(s->tok) && !(templated && *bos && !strncmp(text, bos, strlen(bos)));
    st = tk_tokenize(s->tok, text, len, add_bos, &ptoks, &np, &s->err);
    if (st) goto out;
    m.prompt_tokens = np;
    if (np == 0) {
        st = ingot_error_set(&s->err, INGOT_E_INVALID_ARG, "the prompt is empty (no tokens)");
        goto out;
    }
    int32_t n_ctx = ingot_context_n_ctx(s->ctx);
    if (np > n_ctx) {
        st = ingot_error_set(&s->err, INGOT_E_CONTEXT_FULL,
                             "the prompt has %d tokens but the context holds %d (raise the context length)",
                             (int)np, (int)n_ctx);
        m.finish = INGOT_FINISH_CONTEXT;
        goto out;
    }

    /* Keep what the cache already holds of this prompt; evaluate the rest. */
    int32_t k = ingot_prompt_reuse(s->tokens, s->n_tokens, ptoks, np);
    st = ingot_context_truncate(s->ctx, k);
    if (st) {
        ingot_error_set(&s->err, st, "%s", ingot_context_errmsg(s->ctx));
        goto out;
    }
    s->n_tokens = k;
    m.reused_tokens = k;
    memcpy(s->tokens + k, ptoks + k, (size_t)(np - k) * sizeof *ptoks);
    double tp0 = ingot_time_ms();
    st = ingot_context_decode(s->ctx, ptoks + k, np - k, false);
    s->n_tokens = ingot_context_n_past(s->ctx);
    if (st) {
        ingot_error_set(&s->err, st, "%s", ingot_context_errmsg(s->ctx));
        m.finish = INGOT_FINISH_ERROR;
        goto out;
    }
    double tp1 = ingot_time_ms();
    if (tp1 > tp0) m.prompt_tps = (double)(np - k) * 1000.0 / (tp1 - tp0);
    for (int32_t i = 0; i < np; i++) ingot_sampler_accept(smp, ptoks[i]);

    double t_first = 0;
    int32_t steps = 0;
    m.finish = INGOT_FINISH_LENGTH;
    while (params->max_tokens < 0 || m.generated_tokens < params->max_tokens) {
        int32_t rows;
        const float *logits = ingot_context_logits(s->ctx, &rows);
        if (!logits || rows < 1) {
            st = ingot_error_set(&s->err, INGOT_E_INTERNAL, "no logits after decode");
            m.finish = INGOT_FINISH_ERROR;
            break;
        }
        int32_t tok = ingot_sampler_sample(smp, logits + (size_t)(rows - 1) * (size_t)s->n_vocab);
        ingot_sampler_accept(smp, tok);
        if (m.generated_tokens == 0 && steps == 0) {
            t_first = ingot_time_ms();
            m.ttft_ms = t_first - t0;
        }
        if (tk_is_eog(s->tok, tok)) {
            m.finish = INGOT_FINISH_STOP;
            break;
        }
        m.generated_tokens++;
        const char *piece = NULL;
        size_t piece_len = 0;
        st = tk_piece(s, tok, &piece, &piece_len);
        if (st == INGOT_OK) st = ingot_textstream_push(&ts, piece, piece_len, &s->err);
        if (st) {
            m.finish = st == INGOT_E_CANCELLED ? INGOT_FINISH_CANCELLED : INGOT_FINISH_ERROR;
            break;
        }
        if (ts.stopped) {
            m.finish = INGOT_FINISH_STOP;
            break;
        }
        if (params->max_tokens >= 0 && m.generated_tokens >= params->max_tokens) break;
        if (ingot_context_n_past(s->ctx) >= n_ctx) {
            st = ingot_error_set(&s->err, INGOT_E_CONTEXT_FULL,
                                 "the context window (%d tokens) is full after %d generated tokens",
                                 (int)n_ctx, (int)m.generated_tokens);
            m.finish = INGOT_FINISH_CONTEXT;
            break;
        }
        s->tokens[s->n_tokens] = tok;
        st = ingot_context_decode(s->ctx, &tok, 1, false);
        s->n_tokens = ingot_context_n_past(s->ctx);
        steps++;
        if (st) {
            ingot_error_set(&s->err, st, "%s", ingot_context_errmsg(s->ctx));
            m.finish = st == INGOT_E_CONTEXT_FULL ? INGOT_FINISH_CONTEXT : INGOT_FINISH_ERROR;
            break;
        }
    }
    if (st == INGOT_OK && m.finish != INGOT_FINISH_CANCELLED) {
        /* What was held back for a stop string that never came is text. */
        st = ingot_textstream_finish(&ts, &s->err);
        if (st == INGOT_E_CANCELLED) m.finish = INGOT_FINISH_CANCELLED;
    }
    if (steps > 0) {
        double dt = ingot_time_ms() - t_first;
        if (dt > 0) m.gen_tps = (double)steps * 1000.0 / dt;
    }

out:
    if (st && m.finish == INGOT_FINISH_NONE && m.generated_tokens > 0) m.finish = INGOT_FINISH_ERROR;
    if (ts_live) ingot_textstream_free(&ts);
    ingot_sampler_free(smp);
    free(ptoks);
    free(text);
    finish_metrics(&m, t0);
    if (metrics) *metrics = m;
    return st;
}
