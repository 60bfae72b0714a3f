/* Owns backend selection: reading a model reference's scheme, the strategy
 * (--backend > INGOT_BACKEND > inference.backend > auto) and the platform
 * facts into an ordered plan (ingot_backend_plan_for, no I/O), then
 * executing it (ingot_backend_open_for_model): each step is created,
 * checked for availability and asked to load the model, and every attempt
 * is recorded with its reason so that callers can show the whole story.
 * Also the optional short benchmark when a model has loaded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend/backend.h"
#include "base/error.h"
#include "base/platform.h"

static bool starts_with(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }

static bool looks_gguf(const char *model) {
    size_t n = strlen(model);
    if (n >= 5 && !strcasecmp(model + n - 5, ".gguf")) return true;
    for (const char *p = model; *p; p++)
        if (!strncasecmp(p, "gguf", 4)) return true; /* "org/Model-GGUF", "org/repo:Q4_K_M" repos */
    return false;
}

static bool is_remote_name(const ingot_config *cfg, const char *name) {
    char key[128];
    snprintf(key, sizeof key, "remotes.%s.url", name);
    return ingot_config_get_str(cfg, key) != NULL;
}

static void step_remote(ingot_plan_step *s, const ingot_config *cfg, const char *name, const char *model,
                        const char *why) {
    memset(s, 0, sizeof *s);
    char key[128];
    snprintf(s->backend, sizeof s->backend, "%s", name);
    s->kind = INGOT_BACKEND_REMOTE;
    snprintf(key, sizeof key, "remotes.%s.api", name);
    const char *api = ingot_config_get_str(cfg, key);
    s->api = api && !strcmp(api, "ollama") ? INGOT_REMOTE_OLLAMA : INGOT_REMOTE_OPENAI;
    snprintf(key, sizeof key, "remotes.%s.url", name);
    const char *url = ingot_config_get_str(cfg, key);
    snprintf(s->url, sizeof s->url, "%s", url ? url : "");
    snprintf(s->model, sizeof s->model, "%s", model);
    snprintf(s->why, sizeof s->why, "%s", why);
}

static void step_local(ingot_plan_step *s, ingot_backend_kind kind, const char *model, const char *why) {
    memset(s, 0, sizeof *s);
    snprintf(s->backend, sizeof s->backend, "%s", ingot_backend_kind_str(kind));
    s->kind = kind;
    snprintf(s->model, sizeof s->model, "%s", model);
    snprintf(s->why, sizeof s->why, "%s", why);
}

/* The model a remote gets when it serves as a fallback. */
static const char *fallback_model(const ingot_config *cfg, const char *name, const char *model) {
    char key[128];
    snprintf(key, sizeof key, "remotes.%s.model", name);
    const char *m = ingot_config_get_str(cfg, key);
    return m && *m ? m : model;
}

static void strategy_origin(const ingot_config *cfg, char *buf, size_t n) {
    ingot_setting s;
    if (!ingot_config_get(cfg, "inference.backend", &s) || s.source == INGOT_CONFIG_DEFAULT) snprintf(buf, n, "default");
    else snprintf(buf, n, "%s", s.origin);
}

/* Parses scheme references into a single step. Returns 1 when model_ref
 * has a backend scheme, 0 when it has none, or an error. */
