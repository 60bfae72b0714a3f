/* `ingot run`: one prompt in, the generated text out on stdout, streamed
 * as it comes. Also owns the generation flags shared with `ingot chat`
 * (model, sampling, stop strings, context) and the metrics printers. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char *USAGE =
    "usage: ingot run -m MODEL [-p] PROMPT [options]\n"
    "       ingot run -m MODEL -f FILE [options]\n"
    "\n"
    "Generates a continuation of the prompt (given with -p or as the one plain\n"
    "argument, read from -f FILE, or from stdin when it is not a terminal; one\n"
    "final newline of a file or stdin is dropped) and prints only the generated\n"
    "text to stdout, as it comes.\n"
    "A model with a chat template gets the prompt as a user message; a model\n"
    "without one (or --raw) gets the prompt text as is, after BOS.\n"
    "\n"
    "options:\n"
    "  -p, --prompt TEXT       the prompt (or give it as the one plain argument)\n"
    "  -f, --file FILE         read the prompt from FILE ('-': stdin)\n"
    "  --json                  print one JSON object {text, finish_reason, metrics}\n"
    "                          instead of streaming\n"
    "  --verbose               print the metrics to stderr at the end\n"
    "%s"
    "\n"
    "Exit status: 0 done, 1 the generation failed (bad model file, template\n"
    "error, context full), 2 bad usage.\n"
    "\n"
    "example:\n"
    "  ingot run -m stories260K.gguf \"Once upon a time\" --temp 0 -n 64\n";

const char *CLI_GEN_USAGE =
    "  -m, --model PATH        GGUF model file\n"
    "  --system TEXT           system prompt\n"
    "  --raw                   no chat template: tokenize the text as is\n"
    "  --chat-template FILE    Jinja chat template to use instead of the model's\n"
    "  -n, --max-tokens N      tokens to generate at most (default 512; -1: no limit)\n"
    "  --temp T                temperature (default 0.7; 0: greedy, plain argmax)\n"
    "  --top-k K               keep the K most likely tokens (default 40; 0: off)\n"
    "  --top-p P               nucleus sampling (default 0.9; 1: off)\n"
    "  --min-p P               drop tokens below P x the best one's probability (default 0)\n"
    "  --repeat-penalty X      penalize repeated tokens (default 1.1; 1: off)\n"
    "  --repeat-last-n N       window of the penalties (default 64; -1: all)\n"
    "  --presence-penalty X    subtract X from every token already seen (default 0)\n"
    "  --frequency-penalty X   subtract X per occurrence (default 0)\n"
    "  --logit-bias ID=BIAS    add BIAS to token ID's logit ('-inf' bans it); repeatable\n"
    "  --seed N                sampling seed (default: random); same seed, same text\n"
    "  --stop TEXT             stop before TEXT (never printed); repeatable\n"
    "  -t, --threads N         threads (default: all cores)\n"
    "  -c, --ctx-size N        context length (default: the model's, at most 4096)\n"
    "  --backend NAME          auto (default), cpu, mlx, remote, or a configured remote\n"
    "                          (see `ingot doctor`); MODEL may also be ollama://NAME,\n"
    "                          lmstudio://NAME, openai+http://HOST:PORT/v1#NAME\n"
    "  --config FILE           settings file (default: $XDG_CONFIG_HOME/ingot/config.json;\n"
    "                          `ingot config show` lists every setting and its source)\n"
    "MODEL is a .gguf file or a hub reference (org/repo, org/repo:Q4_K_M, ...),\n"
    "pulled into the Hugging Face cache on first use.\n";

void cli_gen_opts_init(cli_gen_opts *o) {
    memset(o, 0, sizeof *o);
    o->sp = ingot_session_default_params();
    o->gp = ingot_generate_default_params();
}

int cli_gen_opts_config(cli_gen_opts *o, const char *cmd, int argc, char **argv) {
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) return cli_fail(2, cmd, "--config needs a value");
            path = argv[i + 1];
        } else if (!strncmp(argv[i], "--config=", 9)) {
            path = argv[i] + 9;
        }
    }
    int rc = cli_config_load(cmd, path, &o->cfg);
    if (rc) return rc;
    ingot_config_apply(o->cfg, &o->gp, &o->sp);
    return 0;
}

int cli_gen_start(cli_gen_opts *o, const char *cmd, const char *usage, int argc, char **argv, bool *exit_now) {
    *exit_now = false;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf(usage, CLI_GEN_USAGE);
            *exit_now = true;
            return 0;
        }
    return cli_gen_opts_config(o, cmd, argc, argv);
}

void cli_gen_opts_free(cli_gen_opts *o) {
    free(o->stop);
    free(o->bias);
    free(o->template_src);
    free(o->resolved);
    ingot_config_free(o->cfg);
    memset(o, 0, sizeof *o);
}

static bool parse_float_flag(const char *cmd, const char *flag, const char *v, float *out) {
    double d;
    if (!cli_parse_float(cmd, flag, v, &d)) return false;
    if (!isfinite(d)) {
        cli_fail(2, cmd, "%s expects a finite number, got '%s'", flag, v);
        return false;
    }
    *out = (float)d;
    return true;
}

static bool push_ptr(void **arr, int32_t *n, size_t elt, const void *item) {
    char *p = realloc(*arr, (size_t)(*n + 1) * elt);
    if (!p) return false;
    memcpy(p + (size_t)*n * elt, item, elt);
    *arr = p;
    (*n)++;
    return true;
}

int cli_gen_opts_parse(cli_gen_opts *o, const char *cmd, int argc, char **argv, int *i) {
    const char *v;
    bool bad = false;
    ingot_sampler_params *sp = &o->gp.sampling;
    long l = 0;
/* A flag whose value is missing was reported by cli_flag_value. */
#define FLAG(name) (cli_flag_value(argc, argv, i, name, &v, &bad, cmd) && (v || (bad = true, false)))
    if (bad) return -1;
    if (FLAG("-m") || FLAG("--model")) {
        o->model = v;
    } else if (FLAG("--config")) {
        /* read before the other flags by cli_gen_opts_config */
    } else if (FLAG("--backend")) {
        ingot_error err = {0};
        if (!o->cfg) return cli_fail(2, cmd, "--backend: no configuration loaded"), -1;
        if (ingot_config_set(o->cfg, "inference.backend", v, "--backend", &err) != INGOT_OK)
            return cli_fail(2, cmd, "%s", err.message), -1;
    } else if (FLAG("--system")) {
        o->gp.system = v;
    } else if (!strcmp(argv[*i], "--raw")) {
        o->gp.raw = true;
    } else if (FLAG("--chat-template")) {
        o->template_file = v;
    } else if (FLAG("-n") || FLAG("--max-tokens")) {
        if (!cli_parse_int(cmd, "-n", v, -1, INT32_MAX, &l)) return -1;
        o->gp.max_tokens = (int32_t)l;
    } else if (FLAG("--temp")) {
        if (!parse_float_flag(cmd, "--temp", v, &sp->temperature)) return -1;
        if (sp->temperature < 0) return cli_fail(2, cmd, "--temp must be >= 0, got '%s'", v), -1;
    } else if (FLAG("--top-k")) {
        if (!cli_parse_int(cmd, "--top-k", v, 0, INT32_MAX, &l)) return -1;
        sp->top_k = (int32_t)l;
    } else if (FLAG("--top-p")) {
        if (!parse_float_flag(cmd, "--top-p", v, &sp->top_p)) return -1;
        if (!(sp->top_p >= 0 && sp->top_p <= 1))
            return cli_fail(2, cmd, "--top-p must be between 0 and 1, got '%s'", v), -1;
    } else if (FLAG("--min-p")) {
        if (!parse_float_flag(cmd, "--min-p", v, &sp->min_p)) return -1;
        if (!(sp->min_p >= 0 && sp->min_p <= 1))
            return cli_fail(2, cmd, "--min-p must be between 0 and 1, got '%s'", v), -1;
    } else if (FLAG("--repeat-penalty")) {
        if (!parse_float_flag(cmd, "--repeat-penalty", v, &sp->repeat_penalty)) return -1;
        if (!(sp->repeat_penalty > 0))
            return cli_fail(2, cmd, "--repeat-penalty must be > 0, got '%s'", v), -1;
    } else if (FLAG("--repeat-last-n")) {
        if (!cli_parse_int(cmd, "--repeat-last-n", v, -1, INT32_MAX, &l)) return -1;
        sp->repeat_last_n = (int32_t)l;
    } else if (FLAG("--presence-penalty")) {
        if (!parse_float_flag(cmd, "--presence-penalty", v, &sp->presence_penalty)) return -1;
    } else if (FLAG("--frequency-penalty")) {
        if (!parse_float_flag(cmd, "--frequency-penalty", v, &sp->frequency_penalty)) return -1;
    } else if (FLAG("--logit-bias")) {
        const char *eq = strchr(v, '=');
        char *end;
        errno = 0;
        long id = strtol(v, &end, 10);
        if (!eq || end != eq || end == v || errno || id < 0 || id > INT32_MAX)
            return cli_fail(2, cmd, "--logit-bias expects ID=BIAS, got '%s'", v), -1;
        ingot_logit_bias b = {(int32_t)id, 0};
        if (!strcmp(eq + 1, "-inf") || !strcmp(eq + 1, "-INF")) {
            b.bias = -INFINITY;
        } else if (!parse_float_flag(cmd, "--logit-bias", eq + 1, &b.bias)) {
            return -1;
        }
        if (!push_ptr((void **)&o->bias, &o->n_bias, sizeof b, &b)) return cli_fail(1, cmd, "out of memory"), -1;
    } else if (FLAG("--seed")) {
        char *end;
        errno = 0;
        unsigned long long s = strtoull(v, &end, 10);
        if (!*v || *end || errno || v[0] == '-')
            return cli_fail(2, cmd, "--seed expects a non-negative integer, got '%s'", v), -1;
        sp->seed = (uint64_t)s;
        if (sp->seed == INGOT_SEED_RANDOM) return cli_fail(2, cmd, "--seed %s is reserved for 'random'", v), -1;
    } else if (FLAG("--stop")) {
        if (!*v) return cli_fail(2, cmd, "--stop needs a non-empty string"), -1;
        if (!push_ptr((void **)&o->stop, &o->n_stop, sizeof(char *), &v)) return cli_fail(1, cmd, "out of memory"), -1;
    } else if (FLAG("-t") || FLAG("--threads")) {
        if (!cli_parse_int(cmd, "--threads", v, 1, 256, &l)) return -1;
        o->sp.context.n_threads = (int32_t)l;
    } else if (FLAG("-c") || FLAG("--ctx-size")) {
        if (!cli_parse_int(cmd, "--ctx-size", v, 1, 1 << 22, &l)) return -1;
        o->sp.context.n_ctx = (int32_t)l;
    } else {
        return bad ? -1 : 0; /* a known flag without its value lands here too */
    }
