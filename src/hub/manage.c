/* Owns what is installed: listing the models in the cache (one entry per
 * GGUF file, or per safetensors/MLX snapshot), and removing a file or a
 * snapshot together with the refs that point at it and every blob no
 * remaining snapshot links to. Neither touches the network. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "hub/hub.h"

/* ---- small string lists ---- */

typedef struct strlist {
    char **v;
    int n, cap;
} strlist;

static bool sl_add(strlist *l, const char *s) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return false;
        l->v = v;
        l->cap = cap;
    }
    char *d = strdup(s);
    if (!d) return false;
    l->v[l->n++] = d;
    return true;
}

static bool sl_has(const strlist *l, const char *s) {
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s)) return true;
    return false;
}

static void sl_free(strlist *l) {
    for (int i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Names in dir (no "." entries), sorted. */
static bool list_dir(const char *dir, strlist *out) {
    DIR *d = opendir(dir);
    if (!d) return false;
    struct dirent *e;
    bool ok = true;
    while (ok && (e = readdir(d)))
        if (e->d_name[0] != '.') ok = sl_add(out, e->d_name);
    closedir(d);
    if (out->n) qsort(out->v, (size_t)out->n, sizeof *out->v, cmp_str);
    return ok;
}

/* refs/<name> files under dir, recursively, as "name=commit". */
static void read_refs(const char *refs_dir, const char *prefix, strlist *out, int depth) {
    char dir[HUB_PATH_MAX];
    snprintf(dir, sizeof dir, "%s%s%s", refs_dir, prefix[0] ? "/" : "", prefix);
    strlist names = {0};
    if (!list_dir(dir, &names) || depth > 4) {
        sl_free(&names);
        return;
    }
    for (int i = 0; i < names.n; i++) {
        char rel[HUB_REPO_MAX * 2], full[HUB_PATH_MAX];
        snprintf(rel, sizeof rel, "%s%s%s", prefix, prefix[0] ? "/" : "", names.v[i]);
        snprintf(full, sizeof full, "%s/%s", refs_dir, rel);
        struct stat st;
        if (stat(full, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            read_refs(refs_dir, rel, out, depth + 1);
            continue;
        }
        char commit[64], line[HUB_REPO_MAX * 3];
        char base[HUB_PATH_MAX];
        snprintf(base, sizeof base, "%s/..", refs_dir);
        if (!hub_ref_read(base, rel, commit)) continue;
        snprintf(line, sizeof line, "%s=%s", rel, commit);
        sl_add(out, line);
    }
    sl_free(&names);
}

/* "main,v1" for the refs pointing at commit. */
static void refs_for(const strlist *refs, const char *commit, char *buf, size_t n) {
    buf[0] = 0;
    size_t len = 0;
    for (int i = 0; i < refs->n; i++) {
        const char *eq = strrchr(refs->v[i], '=');
        if (!eq || strcmp(eq + 1, commit)) continue;
        int w = snprintf(buf + len, n - len, "%s%.*s", len ? "," : "", (int)(eq - refs->v[i]), refs->v[i]);
        if (w < 0 || (size_t)w >= n - len) return;
        len += (size_t)w;
    }
}

/* org/name back from "models--org--name". */
static void repo_from_folder(const char *folder, char *repo, size_t n) {
    const char *p = folder + strlen("models--");
    const char *sep = strstr(p, "--");
    if (sep) snprintf(repo, n, "%.*s/%s", (int)(sep - p), p, sep + 2);
    else snprintf(repo, n, "%s", p);
}

static bool ends_with_ci(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcasecmp(s + a - b, suffix);
}

static int64_t mtime_of(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_mtime : 0;
}

static uint64_t blobs_size(const char *repo_dir) {
    char dir[HUB_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/blobs", repo_dir);
    strlist names = {0};
    uint64_t total = 0;
    if (list_dir(dir, &names)) {
        for (int i = 0; i < names.n; i++) {
            if (ends_with_ci(names.v[i], ".incomplete")) continue;
            char p[HUB_PATH_MAX + 300];
            snprintf(p, sizeof p, "%s/%s", dir, names.v[i]);
            struct stat st;
            if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) total += (uint64_t)st.st_size;
        }
    }
    sl_free(&names);
    return total;
}

ingot_status ingot_hub_list(const ingot_hub_options *opt, ingot_hub_list_fn fn, void *user,
                            uint64_t *total_bytes, ingot_error *err) {
    if (total_bytes) *total_bytes = 0;
    hub_env env;
    ingot_status st = hub_env_init(&env, opt, err);
    if (st) return st;
    strlist repos = {0};
    if (!list_dir(env.cache, &repos)) {
        sl_free(&repos);
        return INGOT_OK; /* no cache yet: nothing installed */
    }
    bool stop = false;
    for (int r = 0; r < repos.n && !stop; r++) {
        if (strncmp(repos.v[r], "models--", 8) != 0) continue;
        char repo[HUB_REPO_MAX], repo_dir[HUB_PATH_MAX], refs_dir[HUB_PATH_MAX + 8], snaps[HUB_PATH_MAX + 16];
        repo_from_folder(repos.v[r], repo, sizeof repo);
        snprintf(repo_dir, sizeof repo_dir, "%s/%s", env.cache, repos.v[r]);
        snprintf(refs_dir, sizeof refs_dir, "%s/refs", repo_dir);
        snprintf(snaps, sizeof snaps, "%s/snapshots", repo_dir);
        if (total_bytes) *total_bytes += blobs_size(repo_dir);
        strlist refs = {0}, commits = {0};
        read_refs(refs_dir, "", &refs, 0);
        list_dir(snaps, &commits);
        for (int c = 0; c < commits.n && !stop; c++) {
            const char *commit = commits.v[c];
            char snap[HUB_PATH_MAX * 2], revs[512], at[HUB_REPO_MAX + 80];
            snprintf(snap, sizeof snap, "%s/%s", snaps, commit);
            refs_for(&refs, commit, revs, sizeof revs);
            /* How a reference names this snapshot: main needs no @. */
            bool is_main = false;
            for (const char *p = revs; *p;) {
                size_t l = strcspn(p, ",");
                if (l == 4 && !strncmp(p, "main", 4)) is_main = true;
                p += l + (p[l] == ',');
            }
            if (is_main) at[0] = 0;
            else if (revs[0] && !strchr(revs, ',') && !strchr(revs, '/')) snprintf(at, sizeof at, "@%s", revs);
            else snprintf(at, sizeof at, "@%s", commit);
            hub_file *files = NULL;
            int n = 0;
            if (hub_snapshot_files(snap, &files, &n, NULL) != INGOT_OK) continue;
            bool any_gguf = false, config = false, weights = false;
            for (int i = 0; i < n && !stop; i++) {
                const char *path = files[i].path;
                if (!strcmp(path, "config.json")) config = true;
                if (!strchr(path, '/') && ends_with_ci(path, ".safetensors")) weights = true;
                if (!ends_with_ci(path, ".gguf") || strstr(path, "mmproj")) continue;
                int part, count;
                size_t stem;
                uint64_t size = files[i].size;
                if (hub_split_part(path, &part, &count, &stem)) {
                    if (part != 1) continue;
                    for (int k = 0; k < n; k++) {
                        int p2, c2;
                        size_t s2;
                        if (k != i && hub_split_part(files[k].path, &p2, &c2, &s2) && c2 == count &&
                            s2 == stem && !strncmp(files[k].path, path, stem))
                            size += files[k].size;
                    }
                }
                any_gguf = true;
                char ref[HUB_REPO_MAX + HUB_FILE_MAX + 100], full[HUB_PATH_MAX * 2 + HUB_FILE_MAX];
                snprintf(ref, sizeof ref, "%s%s/%s", repo, at, path);
                snprintf(full, sizeof full, "%s/%s", snap, path);
                const char *q = hub_quant_from_name(path);
                ingot_hub_model m = {ref, repo, commit, revs, full, "gguf", q ? q : "", size, mtime_of(full)};
                if (!fn(&m, user)) stop = true;
            }
            if (!any_gguf && config && weights && !stop) {
                uint64_t size = 0;
                int64_t mt = 0;
                for (int i = 0; i < n; i++) {
                    size += files[i].size;
                    char full[HUB_PATH_MAX * 2 + HUB_FILE_MAX];
                    snprintf(full, sizeof full, "%s/%s", snap, files[i].path);
                    int64_t t = mtime_of(full);
                    if (t > mt) mt = t;
                }
                char ref[HUB_REPO_MAX * 2 + 100], format[16], quant[32] = "";
                snprintf(ref, sizeof ref, "%s%s", repo, at);
                hub_snapshot_format(snap, format, sizeof format, quant, sizeof quant);
                ingot_hub_model m = {ref, repo, commit, revs, snap, format, quant, size, mt};
                if (!fn(&m, user)) stop = true;
            }
            free(files);
        }
        sl_free(&refs);
        sl_free(&commits);
    }
    sl_free(&repos);
    return INGOT_OK;
}

/* ---- removal ---- */

/* Every entry of a snapshot tree: its path and the blob it links to ("" for
 * a plain file, which then owns its bytes). */
typedef struct link_list {
    strlist path, blob;
} link_list;

static void collect_links(const char *dir, link_list *out, int depth) {
    strlist names = {0};
    if (depth > 16 || !list_dir(dir, &names)) {
        sl_free(&names);
        return;
    }
    for (int i = 0; i < names.n; i++) {
        char full[HUB_PATH_MAX];
        if (snprintf(full, sizeof full, "%s/%s", dir, names.v[i]) >= (int)sizeof full) continue;
        struct stat st;
        if (lstat(full, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            collect_links(full, out, depth + 1);
            continue;
        }
        char target[HUB_PATH_MAX] = "";
        if (S_ISLNK(st.st_mode)) {
            ssize_t l = readlink(full, target, sizeof target - 1);
            if (l < 0) continue;
            target[l] = 0;
            const char *b = strstr(target, "blobs/");
            /* Only links into this repo's blobs/ are ours to account for. */
            if (!b || strchr(b + 6, '/')) target[0] = 0;
            else memmove(target, b + 6, strlen(b + 6) + 1);
        }
        sl_add(&out->path, full);
        sl_add(&out->blob, target);
    }
    sl_free(&names);
}

/* Deletes the empty directories from dir up to (not including) stop. */
static void prune_dirs(const char *dir, const char *stop) {
    char d[HUB_PATH_MAX];
    snprintf(d, sizeof d, "%s", dir);
    size_t sl = strlen(stop);
    while (strlen(d) > sl && !strncmp(d, stop, sl)) {
        if (rmdir(d) != 0) return;
        char *s = strrchr(d, '/');
        if (!s) return;
        *s = 0;
    }
}

/* rm -r confined to a tree we own (the repo folder). */
static void remove_tree(const char *path, int depth) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode) && depth < 32) {
        strlist names = {0};
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) sl_add(&names, e->d_name);
            closedir(d);
        }
        for (int i = 0; i < names.n; i++) {
            char child[HUB_PATH_MAX];
            if (snprintf(child, sizeof child, "%s/%s", path, names.v[i]) < (int)sizeof child)
                remove_tree(child, depth + 1);
        }
        sl_free(&names);
        rmdir(path);
    } else {
        unlink(path);
    }
}