static int plan_reference(const char *ref, const ingot_config *cfg, ingot_plan_step *s, char *scheme, size_t sn,
                          ingot_error *err, ingot_status *st) {
    *st = INGOT_OK;
    const char *sep = strstr(ref, "://");
    if (!sep || starts_with(ref, "hf://")) return 0;
    snprintf(scheme, sn, "%.*s://", (int)(sep - ref), ref);
    const char *rest = sep + 3;
    if (starts_with(ref, "ollama://") || starts_with(ref, "lmstudio://")) {
        const char *name = ref[0] == 'o' ? "ollama" : "lmstudio";
        if (!*rest) {
            *st = ingot_error_set(err, INGOT_E_INVALID_ARG, "'%s' names no model: write %sMODEL", ref, scheme);
            return -1;
        }
        char why[256];
        snprintf(why, sizeof why, "the model reference %s names the %s remote", scheme, name);
        step_remote(s, cfg, name, rest, why);
        return 1;
    }
    if (starts_with(ref, "openai+http://") || starts_with(ref, "openai+https://") ||
        starts_with(ref, "ollama+http://") || starts_with(ref, "ollama+https://")) {
        const char *hash = strchr(ref, '#');
        const char *url = strchr(ref, '+') + 1;
        bool ollama = ref[1] == 'l';
        if (!hash || !hash[1]) {
            *st = ingot_error_set(err, INGOT_E_INVALID_ARG, "'%s' names no model: write %.*s#MODEL", ref,
                                  (int)(hash ? hash - ref : (long)strlen(ref)), ref);
            return -1;
        }
        const char *host = strstr(url, "://") + 3;
        if (host == hash || *host == '/' || *host == ':') {
            *st = ingot_error_set(err, INGOT_E_INVALID_ARG, "'%s' has no host", ref);
            return -1;
        }
        memset(s, 0, sizeof *s);
        snprintf(s->backend, sizeof s->backend, "%s", ollama ? "ollama" : "openai");
        s->kind = INGOT_BACKEND_REMOTE;
        s->api = ollama ? INGOT_REMOTE_OLLAMA : INGOT_REMOTE_OPENAI;
        if ((size_t)(hash - url) >= sizeof s->url) {
            *st = ingot_error_set(err, INGOT_E_INVALID_ARG, "the URL in '%.60s...' is too long", ref);
            return -1;
        }
        snprintf(s->url, sizeof s->url, "%.*s", (int)(hash - url), url);
        snprintf(s->model, sizeof s->model, "%s", hash + 1);
        snprintf(s->why, sizeof s->why, "the model reference names an %s server at %s",
                 ollama ? "Ollama" : "OpenAI-compatible", s->url);
        return 1;
    }
    if (starts_with(ref, "mlx://")) {
        if (!*rest) {
            *st = ingot_error_set(err, INGOT_E_INVALID_ARG, "'%s' names no model: write mlx://org/repo", ref);
            return -1;
        }
        step_local(s, INGOT_BACKEND_MLX, rest, "the model reference mlx:// names the mlx backend");
        return 1;
    }
    *st = ingot_error_set(err, INGOT_E_INVALID_ARG,
                          "unknown model reference scheme '%s' in '%s' (known: ollama://, lmstudio://, "
                          "openai+http(s)://, ollama+http(s)://, mlx://, hf://)",
                          scheme, ref);
    return -1;
}

/* Why auto puts cpu (or mlx) first on this platform. */
static ingot_backend_kind auto_choice(const ingot_platform *pf, const char *model, char *why, size_t n) {
    bool mac = !strcmp(pf->os, "macos");
    if (mac && pf->apple_silicon && pf->mlx_engine && !looks_gguf(model)) {
        snprintf(why, n, "auto: Apple Silicon with the MLX engine built in, and the model is not GGUF");
        return INGOT_BACKEND_MLX;
    }
    if (mac && pf->apple_silicon && pf->mlx_engine)
        snprintf(why, n, "auto: the model is GGUF, which the cpu backend runs (MLX takes MLX-format models)");
    else if (mac && pf->apple_silicon)
        snprintf(why, n, "auto: Apple Silicon, but this build has no MLX engine, so cpu");
    else if (mac)
        snprintf(why, n, "auto: this Mac is %s, not Apple Silicon, so MLX is out and cpu runs the model", pf->arch);
    else
        snprintf(why, n, "auto: %s %s is not macOS on Apple Silicon, so MLX is out and cpu runs the model", pf->os,
                 pf->arch);
    return INGOT_BACKEND_CPU;
}

