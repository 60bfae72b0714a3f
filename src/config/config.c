/* Owns ingot's settings: the table of known keys (type, default, range,
 * environment variable, help), the layering defaults < file < environment <
 * flags, validation with messages naming key, value and origin, and the
 * remotes (named servers) that users may add beside the built-in
 * `lmstudio` and `ollama`. The file format is JSON with comments; see
 * docs/CONFIG.md. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "base/error.h"
#include "config/config_internal.h"
#include "config/jsonc.h"

/* ---- the table of settings ---- */

static const char *const LOG_LEVELS[] = {"error", "warn", "info", "debug", NULL};
static const char *const APIS[] = {"openai", "ollama", NULL};

static const cfg_spec SPECS[] = {
    {"inference.backend", CFG_STR, "auto", "INGOT_BACKEND", 0, 0, NULL, CFG_CHECK_BACKEND,
     "backend strategy: auto, cpu (gguf), mlx, remote, or a remote's name"},
    {"inference.fallback", CFG_LIST, "cpu,lmstudio,ollama", "INGOT_FALLBACK", 0, 0, NULL, CFG_CHECK_FALLBACK,
     "backends tried in order when the chosen one is unavailable or cannot load the model"},
    {"inference.threads", CFG_INT, "0", "INGOT_THREADS", 0, 1024, NULL, 0,
     "threads for the cpu backend (0: one per core)"},
    {"inference.context", CFG_INT, "0", "INGOT_CONTEXT", 0, 4194304, NULL, 0,
     "context length in tokens (0: the model's own, at most 4096)"},
    {"inference.max_tokens", CFG_INT, "512", "INGOT_MAX_TOKENS", -1, 2147483647.0, NULL, 0,
     "tokens to generate at most (-1: no limit)"},
    {"inference.temperature", CFG_FLOAT, "0.7", "INGOT_TEMPERATURE", 0, HUGE_VAL, NULL, 0,
     "sampling temperature (0: greedy)"},
    {"inference.top_p", CFG_FLOAT, "0.9", "INGOT_TOP_P", 0, 1, NULL, 0, "nucleus sampling (1: off)"},
    {"inference.top_k", CFG_INT, "40", "INGOT_TOP_K", 0, 2147483647.0, NULL, 0,
     "keep the K most likely tokens (0: off)"},
    {"inference.repeat_penalty", CFG_FLOAT, "1.1", "INGOT_REPEAT_PENALTY", 0, HUGE_VAL, NULL,
     CFG_CHECK_POSITIVE, "penalty for repeated tokens (1: off)"},
    {"inference.benchmark_on_startup", CFG_BOOL, "false", "INGOT_BENCHMARK", 0, 0, NULL, 0,
     "run a short benchmark when a model loads and log it"},
    {"log.level", CFG_STR, "warn", "INGOT_LOG", 0, 0, LOG_LEVELS, 0,
     "most verbose log messages shown: error, warn, info, debug"},
    {"network.connect_timeout_ms", CFG_INT, "2000", NULL, 1, 600000, NULL, 0,
     "how long to wait for a remote server to accept a connection"},
    {"network.read_timeout_ms", CFG_INT, "120000", NULL, 1, 86400000, NULL, 0,
     "longest silence from a remote server while its reply is due"},
    {"network.probe_timeout_ms", CFG_INT, "1000", NULL, 1, 600000, NULL, 0,
     "time allowed to check whether a remote server is up (doctor, fallback)"},
    {"network.api_key", CFG_STR, "", "INGOT_API_KEY", 0, 0, NULL, CFG_SECRET,
     "API key for OpenAI-compatible servers that have none of their own"},
};

