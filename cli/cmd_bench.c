/* `ingot bench`: llama-bench-style speed measurements of the engine on a
 * model — prompt processing (ppP: P random token ids in one batch, on a
 * cleared context per repetition), generation (tgN: N greedy single-token
 * steps after a short prompt), time to first token (model load + context
 * + short prompt + first argmax) and peak RSS — printed as a Markdown
 * table, JSON (llama-bench's field names, so scripts written for it work)
 * or CSV. Each test runs once as a warm-up, then -r timed repetitions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"

static void usage(FILE *f) {
    fputs("usage: ingot bench -m MODEL [-m MODEL...] [-p 128,512] [-n 64,128] [-r 3] [-t 2]\n"
          "                   [-o md|json|csv] [--tg-prompt 16] [--ttft-prompt 16]\n"
          "\n"
          "Measures the engine as llama-bench does: ppP = P random token ids\n"
          "evaluated in one batch on an empty context; tgN = N greedy decode steps\n"
          "of one token each after a short prompt; each test runs once untimed as\n"
          "a warm-up, then -r times. Also reported: time to first token (load the\n"
          "model, make a context, evaluate a short prompt, pick the first token;\n"
          "the file should be in the page cache) and the peak resident memory of\n"
          "the process.\n"
          "\n"
          "options:\n"
          "  -m, --model FILE     GGUF model (repeat for several)\n"
          "  -p, --n-prompt LIST  prompt lengths, comma-separated (default 128,512; 0: none)\n"
          "  -n, --n-gen LIST     generation lengths (default 64,128; 0: none)\n"
          "  -r, --repetitions N  timed repetitions per test (default 3)\n"
          "  -t, --threads LIST   thread counts (default 2)\n"
          "  -o, --output FMT     md (default), json (array of llama-bench objects), csv\n"
          "  --tg-prompt N        tokens evaluated before a tg test (default 16)\n"
          "  --ttft-prompt N      prompt length of the time-to-first-token test (default 16;\n"
          "                       0: skip it)\n"
          "  --backends LIST      compare backends (cpu, mlx, remote servers) on one generation\n"
          "                       instead: see `ingot bench --backends x --help`\n",
          f);
}

typedef struct bench_opts {
    const char **models;
    int n_models;
    int32_t *p, *n, *t;
    int32_t np, nn, nt;
    int reps;
    int tg_prompt, ttft_prompt;
    const char *fmt;
} bench_opts;

/* One test's samples. */
typedef struct bench_row {
    const char *model_path;
    char model_type[128];
    uint64_t model_size, n_params;
    int n_threads, n_prompt, n_gen, n_depth, n_batch;
    int n_samples;
    double *ns; /* per repetition */
    double ttft_ms, ttft_sd_ms, load_ms;
    uint64_t peak_rss;
    char test_time[32];
} bench_row;

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t peak_rss_bytes(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
#ifdef __APPLE__
    return (uint64_t)ru.ru_maxrss;
#else
    return (uint64_t)ru.ru_maxrss * 1024u;
#endif
}

/* Random prompt ids as the peer benchmark draws them (a fixed LCG, ids
 * 100..20099), folded into small vocabularies. */
typedef struct lcg {
    uint64_t s;
} lcg;
static double lcg_next(lcg *g) {
    g->s = (g->s * 1103515245u + 12345u) % 2147483648u;
    return (double)g->s / 2147483648.0;
}
static void random_ids(lcg *g, int32_t *ids, int n, int32_t n_vocab) {
    for (int i = 0; i < n; i++) {
        double r = lcg_next(g);
        ids[i] = n_vocab > 20100 ? 100 + (int32_t)(r * 20000) : (int32_t)(r * n_vocab);
    }
}

static int32_t argmax(const float *x, int32_t n) {
    int32_t b = 0;
    for (int32_t i = 1; i < n; i++)
        if (x[i] > x[b]) b = i;
    return b;
}

static void stats(const double *x, int n, double *mean, double *sd) {
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) s += x[i];
    *mean = n ? s / n : 0;
    for (int i = 0; i < n; i++) s2 += (x[i] - *mean) * (x[i] - *mean);
    *sd = n > 1 ? sqrt(s2 / (n - 1)) : 0;
}

/* ---- the measurements ---- */

