/* Owns the `cpu` backend (also called `gguf`): ingot's own engine, a thin
 * wrapper around a session (ingot_session_*). Loading accepts a GGUF file
 * or a hub reference, which the hub layer resolves through its cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/backend.h"
#include "base/error.h"
#include "base/platform.h"

typedef struct cpu_state {
    ingot_session_params sp;
    char *chat_template; /* copy of sp.chat_template */
    ingot_session *session;
} cpu_state;

static bool cpu_is_available(ingot_backend *b, char *reason, size_t cap) {
    cpu_state *s = b->impl;
    const ingot_cpu_features *f = ingot_cpu();
    char feats[128] = "";
    const struct {
        bool on;
        const char *name;
    } list[] = {{f->avx2, "avx2"}, {f->fma, "fma"}, {f->f16c, "f16c"}, {f->avx512f, "avx512f"},
                {f->neon, "neon"}, {f->dotprod, "dotprod"}, {f->i8mm, "i8mm"}};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        if (list[i].on) {
            strcat(feats, feats[0] ? " " : "");
            strcat(feats, list[i].name);
        }
    int threads = s->sp.context.n_threads > 0 ? s->sp.context.n_threads : ingot_cpu_count();
    snprintf(reason, cap, "ingot's own engine: GGUF models on %d thread%s%s%s", threads, threads == 1 ? "" : "s",
             feats[0] ? ", " : "", feats);
    return true;
}

static ingot_status cpu_load(ingot_backend *b, const char *model, char **name, ingot_error *err) {
    cpu_state *s = b->impl;
    char *resolved = NULL;
    struct stat st;
    if (stat(model, &st) != 0 && ingot_hub_is_reference(model)) {
        ingot_status rs = ingot_hub_resolve(model, NULL, &resolved, err);
        if (rs) return rs;
    }
    const char *path = resolved ? resolved : model;
    ingot_status rc = ingot_session_open(path, NULL, &s->sp, &s->session, err);
    if (rc == INGOT_OK) {
        *name = resolved ? resolved : strdup(model);
        if (!*name) {
            ingot_session_free(s->session);
            s->session = NULL;
            return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        }
        return INGOT_OK;
    }
    free(resolved);
    return rc;
}

static ingot_status cpu_generate(ingot_backend *b, const ingot_generate_params *p, ingot_piece_fn fn, void *user,
                                 ingot_metrics *m, ingot_error *err) {
    cpu_state *s = b->impl;
    ingot_status st = ingot_session_generate(s->session, p, fn, user, m);
    if (st) ingot_error_set(err, st, "%s", ingot_session_errmsg(s->session));
    return st;
}

static void cpu_reset(ingot_backend *b) {
    cpu_state *s = b->impl;
    ingot_session_reset(s->session);
}

static void cpu_unload(ingot_backend *b) {
    cpu_state *s = b->impl;
    ingot_session_free(s->session);
    s->session = NULL;
}

static ingot_status cpu_list(ingot_backend *b, bool (*fn)(const char *, void *), void *user, ingot_error *err) {
    (void)b, (void)fn, (void)user, (void)err;
    return INGOT_OK;
}

static void cpu_destroy(ingot_backend *b) {
    cpu_state *s = b->impl;
    free(s->chat_template);
    free(s);
}

static const ingot_backend_ops CPU_OPS = {cpu_is_available, cpu_load, cpu_generate, cpu_reset,
                                          cpu_unload,       cpu_list, cpu_destroy};

ingot_status ingot_backend_new_cpu(const ingot_session_params *sp, ingot_backend **out, ingot_error *err) {
    *out = NULL;
    cpu_state *s = calloc(1, sizeof *s);
    if (!s) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    s->sp = sp ? *sp : ingot_session_default_params();
    if (s->sp.chat_template) {
        s->chat_template = strdup(s->sp.chat_template);
        if (!s->chat_template) {
            free(s);
            return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        }
        s->sp.chat_template = s->chat_template;
    }
    ingot_status st = ingot_backend_alloc(&CPU_OPS, INGOT_BACKEND_CPU, "cpu", s, out, err);
    if (st) cpu_destroy(&(ingot_backend){.impl = s});
    return st;
}

ingot_session *ingot_backend_session(ingot_backend *b) {
    if (!b || b->kind != INGOT_BACKEND_CPU) return NULL;
    return ((cpu_state *)b->impl)->session;
}