/* Fields of remotes.NAME; defaults come from the built-in remotes below. */
static const cfg_spec REMOTE_SPECS[] = {
    {"api", CFG_STR, "openai", NULL, 0, 0, APIS, 0, "wire format: openai or ollama"},
    {"url", CFG_STR, "", NULL, 0, 0, NULL, CFG_CHECK_URL,
     "base URL (openai: with the /v1 path; ollama: http://HOST:PORT)"},
    {"api_key", CFG_STR, "", NULL, 0, 0, NULL, CFG_SECRET, "API key sent as a Bearer token"},
    {"api_key_env", CFG_STR, "", NULL, 0, 0, NULL, 0, "environment variable holding the API key"},
    {"model", CFG_STR, "", NULL, 0, 0, NULL, 0,
     "model to ask for when this remote is a fallback (empty: the model as given)"},
};
#define N_SPECS (sizeof SPECS / sizeof SPECS[0])
#define N_REMOTE_SPECS (sizeof REMOTE_SPECS / sizeof REMOTE_SPECS[0])

typedef struct builtin_remote {
    const char *name, *api, *url, *url_env;
} builtin_remote;
static const builtin_remote BUILTIN_REMOTES[] = {
    {"lmstudio", "openai", "http://127.0.0.1:1234/v1", NULL},
    {"ollama", "ollama", "http://127.0.0.1:11434", "OLLAMA_HOST"},
};

const cfg_spec *ingot_config_specs(size_t *n) {
    *n = N_SPECS;
    return SPECS;
}

/* ---- entries ---- */

void cfg_entry_clear_value(cfg_entry *e) {
    free(e->text);
    e->text = NULL;
    for (int32_t i = 0; i < e->n_list; i++) free(e->list[i]);
    free(e->list);
    e->list = NULL;
    e->n_list = 0;
}

static void entry_free(cfg_entry *e) {
    cfg_entry_clear_value(e);
    free(e->key);
    free(e->origin);
    free(e->env);
}


cfg_entry *ingot_config_find(const ingot_config *cfg, const char *key) {
    for (size_t i = 0; i < cfg->n; i++)
        if (!strcmp(cfg->e[i].key, key)) return &cfg->e[i];
    return NULL;
}

static cfg_entry *add_entry(ingot_config *cfg, const char *key, const cfg_spec *sp) {
    if (cfg->n == cfg->cap) {
        size_t cap = cfg->cap ? cfg->cap * 2 : 32;
        cfg_entry *e = realloc(cfg->e, cap * sizeof *e);
        if (!e) return NULL;
        cfg->e = e;
        cfg->cap = cap;
    }
    cfg_entry *e = &cfg->e[cfg->n];
    memset(e, 0, sizeof *e);
    e->key = cfg_strdup(key);
    e->origin = cfg_strdup("default");
    if (!e->key || !e->origin) {
        free(e->key);
        free(e->origin);
        return NULL;
    }
    e->spec = sp;
    cfg->n++;
    return e;
}

/* ---- remotes ---- */

static ingot_status remote_add(ingot_config *cfg, const char *name, const builtin_remote *bi, ingot_error *err) {
    char key[128];
    char **names = realloc(cfg->remotes, (size_t)(cfg->n_remotes + 1) * sizeof *names);
    if (!names) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    cfg->remotes = names;
    char *copy = cfg_strdup(name);
    if (!copy) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    int32_t at = cfg->n_remotes;
    while (at > 0 && strcmp(names[at - 1], name) > 0) {
        names[at] = names[at - 1];
        at--;
    }
    names[at] = copy;
    cfg->n_remotes++;
    for (size_t i = 0; i < N_REMOTE_SPECS; i++) {
        const cfg_spec *sp = &REMOTE_SPECS[i];
        snprintf(key, sizeof key, "remotes.%s.%s", name, sp->key);
        cfg_entry *e = add_entry(cfg, key, sp);
        if (!e) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        const char *def = sp->def;
        if (bi && !strcmp(sp->key, "api")) def = bi->api;
        if (bi && !strcmp(sp->key, "url")) def = bi->url;
        e->text = cfg_strdup(def);
        if (!e->text) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        if (bi && bi->url_env && !strcmp(sp->key, "url")) e->env = cfg_strdup(bi->url_env);
    }
    return INGOT_OK;
}

/* The spec of a key, creating a user remote's entries when the key names
 * one (remotes.NAME.FIELD). NULL: unknown key. */