static bool plan_has(const ingot_backend_plan *p, const char *name) {
    for (int32_t i = 0; i < p->n_steps; i++)
        if (!strcmp(p->steps[i].backend, name)) return true;
    return false;
}

static ingot_status plan_impl(const char *model_ref, const ingot_config *cfg, const ingot_platform *pf,
                              ingot_backend_plan *out, ingot_error *err) {
    memset(out, 0, sizeof *out);
    if (!model_ref || !*model_ref) return ingot_error_set(err, INGOT_E_INVALID_ARG, "no model given");
    const char *strategy = ingot_config_get_str(cfg, "inference.backend");
    if (!strategy) strategy = "auto";
    char origin[512];
    strategy_origin(cfg, origin, sizeof origin);

    char scheme[64];
    ingot_status st;
    int r = plan_reference(model_ref, cfg, &out->steps[0], scheme, sizeof scheme, err, &st);
    if (r < 0) return st;
    if (r == 1) {
        const ingot_plan_step *s = &out->steps[0];
        bool fits = !strcmp(strategy, "auto") || !strcmp(strategy, s->backend) ||
                    (s->kind == INGOT_BACKEND_REMOTE && !strcmp(strategy, "remote"));
        if (!fits)
            return ingot_error_set(err, INGOT_E_INVALID_ARG,
                                   "the model reference '%s' needs the %s backend, but the backend is set to '%s' (%s)",
                                   model_ref, s->kind == INGOT_BACKEND_REMOTE ? "remote" : s->backend, strategy,
                                   origin);
        snprintf(out->strategy, sizeof out->strategy, "%s", scheme);
        snprintf(out->origin, sizeof out->origin, "model reference");
        snprintf(out->why, sizeof out->why, "%s", s->why);
        out->n_steps = 1;
        return INGOT_OK;
    }
    snprintf(out->strategy, sizeof out->strategy, "%s", strategy);
    snprintf(out->origin, sizeof out->origin, "%s", origin);
    const char *const *chain;
    int32_t n_chain = ingot_config_get_list(cfg, "inference.fallback", &chain);
    char why[256];
    if (!strcmp(strategy, "auto")) {
        ingot_backend_kind k = auto_choice(pf, model_ref, out->why, sizeof out->why);
        step_local(&out->steps[out->n_steps++], k, model_ref, out->why);
        for (int32_t i = 0; i < n_chain && out->n_steps < INGOT_PLAN_MAX; i++) {
            const char *name = !strcmp(chain[i], "gguf") ? "cpu" : chain[i];
            if (plan_has(out, name)) continue;
            snprintf(why, sizeof why, "fallback %d of inference.fallback", (int)i + 1);
            if (!strcmp(name, "cpu")) step_local(&out->steps[out->n_steps++], INGOT_BACKEND_CPU, model_ref, why);
            else if (!strcmp(name, "mlx")) step_local(&out->steps[out->n_steps++], INGOT_BACKEND_MLX, model_ref, why);
            else if (is_remote_name(cfg, name))
                step_remote(&out->steps[out->n_steps++], cfg, name, fallback_model(cfg, name, model_ref), why);
        }
        return INGOT_OK;
    }
    snprintf(why, sizeof why, "the backend is set to '%s' (%s)", strategy, origin);
    snprintf(out->why, sizeof out->why, "%s", why);
    if (!strcmp(strategy, "cpu") || !strcmp(strategy, "gguf")) {
        step_local(&out->steps[out->n_steps++], INGOT_BACKEND_CPU, model_ref, why);
    } else if (!strcmp(strategy, "mlx")) {
        step_local(&out->steps[out->n_steps++], INGOT_BACKEND_MLX, model_ref, why);
    } else if (!strcmp(strategy, "remote")) {
        for (int32_t i = 0; i < n_chain && out->n_steps < INGOT_PLAN_MAX; i++) {
            if (!is_remote_name(cfg, chain[i]) || plan_has(out, chain[i])) continue;
            char w2[256];
            snprintf(w2, sizeof w2, "remote %d of inference.fallback", out->n_steps + 1);
            step_remote(&out->steps[out->n_steps++], cfg, chain[i], fallback_model(cfg, chain[i], model_ref), w2);
        }
        if (out->n_steps == 0)
            return ingot_error_set(err, INGOT_E_INVALID_ARG,
                                   "the backend is set to 'remote' (%s) but inference.fallback names no remote", origin);
    } else if (is_remote_name(cfg, strategy)) {
        step_remote(&out->steps[out->n_steps++], cfg, strategy, model_ref, why);
    } else {
        return ingot_error_set(err, INGOT_E_INVALID_ARG,
                               "unknown backend '%s' (%s): expected auto, cpu, gguf, mlx, remote or a configured remote",
                               strategy, origin);
    }
    return INGOT_OK;
}

