/* Owns hub references: parsing "org/repo[@rev][:TAG|/path]", "hf://..." and
 * catalog aliases, validating repo ids and in-repo paths (they become file
 * names in the cache, so nothing from a user or a server may escape it), the
 * quantization named in a GGUF file name, and the choice of files a
 * reference needs from a repo's file list (Q4_K_M, else the best fit for
 * the RAM; or a whole safetensors/MLX snapshot). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/error.h"
#include "hub/hub.h"

static bool repo_part_valid(const char *s, size_t n) {
    if (n == 0 || n > 96) return false;
    if (s[0] == '-' || s[0] == '.' || s[n - 1] == '-' || s[n - 1] == '.') return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '-' && c != '_' && c != '.') return false;
        if (i > 0 && ((c == '-' && s[i - 1] == '-') || (c == '.' && s[i - 1] == '.'))) return false;
    }
    return true;
}

bool hub_repo_id_valid(const char *repo) {
    const char *slash = strchr(repo, '/');
    if (!slash || strchr(slash + 1, '/')) return false;
    return repo_part_valid(repo, (size_t)(slash - repo)) && repo_part_valid(slash + 1, strlen(slash + 1));
}

bool hub_repo_path_valid(const char *path) {
    size_t n = strlen(path);
    if (n == 0 || n >= HUB_FILE_MAX || path[0] == '/') return false;
    const char *seg = path;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if (len == 0) return false;
        if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.')) return false;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)seg[i];
            if (c < 0x20 || c == '\\' || c == 0x7f) return false;
        }
        if (!end) return true;
        seg = end + 1;
    }
}

bool hub_revision_valid(const char *rev) {
    size_t n = strlen(rev);
    if (n == 0 || n >= HUB_REPO_MAX) return false;
    /* Branch names like refs/pr/1 keep their slashes as directories under
     * refs/, as huggingface_hub does, so they follow the path rules. */
    if (!hub_repo_path_valid(rev)) return false;
    for (size_t i = 0; i < n; i++)
        if (rev[i] == ' ' || rev[i] == ':' || rev[i] == '?' || rev[i] == '*') return false;
    return true;
}

bool hub_is_commit_hash(const char *s) {
    size_t n = strlen(s);
    if (n != 40) return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) return false;
    return true;
}

