/* Owns the `remote` backend: requests to an OpenAI-compatible server
 * (/v1/chat/completions, /v1/completions with SSE streaming, /v1/models)
 * or an Ollama server (/api/chat, /api/generate with NDJSON streaming,
 * /api/tags) through libcurl. It turns an ingot_generate_params into the
 * server's JSON, its stream into pieces for the callback (through the same
 * stop-string and UTF-8 filter a local session uses), and everything that
 * can go wrong on the way (refused connection, silence, a dropped
 * connection, 4xx/5xx bodies, malformed events) into a status and a
 * message that names the server and quotes its words. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "backend/backend.h"
#include "backend/wire.h"
#include "base/error.h"
#include "base/platform.h"
#include "generate/stream.h"

typedef struct remote_state {
    ingot_remote_api api;
    char *url; /* without a trailing slash */
    char *api_key;
    int32_t connect_ms, read_ms, probe_ms;
    bool strict_openai; /* api.openai.com: only the documented request fields */
    double load_ms;
    bool load_reported;
} remote_state;

ingot_remote_params ingot_remote_default_params(void) {
    ingot_remote_params p;
    memset(&p, 0, sizeof p);
    p.api = INGOT_REMOTE_OPENAI;
    p.connect_timeout_ms = 2000;
    p.read_timeout_ms = 120000;
    p.probe_timeout_ms = 1000;
    return p;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ---- one HTTP exchange ---- */

#define ERROR_BODY_MAX (64u << 10)
#define LIST_BODY_MAX (8u << 20)

typedef struct xfer {
    remote_state *rs;
    const char *name;
    char url[1200];
    long code;
    bool decided;   /* status and content type looked at */
    bool collect;   /* keep the body (an error, or a non-streamed reply) */
    char *body;
    size_t blen, bmax;
    wire_reader *wire;    /* streamed reply, or NULL */
    ingot_status wire_st; /* what stopped the reader */
    ingot_error wire_err;
    bool stop_early;      /* the caller needs no more (stop string, cancel) */
    ingot_textstream *ts;
    double start, last_rx;
    int32_t idle_ms;
    bool timed_out, got_bytes;
} xfer;

static size_t on_write(char *data, size_t size, size_t nmemb, void *user) {
    xfer *x = user;
    size_t n = size * nmemb;
    x->last_rx = ingot_time_ms();
    x->got_bytes = true;
    if (x->collect || !x->wire) {
        if (x->blen + n > x->bmax) {
            if (x->collect && x->code >= 400) return n; /* keep the start of a long error body */
            x->wire_st = ingot_error_set(&x->wire_err, INGOT_E_FORMAT, "the reply of %s is larger than %zu bytes",
                                         x->url, x->bmax);
            return 0;
        }
        char *b = realloc(x->body, x->blen + n + 1);
        if (!b) {
            x->wire_st = ingot_error_set(&x->wire_err, INGOT_E_NOMEM, "out of memory");
            return 0;
        }
        x->body = b;
        memcpy(x->body + x->blen, data, n);
        x->blen += n;
        x->body[x->blen] = 0;
        return n;
    }
    ingot_status st = wire_feed(x->wire, data, n, &x->wire_err);
    if (st) {
        x->wire_st = st;
        return 0;
    }
    if (x->ts && (x->ts->stopped || x->ts->cancelled)) {
        x->stop_early = true;
        return 0;
    }
    return n;
}

static int on_progress(void *user, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln) {
    (void)dlt, (void)dln, (void)ult, (void)uln;
    xfer *x = user;
    if (ingot_time_ms() - x->last_rx > x->idle_ms) {
        x->timed_out = true;
        return 1;
    }
    return 0;
}

/* The header callback sees the status line and Content-Type before any
 * body byte, which decides how the body is read. */
typedef struct hdr_ctx {
    xfer *x;
    CURL *h;
} hdr_ctx;

static size_t on_header(char *data, size_t size, size_t nmemb, void *user) {
    hdr_ctx *hc = user;
    size_t n = size * nmemb;
    hc->x->last_rx = ingot_time_ms();
    if (n <= 2) { /* end of headers */
        xfer *x = hc->x;
        long code = 0;
        curl_easy_getinfo(hc->h, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 100 && code < 200) return n; /* 100 Continue: more headers follow */
        x->code = code;
        x->decided = true;
        if (code >= 300) {
            x->collect = true;
            x->bmax = ERROR_BODY_MAX;
        } else if (x->wire) {
            char *ct = NULL;
            curl_easy_getinfo(hc->h, CURLINFO_CONTENT_TYPE, &ct);
            /* a server that ignored "stream": true sends one JSON body */
            if (ct && strstr(ct, "application/json")) x->wire->format = WIRE_JSON;
        }
    }
    return n;
}

static struct curl_slist *headers_for(const remote_state *rs, bool json_body, bool stream) {
    struct curl_slist *h = NULL, *t;
    char auth[1200];
    if (json_body && !(h = curl_slist_append(h, "Content-Type: application/json"))) return NULL;
    const char *accept = !stream ? "Accept: application/json"
                         : rs->api == INGOT_REMOTE_OPENAI ? "Accept: text/event-stream"
                                                          : "Accept: application/x-ndjson";
    if (!(t = curl_slist_append(h, accept))) goto fail;
    h = t;
    if (rs->api_key && *rs->api_key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", rs->api_key);
        if (!(t = curl_slist_append(h, auth))) goto fail;
        h = t;
    }
    return h;
fail:
    curl_slist_free_all(h);
    return NULL;
}

static const char *reason_phrase(long code) {
    switch (code) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    }
    return "";
}

