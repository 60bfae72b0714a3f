/* Settings: defaults < file < environment < flags, each value remembering
 * its origin; every kind of bad input rejected with a message that names
 * the key, the value and where it came from (file:line, variable, flag);
 * OLLAMA_HOST read as Ollama's clients read it; the documented default file
 * loads back to exactly the defaults. */
#include <unistd.h>

#include "ingot.h"
#include "test.h"

static char dir[256];

static const char *write_file(const char *name, const char *text) {
    static char path[8][512];
    static int slot;
    char *p = path[slot++ & 7];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) return p;
    fputs(text, f);
    fclose(f);
    return p;
}

/* Loads text as a config file over the defaults; returns the status and
 * leaves the message in err. */
static ingot_status load_text(const char *text, ingot_config **out, ingot_error *err) {
    const char *path = write_file("c.json", text);
    const char *env[] = {NULL};
    ingot_config *cfg = NULL;
    ingot_status st = ingot_config_load(path, env, &cfg, err);
    if (out) *out = cfg;
    else ingot_config_free(cfg);
    return st;
}

/* The file's path must appear in messages about it. */
static void expect_file_error(const char *text, const char *want1, const char *want2) {
    ingot_error err = {0};
    ingot_config *cfg = NULL;
    ingot_status st = load_text(text, &cfg, &err);
    CHECK(st != INGOT_OK, "expected an error for %s", text);
    CHECK(cfg == NULL, "no config on failure");
    CHECK(strstr(err.message, want1) != NULL, "message '%s' lacks '%s'", err.message, want1);
    if (want2) CHECK(strstr(err.message, want2) != NULL, "message '%s' lacks '%s'", err.message, want2);
    CHECK(strstr(err.message, "/c.json") != NULL, "message '%s' names no file", err.message);
    ingot_config_free(cfg);
}

static void test_defaults(void) {
    ingot_config *cfg;
    CHECK_INT_EQ(ingot_config_new(&cfg, NULL), INGOT_OK);
    CHECK_STR_EQ(ingot_config_get_str(cfg, "inference.backend"), "auto");
    CHECK_INT_EQ(ingot_config_get_int(cfg, "inference.max_tokens"), 512);
    CHECK(fabs(ingot_config_get_float(cfg, "inference.temperature") - 0.7) < 1e-9, "temperature");
    CHECK_INT_EQ(ingot_config_get_int(cfg, "inference.top_k"), 40);
    CHECK_INT_EQ(ingot_config_get_bool(cfg, "inference.benchmark_on_startup"), 0);
    const char *const *items;
    CHECK_INT_EQ(ingot_config_get_list(cfg, "inference.fallback", &items), 3);
    CHECK_STR_EQ(items[0], "cpu");
    CHECK_STR_EQ(items[1], "lmstudio");
    CHECK_STR_EQ(items[2], "ollama");
    CHECK_STR_EQ(ingot_config_get_str(cfg, "remotes.lmstudio.url"), "http://127.0.0.1:1234/v1");
    CHECK_STR_EQ(ingot_config_get_str(cfg, "remotes.ollama.url"), "http://127.0.0.1:11434");
    CHECK_STR_EQ(ingot_config_get_str(cfg, "remotes.ollama.api"), "ollama");
    const char *names[8];
    CHECK_INT_EQ(ingot_config_remotes(cfg, names, 8), 2);
    CHECK_STR_EQ(names[0], "lmstudio");
    CHECK_STR_EQ(names[1], "ollama");
    ingot_setting s;
    CHECK(ingot_config_get(cfg, "inference.top_p", &s), "top_p exists");
    CHECK_INT_EQ(s.source, INGOT_CONFIG_DEFAULT);
    CHECK_STR_EQ(s.origin, "default");
    CHECK_STR_EQ(s.env, "INGOT_TOP_P");
    CHECK_STR_EQ(s.type, "number");
    CHECK(!ingot_config_get(cfg, "inference.nope", &s), "unknown key");
    CHECK(ingot_config_get_str(cfg, "inference.threads") == NULL, "typed read of another type");
    CHECK_INT_EQ(ingot_config_log_level(cfg), INGOT_LOG_WARN);
    CHECK(ingot_config_file(cfg) == NULL, "no file");
    ingot_generate_params gp;
    memset(&gp, 0, sizeof gp);
    ingot_session_params sp;
    memset(&sp, 0, sizeof sp);
    gp.max_tokens = 3;
    sp.context.n_threads = 7;
    ingot_config_apply(cfg, &gp, &sp);
    CHECK_INT_EQ(gp.max_tokens, 512);
    CHECK_INT_EQ(sp.context.n_threads, 0);
    ingot_config_free(cfg);
    ingot_config_free(NULL);
}

