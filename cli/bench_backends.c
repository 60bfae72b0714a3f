/* `ingot bench --backends cpu,ollama,...`: the same prompt and token count
 * on each backend, one table (time to first token, prompt and generation
 * tokens/s, total time, peak memory). `ingot bench` (cli/cmd_bench.c) hands
 * its arguments here when --backends is given. Each backend is opened as
 * `--backend NAME` would open it (no fallback), warmed up with a one-token
 * generation, then timed -r times from an empty cache; the numbers are the
 * means over the repetitions. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char *USAGE =
    "usage: ingot bench --backends LIST [-m MODEL] [--prompt TEXT] [-n N] [-r N] [-t N]\n"
    "                   [-o md|json] [--config FILE]\n"
    "\n"
    "Runs the same greedy generation on each backend of LIST and prints one table:\n"
    "time to first token, prompt and generation tokens/s, total time and peak\n"
    "memory (of the ingot process: a remote server's own memory is not visible).\n"
    "\n"
    "  --backends LIST   comma-separated: NAME or NAME=MODEL, where NAME is cpu\n"
    "                    (gguf), mlx or a configured remote (lmstudio, ollama, ...);\n"
    "                    or a model reference (ollama://llama3.2,\n"
    "                    openai+http://host:8080/v1#model)\n"
    "  -m, --model MODEL the model of entries without =MODEL\n"
    "  --prompt TEXT     the prompt (default: a short story opening)\n"
    "  -n N              tokens to generate (default 64)\n"
    "  -r N              timed repetitions per backend (default 3)\n"
    "  -t N              threads of the cpu backend (default: inference.threads)\n"
    "  -o md|json        output format (default md)\n"
    "  --config FILE     settings file (remotes, timeouts)\n"
    "\n"
    "example:\n"
    "  ingot bench --backends cpu=stories260K.gguf,ollama=llama3.2:1b -n 64\n";

typedef struct bench_item {
    char label[128];
    char backend[128]; /* strategy: a name, or "auto" for a reference */
    char model[1024];
    bool ok;
    char error[1024];
    char used[1024];   /* the model as the backend named it */
    int prompt_tokens, gen_tokens;
    double ttft, prompt_tps, gen_tps, total, peak_mb;
    bool remote;
} bench_item;

static bool discard(const char *p, size_t n, void *user) {
    (void)p, (void)n, (void)user;
    return true;
}

static void run_item(bench_item *it, ingot_config *cfg, const ingot_session_params *sp, const char *prompt, int n_gen,
                     int reps) {
    ingot_error err = {0};
    if (ingot_config_set(cfg, "inference.backend", it->backend, "--backends", &err) != INGOT_OK) {
        snprintf(it->error, sizeof it->error, "%s", err.message);
        return;
    }
    ingot_backend_open_params op = {NULL, sp, NULL, NULL};
    ingot_backend *b = NULL;
    if (ingot_backend_open_for_model(it->model, cfg, &op, &b, NULL, &err) != INGOT_OK) {
        snprintf(it->error, sizeof it->error, "%s", err.message);
        return;
    }
    snprintf(it->used, sizeof it->used, "%s", ingot_backend_model(b));
    it->remote = ingot_backend_kind_of(b) == INGOT_BACKEND_REMOTE;
    ingot_generate_params gp = ingot_generate_default_params();
    gp.prompt = prompt;
    gp.sampling.temperature = 0;
    gp.sampling.seed = 0;
    gp.max_tokens = 1;
    ingot_metrics m;
    ingot_status st = ingot_backend_generate(b, &gp, discard, NULL, &m); /* warm-up */
    gp.max_tokens = n_gen;
    for (int r = 0; r < reps && st == INGOT_OK; r++) {
        ingot_backend_reset(b);
        st = ingot_backend_generate(b, &gp, discard, NULL, &m);
        it->prompt_tokens = m.prompt_tokens;
        it->gen_tokens = m.generated_tokens;
        it->ttft += m.ttft_ms / reps;
        it->prompt_tps += m.prompt_tps / reps;
        it->gen_tps += m.gen_tps / reps;
        it->total += m.total_ms / reps;
        it->peak_mb = m.peak_rss_mb;
    }
    if (st) snprintf(it->error, sizeof it->error, "%s", ingot_backend_errmsg(b));
    else it->ok = true;
    ingot_backend_free(b);
}

