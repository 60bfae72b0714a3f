/* Owns the settings the hub layer reads from options and the environment
 * (HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE) and the
 * on-disk layout huggingface_hub defined and other tools share:
 *   <cache>/models--ORG--NAME/blobs/<etag>            file contents
 *   <cache>/models--ORG--NAME/snapshots/<commit>/<path> relative symlinks
 *   <cache>/models--ORG--NAME/refs/<revision>          the commit, no newline
 *   <cache>/.locks/models--ORG--NAME/<etag>.lock       one lock per blob */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/platform.h"
#include "hub/hub.h"

ingot_hub_options ingot_hub_default_options(void) {
    ingot_hub_options o;
    memset(&o, 0, sizeof o);
    o.offline = -1;
    o.retries = -1;
    return o;
}

static const char *env_nonempty(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static bool env_truthy(const char *name) {
    const char *v = env_nonempty(name);
    return v && (!strcmp(v, "1") || !strcasecmp(v, "on") || !strcasecmp(v, "yes") ||
                 !strcasecmp(v, "true"));
}

/* $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface. */
static bool hf_home(char *buf, size_t n) {
    const char *v;
    int w;
    if ((v = env_nonempty("HF_HOME"))) w = snprintf(buf, n, "%s", v);
    else if ((v = env_nonempty("XDG_CACHE_HOME"))) w = snprintf(buf, n, "%s/huggingface", v);
    else if ((v = env_nonempty("HOME"))) w = snprintf(buf, n, "%s/.cache/huggingface", v);
    else return false;
    return w > 0 && (size_t)w < n;
}

bool ingot_hub_cache_dir(const ingot_hub_options *opt, char *buf, size_t n) {
    const char *v;
    int w;
    if (opt && opt->cache_dir && *opt->cache_dir) w = snprintf(buf, n, "%s", opt->cache_dir);
    else if ((v = env_nonempty("HF_HUB_CACHE")) || (v = env_nonempty("HUGGINGFACE_HUB_CACHE")))
        w = snprintf(buf, n, "%s", v);
    else {
        char home[HUB_PATH_MAX];
        if (!hf_home(home, sizeof home)) return false;
        w = snprintf(buf, n, "%s/hub", home);
    }
    if (w <= 0 || (size_t)w >= n) return false;
    while (w > 1 && buf[w - 1] == '/') buf[--w] = 0;
    return true;
}

static void trim(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = 0;
    size_t i = 0;
    while (s[i] == ' ' || s[i] == '\t') i++;
    if (i) memmove(s, s + i, n - i + 1);
}

static void read_token_file(char *tok, size_t n) {
    char path[HUB_PATH_MAX];
    const char *v = env_nonempty("HF_TOKEN_PATH");
    if (v) snprintf(path, sizeof path, "%s", v);
    else {
        char home[HUB_PATH_MAX - 8];
        if (!hf_home(home, sizeof home)) return;
        snprintf(path, sizeof path, "%s/token", home);
    }
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (!fgets(tok, (int)n, f)) tok[0] = 0;
    fclose(f);
    trim(tok);
}

ingot_status hub_env_init(hub_env *env, const ingot_hub_options *opt, ingot_error *err) {
    ingot_hub_options def = ingot_hub_default_options();
    if (!opt) opt = &def;
    memset(env, 0, sizeof *env);
    const char *ep = opt->endpoint && *opt->endpoint ? opt->endpoint : env_nonempty("HF_ENDPOINT");
    if (!ep) ep = "https://huggingface.co";
    if (strlen(ep) >= sizeof env->endpoint)
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "hub endpoint too long");
    snprintf(env->endpoint, sizeof env->endpoint, "%s", ep);
    size_t el = strlen(env->endpoint);
    while (el && env->endpoint[el - 1] == '/') env->endpoint[--el] = 0;
    if (opt->token) {
        if (strlen(opt->token) >= sizeof env->token)
            return ingot_error_set(err, INGOT_E_INVALID_ARG, "hub token too long");
        snprintf(env->token, sizeof env->token, "%s", opt->token);
    } else {
        const char *t = env_nonempty("HF_TOKEN");
        if (!t) t = env_nonempty("HUGGING_FACE_HUB_TOKEN");
        if (t) snprintf(env->token, sizeof env->token, "%s", t);
        else read_token_file(env->token, sizeof env->token);
        trim(env->token);
    }
    for (const char *p = env->token; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            return ingot_error_set(err, INGOT_E_INVALID_ARG,
                                   "the hub token contains a space or control character; "
                                   "check HF_TOKEN");
    if (!ingot_hub_cache_dir(opt, env->cache, sizeof env->cache))
        return ingot_error_set(err, INGOT_E_INVALID_ARG,
                               "cannot tell where the hub cache is: set HF_HUB_CACHE or HF_HOME");
    env->offline = opt->offline < 0 ? env_truthy("HF_HUB_OFFLINE") : opt->offline != 0;
    env->max_parallel = opt->max_parallel <= 0 ? 4 : opt->max_parallel > 16 ? 16 : opt->max_parallel;
    env->retries = opt->retries < 0 ? 3 : opt->retries;
    env->stall_timeout_s = opt->stall_timeout_s <= 0 ? 30 : opt->stall_timeout_s;
    env->ram_bytes = opt->ram_bytes ? opt->ram_bytes : ingot_ram_total();
    if (!env->ram_bytes) env->ram_bytes = 8ull << 30;
    env->progress = opt->progress;
    env->progress_user = opt->progress_user;
    return INGOT_OK;
}

bool hub_repo_dir(const hub_env *env, const char *repo, char *buf, size_t n) {
    char folder[HUB_REPO_MAX + 16];
    size_t k = (size_t)snprintf(folder, sizeof folder, "models--");
    for (const char *p = repo; *p && k + 3 < sizeof folder; p++) {
        if (*p == '/') {
            folder[k++] = '-';
            folder[k++] = '-';
        } else {
            folder[k++] = *p;
        }
    }
    folder[k] = 0;
    int w = snprintf(buf, n, "%s/%s", env->cache, folder);
    return w > 0 && (size_t)w < n;
}

bool hub_ref_read(const char *repo_dir, const char *revision, char commit[64]) {
    if (hub_is_commit_hash(revision)) {
        snprintf(commit, 64, "%s", revision);
        return true;
    }
    char path[HUB_PATH_MAX];
    if (snprintf(path, sizeof path, "%s/refs/%s", repo_dir, revision) >= (int)sizeof path) return false;
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char buf[128];
    bool ok = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    if (!ok) return false;
    trim(buf);
    if (!hub_is_commit_hash(buf)) return false;
    snprintf(commit, 64, "%s", buf);
    return true;
}

ingot_status hub_mkdirs_for(const char *path, ingot_error *err) {
    char buf[HUB_PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "path too long: %s", path);
    char *last = strrchr(buf, '/');
    if (!last || last == buf) return INGOT_OK;
    *last = 0;
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return ingot_error_set(err, INGOT_E_IO, "cannot create directory %s: %s", buf,
                                       strerror(errno));
            *p = c;
            if (!c) break;
        }
    }
    return INGOT_OK;
}