static ingot_status http_status_error(const xfer *x, ingot_error *err) {
    char msg[512];
    wire_error_message(x->body, x->blen, msg, sizeof msg);
    ingot_status st = x->code == 401 || x->code == 403 ? INGOT_E_AUTH
                      : x->code == 404                 ? INGOT_E_NOT_FOUND
                      : x->code == 429 || x->code >= 500 ? INGOT_E_UNAVAILABLE
                                                          : INGOT_E_INVALID_ARG;
    const char *hint = x->code == 401 || x->code == 403
                           ? (x->rs->api_key && *x->rs->api_key ? " (check the API key)"
                                                                 : " (no API key was sent: set one in the remote's api_key, "
                                                                   "api_key_env or INGOT_API_KEY)")
                           : "";
    return ingot_error_set(err, st, "%s (%s) answered %ld %s%s%s%s", x->name, x->url, x->code, reason_phrase(x->code),
                           msg[0] ? ": " : "", msg, hint);
}

/* Performs one request: GET when body is NULL, else POST of body. The
 * reply goes to wire (streaming) or into x->body. total_ms > 0 bounds the
 * whole exchange (probes); idle_ms bounds silences. */
static ingot_status http_do(remote_state *rs, const char *name, const char *path, const char *body, wire_reader *wire,
                            ingot_textstream *ts, int32_t total_ms, xfer *x, ingot_error *err) {
    pthread_once(&curl_once, curl_init_once);
    memset(x, 0, sizeof *x);
    x->rs = rs;
    x->name = name;
    x->wire = wire;
    x->ts = ts;
    x->bmax = LIST_BODY_MAX;
    x->idle_ms = total_ms > 0 ? total_ms : rs->read_ms;
    snprintf(x->url, sizeof x->url, "%s%s", rs->url, path);
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = headers_for(rs, body != NULL, wire != NULL);
    if (!h || !hdrs) {
        curl_easy_cleanup(h);
        curl_slist_free_all(hdrs);
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    hdr_ctx hc = {x, h};
    int32_t connect_ms = rs->connect_ms;
    if (total_ms > 0 && total_ms < connect_ms) connect_ms = total_ms;
    curl_easy_setopt(h, CURLOPT_URL, x->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "ingot/" INGOT_VERSION);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
    if (total_ms > 0) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)total_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &hc);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* whatever curl can decode */
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    x->start = x->last_rx = ingot_time_ms();
    CURLcode rc = curl_easy_perform(h);
    if (!x->decided) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x->code);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);

    if (x->wire_st) {
        if (err) *err = x->wire_err;
        return x->wire_st;
    }
    if (x->stop_early) return INGOT_OK;
    if (x->timed_out)
        return ingot_error_set(err, INGOT_E_NETWORK, "%s (%s) sent nothing for %d ms (read timeout)%s", name, x->url,
                               x->idle_ms, x->got_bytes ? " in the middle of its reply" : "");
    if (rc != CURLE_OK) {
        const char *what = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        switch (rc) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
            return ingot_error_set(err, INGOT_E_NETWORK, "cannot connect to %s at %s: %s", name, rs->url, what);
        case CURLE_OPERATION_TIMEDOUT:
            return ingot_error_set(err, INGOT_E_NETWORK, "%s at %s did not answer in time: %s", name, rs->url, what);
        case CURLE_PARTIAL_FILE:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
            return ingot_error_set(err, INGOT_E_NETWORK, "%s (%s) dropped the connection %s: %s", name, x->url,
                                   x->got_bytes ? "in the middle of its reply" : "before replying", what);
        default:
            return ingot_error_set(err, INGOT_E_NETWORK, "request to %s (%s) failed: %s", name, x->url, what);
        }
    }
    if (x->code >= 300) return http_status_error(x, err);
    return INGOT_OK;
}

