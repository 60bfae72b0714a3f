/* Owns the two entry points that turn a reference into local files:
 * ingot_hub_pull (ask the hub for the revision's commit and files, choose
 * what the reference needs, download what the cache lacks, then record the
 * ref) and ingot_hub_resolve (the cache first, with no network when it
 * already holds the model; a pull otherwise; a clear error offline). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/error.h"
#include "hub/hub.h"

void hub_snapshot_format(const char *snap, char *format, size_t fn, char *quant, size_t qn) {
    snprintf(format, fn, "safetensors");
    char path[HUB_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/config.json", snap);
    json_t *cfg = json_load_file(path, 0, NULL);
    if (!json_is_object(cfg)) {
        json_decref(cfg);
        return;
    }
    json_t *q = json_object_get(cfg, "quantization");
    bool mlx = json_is_object(q);
    if (!mlx) q = json_object_get(cfg, "quantization_config");
    json_t *bits = json_is_object(q) ? json_object_get(q, "bits") : NULL;
    if (mlx) snprintf(format, fn, "mlx");
    if (json_is_integer(bits)) {
        snprintf(quant, qn, "%dbit", (int)json_integer_value(bits));
    } else {
        const char *dt = json_string_value(json_object_get(cfg, "torch_dtype"));
        if (!dt) dt = json_string_value(json_object_get(cfg, "dtype"));
        if (dt && !strcmp(dt, "bfloat16")) snprintf(quant, qn, "BF16");
        else if (dt && !strcmp(dt, "float16")) snprintf(quant, qn, "F16");
        else if (dt && !strcmp(dt, "float32")) snprintf(quant, qn, "F32");
    }
    json_decref(cfg);
}

static void fill_result(ingot_hub_pull_result *out, const char *repo_dir, const hub_ref *ref,
                        const char *commit, const hub_file *files, const hub_selection *sel) {
    snprintf(out->repo, sizeof out->repo, "%s", ref->repo);
    snprintf(out->revision, sizeof out->revision, "%s", ref->revision);
    snprintf(out->commit, sizeof out->commit, "%s", commit);
    snprintf(out->note, sizeof out->note, "%s", sel->note);
    snprintf(out->quant, sizeof out->quant, "%s", sel->quant);
    snprintf(out->format, sizeof out->format, "%s", sel->format);
    out->n_files = sel->n;
    out->bytes_total = 0;
    for (int k = 0; k < sel->n; k++) out->bytes_total += files[sel->idx[k]].size;
    char snap[HUB_PATH_MAX];
    snprintf(snap, sizeof snap, "%s/snapshots/%s", repo_dir, commit);
    if (sel->main_idx >= 0) {
        snprintf(out->path, sizeof out->path, "%s/%s", snap, files[sel->main_idx].path);
    } else {
        snprintf(out->path, sizeof out->path, "%s", snap);
        hub_snapshot_format(snap, out->format, sizeof out->format, out->quant, sizeof out->quant);
    }
}

/* A snapshot-style model is usable when its config and every weight shard
 * the index names are present. */
static bool snapshot_complete(const char *snap, const hub_file *files, int n, ingot_error *err) {
    bool config = false, weights = false;
    for (int i = 0; i < n; i++) {
        if (!strcmp(files[i].path, "config.json")) config = true;
        size_t l = strlen(files[i].path);
        if (l > 12 && !strcmp(files[i].path + l - 12, ".safetensors")) weights = true;
    }
    if (!config || !weights) {
        ingot_error_set(err, INGOT_E_NOT_FOUND, "the cached snapshot %s lacks %s", snap,
                        !config ? "config.json" : "its .safetensors weights");
        return false;
    }
    char path[HUB_PATH_MAX + 40];
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", snap);
    json_t *idx = json_load_file(path, 0, NULL);
    if (!idx) return true;
    json_t *map = json_object_get(idx, "weight_map");
    const char *key;
    json_t *v;
    bool ok = true;
    json_object_foreach(map, key, v) {
        const char *shard = json_string_value(v);
        if (!shard) continue;
        bool found = false;
        for (int i = 0; i < n && !found; i++) found = !strcmp(files[i].path, shard);
        if (!found) {
            ingot_error_set(err, INGOT_E_NOT_FOUND, "the cached snapshot %s lacks the weight shard %s", snap, shard);
            ok = false;
            break;
        }
    }
    json_decref(idx);
    return ok;
}