typedef struct model_ctx {
    ingot_model *m;
    ingot_model_info info;
} model_ctx;

static int make_context(model_ctx *mc, int n_ctx, int n_batch, int threads, ingot_context **out) {
    ingot_context_params cp = ingot_context_default_params();
    cp.n_ctx = n_ctx;
    cp.n_batch = n_batch;
    cp.n_threads = threads;
    ingot_error err = {0};
    if (ingot_context_new(mc->m, &cp, out, &err)) return cli_fail(1, "bench", "%s", err.message);
    return 0;
}

/* pp: one decode of P tokens on a cleared context. */
static int run_pp(model_ctx *mc, int P, int threads, int reps, double *ns) {
    ingot_context *ctx = NULL;
    int rc = make_context(mc, P + 1, P, threads, &ctx);
    if (rc) return rc;
    int32_t *ids = malloc((size_t)P * sizeof *ids);
    lcg g = {42};
    for (int r = 0; r <= reps && !rc; r++) {
        random_ids(&g, ids, P, mc->info.n_vocab);
        ingot_context_truncate(ctx, 0);
        double t0 = now_ns();
        if (ingot_context_decode(ctx, ids, P, false))
            rc = cli_fail(1, "bench", "pp%d: %s", P, ingot_context_errmsg(ctx));
        double t1 = now_ns();
        if (r > 0) ns[r - 1] = t1 - t0; /* repetition 0 is the warm-up */
    }
    free(ids);
    ingot_context_free(ctx);
    return rc;
}

/* tg: a short prompt (untimed), then N steps of argmax + one-token decode. */
static int run_tg(model_ctx *mc, int N, int depth, int threads, int reps, double *ns) {
    ingot_context *ctx = NULL;
    int d = depth > 0 ? depth : 1;
    int rc = make_context(mc, d + N + 1, d, threads, &ctx);
    if (rc) return rc;
    int32_t *ids = malloc((size_t)d * sizeof *ids);
    lcg g = {4242};
    for (int r = 0; r <= reps && !rc; r++) {
        random_ids(&g, ids, d, mc->info.n_vocab);
        ingot_context_truncate(ctx, 0);
        if (ingot_context_decode(ctx, ids, d, false)) {
            rc = cli_fail(1, "bench", "tg%d prompt: %s", N, ingot_context_errmsg(ctx));
            break;
        }
        double t0 = now_ns();
        for (int k = 0; k < N; k++) {
            int32_t rows = 0;
            const float *lg = ingot_context_logits(ctx, &rows);
            int32_t tok = argmax(lg + (size_t)(rows - 1) * (size_t)mc->info.n_vocab, mc->info.n_vocab);
            if (ingot_context_decode(ctx, &tok, 1, false)) {
                rc = cli_fail(1, "bench", "tg%d step %d: %s", N, k, ingot_context_errmsg(ctx));
                break;
            }
        }
        double t1 = now_ns();
        if (r > 0) ns[r - 1] = t1 - t0;
    }
    free(ids);
    ingot_context_free(ctx);
    return rc;
}

/* Time to first token with the model loaded afresh each time. */
static int run_ttft(const char *path, int prompt, int threads, int reps, double *ms) {
    lcg g = {777};
    int32_t *ids = malloc((size_t)prompt * sizeof *ids);
    int rc = 0;
    for (int r = 0; r <= reps && !rc; r++) {
        double t0 = now_ns();
        ingot_error err = {0};
        model_ctx mc = {0};
        ingot_context *ctx = NULL;
        if (ingot_model_load(path, NULL, &mc.m, &err)) {
            rc = cli_fail(1, "bench", "%s", err.message);
            break;
        }
        ingot_model_get_info(mc.m, &mc.info);
        random_ids(&g, ids, prompt, mc.info.n_vocab);
        rc = make_context(&mc, prompt + 1, prompt, threads, &ctx);
        if (!rc && ingot_context_decode(ctx, ids, prompt, false))
            rc = cli_fail(1, "bench", "ttft: %s", ingot_context_errmsg(ctx));
        if (!rc) {
            int32_t rows = 0;
            const float *lg = ingot_context_logits(ctx, &rows);
            volatile int32_t first = argmax(lg + (size_t)(rows - 1) * (size_t)mc.info.n_vocab, mc.info.n_vocab);
            (void)first;
        }
        double t1 = now_ns();
        if (r > 0) ms[r - 1] = (t1 - t0) / 1e6;
        ingot_context_free(ctx);
        ingot_model_free(mc.m);
    }
    free(ids);
    return rc;
}

