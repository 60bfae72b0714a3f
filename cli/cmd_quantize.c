/* `ingot quantize`: converts an F32/F16/BF16 GGUF model to a smaller type
 * with llama.cpp's per-tensor mixtures (ingot_quantize_file), showing
 * progress: one updating line on a terminal, one plain line per tensor
 * otherwise (logs, pipes), and a summary at the end. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

static void usage(FILE *f) {
    fputs("usage: ingot quantize IN.gguf OUT.gguf TYPE [--pure] [-t THREADS] [-q]\n"
          "\n"
          "Quantizes a model from F32, F16 or BF16 weights. Each tensor's type is\n"
          "chosen as llama.cpp's llama-quantize chooses it (the _S/_M/_L kinds are\n"
          "mixtures: Q6_K output, more bits for attn_v/ffn_down on some layers;\n"
          "rows that do not fit a type's block fall back to a type that fits),\n"
          "with the same quantizers; norms, biases and other 1-D tensors are kept.\n"
          "The output is written atomically: nothing appears at OUT.gguf on failure.\n"
          "\n"
          "options:\n"
          "  --pure         every quantizable tensor in TYPE's base type (no mixture)\n"
          "  -t, --threads  threads (default: all cores)\n"
          "  -q, --quiet    no progress, only errors and the summary\n"
          "\n"
          "types:\n",
          f);
    const char *about;
    for (int32_t i = 0; ingot_quantize_type_name(i, &about); i++)
        fprintf(f, "  %-8s %s\n", ingot_quantize_type_name(i, NULL), about);
    fputs("  (Q3_K, Q4_K and Q5_K are the _M kinds, as llama-quantize reads them)\n", f);
}

static void mib(char *buf, size_t n, uint64_t bytes) {
    if (bytes >= (1ull << 30)) snprintf(buf, n, "%.2f GiB", (double)bytes / (1ull << 30));
    else snprintf(buf, n, "%.2f MiB", (double)bytes / (1ull << 20));
}

typedef struct progress_state {
    bool tty, quiet;
    double n_weights; /* elements of all tensors seen, for bits per weight */
} progress_state;

static void shape(char *buf, size_t n, const ingot_quantize_progress *p) {
    size_t used = (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < (p->n_dims > 0 ? p->n_dims : 1) && used < n; d++)
        used += (size_t)snprintf(buf + used, n - used, "%s%lld", d ? ", " : "", (long long)p->ne[d]);
    if (used < n) snprintf(buf + used, n - used, "]");
}

static bool on_progress(const ingot_quantize_progress *p, void *user) {
    progress_state *st = user;
    if (p->done) {
        double n = 1;
        for (int d = 0; d < 4; d++) n *= (double)p->ne[d];
        st->n_weights += n;
    }
    if (st->quiet) return true;
    char count[16];
    int width = snprintf(count, sizeof count, "%d", p->n_tensors);
    char dims[96], from[32], to[32];
    shape(dims, sizeof dims, p);
    mib(from, sizeof from, p->from_bytes);
    mib(to, sizeof to, p->to_bytes);
    const char *what = p->converted ? "" : " (kept)";
    if (st->tty) {
        /* One line, rewritten: where we are, what this tensor becomes. */
        double pct = p->total_bytes ? 100.0 * (double)p->done_bytes / (double)p->total_bytes : 100.0;
        fprintf(stderr, "\r\033[K[%*d/%d] %5.1f%%  %-32s %-18s %s -> %s%s", width, p->index + 1, p->n_tensors,
                pct, p->name, dims, p->from_type, p->to_type, what);
        if (p->done && p->index + 1 == p->n_tensors) fputc('\n', stderr);
        fflush(stderr);
    } else if (p->done) {
        fprintf(stderr, "[%*d/%d] %-36s %-20s %-5s -> %-6s %10s -> %10s%s%s\n", width, p->index + 1,
                p->n_tensors, p->name, dims, p->from_type, p->to_type, from, to, what,
                p->fallback ? " (fallback: row length)" : "");
    }
    return true;
}

int cmd_quantize(int argc, char **argv) {
    const char *pos[3] = {0};
    int npos = 0;
    ingot_quantize_params qp = ingot_quantize_default_params();
    progress_state st = {0};
    for (int i = 1; i < argc; i++) {
        const char *val = NULL;
        bool bad = false;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--pure")) {
            qp.pure = true;
        } else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
            st.quiet = true;
        } else if (cli_flag_value(argc, argv, &i, "-t", &val, &bad, "quantize") ||
                   cli_flag_value(argc, argv, &i, "--threads", &val, &bad, "quantize")) {
            long t;
            if (bad || !cli_parse_int("quantize", "-t", val, 1, 1024, &t)) return 2;
            qp.n_threads = (int32_t)t;
        } else if (bad) {
            return 2;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_fail(2, "quantize", "unknown option '%s' (see `ingot quantize --help`)", argv[i]);
        } else if (npos < 3) {
            pos[npos++] = argv[i];
        } else {
            return cli_fail(2, "quantize", "too many arguments ('%s'); usage: ingot quantize IN OUT TYPE", argv[i]);
        }
    }
    if (npos < 3) {
        usage(stderr);
        return 2;
    }
    bool known = false;
    for (int32_t i = 0; ingot_quantize_type_name(i, NULL); i++)
        if (!strcasecmp(ingot_quantize_type_name(i, NULL), pos[2])) known = true;
    if (!strcasecmp(pos[2], "Q3_K") || !strcasecmp(pos[2], "Q4_K") || !strcasecmp(pos[2], "Q5_K")) known = true;
    if (!known) {
        char list[512] = "";
        size_t used = 0;
        for (int32_t i = 0; ingot_quantize_type_name(i, NULL) && used < sizeof list; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? " " : "",
                                     ingot_quantize_type_name(i, NULL));
        return cli_fail(2, "quantize", "unknown type '%s' (known: %s)", pos[2], list);
    }
    st.tty = isatty(STDERR_FILENO);
    ingot_error err = {0};
    ingot_quantize_result res = {0};
    ingot_status s = ingot_quantize_file(pos[0], pos[1], pos[2], &qp, on_progress, &st, &res, &err);
    if (s) {
        if (st.tty && !st.quiet) fputc('\n', stderr);
        return cli_fail(1, "quantize", "%s", err.message);
    }
    char in[32], out[32];
    mib(in, sizeof in, res.in_bytes);
    mib(out, sizeof out, res.out_bytes);
    printf("ingot quantize: wrote %s (%s%s): %d tensors (%d converted, %d kept%s), %s -> %s (%.2f bits per weight "
           "on average) in %.1f s\n",
           pos[1], res.file_type, qp.pure ? ", pure" : "", (int)res.n_tensors, (int)res.n_converted, (int)res.n_copied,
           res.n_fallback ? ", some with fallback types" : "", in, out,
           st.n_weights > 0 ? 8.0 * (double)res.out_bytes / st.n_weights : 0.0,
           res.seconds);
    return 0;
}