/* A name no other process or thread uses at the same moment. */
static void tmp_name(char *buf, size_t n, const char *path) {
    snprintf(buf, n, "%s.ingot-tmp-%ld-%lx", path, (long)getpid(), (unsigned long)pthread_self());
}

ingot_status hub_ref_write(const char *repo_dir, const char *revision, const char *commit,
                           ingot_error *err) {
    char path[HUB_PATH_MAX], tmp[HUB_PATH_MAX + 64];
    if (snprintf(path, sizeof path, "%s/refs/%s", repo_dir, revision) >= (int)sizeof path)
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "revision name too long");
    ingot_status st = hub_mkdirs_for(path, err);
    if (st) return st;
    tmp_name(tmp, sizeof tmp, path);
    FILE *f = fopen(tmp, "w");
    if (!f) return ingot_error_set(err, INGOT_E_IO, "cannot write %s: %s", tmp, strerror(errno));
    bool ok = fputs(commit, f) >= 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return ingot_error_set(err, INGOT_E_IO, "cannot write %s: %s", path, strerror(e));
    }
    return INGOT_OK;
}

ingot_status hub_snapshot_link(const char *repo_dir, const char *commit, const char *file,
                               const char *etag, ingot_error *err) {
    char link[HUB_PATH_MAX], tmp[HUB_PATH_MAX + 64], target[HUB_PATH_MAX];
    if (snprintf(link, sizeof link, "%s/snapshots/%s/%s", repo_dir, commit, file) >= (int)sizeof link)
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "path too long for %s", file);
    /* Relative, so that the cache can move: one "../" per directory between
     * the link and the repo folder (snapshots/<commit>/ plus file's dirs). */
    size_t k = 0;
    int ups = 2;
    for (const char *p = file; *p; p++)
        if (*p == '/') ups++;
    for (int i = 0; i < ups && k + 3 < sizeof target; i++) {
        memcpy(target + k, "../", 3);
        k += 3;
    }
    snprintf(target + k, sizeof target - k, "blobs/%s", etag);
    ingot_status st = hub_mkdirs_for(link, err);
    if (st) return st;
    tmp_name(tmp, sizeof tmp, link);
    unlink(tmp);
    if (symlink(target, tmp) != 0)
        return ingot_error_set(err, INGOT_E_IO, "cannot create symlink %s: %s", tmp, strerror(errno));
    if (rename(tmp, link) != 0) {
        int e = errno;
        unlink(tmp);
        return ingot_error_set(err, INGOT_E_IO, "cannot create %s: %s", link, strerror(e));
    }
    return INGOT_OK;
}