/* ---- output ---- */

static void human_bytes(char *buf, size_t n, uint64_t v) {
    if (v >= (1ull << 30)) snprintf(buf, n, "%.2f GiB", (double)v / (1ull << 30));
    else snprintf(buf, n, "%.2f MiB", (double)v / (1ull << 20));
}

static void test_name(char *buf, size_t n, const bench_row *r) {
    if (r->n_prompt) snprintf(buf, n, "pp%d", r->n_prompt);
    else snprintf(buf, n, "tg%d", r->n_gen);
}

static void row_ts(const bench_row *r, double *ts) {
    int tokens = r->n_prompt ? r->n_prompt : r->n_gen;
    for (int i = 0; i < r->n_samples; i++) ts[i] = r->ns[i] > 0 ? tokens * 1e9 / r->ns[i] : 0;
}

static void print_md(const bench_row *rows, int nrows) {
    printf("| model | size | params | backend | threads | test | t/s |\n");
    printf("| --- | ---: | ---: | --- | ---: | ---: | ---: |\n");
    for (int i = 0; i < nrows; i++) {
        const bench_row *r = &rows[i];
        double ts[256], m, sd;
        row_ts(r, ts);
        stats(ts, r->n_samples, &m, &sd);
        char size[32], test[32];
        human_bytes(size, sizeof size, r->model_size);
        test_name(test, sizeof test, r);
        printf("| %s | %s | %.2f M | CPU | %d | %s | %.2f ± %.2f |\n", r->model_type, size, (double)r->n_params / 1e6,
               r->n_threads, test, m, sd);
    }
    printf("\n| model | threads | load ms | ttft ms | peak RSS |\n| --- | ---: | ---: | ---: | ---: |\n");
    for (int i = 0; i < nrows; i++) {
        const bench_row *r = &rows[i];
        /* One line per model and thread count: rows repeat these figures. */
        if (i > 0 && rows[i - 1].model_path == r->model_path && rows[i - 1].n_threads == r->n_threads) continue;
        char rss[32], ttft[48];
        human_bytes(rss, sizeof rss, r->peak_rss);
        if (r->ttft_ms > 0) snprintf(ttft, sizeof ttft, "%.1f ± %.1f", r->ttft_ms, r->ttft_sd_ms);
        else snprintf(ttft, sizeof ttft, "-");
        printf("| %s | %d | %.1f | %s | %s |\n", r->model_type, r->n_threads, r->load_ms, ttft, rss);
    }
}

static void json_num_array(const double *x, int n, bool integer) {
    printf("[");
    for (int i = 0; i < n; i++) printf(integer ? "%s%.0f" : "%s%.6f", i ? ", " : "", x[i]);
    printf("]");
}

static void cpu_info(char *buf, size_t n) {
    snprintf(buf, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) {
                c++;
                while (*c == ' ' || *c == '\t') c++;
                c[strcspn(c, "\n")] = 0;
                snprintf(buf, n, "%s", c);
            }
            break;
        }
    }
    fclose(f);
}

