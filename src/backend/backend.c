/* Owns the public backend entry points: they check arguments, call the
 * backend's table (backend.h), keep the loaded model's name and the last
 * error, and make sure metrics are filled whatever happens. Also the
 * platform facts selection works on, and construction by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "base/error.h"
#include "base/platform.h"

const char *ingot_backend_kind_str(ingot_backend_kind k) {
    switch (k) {
    case INGOT_BACKEND_CPU: return "cpu";
    case INGOT_BACKEND_MLX: return "mlx";
    case INGOT_BACKEND_REMOTE: return "remote";
    }
    return "cpu";
}

const char *ingot_remote_api_str(ingot_remote_api a) { return a == INGOT_REMOTE_OLLAMA ? "ollama" : "openai"; }

void ingot_platform_detect(ingot_platform *out) {
    memset(out, 0, sizeof *out);
    snprintf(out->os, sizeof out->os, "%s", ingot_os_name());
    snprintf(out->arch, sizeof out->arch, "%s", ingot_arch_name());
    out->apple_silicon = ingot_is_apple_silicon();
    out->mlx_engine = false; /* no build of ingot contains an MLX engine yet */
    snprintf(out->cpu_model, sizeof out->cpu_model, "%s", ingot_cpu_model());
    const ingot_cpu_features *f = ingot_cpu();
    const struct {
        bool on;
        const char *name;
    } list[] = {{f->avx, "avx"},         {f->avx2, "avx2"},         {f->fma, "fma"},
                {f->f16c, "f16c"},       {f->avx512f, "avx512f"},   {f->avx512bw, "avx512bw"},
                {f->avx512vnni, "avx512vnni"}, {f->avxvnni, "avxvnni"}, {f->neon, "neon"},
                {f->dotprod, "dotprod"}, {f->fp16, "fp16"},         {f->i8mm, "i8mm"}};
    size_t off = 0;
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        if (list[i].on && off < sizeof out->cpu_features)
            off += (size_t)snprintf(out->cpu_features + off, sizeof out->cpu_features - off, "%s%s", off ? " " : "",
                                    list[i].name);
    out->n_cores = ingot_cpu_count();
    out->ram_total = ingot_ram_total();
    out->ram_available = ingot_ram_available();
}

ingot_status ingot_backend_alloc(const ingot_backend_ops *ops, ingot_backend_kind kind, const char *name,
                                 void *impl, ingot_backend **out, ingot_error *err) {
    ingot_backend *b = calloc(1, sizeof *b);
    if (!b) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    b->ops = ops;
    b->kind = kind;
    b->impl = impl;
    snprintf(b->name, sizeof b->name, "%s", name);
    *out = b;
    return INGOT_OK;
}

void ingot_backend_metrics_none(ingot_metrics *m) {
    if (!m) return;
    memset(m, 0, sizeof *m);
    m->finish = INGOT_FINISH_NONE;
    m->peak_rss_mb = (double)ingot_peak_rss() / (1024.0 * 1024.0);
}

void ingot_backend_free(ingot_backend *b) {
    if (!b) return;
    if (b->model) b->ops->unload(b);
    b->ops->destroy(b);
    free(b->model);
    free(b);
}

const char *ingot_backend_name(const ingot_backend *b) { return b ? b->name : ""; }
ingot_backend_kind ingot_backend_kind_of(const ingot_backend *b) { return b ? b->kind : INGOT_BACKEND_CPU; }
const char *ingot_backend_model(const ingot_backend *b) { return b ? b->model : NULL; }
const char *ingot_backend_errmsg(const ingot_backend *b) { return b ? b->err.message : ""; }

bool ingot_backend_is_available(ingot_backend *b, char *reason, size_t cap) {
    char dummy[8];
    if (!reason || cap == 0) reason = dummy, cap = sizeof dummy;
    reason[0] = 0;
    if (!b) {
        snprintf(reason, cap, "no backend");
        return false;
    }
    return b->ops->is_available(b, reason, cap);
}

ingot_status ingot_backend_load(ingot_backend *b, const char *model, ingot_error *err) {
    if (!b || !model) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_backend_load: NULL argument");
    ingot_error_clear(&b->err);
    if (b->model) {
        b->ops->unload(b);
        free(b->model);
        b->model = NULL;
    }
    char *name = NULL;
    ingot_status st = b->ops->load(b, model, &name, &b->err);
    if (st) {
        free(name);
        if (err) *err = b->err;
        return st;
    }
    b->model = name;
    return INGOT_OK;
}

