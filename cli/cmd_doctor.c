/* `ingot doctor`: what this machine is, which backends can run here and
 * why not when they cannot, what `auto` picks and why, the fallback chain
 * with the reachability of each remote (probed with a short timeout), the
 * model cache's location and size, and the config file in use. Every line
 * is a fact checked now, not a guess; --json gives the same as one object. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli.h"

static const char *USAGE =
    "usage: ingot doctor [--json] [--config FILE] [--backend NAME] [-m MODEL]\n"
    "\n"
    "Reports this machine (OS, architecture, CPU model and features, cores, RAM),\n"
    "each backend with whether it can run here and why, what the backend\n"
    "strategy (auto unless set) picks and why, the fallback chain with each\n"
    "remote's reachability (probed for network.probe_timeout_ms, default 1 s),\n"
    "the model cache's location and size, and the config file in use.\n"
    "\n"
    "options:\n"
    "  --json           one JSON object instead of the report\n"
    "  --config FILE    read settings from FILE instead of the default config file\n"
    "  --backend NAME   show the plan for this strategy (auto, cpu, mlx, remote, a remote)\n"
    "  -m, --model REF  show the plan for this model (a .gguf file, ollama://NAME, ...)\n"
    "\n"
    "Exit status: 0 the report was made (whatever it says), 1 a bad config, 2 bad usage.\n";

typedef struct probe {
    char name[64];
    const char *kind;
    bool available;
    char reason[768];
    char url[512];
} probe;

#define MAX_PROBES 40

static void human_bytes(uint64_t b, char *buf, size_t n) {
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    int i = 0;
    while (v >= 1024 && i < 4) v /= 1024, i++;
    snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void probe_backend(const char *name, const ingot_config *cfg, const ingot_platform *pf, probe *p) {
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    ingot_backend *b = NULL;
    ingot_error err = {0};
    if (ingot_backend_new(name, cfg, pf, NULL, &b, &err) != INGOT_OK) {
        p->kind = "remote";
        snprintf(p->reason, sizeof p->reason, "%s", err.message);
        return;
    }
    p->kind = ingot_backend_kind_str(ingot_backend_kind_of(b));
    p->available = ingot_backend_is_available(b, p->reason, sizeof p->reason);
    char key[128];
    snprintf(key, sizeof key, "remotes.%s.url", name);
    const char *url = ingot_config_get_str(cfg, key);
    if (url) snprintf(p->url, sizeof p->url, "%s", url);
    ingot_backend_free(b);
}

static const probe *find_probe(const probe *v, int n, const char *name) {
    if (!strcmp(name, "gguf")) name = "cpu";
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i].name, name)) return &v[i];
    return NULL;
}

typedef struct cache_count {
    int n;
} cache_count;

static bool count_model(const ingot_hub_model *m, void *user) {
    (void)m;
    ((cache_count *)user)->n++;
    return true;
}

static json_t *plan_json(const ingot_backend_plan *p) {
    json_t *steps = json_array();
    for (int i = 0; i < p->n_steps; i++) {
        const ingot_plan_step *s = &p->steps[i];
        json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "backend", s->backend, "kind", ingot_backend_kind_str(s->kind),
                              "model", s->model, "why", s->why);
        if (s->kind == INGOT_BACKEND_REMOTE) {
            json_object_set_new(o, "api", json_string(ingot_remote_api_str(s->api)));
            json_object_set_new(o, "url", json_string(s->url));
        }
        json_array_append_new(steps, o);
    }
    return json_pack("{s:s,s:s,s:s,s:o}", "strategy", p->strategy, "origin", p->origin, "why", p->why, "steps", steps);
}

int cmd_doctor(int argc, char **argv) {
    const char *file = NULL, *backend = NULL, *model = NULL, *v;
    bool json = false, bad = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(USAGE, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (cli_flag_value(argc, argv, &i, "--config", &v, &bad, "doctor")) {
            file = v;
        } else if (cli_flag_value(argc, argv, &i, "--backend", &v, &bad, "doctor")) {
            backend = v;
        } else if (cli_flag_value(argc, argv, &i, "-m", &v, &bad, "doctor") ||
                   cli_flag_value(argc, argv, &i, "--model", &v, &bad, "doctor")) {
            model = v;
        } else {
            return cli_fail(2, "doctor", "unknown option '%s' (see `ingot doctor --help`)", argv[i]);
        }
        if (bad) return 2;
    }
    ingot_config *cfg = NULL;
    int rc = cli_config_load("doctor", file, &cfg);
    if (rc) return rc;
    ingot_error err = {0};
    if (backend && ingot_config_set(cfg, "inference.backend", backend, "--backend", &err) != INGOT_OK) {
        ingot_config_free(cfg);
        return cli_fail(2, "doctor", "%s", err.message);
    }
    ingot_platform pf;
    ingot_platform_detect(&pf);

    /* backends: the two built in, then every configured remote */
    static probe probes[MAX_PROBES];
    int np = 0;
    probe_backend("cpu", cfg, &pf, &probes[np++]);
    probe_backend("mlx", cfg, &pf, &probes[np++]);
    const char *remotes[MAX_PROBES];
    int32_t nr = ingot_config_remotes(cfg, remotes, MAX_PROBES - 2);
    for (int32_t i = 0; i < nr && np < MAX_PROBES; i++) probe_backend(remotes[i], cfg, &pf, &probes[np++]);

    /* selection */
    ingot_backend_plan plan_gguf, plan_dir, plan_model;
    bool have_model = false;
    ingot_status pst = ingot_backend_plan_for("model.gguf", cfg, &pf, &plan_gguf, &err);
    if (pst == INGOT_OK) pst = ingot_backend_plan_for("org/model", cfg, &pf, &plan_dir, &err);
    char plan_err[1024] = "";
    if (pst) snprintf(plan_err, sizeof plan_err, "%s", err.message);
    if (model) {
        if (ingot_backend_plan_for(model, cfg, &pf, &plan_model, &err) == INGOT_OK) have_model = true;
        else snprintf(plan_err, sizeof plan_err, "%s", err.message);
    }
    const char *const *chain;
    int32_t n_chain = ingot_config_get_list(cfg, "inference.fallback", &chain);
    ingot_setting fb;
    ingot_config_get(cfg, "inference.fallback", &fb);

    /* cache */
    char cache[4096] = "";
    bool cache_known = ingot_hub_cache_dir(NULL, cache, sizeof cache);
    struct stat st;
    bool cache_exists = cache_known && stat(cache, &st) == 0 && S_ISDIR(st.st_mode);
    uint64_t cache_bytes = 0;
    cache_count cc = {0};
    char cache_err[512] = "";
    if (cache_exists && ingot_hub_list(NULL, count_model, &cc, &cache_bytes, &err) != INGOT_OK)
        snprintf(cache_err, sizeof cache_err, "%s", err.message);
    const char *cfg_file = ingot_config_file(cfg);
    char def[4096] = "";
    ingot_config_default_path(NULL, def, sizeof def);

    if (json) {
        json_t *sys = json_pack("{s:s,s:s,s:b,s:s,s:s,s:i,s:I,s:I}", "os", pf.os, "arch", pf.arch, "apple_silicon",
                                pf.apple_silicon, "cpu", pf.cpu_model, "features", pf.cpu_features, "cores", pf.n_cores,
                                "ram_bytes", (json_int_t)pf.ram_total, "ram_available_bytes",
                                (json_int_t)pf.ram_available);
        json_t *bk = json_array();
        for (int i = 0; i < np; i++) {
            json_t *o = json_pack("{s:s,s:s,s:b,s:s}", "name", probes[i].name, "kind", probes[i].kind, "available",
                                  probes[i].available, "reason", probes[i].reason);
            if (probes[i].url[0]) json_object_set_new(o, "url", json_string(probes[i].url));
            json_array_append_new(bk, o);
        }
        json_t *chain_j = json_array();
        for (int32_t i = 0; i < n_chain; i++) {
            const probe *p = find_probe(probes, np, chain[i]);
            json_array_append_new(chain_j, json_pack("{s:s,s:b,s:s}", "name", chain[i], "available", p && p->available,
                                                     "reason", p ? p->reason : "not a configured backend"));
        }
        json_t *sel = json_object();
        if (!pst) {
            json_object_set_new(sel, "gguf", plan_json(&plan_gguf));
            json_object_set_new(sel, "model_dir", plan_json(&plan_dir));
        }
        if (have_model) json_object_set_new(sel, "model", plan_json(&plan_model));
        if (plan_err[0]) json_object_set_new(sel, "error", json_string(plan_err));
        json_t *cache_j = json_pack("{s:s,s:b,s:i,s:I}", "path", cache, "exists", cache_exists, "models", cc.n, "bytes",
                                    (json_int_t)cache_bytes);
        if (cache_err[0]) json_object_set_new(cache_j, "error", json_string(cache_err));
        json_t *root = json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:{s:o,s:s}}", "version", ingot_version(), "system", sys,
                                 "backends", bk, "selection", sel, "fallback", chain_j, "cache", cache_j, "config", "file",
                                 cfg_file ? json_string(cfg_file) : json_null(), "default_file", def);
        json_dumpf(root, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(root);
        ingot_config_free(cfg);
        return 0;
    }

    char ram[32], avail[32];
    human_bytes(pf.ram_total, ram, sizeof ram);
    human_bytes(pf.ram_available, avail, sizeof avail);
    printf("ingot %s doctor\n\nsystem\n", ingot_version());
    printf("  os          %s\n", pf.os);
    printf("  arch        %s%s\n", pf.arch,
           pf.apple_silicon ? " (Apple Silicon)" : !strcmp(pf.os, "macos") ? " (Intel Mac)" : "");
    printf("  cpu         %s\n", pf.cpu_model);
    printf("  features    %s\n", pf.cpu_features[0] ? pf.cpu_features : "(no SIMD extensions found)");
    printf("  cores       %d\n", pf.n_cores);
    printf("  ram         %s total, %s available\n", ram, avail);

    printf("\nbackends\n");
    for (int i = 0; i < np; i++)
        printf("  %-10s %-11s %s\n", probes[i].name,
               probes[i].available ? "available" : !strcmp(probes[i].kind, "remote") ? "unreachable" : "unavailable",
               probes[i].reason);

    printf("\nselection\n");
    if (pst) {
        printf("  error       %s\n", plan_err);
    } else {
        printf("  strategy    %s (%s)\n", plan_gguf.strategy, plan_gguf.origin);
        printf("  picks       %s for GGUF models: %s\n", plan_gguf.steps[0].backend, plan_gguf.why);
        if (strcmp(plan_gguf.steps[0].backend, plan_dir.steps[0].backend))
            printf("  picks       %s for model directories: %s\n", plan_dir.steps[0].backend, plan_dir.why);
    }
    if (have_model) {
        printf("  %-11s", "model");
        for (int i = 0; i < plan_model.n_steps; i++)
            printf("%s%s", i ? " -> " : " ", plan_model.steps[i].backend);
        printf(" (%s)\n", plan_model.why);
    } else if (model) {
        printf("  model       %s\n", plan_err);
    }
    printf("  fallback    ");
    for (int32_t i = 0; i < n_chain; i++) printf("%s%s", i ? " -> " : "", chain[i]);
    printf("%s(inference.fallback, %s)\n", n_chain ? " " : "(none) ",
           fb.source == INGOT_CONFIG_DEFAULT ? "default" : fb.origin);
    for (int32_t i = 0; i < n_chain; i++) {
        const probe *p = find_probe(probes, np, chain[i]);
        printf("    %d. %-10s %s%s%s\n", (int)i + 1, chain[i],
               !p ? "unknown" : p->available ? "available" : !strcmp(p->kind, "remote") ? "unreachable" : "unavailable",
               p && p->url[0] ? "  " : "", p ? p->url : "");
    }

    printf("\nmodels\n");
    if (!cache_known) {
        printf("  cache       unknown (set HF_HUB_CACHE, HF_HOME or HOME)\n");
    } else if (!cache_exists) {
        printf("  cache       %s (does not exist yet: no models downloaded)\n", cache);
    } else {
        char size[32];
        human_bytes(cache_bytes, size, sizeof size);
        printf("  cache       %s\n", cache);
        if (cache_err[0]) printf("  size        unknown: %s\n", cache_err);
        else printf("  size        %s in %d model%s\n", size, cc.n, cc.n == 1 ? "" : "s");
    }
    printf("\nconfig\n");
    if (cfg_file) printf("  file        %s\n", cfg_file);
    else if (def[0]) printf("  file        %s (not present: defaults and environment only)\n", def);
    else printf("  file        none (neither XDG_CONFIG_HOME nor HOME is set)\n");
    ingot_config_free(cfg);
    return 0;
}