static void print_json(const bench_row *rows, int nrows) {
    char cpu[256];
    cpu_info(cpu, sizeof cpu);
    printf("[\n");
    for (int i = 0; i < nrows; i++) {
        const bench_row *r = &rows[i];
        double ts[256], mts, sdts, mns, sdns;
        row_ts(r, ts);
        stats(ts, r->n_samples, &mts, &sdts);
        stats(r->ns, r->n_samples, &mns, &sdns);
        printf("  {\n    \"build_commit\": \"ingot-%s\",\n    \"build_number\": 0,\n    \"cpu_info\": ",
               ingot_version());
        cli_json_str(stdout, cpu, strlen(cpu));
        printf(",\n    \"gpu_info\": \"\",\n    \"backends\": \"CPU\",\n    \"model_filename\": ");
        cli_json_str(stdout, r->model_path, strlen(r->model_path));
        printf(",\n    \"model_type\": ");
        cli_json_str(stdout, r->model_type, strlen(r->model_type));
        printf(",\n    \"model_size\": %llu,\n    \"model_n_params\": %llu,\n", (unsigned long long)r->model_size,
               (unsigned long long)r->n_params);
        printf("    \"n_batch\": %d,\n    \"n_ubatch\": %d,\n    \"n_threads\": %d,\n", r->n_batch, r->n_batch,
               r->n_threads);
        printf("    \"type_k\": \"f16\",\n    \"type_v\": \"f16\",\n    \"n_gpu_layers\": 0,\n"
               "    \"use_mmap\": true,\n    \"flash_attn\": false,\n    \"embeddings\": false,\n");
        printf("    \"n_prompt\": %d,\n    \"n_gen\": %d,\n    \"n_depth\": %d,\n    \"test_time\": \"%s\",\n",
               r->n_prompt, r->n_gen, r->n_depth, r->test_time);
        printf("    \"avg_ns\": %.0f,\n    \"stddev_ns\": %.0f,\n    \"avg_ts\": %.6f,\n    \"stddev_ts\": %.6f,\n",
               mns, sdns, mts, sdts);
        printf("    \"samples_ns\": ");
        json_num_array(r->ns, r->n_samples, true);
        printf(",\n    \"samples_ts\": ");
        json_num_array(ts, r->n_samples, false);
        printf(",\n    \"load_ms\": %.3f,\n    \"ttft_ms\": %.3f,\n    \"ttft_stddev_ms\": %.3f,\n"
               "    \"peak_rss_bytes\": %llu\n  }%s\n",
               r->load_ms, r->ttft_ms, r->ttft_sd_ms, (unsigned long long)r->peak_rss, i + 1 < nrows ? "," : "");
    }
    printf("]\n");
}

static void csv_str(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"') putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void print_csv(const bench_row *rows, int nrows) {
    printf("build_commit,model_filename,model_type,model_size,model_n_params,n_batch,n_threads,n_prompt,n_gen,"
           "n_depth,test_time,avg_ns,stddev_ns,avg_ts,stddev_ts,load_ms,ttft_ms,ttft_stddev_ms,peak_rss_bytes\n");
    for (int i = 0; i < nrows; i++) {
        const bench_row *r = &rows[i];
        double ts[256], mts, sdts, mns, sdns;
        row_ts(r, ts);
        stats(ts, r->n_samples, &mts, &sdts);
        stats(r->ns, r->n_samples, &mns, &sdns);
        printf("\"ingot-%s\",", ingot_version());
        csv_str(r->model_path);
        putchar(',');
        csv_str(r->model_type);
        printf(",%llu,%llu,%d,%d,%d,%d,%d,\"%s\",%.0f,%.0f,%.6f,%.6f,%.3f,%.3f,%.3f,%llu\n",
               (unsigned long long)r->model_size, (unsigned long long)r->n_params, r->n_batch, r->n_threads,
               r->n_prompt, r->n_gen, r->n_depth, r->test_time, mns, sdns, mts, sdts, r->load_ms, r->ttft_ms,
               r->ttft_sd_ms, (unsigned long long)r->peak_rss);
    }
}

/* ---- driver ---- */

static void describe(model_ctx *mc, const char *path, char *buf, size_t n) {
    char size[32];
    uint64_t p = mc->info.n_params;
    if (p >= 1000000000ull) snprintf(size, sizeof size, "%.1fB", (double)p / 1e9);
    else snprintf(size, sizeof size, "%.0fM", (double)p / 1e6);
    uint32_t ft = 0;
    const char *ftn = NULL;
    if (ingot_file_type_read(path, &ft, NULL) == INGOT_OK) ftn = ingot_file_type_name(ft);
    if (!ftn) ftn = mc->info.file_type ? mc->info.file_type : "?";
    snprintf(buf, n, "%s %s %s", mc->info.arch ? mc->info.arch : "?", size, ftn);
}

