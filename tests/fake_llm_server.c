/* A fake LLM server on 127.0.0.1 (libmicrohttpd) that speaks both wire
 * formats ingot's remote backend uses, as the real servers do:
 *   OpenAI:  GET /v1/models, POST /v1/chat/completions and /v1/completions
 *            streamed as server-sent events ("data: {...}\n\n", "data: [DONE]"),
 *            chunks with choices[0].delta.content / choices[0].text, a final
 *            usage chunk when stream_options.include_usage is set, errors as
 *            {"error": {"message", "type", "code"}};
 *   Ollama:  GET /api/tags, POST /api/chat and /api/generate streamed as
 *            newline-delimited JSON ({"message": {...}, "done": false} ...
 *            {"done": true, "done_reason", "prompt_eval_count", "eval_count"}),
 *            errors as {"error": "..."}.
 * The reply is a fixed text with multi-byte UTF-8, one "token" per event,
 * and the body is written in small chunks (chunk_size bytes) so that lines,
 * JSON strings and UTF-8 characters are cut at awkward places. The model
 * name asks for a fault: "slow" (one event, then silence), "drop" (the
 * connection closes mid-stream), "nodone" (the stream ends without [DONE] /
 * done), "midstream-error", "garbage" (an event that is not JSON),
 * "nostream" (one JSON body despite "stream": true), "crlf" (CRLF lines,
 * comments, event: fields), "err400", "err401", "err404", "err429",
 * "err500", "err503"; unknown models get a 404 as the real servers send.
 * The server ignores "stop" so that tests see the client enforce it.
 * Built into the tests (fake_server_start) and as a program for the CLI
 * tests: fake_llm_server [--api-key KEY] prints its port and serves until
 * its stdin closes (or 120 s pass). */
#include "fake_llm_server.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char FAKE_REPLY[] = "Hello, wörld! 你好 🙂 naïve café — the end.";

/* Cuts the reply into "tokens" of up to 3 characters (never inside one). */
static int reply_tokens(const char *text, const char **starts, size_t *lens, int cap) {
    int n = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p && n < cap) {
        const unsigned char *s = p;
        for (int c = 0; c < 3 && *p; c++) {
            p++;
            while ((*p & 0xC0) == 0x80) p++;
        }
        starts[n] = (const char *)s;
        lens[n] = (size_t)(p - s);
        n++;
    }
    return n;
}

int fake_reply_tokens(void) {
    const char *s[64];
    size_t l[64];
    return reply_tokens(FAKE_REPLY, s, l, 64);
}

/* ---- building the reply body ---- */

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static void put(buf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + n + 1) cap *= 2;
        b->p = realloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

static void put_json(buf *b, json_t *j, const char *prefix, const char *suffix) {
    if (!j) {
        fprintf(stderr, "fake_llm_server: a reply failed to build\n");
        abort();
    }
    char *s = json_dumps(j, JSON_COMPACT);
    puts_(b, prefix);
    puts_(b, s);
    puts_(b, suffix);
    free(s);
    json_decref(j);
}

static json_t *pack_checked(const char *fmt, ...) {
    json_error_t e;
    va_list ap;
    va_start(ap, fmt);
    json_t *o = json_vpack_ex(&e, 0, fmt, ap);
    va_end(ap);
    if (!o) {
        fprintf(stderr, "fake_llm_server: json_pack(\"%s\"): %s\n", fmt, e.text);
        abort();
    }
    return o;
}
#define PACK(...) pack_checked(__VA_ARGS__)

typedef enum api_kind { OA_CHAT, OA_COMPLETION, OL_CHAT, OL_GENERATE } api_kind;