static bool ends_with_ci(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static const char *base_name(const char *path) {
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* Longest first, so that Q4_K is not found inside Q4_K_M. */
static const char *const quant_names[] = {
    "IQ2_XXS", "IQ3_XXS", "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "IQ1_S", "IQ1_M", "IQ2_XS",
    "IQ2_S", "IQ2_M", "IQ3_XS", "IQ3_S", "IQ3_M", "IQ4_NL", "IQ4_XS", "Q2_K_S", "Q2_K_L",
    "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q3_K_XL", "Q4_K_S", "Q4_K_M", "Q4_K_L", "Q5_K_S", "Q5_K_M",
    "Q5_K_L", "Q6_K_L", "Q8_K_XL", "TQ1_0", "TQ2_0", "MXFP4", "Q2_K", "Q3_K", "Q4_K", "Q5_K",
    "Q6_K", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "BF16", "F16", "F32",
};

static bool quant_boundary(char c) { return c == 0 || c == '-' || c == '.' || c == '_'; }

const char *hub_quant_from_name(const char *filename) {
    const char *b = base_name(filename);
    size_t n = strlen(b);
    for (size_t q = 0; q < sizeof quant_names / sizeof quant_names[0]; q++) {
        size_t m = strlen(quant_names[q]);
        for (size_t i = 0; i + m <= n; i++) {
            if (strncasecmp(b + i, quant_names[q], m) != 0) continue;
            if (i > 0 && !quant_boundary(b[i - 1])) continue;
            if (!quant_boundary(b[i + m])) continue;
            return quant_names[q];
        }
    }
    return NULL;
}

bool hub_split_part(const char *filename, int *part, int *count, size_t *stem_len) {
    /* <stem>-00001-of-00003.gguf */
    size_t n = strlen(filename);
    const char *suffix = "-00000-of-00000.gguf";
    size_t m = strlen(suffix);
    if (n <= m) return false;
    const char *p = filename + n - m;
    for (size_t i = 0; i < m; i++) {
        if (suffix[i] == '0') {
            if (!isdigit((unsigned char)p[i])) return false;
        } else if (tolower((unsigned char)p[i]) != suffix[i]) {
            return false;
        }
    }
    int a = atoi(p + 1), b = atoi(p + 10);
    if (a < 1 || b < 1 || a > b) return false;
    *part = a;
    *count = b;
    *stem_len = n - m;
    return true;
}

ingot_status hub_ref_parse(const char *s, hub_ref *out, ingot_error *err) {
    memset(out, 0, sizeof *out);
    strcpy(out->revision, "main");
    if (!s || !*s) return ingot_error_set(err, INGOT_E_INVALID_ARG, "empty model reference");
    const char *orig = s;
    if (strncmp(s, "hf://", 5) == 0) s += 5;
    if (!strchr(s, '/')) {
        const ingot_hub_catalog_entry *e = ingot_hub_catalog_find(s);
        if (!e)
            return ingot_error_set(err, INGOT_E_NOT_FOUND,
                                   "'%s' is not a local file, a hub reference (org/repo, "
                                   "org/repo:Q4_K_M, org/repo/file.gguf) or a catalog alias "
                                   "(see `ingot list --catalog`)",
                                   orig);
        snprintf(out->repo, sizeof out->repo, "%s", e->repo);
        if (e->file) snprintf(out->file, sizeof out->file, "%s", e->file);
        out->alias = e;
        return INGOT_OK;
    }
    /* org/name, then optionally @rev, then :TAG or /path */
    const char *slash = strchr(s, '/');
    const char *p = slash + 1;
    size_t name_len = strcspn(p, "/:@");
    size_t repo_len = (size_t)(p - s) + name_len;
    if (repo_len >= sizeof out->repo)
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "repository name too long in '%s'", orig);
    memcpy(out->repo, s, repo_len);
    out->repo[repo_len] = 0;
    if (!hub_repo_id_valid(out->repo))
        return ingot_error_set(err, INGOT_E_INVALID_ARG,
                               "'%s' is not a valid repository id in '%s' (expected org/name: "
                               "letters, digits, '-', '_', '.')",
                               out->repo, orig);
    p += name_len;
    if (*p == '@') {
        p++;
        size_t rl = strcspn(p, "/:");
        if (rl == 0 || rl >= sizeof out->revision)
            return ingot_error_set(err, INGOT_E_INVALID_ARG, "empty or too long revision after '@' in '%s'", orig);
        memcpy(out->revision, p, rl);
        out->revision[rl] = 0;
        out->explicit_revision = true;
        if (!hub_revision_valid(out->revision))
            return ingot_error_set(err, INGOT_E_INVALID_ARG, "invalid revision '%s' in '%s'", out->revision, orig);
        p += rl;
    }
    if (*p == ':') {
        p++;
        if (!*p) return ingot_error_set(err, INGOT_E_INVALID_ARG, "nothing after ':' in '%s'", orig);
        if (strchr(p, '/') || ends_with_ci(p, ".gguf") || ends_with_ci(p, ".safetensors")) {
            snprintf(out->file, sizeof out->file, "%s", p);
        } else {
            if (strlen(p) >= sizeof out->tag)
                return ingot_error_set(err, INGOT_E_INVALID_ARG, "tag too long in '%s'", orig);
            snprintf(out->tag, sizeof out->tag, "%s", p);
            return INGOT_OK;
        }
    } else if (*p == '/') {
        if (strlen(p + 1) >= sizeof out->file)
            return ingot_error_set(err, INGOT_E_INVALID_ARG, "file path too long in '%s'", orig);
        snprintf(out->file, sizeof out->file, "%s", p + 1);
    } else if (*p) {
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "unexpected '%s' in '%s'", p, orig);
    }
    if (out->file[0] && !hub_repo_path_valid(out->file))
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "invalid file path '%s' in '%s'", out->file, orig);
    return INGOT_OK;
}

bool ingot_hub_is_reference(const char *s) {
    if (!s || !*s) return false;
    struct stat st;
    if (stat(s, &st) == 0) return false;
    if (strncmp(s, "hf://", 5) == 0) return true;
    if (s[0] == '/' || s[0] == '.' || s[0] == '~') return false;
    if (ingot_hub_catalog_find(s)) return true;
    const char *slash = strchr(s, '/');
    if (!slash) return false;
    /* "dir/model.gguf" that does not exist is a mistyped local path far more
     * often than a repository whose name ends in .gguf. */
    if (!strchr(slash + 1, '/') && !strchr(s, ':') &&
        (ends_with_ci(s, ".gguf") || ends_with_ci(s, ".safetensors") || ends_with_ci(s, ".bin")))
        return false;
    hub_ref r;
    return hub_ref_parse(s, &r, NULL) == INGOT_OK;
}

/* ---- choosing files ---- */

static bool is_gguf(const hub_file *f) {
    return ends_with_ci(f->path, ".gguf") && !strstr(base_name(f->path), "mmproj");
}

/* The files a snapshot-style model needs: configuration, tokenizer, weights.
 * Files in subfolders (original/, onnx/...) belong to other runtimes. */
