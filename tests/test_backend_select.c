/* Backend selection without a network: for injected platforms (macOS
 * arm64 with and without an MLX engine, macOS x86_64, Linux x86_64 and
 * arm64, Windows), every strategy (auto, cpu/gguf, mlx, remote, a remote's
 * name, from flag/env/file) and every reference scheme, the plan's order
 * and reasons; malformed references and contradictions; unavailable
 * backends failing with their reason; the fallback chain reporting each
 * attempt when every server is down. */
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ingot.h"
#include "test.h"

static const ingot_platform MAC_ARM = {.os = "macos", .arch = "arm64", .apple_silicon = true, .mlx_engine = false};
static const ingot_platform MAC_ARM_MLX = {.os = "macos", .arch = "arm64", .apple_silicon = true, .mlx_engine = true};
static const ingot_platform MAC_X86 = {.os = "macos", .arch = "x86_64", .apple_silicon = false, .mlx_engine = false};
static const ingot_platform LINUX_X86 = {.os = "linux", .arch = "x86_64", .apple_silicon = false, .mlx_engine = false};
static const ingot_platform LINUX_ARM = {.os = "linux", .arch = "arm64", .apple_silicon = false, .mlx_engine = false};
static const ingot_platform WINDOWS = {.os = "windows", .arch = "x86_64", .apple_silicon = false, .mlx_engine = false};

static ingot_config *config_env(const char *const *env) {
    ingot_config *cfg = NULL;
    ingot_error err = {0};
    const char *none[] = {NULL};
    if (ingot_config_load(NULL, env ? env : none, &cfg, &err) != INGOT_OK) fprintf(stderr, "config: %s\n", err.message);
    return cfg;
}

static ingot_backend_plan plan;

static ingot_status plan_of(const char *ref, ingot_config *cfg, const ingot_platform *pf, ingot_error *err) {
    return ingot_backend_plan_for(ref, cfg, pf, &plan, err);
}

/* The plan's backends joined by spaces. */
static const char *steps(void) {
    static char buf[512];
    buf[0] = 0;
    for (int i = 0; i < plan.n_steps; i++) {
        strcat(buf, i ? " " : "");
        strcat(buf, plan.steps[i].backend);
    }
    return buf;
}