/* One streamed event carrying a piece of text. */
static json_t *event_for(api_kind k, const char *model, const char *piece, size_t n) {
    json_t *o;
    if (k == OA_CHAT)
        o = PACK("{s:s,s:s,s:[{s:i,s:{s:s%},s:n}]}", "object", "chat.completion.chunk", "model", model, "choices",
                      "index", 0, "delta", "content", piece, n, "finish_reason");
    else if (k == OA_COMPLETION)
        o = PACK("{s:s,s:s,s:[{s:i,s:s%,s:n}]}", "object", "text_completion", "model", model, "choices", "index", 0,
                      "text", piece, n, "finish_reason");
    else if (k == OL_CHAT)
        o = PACK("{s:s,s:s,s:{s:s,s:s%},s:b}", "model", model, "created_at", "2026-01-15T09:30:00Z", "message",
                      "role", "assistant", "content", piece, n, "done", 0);
    else
        o = PACK("{s:s,s:s,s:s%,s:b}", "model", model, "created_at", "2026-01-15T09:30:00Z", "response", piece, n,
                      "done", 0);
    return o;
}

static void build_stream(buf *b, api_kind k, const char *model, int max_tokens, bool include_usage, bool crlf,
                         int *n_head_bytes) {
    const char *starts[64];
    size_t lens[64];
    int n = reply_tokens(FAKE_REPLY, starts, lens, 64);
    bool length = max_tokens > 0 && max_tokens < n;
    if (length) n = max_tokens;
    bool sse = k == OA_CHAT || k == OA_COMPLETION;
    const char *pre = sse ? "data: " : "", *post = sse ? (crlf ? "\r\n\r\n" : "\n\n") : "\n";
    if (sse && !crlf && k == OA_CHAT) /* the role comes first, with no content */
        put_json(b, PACK("{s:s,s:[{s:i,s:{s:s},s:n}]}", "object", "chat.completion.chunk", "choices", "index", 0,
                              "delta", "role", "assistant", "finish_reason"),
                 pre, post);
    if (crlf && sse) puts_(b, ": keep-alive comment\r\nevent: message\r\nid: 1\r\n");
    for (int i = 0; i < n; i++) {
        put_json(b, event_for(k, model, starts[i], lens[i]), pre, post);
        if (i == 0 && n_head_bytes) *n_head_bytes = (int)b->len;
        if (crlf && sse && i == 1) puts_(b, ": ping\r\n\r\n");
    }
    const char *fr = length ? "length" : "stop";
    if (k == OA_CHAT)
        put_json(b, PACK("{s:s,s:[{s:i,s:{},s:s}]}", "object", "chat.completion.chunk", "choices", "index", 0, "delta",
                              "finish_reason", fr),
                 pre, post);
    else if (k == OA_COMPLETION)
        put_json(b, PACK("{s:s,s:[{s:i,s:s,s:s}]}", "object", "text_completion", "choices", "index", 0, "text", "",
                              "finish_reason", fr),
                 pre, post);
    if (sse && include_usage)
        put_json(b, PACK("{s:s,s:[],s:{s:i,s:i,s:i}}", "object", "chat.completion.chunk", "choices", "usage",
                              "prompt_tokens", 7, "completion_tokens", n, "total_tokens", 7 + n),
                 pre, post);
    if (sse) {
        puts_(b, "data: [DONE]");
        puts_(b, post);
    } else {
        json_t *last = k == OL_CHAT ? PACK("{s:s,s:{s:s,s:s},s:b,s:s,s:i,s:i,s:i,s:i}", "model", model, "message",
                                                "role", "assistant", "content", "", "done", 1, "done_reason", fr,
                                                "prompt_eval_count", 7, "eval_count", n, "total_duration", 1000,
                                                "eval_duration", 500)
                                    : PACK("{s:s,s:s,s:b,s:s,s:i,s:i}", "model", model, "response", "", "done", 1,
                                                "done_reason", fr, "prompt_eval_count", 7, "eval_count", n);
        put_json(b, last, "", "\n");
    }
}

