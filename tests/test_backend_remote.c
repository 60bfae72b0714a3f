/* The remote backend against a local server speaking the real OpenAI (SSE)
 * and Ollama (NDJSON) wire formats (tests/fake_llm_server.c): text arrives
 * whole and as valid UTF-8 whatever the chunking (1, 2, 3, 7 and 64 bytes
 * per write), the request carries the parameters, usage and eval counts
 * become metrics, stop strings are enforced by the client, cancellation,
 * API keys, model lookup, and every failure the issue lists as a clear
 * status: HTTP error bodies, a stalled stream (read timeout), a dropped
 * connection, a stream without its end, a malformed event, an error event
 * mid-stream. Also the wire readers alone, fed at every split point, and
 * the fallback chain moving past a server that is down to one that is up. */
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "backend/wire.h"
#include "base/platform.h"
#include "fake_llm_server.h"
#include "generate/stream.h"
#include "ingot.h"
#include "test.h"

/* ---- helpers ---- */

typedef struct collect {
    char text[4096];
    size_t len;
    int pieces;
    bool bad_utf8;
    int cancel_after; /* pieces; 0: never */
} collect;

static bool valid_utf8(const char *s, size_t n) {
    size_t i = 0, l;
    while (i < n) {
        if (ingot_utf8_check((const unsigned char *)s + i, n - i, &l) != 1) return false;
        i += l;
    }
    return true;
}

static bool on_piece(const char *p, size_t n, void *user) {
    collect *c = user;
    if (!valid_utf8(p, n)) c->bad_utf8 = true;
    if (c->len + n < sizeof c->text) {
        memcpy(c->text + c->len, p, n);
        c->len += n;
        c->text[c->len] = 0;
    }
    c->pieces++;
    return !(c->cancel_after && c->pieces >= c->cancel_after);
}

static ingot_backend *remote(ingot_remote_api api, int port, const char *key, int read_ms) {
    char url[128];
    snprintf(url, sizeof url, api == INGOT_REMOTE_OPENAI ? "http://127.0.0.1:%d/v1/" : "http://127.0.0.1:%d", port);
    ingot_remote_params p = ingot_remote_default_params();
    p.api = api;
    p.url = url;
    p.api_key = key;
    p.read_timeout_ms = read_ms;
    p.probe_timeout_ms = 2000;
    ingot_backend *b = NULL;
    ingot_error err;
    if (ingot_backend_new_remote(&p, &b, &err)) fprintf(stderr, "new_remote: %s\n", err.message);
    return b;
}

static ingot_generate_params params(const char *prompt) {
    ingot_generate_params gp;
    memset(&gp, 0, sizeof gp);
    gp.prompt = prompt;
    gp.max_tokens = 100;
    gp.sampling.temperature = 0.5f;
    gp.sampling.top_p = 0.8f;
    gp.sampling.top_k = 20;
    gp.sampling.repeat_penalty = 1.1f;
    gp.sampling.repeat_last_n = 64;
    gp.sampling.seed = 42;
    return gp;
}

/* A port nobody listens on. */
static int closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &len)) return 9;
    close(fd);
    return ntohs(a.sin_port);
}

/* A port that accepts connections (the kernel's backlog) but never answers. */
static int mute_port(int *fd_out) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 8) || getsockname(fd, (struct sockaddr *)&a, &len))
        return 9;
    *fd_out = fd;
    return ntohs(a.sin_port);
}

static const char *API[] = {"openai", "ollama"};

/* ---- streaming, both APIs, both endpoints, every chunk size ---- */

