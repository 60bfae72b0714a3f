/* `ingot config`: shows every effective setting with where its value came
 * from (default, file:line, environment variable, flag), and writes the
 * documented default file. Also owns cli_config_load, the one call other
 * commands use to read settings (--config FILE, then the environment). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

static const char *USAGE =
    "usage: ingot config show [--json] [--config FILE] [--backend NAME] [--set KEY=VALUE]...\n"
    "       ingot config init [--force] [--config FILE | FILE]\n"
    "       ingot config path\n"
    "\n"
    "Settings come from, lowest to highest precedence: defaults, the config file\n"
    "($XDG_CONFIG_HOME/ingot/config.json, else ~/.config/ingot/config.json, or\n"
    "--config FILE), environment variables (INGOT_BACKEND, INGOT_THREADS,\n"
    "INGOT_MAX_TOKENS, INGOT_TEMPERATURE, INGOT_TOP_P, INGOT_TOP_K,\n"
    "INGOT_REPEAT_PENALTY, INGOT_CONTEXT, INGOT_BENCHMARK, INGOT_LOG, INGOT_FALLBACK,\n"
    "INGOT_API_KEY, OLLAMA_HOST), then command-line flags.\n"
    "\n"
    "  show    print every effective setting, its value and where it came from\n"
    "          --json            one JSON object\n"
    "          --backend NAME    as the flag of run/chat (inference.backend)\n"
    "          --set KEY=VALUE   any setting, as a flag would set it\n"
    "  init    write the documented default file (never over an existing one\n"
    "          without --force)\n"
    "  path    print the config file's path\n"
    "\n"
    "Exit status: 0 ok, 1 a bad config file or environment variable, or the file\n"
    "exists (init), 2 bad usage (including a bad --set value).\n";

int cli_config_load(const char *cmd, const char *path, ingot_config **out) {
    ingot_error err = {0};
    if (ingot_config_load(path, NULL, out, &err) != INGOT_OK) return cli_fail(1, cmd, "%s", err.message);
    ingot_log_level lvl = ingot_config_log_level(*out);
    ingot_log_set(cli_log_stderr, NULL, lvl);
    return 0;
}

void cli_log_stderr(ingot_log_level level, const char *msg, void *user) {
    (void)user;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    fprintf(stderr, "ingot: %s: %s\n", names[level <= INGOT_LOG_DEBUG ? level : INGOT_LOG_DEBUG], msg);
}

/* ---- show ---- */

typedef struct show_ctx {
    bool json;
    json_t *arr;
    int key_w, val_w;
} show_ctx;

static bool measure(const ingot_setting *s, void *user) {
    show_ctx *c = user;
    int k = (int)strlen(s->key), v = (int)strlen(s->value);
    if (k > c->key_w) c->key_w = k;
    if (v > c->val_w && v <= 40) c->val_w = v;
    return true;
}

static void origin_text(const ingot_setting *s, char *buf, size_t n) {
    switch (s->source) {
    case INGOT_CONFIG_DEFAULT: snprintf(buf, n, "default"); break;
    case INGOT_CONFIG_FILE: snprintf(buf, n, "file %s", s->origin); break;
    case INGOT_CONFIG_ENV: snprintf(buf, n, "env %s", s->origin); break;
    case INGOT_CONFIG_FLAG: snprintf(buf, n, "flag %s", s->origin); break;
    }
}

static bool show_one(const ingot_setting *s, void *user) {
    show_ctx *c = user;
    if (c->json) {
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "key", s->key, "value", s->value, "type", s->type, "source",
                              ingot_config_source_str(s->source), "origin", s->origin, "help", s->help);
        if (o && s->env) json_object_set_new(o, "env", json_string(s->env));
        if (o) json_array_append_new(c->arr, o);
        return true;
    }
    char origin[600];
    origin_text(s, origin, sizeof origin);
    const char *v = *s->value ? s->value : "\"\"";
    printf("%-*s  %-*s  %s\n", c->key_w, s->key, c->val_w, v, origin);
    return true;
}

