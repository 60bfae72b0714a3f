/* `ingot chat`: a terminal conversation with a model. Owns the REPL: line
 * editing and history through GNU readline (its callback interface, so a
 * Ctrl-C at the prompt clears the line instead of killing the program),
 * multi-line input, the slash commands, and the SIGINT flag that stops
 * the answer being generated. When stdin is not a terminal, turns are read
 * line by line without readline, which is how scripts and tests drive it. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cli.h"

static const char *USAGE =
    "usage: ingot chat -m MODEL [options]\n"
    "\n"
    "A conversation in the terminal. Each turn sends the whole conversation\n"
    "through the model's chat template; the part already evaluated is reused\n"
    "from the KV cache. End a line with \\ to continue it on the next line, or\n"
    "wrap several lines in \"\"\" ... \"\"\". Ctrl-C stops the answer being written;\n"
    "Ctrl-D or /exit leaves.\n"
    "\n"
    "commands:\n"
    "  /help          this list\n"
    "  /system TEXT   set the system prompt (no TEXT: remove it)\n"
    "  /reset         forget the conversation\n"
    "  /stats         metrics of the last answer\n"
    "  /exit          leave (also /quit, /bye)\n"
    "\n"
    "options:\n"
    "  --verbose               print the metrics to stderr after each answer\n"
    "%s";

/* Set by SIGINT, read by the piece callback and the prompt loop. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

typedef struct chat {
    cli_gen_opts *o;
    ingot_backend *s;
    ingot_message *msgs; /* role and content are malloc'ed */
    int32_t n_msgs, cap_msgs;
    char *system;
    ingot_metrics last;
    bool have_last;
    bool tty;
    bool verbose;
    /* the answer being generated */
    char *answer;
    size_t len, cap;
    bool oom;
    bool ends_newline;
} chat;

static char *dup_str(const char *s) {
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

static bool add_msg(chat *c, const char *role, const char *content) {
    if (c->n_msgs == c->cap_msgs) {
        int32_t cap = c->cap_msgs ? c->cap_msgs * 2 : 16;
        ingot_message *m = realloc(c->msgs, (size_t)cap * sizeof *m);
        if (!m) return false;
        c->msgs = m;
        c->cap_msgs = cap;
    }
    char *r = dup_str(role), *t = dup_str(content);
    if (!r || !t) {
        free(r);
        free(t);
        return false;
    }
    c->msgs[c->n_msgs].role = r;
    c->msgs[c->n_msgs].content = t;
    c->n_msgs++;
    return true;
}

static void pop_msg(chat *c) {
    if (c->n_msgs == 0) return;
    c->n_msgs--;
    free((char *)c->msgs[c->n_msgs].role);
    free((char *)c->msgs[c->n_msgs].content);
}

static void clear_msgs(chat *c) {
    while (c->n_msgs) pop_msg(c);
}

static bool on_piece(const char *p, size_t n, void *user) {
    chat *c = user;
    if (interrupted) return false;
    if (n == 0) return true;
    fwrite(p, 1, n, stdout);
    fflush(stdout);
    c->ends_newline = p[n - 1] == '\n';
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        while (cap < c->len + n + 1) cap *= 2;
        char *t = realloc(c->answer, cap);
        if (!t) {
            c->oom = true;
            return false;
        }
        c->answer = t;
        c->cap = cap;
    }
    memcpy(c->answer + c->len, p, n);
    c->len += n;
    c->answer[c->len] = 0;
    return !interrupted;
}

static void turn(chat *c, const char *text) {
    if (!add_msg(c, "user", text)) {
        cli_fail(1, "chat", "out of memory");
        return;
    }
    c->len = 0;
    c->oom = false;
    c->ends_newline = true;
    if (c->answer) c->answer[0] = 0;
    c->o->gp.messages = c->msgs;
    c->o->gp.n_messages = c->n_msgs;
    c->o->gp.system = c->system;
    interrupted = 0;
    ingot_status st = ingot_backend_generate(c->s, &c->o->gp, on_piece, c, &c->last);
    c->have_last = true;
    bool cancelled = st == INGOT_E_CANCELLED || (interrupted && st == INGOT_OK);
    interrupted = 0;
    if (c->len > 0 && !c->ends_newline) fputc('\n', stdout);
    if (cancelled && c->tty) fputs("[stopped]\n", stdout);
    fflush(stdout);
    if (c->verbose) cli_print_metrics(stderr, &c->last);
    if (c->last.generated_tokens == 0 && st != INGOT_OK && !cancelled) {
        /* Nothing was answered (the prompt failed): the turn never happened. */
        pop_msg(c);
    } else if (!add_msg(c, "assistant", c->answer ? c->answer : "")) {
        cli_fail(1, "chat", "out of memory");
    }
    if (c->oom) cli_fail(1, "chat", "out of memory collecting the answer");
    else if (st != INGOT_OK && !cancelled) {
        cli_fail(1, "chat", "%s", ingot_backend_errmsg(c->s));
        if (st == INGOT_E_CONTEXT_FULL) fprintf(stderr, "(use /reset to start a new conversation)\n");
    }
}