ingot_status ingot_backend_plan_for(const char *model_ref, const ingot_config *cfg, const ingot_platform *pf,
                                    ingot_backend_plan *out, ingot_error *err) {
    ingot_platform here;
    if (!pf) {
        ingot_platform_detect(&here);
        pf = &here;
    }
    ingot_config *def = NULL;
    if (!cfg) {
        ingot_status st = ingot_config_new(&def, err);
        if (st) return st;
        cfg = def;
    }
    ingot_status st = plan_impl(model_ref, cfg, pf, out, err);
    ingot_config_free(def);
    return st;
}

/* ---- executing a plan ---- */

static ingot_status create_step(const ingot_plan_step *s, const ingot_config *cfg, const ingot_platform *pf,
                                const ingot_session_params *sp, ingot_backend **out, ingot_error *err) {
    if (s->kind == INGOT_BACKEND_CPU) return ingot_backend_new("cpu", cfg, pf, sp, out, err);
    if (s->kind == INGOT_BACKEND_MLX) return ingot_backend_new_mlx(pf, out, err);
    if (is_remote_name(cfg, s->backend)) { /* the configured remote, unless a reference named another URL */
        char key[128];
        snprintf(key, sizeof key, "remotes.%s.url", s->backend);
        const char *url = ingot_config_get_str(cfg, key);
        if (url && !strcmp(url, s->url)) return ingot_backend_new(s->backend, cfg, pf, sp, out, err);
    }
    /* a server named by URL in the model reference */
    ingot_remote_params p = ingot_remote_default_params();
    p.name = s->backend;
    p.api = s->api;
    p.url = s->url;
    p.api_key = s->api == INGOT_REMOTE_OPENAI ? ingot_config_get_str(cfg, "network.api_key") : NULL;
    p.connect_timeout_ms = (int32_t)ingot_config_get_int(cfg, "network.connect_timeout_ms");
    p.read_timeout_ms = (int32_t)ingot_config_get_int(cfg, "network.read_timeout_ms");
    p.probe_timeout_ms = (int32_t)ingot_config_get_int(cfg, "network.probe_timeout_ms");
    return ingot_backend_new_remote(&p, out, err);
}

static bool discard(const char *piece, size_t len, void *user) {
    (void)piece, (void)len, (void)user;
    return true;
}

/* A short, deterministic generation right after loading: greedy, 16
 * tokens, the same prompt on every backend. */
static void startup_benchmark(ingot_backend *b, ingot_backend_report *r) {
    ingot_generate_params gp = ingot_generate_default_params();
    gp.prompt = "Once upon a time";
    gp.max_tokens = 16;
    gp.sampling.temperature = 0;
    gp.sampling.seed = 0;
    ingot_status st = ingot_backend_generate(b, &gp, discard, NULL, &r->bench);
    r->benchmarked = true;
    if (st) {
        ingot_log(INGOT_LOG_WARN, "startup benchmark on %s failed: %s", b->name, b->err.message);
    } else {
        ingot_log(INGOT_LOG_INFO,
                  "startup benchmark on %s (%s): %d prompt tokens at %.1f tok/s, %d generated at %.1f tok/s, "
                  "first token after %.1f ms, %.1f ms in all",
                  b->name, b->model, r->bench.prompt_tokens, r->bench.prompt_tps, r->bench.generated_tokens,
                  r->bench.gen_tps, r->bench.ttft_ms, r->bench.total_ms);
    }
    ingot_backend_reset(b);
}