ingot_status ingot_backend_generate(ingot_backend *b, const ingot_generate_params *params, ingot_piece_fn on_piece,
                                    void *user, ingot_metrics *metrics) {
    ingot_metrics local;
    if (!metrics) metrics = &local;
    ingot_backend_metrics_none(metrics);
    if (!b || !params) return INGOT_E_INVALID_ARG;
    ingot_error_clear(&b->err);
    if (!b->model)
        return ingot_error_set(&b->err, INGOT_E_INVALID_ARG, "%s: no model loaded (call ingot_backend_load first)",
                               b->name);
    return b->ops->generate(b, params, on_piece, user, metrics, &b->err);
}

void ingot_backend_reset(ingot_backend *b) {
    if (b && b->model) b->ops->reset(b);
}

void ingot_backend_unload(ingot_backend *b) {
    if (!b || !b->model) return;
    b->ops->unload(b);
    free(b->model);
    b->model = NULL;
}

ingot_status ingot_backend_list_models(ingot_backend *b, bool (*fn)(const char *id, void *user), void *user,
                                       ingot_error *err) {
    if (!b || !fn) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_backend_list_models: NULL argument");
    return b->ops->list_models(b, fn, user, err);
}

/* A remote named in the config, with its API key: its own, else the
 * variable its api_key_env names, else network.api_key (INGOT_API_KEY) for
 * OpenAI-compatible servers. */
static ingot_status remote_from_config(const char *name, const ingot_config *cfg, ingot_backend **out,
                                       ingot_error *err) {
    char key[128];
    snprintf(key, sizeof key, "remotes.%s.url", name);
    const char *url = ingot_config_get_str(cfg, key);
    if (!url) return ingot_error_set(err, INGOT_E_NOT_FOUND, "no remote named '%s' in the configuration", name);
    snprintf(key, sizeof key, "remotes.%s.api", name);
    const char *api = ingot_config_get_str(cfg, key);
    snprintf(key, sizeof key, "remotes.%s.api_key", name);
    const char *api_key = ingot_config_get_str(cfg, key);
    if (!api_key || !*api_key) {
        snprintf(key, sizeof key, "remotes.%s.api_key_env", name);
        const char *var = ingot_config_get_str(cfg, key);
        api_key = var && *var ? getenv(var) : NULL;
    }
    bool openai = !api || strcmp(api, "ollama");
    if ((!api_key || !*api_key) && openai) api_key = ingot_config_get_str(cfg, "network.api_key");
    ingot_remote_params p = ingot_remote_default_params();
    p.name = name;
    p.api = openai ? INGOT_REMOTE_OPENAI : INGOT_REMOTE_OLLAMA;
    p.url = url;
    p.api_key = api_key;
    p.connect_timeout_ms = (int32_t)ingot_config_get_int(cfg, "network.connect_timeout_ms");
    p.read_timeout_ms = (int32_t)ingot_config_get_int(cfg, "network.read_timeout_ms");
    p.probe_timeout_ms = (int32_t)ingot_config_get_int(cfg, "network.probe_timeout_ms");
    return ingot_backend_new_remote(&p, out, err);
}

ingot_status ingot_backend_new(const char *name, const ingot_config *cfg, const ingot_platform *pf,
                               const ingot_session_params *sp, ingot_backend **out, ingot_error *err) {
    *out = NULL;
    if (!name) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_backend_new: NULL name");
    if (!strcmp(name, "cpu") || !strcmp(name, "gguf")) {
        ingot_session_params local = ingot_session_default_params();
        if (!sp) {
            ingot_config_apply(cfg, NULL, &local);
            sp = &local;
        }
        return ingot_backend_new_cpu(sp, out, err);
    }
    if (!strcmp(name, "mlx")) return ingot_backend_new_mlx(pf, out, err);
    ingot_config *def = NULL;
    if (!cfg) {
        ingot_status st = ingot_config_new(&def, err);
        if (st) return st;
        cfg = def;
    }
    ingot_status st = remote_from_config(name, cfg, out, err);
    ingot_config_free(def);
    if (st == INGOT_E_NOT_FOUND)
        ingot_error_set(err, INGOT_E_NOT_FOUND, "unknown backend '%s': expected cpu, gguf, mlx or a configured remote",
                        name);
    return st;
}