static bool is_snapshot_file(const char *path) {
    if (strchr(path, '/')) return false;
    static const char *const suffixes[] = {".json", ".safetensors", ".tiktoken", ".jinja"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
        if (ends_with_ci(path, suffixes[i])) return true;
    static const char *const names[] = {"tokenizer.model", "merges.txt", "vocab.txt", "spiece.model"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(path, names[i])) return true;
    return false;
}

/* A GGUF model: one file, or the parts of a split file. */
typedef struct gguf_group {
    int first;      /* index of the file (part 1) */
    int n_parts;
    uint64_t size;
    const char *quant;
} gguf_group;

static int add_split_parts(const hub_file *files, int n, int first, int *idx, int cap) {
    int part, count;
    size_t stem;
    int k = 0;
    if (!hub_split_part(files[first].path, &part, &count, &stem)) {
        idx[k++] = first;
        return k;
    }
    for (int i = 0; i < n && k < cap; i++) {
        int p2, c2;
        size_t s2;
        if (hub_split_part(files[i].path, &p2, &c2, &s2) && c2 == count && s2 == stem &&
            strncmp(files[i].path, files[first].path, stem) == 0)
            idx[k++] = i;
    }
    return k;
}

static void list_ggufs(const hub_file *files, int n, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = 0;
    int shown = 0;
    for (int i = 0; i < n && len + 1 < cap; i++) {
        if (!is_gguf(&files[i])) continue;
        int part, count;
        size_t stem;
        if (hub_split_part(files[i].path, &part, &count, &stem) && part != 1) continue;
        if (shown == 12) {
            snprintf(buf + len, cap - len, ", ...");
            return;
        }
        int w = snprintf(buf + len, cap - len, "%s%s", shown ? ", " : "", files[i].path);
        if (w < 0) return;
        len += (size_t)w;
        shown++;
    }
}

static ingot_status select_group(const hub_file *files, int n, int first, hub_selection *sel) {
    sel->idx = malloc((size_t)n * sizeof *sel->idx);
    if (!sel->idx) return INGOT_E_NOMEM;
    sel->n = add_split_parts(files, n, first, sel->idx, n);
    sel->main_idx = first;
    for (int k = 0; k < sel->n; k++) {
        int part, count;
        size_t stem;
        if (hub_split_part(files[sel->idx[k]].path, &part, &count, &stem) && part == 1)
            sel->main_idx = sel->idx[k];
    }
    const char *q = hub_quant_from_name(files[sel->main_idx].path);
    snprintf(sel->quant, sizeof sel->quant, "%s", q ? q : "");
    snprintf(sel->format, sizeof sel->format, "%s",
             ends_with_ci(files[first].path, ".gguf") ? "gguf"
             : ends_with_ci(files[first].path, ".safetensors") ? "safetensors" : "file");
    return INGOT_OK;
}

static ingot_status choose_gguf(const hub_file *files, int n, uint64_t ram, hub_selection *sel,
                                ingot_error *err) {
    gguf_group *g = calloc((size_t)n, sizeof *g);
    if (!g) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory choosing a GGUF file");
    int ng = 0;
    int *tmp = malloc((size_t)n * sizeof *tmp);
    if (!tmp) {
        free(g);
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory choosing a GGUF file");
    }
    for (int i = 0; i < n; i++) {
        if (!is_gguf(&files[i])) continue;
        int part, count;
        size_t stem;
        if (hub_split_part(files[i].path, &part, &count, &stem) && part != 1) continue;
        g[ng].first = i;
        g[ng].n_parts = add_split_parts(files, n, i, tmp, n);
        for (int k = 0; k < g[ng].n_parts; k++) g[ng].size += files[tmp[k]].size;
        g[ng].quant = hub_quant_from_name(files[i].path);
        ng++;
    }
    free(tmp);
    int pick = -1;
    char why[400];
    char sz[32], ramsz[32];
    hub_format_size(ram, ramsz, sizeof ramsz);
    if (ng == 1) {
        pick = 0;
        snprintf(why, sizeof why, "the only GGUF model in the repository");
    } else {
        for (int i = 0; i < ng && pick < 0; i++)
            if (g[i].quant && !strcmp(g[i].quant, "Q4_K_M")) pick = i;
        if (pick >= 0) {
            snprintf(why, sizeof why, "Q4_K_M, the default quantization (use :QUANT for another)");
        } else {
            /* Leave ~30% of RAM for the KV cache, the OS and other programs. */
            uint64_t budget = ram / 10 * 7;
            bool any_quantized_fits = false;
            for (int i = 0; i < ng; i++)
                if (g[i].size <= budget && !(g[i].quant && !strcmp(g[i].quant, "F32")))
                    any_quantized_fits = true;
            for (int i = 0; i < ng; i++) {
                if (g[i].size > budget) continue;
                if (any_quantized_fits && g[i].quant && !strcmp(g[i].quant, "F32")) continue;
                if (pick < 0 || g[i].size > g[pick].size) pick = i;
            }
            if (pick >= 0) {
                snprintf(why, sizeof why,
                         "no Q4_K_M file; the largest that fits in 70%% of this machine's %s of RAM",
                         ramsz);
            } else {
                for (int i = 0; i < ng; i++)
                    if (pick < 0 || g[i].size < g[pick].size) pick = i;
                snprintf(why, sizeof why,
                         "no Q4_K_M file and none fits in 70%% of this machine's %s of RAM; "
                         "the smallest (it may not run)",
                         ramsz);
            }
        }
    }
    int first = g[pick].first;
    uint64_t size = g[pick].size;
    free(g);
    ingot_status st = select_group(files, n, first, sel);
    if (st) return ingot_error_set(err, st, "out of memory choosing a GGUF file");
    hub_format_size(size, sz, sizeof sz);
    snprintf(sel->note, sizeof sel->note, "chose %s (%s%s%s): %s", files[first].path,
             sel->quant[0] ? sel->quant : "", sel->quant[0] ? ", " : "", sz, why);
    return INGOT_OK;
}

ingot_status hub_select(const hub_ref *ref, const hub_file *files, int n, uint64_t ram_bytes,
                        hub_selection *sel, ingot_error *err) {
    memset(sel, 0, sizeof *sel);
    sel->main_idx = -1;
    char avail[768];
    if (ref->file[0]) {
        for (int i = 0; i < n; i++) {
            if (strcmp(files[i].path, ref->file) != 0) continue;
            if (select_group(files, n, i, sel))
                return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
            return INGOT_OK;
        }
        list_ggufs(files, n, avail, sizeof avail);
        return ingot_error_set(err, INGOT_E_NOT_FOUND, "%s@%s has no file '%s'%s%s", ref->repo,
                               ref->revision, ref->file, avail[0] ? " (GGUF files: " : "",
                               avail[0] ? avail : "");
    }
    if (ref->tag[0]) {
        int best = -1;
        for (int pass = 0; pass < 2 && best < 0; pass++) {
            for (int i = 0; i < n; i++) {
                if (!is_gguf(&files[i])) continue;
                int part, count;
                size_t stem;
                if (hub_split_part(files[i].path, &part, &count, &stem) && part != 1) continue;
                bool match;
                if (pass == 0) {
                    const char *q = hub_quant_from_name(files[i].path);
                    match = q && !strcasecmp(q, ref->tag);
                } else {
                    const char *b = base_name(files[i].path);
                    size_t bl = strlen(b) - 5; /* without .gguf */
                    match = strlen(ref->tag) == bl && !strncasecmp(b, ref->tag, bl);
                }
                /* Prefer the shortest path: top-level over subfolders. */
                if (match && (best < 0 || strlen(files[i].path) < strlen(files[best].path))) best = i;
            }
        }
        if (best >= 0) {
            if (select_group(files, n, best, sel)) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
            return INGOT_OK;
        }
        list_ggufs(files, n, avail, sizeof avail);
        return ingot_error_set(err, INGOT_E_NOT_FOUND, "%s@%s has no GGUF file for '%s' (%s%s)",
                               ref->repo, ref->revision, ref->tag,
                               avail[0] ? "available: " : "it has no GGUF files", avail);
    }
    for (int i = 0; i < n; i++)
        if (is_gguf(&files[i])) return choose_gguf(files, n, ram_bytes, sel, err);
    bool weights = false;
    for (int i = 0; i < n; i++)
        if (is_snapshot_file(files[i].path) && ends_with_ci(files[i].path, ".safetensors")) weights = true;
    if (!weights)
        return ingot_error_set(err, INGOT_E_UNSUPPORTED,
                               "%s@%s has neither GGUF files nor top-level safetensors weights",
                               ref->repo, ref->revision);
    sel->idx = malloc((size_t)n * sizeof *sel->idx);
    if (!sel->idx) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        if (is_snapshot_file(files[i].path)) sel->idx[sel->n++] = i;
    snprintf(sel->format, sizeof sel->format, "safetensors");
    snprintf(sel->note, sizeof sel->note,
             "no GGUF files: the whole snapshot (%d configuration, tokenizer and weight files)", sel->n);
    return INGOT_OK;
}

void hub_selection_free(hub_selection *sel) {
    if (!sel) return;
    free(sel->idx);
    sel->idx = NULL;
    sel->n = 0;
}