#undef FLAG
    return 1;
}

static void report_attempt(const ingot_backend_attempt *a, void *user) {
    const cli_gen_opts *o = user;
    /* Failed steps are already logged as warnings by the library. */
    if (o->verbose && a->status == INGOT_OK)
        fprintf(stderr, "ingot: backend %s: %s%s%s\n", a->backend, a->status == INGOT_OK ? "ok" : "unavailable",
                a->reason[0] ? " — " : "", a->reason);
}

int cli_gen_open(cli_gen_opts *o, const char *cmd, ingot_backend **out) {
    *out = NULL;
    if (!o->model) return cli_fail(2, cmd, "missing -m MODEL (see `ingot %s --help`)", cmd);
    /* A hub reference is pulled here, with a progress bar, unless it names
     * a backend scheme (ollama://, openai+http://, ...). */
    const char *scheme = strstr(o->model, "://");
    if ((!scheme || !strncmp(o->model, "hf://", 5)) && ingot_hub_is_reference(o->model)) {
        int rc = cli_hub_resolve(cmd, o->model, &o->resolved);
        if (rc) return rc;
    }
    if (o->template_file) {
        char *buf = cli_read_path(o->template_file, NULL);
        if (!buf) return cli_fail(1, cmd, "cannot read %s: %s", o->template_file, strerror(errno));
        o->template_src = buf;
        o->sp.chat_template = buf;
    }
    o->gp.stop = o->stop;
    o->gp.n_stop = o->n_stop;
    o->gp.sampling.logit_bias = o->bias;
    o->gp.sampling.n_logit_bias = o->n_bias;
    ingot_error err = {0};
    ingot_backend_open_params op = {NULL, &o->sp, report_attempt, o};
    if (ingot_backend_open_for_model(o->resolved ? o->resolved : o->model, o->cfg, &op, out, &o->report, &err) !=
        INGOT_OK)
        return cli_fail(1, cmd, "%s", err.message);
    return 0;
}
void cli_print_metrics(FILE *f, const ingot_metrics *m) {
    fprintf(f,
            "load:             %.1f ms\n"
            "prompt:           %d tokens (%d reused), %.1f tok/s\n"
            "generation:       %d tokens, %.1f tok/s\n"
            "time to first:    %.1f ms\n"
            "total:            %.1f ms\n"
            "peak memory:      %.1f MB\n"
            "finish:           %s\n"
            "seed:             %llu\n",
            m->load_ms, m->prompt_tokens, m->reused_tokens, m->prompt_tps, m->generated_tokens, m->gen_tps,
            m->ttft_ms, m->total_ms, m->peak_rss_mb, ingot_finish_reason_str(m->finish),
            (unsigned long long)m->seed);
}