/* Runs a slash command; false when the chat should end. */
static bool command(chat *c, const char *line) {
    const char *arg = line;
    while (*arg && *arg != ' ' && *arg != '\t') arg++;
    size_t n = (size_t)(arg - line);
    while (*arg == ' ' || *arg == '\t') arg++;
#define IS(name) (n == strlen(name) && !strncmp(line, name, n))
    if (IS("/exit") || IS("/quit") || IS("/bye")) return false;
    if (IS("/help") || IS("/?")) {
        printf("/help          this list\n"
               "/system TEXT   set the system prompt (no TEXT: remove it)\n"
               "/reset         forget the conversation\n"
               "/stats         metrics of the last answer\n"
               "/exit          leave (also Ctrl-D)\n"
               "End a line with \\ to continue it, or wrap lines in \"\"\" ... \"\"\".\n"
               "Ctrl-C stops an answer.\n");
    } else if (IS("/reset") || IS("/clear")) {
        clear_msgs(c);
        ingot_backend_reset(c->s);
        printf("conversation cleared\n");
    } else if (IS("/system")) {
        free(c->system);
        c->system = *arg ? dup_str(arg) : NULL;
        printf(*arg ? "system prompt set\n" : "system prompt removed\n");
    } else if (IS("/stats")) {
        if (c->have_last) cli_print_metrics(stdout, &c->last);
        else printf("no answer yet\n");
    } else {
        printf("unknown command %.*s (try /help)\n", (int)n, line);
    }
#undef IS
    fflush(stdout);
    return true;
}

/* Assembles one turn from input lines: a trailing backslash continues the
 * line, and """ opens a block that runs to the next """. */
typedef struct input {
    char *buf;
    size_t len, cap;
    bool in_block;  /* inside """ ... """ */
    bool pending;   /* some lines gathered, turn not complete */
} input;

static bool input_put(input *in, const char *s, size_t n) {
    if (in->len + n + 1 > in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 256;
        while (cap < in->len + n + 1) cap *= 2;
        char *b = realloc(in->buf, cap);
        if (!b) return false;
        in->buf = b;
        in->cap = cap;
    }
    memcpy(in->buf + in->len, s, n);
    in->len += n;
    in->buf[in->len] = 0;
    return true;
}

static void input_clear(input *in) {
    in->len = 0;
    if (in->buf) in->buf[0] = 0;
    in->in_block = in->pending = false;
}

/* Adds one line (without its newline); true when a turn is complete in
 * in->buf. */
static bool input_line(input *in, const char *line) {
    size_t n = strlen(line);
    if (n && line[n - 1] == '\r') n--;
    if (in->in_block) {
        const char *end = n >= 3 && !strncmp(line + n - 3, "\"\"\"", 3) ? line + n - 3 : NULL;
        if (!end) {
            input_put(in, line, n);
            input_put(in, "\n", 1);
            return false;
        }
        input_put(in, line, (size_t)(end - line));
        /* A closing """ on its own line ends the text, not one more line. */
        if (end == line && in->len && in->buf[in->len - 1] == '\n') in->buf[--in->len] = 0;
        in->in_block = in->pending = false;
        return true;
    }
    if (!in->pending && n >= 3 && !strncmp(line, "\"\"\"", 3)) {
        /* """text""" on one line is a complete turn too */
        if (n >= 6 && !strncmp(line + n - 3, "\"\"\"", 3)) {
            input_put(in, line + 3, n - 6);
            return true;
        }
        in->in_block = in->pending = true;
        if (n > 3) {
            input_put(in, line + 3, n - 3);
            input_put(in, "\n", 1);
        }
        return false;
    }
    if (n && line[n - 1] == '\\') {
        input_put(in, line, n - 1);
        input_put(in, "\n", 1);
        in->pending = true;
        return false;
    }
    input_put(in, line, n);
    in->pending = false;
    return true;
}