/* Splits LIST into items; a reference keeps its own commas-free text. */
static int parse_items(const char *list, const char *model, bench_item **out, int *n) {
    char *copy = strdup(list);
    if (!copy) return cli_fail(1, "bench", "out of memory");
    int cap = 1;
    for (const char *p = list; *p; p++) cap += *p == ',';
    bench_item *items = calloc((size_t)cap, sizeof *items);
    if (!items) {
        free(copy);
        return cli_fail(1, "bench", "out of memory");
    }
    int k = 0, rc = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        bench_item *it = &items[k];
        snprintf(it->label, sizeof it->label, "%s", tok);
        if (strstr(tok, "://")) {
            snprintf(it->backend, sizeof it->backend, "auto");
            snprintf(it->model, sizeof it->model, "%s", tok);
            char *s = strstr(it->label, "://");
            *s = 0; /* label: the scheme */
        } else {
            char *eq = strchr(tok, '=');
            if (eq) *eq = 0;
            snprintf(it->backend, sizeof it->backend, "%s", tok);
            snprintf(it->label, sizeof it->label, "%s", tok);
            const char *m = eq ? eq + 1 : model;
            if (!m || !*m) {
                rc = cli_fail(2, "bench", "--backends: '%s' has no model: write %s=MODEL or give -m MODEL", tok, tok);
                break;
            }
            snprintf(it->model, sizeof it->model, "%s", m);
        }
        k++;
    }
    free(copy);
    if (!rc && k == 0) rc = cli_fail(2, "bench", "--backends needs at least one backend");
    if (rc) {
        free(items);
        return rc;
    }
    *out = items;
    *n = k;
    return 0;
}

static void print_md(const bench_item *v, int n, int n_gen) {
    printf("| backend | model | prompt tokens | generated | TTFT ms | prompt tok/s | gen tok/s | total ms | peak MB |\n");
    printf("| ------- | ----- | ------------: | --------: | ------: | -----------: | --------: | -------: | ------: |\n");
    for (int i = 0; i < n; i++) {
        const bench_item *it = &v[i];
        const char *model = it->used[0] ? it->used : it->model;
        const char *base = strrchr(model, '/');
        base = base && !it->remote ? base + 1 : model;
        if (!it->ok) {
            printf("| %s | %s | failed: %s | | | | | | |\n", it->label, base, it->error);
            continue;
        }
        char peak[32];
        if (it->remote) snprintf(peak, sizeof peak, "n/a (server)");
        else snprintf(peak, sizeof peak, "%.1f", it->peak_mb);
        printf("| %s | %s | %d | %d%s | %.1f | %.1f | %.1f | %.1f | %s |\n", it->label, base, it->prompt_tokens,
               it->gen_tokens, it->gen_tokens < n_gen ? " (stopped)" : "", it->ttft, it->prompt_tps, it->gen_tps,
               it->total, peak);
    }
}