static int config_show(int argc, char **argv) {
    const char *file = NULL, *backend = NULL, *v;
    bool json = false, bad = false;
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    int n_sets = 0, rc = 2;
    if (!sets) return cli_fail(1, "config", "out of memory");
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = true;
        else if (cli_flag_value(argc, argv, &i, "--config", &v, &bad, "config")) file = v;
        else if (cli_flag_value(argc, argv, &i, "--backend", &v, &bad, "config")) backend = v;
        else if (cli_flag_value(argc, argv, &i, "--set", &v, &bad, "config")) sets[n_sets++] = v;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(USAGE, stdout);
            free(sets);
            return 0;
        } else {
            cli_fail(2, "config", "unknown option '%s' for `config show` (see `ingot config --help`)", argv[i]);
            goto done;
        }
        if (bad) goto done;
    }
    ingot_config *cfg = NULL;
    if ((rc = cli_config_load("config", file, &cfg)) != 0) goto done;
    ingot_error err = {0};
    for (int i = 0; i < n_sets && !rc; i++) {
        const char *eq = strchr(sets[i], '=');
        if (!eq || eq == sets[i]) {
            rc = cli_fail(2, "config", "--set expects KEY=VALUE, got '%s'", sets[i]);
            break;
        }
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(eq - sets[i]), sets[i]);
        if (ingot_config_set(cfg, key, eq + 1, "--set", &err) != INGOT_OK) rc = cli_fail(2, "config", "%s", err.message);
    }
    if (!rc && backend && ingot_config_set(cfg, "inference.backend", backend, "--backend", &err) != INGOT_OK)
        rc = cli_fail(2, "config", "%s", err.message);
    if (rc) {
        ingot_config_free(cfg);
        goto done;
    }
    show_ctx c = {json, NULL, 3, 5};
    const char *loaded = ingot_config_file(cfg);
    char def[4096] = "";
    ingot_config_default_path(NULL, def, sizeof def);
    if (json) {
        c.arr = json_array();
        ingot_config_foreach(cfg, show_one, &c);
        json_t *o = json_pack("{s:o,s:o,s:o}", "file", loaded ? json_string(loaded) : json_null(), "default_file",
                              def[0] ? json_string(def) : json_null(), "settings", c.arr);
        json_dumpf(o, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(o);
    } else {
        if (loaded) printf("config file: %s\n\n", loaded);
        else if (def[0]) printf("config file: %s (not present: no file settings)\n\n", def);
        else printf("config file: none (neither XDG_CONFIG_HOME nor HOME is set)\n\n");
        ingot_config_foreach(cfg, measure, &c);
        printf("%-*s  %-*s  %s\n", c.key_w, "SETTING", c.val_w, "VALUE", "FROM");
        ingot_config_foreach(cfg, show_one, &c);
    }
    ingot_config_free(cfg);
    rc = 0;
done:
    free(sets);
    return rc;
}

/* ---- init ---- */

static bool mkdirs(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return false;
        *p = '/';
    }
    return true;
}

static int config_init(int argc, char **argv) {
    const char *file = NULL, *v;
    bool force = false, bad = false;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) force = true;
        else if (cli_flag_value(argc, argv, &i, "--config", &v, &bad, "config")) file = v;
        else if (argv[i][0] != '-' && !file) file = argv[i];
        else return cli_fail(2, "config", "unknown argument '%s' for `config init` (see `ingot config --help`)", argv[i]);
        if (bad) return 2;
    }
    char def[4096];
    if (!file) {
        if (!ingot_config_default_path(NULL, def, sizeof def))
            return cli_fail(1, "config", "neither XDG_CONFIG_HOME nor HOME is set: give the file with --config FILE");
        file = def;
    }
    struct stat st;
    if (!force && stat(file, &st) == 0)
        return cli_fail(1, "config", "%s already exists; not overwriting it (use --force to replace it)", file);
    char *text = ingot_config_default_text();
    if (!text) return cli_fail(1, "config", "out of memory");
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", file, (long)getpid());
    int rc = 0;
    FILE *f = NULL;
    if (!mkdirs(file) || !(f = fopen(tmp, "wb"))) {
        rc = cli_fail(1, "config", "cannot create %s: %s", file, strerror(errno));
    } else {
        bool ok = fputs(text, f) >= 0;
        ok = fclose(f) == 0 && ok;
        if (!ok || rename(tmp, file) != 0) {
            rc = cli_fail(1, "config", "cannot write %s: %s", file, strerror(errno));
            unlink(tmp);
        } else {
            printf("wrote %s\n", file);
        }
    }
    free(text);
    return rc;
}

int cmd_config(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "show")) return config_show(argc, argv);
    if (!strcmp(argv[1], "init")) return config_init(argc, argv);
    if (!strcmp(argv[1], "path")) {
        char def[4096];
        if (!ingot_config_default_path(NULL, def, sizeof def))
            return cli_fail(1, "config", "neither XDG_CONFIG_HOME nor HOME is set");
        printf("%s\n", def);
        return 0;
    }
    return cli_fail(2, "config", "unknown subcommand '%s' (show, init or path; see `ingot config --help`)", argv[1]);
}