void cli_json_metrics(FILE *f, const ingot_metrics *m) {
    fprintf(f,
            "{\"prompt_tokens\": %d, \"reused_tokens\": %d, \"generated_tokens\": %d, "
            "\"load_ms\": %.3f, \"ttft_ms\": %.3f, \"prompt_tps\": %.3f, \"gen_tps\": %.3f, "
            "\"total_ms\": %.3f, \"peak_rss_mb\": %.3f, \"seed\": %llu, \"finish_reason\": \"%s\"}",
            m->prompt_tokens, m->reused_tokens, m->generated_tokens, m->load_ms, m->ttft_ms, m->prompt_tps,
            m->gen_tps, m->total_ms, m->peak_rss_mb, (unsigned long long)m->seed,
            ingot_finish_reason_str(m->finish));
}

/* ---- run ---- */

typedef struct run_out {
    bool stream; /* print pieces as they come (else collect for --json) */
    char *text;
    size_t len, cap;
    bool oom;
    bool ends_newline;
} run_out;

static bool on_piece(const char *p, size_t n, void *user) {
    run_out *o = user;
    if (n == 0) return true;
    o->ends_newline = p[n - 1] == '\n';
    if (o->stream) {
        fwrite(p, 1, n, stdout);
        fflush(stdout);
        return true;
    }
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 1024;
        while (cap < o->len + n + 1) cap *= 2;
        char *t = realloc(o->text, cap);
        if (!t) {
            o->oom = true;
            return false;
        }
        o->text = t;
        o->cap = cap;
    }
    memcpy(o->text + o->len, p, n);
    o->len += n;
    o->text[o->len] = 0;
    return true;
}