static void print_json(const bench_item *v, int n, const char *prompt, int n_gen, int reps) {
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        const bench_item *it = &v[i];
        json_t *o = json_pack("{s:s,s:s,s:b}", "backend", it->label, "model", it->used[0] ? it->used : it->model, "ok",
                              it->ok);
        if (!it->ok) {
            json_object_set_new(o, "error", json_string(it->error));
        } else {
            json_object_set_new(o, "prompt_tokens", json_integer(it->prompt_tokens));
            json_object_set_new(o, "generated_tokens", json_integer(it->gen_tokens));
            json_object_set_new(o, "ttft_ms", json_real(it->ttft));
            json_object_set_new(o, "prompt_tps", json_real(it->prompt_tps));
            json_object_set_new(o, "gen_tps", json_real(it->gen_tps));
            json_object_set_new(o, "total_ms", json_real(it->total));
            json_object_set_new(o, "peak_rss_mb", it->remote ? json_null() : json_real(it->peak_mb));
        }
        json_array_append_new(arr, o);
    }
    json_t *root = json_pack("{s:s,s:i,s:i,s:o}", "prompt", prompt, "n_gen", n_gen, "repetitions", reps, "results", arr);
    json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    fputc('\n', stdout);
    json_decref(root);
}

int cli_bench_backends(int argc, char **argv) {
    const char *list = NULL, *model = NULL, *file = NULL, *fmt = "md", *v;
    const char *prompt = "Once upon a time, in a small village by the sea, there lived";
    long n_gen = 64, reps = 3, threads = -1;
    bool bad = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(USAGE, stdout);
            return 0;
        } else if (cli_flag_value(argc, argv, &i, "--backends", &v, &bad, "bench")) {
            list = v;
        } else if (cli_flag_value(argc, argv, &i, "-m", &v, &bad, "bench") ||
                   cli_flag_value(argc, argv, &i, "--model", &v, &bad, "bench")) {
            model = v;
        } else if (cli_flag_value(argc, argv, &i, "--prompt", &v, &bad, "bench")) {
            prompt = v;
        } else if (cli_flag_value(argc, argv, &i, "-n", &v, &bad, "bench")) {
            if (!bad && !cli_parse_int("bench", "-n", v, 1, 1 << 20, &n_gen)) return 2;
        } else if (cli_flag_value(argc, argv, &i, "-r", &v, &bad, "bench")) {
            if (!bad && !cli_parse_int("bench", "-r", v, 1, 1000, &reps)) return 2;
        } else if (cli_flag_value(argc, argv, &i, "-t", &v, &bad, "bench")) {
            if (!bad && !cli_parse_int("bench", "-t", v, 1, 1024, &threads)) return 2;
        } else if (cli_flag_value(argc, argv, &i, "-o", &v, &bad, "bench")) {
            fmt = v;
            if (!bad && strcmp(fmt, "md") && strcmp(fmt, "json"))
                return cli_fail(2, "bench", "-o expects md or json with --backends, got '%s'", fmt);
        } else if (cli_flag_value(argc, argv, &i, "--config", &v, &bad, "bench")) {
            file = v;
        } else {
            return cli_fail(2, "bench", "unknown option '%s' with --backends (see `ingot bench --backends x --help`)",
                            argv[i]);
        }
        if (bad) return 2;
    }
    if (!list) return cli_fail(2, "bench", "missing --backends LIST");
    bench_item *items = NULL;
    int n = 0, rc = parse_items(list, model, &items, &n);
    if (rc) return rc;
    ingot_config *cfg = NULL;
    if ((rc = cli_config_load("bench", file, &cfg)) != 0) {
        free(items);
        return rc;
    }
    ingot_session_params sp = ingot_session_default_params();
    ingot_config_apply(cfg, NULL, &sp);
    if (threads > 0) sp.context.n_threads = (int32_t)threads;
    int failed = 0;
    for (int i = 0; i < n; i++) {
        run_item(&items[i], cfg, &sp, prompt, (int)n_gen, (int)reps);
        failed += !items[i].ok;
    }
    if (!strcmp(fmt, "json")) print_json(items, n, prompt, (int)n_gen, (int)reps);
    else print_md(items, n, (int)n_gen);
    for (int i = 0; i < n; i++)
        if (!items[i].ok) cli_fail(1, "bench", "%s: %s", items[i].label, items[i].error);
    free(items);
    ingot_config_free(cfg);
    return failed ? 1 : 0;
}