static void test_file_values(void) {
    ingot_config *cfg = NULL;
    ingot_error err = {0};
    const char *text =
        "// a comment\n"
        "{\n"
        "  \"inference\": {\n"
        "    \"backend\": \"cpu\", /* inline */\n"
        "    \"temperature\": 0,\n"
        "    \"top_k\": 5,\n"
        "    \"fallback\": [\"cpu\", \"mybox\"],\n"
        "    \"benchmark_on_startup\": true\n"
        "  },\n"
        "  \"log\": {\"level\": \"debug\"},\n"
        "  \"remotes\": {\n"
        "    \"mybox\": {\"api\": \"ollama\", \"url\": \"http://10.0.0.2:11434\", \"api_key\": \"sekret\"}\n"
        "  },\n"
        "  \"inference.max_tokens\": 64\n"
        "}\n";
    CHECK_INT_EQ(load_text(text, &cfg, &err), INGOT_OK);
    if (!cfg) {
        fprintf(stderr, "load: %s\n", err.message);
        return;
    }
    CHECK_STR_EQ(ingot_config_get_str(cfg, "inference.backend"), "cpu");
    CHECK_INT_EQ(ingot_config_get_int(cfg, "inference.top_k"), 5);
    CHECK_INT_EQ(ingot_config_get_int(cfg, "inference.max_tokens"), 64);
    CHECK(ingot_config_get_float(cfg, "inference.temperature") == 0, "temperature 0");
    CHECK(ingot_config_get_bool(cfg, "inference.benchmark_on_startup"), "benchmark on");
    CHECK_INT_EQ(ingot_config_log_level(cfg), INGOT_LOG_DEBUG);
    CHECK_STR_EQ(ingot_config_get_str(cfg, "remotes.mybox.api"), "ollama");
    CHECK_STR_EQ(ingot_config_get_str(cfg, "remotes.mybox.api_key"), "sekret");
    const char *names[8];
    CHECK_INT_EQ(ingot_config_remotes(cfg, names, 8), 3);
    CHECK_STR_EQ(names[1], "mybox");
    ingot_setting s;
    char want[600];
    ingot_config_get(cfg, "inference.top_k", &s);
    snprintf(want, sizeof want, "%s/c.json:6", dir);
    CHECK_STR_EQ(s.origin, want);
    CHECK_INT_EQ(s.source, INGOT_CONFIG_FILE);
    ingot_config_get(cfg, "inference.max_tokens", &s);
    snprintf(want, sizeof want, "%s/c.json:14", dir);
    CHECK_STR_EQ(s.origin, want);
    ingot_config_get(cfg, "remotes.mybox.url", &s);
    snprintf(want, sizeof want, "%s/c.json:12", dir);
    CHECK_STR_EQ(s.origin, want);
    ingot_config_get(cfg, "remotes.mybox.api_key", &s);
    CHECK_STR_EQ(s.value, "********");
    ingot_config_get(cfg, "inference.top_p", &s);
    CHECK_INT_EQ(s.source, INGOT_CONFIG_DEFAULT);
    snprintf(want, sizeof want, "%s/c.json", dir);
    CHECK_STR_EQ(ingot_config_file(cfg), want);
    ingot_config_free(cfg);
}

