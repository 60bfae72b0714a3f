/* `ingot pull`: downloads models from the Hugging Face hub into the shared
 * cache, with a progress bar on a terminal (bytes, rate, ETA), plain lines
 * when stderr is not one, and JSON lines with --json. Also owns
 * cli_hub_resolve, which every `-m REF` can use to pull on first use with
 * the same display. Ctrl-C stops cleanly; the next pull resumes. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char *USAGE =
    "usage: ingot pull [options] REF...\n"
    "\n"
    "Downloads a model from the Hugging Face hub into the shared cache\n"
    "($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub), where\n"
    "huggingface-cli, llama.cpp and mlx-lm find it too, and prints its path.\n"
    "\n"
    "REF is one of:\n"
    "  org/repo                 a GGUF repo: its Q4_K_M file, else the best fit for\n"
    "                           this machine's RAM (it says which and why);\n"
    "                           a safetensors/MLX repo: the whole snapshot\n"
    "                           (config, tokenizer and weight files)\n"
    "  org/repo:Q8_0            the GGUF file of that quantization\n"
    "  org/repo:FILE.gguf       a file by name (or org/repo/path/FILE.gguf)\n"
    "  hf://org/repo/FILE.gguf  the same, as a URL\n"
    "  org/repo@REV...          a branch, tag or commit instead of main\n"
    "  ALIAS                    a catalog model, e.g. qwen2.5:0.5b\n"
    "                           (see `ingot list --catalog`)\n"
    "\n"
    "options:\n"
    "  --json          progress events and the result as JSON lines on stdout\n"
    "  -q, --quiet     no progress display\n"
    "  --parallel N    files downloaded at once (default 4)\n"
    "  --retries N     resumed attempts after a dropped connection (default 3)\n"
    "  -h, --help      this help\n"
    "\n"
    "A pull that stops (network loss, Ctrl-C, a full disk) keeps what arrived\n"
    "and the next pull resumes from there. Every file is verified (sha256 for\n"
    "large files, size for the rest) before it appears in the cache; a pull of\n"
    "something already cached downloads nothing.\n"
    "\n"
    "environment:\n"
    "  HF_TOKEN        token for gated or private repos (create one at\n"
    "                  https://huggingface.co/settings/tokens)\n"
    "  HF_ENDPOINT     the hub's URL (default https://huggingface.co), e.g. a mirror\n"
    "  HF_HUB_CACHE    the cache directory; HF_HOME its parent\n"
    "  HF_HUB_OFFLINE  1 = never use the network, only the cache\n"
    "  https_proxy, http_proxy, no_proxy   proxies\n"
    "\n"
    "examples:\n"
    "  ingot pull qwen2.5:0.5b\n"
    "  ingot pull bartowski/Llama-3.2-1B-Instruct-GGUF:Q8_0\n"
    "  ingot pull mlx-community/Qwen2.5-3B-Instruct-4bit\n";

/* How progress is shown: a redrawn bar on a terminal, event lines
 * otherwise, or JSON lines on stdout. */
typedef struct cli_progress {
    bool tty, json, quiet;
    bool bar_drawn;
    char last_line[512];
    double last_draw;
    int width;
} cli_progress;

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) { interrupted = 1; }

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