static const cfg_spec *spec_for_key(ingot_config *cfg, const char *key, bool create, ingot_error *err,
                                    ingot_status *st) {
    *st = INGOT_OK;
    for (size_t i = 0; i < N_SPECS; i++)
        if (!strcmp(SPECS[i].key, key)) return &SPECS[i];
    if (strncmp(key, "remotes.", 8)) return NULL;
    const char *name = key + 8, *dot = strchr(name, '.');
    if (!dot || !cfg_remote_name_ok(name, (size_t)(dot - name))) return NULL;
    const cfg_spec *sp = NULL;
    for (size_t i = 0; i < N_REMOTE_SPECS; i++)
        if (!strcmp(REMOTE_SPECS[i].key, dot + 1)) sp = &REMOTE_SPECS[i];
    if (!sp) return NULL;
    if (!ingot_config_find(cfg, key)) {
        if (!create) return NULL;
        char nm[64];
        snprintf(nm, sizeof nm, "%.*s", (int)(dot - name), name);
        if ((*st = remote_add(cfg, nm, NULL, err)) != INGOT_OK) return NULL;
    }
    return sp;
}

static bool is_reserved_name(const char *s) {
    return !strcmp(s, "auto") || !strcmp(s, "cpu") || !strcmp(s, "gguf") || !strcmp(s, "mlx") ||
           !strcmp(s, "remote");
}

bool ingot_config_has_remote(const ingot_config *cfg, const char *name) {
    char key[128];
    snprintf(key, sizeof key, "remotes.%s.url", name);
    return ingot_config_find(cfg, key) != NULL;
}

/* The whole configuration must make sense after each layer: every remote
 * has a URL and a name that is not a strategy, and the backend strategy and
 * the fallback chain name backends that exist. */
static ingot_status check_refs(ingot_config *cfg, ingot_error *err) {
    for (size_t i = 0; i < cfg->n; i++) {
        cfg_entry *e = &cfg->e[i];
        if (strncmp(e->key, "remotes.", 8)) continue;
        const char *name = e->key + 8, *dot = strchr(name, '.');
        char nm[64];
        snprintf(nm, sizeof nm, "%.*s", (int)(dot - name), name);
        cfg_where w = {e->source, e->origin};
        if (is_reserved_name(nm)) {
            char why[200];
            snprintf(why, sizeof why, "'%s' names a built-in backend and cannot name a remote", nm);
            return cfg_bad_value(err, &w, e->key, e->text, why);
        }
        if (!strcmp(dot + 1, "url") && !*e->text) {
            char where[600];
            char apikey[128];
            snprintf(apikey, sizeof apikey, "remotes.%s.api", nm);
            cfg_entry *api = ingot_config_find(cfg, apikey);
            cfg_where aw = {api ? api->source : e->source, api ? api->origin : e->origin};
            cfg_where_text(&aw, where, sizeof where);
            return ingot_error_set(err, INGOT_E_INVALID_ARG,
                                   "%s: remote '%s' has no url (set %s to its base URL, e.g. "
                                   "\"http://127.0.0.1:8080/v1\")", where, nm, e->key);
        }
    }
    cfg_entry *b = ingot_config_find(cfg, "inference.backend");
    if (b && strcmp(b->text, "auto") && !is_reserved_name(b->text) && !ingot_config_has_remote(cfg, b->text)) {
        cfg_where w = {b->source, b->origin};
        char shown[300], why[512], names[256] = "";
        snprintf(shown, sizeof shown, "'%s'", b->text);
        const char *list[32];
        int32_t n = ingot_config_remotes(cfg, list, 32);
        for (int32_t i = 0; i < n && strlen(names) < 200; i++) {
            strcat(names, ", ");
            strcat(names, list[i]);
        }
        snprintf(why, sizeof why, "expected auto, cpu, gguf, mlx, remote or a configured remote (%s)", names + 2);
        return cfg_bad_value(err, &w, "inference.backend", shown, why);
    }
    cfg_entry *f = ingot_config_find(cfg, "inference.fallback");
    for (int32_t i = 0; f && i < f->n_list; i++) {
        const char *s = f->list[i];
        if (!strcmp(s, "cpu") || !strcmp(s, "gguf") || !strcmp(s, "mlx") || ingot_config_has_remote(cfg, s))
            continue;
        cfg_where w = {f->source, f->origin};
        char shown[300], why[300];
        snprintf(shown, sizeof shown, "'%s'", f->text);
        snprintf(why, sizeof why, "'%s' is not cpu, mlx or a configured remote", s);
        return cfg_bad_value(err, &w, "inference.fallback", shown, why);
    }
    return INGOT_OK;
}

