/* Sessions on real models: the documented greedy continuation of
 * stories260K, the same seed giving the same text at 1 and 2 threads,
 * stop strings split across tokens, cancel, max_tokens 0, a full context,
 * a second chat turn that reuses the first one's KV cache with logits
 * equal to a fresh evaluation of the whole conversation (raw and through
 * a chat template), prompts rendered as Jinja2 renders them
 * (fixtures/chat/golden.json), and exactly one BOS whether or not the
 * template writes it. */
#include <jansson.h>
#include <math.h>

#include "ingot.h"
#include "test.h"

static const char *STORIES = "models/real/stories260K.gguf";
/* fixtures README: the first 64 greedy tokens after BOS + "Once upon a time" */
static const char *GREEDY64 =
    ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, "
    "red ball. She wanted to play with it, but it was too high.\nLily's mom said";

typedef struct collect {
    char text[65536];
    size_t len;
    int pieces;
    int cancel_after; /* refuse on this piece (1-based); 0: never */
} collect;

static bool on_piece(const char *p, size_t n, void *user) {
    collect *c = user;
    c->pieces++;
    if (c->len + n < sizeof c->text) {
        memcpy(c->text + c->len, p, n);
        c->len += n;
        c->text[c->len] = 0;
    }
    return !(c->cancel_after && c->pieces >= c->cancel_after);
}

static ingot_session *open_session(const char *rel, int32_t n_ctx, int32_t n_threads, const char *tmpl) {
    ingot_session_params sp = ingot_session_default_params();
    sp.context.n_ctx = n_ctx;
    sp.context.n_threads = n_threads;
    sp.chat_template = tmpl;
    ingot_session *s = NULL;
    ingot_error err = {0};
    ingot_status st = ingot_session_open(test_fixture(rel), NULL, &sp, &s, &err);
    CHECK(st == INGOT_OK, "open %s: %s", rel, err.message);
    return s;
}

static ingot_generate_params greedy_params(const char *prompt, int32_t max_tokens) {
    ingot_generate_params p = ingot_generate_default_params();
    p.prompt = prompt;
    p.sampling.temperature = 0.0f;
    p.max_tokens = max_tokens;
    return p;
}

static void test_greedy(void) {
    ingot_session *s = open_session(STORIES, 0, 0, NULL);
    if (!s) return;
    ingot_generate_params p = greedy_params("Once upon a time", 64);
    collect c = {0};
    ingot_metrics m;
    ingot_status st = ingot_session_generate(s, &p, on_piece, &c, &m);
    CHECK(st == INGOT_OK, "generate: %s", ingot_session_errmsg(s));
    CHECK_STR_EQ(c.text, GREEDY64);
    CHECK_INT_EQ(m.prompt_tokens, 5);
    CHECK_INT_EQ(m.reused_tokens, 0);
    CHECK_INT_EQ(m.generated_tokens, 64);
    CHECK_INT_EQ(m.finish, INGOT_FINISH_LENGTH);
    CHECK(m.load_ms > 0 && m.total_ms >= m.ttft_ms && m.ttft_ms >= 0 && m.peak_rss_mb > 0,
          "metrics: load %.3f ttft %.3f total %.3f rss %.1f", m.load_ms, m.ttft_ms, m.total_ms, m.peak_rss_mb);
    int32_t n;
    const int32_t *toks = ingot_session_tokens(s, &n);
    /* prompt + every generated token but the last, which was never decoded */
    CHECK_INT_EQ(n, 5 + 63);
    const int32_t ids[5] = {1, 403, 407, 261, 378};
    CHECK(n >= 5 && !memcmp(toks, ids, sizeof ids), "prompt ids differ from the fixtures README");
    CHECK_INT_EQ(ingot_context_n_past(ingot_session_context(s)), n);

    /* The same request again: everything but the last prompt token is
     * reused, the text is the same, and load time is reported only once. */
    collect c2 = {0};
    st = ingot_session_generate(s, &p, on_piece, &c2, &m);
    CHECK(st == INGOT_OK, "generate again: %s", ingot_session_errmsg(s));
    CHECK_STR_EQ(c2.text, GREEDY64);
    CHECK_INT_EQ(m.reused_tokens, 4);
    CHECK(m.load_ms == 0, "load_ms reported twice: %f", m.load_ms);

    /* max_tokens 0 evaluates the prompt only */
    p.max_tokens = 0;
    collect c3 = {0};
    st = ingot_session_generate(s, &p, on_piece, &c3, &m);
    CHECK(st == INGOT_OK && m.generated_tokens == 0 && c3.len == 0 && m.finish == INGOT_FINISH_LENGTH,
          "max_tokens 0: st %d, %d tokens", st, m.generated_tokens);
    ingot_session_tokens(s, &n);
    CHECK_INT_EQ(n, 5);

    /* the rendered prompt of a template-less model is the text itself */
    char *r;
    size_t rl;
    p.system = "SYS";
    CHECK_INT_EQ(ingot_session_render(s, &p, &r, &rl), INGOT_OK);
    CHECK_STR_EQ(r, "SYS\nOnce upon a time");
    free(r);
    ingot_session_free(s);
}