static void test_streaming(void) {
    const int chunks[] = {1, 2, 3, 7, 64};
    for (size_t ci = 0; ci < sizeof chunks / sizeof chunks[0]; ci++) {
        fake_server_opts o = {NULL, chunks[ci]};
        fake_server *srv = fake_server_start(&o);
        CHECK(srv != NULL, "server");
        if (!srv) return;
        for (int api = 0; api < 2; api++)
            for (int raw = 0; raw < 2; raw++) {
                ingot_backend *b = remote((ingot_remote_api)api, fake_server_port(srv), NULL, 10000);
                ingot_error err = {0};
                CHECK_INT_EQ(ingot_backend_load(b, "tiny-chat", &err), INGOT_OK);
                ingot_generate_params gp = params("Say hello");
                gp.raw = raw;
                gp.system = "Be brief.";
                collect c = {0};
                ingot_metrics m;
                ingot_status st = ingot_backend_generate(b, &gp, on_piece, &c, &m);
                CHECK(st == INGOT_OK, "%s raw=%d chunk=%d: %s", API[api], raw, chunks[ci], ingot_backend_errmsg(b));
                CHECK(!strcmp(c.text, FAKE_REPLY), "%s raw=%d chunk=%d: text '%s'", API[api], raw, chunks[ci], c.text);
                CHECK(!c.bad_utf8, "pieces are valid UTF-8");
                CHECK_INT_EQ(m.finish, INGOT_FINISH_STOP);
                CHECK_INT_EQ(m.generated_tokens, fake_reply_tokens());
                CHECK_INT_EQ(m.seed, 42);
                if (!raw || api == 1) CHECK_INT_EQ(m.prompt_tokens, 7); /* usage / prompt_eval_count */
                CHECK(m.ttft_ms > 0 && m.total_ms >= m.ttft_ms, "ttft %f total %f", m.ttft_ms, m.total_ms);
                CHECK(m.peak_rss_mb > 0, "peak rss");
                char path[128];
                fake_server_last(srv, path, sizeof path, NULL, NULL, 0);
                const char *want = api ? (raw ? "/api/generate" : "/api/chat") : (raw ? "/v1/completions" : "/v1/chat/completions");
                CHECK_STR_EQ(path, want);
                ingot_backend_free(b);
            }
        fake_server_stop(srv);
    }
}

/* ---- what the request carries ---- */

static void test_request_body(void) {
    fake_server *srv = fake_server_start(NULL);
    const char *stops[] = {"\n\n", "END"};
    for (int api = 0; api < 2; api++) {
        ingot_backend *b = remote((ingot_remote_api)api, fake_server_port(srv), NULL, 10000);
        ingot_error err;
        ingot_backend_load(b, "tiny-chat", &err);
        ingot_message msgs[] = {{"user", "hi"}, {"assistant", "hello"}, {"user", "tell me more"}};
        ingot_generate_params gp = params(NULL);
        gp.messages = msgs;
        gp.n_messages = 3;
        gp.system = "You are terse.";
        gp.stop = stops;
        gp.n_stop = 2;
        gp.max_tokens = 50;
        ingot_backend_generate(b, &gp, NULL, NULL, NULL);
        char *body = NULL;
        fake_server_last(srv, NULL, 0, &body, NULL, 0);
        json_error_t je;
        json_t *o = body ? json_loads(body, 0, &je) : NULL;
        CHECK(o != NULL, "body is JSON");
        if (o) {
            json_t *m = json_object_get(o, "messages");
            CHECK_INT_EQ(json_array_size(m), 4);
            CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(m, 0), "role")), "system");
            CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(m, 0), "content")), "You are terse.");
            CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(m, 2), "role")), "assistant");
            CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(m, 3), "content")), "tell me more");
            CHECK_STR_EQ(json_string_value(json_object_get(o, "model")), api ? "tiny-chat:latest" : "tiny-chat");
            CHECK(json_is_true(json_object_get(o, "stream")), "stream");
            json_t *opt = api ? json_object_get(o, "options") : o;
            CHECK(fabs(json_number_value(json_object_get(opt, "temperature")) - 0.5) < 1e-6, "temperature");
            CHECK(fabs(json_number_value(json_object_get(opt, "top_p")) - 0.8) < 1e-6, "top_p");
            CHECK_INT_EQ(json_integer_value(json_object_get(opt, "top_k")), 20);
            CHECK_INT_EQ(json_integer_value(json_object_get(opt, "seed")), 42);
            CHECK_INT_EQ(json_integer_value(json_object_get(opt, api ? "num_predict" : "max_tokens")), 50);
            CHECK_INT_EQ(json_array_size(json_object_get(opt, "stop")), 2);
            CHECK_STR_EQ(json_string_value(json_array_get(json_object_get(opt, "stop"), 1)), "END");
            if (!api) CHECK(json_is_true(json_object_get(json_object_get(o, "stream_options"), "include_usage")), "usage asked");
        }
        json_decref(o);
        free(body);
        /* a system message already first is not doubled; greedy is temperature 0 */
        ingot_message with_sys[] = {{"system", "S"}, {"user", "U"}};
        gp.messages = with_sys;
        gp.n_messages = 2;
        gp.sampling.temperature = -1;
        gp.sampling.seed = INGOT_SEED_RANDOM;
        ingot_metrics met;
        ingot_backend_generate(b, &gp, NULL, NULL, &met);
        fake_server_last(srv, NULL, 0, &body, NULL, 0);
        o = body ? json_loads(body, 0, &je) : NULL;
        if (o) {
            CHECK_INT_EQ(json_array_size(json_object_get(o, "messages")), 2);
            json_t *opt = api ? json_object_get(o, "options") : o;
            CHECK(json_number_value(json_object_get(opt, "temperature")) == 0, "greedy");
            CHECK_INT_EQ(json_integer_value(json_object_get(opt, "seed")), (long long)met.seed);
            CHECK(met.seed != INGOT_SEED_RANDOM, "a drawn seed is reported");
        }
        json_decref(o);
        free(body);
        /* raw: system and prompt joined by a newline, Ollama told raw */
        gp = params("Once upon");
        gp.raw = true;
        gp.system = "SYS";
        ingot_backend_generate(b, &gp, NULL, NULL, NULL);
        fake_server_last(srv, NULL, 0, &body, NULL, 0);
        o = body ? json_loads(body, 0, &je) : NULL;
        if (o) {
            CHECK_STR_EQ(json_string_value(json_object_get(o, "prompt")), "SYS\nOnce upon");
            if (api) CHECK(json_is_true(json_object_get(o, "raw")), "raw");
        }
        json_decref(o);
        free(body);
        ingot_backend_free(b);
    }
    fake_server_stop(srv);
}