/* The whole non-streamed reply of a server that ignored "stream". */
static void build_whole(buf *b, api_kind k, const char *model) {
    int n = fake_reply_tokens();
    json_t *o;
    if (k == OA_CHAT)
        o = PACK("{s:s,s:s,s:[{s:i,s:{s:s,s:s},s:s}],s:{s:i,s:i}}", "object", "chat.completion", "model", model,
                      "choices", "index", 0, "message", "role", "assistant", "content", FAKE_REPLY, "finish_reason",
                      "stop", "usage", "prompt_tokens", 7, "completion_tokens", n);
    else if (k == OA_COMPLETION)
        o = PACK("{s:s,s:[{s:i,s:s,s:s}]}", "object", "text_completion", "choices", "index", 0, "text", FAKE_REPLY,
                      "finish_reason", "stop");
    else if (k == OL_CHAT)
        o = PACK("{s:s,s:{s:s,s:s},s:b,s:s,s:i,s:i}", "model", model, "message", "role", "assistant", "content",
                      FAKE_REPLY, "done", 1, "done_reason", "stop", "prompt_eval_count", 7, "eval_count", n);
    else
        o = PACK("{s:s,s:s,s:b,s:i,s:i}", "model", model, "response", FAKE_REPLY, "done", 1, "prompt_eval_count", 7,
                      "eval_count", n);
    put_json(b, o, "", "\n");
}

/* ---- the server ---- */

typedef struct stream_state {
    fake_server *srv;
    buf body;
    size_t chunk;
    int stall_at;  /* stop sending here (slow) */
    int drop_at;   /* close the connection here (drop) */
} stream_state;

struct fake_server {
    struct MHD_Daemon *d;
    int port;
    fake_server_opts opts;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
    /* last request, for tests to inspect */
    char last_path[128];
    char *last_body;
    char last_auth[256];
    int n_requests;
};