static void test_auto_by_platform(void) {
    ingot_config *cfg = config_env(NULL);
    ingot_error err = {0};
    struct {
        const ingot_platform *pf;
        const char *model, *want, *why;
    } cases[] = {
        {&LINUX_X86, "m.gguf", "cpu lmstudio ollama", "linux x86_64 is not macOS on Apple Silicon"},
        {&LINUX_ARM, "m.gguf", "cpu lmstudio ollama", "linux arm64 is not macOS on Apple Silicon"},
        {&WINDOWS, "m.gguf", "cpu lmstudio ollama", "windows x86_64 is not macOS on Apple Silicon"},
        {&MAC_X86, "m.gguf", "cpu lmstudio ollama", "this Mac is x86_64, not Apple Silicon"},
        {&MAC_ARM, "m.gguf", "cpu lmstudio ollama", "Apple Silicon, but this build has no MLX engine"},
        {&MAC_ARM, "mlx-community/Qwen3-4B-4bit", "cpu lmstudio ollama", "no MLX engine"},
        {&MAC_ARM_MLX, "mlx-community/Qwen3-4B-4bit", "mlx cpu lmstudio ollama", "MLX engine built in"},
        {&MAC_ARM_MLX, "m.gguf", "cpu lmstudio ollama", "the model is GGUF"},
        {&MAC_ARM_MLX, "Qwen/Qwen2.5-0.5B-Instruct-GGUF", "cpu lmstudio ollama", "the model is GGUF"},
        {&LINUX_X86, "hf://org/repo/x.gguf", "cpu lmstudio ollama", "auto"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_INT_EQ(plan_of(cases[i].model, cfg, cases[i].pf, &err), INGOT_OK);
        CHECK(!strcmp(steps(), cases[i].want), "%s on %s %s%s: plan '%s', want '%s'", cases[i].model, cases[i].pf->os,
              cases[i].pf->arch, cases[i].pf->mlx_engine ? "+mlx" : "", steps(), cases[i].want);
        CHECK(strstr(plan.why, cases[i].why) != NULL, "why '%s' lacks '%s'", plan.why, cases[i].why);
        CHECK_STR_EQ(plan.strategy, "auto");
        CHECK_STR_EQ(plan.origin, "default");
        CHECK_STR_EQ(plan.steps[0].model, cases[i].model);
    }
    /* the remotes of the chain carry their URLs and wire formats */
    plan_of("m.gguf", cfg, &LINUX_X86, &err);
    CHECK_STR_EQ(plan.steps[1].url, "http://127.0.0.1:1234/v1");
    CHECK_INT_EQ(plan.steps[1].api, INGOT_REMOTE_OPENAI);
    CHECK_STR_EQ(plan.steps[2].url, "http://127.0.0.1:11434");
    CHECK_INT_EQ(plan.steps[2].api, INGOT_REMOTE_OLLAMA);
    CHECK(strstr(plan.steps[2].why, "fallback 3") != NULL, "%s", plan.steps[2].why);
    ingot_config_free(cfg);

    /* no config at all means the defaults */
    CHECK_INT_EQ(ingot_backend_plan_for("m.gguf", NULL, &WINDOWS, &plan, &err), INGOT_OK);
    CHECK_STR_EQ(steps(), "cpu lmstudio ollama");
    /* this machine (the tests run on Linux or macOS) */
    ingot_platform here;
    ingot_platform_detect(&here);
    CHECK(!here.mlx_engine, "no build has an MLX engine");
    CHECK_INT_EQ(ingot_backend_plan_for("m.gguf", NULL, NULL, &plan, &err), INGOT_OK);
    CHECK_STR_EQ(plan.steps[0].backend, "cpu");
}

static void test_chain_config(void) {
    ingot_error err = {0};
    const char *env1[] = {"INGOT_FALLBACK=ollama,gguf,mlx", NULL};
    ingot_config *cfg = config_env(env1);
    CHECK_INT_EQ(plan_of("m.gguf", cfg, &LINUX_X86, &err), INGOT_OK);
    CHECK_STR_EQ(steps(), "cpu ollama mlx");
    ingot_config_free(cfg);

    const char *env2[] = {"OLLAMA_HOST=192.168.1.9:8000", NULL};
    cfg = config_env(env2);
    ingot_config_set(cfg, "remotes.ollama.model", "llama3.2", "--set", &err);
    CHECK_INT_EQ(plan_of("stories.gguf", cfg, &LINUX_X86, &err), INGOT_OK);
    CHECK_STR_EQ(plan.steps[2].url, "http://192.168.1.9:8000");
    CHECK_STR_EQ(plan.steps[2].model, "llama3.2");
    CHECK_STR_EQ(plan.steps[1].model, "stories.gguf");
    ingot_config_free(cfg);

    const char *env3[] = {"INGOT_FALLBACK=cpu", NULL};
    cfg = config_env(env3);
    CHECK_INT_EQ(plan_of("m.gguf", cfg, &MAC_ARM_MLX, &err), INGOT_OK);
    CHECK_STR_EQ(steps(), "cpu");
    ingot_config_free(cfg);
}

static void test_named_strategies(void) {
    ingot_error err = {0};
    struct {
        const char *strategy, *want;
    } cases[] = {
        {"cpu", "cpu"}, {"gguf", "cpu"}, {"mlx", "mlx"}, {"remote", "lmstudio ollama"}, {"ollama", "ollama"}, {"lmstudio", "lmstudio"},
    };
    const ingot_platform *pfs[] = {&MAC_ARM, &MAC_X86, &LINUX_X86, &WINDOWS};
    for (size_t p = 0; p < 4; p++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            ingot_config *cfg = config_env(NULL);
            CHECK_INT_EQ(ingot_config_set(cfg, "inference.backend", cases[i].strategy, "--backend", &err), INGOT_OK);
            CHECK_INT_EQ(plan_of("m.gguf", cfg, pfs[p], &err), INGOT_OK);
            CHECK(!strcmp(steps(), cases[i].want), "--backend %s on %s: '%s'", cases[i].strategy, pfs[p]->os, steps());
            CHECK_STR_EQ(plan.strategy, cases[i].strategy);
            CHECK_STR_EQ(plan.origin, "--backend");
            CHECK(strstr(plan.why, "--backend") != NULL, "%s", plan.why);
            ingot_config_free(cfg);
        }
    /* the strategy's origin: environment, file */
    const char *env[] = {"INGOT_BACKEND=cpu", NULL};
    ingot_config *cfg = config_env(env);
    plan_of("m.gguf", cfg, &LINUX_X86, &err);
    CHECK_STR_EQ(plan.origin, "INGOT_BACKEND");
    /* a flag beats the environment */
    ingot_config_set(cfg, "inference.backend", "ollama", "--backend", &err);
    plan_of("m.gguf", cfg, &LINUX_X86, &err);
    CHECK_STR_EQ(steps(), "ollama");
    ingot_config_free(cfg);

    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/c.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\n  \"remotes\": {\"box\": {\"api\": \"ollama\", \"url\": \"http://10.0.0.7:11434\"}},\n"
          "  \"inference\": {\"backend\": \"box\"}\n}\n", f);
    fclose(f);
    const char *none[] = {NULL};
    CHECK_INT_EQ(ingot_config_load(path, none, &cfg, &err), INGOT_OK);
    CHECK_INT_EQ(plan_of("llama3.2", cfg, &LINUX_X86, &err), INGOT_OK);
    CHECK_STR_EQ(steps(), "box");
    CHECK_STR_EQ(plan.steps[0].url, "http://10.0.0.7:11434");
    CHECK_INT_EQ(plan.steps[0].api, INGOT_REMOTE_OLLAMA);
    char want[600];
    snprintf(want, sizeof want, "%s:3", path);
    CHECK_STR_EQ(plan.origin, want);
    ingot_config_free(cfg);
    unlink(path);
    rmdir(dir);

    /* remote with no remote in the chain */
    const char *env2[] = {"INGOT_BACKEND=remote", "INGOT_FALLBACK=cpu", NULL};
    cfg = config_env(env2);
    CHECK_INT_EQ(plan_of("m", cfg, &LINUX_X86, &err), INGOT_E_INVALID_ARG);
    CHECK(strstr(err.message, "names no remote") != NULL, "%s", err.message);
    ingot_config_free(cfg);
}