/* ---- construction ---- */

ingot_status ingot_config_new(ingot_config **out, ingot_error *err) {
    *out = NULL;
    ingot_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    ingot_status st = INGOT_OK;
    for (size_t i = 0; i < N_SPECS && !st; i++) {
        const cfg_spec *sp = &SPECS[i];
        cfg_entry *e = add_entry(cfg, sp->key, sp);
        if (!e) {
            st = ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
            break;
        }
        if (sp->env && !(e->env = cfg_strdup(sp->env))) st = ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        cfg_value v;
        cfg_where w = {INGOT_CONFIG_DEFAULT, "default"};
        if (!st && (st = cfg_parse_text(sp, sp->key, sp->def, &w, &v, err)) == INGOT_OK)
            st = cfg_entry_assign(e, &v, &w, err);
    }
    for (size_t i = 0; i < sizeof BUILTIN_REMOTES / sizeof BUILTIN_REMOTES[0] && !st; i++)
        st = remote_add(cfg, BUILTIN_REMOTES[i].name, &BUILTIN_REMOTES[i], err);
    if (st) {
        ingot_config_free(cfg);
        return st;
    }
    *out = cfg;
    return INGOT_OK;
}

void ingot_config_free(ingot_config *cfg) {
    if (!cfg) return;
    for (size_t i = 0; i < cfg->n; i++) entry_free(&cfg->e[i]);
    free(cfg->e);
    free(cfg->file);
    for (int32_t i = 0; i < cfg->n_remotes; i++) free(cfg->remotes[i]);
    free(cfg->remotes);
    free(cfg);
}

const char *ingot_config_source_str(ingot_config_source s) {
    switch (s) {
    case INGOT_CONFIG_DEFAULT: return "default";
    case INGOT_CONFIG_FILE: return "file";
    case INGOT_CONFIG_ENV: return "env";
    case INGOT_CONFIG_FLAG: return "flag";
    }
    return "default";
}

/* ---- the file layer ---- */

/* Closest known key, for "did you mean". */
static int edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    int d[64][64];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
            d[i][j] = c;
        }
    return d[la][lb];
}

static void suggest(const ingot_config *cfg, const char *key, char *buf, size_t n) {
    int best = 4;
    const char *found = NULL;
    for (size_t i = 0; i < cfg->n; i++) {
        int d = edit_distance(key, cfg->e[i].key);
        if (d < best) best = d, found = cfg->e[i].key;
    }
    /* a key put in the wrong section ("temperature" at the top) */
    const char *last = strrchr(key, '.');
    last = last ? last + 1 : key;
    for (size_t i = 0; !found && i < cfg->n; i++) {
        const char *l = strrchr(cfg->e[i].key, '.');
        if (l && !strcmp(l + 1, last)) found = cfg->e[i].key;
    }
    if (found) snprintf(buf, n, " (did you mean %s?)", found);
    else buf[0] = 0;
}

/* True when some known key (or remote field) lies under prefix. */
static bool is_section(const ingot_config *cfg, const char *prefix) {
    size_t n = strlen(prefix);
    if (!strcmp(prefix, "remotes")) return true;
    if (!strncmp(prefix, "remotes.", 8) && !strchr(prefix + 8, '.')) return true;
    for (size_t i = 0; i < N_SPECS; i++)
        if (!strncmp(SPECS[i].key, prefix, n) && SPECS[i].key[n] == '.') return true;
    return false;
}

typedef struct file_ctx {
    ingot_config *cfg;
    const char *path;
    ingot_jsonc_keys keys;
} file_ctx;

