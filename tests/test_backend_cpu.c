/* The cpu backend is ingot's own engine behind the backend interface: on
 * the real stories260K model, greedy decoding through ingot_backend_generate
 * gives exactly the text llama2.c and llama.cpp give (fixtures README), the
 * metrics are filled, and auto selection on this machine picks it first
 * and loads the model on the first attempt. */
#include "ingot.h"
#include "test.h"

static const char WANT64[] =
    ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red "
    "ball. She wanted to play with it, but it was too high.\nLily's mom said";

typedef struct out {
    char s[4096];
    size_t n;
} out;

static bool on_piece(const char *p, size_t n, void *user) {
    out *o = user;
    if (o->n + n < sizeof o->s) {
        memcpy(o->s + o->n, p, n);
        o->n += n;
        o->s[o->n] = 0;
    }
    return true;
}

static ingot_generate_params greedy(void) {
    ingot_generate_params gp = ingot_generate_default_params();
    gp.prompt = "Once upon a time";
    gp.raw = true;
    gp.max_tokens = 64;
    gp.sampling.temperature = 0;
    return gp;
}

int main(void) {
    const char *model = test_fixture("models/real/stories260K.gguf");
    ingot_error err = {0};
    ingot_session_params sp = ingot_session_default_params();
    sp.context.n_threads = 2;
    ingot_backend *b = NULL;
    CHECK_INT_EQ(ingot_backend_new_cpu(&sp, &b, &err), INGOT_OK);
    char reason[256];
    CHECK(ingot_backend_is_available(b, reason, sizeof reason), "cpu is always available");
    CHECK(strstr(reason, "GGUF models on 2 threads") != NULL, "%s", reason);
    CHECK_STR_EQ(ingot_backend_name(b), "cpu");
    CHECK_INT_EQ(ingot_backend_kind_of(b), INGOT_BACKEND_CPU);

    /* errors first: nothing loaded, a missing file */
    ingot_generate_params gp = greedy();
    ingot_metrics m;
    CHECK_INT_EQ(ingot_backend_generate(b, &gp, on_piece, NULL, &m), INGOT_E_INVALID_ARG);
    CHECK(ingot_backend_load(b, "/nonexistent/x.gguf", &err) != INGOT_OK, "missing file");
    CHECK(strstr(err.message, "/nonexistent/x.gguf") != NULL, "%s", err.message);
    CHECK(ingot_backend_session(b) == NULL, "no session");

    CHECK(ingot_backend_load(b, model, &err) == INGOT_OK, "load: %s", err.message);
    CHECK_STR_EQ(ingot_backend_model(b), model);
    CHECK(ingot_backend_session(b) != NULL, "session");
    out o = {{0}, 0};
    CHECK(ingot_backend_generate(b, &gp, on_piece, &o, &m) == INGOT_OK, "%s", ingot_backend_errmsg(b));
    CHECK_STR_EQ(o.s, WANT64);
    CHECK_INT_EQ(m.generated_tokens, 64);
    CHECK_INT_EQ(m.prompt_tokens, 5);
    CHECK_INT_EQ(m.finish, INGOT_FINISH_LENGTH);
    CHECK(m.load_ms > 0, "load time reported on the first generation");

    /* reset forgets the cache: the same request evaluates its whole prompt again */
    ingot_backend_reset(b);
    o.n = 0;
    o.s[0] = 0;
    CHECK_INT_EQ(ingot_backend_generate(b, &gp, on_piece, &o, &m), INGOT_OK);
    CHECK_INT_EQ(m.reused_tokens, 0);
    CHECK_STR_EQ(o.s, WANT64);
    ingot_backend_unload(b);
    CHECK(ingot_backend_model(b) == NULL, "unloaded");
    CHECK_INT_EQ(ingot_backend_generate(b, &gp, on_piece, &o, &m), INGOT_E_INVALID_ARG);
    ingot_backend_free(b);

    /* by name, with settings from the config */
    const char *env[] = {"INGOT_THREADS=1", NULL};
    ingot_config *cfg = NULL;
    CHECK_INT_EQ(ingot_config_load(NULL, env, &cfg, &err), INGOT_OK);
    CHECK_INT_EQ(ingot_backend_new("gguf", cfg, NULL, NULL, &b, &err), INGOT_OK);
    CHECK(ingot_backend_is_available(b, reason, sizeof reason), "available");
    CHECK(strstr(reason, "on 1 thread") != NULL, "%s", reason);
    ingot_backend_free(b);

    /* auto on this machine: cpu, first attempt, with the startup benchmark */
    ingot_config_set(cfg, "inference.benchmark_on_startup", "true", "--set", &err);
    ingot_backend_report rep;
    CHECK(ingot_backend_open_for_model(model, cfg, NULL, &b, &rep, &err) == INGOT_OK, "%s", err.message);
    CHECK_INT_EQ(rep.n_attempts, 1);
    CHECK_STR_EQ(rep.attempts[0].backend, "cpu");
    CHECK_INT_EQ(rep.attempts[0].status, INGOT_OK);
    CHECK(strstr(rep.attempts[0].reason, "loaded ") != NULL, "%s", rep.attempts[0].reason);
    CHECK(rep.benchmarked, "benchmarked");
    CHECK_INT_EQ(rep.bench.generated_tokens, 16);
    o.n = 0;
    o.s[0] = 0;
    CHECK_INT_EQ(ingot_backend_generate(b, &gp, on_piece, &o, &m), INGOT_OK);
    CHECK_STR_EQ(o.s, WANT64); /* the benchmark left no trace in the cache */
    CHECK_INT_EQ(m.reused_tokens, 0);
    ingot_backend_free(b);
    ingot_config_free(cfg);
    TEST_END();
}