ingot_status ingot_hub_remove(const char *refstr, const ingot_hub_options *opt, bool dry_run,
                              ingot_hub_removal *out, ingot_error *err) {
    ingot_hub_removal local;
    if (!out) out = &local;
    memset(out, 0, sizeof *out);
    hub_env env;
    ingot_status st = hub_env_init(&env, opt, err);
    if (st) return st;
    hub_ref ref;
    if ((st = hub_ref_parse(refstr, &ref, err))) return st;
    char repo_dir[HUB_PATH_MAX], snaps[HUB_PATH_MAX + 16];
    if (!hub_repo_dir(&env, ref.repo, repo_dir, sizeof repo_dir))
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "cache path too long");
    snprintf(snaps, sizeof snaps, "%s/snapshots", repo_dir);
    struct stat sst;
    if (stat(repo_dir, &sst) != 0)
        return ingot_error_set(err, INGOT_E_NOT_FOUND, "%s is not in the cache (%s)", ref.repo, env.cache);
    strlist commits = {0};
    list_dir(snaps, &commits);
    char commit[64];
    if (!hub_ref_read(repo_dir, ref.revision, commit)) {
        if (!ref.explicit_revision && commits.n == 1) {
            snprintf(commit, sizeof commit, "%s", commits.v[0]);
        } else {
            sl_free(&commits);
            return ingot_error_set(err, INGOT_E_NOT_FOUND,
                                   "%s@%s is not in the cache; `ingot list` shows what is (name a "
                                   "snapshot as %s@COMMIT)",
                                   ref.repo, ref.revision, ref.repo);
        }
    }
    char snap[HUB_PATH_MAX * 2];
    snprintf(snap, sizeof snap, "%s/%s", snaps, commit);
    if (!sl_has(&commits, commit)) {
        sl_free(&commits);
        return ingot_error_set(err, INGOT_E_NOT_FOUND, "%s@%s: snapshot %s is not in the cache", ref.repo,
                               ref.revision, commit);
    }
    /* Which snapshot entries go. */
    strlist doomed = {0};
    bool whole = !ref.file[0] && !ref.tag[0];
    if (whole) {
        link_list all = {0};
        collect_links(snap, &all, 0);
        for (int i = 0; i < all.path.n; i++) sl_add(&doomed, all.path.v[i]);
        sl_free(&all.path);
        sl_free(&all.blob);
        snprintf(out->what, sizeof out->what, "%s@%.12s (whole snapshot, %d files)", ref.repo, commit, doomed.n);
    } else {
        hub_file *files = NULL;
        int n = 0;
        hub_selection sel = {0};
        st = hub_snapshot_files(snap, &files, &n, err);
        if (!st) st = hub_select(&ref, files, n, env.ram_bytes, &sel, err);
        if (st) {
            if (st == INGOT_E_NOT_FOUND) ingot_error_prefix(err, "in the cache");
            free(files);
            sl_free(&commits);
            return st;
        }
        size_t len = (size_t)snprintf(out->what, sizeof out->what, "%s@%.12s:", ref.repo, commit);
        for (int k = 0; k < sel.n; k++) {
            char full[HUB_PATH_MAX * 3];
            snprintf(full, sizeof full, "%s/%s", snap, files[sel.idx[k]].path);
            sl_add(&doomed, full);
            if (len < sizeof out->what)
                len += (size_t)snprintf(out->what + len, sizeof out->what - len, " %s", files[sel.idx[k]].path);
        }
        hub_selection_free(&sel);
        free(files);
    }
    /* Blobs still linked from entries that stay. */
    link_list all = {0};
    for (int c = 0; c < commits.n; c++) {
        char d[HUB_PATH_MAX * 2];
        snprintf(d, sizeof d, "%s/%s", snaps, commits.v[c]);
        collect_links(d, &all, 0);
    }
    strlist used = {0}, freed = {0};
    int remaining_in_snap = 0;
    for (int i = 0; i < all.path.n; i++) {
        if (sl_has(&doomed, all.path.v[i])) continue;
        if (all.blob.v[i][0] && !sl_has(&used, all.blob.v[i])) sl_add(&used, all.blob.v[i]);
        if (!strncmp(all.path.v[i], snap, strlen(snap)) && all.path.v[i][strlen(snap)] == '/') remaining_in_snap++;
    }
    for (int i = 0; i < all.path.n; i++) {
        if (!sl_has(&doomed, all.path.v[i])) continue;
        out->n_links++;
        const char *blob = all.blob.v[i];
        struct stat st2;
        if (!blob[0]) {
            if (lstat(all.path.v[i], &st2) == 0 && S_ISREG(st2.st_mode)) out->bytes_freed += (uint64_t)st2.st_size;
        } else if (sl_has(&used, blob)) {
            out->n_blobs_kept++;
        } else if (!sl_has(&freed, blob)) {
            char bp[HUB_PATH_MAX + 200];
            snprintf(bp, sizeof bp, "%s/blobs/%s", repo_dir, blob);
            if (stat(bp, &st2) == 0) {
                out->bytes_freed += (uint64_t)st2.st_size;
                out->n_blobs++;
            }
            sl_add(&freed, blob);
        }
        if (!dry_run) {
            unlink(all.path.v[i]);
            char parent[HUB_PATH_MAX];
            snprintf(parent, sizeof parent, "%s", all.path.v[i]);
            char *s = strrchr(parent, '/');
            if (s) {
                *s = 0;
                prune_dirs(parent, snap);
            }
        }
    }
    if (!dry_run) {
        for (int i = 0; i < freed.n; i++) {
            char bp[HUB_PATH_MAX + 200];
            snprintf(bp, sizeof bp, "%s/blobs/%s", repo_dir, freed.v[i]);
            unlink(bp);
        }
        if (remaining_in_snap == 0) {
            /* The snapshot is gone: so are the refs naming it. */
            rmdir(snap);
            strlist refs = {0};
            char refs_dir[HUB_PATH_MAX + 8];
            snprintf(refs_dir, sizeof refs_dir, "%s/refs", repo_dir);
            read_refs(refs_dir, "", &refs, 0);
            for (int i = 0; i < refs.n; i++) {
                char *eq = strrchr(refs.v[i], '=');
                if (!eq || strcmp(eq + 1, commit)) continue;
                *eq = 0;
                char rp[HUB_PATH_MAX * 2];
                snprintf(rp, sizeof rp, "%s/%s", refs_dir, refs.v[i]);
                unlink(rp);
                char *s = strrchr(rp, '/');
                if (s) {
                    *s = 0;
                    prune_dirs(rp, refs_dir);
                }
            }
            sl_free(&refs);
            strlist left = {0};
            list_dir(snaps, &left);
            if (left.n == 0) remove_tree(repo_dir, 0);
            sl_free(&left);
        }
    }
    sl_free(&used);
    sl_free(&freed);
    sl_free(&all.path);
    sl_free(&all.blob);
    sl_free(&doomed);
    sl_free(&commits);
    return INGOT_OK;
}