static void file_origin(const file_ctx *fc, const char *key, char *buf, size_t n) {
    int line = ingot_jsonc_line(&fc->keys, key);
    if (line > 0) snprintf(buf, n, "%s:%d", fc->path, line);
    else snprintf(buf, n, "%s", fc->path);
}

static ingot_status walk(file_ctx *fc, const char *prefix, json_t *obj, ingot_error *err) {
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        char key[512], origin[600];
        if (snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", k) >= (int)sizeof key)
            return ingot_error_set(err, INGOT_E_INVALID_ARG, "%s: key too long: %.60s...", fc->path, key);
        file_origin(fc, key, origin, sizeof origin);
        cfg_where w = {INGOT_CONFIG_FILE, origin};
        if (!strcmp(prefix, "remotes")) {
            const char *nm = k;
            if (!cfg_remote_name_ok(nm, strlen(nm)))
                return ingot_error_set(err, INGOT_E_INVALID_ARG,
                                       "%s: remote name '%s' must be 1-63 letters, digits, - or _", origin, nm);
            if (is_reserved_name(nm))
                return ingot_error_set(err, INGOT_E_INVALID_ARG,
                                       "%s: '%s' names a built-in backend and cannot name a remote", origin, nm);
            if (!json_is_object(v))
                return cfg_bad_value(err, &w, key, "(not an object)",
                                 "expected an object like {\"api\": \"openai\", \"url\": \"http://HOST:PORT/v1\"}");
            char probe[600];
            snprintf(probe, sizeof probe, "%s.url", key);
            ingot_status st;
            if (!spec_for_key(fc->cfg, probe, true, err, &st) && st) return st;
            if ((st = walk(fc, key, v, err)) != INGOT_OK) return st;
            continue;
        }
        ingot_status st;
        const cfg_spec *sp = spec_for_key(fc->cfg, key, !strncmp(key, "remotes.", 8), err, &st);
        if (st) return st;
        if (!sp) {
            if (is_section(fc->cfg, key)) {
                if (!json_is_object(v)) {
                    char *d = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                    ingot_error_set(err, INGOT_E_INVALID_ARG, "%s: %s = %.80s: expected an object (a section of settings)",
                                    origin, key, d ? d : "?");
                    free(d);
                    return INGOT_E_INVALID_ARG;
                }
                if ((st = walk(fc, key, v, err)) != INGOT_OK) return st;
                continue;
            }
            char hint[200];
            suggest(fc->cfg, key, hint, sizeof hint);
            char *d = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            ingot_error_set(err, INGOT_E_INVALID_ARG, "%s: unknown setting %s = %.80s%s", origin, key,
                            d ? d : "?", hint);
            free(d);
            return INGOT_E_INVALID_ARG;
        }
        cfg_value val;
        if ((st = cfg_parse_json(sp, key, v, &w, &val, err)) != INGOT_OK) return st;
        if ((st = cfg_entry_assign(ingot_config_find(fc->cfg, key), &val, &w, err)) != INGOT_OK) return st;
    }
    return INGOT_OK;
}

#define CONFIG_MAX_BYTES (1u << 20)