static void test_file_errors(void) {
    /* unknown keys, with the line and a suggestion */
    expect_file_error("{\n  \"inference\": {\n    \"temprature\": 0.5\n  }\n}\n", "c.json:3: unknown setting inference.temprature = 0.5",
                      "did you mean inference.temperature?");
    expect_file_error("{\"temperature\": 1}", "unknown setting temperature = 1", "did you mean inference.temperature?");
    expect_file_error("{\"colour\": \"red\"}", "unknown setting colour = \"red\"", NULL);
    expect_file_error("{\"remotes\": {\"x\": {\"api\": \"openai\", \"url\": \"http://h/v1\", \"token\": \"t\"}}}",
                      "unknown setting remotes.x.token", NULL);
    /* wrong types and ranges */
    expect_file_error("{\"inference\": {\"temperature\": \"hot\"}}", "inference.temperature = \"hot\"",
                      "expected a number >= 0 (without quotes)");
    expect_file_error("{\"inference\": {\"temperature\": -1}}", "inference.temperature = -1", "expected a number >= 0");
    expect_file_error("{\"inference\": {\"top_p\": 1.5}}", "inference.top_p = 1.5", "between 0 and 1");
    expect_file_error("{\"inference\": {\"top_k\": 2.5}}", "inference.top_k = 2.5", "expected an integer >= 0");
    expect_file_error("{\"inference\": {\"threads\": 5000}}", "inference.threads = 5000", "between 0 and 1024");
    expect_file_error("{\"inference\": {\"repeat_penalty\": 0}}", "inference.repeat_penalty = 0", "> 0");
    expect_file_error("{\"inference\": {\"max_tokens\": -2}}", "inference.max_tokens = -2", NULL);
    expect_file_error("{\"inference\": {\"benchmark_on_startup\": \"yes\"}}", "inference.benchmark_on_startup = \"yes\"",
                      "true or false");
    expect_file_error("{\"log\": {\"level\": \"loud\"}}", "log.level = \"loud\"", "one of error, warn, info, debug");
    expect_file_error("{\"inference\": {\"fallback\": \"cpu\"}}", "inference.fallback = \"cpu\"", "list");
    expect_file_error("{\"inference\": {\"fallback\": [\"cpu\", 3]}}", "inference.fallback", "strings");
    expect_file_error("{\"inference\": 3}", "inference = 3", "expected an object");
    /* names that do not exist */
    expect_file_error("{\n\"inference\": {\n\"backend\": \"tpu\"}}", "c.json:3: inference.backend = 'tpu'",
                      "lmstudio, ollama");
    expect_file_error("{\"inference\": {\"fallback\": [\"cpu\", \"nosuch\"]}}", "'nosuch' is not cpu, mlx or a configured remote",
                      NULL);
    /* remotes */
    expect_file_error("{\"remotes\": {\"box\": {\"api\": \"openai\"}}}", "remote 'box' has no url", NULL);
    expect_file_error("{\"remotes\": {\"box\": {\"api\": \"grpc\", \"url\": \"http://h\"}}}", "remotes.box.api = \"grpc\"",
                      "openai, ollama");
    expect_file_error("{\"remotes\": {\"box\": {\"url\": \"ftp://h\"}}}", "remotes.box.url = \"ftp://h\"", "http://");
    expect_file_error("{\"remotes\": {\"box\": {\"url\": \"http://\"}}}", "no host", NULL);
    expect_file_error("{\"remotes\": {\"cpu\": {\"url\": \"http://h\"}}}", "'cpu' names a built-in backend", NULL);
    expect_file_error("{\"remotes\": {\"a.b\": {\"url\": \"http://h\"}}}", "remote name 'a.b'", NULL);
    expect_file_error("{\"remotes\": {\"box\": 3}}", "remotes.box", "expected an object");
    /* syntax */
    expect_file_error("{\n  \"inference\": {\n    \"top_k\": 5,\n  }\n}\n", "c.json:4:", "not valid JSON");
    expect_file_error("{\"log\": {}, \"log\": {}}", "not valid JSON", "duplicate");
    expect_file_error("[1, 2]", "must be a JSON object", NULL);
    expect_file_error("{\n/* never closed\n", "c.json:2: comment opened with /* is never closed", NULL);
    expect_file_error("", "not valid JSON", NULL);
    /* a missing file named explicitly */
    ingot_error err = {0};
    ingot_config *cfg = (ingot_config *)1;
    const char *env[] = {NULL};
    CHECK_INT_EQ(ingot_config_load("/nonexistent/ingot.json", env, &cfg, &err), INGOT_E_IO);
    CHECK(cfg == NULL, "no config");
    CHECK(strstr(err.message, "/nonexistent/ingot.json") != NULL, "%s", err.message);
}

static void test_failed_layer_leaves_config(void) {
    ingot_config *cfg;
    ingot_error err = {0};
    ingot_config_new(&cfg, NULL);
    const char *path = write_file("bad.json", "{\"inference\": {\"top_k\": 3, \"top_p\": 7}}");
    CHECK(ingot_config_load_file(cfg, path, &err) != INGOT_OK, "bad file");
    CHECK_INT_EQ(ingot_config_get_int(cfg, "inference.top_k"), 40);
    CHECK(ingot_config_file(cfg) == NULL, "file not recorded");
    const char *env[] = {"INGOT_TOP_K=9", "INGOT_TOP_P=x", NULL};
    CHECK(ingot_config_load_env(cfg, env, &err) != INGOT_OK, "bad env");
    CHECK_INT_EQ(ingot_config_get_int(cfg, "inference.top_k"), 40);
    ingot_config_free(cfg);
}