static void generate_text(ingot_session *s, const ingot_generate_params *p, collect *c, ingot_metrics *m,
                          ingot_status want) {
    memset(c, 0, sizeof *c);
    ingot_status st = ingot_session_generate(s, p, on_piece, c, m);
    CHECK(st == want, "generate returned %s, expected %s: %s", ingot_status_str(st), ingot_status_str(want),
          ingot_session_errmsg(s));
}

static void test_seed_threads(void) {
    ingot_session *s1 = open_session(STORIES, 0, 1, NULL), *s2 = open_session(STORIES, 0, 2, NULL);
    if (!s1 || !s2) goto done;
    ingot_generate_params p = ingot_generate_default_params();
    p.prompt = "Once upon a time";
    p.sampling.temperature = 0.8f;
    p.sampling.seed = 20240607;
    p.max_tokens = 96;
    collect a, b, c;
    ingot_metrics m;
    generate_text(s1, &p, &a, &m, INGOT_OK);
    CHECK(m.seed == 20240607, "seed in metrics");
    generate_text(s2, &p, &b, &m, INGOT_OK);
    CHECK(a.len > 0, "no text at 1 thread");
    CHECK(!strcmp(a.text, b.text), "seed %llu: 1 thread gave\n%s\n2 threads gave\n%s",
          (unsigned long long)p.sampling.seed, a.text, b.text);
    /* sampling really happened: not the greedy text, and another seed differs */
    CHECK(strncmp(a.text, GREEDY64, strlen(GREEDY64)) != 0, "temperature 0.8 gave the greedy text");
    p.sampling.seed = 7;
    generate_text(s1, &p, &c, &m, INGOT_OK);
    CHECK(strcmp(a.text, c.text) != 0, "seeds 20240607 and 7 gave the same text");
done:
    ingot_session_free(s1);
    ingot_session_free(s2);
}

static void test_stop_cancel(void) {
    ingot_session *s = open_session(STORIES, 0, 0, NULL);
    if (!s) return;
    ingot_generate_params p = greedy_params("Once upon a time", 64);
    collect c;
    ingot_metrics m;
    /* "girl named Lily" spans several tokens; the text stops right before it */
    const char *stop[2] = {"no such text", "girl named Lily"};
    p.stop = stop;
    p.n_stop = 2;
    generate_text(s, &p, &c, &m, INGOT_OK);
    CHECK_STR_EQ(c.text, ", there was a little ");
    CHECK_INT_EQ(m.finish, INGOT_FINISH_STOP);
    CHECK(m.generated_tokens > 5 && m.generated_tokens < 64, "%d tokens", m.generated_tokens);
    /* a stop string that starts inside a token: "ittle" */
    const char *stop2[1] = {"ittle g"};
    p.stop = stop2;
    p.n_stop = 1;
    generate_text(s, &p, &c, &m, INGOT_OK);
    CHECK_STR_EQ(c.text, ", there was a l");
    /* a stop string at the very start of the answer */
    const char *stop3[1] = {", the"};
    p.stop = stop3;
    generate_text(s, &p, &c, &m, INGOT_OK);
    CHECK(c.len == 0 && c.pieces == 0 && m.finish == INGOT_FINISH_STOP, "leading stop: '%s'", c.text);
    p.stop = NULL;
    p.n_stop = 0;

    /* cancel on the third piece: the text so far is kept */
    memset(&c, 0, sizeof c);
    c.cancel_after = 3;
    ingot_status st = ingot_session_generate(s, &p, on_piece, &c, &m);
    CHECK_INT_EQ(st, INGOT_E_CANCELLED);
    CHECK_INT_EQ(m.finish, INGOT_FINISH_CANCELLED);
    CHECK_INT_EQ(c.pieces, 3);
    CHECK(c.len > 0 && !strncmp(c.text, GREEDY64, c.len), "cancelled text '%s'", c.text);
    CHECK_INT_EQ(m.generated_tokens, 3);
    /* the session is still usable */
    generate_text(s, &p, &c, &m, INGOT_OK);
    CHECK_STR_EQ(c.text, GREEDY64);
    CHECK_INT_EQ(m.reused_tokens, 4);

    /* bad requests fail cleanly */
    ingot_generate_params bad = p;
    bad.prompt = NULL;
    generate_text(s, &bad, &c, &m, INGOT_E_INVALID_ARG);
    bad = p;
    bad.sampling.top_p = 2.0f;
    generate_text(s, &bad, &c, &m, INGOT_E_RANGE);
    bad = p;
    bad.max_tokens = -5;
    generate_text(s, &bad, &c, &m, INGOT_E_INVALID_ARG);
    CHECK(ingot_session_generate(NULL, &p, NULL, NULL, &m) == INGOT_E_INVALID_ARG, "NULL session");
    ingot_session_free(s);
    ingot_session_free(NULL);
}