/* ---- max tokens, stop strings, cancellation ---- */

static void test_limits(void) {
    fake_server_opts opts = {NULL, 3};
    fake_server *srv = fake_server_start(&opts);
    for (int api = 0; api < 2; api++) {
        ingot_backend *b = remote((ingot_remote_api)api, fake_server_port(srv), NULL, 10000);
        ingot_error err;
        ingot_backend_load(b, "tiny-chat", &err);
        ingot_generate_params gp = params("x");
        gp.max_tokens = 3;
        collect c = {0};
        ingot_metrics m;
        CHECK_INT_EQ(ingot_backend_generate(b, &gp, on_piece, &c, &m), INGOT_OK);
        CHECK_STR_EQ(c.text, "Hello, wö"); /* three events of three characters */
        CHECK_INT_EQ(m.finish, INGOT_FINISH_LENGTH);
        CHECK_INT_EQ(m.generated_tokens, 3);

        /* the server ignores "stop": the client cuts, even across events */
        const char *stop[] = {"wörld"};
        gp = params("x");
        gp.stop = stop;
        gp.n_stop = 1;
        memset(&c, 0, sizeof c);
        CHECK_INT_EQ(ingot_backend_generate(b, &gp, on_piece, &c, &m), INGOT_OK);
        CHECK_STR_EQ(c.text, "Hello, ");
        CHECK_INT_EQ(m.finish, INGOT_FINISH_STOP);
        const char *stop2[] = {"🙂"};
        gp.stop = stop2;
        memset(&c, 0, sizeof c);
        CHECK_INT_EQ(ingot_backend_generate(b, &gp, on_piece, &c, &m), INGOT_OK);
        CHECK_STR_EQ(c.text, "Hello, wörld! 你好 ");

        /* cancel after the first piece */
        gp = params("x");
        memset(&c, 0, sizeof c);
        c.cancel_after = 1;
        CHECK_INT_EQ(ingot_backend_generate(b, &gp, on_piece, &c, &m), INGOT_E_CANCELLED);
        CHECK_INT_EQ(m.finish, INGOT_FINISH_CANCELLED);
        CHECK_INT_EQ(c.pieces, 1);

        /* nothing to generate: no request */
        int before = fake_server_requests(srv);
        gp.max_tokens = 0;
        CHECK_INT_EQ(ingot_backend_generate(b, &gp, NULL, NULL, &m), INGOT_OK);
        CHECK_INT_EQ(fake_server_requests(srv), before);
        ingot_backend_free(b);
    }
    fake_server_stop(srv);
}

/* ---- failures ---- */