static void test_env(void) {
    ingot_config *cfg = NULL;
    ingot_error err = {0};
    const char *path = write_file("e.json", "{\"inference\": {\"top_k\": 5, \"top_p\": 0.5, \"backend\": \"cpu\"}}");
    const char *env[] = {"INGOT_TOP_K=7",       "INGOT_TEMPERATURE=0.25", "INGOT_BENCHMARK=1",
                         "INGOT_LOG=info",      "INGOT_MAX_TOKENS=-1",    "INGOT_THREADS=3",
                         "INGOT_CONTEXT=2048",  "INGOT_REPEAT_PENALTY=1", "INGOT_BACKEND=ollama",
                         "OLLAMA_HOST=10.1.2.3", "INGOT_UNRELATED=zzz",   NULL};
    CHECK_INT_EQ(ingot_config_load(path, env, &cfg, &err), INGOT_OK);
    if (!cfg) {
        fprintf(stderr, "%s\n", err.message);
        return;
    }
    CHECK_INT_EQ(ingot_config_get_int(cfg, "inference.top_k"), 7);
    CHECK(fabs(ingot_config_get_float(cfg, "inference.top_p") - 0.5) < 1e-9, "file's top_p stays");
    CHECK(ingot_config_get_bool(cfg, "inference.benchmark_on_startup"), "INGOT_BENCHMARK=1");
    CHECK_INT_EQ(ingot_config_log_level(cfg), INGOT_LOG_INFO);
    CHECK_INT_EQ(ingot_config_get_int(cfg, "inference.max_tokens"), -1);
    CHECK_STR_EQ(ingot_config_get_str(cfg, "inference.backend"), "ollama");
    CHECK_STR_EQ(ingot_config_get_str(cfg, "remotes.ollama.url"), "http://10.1.2.3:11434");
    ingot_setting s;
    ingot_config_get(cfg, "inference.top_k", &s);
    CHECK_INT_EQ(s.source, INGOT_CONFIG_ENV);
    CHECK_STR_EQ(s.origin, "INGOT_TOP_K");
    ingot_config_get(cfg, "remotes.ollama.url", &s);
    CHECK_STR_EQ(s.origin, "OLLAMA_HOST");
    ingot_generate_params gp;
    memset(&gp, 0, sizeof gp);
    ingot_session_params sp;
    memset(&sp, 0, sizeof sp);
    ingot_config_apply(cfg, &gp, &sp);
    CHECK_INT_EQ(gp.sampling.top_k, 7);
    CHECK(fabs(gp.sampling.temperature - 0.25f) < 1e-6, "temperature applied");
    CHECK(fabs(gp.sampling.repeat_penalty - 1.0f) < 1e-6, "repeat penalty applied");
    CHECK_INT_EQ(sp.context.n_threads, 3);
    CHECK_INT_EQ(sp.context.n_ctx, 2048);

    /* flags beat the environment */
    CHECK_INT_EQ(ingot_config_set(cfg, "inference.top_k", "11", "--top-k", &err), INGOT_OK);
    CHECK_INT_EQ(ingot_config_get_int(cfg, "inference.top_k"), 11);
    ingot_config_get(cfg, "inference.top_k", &s);
    CHECK_INT_EQ(s.source, INGOT_CONFIG_FLAG);
    CHECK_STR_EQ(s.origin, "--top-k");
    CHECK(ingot_config_set(cfg, "inference.top_k", "-3", "--top-k", &err) != INGOT_OK, "bad flag");
    CHECK(strstr(err.message, "--top-k: inference.top_k = '-3': expected an integer >= 0") != NULL, "%s", err.message);
    CHECK_INT_EQ(ingot_config_get_int(cfg, "inference.top_k"), 11);
    CHECK(ingot_config_set(cfg, "inference.backend", "tpu", "--backend", &err) != INGOT_OK, "bad backend");
    CHECK(strstr(err.message, "--backend: inference.backend = 'tpu'") != NULL, "%s", err.message);
    CHECK(ingot_config_set(cfg, "inference.bakend", "cpu", "--set", &err) != INGOT_OK, "unknown key");
    CHECK(strstr(err.message, "unknown setting inference.bakend = 'cpu' (did you mean inference.backend?)") != NULL,
          "%s", err.message);
    /* a remote added by flags, then chosen */
    CHECK_INT_EQ(ingot_config_set(cfg, "remotes.lab.url", "http://10.0.0.9:8000/v1", "--set", &err), INGOT_OK);
    CHECK_INT_EQ(ingot_config_set(cfg, "inference.backend", "lab", "--backend", &err), INGOT_OK);
    ingot_config_free(cfg);
}

