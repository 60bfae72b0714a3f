/* Owns the values of settings: parsing text (environment variables,
 * flags) and JSON (the config file) as a setting's type, range and choice
 * checks, and the messages that name the key, the value and its origin. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "base/error.h"
#include "config/config_internal.h"

char *cfg_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}



void cfg_value_free(cfg_value *v) {
    free(v->text);
    for (int32_t i = 0; i < v->n_list; i++) free(v->list[i]);
    free(v->list);
    memset(v, 0, sizeof *v);
}


void cfg_where_text(const cfg_where *w, char *buf, size_t n) {
    if (w->source == INGOT_CONFIG_ENV) snprintf(buf, n, "environment variable %s", w->origin);
    else snprintf(buf, n, "%s", w->origin);
}

ingot_status cfg_bad_value(ingot_error *err, const cfg_where *w, const char *key, const char *shown,
                              const char *why) {
    char where[600];
    cfg_where_text(w, where, sizeof where);
    return ingot_error_set(err, INGOT_E_RANGE, "%s: %s = %s: %s", where, key, shown, why);
}

const char *cfg_type_name(cfg_type t) {
    switch (t) {
    case CFG_STR: return "string";
    case CFG_INT: return "integer";
    case CFG_FLOAT: return "number";
    case CFG_BOOL: return "boolean";
    case CFG_LIST: return "list";
    }
    return "string";
}

/* Range text for messages ("between 0 and 1", ">= 0"). */
static void range_text(const cfg_spec *sp, char *buf, size_t n) {
    if (sp->flags & CFG_CHECK_POSITIVE) snprintf(buf, n, "a number > 0");
    else if (sp->type == CFG_INT && sp->hi >= 2147483647.0) snprintf(buf, n, "an integer >= %.0f", sp->lo);
    else if (sp->type == CFG_INT) snprintf(buf, n, "an integer between %.0f and %.0f", sp->lo, sp->hi);
    else if (isinf(sp->hi)) snprintf(buf, n, "a number >= %g", sp->lo);
    else snprintf(buf, n, "a number between %g and %g", sp->lo, sp->hi);
}

bool cfg_remote_name_ok(const char *s, size_t n) {
    if (n == 0 || n > 63) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_') return false;
    return true;
}

/* Checks a value against its spec's range and choices; shown is the value
 * as the user wrote it. */
static ingot_status check_value(const cfg_spec *sp, const char *key, const cfg_value *v, const cfg_where *w,
                                const char *shown, ingot_error *err) {
    char why[256];
    if (sp->type == CFG_INT && ((double)v->i < sp->lo || (double)v->i > sp->hi)) {
        range_text(sp, why, sizeof why);
        char msg[300];
        snprintf(msg, sizeof msg, "expected %s", why);
        return cfg_bad_value(err, w, key, shown, msg);
    }
    if (sp->type == CFG_FLOAT) {
        bool ok = isfinite(v->f) && v->f >= sp->lo && v->f <= sp->hi;
        if ((sp->flags & CFG_CHECK_POSITIVE) && !(v->f > 0)) ok = false;
        if (!ok) {
            range_text(sp, why, sizeof why);
            char msg[300];
            snprintf(msg, sizeof msg, "expected %s", why);
            return cfg_bad_value(err, w, key, shown, msg);
        }
    }
    if (sp->choices) {
        for (const char *const *c = sp->choices; *c; c++)
            if (!strcmp(*c, v->text)) return INGOT_OK;
        size_t off = 0;
        off += (size_t)snprintf(why, sizeof why, "expected one of");
        for (const char *const *c = sp->choices; *c && off < sizeof why; c++)
            off += (size_t)snprintf(why + off, sizeof why - off, "%s %s", c == sp->choices ? "" : ",", *c);
        return cfg_bad_value(err, w, key, shown, why);
    }
    if ((sp->flags & CFG_CHECK_URL) && *v->text) {
        if (strncmp(v->text, "http://", 7) && strncmp(v->text, "https://", 8))
            return cfg_bad_value(err, w, key, shown, "expected a URL starting with http:// or https://");
        const char *host = strstr(v->text, "://") + 3;
        if (!*host || *host == '/' || *host == ':')
            return cfg_bad_value(err, w, key, shown, "the URL has no host");
    }
    if (sp->type == CFG_LIST) {
        for (int32_t i = 0; i < v->n_list; i++) {
            if (!cfg_remote_name_ok(v->list[i], strlen(v->list[i]))) {
                snprintf(why, sizeof why, "'%s' is not a backend name (letters, digits, - and _)", v->list[i]);
                return cfg_bad_value(err, w, key, shown, why);
            }
        }
    }
    return INGOT_OK;
}