static void test_context_full(void) {
    ingot_session *s = open_session(STORIES, 16, 0, NULL);
    if (!s) return;
    ingot_generate_params p = greedy_params("Once upon a time", -1);
    collect c;
    ingot_metrics m;
    generate_text(s, &p, &c, &m, INGOT_E_CONTEXT_FULL);
    /* 5 prompt tokens + 11 decoded fill 16; the 12th is sampled, then no room */
    CHECK_INT_EQ(m.finish, INGOT_FINISH_CONTEXT);
    CHECK_INT_EQ(m.generated_tokens, 12);
    CHECK(c.len > 0 && !strncmp(c.text, GREEDY64, c.len), "text before the full context: '%s'", c.text);
    CHECK(strstr(ingot_session_errmsg(s), "context") != NULL, "message: %s", ingot_session_errmsg(s));
    ingot_session_free(s);
    /* a prompt longer than the context */
    s = open_session(STORIES, 4, 0, NULL);
    if (!s) return;
    generate_text(s, &p, &c, &m, INGOT_E_CONTEXT_FULL);
    CHECK(m.generated_tokens == 0 && c.len == 0 && m.prompt_tokens == 5 && m.finish == INGOT_FINISH_CONTEXT,
          "prompt too long: %d tokens",
          m.generated_tokens);
    CHECK(strstr(ingot_session_errmsg(s), "5 tokens") != NULL, "message: %s", ingot_session_errmsg(s));
    ingot_session_free(s);
}

/* Logits of the session's last position against a fresh context that
 * evaluates all of the session's tokens at once. */
static void check_fresh_logits(ingot_session *s, const char *what) {
    int32_t n;
    const int32_t *toks = ingot_session_tokens(s, &n);
    int32_t rows;
    const float *got = ingot_context_logits(ingot_session_context(s), &rows);
    CHECK(got && rows >= 1 && n > 0, "%s: no logits", what);
    if (!got || n <= 0) return;
    ingot_model_info info;
    const ingot_model *model = ingot_session_model(s);
    ingot_model_get_info(model, &info);
    ingot_context_params cp = ingot_context_default_params();
    cp.n_ctx = ingot_context_n_ctx(ingot_session_context(s));
    ingot_context *fresh = NULL;
    ingot_error err;
    CHECK(ingot_context_new((ingot_model *)model, &cp, &fresh, &err) == INGOT_OK, "%s", err.message);
    if (!fresh) return;
    CHECK(ingot_context_decode(fresh, toks, n, false) == INGOT_OK, "%s", ingot_context_errmsg(fresh));
    int32_t frows;
    const float *want = ingot_context_logits(fresh, &frows);
    got += (size_t)(rows - 1) * (size_t)info.n_vocab;
    double num = 0, den = 0;
    int32_t am_got = 0, am_want = 0;
    for (int32_t i = 0; want && i < info.n_vocab; i++) {
        double d = (double)got[i] - want[i];
        num += d * d;
        den += (double)want[i] * want[i];
        if (got[i] > got[am_got]) am_got = i;
        if (want[i] > want[am_want]) am_want = i;
    }
    double rel = den > 0 ? sqrt(num / den) : 1.0;
    /* The same tokens in other batch splits: only summation order differs. */
    CHECK(want && rel < 1e-4, "%s: relative RMS difference %.3g from a fresh evaluation", what, rel);
    CHECK(am_got == am_want, "%s: argmax %d vs %d", what, am_got, am_want);
    ingot_context_free(fresh);
}

