/* `ingot template`: renders a chat template file with a JSON context read
 * from standard input, exactly as the library renders it for a model
 * (and as Python Jinja2 does under Hugging Face's apply_chat_template), so
 * a template can be tried and debugged without loading a model. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char *const CMD = "template";

static void help(FILE *f) {
    fprintf(f,
            "usage: ingot template render FILE.jinja [--now YYYY-MM-DDTHH:MM[:SS]] < context.json\n"
            "       ingot template check FILE.jinja\n"
            "\n"
            "render  prints the template rendered with the variables of the JSON object\n"
            "        read from standard input, byte for byte (no newline is added).\n"
            "check   only parses the template and reports its first syntax error.\n"
            "\n"
            "The context is what a chat template sees, for example:\n"
            "  {\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},\n"
            "                {\"role\": \"user\", \"content\": \"Hi!\"}],\n"
            "   \"add_generation_prompt\": true, \"bos_token\": \"<s>\", \"eos_token\": \"</s>\",\n"
            "   \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", ...}}]}\n"
            "A variable left out (\"tools\" when there are none) is undefined, as in\n"
            "Jinja2; extra variables such as \"enable_thinking\": false are passed on.\n"
            "\n"
            "Options:\n"
            "  --now TIME      pin the clock strftime_now() reads (e.g. 2026-01-15T09:30),\n"
            "                  so a rendering with today's date is reproducible\n"
            "  --context FILE  read the context from FILE instead of standard input\n"
            "  -h, --help      this help\n"
            "\n"
            "The supported Jinja subset is described in docs/TEMPLATES.md.\n"
            "\n"
            "Examples:\n"
            "  echo '{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"add_generation_prompt\":true}' \\\n"
            "    | ingot template render qwen2.5.jinja\n"
            "  ingot template check my-template.jinja\n"
            "\n"
            "Exit status: 0 ok; 1 the template failed to parse or render, or the context\n"
            "is not a JSON object (the message is on stderr); 2 bad usage.\n");
}

/* YYYY-MM-DDTHH:MM[:SS] (a space may replace the T) -> epoch seconds (UTC). */
static bool parse_now(const char *s, int64_t *out) {
    int y, mo, d, h, mi, sec = 0, used = 0;
    char sep;
    if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &used) != 6) return false;
    if (s[used] == ':') {
        int more = 0;
        if (sscanf(s + used, ":%2d%n", &sec, &more) != 1) return false;
        used += more;
    }
    if (s[used] || (sep != 'T' && sep != ' ')) return false;
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
        h < 0 || mi < 0 || sec < 0)
        return false;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1) return false;
    *out = (int64_t)t;
    return true;
}

int cmd_template(int argc, char **argv) {
    const char *action = NULL, *file = NULL, *ctx_path = "-";
    int64_t now = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        bool bad = false;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            return 0;
        }
        if (cli_flag_value(argc, argv, &i, "--now", &v, &bad, CMD)) {
            if (bad) return 2;
            if (!parse_now(v, &now))
                return cli_fail(2, CMD, "--now wants YYYY-MM-DDTHH:MM[:SS], got '%s'", v);
            if (now == 0) now = 1; /* 0 means "the real clock" to the library */
            continue;
        }
        if (cli_flag_value(argc, argv, &i, "--context", &v, &bad, CMD)) {
            if (bad) return 2;
            ctx_path = v;
            continue;
        }
        if (a[0] == '-' && a[1]) return cli_fail(2, CMD, "unknown option '%s' (see `ingot template --help`)", a);
        if (!action) action = a;
        else if (!file) file = a;
        else return cli_fail(2, CMD, "unexpected argument '%s' (see `ingot template --help`)", a);
    }
    if (!action) {
        help(stderr);
        return 2;
    }
    bool render = !strcmp(action, "render");
    if (!render && strcmp(action, "check"))
        return cli_fail(2, CMD, "unknown action '%s': use `render` or `check`", action);
    if (!file) return cli_fail(2, CMD, "%s needs a template file (see `ingot template --help`)", action);

    size_t tlen = 0;
    char *src = cli_read_path(file, &tlen);
    if (!src) return cli_fail(1, CMD, "cannot read template '%s'", file);
    ingot_template *t = NULL;
    ingot_error err = {0};
    if (ingot_template_new(src, tlen, &t, &err) != INGOT_OK) {
        free(src);
        return cli_fail(1, CMD, "%s: %s", file, err.message);
    }
    free(src);
    if (!render) {
        ingot_template_free(t);
        return 0;
    }
    size_t clen = 0;
    char *ctx = cli_read_path(ctx_path, &clen);
    if (!ctx) {
        ingot_template_free(t);
        return cli_fail(1, CMD, "cannot read the context from %s", !strcmp(ctx_path, "-") ? "standard input" : ctx_path);
    }
    if (strlen(ctx) != clen) {
        free(ctx);
        ingot_template_free(t);
        return cli_fail(1, CMD, "the context contains a NUL byte; it must be a JSON object");
    }
    /* whitespace-only input: no variables at all */
    const char *p = ctx;
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
    ingot_template_options o = ingot_template_default_options();
    o.now = now;
    char *out = NULL;
    size_t out_len = 0;
    ingot_status st = ingot_template_render(t, *p ? ctx : NULL, &o, &out, &out_len, &err);
    free(ctx);
    ingot_template_free(t);
    if (st != INGOT_OK) return cli_fail(1, CMD, "%s: %s", file, err.message);
    size_t w = fwrite(out, 1, out_len, stdout);
    free(out);
    if (w != out_len || fflush(stdout) != 0) return cli_fail(1, CMD, "cannot write the output");
    return 0;
}