typedef struct file_list {
    hub_file *v;
    int n, cap;
} file_list;

static ingot_status walk(const char *root, const char *rel, file_list *out, int depth, ingot_error *err) {
    char dir[HUB_PATH_MAX];
    snprintf(dir, sizeof dir, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (!d) return ingot_error_set(err, INGOT_E_NOT_FOUND, "cannot read %s: %s", dir, strerror(errno));
    ingot_status st = INGOT_OK;
    struct dirent *e;
    while (!st && (e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
        if (strstr(e->d_name, ".ingot-tmp-")) continue;
        char r[HUB_FILE_MAX], full[HUB_PATH_MAX];
        if (snprintf(r, sizeof r, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name) >= (int)sizeof r) continue;
        snprintf(full, sizeof full, "%s/%s", root, r);
        struct stat ls, fs;
        if (lstat(full, &ls) != 0) continue;
        if (S_ISDIR(ls.st_mode)) {
            if (depth < 16) st = walk(root, r, out, depth + 1, err);
            continue;
        }
        if (stat(full, &fs) != 0 || !S_ISREG(fs.st_mode)) continue; /* dangling link */
        if (out->n == out->cap) {
            int cap = out->cap ? out->cap * 2 : 32;
            hub_file *v = realloc(out->v, (size_t)cap * sizeof *v);
            if (!v) {
                st = ingot_error_set(err, INGOT_E_NOMEM, "out of memory listing %s", dir);
                break;
            }
            out->v = v;
            out->cap = cap;
        }
        hub_file *f = &out->v[out->n++];
        memset(f, 0, sizeof *f);
        snprintf(f->path, sizeof f->path, "%s", r);
        f->size = (uint64_t)fs.st_size;
        f->size_known = true;
    }
    closedir(d);
    return st;
}

static int cmp_file(const void *a, const void *b) {
    return strcmp(((const hub_file *)a)->path, ((const hub_file *)b)->path);
}

ingot_status hub_snapshot_files(const char *snap_dir, hub_file **files, int *n, ingot_error *err) {
    file_list l = {0};
    ingot_status st = walk(snap_dir, "", &l, 0, err);
    if (st) {
        free(l.v);
        return st;
    }
    if (l.n) qsort(l.v, (size_t)l.n, sizeof *l.v, cmp_file);
    *files = l.v;
    *n = l.n;
    return INGOT_OK;
}

void hub_format_size(uint64_t b, char *buf, size_t n) {
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1000.0 && u < 4) {
        v /= 1000.0;
        u++;
    }
    if (u == 0) snprintf(buf, n, "%llu B", (unsigned long long)b);
    else snprintf(buf, n, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[u]);
}