/* ---- models ---- */

static const char *models_path(const remote_state *rs) {
    return rs->api == INGOT_REMOTE_OLLAMA ? "/api/tags" : "/models";
}

/* Calls fn with each model id of a /v1/models or /api/tags body. */
static ingot_status parse_models(const remote_state *rs, const xfer *x, bool (*fn)(const char *, void *), void *user,
                                 int *n_out, ingot_error *err) {
    json_error_t je;
    json_t *o = json_loadb(x->body ? x->body : "", x->blen, 0, &je);
    json_t *arr = json_object_get(o, rs->api == INGOT_REMOTE_OLLAMA ? "models" : "data");
    if (!json_is_array(arr)) {
        json_decref(o);
        return ingot_error_set(err, INGOT_E_FORMAT, "%s (%s) did not send a model list (%s): is it %s server?", x->name,
                               x->url, o ? "no array" : je.text,
                               rs->api == INGOT_REMOTE_OLLAMA ? "an Ollama" : "an OpenAI-compatible");
    }
    size_t i;
    json_t *m;
    int n = 0;
    json_array_foreach(arr, i, m) {
        json_t *id = json_object_get(m, rs->api == INGOT_REMOTE_OLLAMA ? "name" : "id");
        if (rs->api == INGOT_REMOTE_OLLAMA && !json_is_string(id)) id = json_object_get(m, "model");
        if (!json_is_string(id)) continue;
        n++;
        if (fn && !fn(json_string_value(id), user)) break;
    }
    json_decref(o);
    if (n_out) *n_out = n;
    return INGOT_OK;
}

static ingot_status remote_list(ingot_backend *b, bool (*fn)(const char *, void *), void *user, ingot_error *err) {
    remote_state *rs = b->impl;
    xfer x;
    ingot_status st = http_do(rs, b->name, models_path(rs), NULL, NULL, NULL, 0, &x, err);
    if (!st) st = parse_models(rs, &x, fn, user, NULL, err);
    free(x.body);
    return st;
}

typedef struct names_ctx {
    char list[400];
    int n;
} names_ctx;

static bool collect_name(const char *id, void *user) {
    names_ctx *c = user;
    size_t l = strlen(c->list);
    if (c->n < 5 && l + strlen(id) + 3 < sizeof c->list)
        snprintf(c->list + l, sizeof c->list - l, "%s%s", l ? ", " : "", id);
    else if (c->n == 5 && l + 6 < sizeof c->list)
        strcat(c->list, ", ...");
    c->n++;
    return true;
}