void cli_human_size(uint64_t b, char *buf, size_t n) {
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1000.0 && u < 4) {
        v /= 1000.0;
        u++;
    }
    if (u == 0) snprintf(buf, n, "%llu B", (unsigned long long)b);
    else snprintf(buf, n, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void clear_bar(cli_progress *c) {
    if (c->bar_drawn) fputs("\r\033[K", stderr);
    c->bar_drawn = false;
}

static void draw_bar(cli_progress *c, const ingot_hub_progress *p) {
    char done[32], total[32], rate[32], eta[32], line[512];
    cli_human_size(p->done, done, sizeof done);
    cli_human_size(p->total, total, sizeof total);
    if (p->bytes_per_sec > 0) {
        cli_human_size((uint64_t)p->bytes_per_sec, rate, sizeof rate);
        strcat(rate, "/s");
    } else {
        snprintf(rate, sizeof rate, "-- B/s");
    }
    if (p->eta_sec >= 0) {
        long s = (long)(p->eta_sec + 0.5);
        if (s >= 3600) snprintf(eta, sizeof eta, "ETA %ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
        else snprintf(eta, sizeof eta, "ETA %ld:%02ld", s / 60, s % 60);
    } else {
        snprintf(eta, sizeof eta, "ETA --:--");
    }
    double frac = p->total ? (double)p->done / (double)p->total : 1.0;
    if (frac > 1) frac = 1;
    char bar[64];
    int bw = c->width >= 100 ? 30 : 20;
    int fill = (int)(frac * bw);
    for (int i = 0; i < bw; i++) bar[i] = i < fill ? '#' : '.';
    bar[bw] = 0;
    int n = snprintf(line, sizeof line, "%3d%% [%s] %s / %s  %s  %s", (int)(frac * 100), bar, done, total,
                     rate, eta);
    if (p->files_total > 1 && n > 0 && (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n, "  %d/%d files", p->files_done, p->files_total);
    if ((int)strlen(line) > c->width - 1) line[c->width > 1 ? c->width - 1 : 0] = 0;
    if (c->bar_drawn && !strcmp(line, c->last_line)) return;
    snprintf(c->last_line, sizeof c->last_line, "%s", line);
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    c->bar_drawn = true;
}

static const char *event_name(ingot_hub_event e) {
    switch (e) {
    case INGOT_HUB_EV_START: return "start";
    case INGOT_HUB_EV_FILE_START: return "file_start";
    case INGOT_HUB_EV_WAITING: return "waiting";
    case INGOT_HUB_EV_PROGRESS: return "progress";
    case INGOT_HUB_EV_FILE_DONE: return "file_done";
    case INGOT_HUB_EV_RETRY: return "retry";
    case INGOT_HUB_EV_DONE: return "done";
    }
    return "?";
}

static bool on_progress(const ingot_hub_progress *p, void *user) {
    cli_progress *c = user;
    if (c->quiet) return !interrupted;
    if (c->json) {
        printf("{\"event\":\"%s\",\"repo\":", event_name(p->event));
        cli_json_str(stdout, p->repo, strlen(p->repo));
        if (p->file) {
            printf(",\"file\":");
            cli_json_str(stdout, p->file, strlen(p->file));
            printf(",\"file_done\":%llu,\"file_total\":%llu", (unsigned long long)p->file_done,
                   (unsigned long long)p->file_total);
        }
        if (p->event == INGOT_HUB_EV_FILE_START)
            printf(",\"resumed_from\":%llu", (unsigned long long)p->resumed_from);
        printf(",\"done\":%llu,\"total\":%llu,\"files_done\":%d,\"files_total\":%d,\"bytes_per_sec\":%.0f,"
               "\"eta_sec\":%.1f}\n",
               (unsigned long long)p->done, (unsigned long long)p->total, p->files_done, p->files_total,
               p->bytes_per_sec, p->eta_sec);
        fflush(stdout);
        return !interrupted;
    }
    char a[32], b[32];
    switch (p->event) {
    case INGOT_HUB_EV_START:
        if (p->files_total > 0) {
            cli_human_size(p->total, a, sizeof a);
            fprintf(stderr, "pulling %s: %d file%s, %s\n", p->repo, p->files_total, p->files_total == 1 ? "" : "s", a);
        }
        break;
    case INGOT_HUB_EV_FILE_START:
        if (p->resumed_from > 0) {
            clear_bar(c);
            cli_human_size(p->resumed_from, a, sizeof a);
            cli_human_size(p->file_total, b, sizeof b);
            fprintf(stderr, "resuming %s at %s of %s\n", p->file, a, b);
        } else if (!c->tty) {
            cli_human_size(p->file_total, b, sizeof b);
            fprintf(stderr, "downloading %s (%s)\n", p->file, b);
        }
        break;
    case INGOT_HUB_EV_WAITING:
        clear_bar(c);
        fprintf(stderr, "waiting: another process is downloading %s\n", p->file);
        break;
    case INGOT_HUB_EV_RETRY:
        clear_bar(c);
        fprintf(stderr, "connection lost during %s; resuming\n", p->file);
        break;
    case INGOT_HUB_EV_FILE_DONE:
        clear_bar(c);
        cli_human_size(p->file_total, b, sizeof b);
        fprintf(stderr, "  ok %s (%s)\n", p->file, b);
        break;
    case INGOT_HUB_EV_PROGRESS:
    case INGOT_HUB_EV_DONE:
        break;
    }
    if (c->tty && p->total > 0 && p->event != INGOT_HUB_EV_DONE) {
        double t = now_ms();
        if (p->event != INGOT_HUB_EV_PROGRESS || t - c->last_draw >= 100) {
            draw_bar(c, p);
            c->last_draw = t;
        }
    }
    if (p->event == INGOT_HUB_EV_DONE) clear_bar(c);
    fflush(stderr);
    return !interrupted;
}

static void progress_init(cli_progress *c, bool json, bool quiet) {
    memset(c, 0, sizeof *c);
    c->json = json;
    c->quiet = quiet;
    c->tty = !json && isatty(2);
    c->width = 80;
    struct winsize ws;
    if (c->tty && ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) c->width = ws.ws_col;
}

static void install_sigint(struct sigaction *old) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, old);
}

int cli_hub_resolve(const char *cmd, const char *ref, char **path_out) {
    cli_progress c;
    progress_init(&c, false, !isatty(2));
    ingot_hub_options o = ingot_hub_default_options();
    o.progress = on_progress;
    o.progress_user = &c;
    ingot_error err = {0};
    struct sigaction old;
    interrupted = 0;
    install_sigint(&old);
    ingot_status st = ingot_hub_resolve(ref, &o, path_out, &err);
    sigaction(SIGINT, &old, NULL);
    clear_bar(&c);
    if (st) return cli_fail(1, cmd, "%s", err.message);
    return 0;
}

int cmd_pull(int argc, char **argv) {
    bool json = false, quiet = false, bad = false;
    long parallel = 0, retries = -1;
    const char *refs[64];
    int n_refs = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(USAGE, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
            quiet = true;
        } else if (cli_flag_value(argc, argv, &i, "--parallel", &v, &bad, "pull")) {
            if (bad || !cli_parse_int("pull", "--parallel", v, 1, 16, &parallel)) return 2;
        } else if (cli_flag_value(argc, argv, &i, "--retries", &v, &bad, "pull")) {
            if (bad || !cli_parse_int("pull", "--retries", v, 0, 100, &retries)) return 2;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_fail(2, "pull", "unknown option '%s' (see `ingot pull --help`)", argv[i]);
        } else if (n_refs < 64) {
            refs[n_refs++] = argv[i];
        }
    }
    if (n_refs == 0) {
        fputs(USAGE, stderr);
        return 2;
    }
    cli_progress c;
    progress_init(&c, json, quiet);
    ingot_hub_options o = ingot_hub_default_options();
    o.progress = on_progress;
    o.progress_user = &c;
    o.max_parallel = (int)parallel;
    o.retries = (int)retries;
    struct sigaction old;
    interrupted = 0;
    install_sigint(&old);
    int rc = 0;
    for (int k = 0; k < n_refs; k++) {
        ingot_hub_pull_result r;
        ingot_error err = {0};
        ingot_status st = ingot_hub_pull(refs[k], &o, &r, &err);
        clear_bar(&c);
        if (st == INGOT_E_CANCELLED && interrupted)
            snprintf(err.message, sizeof err.message,
                     "interrupted; what arrived is kept and `ingot pull %s` resumes it", refs[k]);
        if (st) {
            if (json) {
                printf("{\"event\":\"error\",\"ref\":");
                cli_json_str(stdout, refs[k], strlen(refs[k]));
                printf(",\"status\":\"%s\",\"message\":", ingot_status_str(st));
                cli_json_str(stdout, err.message, strlen(err.message));
                printf("}\n");
            }
            cli_fail(1, "pull", "%s", err.message);
            rc = 1;
            if (interrupted) break;
            continue;
        }
        char total[32], got[32];
        cli_human_size(r.bytes_total, total, sizeof total);
        cli_human_size(r.bytes_downloaded, got, sizeof got);
        if (json) {
            printf("{\"event\":\"result\",\"ref\":");
            cli_json_str(stdout, refs[k], strlen(refs[k]));
            const char *keys[] = {"path", "repo", "revision", "commit", "format", "quant", "note"};
            const char *vals[] = {r.path, r.repo, r.revision, r.commit, r.format, r.quant, r.note};
            for (int i = 0; i < 7; i++) {
                printf(",\"%s\":", keys[i]);
                cli_json_str(stdout, vals[i], strlen(vals[i]));
            }
            printf(",\"files\":%d,\"downloaded\":%d,\"bytes_total\":%llu,\"bytes_downloaded\":%llu}\n", r.n_files,
                   r.n_downloaded, (unsigned long long)r.bytes_total, (unsigned long long)r.bytes_downloaded);
            fflush(stdout);
            continue;
        }
        if (r.note[0]) fprintf(stderr, "%s\n", r.note);
        if (r.n_downloaded == 0)
            fprintf(stderr, "%s@%.12s is up to date (%d file%s, %s)\n", r.repo, r.commit, r.n_files,
                    r.n_files == 1 ? "" : "s", total);
        else
            fprintf(stderr, "pulled %s@%.12s: %d file%s, %s (%s downloaded)\n", r.repo, r.commit, r.n_files,
                    r.n_files == 1 ? "" : "s", total, got);
        printf("%s\n", r.path);
    }
    sigaction(SIGINT, &old, NULL);
    return rc;
}