static bool parse_bool_text(const char *s, bool *out) {
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i])) return *out = true, true;
        if (!strcasecmp(s, no[i])) return *out = false, true;
    }
    return false;
}

static bool list_push(cfg_value *v, const char *s, size_t n) {
    char **l = realloc(v->list, (size_t)(v->n_list + 1) * sizeof *l);
    if (!l) return false;
    v->list = l;
    char *p = malloc(n + 1);
    if (!p) return false;
    memcpy(p, s, n);
    p[n] = 0;
    v->list[v->n_list++] = p;
    return true;
}

/* The canonical text of a parsed value. */
static bool value_finish_text(cfg_value *v, cfg_type t) {
    char buf[64];
    switch (t) {
    case CFG_STR: return v->text != NULL;
    case CFG_INT: snprintf(buf, sizeof buf, "%lld", (long long)v->i); break;
    case CFG_FLOAT: snprintf(buf, sizeof buf, "%g", v->f); break;
    case CFG_BOOL: snprintf(buf, sizeof buf, "%s", v->b ? "true" : "false"); break;
    case CFG_LIST: {
        size_t n = 1;
        for (int32_t i = 0; i < v->n_list; i++) n += strlen(v->list[i]) + 1;
        free(v->text);
        v->text = malloc(n);
        if (!v->text) return false;
        v->text[0] = 0;
        for (int32_t i = 0; i < v->n_list; i++) {
            if (i) strcat(v->text, ",");
            strcat(v->text, v->list[i]);
        }
        return true;
    }
    }
    free(v->text);
    v->text = cfg_strdup(buf);
    return v->text != NULL;
}