ingot_status ingot_config_load_file(ingot_config *cfg, const char *path, ingot_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return ingot_error_set(err, INGOT_E_IO, "cannot open config file %s: %s", path, strerror(errno));
    char *text = malloc(CONFIG_MAX_BYTES + 1);
    if (!text) {
        fclose(f);
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    size_t len = fread(text, 1, CONFIG_MAX_BYTES + 1, f);
    bool rerr = ferror(f);
    fclose(f);
    if (rerr) {
        free(text);
        return ingot_error_set(err, INGOT_E_IO, "cannot read config file %s", path);
    }
    if (len > CONFIG_MAX_BYTES) {
        free(text);
        return ingot_error_set(err, INGOT_E_FORMAT, "config file %s is larger than 1 MiB", path);
    }
    int open_line = ingot_jsonc_strip(text, len);
    if (open_line) {
        free(text);
        return ingot_error_set(err, INGOT_E_FORMAT, "%s:%d: comment opened with /* is never closed", path, open_line);
    }
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        free(text);
        return ingot_error_set(err, INGOT_E_FORMAT, "%s:%d:%d: not valid JSON: %s", path, je.line, je.column, je.text);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        free(text);
        return ingot_error_set(err, INGOT_E_FORMAT, "%s: the config must be a JSON object ({...})", path);
    }
    /* Work on a copy so that a bad file leaves cfg as it was. */
    ingot_config *tmp = ingot_config_clone(cfg);
    file_ctx fc = {tmp, path, {0}};
    ingot_status st = INGOT_OK;
    if (!tmp || !ingot_jsonc_index(text, len, &fc.keys)) st = ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    if (!st) st = walk(&fc, "", root, err);
    if (!st) st = check_refs(tmp, err);
    char *file = st ? NULL : cfg_strdup(path);
    if (!st && !file) st = ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    if (!st) {
        ingot_config_swap(cfg, tmp);
        free(cfg->file);
        cfg->file = file;
    }
    ingot_config_free(tmp);
    ingot_jsonc_keys_free(&fc.keys);
    json_decref(root);
    free(text);
    return st;
}

/* ---- the environment layer ---- */

const char *ingot_config_env(const char *const *envp, const char *name) {
    if (!envp) return getenv(name);
    size_t n = strlen(name);
    for (const char *const *e = envp; *e; e++)
        if (!strncmp(*e, name, n) && (*e)[n] == '=') return *e + n + 1;
    return NULL;
}

/* OLLAMA_HOST as Ollama's own clients read it: [scheme://]host[:port][/path],
 * scheme http by default; port 11434 without a scheme, else the scheme's. */
static bool ollama_host_url(const char *s, char *buf, size_t n) {
    while (isspace((unsigned char)*s)) s++;
    const char *sep = strstr(s, "://");
    const char *scheme = "http", *defport = "11434", *hp = s;
    char sch[16];
    if (sep) {
        if ((size_t)(sep - s) >= sizeof sch) return false;
        snprintf(sch, sizeof sch, "%.*s", (int)(sep - s), s);
        scheme = sch;
        if (!strcmp(sch, "http")) defport = "80";
        else if (!strcmp(sch, "https")) defport = "443";
        else return false;
        hp = sep + 3;
    }
    size_t hlen = strcspn(hp, "/");
    const char *path = hp + hlen;
    char host[256], port[16];
    if (hlen >= sizeof host) return false;
    snprintf(host, sizeof host, "%.*s", (int)hlen, hp);
    while (hlen && isspace((unsigned char)host[hlen - 1])) host[--hlen] = 0;
    snprintf(port, sizeof port, "%s", defport);
    char *colon = host[0] == '[' ? strstr(host, "]:") : strrchr(host, ':');
    if (colon && (host[0] != '[' || colon[1] == ':')) {
        char *p = host[0] == '[' ? colon + 2 : colon + 1;
        char *end;
        long v = strtol(p, &end, 10);
        if (*p && !*end && v >= 0 && v <= 65535) snprintf(port, sizeof port, "%ld", v);
        *(host[0] == '[' ? colon + 1 : colon) = 0;
    }
    if (!host[0]) snprintf(host, sizeof host, "127.0.0.1");
    while (*path == '/' && path[1] == '/') path++;
    size_t plen = strlen(path);
    while (plen && path[plen - 1] == '/') plen--;
    int w = snprintf(buf, n, "%s://%s:%s%.*s", scheme, host, port, (int)plen, path);
    return w > 0 && (size_t)w < n;
}

static ingot_status env_apply(ingot_config *cfg, const char *var, const char *key, const char *value,
                              ingot_error *err) {
    cfg_entry *e = ingot_config_find(cfg, key);
    if (!e) return INGOT_OK;
    cfg_where w = {INGOT_CONFIG_ENV, var};
    cfg_value v;
    ingot_status st = cfg_parse_text(e->spec, key, value, &w, &v, err);
    if (!st) st = cfg_entry_assign(e, &v, &w, err);
    return st;
}