static bool remote_is_available(ingot_backend *b, char *reason, size_t cap) {
    remote_state *rs = b->impl;
    xfer x;
    ingot_error e = {0};
    names_ctx names = {"", 0};
    ingot_status st = http_do(rs, b->name, models_path(rs), NULL, NULL, NULL, rs->probe_ms, &x, &e);
    if (!st) st = parse_models(rs, &x, collect_name, &names, NULL, &e);
    free(x.body);
    if (st) {
        snprintf(reason, cap, "%s", e.message);
        return false;
    }
    snprintf(reason, cap, "%s server at %s, %d model%s%s%s", ingot_remote_api_str(rs->api), rs->url, names.n,
             names.n == 1 ? "" : "s", names.n ? ": " : "", names.list);
    return true;
}

typedef struct find_ctx {
    const char *want;
    char *found;
    bool oom;
    names_ctx names;
} find_ctx;

/* Ollama calls "llama3.2" what its list names "llama3.2:latest"; LM Studio
 * lists "publisher/model" ids that users shorten to "model". */
static bool match_model(const char *id, void *user) {
    find_ctx *f = user;
    collect_name(id, &f->names);
    size_t lw = strlen(f->want), li = strlen(id);
    bool ok = !strcmp(id, f->want) || (li == lw + 7 && !strncmp(id, f->want, lw) && !strcmp(id + lw, ":latest")) ||
              (li > lw && id[li - lw - 1] == '/' && !strcmp(id + li - lw, f->want));
    if (ok && !f->found) {
        f->found = strdup(id);
        f->oom = !f->found;
        if (!strcmp(id, f->want)) return false;
    } else if (ok && !strcmp(id, f->want)) { /* an exact match beats a shortened one */
        free(f->found);
        f->found = strdup(id);
        f->oom = !f->found;
        return false;
    }
    return true;
}