static void test_chat_reuse_raw(void) {
    ingot_session *s = open_session(STORIES, 0, 0, NULL);
    if (!s) return;
    ingot_generate_params p = greedy_params(NULL, 24);
    ingot_message conv[3] = {{"user", "Once upon a time"}, {"assistant", NULL}, {"user", "The end."}};
    p.messages = conv;
    p.n_messages = 1;
    collect c;
    ingot_metrics m1, m2;
    generate_text(s, &p, &c, &m1, INGOT_OK);
    conv[1].content = c.text;
    p.messages = conv;
    p.n_messages = 3;
    p.max_tokens = 0;
    collect c2;
    generate_text(s, &p, &c2, &m2, INGOT_OK);
    /* the first turn's prompt is all reused; the rest is evaluated */
    CHECK(m2.reused_tokens >= m1.prompt_tokens, "reused %d, first prompt %d", m2.reused_tokens, m1.prompt_tokens);
    CHECK(m2.prompt_tokens > m1.prompt_tokens + 10, "second prompt %d tokens", m2.prompt_tokens);
    check_fresh_logits(s, "raw second turn");
    ingot_session_free(s);
}


static char *read_fixture(const char *rel) {
    return test_read_file(test_fixture(rel), NULL);
}

/* A case of fixtures/chat/golden.json (Jinja2's renderings). */
static json_t *golden_case(json_t *all, const char *tmpl, const char *name) {
    size_t i;
    json_t *c;
    json_array_foreach(all, i, c) {
        if (!strcmp(json_string_value(json_object_get(c, "template")), tmpl) &&
            !strcmp(json_string_value(json_object_get(c, "case")), name))
            return c;
    }
    return NULL;
}

/* Renders a golden case through a session whose model has BOS "<s>" and
 * EOS "</s>", as the golden cases were rendered with. */
static void check_golden_render(ingot_session *s, json_t *all, const char *tmpl, const char *name) {
    json_t *c = golden_case(all, tmpl, name);
    CHECK(c != NULL, "golden case %s/%s missing", tmpl, name);
    if (!c) return;
    json_t *msgs = json_object_get(c, "messages");
    size_t n = json_array_size(msgs);
    ingot_message *m = calloc(n ? n : 1, sizeof *m);
    for (size_t i = 0; i < n; i++) {
        m[i].role = json_string_value(json_object_get(json_array_get(msgs, i), "role"));
        m[i].content = json_string_value(json_object_get(json_array_get(msgs, i), "content"));
    }
    ingot_generate_params p = ingot_generate_default_params();
    p.messages = m;
    p.n_messages = (int32_t)n;
    char *out = NULL;
    size_t len = 0;
    ingot_status st = ingot_session_render(s, &p, &out, &len);
    CHECK(st == INGOT_OK, "%s/%s: %s", tmpl, name, ingot_session_errmsg(s));
    const char *want = json_string_value(json_object_get(c, "expected"));
    CHECK(out && want && !strcmp(out, want), "%s/%s rendered\n%s\nJinja2 rendered\n%s", tmpl, name, out ? out : "",
          want ? want : "");
    CHECK_INT_EQ(len, out ? strlen(out) : 0);
    free(out);
    free(m);
}

static int count_id(const int32_t *t, int32_t n, int32_t id) {
    int c = 0;
    for (int32_t i = 0; i < n; i++) c += t[i] == id;
    return c;
}

/* Templates through a session: the golden renderings, and BOS exactly
 * once whether the template writes it (Gemma 2) or not (Qwen 2.5). */