ingot_status ingot_config_load_env(ingot_config *cfg, const char *const *envp, ingot_error *err) {
    ingot_config *tmp = ingot_config_clone(cfg);
    if (!tmp) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    ingot_status st = INGOT_OK;
    for (size_t i = 0; i < N_SPECS && !st; i++) {
        const char *v;
        if (SPECS[i].env && (v = ingot_config_env(envp, SPECS[i].env)) != NULL)
            st = env_apply(tmp, SPECS[i].env, SPECS[i].key, v, err);
    }
    for (size_t i = 0; i < sizeof BUILTIN_REMOTES / sizeof BUILTIN_REMOTES[0] && !st; i++) {
        const builtin_remote *b = &BUILTIN_REMOTES[i];
        const char *v;
        if (!b->url_env || !(v = ingot_config_env(envp, b->url_env)) || !*v) continue;
        char url[512], key[128];
        snprintf(key, sizeof key, "remotes.%s.url", b->name);
        if (!ollama_host_url(v, url, sizeof url)) {
            cfg_where w = {INGOT_CONFIG_ENV, b->url_env};
            char shown[300];
            snprintf(shown, sizeof shown, "'%s'", v);
            st = cfg_bad_value(err, &w, key, shown, "expected [http[s]://]HOST[:PORT]");
        } else {
            st = env_apply(tmp, b->url_env, key, url, err);
        }
    }
    if (!st) st = check_refs(tmp, err);
    if (!st) ingot_config_swap(cfg, tmp);
    ingot_config_free(tmp);
    return st;
}

/* ---- the flag layer ---- */

ingot_status ingot_config_set(ingot_config *cfg, const char *key, const char *value, const char *origin,
                              ingot_error *err) {
    if (!cfg || !key || !value) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_config_set: NULL argument");
    if (!origin) origin = key;
    ingot_config *tmp = ingot_config_clone(cfg);
    if (!tmp) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    ingot_status st;
    const cfg_spec *sp = spec_for_key(tmp, key, true, err, &st);
    if (!sp && !st) {
        char hint[200];
        suggest(tmp, key, hint, sizeof hint);
        st = ingot_error_set(err, INGOT_E_INVALID_ARG, "%s: unknown setting %s = '%s'%s", origin, key, value, hint);
    }
    if (!st) {
        cfg_where w = {INGOT_CONFIG_FLAG, origin};
        cfg_value v;
        st = cfg_parse_text(sp, key, value, &w, &v, err);
        if (!st) st = cfg_entry_assign(ingot_config_find(tmp, key), &v, &w, err);
    }
    if (!st) st = check_refs(tmp, err);
    if (!st) ingot_config_swap(cfg, tmp);
    ingot_config_free(tmp);
    return st;
}

/* ---- all layers ---- */

bool ingot_config_default_path(const char *const *envp, char *buf, size_t size) {
    const char *x = ingot_config_env(envp, "XDG_CONFIG_HOME"), *h = ingot_config_env(envp, "HOME");
    int w;
    /* The XDG spec ignores a relative XDG_CONFIG_HOME. */
    if (x && x[0] == '/') w = snprintf(buf, size, "%s/ingot/config.json", x);
    else if (h && *h) w = snprintf(buf, size, "%s/.config/ingot/config.json", h);
    else return false;
    return w > 0 && (size_t)w < size;
}

ingot_status ingot_config_load(const char *path, const char *const *envp, ingot_config **out, ingot_error *err) {
    *out = NULL;
    ingot_config *cfg;
    ingot_status st = ingot_config_new(&cfg, err);
    if (st) return st;
    char def[4096];
    struct stat sb;
    if (path) st = ingot_config_load_file(cfg, path, err);
    else if (ingot_config_default_path(envp, def, sizeof def) && stat(def, &sb) == 0)
        st = ingot_config_load_file(cfg, def, err);
    if (!st) st = ingot_config_load_env(cfg, envp, err);
    if (st) {
        ingot_config_free(cfg);
        return st;
    }
    *out = cfg;
    return INGOT_OK;
}

const char *ingot_config_file(const ingot_config *cfg) { return cfg ? cfg->file : NULL; }