static void test_references(void) {
    ingot_error err = {0};
    const char *env[] = {"OLLAMA_HOST=127.0.0.1:5555", NULL};
    ingot_config *cfg = config_env(env);
    struct {
        const char *ref, *backend, *url, *model;
        ingot_backend_kind kind;
        ingot_remote_api api;
    } cases[] = {
        {"ollama://llama3.2", "ollama", "http://127.0.0.1:5555", "llama3.2", INGOT_BACKEND_REMOTE, INGOT_REMOTE_OLLAMA},
        {"ollama://qwen2.5:0.5b", "ollama", "http://127.0.0.1:5555", "qwen2.5:0.5b", INGOT_BACKEND_REMOTE, INGOT_REMOTE_OLLAMA},
        {"lmstudio://qwen2.5-7b-instruct", "lmstudio", "http://127.0.0.1:1234/v1", "qwen2.5-7b-instruct",
         INGOT_BACKEND_REMOTE, INGOT_REMOTE_OPENAI},
        {"openai+http://10.0.0.5:8000/v1#meta/llama-3", "openai", "http://10.0.0.5:8000/v1", "meta/llama-3",
         INGOT_BACKEND_REMOTE, INGOT_REMOTE_OPENAI},
        {"openai+https://api.example.com/v1#gpt-x", "openai", "https://api.example.com/v1", "gpt-x", INGOT_BACKEND_REMOTE,
         INGOT_REMOTE_OPENAI},
        {"ollama+http://box:11434#mistral", "ollama", "http://box:11434", "mistral", INGOT_BACKEND_REMOTE, INGOT_REMOTE_OLLAMA},
        {"mlx://mlx-community/Qwen3-4B-4bit", "mlx", "", "mlx-community/Qwen3-4B-4bit", INGOT_BACKEND_MLX, INGOT_REMOTE_OPENAI},
    };
    const ingot_platform *pfs[] = {&MAC_ARM_MLX, &MAC_ARM, &MAC_X86, &LINUX_X86, &WINDOWS};
    for (size_t p = 0; p < 5; p++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            CHECK_INT_EQ(plan_of(cases[i].ref, cfg, pfs[p], &err), INGOT_OK);
            CHECK_INT_EQ(plan.n_steps, 1);
            CHECK_STR_EQ(plan.steps[0].backend, cases[i].backend);
            CHECK_STR_EQ(plan.steps[0].url, cases[i].url);
            CHECK_STR_EQ(plan.steps[0].model, cases[i].model);
            CHECK_INT_EQ(plan.steps[0].kind, cases[i].kind);
            if (cases[i].kind == INGOT_BACKEND_REMOTE) CHECK_INT_EQ(plan.steps[0].api, cases[i].api);
            CHECK_STR_EQ(plan.origin, "model reference");
        }
    /* strategies that agree with the reference */
    ingot_config_set(cfg, "inference.backend", "remote", "--backend", &err);
    CHECK_INT_EQ(plan_of("ollama://x", cfg, &LINUX_X86, &err), INGOT_OK);
    CHECK_INT_EQ(plan_of("openai+http://h:1/v1#x", cfg, &LINUX_X86, &err), INGOT_OK);
    ingot_config_set(cfg, "inference.backend", "ollama", "--backend", &err);
    CHECK_INT_EQ(plan_of("ollama://x", cfg, &LINUX_X86, &err), INGOT_OK);
    ingot_config_set(cfg, "inference.backend", "mlx", "--backend", &err);
    CHECK_INT_EQ(plan_of("mlx://a/b", cfg, &LINUX_X86, &err), INGOT_OK);
    /* and ones that contradict it */
    ingot_config_set(cfg, "inference.backend", "cpu", "--backend", &err);
    CHECK_INT_EQ(plan_of("ollama://x", cfg, &LINUX_X86, &err), INGOT_E_INVALID_ARG);
    CHECK(strstr(err.message, "'ollama://x' needs the remote backend, but the backend is set to 'cpu' (--backend)") != NULL,
          "%s", err.message);
    ingot_config_set(cfg, "inference.backend", "lmstudio", "--backend", &err);
    CHECK_INT_EQ(plan_of("ollama://x", cfg, &LINUX_X86, &err), INGOT_E_INVALID_ARG);
    CHECK_INT_EQ(plan_of("mlx://a/b", cfg, &LINUX_X86, &err), INGOT_E_INVALID_ARG);
    CHECK(strstr(err.message, "needs the mlx backend") != NULL, "%s", err.message);
    ingot_config_free(cfg);

    /* malformed references */
    struct {
        const char *ref, *msg;
    } bad[] = {
        {"ollama://", "names no model"},
        {"lmstudio://", "names no model"},
        {"openai+http://10.0.0.5:8000/v1", "names no model: write openai+http://10.0.0.5:8000/v1#MODEL"},
        {"openai+http://h/v1#", "names no model"},
        {"openai+http://#m", "has no host"},
        {"ollama+https:///x#m", "has no host"},
        {"mlx://", "names no model"},
        {"tpu://x", "unknown model reference scheme 'tpu://'"},
        {"", "no model given"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT_EQ(ingot_backend_plan_for(bad[i].ref, NULL, &LINUX_X86, &plan, &err), INGOT_E_INVALID_ARG);
        CHECK(strstr(err.message, bad[i].msg) != NULL, "'%s': message '%s' lacks '%s'", bad[i].ref, err.message, bad[i].msg);
    }
}

static void test_mlx_unavailable(void) {
    struct {
        const ingot_platform *pf;
        const char *why;
    } cases[] = {
        {&LINUX_X86, "MLX runs only on macOS on Apple Silicon; this is linux x86_64"},
        {&LINUX_ARM, "MLX runs only on macOS on Apple Silicon; this is linux arm64"},
        {&WINDOWS, "MLX runs only on macOS on Apple Silicon; this is windows x86_64"},
        {&MAC_X86, "MLX needs Apple Silicon; this Mac is x86_64"},
        {&MAC_ARM, "this build of ingot has no MLX engine"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ingot_backend *b = NULL;
        ingot_error err = {0};
        CHECK_INT_EQ(ingot_backend_new_mlx(cases[i].pf, &b, &err), INGOT_OK);
        char reason[256];
        CHECK(!ingot_backend_is_available(b, reason, sizeof reason), "mlx unavailable");
        CHECK(strstr(reason, cases[i].why) != NULL, "reason '%s' lacks '%s'", reason, cases[i].why);
        CHECK_STR_EQ(ingot_backend_name(b), "mlx");
        CHECK_INT_EQ(ingot_backend_kind_of(b), INGOT_BACKEND_MLX);
        CHECK_INT_EQ(ingot_backend_load(b, "mlx-community/x", &err), INGOT_E_UNAVAILABLE);
        CHECK(strstr(err.message, cases[i].why) != NULL, "%s", err.message);
        ingot_backend_free(b);

        /* chosen by name or by reference: fails with the reason, no fallback */
        ingot_config *cfg = config_env(NULL);
        ingot_config_set(cfg, "inference.backend", "mlx", "--backend", &err);
        ingot_backend_open_params op = {cases[i].pf, NULL, NULL, NULL};
        ingot_backend_report rep;
        b = (ingot_backend *)1;
        CHECK_INT_EQ(ingot_backend_open_for_model("m", cfg, &op, &b, &rep, &err), INGOT_E_UNAVAILABLE);
        CHECK(b == NULL, "no backend");
        CHECK_INT_EQ(rep.n_attempts, 1);
        CHECK(strstr(err.message, "mlx backend (the backend is set to 'mlx' (--backend)): unavailable: ") != NULL, "%s",
              err.message);
        CHECK(strstr(err.message, cases[i].why) != NULL, "%s", err.message);
        ingot_config_free(cfg);
        CHECK_INT_EQ(ingot_backend_open_for_model("mlx://a/b", NULL, &op, &b, NULL, &err), INGOT_E_UNAVAILABLE);
        CHECK(strstr(err.message, cases[i].why) != NULL, "%s", err.message);
    }
    ingot_backend *b;
    ingot_error err;
    CHECK_INT_EQ(ingot_backend_new_mlx(&MAC_ARM_MLX, &b, &err), INGOT_OK);
    char reason[256];
    CHECK(ingot_backend_is_available(b, reason, sizeof reason), "a build with the engine would run it");
    ingot_backend_free(b);
    ingot_backend_free(NULL);
}

/* A port nobody listens on: bound, then closed. */
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

typedef struct seen {
    int n;
    char names[8][64];
} seen;

static void on_attempt(const ingot_backend_attempt *a, void *user) {
    seen *s = user;
    if (s->n < 8) snprintf(s->names[s->n++], 64, "%s", a->backend);
}

static void test_chain_all_down(void) {
    char lm[128], ol[128];
    snprintf(lm, sizeof lm, "http://127.0.0.1:%d/v1", closed_port());
    snprintf(ol, sizeof ol, "OLLAMA_HOST=127.0.0.1:%d", closed_port());
    const char *env[] = {ol, "INGOT_FALLBACK=cpu,mlx,lmstudio,ollama", NULL};
    ingot_config *cfg = config_env(env);
    ingot_error err = {0};
    ingot_config_set(cfg, "remotes.lmstudio.url", lm, "--set", &err);
    seen s = {0};
    ingot_backend_open_params op = {&LINUX_X86, NULL, on_attempt, &s};
    ingot_backend_report rep;
    ingot_backend *b = NULL;
    ingot_status st = ingot_backend_open_for_model("/nonexistent/model.gguf", cfg, &op, &b, &rep, &err);
    CHECK(st != INGOT_OK, "all down");
    CHECK(b == NULL, "no backend");
    CHECK_INT_EQ(rep.n_attempts, 4);
    CHECK_INT_EQ(s.n, 4);
    CHECK_STR_EQ(s.names[0], "cpu");
    CHECK_STR_EQ(s.names[1], "mlx");
    CHECK_STR_EQ(s.names[2], "lmstudio");
    CHECK_STR_EQ(s.names[3], "ollama");
    CHECK(strstr(rep.attempts[0].reason, "/nonexistent/model.gguf") != NULL, "%s", rep.attempts[0].reason);
    CHECK(strstr(rep.attempts[1].reason, "unavailable: MLX runs only on macOS") != NULL, "%s", rep.attempts[1].reason);
    CHECK(strstr(rep.attempts[2].reason, "unavailable: cannot connect to lmstudio at http://127.0.0.1:") != NULL, "%s",
          rep.attempts[2].reason);
    CHECK(strstr(rep.attempts[3].reason, "unavailable: cannot connect to ollama at http://127.0.0.1:") != NULL, "%s",
          rep.attempts[3].reason);
    CHECK_INT_EQ(rep.attempts[3].status, INGOT_E_UNAVAILABLE);
    CHECK(strstr(err.message, "no backend could run '/nonexistent/model.gguf': cpu: ") != NULL, "%s", err.message);
    CHECK(strstr(err.message, "; lmstudio: unavailable") != NULL && strstr(err.message, "; ollama: unavailable") != NULL,
          "%s", err.message);
    ingot_config_free(cfg);
}

int main(void) {
    setenv("HF_HUB_OFFLINE", "1", 1); /* a model name must never reach the network here */
    test_auto_by_platform();
    test_chain_config();
    test_named_strategies();
    test_references();
    test_mlx_unavailable();
    test_chain_all_down();
    TEST_END();
}