static ingot_status remote_load(ingot_backend *b, const char *model, char **name, ingot_error *err) {
    remote_state *rs = b->impl;
    if (!*model)
        return ingot_error_set(err, INGOT_E_INVALID_ARG,
                               "%s: no model named (give one, e.g. %s://MODEL, or set remotes.%s.model)", b->name,
                               rs->api == INGOT_REMOTE_OLLAMA ? "ollama" : "lmstudio", b->name);
    double t0 = ingot_time_ms();
    xfer x;
    find_ctx f = {model, NULL, false, {"", 0}};
    ingot_status st = http_do(rs, b->name, models_path(rs), NULL, NULL, NULL, 0, &x, err);
    if (st == INGOT_E_NOT_FOUND && rs->api == INGOT_REMOTE_OPENAI) {
        /* Some OpenAI-compatible servers have no /v1/models: trust the name. */
        free(x.body);
        ingot_error_clear(err);
        *name = strdup(model);
        rs->load_ms = ingot_time_ms() - t0;
        rs->load_reported = false;
        return *name ? INGOT_OK : ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    if (!st) st = parse_models(rs, &x, match_model, &f, NULL, err);
    free(x.body);
    if (st) return st;
    if (f.oom) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    if (!f.found)
        return ingot_error_set(err, INGOT_E_NOT_FOUND, "%s at %s has no model '%s' (%s%s)%s", b->name, rs->url, model,
                               f.names.n ? "it has: " : "it has no models", f.names.list,
                               rs->api == INGOT_REMOTE_OLLAMA ? "; `ollama pull` it first" : "");
    *name = f.found;
    rs->load_ms = ingot_time_ms() - t0;
    rs->load_reported = false;
    return INGOT_OK;
}

/* ---- generation ---- */

/* The request body. Raw requests go to the completion endpoints with the
 * text as is; others to the chat endpoints as messages. */
static char *request_body(const remote_state *rs, const char *model, const ingot_generate_params *p, uint64_t seed,
                          const char **path) {
    json_t *o = json_object();
    if (!o) return NULL;
    bool ollama = rs->api == INGOT_REMOTE_OLLAMA;
    json_object_set_new(o, "model", json_string(model));
    json_object_set_new(o, "stream", json_true());
    if (p->raw) {
        /* system, then the prompt or the messages' contents, joined by \n */
        size_t n = (p->system ? strlen(p->system) + 1 : 0) + (p->prompt ? strlen(p->prompt) : 0) + 1;
        for (int32_t i = 0; i < p->n_messages; i++) n += strlen(p->messages[i].content ? p->messages[i].content : "") + 1;
        char *text = malloc(n);
        if (!text) {
            json_decref(o);
            return NULL;
        }
        text[0] = 0;
        if (p->system) strcat(strcat(text, p->system), "\n");
        if (p->n_messages > 0) {
            for (int32_t i = 0; i < p->n_messages; i++) {
                if (i) strcat(text, "\n");
                strcat(text, p->messages[i].content ? p->messages[i].content : "");
            }
        } else if (p->prompt) {
            strcat(text, p->prompt);
        }
        json_object_set_new(o, "prompt", json_string(text));
        free(text);
        if (ollama) json_object_set_new(o, "raw", json_true());
        *path = ollama ? "/api/generate" : "/completions";
    } else {
        json_t *msgs = json_array();
        bool has_system = p->n_messages > 0 && p->messages[0].role && !strcmp(p->messages[0].role, "system");
        if (p->system && !has_system) {
            json_t *m = json_object();
            json_object_set_new(m, "role", json_string("system"));
            json_object_set_new(m, "content", json_string(p->system));
            json_array_append_new(msgs, m);
        }
        if (p->n_messages > 0) {
            for (int32_t i = 0; i < p->n_messages; i++) {
                json_t *m = json_object();
                json_object_set_new(m, "role", json_string(p->messages[i].role ? p->messages[i].role : "user"));
                json_object_set_new(m, "content", json_string(p->messages[i].content ? p->messages[i].content : ""));
                json_array_append_new(msgs, m);
            }
        } else {
            json_t *m = json_object();
            json_object_set_new(m, "role", json_string("user"));
            json_object_set_new(m, "content", json_string(p->prompt ? p->prompt : ""));
            json_array_append_new(msgs, m);
        }
        json_object_set_new(o, "messages", msgs);
        *path = ollama ? "/api/chat" : "/chat/completions";
    }
    const ingot_sampler_params *s = &p->sampling;
    double temp = s->temperature > 0 ? s->temperature : 0;
    json_t *stop = NULL;
    if (p->n_stop > 0) {
        stop = json_array();
        for (int32_t i = 0; i < p->n_stop; i++)
            if (p->stop[i] && *p->stop[i]) json_array_append_new(stop, json_string(p->stop[i]));
    }
    json_int_t jseed = (json_int_t)(seed & 0x7fffffffffffffffull);
    if (ollama) {
        json_t *opt = json_object();
        json_object_set_new(opt, "temperature", json_real(temp));
        json_object_set_new(opt, "top_p", json_real(s->top_p));
        json_object_set_new(opt, "top_k", json_integer(s->top_k));
        json_object_set_new(opt, "min_p", json_real(s->min_p));
        json_object_set_new(opt, "repeat_penalty", json_real(s->repeat_penalty));
        json_object_set_new(opt, "repeat_last_n", json_integer(s->repeat_last_n));
        if (s->presence_penalty != 0) json_object_set_new(opt, "presence_penalty", json_real(s->presence_penalty));
        if (s->frequency_penalty != 0) json_object_set_new(opt, "frequency_penalty", json_real(s->frequency_penalty));
        json_object_set_new(opt, "seed", json_integer(jseed));
        json_object_set_new(opt, "num_predict", json_integer(p->max_tokens < 0 ? -1 : p->max_tokens));
        if (stop) json_object_set_new(opt, "stop", stop);
        json_object_set_new(o, "options", opt);
    } else {
        json_t *so = json_object();
        json_object_set_new(so, "include_usage", json_true());
        json_object_set_new(o, "stream_options", so);
        json_object_set_new(o, "temperature", json_real(temp));
        json_object_set_new(o, "top_p", json_real(s->top_p));
        if (p->max_tokens > 0) json_object_set_new(o, "max_tokens", json_integer(p->max_tokens));
        if (s->presence_penalty != 0) json_object_set_new(o, "presence_penalty", json_real(s->presence_penalty));
        if (s->frequency_penalty != 0) json_object_set_new(o, "frequency_penalty", json_real(s->frequency_penalty));
        json_object_set_new(o, "seed", json_integer(jseed));
        if (stop) json_object_set_new(o, "stop", stop);
        if (s->n_logit_bias > 0 && s->logit_bias) {
            json_t *lb = json_object();
            for (int32_t i = 0; i < s->n_logit_bias; i++) {
                char id[16];
                snprintf(id, sizeof id, "%d", s->logit_bias[i].token);
                float v = s->logit_bias[i].bias;
                json_object_set_new(lb, id, json_real(v < -100 ? -100 : v > 100 ? 100 : v));
            }
            json_object_set_new(o, "logit_bias", lb);
        }
        if (!rs->strict_openai) { /* understood by llama.cpp, LM Studio, vLLM */
            json_object_set_new(o, "top_k", json_integer(s->top_k));
            json_object_set_new(o, "min_p", json_real(s->min_p));
            json_object_set_new(o, "repeat_penalty", json_real(s->repeat_penalty));
        }
    }
    char *body = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(o);
    return body;
}

typedef struct gen_ctx {
    ingot_textstream ts;
    double start, first, last;
} gen_ctx;

static ingot_status on_text(const char *s, size_t n, void *user, ingot_error *err) {
    gen_ctx *g = user;
    double now = ingot_time_ms();
    if (g->first == 0) g->first = now;
    g->last = now;
    return ingot_textstream_push(&g->ts, s, n, err);
}

static bool discard_piece(const char *piece, size_t len, void *user) {
    (void)piece, (void)len, (void)user;
    return true;
}

static uint64_t draw_seed(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t z = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40);
    z += 0x9e3779b97f4a7c15ull; /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (z ^ (z >> 31)) & 0x7fffffffu; /* servers differ in how wide a seed they take */
}

