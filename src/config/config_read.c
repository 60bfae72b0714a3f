/* Owns the read side of the config: typed getters, iteration for
 * `config show`, applying settings to generation parameters, and the
 * copies each layer is applied to. */
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

/* ---- reads ---- */

static const cfg_entry *typed(const ingot_config *cfg, const char *key, cfg_type t) {
    const cfg_entry *e = cfg && key ? ingot_config_find(cfg, key) : NULL;
    return e && e->spec->type == t ? e : NULL;
}

const char *ingot_config_get_str(const ingot_config *cfg, const char *key) {
    const cfg_entry *e = typed(cfg, key, CFG_STR);
    return e ? e->text : NULL;
}

int64_t ingot_config_get_int(const ingot_config *cfg, const char *key) {
    const cfg_entry *e = typed(cfg, key, CFG_INT);
    return e ? e->i : 0;
}

double ingot_config_get_float(const ingot_config *cfg, const char *key) {
    const cfg_entry *e = typed(cfg, key, CFG_FLOAT);
    return e ? e->f : 0;
}

bool ingot_config_get_bool(const ingot_config *cfg, const char *key) {
    const cfg_entry *e = typed(cfg, key, CFG_BOOL);
    return e ? e->b : false;
}

int32_t ingot_config_get_list(const ingot_config *cfg, const char *key, const char *const **items) {
    const cfg_entry *e = typed(cfg, key, CFG_LIST);
    if (items) *items = e ? (const char *const *)e->list : NULL;
    return e ? e->n_list : 0;
}

static void fill_setting(const cfg_entry *e, ingot_setting *s) {
    s->key = e->key;
    s->value = (e->spec->flags & CFG_SECRET) && *e->text ? "********" : e->text;
    s->type = cfg_type_name(e->spec->type);
    s->source = e->source;
    s->origin = e->origin;
    s->env = e->env;
    s->help = e->spec->help;
}

bool ingot_config_get(const ingot_config *cfg, const char *key, ingot_setting *out) {
    const cfg_entry *e = cfg && key ? ingot_config_find(cfg, key) : NULL;
    if (e && out) fill_setting(e, out);
    return e != NULL;
}

static int cmp_entry_ptr(const void *a, const void *b) {
    return strcmp((*(const cfg_entry *const *)a)->key, (*(const cfg_entry *const *)b)->key);
}

void ingot_config_foreach(const ingot_config *cfg, bool (*fn)(const ingot_setting *s, void *user), void *user) {
    if (!cfg || !fn) return;
    const cfg_entry **v = malloc(cfg->n * sizeof *v + 1);
    if (!v) return;
    for (size_t i = 0; i < cfg->n; i++) v[i] = &cfg->e[i];
    qsort(v, cfg->n, sizeof *v, cmp_entry_ptr);
    for (size_t i = 0; i < cfg->n; i++) {
        ingot_setting s;
        fill_setting(v[i], &s);
        if (!fn(&s, user)) break;
    }
    free(v);
}

int32_t ingot_config_remotes(const ingot_config *cfg, const char **names, int32_t cap) {
    if (!cfg) return 0;
    for (int32_t i = 0; names && i < cfg->n_remotes && i < cap; i++) names[i] = cfg->remotes[i];
    return cfg->n_remotes;
}

void ingot_config_apply(const ingot_config *cfg, ingot_generate_params *gp, ingot_session_params *sp) {
    if (!cfg) return;
    if (gp) {
        gp->max_tokens = (int32_t)ingot_config_get_int(cfg, "inference.max_tokens");
        gp->sampling.temperature = (float)ingot_config_get_float(cfg, "inference.temperature");
        gp->sampling.top_p = (float)ingot_config_get_float(cfg, "inference.top_p");
        gp->sampling.top_k = (int32_t)ingot_config_get_int(cfg, "inference.top_k");
        gp->sampling.repeat_penalty = (float)ingot_config_get_float(cfg, "inference.repeat_penalty");
    }
    if (sp) {
        sp->context.n_threads = (int32_t)ingot_config_get_int(cfg, "inference.threads");
        sp->context.n_ctx = (int32_t)ingot_config_get_int(cfg, "inference.context");
    }
}

ingot_log_level ingot_config_log_level(const ingot_config *cfg) {
    const char *s = ingot_config_get_str(cfg, "log.level");
    if (!s) return INGOT_LOG_WARN;
    if (!strcmp(s, "error")) return INGOT_LOG_ERROR;
    if (!strcmp(s, "info")) return INGOT_LOG_INFO;
    if (!strcmp(s, "debug")) return INGOT_LOG_DEBUG;
    return INGOT_LOG_WARN;
}

/* ---- copies ----
 * Each layer is applied to a copy that replaces the original only when the
 * whole layer is valid, so a failed load leaves the config as it was. */

static bool copy_str(char **dst, const char *src) {
    if (!src) return *dst = NULL, true;
    return (*dst = cfg_strdup(src)) != NULL;
}

ingot_config *ingot_config_clone(const ingot_config *cfg) {
    ingot_config *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->e = calloc(cfg->n ? cfg->n : 1, sizeof *c->e);
    c->remotes = calloc(cfg->n_remotes ? (size_t)cfg->n_remotes : 1, sizeof *c->remotes);
    if (!c->e || !c->remotes || !copy_str(&c->file, cfg->file)) goto fail;
    c->cap = cfg->n ? cfg->n : 1;
    for (; c->n < cfg->n; c->n++) {
        const cfg_entry *s = &cfg->e[c->n];
        cfg_entry *d = &c->e[c->n];
        *d = *s;
        d->key = d->origin = d->env = d->text = NULL;
        d->list = NULL;
        d->n_list = 0;
        if (!copy_str(&d->key, s->key) || !copy_str(&d->origin, s->origin) || !copy_str(&d->env, s->env) ||
            !copy_str(&d->text, s->text)) {
            c->n++;
            goto fail;
        }
        if (s->n_list) {
            d->list = calloc((size_t)s->n_list, sizeof *d->list);
            if (!d->list) {
                c->n++;
                goto fail;
            }
            for (; d->n_list < s->n_list; d->n_list++)
                if (!copy_str(&d->list[d->n_list], s->list[d->n_list])) {
                    c->n++;
                    goto fail;
                }
        }
    }
    for (; c->n_remotes < cfg->n_remotes; c->n_remotes++)
        if (!copy_str(&c->remotes[c->n_remotes], cfg->remotes[c->n_remotes])) goto fail;
    return c;
fail:
    ingot_config_free(c);
    return NULL;
}

void ingot_config_swap(ingot_config *a, ingot_config *b) {
    ingot_config t = *a;
    *a = *b;
    *b = t;
}