static void expect_fail(fake_server *srv, int api, const char *model, ingot_status want_st, const char *want1,
                        const char *want2, const char *want_text_prefix) {
    ingot_backend *b = remote((ingot_remote_api)api, fake_server_port(srv), NULL, 500);
    ingot_error err;
    CHECK_INT_EQ(ingot_backend_load(b, model, &err), INGOT_OK);
    ingot_generate_params gp = params("x");
    collect c = {0};
    ingot_metrics m;
    double t0 = ingot_time_ms();
    ingot_status st = ingot_backend_generate(b, &gp, on_piece, &c, &m);
    double dt = ingot_time_ms() - t0;
    const char *msg = ingot_backend_errmsg(b);
    CHECK(st == want_st, "%s %s: status %s, want %s (%s)", API[api], model, ingot_status_str(st), ingot_status_str(want_st),
          msg);
    CHECK(strstr(msg, want1) != NULL, "%s %s: '%s' lacks '%s'", API[api], model, msg, want1);
    if (want2) CHECK(strstr(msg, want2) != NULL, "%s %s: '%s' lacks '%s'", API[api], model, msg, want2);
    CHECK_INT_EQ(m.finish, INGOT_FINISH_ERROR);
    if (want_text_prefix)
        CHECK(!strncmp(c.text, want_text_prefix, strlen(want_text_prefix)), "%s %s: text so far '%s'", API[api], model,
              c.text);
    CHECK(!c.bad_utf8, "valid UTF-8 even when failing");
    CHECK(dt < 10000, "%s %s took %.0f ms", API[api], model, dt);
    ingot_backend_free(b);
}

static void test_failures(void) {
    fake_server_opts opts = {NULL, 4};
    fake_server *srv = fake_server_start(&opts);
    for (int api = 0; api < 2; api++) {
        expect_fail(srv, api, "slow", INGOT_E_NETWORK, "sent nothing for 500 ms (read timeout) in the middle of its reply",
                    NULL, "Hel");
        expect_fail(srv, api, "drop", INGOT_E_NETWORK, "dropped the connection in the middle of its reply", NULL, "Hello");
        expect_fail(srv, api, "nodone", INGOT_E_NETWORK, "ended its reply before finishing",
                    api ? "no \"done\": true" : "no [DONE] event", FAKE_REPLY);
        expect_fail(srv, api, "midstream-error", INGOT_E_UNAVAILABLE,
                    "the server reported an error: out of memory on the server", NULL, NULL);
        expect_fail(srv, api, "garbage", INGOT_E_FORMAT, "not a JSON object", NULL, NULL);
        expect_fail(srv, api, "err400", INGOT_E_INVALID_ARG, "answered 400 Bad Request: max_tokens is too large", NULL, "");
        expect_fail(srv, api, "err401", INGOT_E_AUTH, "answered 401 Unauthorized: Incorrect API key provided.",
                    "no API key was sent", "");
        expect_fail(srv, api, "err404", INGOT_E_NOT_FOUND, "answered 404 Not Found: The model does not exist", NULL, "");
        expect_fail(srv, api, "err429", INGOT_E_UNAVAILABLE, "answered 429 Too Many Requests: Rate limit reached", NULL, "");
        expect_fail(srv, api, "err500", INGOT_E_UNAVAILABLE, "answered 500 Internal Server Error: the model crashed", NULL, "");
        expect_fail(srv, api, "err503", INGOT_E_UNAVAILABLE, "answered 503 Service Unavailable: the server is overloaded",
                    NULL, "");
    }
    /* replies that are unusual but valid */
    for (int api = 0; api < 2; api++) {
        const char *models[] = {"nostream", "crlf"};
        for (int i = 0; i < 2; i++) {
            ingot_backend *b = remote((ingot_remote_api)api, fake_server_port(srv), NULL, 5000);
            ingot_error err;
            ingot_backend_load(b, models[i], &err);
            ingot_generate_params gp = params("x");
            collect c = {0};
            ingot_metrics m;
            CHECK(ingot_backend_generate(b, &gp, on_piece, &c, &m) == INGOT_OK, "%s %s: %s", API[api], models[i],
                  ingot_backend_errmsg(b));
            CHECK(!strcmp(c.text, FAKE_REPLY), "%s %s: '%s'", API[api], models[i], c.text);
            ingot_backend_free(b);
        }
    }
    fake_server_stop(srv);
}