static void expect_env_error(const char *var, const char *want) {
    const char *env[] = {var, NULL};
    ingot_config *cfg = NULL;
    ingot_error err = {0};
    CHECK(ingot_config_load(NULL, env, &cfg, &err) != INGOT_OK, "%s should fail", var);
    CHECK(strstr(err.message, want) != NULL, "message '%s' lacks '%s'", err.message, want);
    ingot_config_free(cfg);
}

static void test_env_errors(void) {
    expect_env_error("INGOT_TEMPERATURE=hot", "environment variable INGOT_TEMPERATURE: inference.temperature = 'hot': expected a number >= 0");
    expect_env_error("INGOT_TEMPERATURE=nan", "inference.temperature = 'nan'");
    expect_env_error("INGOT_TEMPERATURE=", "inference.temperature = ''");
    expect_env_error("INGOT_TOP_P=2", "environment variable INGOT_TOP_P: inference.top_p = '2': expected a number between 0 and 1");
    expect_env_error("INGOT_TOP_K=1e3", "INGOT_TOP_K: inference.top_k = '1e3': expected an integer >= 0");
    expect_env_error("INGOT_THREADS=-1", "INGOT_THREADS: inference.threads = '-1'");
    expect_env_error("INGOT_MAX_TOKENS=lots", "INGOT_MAX_TOKENS: inference.max_tokens = 'lots'");
    expect_env_error("INGOT_CONTEXT=99999999", "INGOT_CONTEXT: inference.context = '99999999'");
    expect_env_error("INGOT_REPEAT_PENALTY=0", "INGOT_REPEAT_PENALTY: inference.repeat_penalty = '0': expected a number > 0");
    expect_env_error("INGOT_BENCHMARK=maybe", "INGOT_BENCHMARK: inference.benchmark_on_startup = 'maybe': expected true or false");
    expect_env_error("INGOT_LOG=verbose", "INGOT_LOG: log.level = 'verbose': expected one of error, warn, info, debug");
    expect_env_error("INGOT_BACKEND=cuda", "INGOT_BACKEND: inference.backend = 'cuda'");
    expect_env_error("INGOT_FALLBACK=cpu,,ollama", "INGOT_FALLBACK: inference.fallback = 'cpu,,ollama'");
    expect_env_error("INGOT_FALLBACK=cpu,vllm", "'vllm' is not cpu, mlx or a configured remote");
    expect_env_error("OLLAMA_HOST=ftp://x", "OLLAMA_HOST: remotes.ollama.url = 'ftp://x'");
}

static void check_ollama_host(const char *value, const char *want) {
    char var[256];
    snprintf(var, sizeof var, "OLLAMA_HOST=%s", value);
    const char *env[] = {var, NULL};
    ingot_config *cfg = NULL;
    ingot_error err = {0};
    CHECK_INT_EQ(ingot_config_load(NULL, env, &cfg, &err), INGOT_OK);
    if (cfg) CHECK(!strcmp(ingot_config_get_str(cfg, "remotes.ollama.url"), want), "OLLAMA_HOST=%s gives %s, want %s",
                   value, ingot_config_get_str(cfg, "remotes.ollama.url"), want);
    ingot_config_free(cfg);
}

static void test_ollama_host(void) {
    check_ollama_host("127.0.0.1", "http://127.0.0.1:11434");
    check_ollama_host("0.0.0.0:8080", "http://0.0.0.0:8080");
    check_ollama_host(":9999", "http://127.0.0.1:9999");
    check_ollama_host("http://example.com", "http://example.com:80");
    check_ollama_host("https://example.com", "https://example.com:443");
    check_ollama_host("https://example.com:8443/ollama/", "https://example.com:8443/ollama");
    check_ollama_host("[::1]:1234", "http://[::1]:1234");
    check_ollama_host("  myhost ", "http://myhost:11434");
}