int cmd_run(int argc, char **argv) {
    cli_gen_opts o;
    cli_gen_opts_init(&o);
    const char *prompt = NULL, *file = NULL, *v;
    bool json = false, verbose = false, bad = false;
    int rc = 2;
    bool exit_now;
    if ((rc = cli_gen_start(&o, "run", USAGE, argc, argv, &exit_now)) != 0 || exit_now) goto done;
    rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if (cli_flag_value(argc, argv, &i, "-p", &v, &bad, "run") ||
                   cli_flag_value(argc, argv, &i, "--prompt", &v, &bad, "run")) {
            prompt = v;
        } else if (cli_flag_value(argc, argv, &i, "-f", &v, &bad, "run") ||
                   cli_flag_value(argc, argv, &i, "--file", &v, &bad, "run")) {
            file = v;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--verbose")) {
            verbose = true;
            o.verbose = true;
        } else if ((r = cli_gen_opts_parse(&o, "run", argc, argv, &i)) != 0) {
            if (r < 0) goto done;
        } else if (a[0] != '-') {
            if (prompt) {
                cli_fail(2, "run", "one prompt only: '%s' is a second one (quote a prompt of several words)", a);
                goto done;
            }
            prompt = a;
        } else {
            cli_fail(2, "run", "unknown option '%s' (see `ingot run --help`)", a);
            goto done;
        }
        if (bad) goto done;
    }
    if (prompt && file) {
        cli_fail(2, "run", "-p and -f cannot be used together");
        goto done;
    }
    if (!o.model) {
        cli_fail(2, "run", "missing -m MODEL (see `ingot run --help`)");
        goto done;
    }
    char *owned = NULL;
    if (file) {
        FILE *f = strcmp(file, "-") ? fopen(file, "rb") : stdin;
        if (!f) {
            rc = cli_fail(1, "run", "cannot open %s: %s", file, strerror(errno));
            goto done;
        }
        owned = cli_read_all(f, NULL);
        if (f != stdin) fclose(f);
        if (!owned) {
            rc = cli_fail(1, "run", "cannot read %s", file);
            goto done;
        }
        prompt = owned;
    } else if (!prompt) {
        if (isatty(STDIN_FILENO)) {
            cli_fail(2, "run", "no prompt: give -p TEXT, -f FILE, or pipe the prompt on stdin");
            goto done;
        }
        owned = cli_read_all(stdin, NULL);
        if (!owned) {
            rc = cli_fail(1, "run", "cannot read the prompt from stdin");
            goto done;
        }
        prompt = owned;
    }

    if (owned) {
        /* Files and pipes end with a newline the user did not mean as
         * part of the prompt (as llama.cpp's -f, one is dropped). */
        size_t n = strlen(owned);
        if (n && owned[n - 1] == '\n') owned[--n] = 0;
        if (n && owned[n - 1] == '\r') owned[--n] = 0;
    }

    ingot_backend *s = NULL;
    rc = cli_gen_open(&o, "run", &s);
    if (rc) {
        free(owned);
        goto done;
    }
    o.gp.prompt = prompt;
    run_out out = {.stream = !json};
    ingot_metrics m;
    ingot_status st = ingot_backend_generate(s, &o.gp, on_piece, &out, &m);
    if (json) {
        if (out.oom) {
            rc = cli_fail(1, "run", "out of memory collecting the output");
        } else {
            fputs("{\"text\": ", stdout);
            cli_json_str(stdout, out.text ? out.text : "", out.len);
            printf(", \"finish_reason\": \"%s\", \"metrics\": ", ingot_finish_reason_str(m.finish));
            cli_json_metrics(stdout, &m);
            if (st != INGOT_OK) {
                fputs(", \"error\": ", stdout);
                const char *msg = ingot_backend_errmsg(s);
                cli_json_str(stdout, msg, strlen(msg));
            }
            fputs("}\n", stdout);
        }
    }
    if (!json && isatty(STDOUT_FILENO) && m.generated_tokens > 0 && !out.ends_newline) fputc('\n', stdout);
    fflush(stdout);
    if (verbose) cli_print_metrics(stderr, &m);
    if (st == INGOT_OK) {
        rc = 0;
    } else {
        rc = cli_fail(1, "run", "%s", ingot_backend_errmsg(s));
    }
    free(out.text);
    free(owned);
    ingot_backend_free(s);
done:
    cli_gen_opts_free(&o);
    return rc;
}