/* ---- models, availability, keys ---- */

static bool count_models(const char *id, void *user) {
    (void)id;
    (*(int *)user)++;
    return true;
}

static void test_models_and_availability(void) {
    fake_server *srv = fake_server_start(NULL);
    for (int api = 0; api < 2; api++) {
        ingot_backend *b = remote((ingot_remote_api)api, fake_server_port(srv), NULL, 5000);
        char reason[512];
        CHECK(ingot_backend_is_available(b, reason, sizeof reason), "%s up: %s", API[api], reason);
        CHECK(strstr(reason, api ? "ollama server at http://127.0.0.1:" : "openai server at http://127.0.0.1:") != NULL,
              "%s", reason);
        CHECK(strstr(reason, "tiny-chat") != NULL, "%s", reason);
        int n = 0;
        ingot_error err = {0};
        CHECK_INT_EQ(ingot_backend_list_models(b, count_models, &n, &err), INGOT_OK);
        CHECK_INT_EQ(n, api ? 14 : 15);
        CHECK_INT_EQ(ingot_backend_load(b, "no-such-model", &err), INGOT_E_NOT_FOUND);
        CHECK(strstr(err.message, "has no model 'no-such-model' (it has: tiny-chat") != NULL, "%s", err.message);
        if (api) CHECK(strstr(err.message, "`ollama pull` it first") != NULL, "%s", err.message);
        CHECK(ingot_backend_model(b) == NULL, "nothing loaded");
        /* generate without a model */
        ingot_generate_params gp = params("x");
        ingot_metrics m;
        CHECK_INT_EQ(ingot_backend_generate(b, &gp, NULL, NULL, &m), INGOT_E_INVALID_ARG);
        CHECK(strstr(ingot_backend_errmsg(b), "no model loaded") != NULL, "%s", ingot_backend_errmsg(b));
        CHECK_INT_EQ(m.finish, INGOT_FINISH_NONE);
        /* names as users write them */
        CHECK_INT_EQ(ingot_backend_load(b, "tiny-chat", &err), INGOT_OK);
        CHECK_STR_EQ(ingot_backend_model(b), api ? "tiny-chat:latest" : "tiny-chat");
        if (!api) {
            CHECK_INT_EQ(ingot_backend_load(b, "long-name", &err), INGOT_OK);
            CHECK_STR_EQ(ingot_backend_model(b), "publisher/long-name");
        }
        CHECK_INT_EQ(ingot_backend_load(b, "", &err), INGOT_E_INVALID_ARG);
        CHECK_INT_EQ(ingot_backend_kind_of(b), INGOT_BACKEND_REMOTE);
        CHECK_STR_EQ(ingot_backend_name(b), API[api]);
        CHECK(ingot_backend_session(b) == NULL, "no session");
        ingot_backend_free(b);

        /* down: refused at once */
        b = remote((ingot_remote_api)api, closed_port(), NULL, 5000);
        CHECK(!ingot_backend_is_available(b, reason, sizeof reason), "down");
        CHECK(strstr(reason, "cannot connect to") != NULL, "%s", reason);
        CHECK_INT_EQ(ingot_backend_load(b, "tiny-chat", &err), INGOT_E_NETWORK);
        ingot_backend_free(b);

        /* a server that accepts but never answers: the probe gives up */
        int fd = -1;
        int port = mute_port(&fd);
        char url[128];
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, api ? "" : "/v1");
        ingot_remote_params p = ingot_remote_default_params();
        p.api = (ingot_remote_api)api;
        p.url = url;
        p.probe_timeout_ms = 300;
        ingot_backend_new_remote(&p, &b, &err);
        double t0 = ingot_time_ms();
        CHECK(!ingot_backend_is_available(b, reason, sizeof reason), "mute");
        CHECK(ingot_time_ms() - t0 < 5000, "the probe is bounded");
        CHECK(strstr(reason, "did not answer in time") != NULL || strstr(reason, "read timeout") != NULL, "%s", reason);
        ingot_backend_free(b);
        close(fd);
    }
    /* malformed parameters */
    ingot_remote_params p = ingot_remote_default_params();
    ingot_backend *b = (ingot_backend *)1;
    ingot_error err;
    p.url = "ftp://x";
    CHECK_INT_EQ(ingot_backend_new_remote(&p, &b, &err), INGOT_E_INVALID_ARG);
    CHECK(b == NULL, "none");
    fake_server_stop(srv);

    /* API keys */
    fake_server_opts o = {"sk-test-123", 0};
    srv = fake_server_start(&o);
    for (int api = 0; api < 2; api++) {
        b = remote((ingot_remote_api)api, fake_server_port(srv), NULL, 5000);
        CHECK_INT_EQ(ingot_backend_load(b, "tiny-chat", &err), INGOT_E_AUTH);
        CHECK(strstr(err.message, "401") != NULL && strstr(err.message, "no API key was sent") != NULL, "%s", err.message);
        ingot_backend_free(b);
        b = remote((ingot_remote_api)api, fake_server_port(srv), "wrong", 5000);
        CHECK_INT_EQ(ingot_backend_load(b, "tiny-chat", &err), INGOT_E_AUTH);
        CHECK(strstr(err.message, "check the API key") != NULL, "%s", err.message);
        ingot_backend_free(b);
        b = remote((ingot_remote_api)api, fake_server_port(srv), "sk-test-123", 5000);
        CHECK_INT_EQ(ingot_backend_load(b, "tiny-chat", &err), INGOT_OK);
        ingot_generate_params gp = params("x");
        collect c = {0};
        CHECK_INT_EQ(ingot_backend_generate(b, &gp, on_piece, &c, NULL), INGOT_OK);
        char auth[256];
        fake_server_last(srv, NULL, 0, NULL, auth, sizeof auth);
        CHECK_STR_EQ(auth, "Bearer sk-test-123");
        ingot_backend_free(b);
    }
    fake_server_stop(srv);
}