static void utc_now(char *buf, size_t n) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int bench_model(const bench_opts *o, const char *path, bench_row **rows, int *nrows, int *cap) {
    /* TTFT first, while no other copy of the model is mapped, so peak RSS
     * never counts two mappings of the weights. */
    int ttft_reps = o->reps;
    double *ttft = calloc((size_t)ttft_reps + 1, sizeof *ttft);
    double ttft_mean[64] = {0}, ttft_sd[64] = {0};
    int rc = 0;
    for (int ti = 0; ti < o->nt && o->ttft_prompt > 0 && !rc; ti++) {
        fprintf(stderr, "ingot bench: %s: ttft (%d-token prompt), %d threads\n", path, o->ttft_prompt, o->t[ti]);
        rc = run_ttft(path, o->ttft_prompt, o->t[ti], ttft_reps, ttft);
        if (!rc) stats(ttft, ttft_reps, &ttft_mean[ti], &ttft_sd[ti]);
    }
    free(ttft);
    if (rc) return rc;
    model_ctx mc = {0};
    ingot_error err = {0};
    double t0 = now_ns();
    if (ingot_model_load(path, NULL, &mc.m, &err)) return cli_fail(1, "bench", "%s", err.message);
    double load_ms = (now_ns() - t0) / 1e6;
    ingot_model_get_info(mc.m, &mc.info);
    char type[128];
    describe(&mc, path, type, sizeof type);
    for (int ti = 0; ti < o->nt && !rc; ti++) {
        for (int kind = 0; kind < 2 && !rc; kind++) {
            int nlen = kind == 0 ? o->np : o->nn;
            for (int li = 0; li < nlen && !rc; li++) {
                int len = kind == 0 ? o->p[li] : o->n[li];
                if (len <= 0) continue;
                if (*nrows == *cap) {
                    *cap = *cap ? *cap * 2 : 16;
                    *rows = realloc(*rows, (size_t)*cap * sizeof **rows);
                }
                bench_row *r = &(*rows)[(*nrows)++];
                memset(r, 0, sizeof *r);
                r->model_path = path;
                snprintf(r->model_type, sizeof r->model_type, "%s", type);
                r->model_size = mc.info.file_size;
                r->n_params = mc.info.n_params;
                r->n_threads = o->t[ti];
                r->n_samples = o->reps;
                r->ns = calloc((size_t)o->reps, sizeof *r->ns);
                r->load_ms = load_ms;
                r->ttft_ms = ttft_mean[ti];
                r->ttft_sd_ms = ttft_sd[ti];
                utc_now(r->test_time, sizeof r->test_time);
                fprintf(stderr, "ingot bench: %s: %s%d, %d threads\n", path, kind == 0 ? "pp" : "tg", len,
                        o->t[ti]);
                if (kind == 0) {
                    r->n_prompt = len;
                    r->n_batch = len;
                    rc = run_pp(&mc, len, o->t[ti], o->reps, r->ns);
                } else {
                    r->n_gen = len;
                    r->n_depth = o->tg_prompt;
                    r->n_batch = o->tg_prompt > 0 ? o->tg_prompt : 1;
                    rc = run_tg(&mc, len, o->tg_prompt, o->t[ti], o->reps, r->ns);
                }
            }
        }
    }
    ingot_model_free(mc.m);
    uint64_t rss = peak_rss_bytes();
    for (int i = 0; i < *nrows; i++)
        if ((*rows)[i].model_path == path) (*rows)[i].peak_rss = rss;
    return rc;
}