static void test_templates_bos(void) {
    json_error_t je;
    json_t *golden = json_load_file(test_fixture("chat/golden.json"), 0, &je);
    CHECK(golden != NULL, "golden.json: %s", je.text);
    char *gemma = read_fixture("chat/templates/google-gemma-2-2b-it.jinja");
    char *qwen = read_fixture("chat/templates/Qwen-Qwen2.5-7B-Instruct.jinja");
    if (!golden || !gemma || !qwen) goto done;
    const char *model = "models/synthetic/llama-f32.gguf";
    const char *tmpls[2] = {gemma, qwen};
    for (int k = 0; k < 2; k++) {
        ingot_session *s = open_session(model, 256, 0, tmpls[k]);
        if (!s) continue;
        const ingot_tokenizer *tok = ingot_model_tokenizer(ingot_session_model(s));
        CHECK(!strcmp(ingot_tokenizer_bos_text(tok), "<s>") && ingot_tokenizer_add_bos(tok),
              "llama-f32 should add BOS <s>");
        const char *name = k == 0 ? "google-gemma-2-2b-it.jinja" : "Qwen-Qwen2.5-7B-Instruct.jinja";
        check_golden_render(s, golden, name, "multi-turn");
        check_golden_render(s, golden, name, "user-only");
        ingot_generate_params p = greedy_params("Hello!", 0);
        collect c;
        ingot_metrics m;
        generate_text(s, &p, &c, &m, INGOT_OK);
        int32_t n;
        const int32_t *t = ingot_session_tokens(s, &n);
        int32_t bos = ingot_tokenizer_bos(tok);
        CHECK(n > 2 && t[0] == bos && count_id(t, n, bos) == 1, "%s: %d BOS tokens, first token %d", name,
              count_id(t, n, bos), n ? t[0] : -1);
        /* a template that fails (Gemma refuses system messages) is an error */
        if (k == 0) {
            p.system = "Be brief.";
            generate_text(s, &p, &c, &m, INGOT_E_TEMPLATE);
            CHECK(strstr(ingot_session_errmsg(s), "System role not supported") != NULL, "%s",
                  ingot_session_errmsg(s));
            /* raw skips the template: the text itself after BOS */
            p.raw = true;
            char *r;
            CHECK(ingot_session_render(s, &p, &r, NULL) == INGOT_OK && !strcmp(r, "Be brief.\nHello!"), "raw render");
            free(r);
        }
        ingot_session_free(s);
    }
    /* a template that does not parse */
    ingot_session *s = open_session(model, 256, 0, "{% if %}");
    if (s) {
        ingot_generate_params p = greedy_params("Hello!", 4);
        collect c;
        ingot_metrics m;
        generate_text(s, &p, &c, &m, INGOT_E_TEMPLATE);
        CHECK(strstr(ingot_session_errmsg(s), "chat template") != NULL, "%s", ingot_session_errmsg(s));
        ingot_session_free(s);
    }
done:
    json_decref(golden);
    free(gemma);
    free(qwen);
}

/* A chat through a real template (ChatML on the qwen2 architecture): the
 * second turn keeps at least the whole first prompt from the cache and its
 * logits equal a fresh evaluation of the conversation. */
static void test_chat_reuse_template(void) {
    char *qwen = read_fixture("chat/templates/Qwen-Qwen2.5-7B-Instruct.jinja");
    ingot_session *s = qwen ? open_session("models/synthetic/qwen2-Q8_0.gguf", 512, 0, qwen) : NULL;
    if (!s) goto done;
    ingot_generate_params p = greedy_params(NULL, 12);
    ingot_message conv[3] = {{"user", "Hi there"}, {"assistant", NULL}, {"user", "Tell me more."}};
    p.messages = conv;
    p.n_messages = 1;
    collect c;
    ingot_metrics m1, m2;
    generate_text(s, &p, &c, &m1, INGOT_OK);
    int32_t n;
    const int32_t *t = ingot_session_tokens(s, &n);
    const ingot_tokenizer *tok = ingot_model_tokenizer(ingot_session_model(s));
    CHECK(n > 0 && t[0] == ingot_token_find(tok, "<|im_start|>", 12), "ChatML prompt should start with <|im_start|>");
    conv[1].content = c.text;
    p.n_messages = 3;
    p.max_tokens = 0;
    collect c2;
    generate_text(s, &p, &c2, &m2, INGOT_OK);
    CHECK(m2.reused_tokens >= m1.prompt_tokens, "reused %d, first prompt %d", m2.reused_tokens, m1.prompt_tokens);
    CHECK(m2.prompt_tokens > m2.reused_tokens, "nothing new evaluated");
    check_fresh_logits(s, "templated second turn");
    ingot_session_free(s);
done:
    free(qwen);
}

int main(void) {
    test_greedy();
    test_seed_threads();
    test_stop_cancel();
    test_context_full();
    test_chat_reuse_raw();
    test_templates_bos();
    test_chat_reuse_template();
    TEST_END();
}