/* ---- the fallback chain and references, through the config ---- */

static void test_chain_to_live_server(void) {
    fake_server *srv = fake_server_start(NULL);
    char ollama[64], lm[128];
    snprintf(ollama, sizeof ollama, "OLLAMA_HOST=127.0.0.1:%d", fake_server_port(srv));
    snprintf(lm, sizeof lm, "http://127.0.0.1:%d/v1", closed_port());
    const char *env[] = {ollama, "INGOT_BENCHMARK=1", NULL};
    ingot_config *cfg = NULL;
    ingot_error err = {0};
    CHECK_INT_EQ(ingot_config_load(NULL, env, &cfg, &err), INGOT_OK);
    ingot_config_set(cfg, "remotes.lmstudio.url", lm, "--set", &err);
    ingot_backend_report rep;
    ingot_backend *b = NULL;
    ingot_platform linux_pf = {.os = "linux", .arch = "x86_64", .apple_silicon = false, .mlx_engine = false};
    ingot_backend_open_params op = {&linux_pf, NULL, NULL, NULL};
    ingot_status st = ingot_backend_open_for_model("tiny-chat", cfg, &op, &b, &rep, &err);
    CHECK(st == INGOT_OK, "chain: %s", err.message);
    CHECK_INT_EQ(rep.n_attempts, 3);
    CHECK_STR_EQ(rep.attempts[0].backend, "cpu");
    CHECK(rep.attempts[0].status != INGOT_OK, "cpu cannot open 'tiny-chat'");
    CHECK_STR_EQ(rep.attempts[1].backend, "lmstudio");
    CHECK_INT_EQ(rep.attempts[1].status, INGOT_E_UNAVAILABLE);
    CHECK(strstr(rep.attempts[1].reason, "cannot connect") != NULL, "%s", rep.attempts[1].reason);
    CHECK_STR_EQ(rep.attempts[2].backend, "ollama");
    CHECK_INT_EQ(rep.attempts[2].status, INGOT_OK);
    CHECK(strstr(rep.attempts[2].reason, "loaded tiny-chat:latest") != NULL, "%s", rep.attempts[2].reason);
    CHECK(rep.benchmarked, "INGOT_BENCHMARK=1 ran the startup benchmark");
    CHECK_INT_EQ(rep.bench.generated_tokens, fake_reply_tokens());
    if (b) {
        CHECK_STR_EQ(ingot_backend_name(b), "ollama");
        collect c = {0};
        ingot_generate_params gp = params("hi");
        CHECK_INT_EQ(ingot_backend_generate(b, &gp, on_piece, &c, NULL), INGOT_OK);
        CHECK_STR_EQ(c.text, FAKE_REPLY);
    }
    ingot_backend_free(b);

    /* "remote" tries only the remotes; a named remote only itself */
    ingot_config_set(cfg, "inference.benchmark_on_startup", "false", "--set", &err);
    ingot_config_set(cfg, "inference.backend", "remote", "--backend", &err);
    CHECK_INT_EQ(ingot_backend_open_for_model("tiny-chat", cfg, &op, &b, &rep, &err), INGOT_OK);
    CHECK_INT_EQ(rep.n_attempts, 2);
    CHECK(!rep.benchmarked, "benchmark off");
    ingot_backend_free(b);
    ingot_config_set(cfg, "inference.backend", "lmstudio", "--backend", &err);
    CHECK(ingot_backend_open_for_model("tiny-chat", cfg, &op, &b, &rep, &err) != INGOT_OK, "lmstudio is down");
    CHECK_INT_EQ(rep.n_attempts, 1);
    CHECK(strstr(err.message, "lmstudio backend (the backend is set to 'lmstudio' (--backend)): unavailable: cannot connect")
              != NULL, "%s", err.message);
    ingot_config_set(cfg, "inference.backend", "auto", "--backend", &err);

    /* references name the server themselves */
    char ref[256];
    snprintf(ref, sizeof ref, "openai+http://127.0.0.1:%d/v1#tiny-chat", fake_server_port(srv));
    CHECK_INT_EQ(ingot_backend_open_for_model(ref, cfg, &op, &b, &rep, &err), INGOT_OK);
    CHECK_INT_EQ(rep.n_attempts, 1);
    CHECK_STR_EQ(ingot_backend_name(b), "openai");
    ingot_backend_free(b);
    snprintf(ref, sizeof ref, "ollama+http://127.0.0.1:%d#tiny-chat", fake_server_port(srv));
    CHECK_INT_EQ(ingot_backend_open_for_model(ref, cfg, &op, &b, &rep, &err), INGOT_OK);
    ingot_backend_free(b);
    CHECK_INT_EQ(ingot_backend_open_for_model("ollama://tiny-chat", cfg, &op, &b, &rep, &err), INGOT_OK);
    ingot_backend_free(b);
    CHECK(ingot_backend_open_for_model("ollama://missing", cfg, &op, &b, &rep, &err) == INGOT_E_NOT_FOUND, "%s",
          err.message);
    CHECK(strstr(err.message, "has no model 'missing'") != NULL, "%s", err.message);
    CHECK(ingot_backend_open_for_model("lmstudio://tiny-chat", cfg, &op, &b, &rep, &err) == INGOT_E_UNAVAILABLE, "%s",
          err.message);
    ingot_config_free(cfg);
    fake_server_stop(srv);
}