int cmd_bench(int argc, char **argv) {
    /* Across backends (cpu, mlx, remote servers): cli/bench_backends.c. */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--backends") || !strncmp(argv[i], "--backends=", 11)) return cli_bench_backends(argc, argv);
    bench_opts o = {0};
    o.reps = 3;
    o.tg_prompt = 16;
    o.ttft_prompt = 16;
    o.fmt = "md";
    int rc = 0;
    o.models = calloc((size_t)argc, sizeof *o.models);
    for (int i = 1; i < argc && !rc; i++) {
        const char *v = NULL;
        bool bad = false;
        long x;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            free(o.models);
            return 0;
        } else if (cli_flag_value(argc, argv, &i, "-m", &v, &bad, "bench") ||
                   cli_flag_value(argc, argv, &i, "--model", &v, &bad, "bench")) {
            if (bad) rc = 2;
            else o.models[o.n_models++] = v;
        } else if (cli_flag_value(argc, argv, &i, "-p", &v, &bad, "bench") ||
                   cli_flag_value(argc, argv, &i, "--n-prompt", &v, &bad, "bench")) {
            free(o.p);
            o.p = NULL;
            if (bad || !cli_parse_int_list("bench", "-p", v, &o.p, &o.np)) rc = 2;
        } else if (cli_flag_value(argc, argv, &i, "-n", &v, &bad, "bench") ||
                   cli_flag_value(argc, argv, &i, "--n-gen", &v, &bad, "bench")) {
            free(o.n);
            o.n = NULL;
            if (bad || !cli_parse_int_list("bench", "-n", v, &o.n, &o.nn)) rc = 2;
        } else if (cli_flag_value(argc, argv, &i, "-t", &v, &bad, "bench") ||
                   cli_flag_value(argc, argv, &i, "--threads", &v, &bad, "bench")) {
            free(o.t);
            o.t = NULL;
            if (bad || !cli_parse_int_list("bench", "-t", v, &o.t, &o.nt)) rc = 2;
        } else if (cli_flag_value(argc, argv, &i, "-r", &v, &bad, "bench") ||
                   cli_flag_value(argc, argv, &i, "--repetitions", &v, &bad, "bench")) {
            if (bad || !cli_parse_int("bench", "-r", v, 1, 200, &x)) rc = 2;
            else o.reps = (int)x;
        } else if (cli_flag_value(argc, argv, &i, "--tg-prompt", &v, &bad, "bench")) {
            if (bad || !cli_parse_int("bench", "--tg-prompt", v, 0, 1 << 20, &x)) rc = 2;
            else o.tg_prompt = (int)x;
        } else if (cli_flag_value(argc, argv, &i, "--ttft-prompt", &v, &bad, "bench")) {
            if (bad || !cli_parse_int("bench", "--ttft-prompt", v, 0, 1 << 20, &x)) rc = 2;
            else o.ttft_prompt = (int)x;
        } else if (cli_flag_value(argc, argv, &i, "-o", &v, &bad, "bench") ||
                   cli_flag_value(argc, argv, &i, "--output", &v, &bad, "bench")) {
            if (bad) rc = 2;
            else if (strcmp(v, "md") && strcmp(v, "json") && strcmp(v, "csv"))
                rc = cli_fail(2, "bench", "-o %s: the formats are md, json and csv", v);
            else o.fmt = v;
        } else if (bad) {
            rc = 2;
        } else {
            rc = cli_fail(2, "bench", "unknown argument '%s' (see `ingot bench --help`)", argv[i]);
        }
    }
    if (!rc && !o.n_models) rc = cli_fail(2, "bench", "missing -m MODEL (see `ingot bench --help`)");
    static int32_t dp[] = {128, 512}, dn[] = {64, 128}, dt[] = {2};
    const int32_t *p = o.p ? o.p : dp, *n = o.n ? o.n : dn, *t = o.t ? o.t : dt;
    if (!o.p) o.np = 2;
    if (!o.n) o.nn = 2;
    if (!o.t) o.nt = 1;
    for (int i = 0; !rc && i < o.np; i++)
        if (p[i] < 0 || p[i] > (1 << 20)) rc = cli_fail(2, "bench", "-p %d is out of range", p[i]);
    for (int i = 0; !rc && i < o.nn; i++)
        if (n[i] < 0 || n[i] > (1 << 20)) rc = cli_fail(2, "bench", "-n %d is out of range", n[i]);
    for (int i = 0; !rc && i < o.nt; i++)
        if (t[i] < 1 || t[i] > 1024) rc = cli_fail(2, "bench", "-t %d is out of range [1, 1024]", t[i]);
    if (!rc && o.nt > 64) rc = cli_fail(2, "bench", "at most 64 thread counts");
    bench_opts eo = o;
    eo.p = (int32_t *)p;
    eo.n = (int32_t *)n;
    eo.t = (int32_t *)t;
    bench_row *rows = NULL;
    int nrows = 0, cap = 0;
    for (int i = 0; !rc && i < o.n_models; i++) rc = bench_model(&eo, o.models[i], &rows, &nrows, &cap);
    if (!rc) {
        if (!strcmp(o.fmt, "json")) print_json(rows, nrows);
        else if (!strcmp(o.fmt, "csv")) print_csv(rows, nrows);
        else print_md(rows, nrows);
    }
    for (int i = 0; i < nrows; i++) free(rows[i].ns);
    free(rows);
    free(o.p);
    free(o.n);
    free(o.t);
    free(o.models);
    return rc;
}
