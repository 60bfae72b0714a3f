/* Owns the documented default config file that `ingot config init` writes:
 * every setting with its default value and a comment saying what it does
 * and which environment variable overrides it. Generated from the settings
 * table so that it can never drift from what the loader accepts. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config_internal.h"

typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap : 1024;
        while (cap <= b->len + (size_t)n) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
}

/* The value as a JSON literal. */
static void sb_value(sbuf *b, const cfg_entry *e) {
    json_t *j = NULL;
    switch (e->spec->type) {
    case CFG_STR: j = json_string(e->text); break;
    case CFG_INT: j = json_integer((json_int_t)e->i); break;
    case CFG_FLOAT: j = json_real(e->f); break;
    case CFG_BOOL: j = json_boolean(e->b); break;
    case CFG_LIST:
        j = json_array();
        for (int32_t i = 0; j && i < e->n_list; i++) json_array_append_new(j, json_string(e->list[i]));
        break;
    }
    char *s = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    if (!s) b->oom = true;
    else sb_printf(b, "%s", s);
    free(s);
    json_decref(j);
}

char *ingot_config_default_text(void) {
    ingot_config *cfg;
    if (ingot_config_new(&cfg, NULL) != INGOT_OK) return NULL;
    sbuf b = {0};
    sb_printf(&b,
              "// ingot configuration: JSON, with comments like this one allowed.\n"
              "// Precedence: defaults < this file < environment variables < command-line flags.\n"
              "// `ingot config show` prints every effective setting and where it came from;\n"
              "// an unknown key or a bad value is an error that names this file and the line.\n"
              "{\n");
    char section[64] = "";
    const char *remote = NULL;
    size_t remote_len = 0;
    for (size_t i = 0; i < cfg->n; i++) {
        const cfg_entry *e = &cfg->e[i];
        const char *dot = strchr(e->key, '.');
        bool is_remote = !strncmp(e->key, "remotes.", 8);
        size_t slen = (size_t)(dot - e->key);
        if (strlen(section) != slen || strncmp(section, e->key, slen)) {
            if (remote) sb_printf(&b, "\n    }\n");
            if (section[0]) sb_printf(&b, "\n  },\n");
            snprintf(section, sizeof section, "%.*s", (int)slen, e->key);
            sb_printf(&b, "  \"%s\": {", section);
            if (is_remote)
                sb_printf(&b, "\n    // Servers ingot can hand requests to, by name. Add your own:\n"
                              "    //   \"mybox\": {\"api\": \"openai\", \"url\": \"http://192.168.1.5:8080/v1\"}\n"
                              "    // and use them with --backend mybox or in inference.fallback.\n"
                              "    // Fields: api (openai|ollama), url, api_key, api_key_env (a variable\n"
                              "    // holding the key), model (what to ask for when used as a fallback).");
            remote = NULL;
            i--; /* print the entry itself below */
            continue;
        }
        const char *field = strrchr(e->key, '.') + 1;
        if (is_remote) {
            const char *name = e->key + 8;
            size_t nlen = (size_t)(strchr(name, '.') - name);
            bool skip_empty = !*e->text;
            if (!remote || nlen != remote_len || strncmp(remote, name, nlen)) {
                sb_printf(&b, "%s\n    \"%.*s\": {", remote ? "\n    }," : "", (int)nlen, name);
                remote = name;
                remote_len = nlen;
                if (!strncmp(name, "ollama.", 7))
                    sb_printf(&b, "\n      // OLLAMA_HOST overrides this url, as for Ollama's own tools.");
                sb_printf(&b, "\n      \"%s\": ", field);
                sb_value(&b, e);
                continue;
            }
            if (skip_empty) continue;
            sb_printf(&b, ",\n      \"%s\": ", field);
            sb_value(&b, e);
            continue;
        }
        bool first = i == 0 || strncmp(cfg->e[i - 1].key, e->key, slen + 1);
        sb_printf(&b, "%s\n    // %s", first ? "" : ",\n", e->spec->help);
        if (e->env) sb_printf(&b, " (env %s)", e->env);
        sb_printf(&b, "\n    \"%s\": ", field);
        sb_value(&b, e);
    }
    if (remote) sb_printf(&b, "\n    }");
    sb_printf(&b, "\n  }\n}\n");
    ingot_config_free(cfg);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