static ssize_t stream_reader(void *cls, uint64_t pos, char *out, size_t max) {
    stream_state *s = cls;
    if (s->stall_at >= 0 && pos >= (uint64_t)s->stall_at) {
        /* silence until the server stops (bounded: 20 s) */
        fake_server *srv = s->srv;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 20;
        pthread_mutex_lock(&srv->mu);
        while (!srv->stopping)
            if (pthread_cond_timedwait(&srv->cv, &srv->mu, &until) != 0) break;
        pthread_mutex_unlock(&srv->mu);
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (s->drop_at >= 0 && pos >= (uint64_t)s->drop_at) return MHD_CONTENT_READER_END_WITH_ERROR;
    if (pos >= s->body.len) return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = s->body.len - (size_t)pos;
    if (n > s->chunk) n = s->chunk;
    if (n > max) n = max;
    if (s->stall_at >= 0 && pos + n > (uint64_t)s->stall_at) n = (size_t)s->stall_at - (size_t)pos;
    if (s->drop_at >= 0 && pos + n > (uint64_t)s->drop_at) n = (size_t)s->drop_at - (size_t)pos;
    memcpy(out, s->body.p + pos, n);
    return (ssize_t)n;
}

static void stream_free(void *cls) {
    stream_state *s = cls;
    free(s->body.p);
    free(s);
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned code, const char *type, const char *text) {
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, bool openai, unsigned code, const char *msg) {
    json_t *o = openai ? PACK("{s:{s:s,s:s,s:n}}", "error", "message", msg, "type",
                                   code == 401 ? "invalid_api_key" : code >= 500 ? "server_error" : "invalid_request_error",
                                   "code")
                       : PACK("{s:s}", "error", msg);
    char *s = json_dumps(o, JSON_COMPACT);
    enum MHD_Result r = send_text(c, code, "application/json", s);
    free(s);
    json_decref(o);
    return r;
}

static const char *const MODELS[] = {"tiny-chat", "slow",   "drop",   "nodone", "midstream-error",
                                     "garbage",   "nostream", "crlf", "err400", "err401",
                                     "err404",    "err429", "err500", "err503"};
#define N_MODELS (sizeof MODELS / sizeof MODELS[0])

static bool known_model(const char *m) {
    for (size_t i = 0; i < N_MODELS; i++)
        if (!strcmp(m, MODELS[i])) return true;
    return false;
}

static enum MHD_Result list_models(struct MHD_Connection *c, bool openai) {
    json_t *arr = json_array();
    const char *const *ids = MODELS;
    for (size_t i = 0; i < N_MODELS; i++) {
        char name[64];
        snprintf(name, sizeof name, openai ? "%s" : "%s:latest", ids[i]);
        json_array_append_new(arr, openai ? PACK("{s:s,s:s,s:s}", "id", name, "object", "model", "owned_by", "fake")
                                          : PACK("{s:s,s:s,s:I}", "name", name, "model", name, "size",
                                                      (json_int_t)1234567));
    }
    if (openai) json_array_append_new(arr, PACK("{s:s,s:s}", "id", "publisher/long-name", "object", "model"));
    json_t *o = openai ? PACK("{s:s,s:o}", "object", "list", "data", arr) : PACK("{s:o}", "models", arr);
    char *s = json_dumps(o, JSON_COMPACT);
    enum MHD_Result r = send_text(c, 200, "application/json", s);
    free(s);
    json_decref(o);
    return r;
}

typedef struct upload {
    buf body;
} upload;

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *data, size_t *data_size, void **con_cls) {
    (void)version;
    fake_server *srv = cls;
    if (!*con_cls) {
        upload *u = calloc(1, sizeof *u);
        *con_cls = u;
        return MHD_YES;
    }
    upload *u = *con_cls;
    if (*data_size) {
        put(&u->body, data, *data_size);
        *data_size = 0;
        return MHD_YES;
    }
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    pthread_mutex_lock(&srv->mu);
    snprintf(srv->last_path, sizeof srv->last_path, "%s", url);
    snprintf(srv->last_auth, sizeof srv->last_auth, "%s", auth ? auth : "");
    free(srv->last_body);
    srv->last_body = u->body.p ? strdup(u->body.p) : NULL;
    srv->n_requests++;
    pthread_mutex_unlock(&srv->mu);

    bool openai = !strncmp(url, "/v1/", 4);
    if (srv->opts.api_key) {
        char want[300];
        snprintf(want, sizeof want, "Bearer %s", srv->opts.api_key);
        if (!auth || strcmp(auth, want)) return send_error(c, openai, 401, "Incorrect API key provided.");
    }
    if (!strcmp(method, "GET") && !strcmp(url, "/v1/models")) return list_models(c, true);
    if (!strcmp(method, "GET") && !strcmp(url, "/api/tags")) return list_models(c, false);
    if (!strcmp(method, "GET") && !strcmp(url, "/")) return send_text(c, 200, "text/plain", "Ollama is running");
    api_kind k;
    if (!strcmp(url, "/v1/chat/completions")) k = OA_CHAT;
    else if (!strcmp(url, "/v1/completions")) k = OA_COMPLETION;
    else if (!strcmp(url, "/api/chat")) k = OL_CHAT;
    else if (!strcmp(url, "/api/generate")) k = OL_GENERATE;
    else return send_error(c, openai, 404, "no such route");
    if (strcmp(method, "POST")) return send_error(c, openai, 405, "method not allowed");

    json_error_t je;
    json_t *req = json_loadb(u->body.p ? u->body.p : "", u->body.len, 0, &je);
    if (!req) return send_error(c, openai, 400, "the request body is not JSON");
    char model[128];
    const char *mj = json_string_value(json_object_get(req, "model"));
    snprintf(model, sizeof model, "%s", mj ? mj : "");
    char mname[128];
    snprintf(mname, sizeof mname, "%s", model);
    size_t ml = strlen(mname);
    if (!openai && ml > 7 && !strcmp(mname + ml - 7, ":latest")) mname[ml - 7] = 0;
    int max_tokens = -1;
    json_t *mt = openai ? json_object_get(req, "max_tokens") : json_object_get(json_object_get(req, "options"), "num_predict");
    if (json_is_integer(mt)) max_tokens = (int)json_integer_value(mt);
    bool include_usage = json_is_true(json_object_get(json_object_get(req, "stream_options"), "include_usage"));
    json_decref(req);

    if (!strncmp(mname, "err", 3) && known_model(mname)) {
        int code = atoi(mname + 3);
        const char *msg = code == 400   ? "max_tokens is too large for this model"
                          : code == 401 ? "Incorrect API key provided."
                          : code == 404 ? "The model does not exist"
                          : code == 429 ? "Rate limit reached"
                          : code == 500 ? "the model crashed"
                                        : "the server is overloaded";
        return send_error(c, openai, (unsigned)code, msg);
    }
    if (!known_model(mname)) {
        char msg[256];
        snprintf(msg, sizeof msg, openai ? "model '%s' not found" : "model \"%s\" not found, try pulling it first", model);
        return send_error(c, openai, 404, msg);
    }
    stream_state *s = calloc(1, sizeof *s);
    s->srv = srv;
    s->chunk = srv->opts.chunk_size > 0 ? (size_t)srv->opts.chunk_size : 5;
    s->stall_at = s->drop_at = -1;
    const char *type = openai ? "text/event-stream" : "application/x-ndjson";
    int head = 0;
    if (!strcmp(mname, "nostream")) {
        build_whole(&s->body, k, model);
        type = "application/json";
    } else if (!strcmp(mname, "garbage")) {
        build_stream(&s->body, k, model, 2, false, false, &head);
        s->body.len = (size_t)head;
        puts_(&s->body, openai ? "data: {\"choices\": [{\"delta\": {\"content\": \"x\"\n\n" : "{\"message\": {\"content\n");
    } else if (!strcmp(mname, "midstream-error")) {
        build_stream(&s->body, k, model, -1, false, false, &head);
        s->body.len = (size_t)head;
        puts_(&s->body, openai ? "data: {\"error\": {\"message\": \"out of memory on the server\", \"type\": \"server_error\"}}\n\n"
                               : "{\"error\": \"out of memory on the server\"}\n");
    } else {
        build_stream(&s->body, k, model, max_tokens, include_usage, !strcmp(mname, "crlf"), &head);
        if (!strcmp(mname, "slow")) s->stall_at = head;
        if (!strcmp(mname, "drop")) s->drop_at = (int)s->body.len / 2;
        if (!strcmp(mname, "nodone")) {
            /* cut after the last text event: no finish, no [DONE] / done */
            const char *cut = openai ? strstr(s->body.p, "\"finish_reason\":\"") : strstr(s->body.p, "\"done\":true");
            if (cut) {
                while (cut > s->body.p && cut[-1] != '\n') cut--;
                s->body.len = (size_t)(cut - s->body.p);
            }
        }
    }
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, stream_reader, s, stream_free);
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static void request_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)cls, (void)c, (void)toe;
    upload *u = *con_cls;
    if (u) {
        free(u->body.p);
        free(u);
    }
    *con_cls = NULL;
}