static void test_default_path_and_text(void) {
    char buf[512];
    const char *e1[] = {"XDG_CONFIG_HOME=/x/cfg", "HOME=/home/u", NULL};
    CHECK(ingot_config_default_path(e1, buf, sizeof buf), "path");
    CHECK_STR_EQ(buf, "/x/cfg/ingot/config.json");
    const char *e2[] = {"XDG_CONFIG_HOME=relative", "HOME=/home/u", NULL};
    CHECK(ingot_config_default_path(e2, buf, sizeof buf), "path");
    CHECK_STR_EQ(buf, "/home/u/.config/ingot/config.json");
    const char *e3[] = {NULL};
    CHECK(!ingot_config_default_path(e3, buf, sizeof buf), "no HOME");

    /* the default file is found through XDG_CONFIG_HOME */
    char xdg[512], sub[600], var[600];
    snprintf(xdg, sizeof xdg, "%s/xdg", dir);
    snprintf(sub, sizeof sub, "%s/ingot", xdg);
    mkdir(xdg, 0700);
    mkdir(sub, 0700);
    char *text = ingot_config_default_text();
    CHECK(text != NULL, "default text");
    if (!text) return;
    CHECK(strstr(text, "// ") != NULL && strstr(text, "INGOT_TEMPERATURE") != NULL, "documented");
    snprintf(var, sizeof var, "%s/config.json", sub);
    FILE *f = fopen(var, "wb");
    fputs(text, f);
    fclose(f);
    snprintf(var, sizeof var, "XDG_CONFIG_HOME=%s", xdg);
    const char *env[] = {var, NULL};
    ingot_config *cfg = NULL, *def = NULL;
    ingot_error err = {0};
    CHECK_INT_EQ(ingot_config_load(NULL, env, &cfg, &err), INGOT_OK);
    if (!cfg) {
        fprintf(stderr, "%s\n---\n%s", err.message, text);
        free(text);
        return;
    }
    ingot_config_new(&def, NULL);
    /* every setting is in the file, with its default value */
    struct {
        int n, n_file, n_same;
    } c = {0, 0, 0};
    {
        const char *keys[] = {"inference.backend", "inference.fallback", "inference.threads", "inference.context",
                              "inference.max_tokens", "inference.temperature", "inference.top_p", "inference.top_k",
                              "inference.repeat_penalty", "inference.benchmark_on_startup", "log.level",
                              "network.connect_timeout_ms", "network.read_timeout_ms", "network.probe_timeout_ms",
                              "remotes.lmstudio.api", "remotes.lmstudio.url", "remotes.ollama.api", "remotes.ollama.url"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            ingot_setting a, b;
            c.n++;
            if (!ingot_config_get(cfg, keys[i], &a) || !ingot_config_get(def, keys[i], &b)) continue;
            if (a.source == INGOT_CONFIG_FILE) c.n_file++;
            else fprintf(stderr, "%s not from the file\n", keys[i]);
            if (!strcmp(a.value, b.value)) c.n_same++;
            else fprintf(stderr, "%s: %s vs %s\n", keys[i], a.value, b.value);
        }
    }
    CHECK_INT_EQ(c.n_file, c.n);
    CHECK_INT_EQ(c.n_same, c.n);
    ingot_config_free(cfg);
    ingot_config_free(def);
    free(text);
}

static bool count_fn(const ingot_setting *s, void *user) {
    int *n = user;
    static char last[256];
    if (*n > 0) CHECK(strcmp(last, s->key) < 0, "sorted: %s after %s", s->key, last);
    snprintf(last, sizeof last, "%s", s->key);
    (*n)++;
    return true;
}

static void test_foreach(void) {
    ingot_config *cfg;
    ingot_config_new(&cfg, NULL);
    int n = 0;
    ingot_config_foreach(cfg, count_fn, &n);
    CHECK(n >= 25, "n = %d", n);
    ingot_config_free(cfg);
}

int main(void) {
    const char *d = test_tmpdir();
    if (!d) return 2;
    snprintf(dir, sizeof dir, "%s", d);
    test_defaults();
    test_file_values();
    test_file_errors();
    test_failed_layer_leaves_config();
    test_env();
    test_env_errors();
    test_ollama_host();
    test_default_path_and_text();
    test_foreach();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    TEST_END();
}