ingot_status ingot_backend_open_for_model(const char *model_ref, const ingot_config *cfg,
                                          const ingot_backend_open_params *p, ingot_backend **out,
                                          ingot_backend_report *report, ingot_error *err) {
    *out = NULL;
    ingot_backend_report *r = report ? report : calloc(1, sizeof *r);
    if (!r) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    memset(r, 0, sizeof *r);
    ingot_platform here;
    const ingot_platform *pf = p && p->platform ? p->platform : NULL;
    if (!pf) {
        ingot_platform_detect(&here);
        pf = &here;
    }
    ingot_config *def = NULL;
    ingot_status st = INGOT_OK;
    if (!cfg) {
        st = ingot_config_new(&def, err);
        cfg = def;
    }
    if (!st) st = plan_impl(model_ref, cfg, pf, &r->plan, err);
    ingot_backend *found = NULL;
    for (int32_t i = 0; !st && i < r->plan.n_steps && !found; i++) {
        const ingot_plan_step *s = &r->plan.steps[i];
        ingot_backend_attempt *a = &r->attempts[r->n_attempts++];
        snprintf(a->backend, sizeof a->backend, "%s", s->backend);
        snprintf(a->model, sizeof a->model, "%s", s->model);
        double t0 = ingot_time_ms();
        ingot_backend *b = NULL;
        ingot_error e = {0};
        char why[512];
        a->status = create_step(s, cfg, pf, p ? p->session : NULL, &b, &e);
        if (a->status) {
            snprintf(a->reason, sizeof a->reason, "%s", e.message);
        } else if (!ingot_backend_is_available(b, why, sizeof why)) {
            a->status = INGOT_E_UNAVAILABLE;
            snprintf(a->reason, sizeof a->reason, "unavailable: %s", why);
        } else if ((a->status = ingot_backend_load(b, s->model, &e)) != INGOT_OK) {
            snprintf(a->reason, sizeof a->reason, "%s", e.message);
        } else {
            a->ms = ingot_time_ms() - t0;
            snprintf(a->reason, sizeof a->reason, "loaded %s in %.0f ms (%s)", b->model, a->ms, why);
            found = b;
        }
        a->ms = ingot_time_ms() - t0;
        if (!found) ingot_backend_free(b);
        ingot_log(found ? INGOT_LOG_INFO : INGOT_LOG_WARN, "backend %s: %s", a->backend, a->reason);
        if (p && p->on_attempt) p->on_attempt(a, p->user);
    }
    if (!st && !found) {
        /* Every step failed: say what each one said. */
        const ingot_backend_attempt *last = &r->attempts[r->n_attempts - 1];
        st = last->status ? last->status : INGOT_E_INTERNAL;
        if (r->n_attempts == 1) {
            ingot_error_set(err, st, "%s backend (%s): %s", last->backend, r->plan.why, last->reason);
        } else {
            char msg[sizeof err->message];
            int off = snprintf(msg, sizeof msg, "no backend could run '%s':", model_ref);
            for (int32_t i = 0; i < r->n_attempts && off > 0 && (size_t)off < sizeof msg; i++)
                off += snprintf(msg + off, sizeof msg - (size_t)off, "%s %s: %s", i ? ";" : "", r->attempts[i].backend,
                                r->attempts[i].reason);
            ingot_error_set(err, st, "%s", msg);
        }
    }
    if (!st && ingot_config_get_bool(cfg, "inference.benchmark_on_startup")) startup_benchmark(found, r);
    ingot_config_free(def);
    if (!report) free(r);
    if (st) return st;
    *out = found;
    return INGOT_OK;
}