/* ---- the wire readers alone, split everywhere ---- */

typedef struct wtext {
    char s[2048];
    size_t n;
} wtext;

static ingot_status wire_collect(const char *s, size_t n, void *user, ingot_error *err) {
    (void)err;
    wtext *t = user;
    if (t->n + n < sizeof t->s) {
        memcpy(t->s + t->n, s, n);
        t->n += n;
        t->s[t->n] = 0;
    }
    return INGOT_OK;
}

static void feed_split(wire_format f, const char *body, size_t split, wtext *t, wire_reader *r, ingot_status *st) {
    ingot_error err = {0};
    memset(t, 0, sizeof *t);
    wire_init(r, f, wire_collect, t);
    size_t n = strlen(body);
    *st = wire_feed(r, body, split, &err);
    if (!*st) *st = wire_feed(r, body + split, n - split, &err);
    if (!*st) *st = wire_end(r, &err);
}

static void test_wire_splits(void) {
    const char *sse =
        "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n"
        ": comment\r\n"
        "event: message\r\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"h\\u00e9\"}}]}\r\n\r\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"\xe4\xbd\xa0\xf0\x9f\x99\x82\"}}]}\r\r"
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"length\"}]}\n\n"
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n"
        "data: [DONE]\n\n"
        "data: ignored after done\n\n";
    const char *ndjson =
        "{\"message\":{\"role\":\"assistant\",\"content\":\"h\xc3\xa9\"},\"done\":false}\n"
        "\n"
        "{\"message\":{\"content\":\"\xe4\xbd\xa0\xf0\x9f\x99\x82\"},\"done\":false}\r\n"
        "{\"message\":{\"content\":\"\"},\"done\":true,\"done_reason\":\"length\",\"prompt_eval_count\":3,\"eval_count\":2}";
    const char *want = "h\xc3\xa9\xe4\xbd\xa0\xf0\x9f\x99\x82";
    struct {
        wire_format f;
        const char *body;
    } cases[] = {{WIRE_SSE, sse}, {WIRE_NDJSON, ndjson}};
    int bad = 0;
    for (int c = 0; c < 2; c++) {
        size_t n = strlen(cases[c].body);
        for (size_t split = 0; split <= n; split++) {
            wtext t;
            wire_reader r;
            ingot_status st;
            feed_split(cases[c].f, cases[c].body, split, &t, &r, &st);
            bool ok = st == INGOT_OK && !strcmp(t.s, want) && r.done && r.finish == INGOT_FINISH_LENGTH &&
                      r.prompt_tokens == 3 && r.completion_tokens == 2 && r.n_deltas == 2;
            if (!ok && bad++ < 5)
                fprintf(stderr, "format %d split %zu: st %d text '%s' done %d finish %d\n", c, split, st, t.s, r.done,
                        r.finish);
            wire_free(&r);
        }
        /* one byte at a time */
        wtext t = {{0}, 0};
        wire_reader r;
        wire_init(&r, cases[c].f, wire_collect, &t);
        ingot_error err;
        ingot_status st = INGOT_OK;
        for (size_t i = 0; i < n && !st; i++) st = wire_feed(&r, cases[c].body + i, 1, &err);
        if (!st) st = wire_end(&r, &err);
        CHECK(st == INGOT_OK && !strcmp(t.s, want), "format %d byte by byte: '%s'", c, t.s);
        wire_free(&r);
    }
    CHECK_INT_EQ(bad, 0);

    /* malformed input never crashes and says what was wrong */
    struct {
        wire_format f;
        const char *body;
        const char *msg;
    } badc[] = {
        {WIRE_SSE, "data: {\"choices\": [\n\n", "not a JSON object"},
        {WIRE_SSE, "data: [1,2]\n\n", "not a JSON object (not an object)"},
        {WIRE_SSE, "data: {\"hello\": 1}\n\n", "neither choices nor message nor response"},
        {WIRE_SSE, "data: {\"error\": \"boom\"}\n\n", "the server reported an error: boom"},
        {WIRE_NDJSON, "{\"error\": {\"message\": \"bad\"}}\n", "the server reported an error: bad"},
        {WIRE_NDJSON, "not json\n", "not a JSON object"},
        {WIRE_JSON, "", "empty"},
    };
    for (size_t i = 0; i < sizeof badc / sizeof badc[0]; i++) {
        wtext t;
        wire_reader r;
        ingot_error err = {0};
        memset(&t, 0, sizeof t);
        wire_init(&r, badc[i].f, wire_collect, &t);
        ingot_status st = wire_feed(&r, badc[i].body, strlen(badc[i].body), &err);
        if (!st) st = wire_end(&r, &err);
        CHECK(st != INGOT_OK, "bad case %zu fails", i);
        CHECK(strstr(err.message, badc[i].msg) != NULL, "case %zu: '%s' lacks '%s'", i, err.message, badc[i].msg);
        wire_free(&r);
    }
    /* error bodies of both APIs */
    char msg[256];
    wire_error_message("{\"error\":{\"message\":\"Incorrect API key\",\"type\":\"x\"}}", 52, msg, sizeof msg);
    CHECK_STR_EQ(msg, "Incorrect API key");
    wire_error_message("{\"error\":\"model not found\"}", 27, msg, sizeof msg);
    CHECK_STR_EQ(msg, "model not found");
    wire_error_message("{\"detail\":\"Not Found\"}", 22, msg, sizeof msg);
    CHECK_STR_EQ(msg, "Not Found");
    wire_error_message("<html>\nBad gateway</html>", 25, msg, sizeof msg);
    CHECK_STR_EQ(msg, "<html> Bad gateway</html>");
}

int main(void) {
    setenv("HF_HUB_OFFLINE", "1", 1); /* the cpu step of a chain must not reach the network */
    test_wire_splits();
    test_streaming();
    test_request_body();
    test_limits();
    test_failures();
    test_models_and_availability();
    test_chain_to_live_server();
    TEST_END();
}