fake_server *fake_server_start(const fake_server_opts *opts) {
    fake_server *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (opts) s->opts = *opts;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handle, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a, MHD_OPTION_NOTIFY_COMPLETED, request_done, s,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!s->d) {
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    return s;
}

int fake_server_port(const fake_server *s) { return s->port; }

void fake_server_last(fake_server *s, char *path, size_t np, char **body, char *auth, size_t na) {
    pthread_mutex_lock(&s->mu);
    if (path) snprintf(path, np, "%s", s->last_path);
    if (auth) snprintf(auth, na, "%s", s->last_auth);
    if (body) *body = s->last_body ? strdup(s->last_body) : NULL;
    pthread_mutex_unlock(&s->mu);
}

int fake_server_requests(fake_server *s) {
    pthread_mutex_lock(&s->mu);
    int n = s->n_requests;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void fake_server_stop(fake_server *s) {
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    MHD_stop_daemon(s->d);
    free(s->last_body);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

#ifdef FAKE_SERVER_MAIN
int main(int argc, char **argv) {
    fake_server_opts o = {0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--api-key") && i + 1 < argc) o.api_key = argv[++i];
        else if (!strcmp(argv[i], "--chunk") && i + 1 < argc) o.chunk_size = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: fake_llm_server [--api-key KEY] [--chunk N]\n");
            return 2;
        }
    }
    fake_server *s = fake_server_start(&o);
    if (!s) {
        fprintf(stderr, "fake_llm_server: cannot start\n");
        return 1;
    }
    printf("%d\n", fake_server_port(s));
    fflush(stdout);
    /* serve until stdin closes, at most 120 s */
    struct pollfd p = {0, POLLIN, 0};
    char b[64];
    double left = 120000;
    while (left > 0) {
        int r = poll(&p, 1, 1000);
        if (r > 0 && read(0, b, sizeof b) <= 0) break;
        left -= 1000;
    }
    fake_server_stop(s);
    return 0;
}
#endif