/* Resolves ref from the cache alone. */
static ingot_status resolve_cached(const hub_env *env, const hub_ref *ref, ingot_hub_pull_result *out,
                                   ingot_error *err) {
    char repo_dir[HUB_PATH_MAX];
    if (!hub_repo_dir(env, ref->repo, repo_dir, sizeof repo_dir))
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "cache path too long");
    struct stat st;
    if (stat(repo_dir, &st) != 0)
        return ingot_error_set(err, INGOT_E_NOT_FOUND, "%s is not in the cache (%s)", ref->repo, env->cache);
    char commit[64];
    if (!hub_ref_read(repo_dir, ref->revision, commit))
        return ingot_error_set(err, INGOT_E_NOT_FOUND, "%s@%s is not in the cache (no %s/refs/%s)",
                               ref->repo, ref->revision, repo_dir, ref->revision);
    char snap[HUB_PATH_MAX + 80];
    snprintf(snap, sizeof snap, "%s/snapshots/%s", repo_dir, commit);
    hub_file *files = NULL;
    int n = 0;
    ingot_status s = hub_snapshot_files(snap, &files, &n, err);
    if (s) {
        ingot_error_set(err, INGOT_E_NOT_FOUND, "%s@%s: the snapshot %s is not in the cache", ref->repo,
                        ref->revision, snap);
        return INGOT_E_NOT_FOUND;
    }
    hub_selection sel;
    s = hub_select(ref, files, n, env->ram_bytes, &sel, err);
    if (s == INGOT_E_UNSUPPORTED) {
        s = ingot_error_set(err, INGOT_E_NOT_FOUND, "the cached snapshot %s holds no model files", snap);
    } else if (s == INGOT_E_NOT_FOUND) {
        ingot_error_prefix(err, "in the cache");
    } else if (s == INGOT_OK && sel.main_idx < 0 && !snapshot_complete(snap, files, n, err)) {
        s = INGOT_E_NOT_FOUND;
    }
    if (s == INGOT_OK && out) {
        fill_result(out, repo_dir, ref, commit, files, &sel);
        out->n_downloaded = 0;
        out->bytes_downloaded = 0;
    }
    hub_selection_free(&sel);
    free(files);
    return s;
}

static ingot_status offline_error(const char *refstr, ingot_error *err) {
    ingot_error_prefix(err, "offline (HF_HUB_OFFLINE is set)");
    if (err) {
        size_t l = strlen(err->message);
        snprintf(err->message + l, sizeof err->message - l,
                 "; pull it while online first: ingot pull %s", refstr);
    }
    return INGOT_E_NOT_FOUND;
}

static ingot_status pull_online(const hub_env *env, const hub_ref *ref, ingot_hub_pull_result *out,
                                ingot_error *err) {
    hub_http *http = NULL;
    ingot_status st = hub_http_new(env, &http, err);
    if (st) return st;
    char commit[64];
    hub_file *files = NULL;
    int n = 0;
    st = hub_http_revision(http, ref->repo, ref->revision, commit, &files, &n, err);
    hub_http_free(http);
    if (st) return st;
    hub_selection sel;
    st = hub_select(ref, files, n, env->ram_bytes, &sel, err);
    if (st) {
        free(files);
        return st;
    }
    char repo_dir[HUB_PATH_MAX];
    hub_repo_dir(env, ref->repo, repo_dir, sizeof repo_dir);
    const hub_file **want = malloc((size_t)(sel.n ? sel.n : 1) * sizeof *want);
    if (!want) {
        hub_selection_free(&sel);
        free(files);
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    for (int k = 0; k < sel.n; k++) want[k] = &files[sel.idx[k]];
    int nd = 0;
    uint64_t bytes = 0;
    st = hub_download_all(env, ref->repo, commit, want, sel.n, &nd, &bytes, err);
    free(want);
    /* The ref moves only once the snapshot is whole, so that a reader of
     * refs/main never finds half a model. */
    if (!st && strcmp(ref->revision, commit) != 0) st = hub_ref_write(repo_dir, ref->revision, commit, err);
    if (!st && out) {
        fill_result(out, repo_dir, ref, commit, files, &sel);
        out->n_downloaded = nd;
        out->bytes_downloaded = bytes;
    }
    hub_selection_free(&sel);
    free(files);
    return st;
}

ingot_status ingot_hub_pull(const char *refstr, const ingot_hub_options *opt,
                            ingot_hub_pull_result *out, ingot_error *err) {
    if (out) memset(out, 0, sizeof *out);
    hub_env env;
    ingot_status st = hub_env_init(&env, opt, err);
    if (st) return st;
    hub_ref ref;
    if ((st = hub_ref_parse(refstr, &ref, err))) return st;
    if (env.offline) {
        st = resolve_cached(&env, &ref, out, err);
        return st == INGOT_E_NOT_FOUND ? offline_error(refstr, err) : st;
    }
    return pull_online(&env, &ref, out, err);
}

ingot_status ingot_hub_resolve(const char *refstr, const ingot_hub_options *opt, char **path_out,
                               ingot_error *err) {
    if (!path_out) return ingot_error_set(err, INGOT_E_INVALID_ARG, "path_out is NULL");
    *path_out = NULL;
    hub_env env;
    ingot_status st = hub_env_init(&env, opt, err);
    if (st) return st;
    hub_ref ref;
    if ((st = hub_ref_parse(refstr, &ref, err))) return st;
    ingot_hub_pull_result *res = malloc(sizeof *res);
    if (!res) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    memset(res, 0, sizeof *res);
    ingot_error cerr = {0};
    st = resolve_cached(&env, &ref, res, &cerr);
    if (st == INGOT_E_NOT_FOUND) {
        if (env.offline) {
            if (err) *err = cerr;
            st = offline_error(refstr, err);
        } else {
            st = pull_online(&env, &ref, res, err);
        }
    } else if (st) {
        if (err) *err = cerr;
    }
    if (!st) {
        if (res->note[0]) ingot_log(INGOT_LOG_INFO, "%s: %s", refstr, res->note);
        *path_out = strdup(res->path);
        if (!*path_out) st = ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    free(res);
    return st;
}