static ingot_status remote_generate(ingot_backend *b, const ingot_generate_params *p, ingot_piece_fn fn, void *user,
                                    ingot_metrics *m, ingot_error *err) {
    remote_state *rs = b->impl;
    gen_ctx g;
    memset(&g, 0, sizeof g);
    g.start = ingot_time_ms();
    uint64_t seed = p->sampling.seed == INGOT_SEED_RANDOM ? draw_seed() : p->sampling.seed;
    m->seed = seed;
    if (!rs->load_reported) {
        m->load_ms = rs->load_ms;
        rs->load_reported = true;
    }
    if (p->max_tokens == 0) { /* nothing to ask a server for */
        m->finish = INGOT_FINISH_LENGTH;
        return INGOT_OK;
    }
    ingot_status st = ingot_textstream_init(&g.ts, p->stop, p->n_stop, fn ? fn : discard_piece, user, err);
    if (st) {
        m->finish = INGOT_FINISH_ERROR;
        return st;
    }
    const char *path = NULL;
    char *body = request_body(rs, b->model, p, seed, &path);
    if (!body) {
        ingot_textstream_free(&g.ts);
        m->finish = INGOT_FINISH_ERROR;
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    wire_reader wr;
    wire_init(&wr, rs->api == INGOT_REMOTE_OLLAMA ? WIRE_NDJSON : WIRE_SSE, on_text, &g);
    xfer x;
    st = http_do(rs, b->name, path, body, &wr, &g.ts, 0, &x, err);
    free(body);
    bool client_stop = g.ts.stopped;
    if (!st && !client_stop) st = wire_end(&wr, err);
    if (!st && !client_stop && !wr.done && !wr.saw_finish)
        st = ingot_error_set(err, INGOT_E_NETWORK, "%s (%s) ended its reply before finishing (%s)", b->name, x.url,
                             wr.format == WIRE_SSE ? "no [DONE] event" : "no \"done\": true");
    if (!st && !client_stop) st = ingot_textstream_finish(&g.ts, err);
    if (st == INGOT_E_CANCELLED || g.ts.cancelled) {
        st = ingot_error_set(err, INGOT_E_CANCELLED, "cancelled by the callback");
    }
    free(x.body);

    double end = ingot_time_ms();
    m->total_ms = end - g.start;
    m->ttft_ms = g.first > 0 ? g.first - g.start : 0;
    m->prompt_tokens = wr.prompt_tokens > 0 ? (int32_t)wr.prompt_tokens : 0;
    int64_t gen = wr.completion_tokens >= 0 && !client_stop ? wr.completion_tokens : wr.n_deltas;
    m->generated_tokens = (int32_t)gen;
    if (m->prompt_tokens > 0 && m->ttft_ms > 0) m->prompt_tps = m->prompt_tokens / (m->ttft_ms / 1000.0);
    if (gen > 1 && g.last > g.first) m->gen_tps = (double)(gen - 1) / ((g.last - g.first) / 1000.0);
    m->peak_rss_mb = (double)ingot_peak_rss() / (1024.0 * 1024.0);
    if (st == INGOT_E_CANCELLED) m->finish = INGOT_FINISH_CANCELLED;
    else if (st) m->finish = INGOT_FINISH_ERROR;
    else if (client_stop) m->finish = INGOT_FINISH_STOP;
    else m->finish = wr.saw_finish ? wr.finish : INGOT_FINISH_STOP;
    wire_free(&wr);
    ingot_textstream_free(&g.ts);
    return st;
}

static void remote_noop(ingot_backend *b) { (void)b; }

static void remote_destroy(ingot_backend *b) {
    remote_state *rs = b->impl;
    free(rs->url);
    free(rs->api_key);
    free(rs);
}

static const ingot_backend_ops REMOTE_OPS = {remote_is_available, remote_load, remote_generate, remote_noop,
                                             remote_noop,         remote_list, remote_destroy};

ingot_status ingot_backend_new_remote(const ingot_remote_params *p, ingot_backend **out, ingot_error *err) {
    *out = NULL;
    if (!p || !p->url || (strncmp(p->url, "http://", 7) && strncmp(p->url, "https://", 8)))
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "remote backend: the URL must start with http:// or https:// (got '%s')",
                               p && p->url ? p->url : "(none)");
    remote_state *rs = calloc(1, sizeof *rs);
    if (!rs) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    rs->api = p->api;
    rs->url = strdup(p->url);
    rs->api_key = strdup(p->api_key ? p->api_key : "");
    rs->connect_ms = p->connect_timeout_ms > 0 ? p->connect_timeout_ms : 2000;
    rs->read_ms = p->read_timeout_ms > 0 ? p->read_timeout_ms : 120000;
    rs->probe_ms = p->probe_timeout_ms > 0 ? p->probe_timeout_ms : 1000;
    if (!rs->url || !rs->api_key) {
        free(rs->url);
        free(rs->api_key);
        free(rs);
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    size_t n = strlen(rs->url);
    while (n > 8 && rs->url[n - 1] == '/') rs->url[--n] = 0;
    const char *host = strstr(rs->url, "://") + 3;
    rs->strict_openai = p->api == INGOT_REMOTE_OPENAI && !strncmp(host, "api.openai.com", 14);
    const char *name = p->name && *p->name ? p->name : ingot_remote_api_str(p->api);
    ingot_status st = ingot_backend_alloc(&REMOTE_OPS, INGOT_BACKEND_REMOTE, name, rs, out, err);
    if (st) remote_destroy(&(ingot_backend){.impl = rs});
    return st;
}