/* Parses text (an environment variable or flag value) as the spec's type. */
ingot_status cfg_parse_text(const cfg_spec *sp, const char *key, const char *s, const cfg_where *w,
                               cfg_value *v, ingot_error *err) {
    memset(v, 0, sizeof *v);
    char shown[300];
    snprintf(shown, sizeof shown, "'%s'", sp->flags & CFG_SECRET ? "********" : s);
    char *end;
    errno = 0;
    switch (sp->type) {
    case CFG_STR:
        v->text = cfg_strdup(s);
        break;
    case CFG_INT: {
        long long x = strtoll(s, &end, 10);
        if (!*s || *end || errno) {
            char why[300], r[200];
            range_text(sp, r, sizeof r);
            snprintf(why, sizeof why, "expected %s", r);
            return cfg_bad_value(err, w, key, shown, why);
        }
        v->i = x;
        break;
    }
    case CFG_FLOAT: {
        double x = strtod(s, &end);
        if (!*s || *end || errno || isspace((unsigned char)*s)) {
            char why[300], r[200];
            range_text(sp, r, sizeof r);
            snprintf(why, sizeof why, "expected %s", r);
            return cfg_bad_value(err, w, key, shown, why);
        }
        v->f = x;
        break;
    }
    case CFG_BOOL:
        if (!parse_bool_text(s, &v->b))
            return cfg_bad_value(err, w, key, shown, "expected true or false (also 1/0, yes/no, on/off)");
        break;
    case CFG_LIST: {
        const char *p = s;
        while (*p) {
            const char *q = strchr(p, ',');
            size_t n = q ? (size_t)(q - p) : strlen(p);
            const char *a = p, *b = p + n;
            while (a < b && isspace((unsigned char)*a)) a++;
            while (b > a && isspace((unsigned char)b[-1])) b--;
            if (a == b) {
                cfg_value_free(v);
                return cfg_bad_value(err, w, key, shown, "expected a comma-separated list of names, without empty items");
            }
            if (!list_push(v, a, (size_t)(b - a))) {
                cfg_value_free(v);
                return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
            }
            p += n;
            if (*p == ',') p++;
        }
        break;
    }
    }
    if (!value_finish_text(v, sp->type)) {
        cfg_value_free(v);
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    ingot_status st = check_value(sp, key, v, w, shown, err);
    if (st) cfg_value_free(v);
    return st;
}

/* Parses a JSON value as the spec's type. */
ingot_status cfg_parse_json(const cfg_spec *sp, const char *key, json_t *j, const cfg_where *w, cfg_value *v,
                               ingot_error *err) {
    memset(v, 0, sizeof *v);
    char shown[300];
    if (sp->flags & CFG_SECRET) {
        snprintf(shown, sizeof shown, "\"********\"");
    } else {
        char *d = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
        snprintf(shown, sizeof shown, "%s", d ? d : "?");
        if (d && strlen(d) > 80) strcpy(shown + 77, "...");
        free(d);
    }
    char why[300];
    switch (sp->type) {
    case CFG_STR:
        if (!json_is_string(j)) {
            if (sp->choices) {
                size_t off = (size_t)snprintf(why, sizeof why, "expected a string: one of");
                for (const char *const *c = sp->choices; *c && off < sizeof why; c++)
                    off += (size_t)snprintf(why + off, sizeof why - off, "%s %s", c == sp->choices ? "" : ",", *c);
                return cfg_bad_value(err, w, key, shown, why);
            }
            return cfg_bad_value(err, w, key, shown, "expected a string (in double quotes)");
        }
        v->text = cfg_strdup(json_string_value(j));
        break;
    case CFG_INT:
        if (json_is_real(j) && floor(json_real_value(j)) == json_real_value(j) &&
            fabs(json_real_value(j)) < 9e15) {
            v->i = (int64_t)json_real_value(j);
        } else if (json_is_integer(j)) {
            v->i = (int64_t)json_integer_value(j);
        } else {
            char r[200];
            range_text(sp, r, sizeof r);
            snprintf(why, sizeof why, "expected %s", r);
            return cfg_bad_value(err, w, key, shown, why);
        }
        break;
    case CFG_FLOAT:
        if (!json_is_number(j)) {
            char r[200];
            range_text(sp, r, sizeof r);
            snprintf(why, sizeof why, "expected %s (without quotes)", r);
            return cfg_bad_value(err, w, key, shown, why);
        }
        v->f = json_number_value(j);
        break;
    case CFG_BOOL:
        if (!json_is_boolean(j)) return cfg_bad_value(err, w, key, shown, "expected true or false (without quotes)");
        v->b = json_is_true(j);
        break;
    case CFG_LIST: {
        if (!json_is_array(j)) return cfg_bad_value(err, w, key, shown, "expected a list of names, like [\"cpu\", \"ollama\"]");
        size_t i;
        json_t *it;
        json_array_foreach(j, i, it) {
            if (!json_is_string(it)) {
                cfg_value_free(v);
                return cfg_bad_value(err, w, key, shown, "expected a list of names (strings)");
            }
            if (!list_push(v, json_string_value(it), strlen(json_string_value(it)))) {
                cfg_value_free(v);
                return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
            }
        }
        break;
    }
    }
    if (!value_finish_text(v, sp->type)) {
        cfg_value_free(v);
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    ingot_status st = check_value(sp, key, v, w, shown, err);
    if (st) cfg_value_free(v);
    return st;
}

/* Moves v into e with its origin. */
ingot_status cfg_entry_assign(cfg_entry *e, cfg_value *v, const cfg_where *w, ingot_error *err) {
    char *origin = cfg_strdup(w->origin);
    if (!origin) {
        cfg_value_free(v);
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    cfg_entry_clear_value(e);
    free(e->origin);
    e->origin = origin;
    e->source = w->source;
    e->text = v->text;
    e->i = v->i;
    e->f = v->f;
    e->b = v->b;
    e->list = v->list;
    e->n_list = v->n_list;
    memset(v, 0, sizeof *v);
    return INGOT_OK;
}