/* Handles a complete input; false when the chat should end. */
static bool handle(chat *c, input *in) {
    const char *t = in->buf ? in->buf : "";
    bool go_on = true;
    const char *p = t;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '/' && !strchr(p, '\n')) go_on = command(c, p);
    else if (*p) turn(c, t);
    input_clear(in);
    return go_on;
}

/* ---- terminal mode (readline, callback interface) ---- */

static char *line_read;
static bool line_ready;

static void rl_handler(char *line) {
    line_read = line;
    line_ready = true;
    /* Give the terminal back (echo, Ctrl-C) while the answer streams. */
    rl_callback_handler_remove();
}

static void repl_tty(chat *c) {
    input in = {0};
    rl_catch_signals = 0; /* our SIGINT handler decides */
    for (;;) {
        line_ready = false;
        line_read = NULL;
        rl_callback_handler_install(in.pending ? "... " : ">>> ", rl_handler);
        while (!line_ready) {
            fd_set fds;
            FD_ZERO(&fds);
            FD_SET(STDIN_FILENO, &fds);
            int r = select(STDIN_FILENO + 1, &fds, NULL, NULL, NULL);
            if (r < 0) {
                if (errno != EINTR) break;
                if (interrupted) {
                    /* Ctrl-C at the prompt drops the line being typed. */
                    interrupted = 0;
                    input_clear(&in);
                    rl_free_line_state();
                    rl_callback_sigcleanup();
                    rl_replace_line("", 0);
                    fputs("^C\n", stdout);
                    rl_callback_handler_remove();
                    rl_callback_handler_install(">>> ", rl_handler);
                }
                continue;
            }
            rl_callback_read_char();
        }
        if (!line_ready) {
            rl_callback_handler_remove();
            break;
        }
        if (!line_read) { /* Ctrl-D */
            fputc('\n', stdout);
            break;
        }
        bool complete = input_line(&in, line_read);
        free(line_read);
        line_read = NULL;
        if (!complete) continue;
        if (in.len) add_history(in.buf);
        if (!handle(c, &in)) break;
    }
    free(in.buf);
}

/* ---- scripted mode ---- */

static void repl_lines(chat *c) {
    input in = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        if (n > 0 && line[n - 1] == '\n') line[n - 1] = 0;
        if (input_line(&in, line) && !handle(c, &in)) break;
    }
    if (in.pending && in.len) handle(c, &in); /* input ended inside a block */
    free(line);
    free(in.buf);
}

int cmd_chat(int argc, char **argv) {
    cli_gen_opts o;
    cli_gen_opts_init(&o);
    chat c;
    memset(&c, 0, sizeof c);
    c.o = &o;
    int rc = 2;
    bool exit_now;
    if ((rc = cli_gen_start(&o, "chat", USAGE, argc, argv, &exit_now)) != 0 || exit_now) goto done;
    rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if (!strcmp(a, "--verbose")) {
            c.verbose = true;
            o.verbose = true;
        } else if ((r = cli_gen_opts_parse(&o, "chat", argc, argv, &i)) != 0) {
            if (r < 0) goto done;
        } else {
            cli_fail(2, "chat", "unknown option '%s' (see `ingot chat --help`)", a);
            goto done;
        }
    }
    if (o.gp.system) {
        c.system = dup_str(o.gp.system);
        o.gp.system = NULL;
    }
    rc = cli_gen_open(&o, "chat", &c.s);
    if (rc) goto done;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: select() must wake up */
    struct sigaction old;
    sigaction(SIGINT, &sa, &old);

    c.tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (c.tty) {
        printf("ingot chat — /help for commands, Ctrl-D or /exit to leave\n");
        repl_tty(&c);
    } else {
        repl_lines(&c);
    }
    sigaction(SIGINT, &old, NULL);
    rc = 0;
done:
    clear_msgs(&c);
    free(c.msgs);
    free(c.system);
    free(c.answer);
    ingot_backend_free(c.s);
    cli_gen_opts_free(&o);
    return rc;
}
