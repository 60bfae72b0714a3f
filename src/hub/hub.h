/* Internal interface of the hub layer, shared by its files: reference
 * parsing and file choice (ref.c), the cache layout (cache.c), the HTTP
 * client (http.c), blob downloads (download.c) and the pull orchestration
 * (pull.c). Nothing here is public; include/ingot.h has the API. */
#ifndef INGOT_HUB_HUB_H
#define INGOT_HUB_HUB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingot.h"

#define HUB_PATH_MAX 4096
#define HUB_REPO_MAX 256
#define HUB_FILE_MAX 1024
#define HUB_ETAG_MAX 160

/* ---- references (ref.c) ---- */

typedef struct hub_ref {
    char repo[HUB_REPO_MAX];     /* "org/name" */
    char revision[HUB_REPO_MAX]; /* "main" unless @REV was given */
    bool explicit_revision;
    char file[HUB_FILE_MAX];     /* a path in the repo, or "" */
    char tag[128];               /* ":TAG" (a quant or a file stem), or "" */
    const ingot_hub_catalog_entry *alias; /* set when ref was a catalog alias */
} hub_ref;

ingot_status hub_ref_parse(const char *s, hub_ref *out, ingot_error *err);
/* "org/name": letters, digits, '-', '_', '.', no "--" or "..". */
bool hub_repo_id_valid(const char *repo);
/* A relative path in a repo with no "..", "." or empty segment. */
bool hub_repo_path_valid(const char *path);
/* A git revision name safe to use as a file name under refs/. */
bool hub_revision_valid(const char *rev);
bool hub_is_commit_hash(const char *s);

/* The quantization named in a GGUF file name ("Q4_K_M"), or NULL. */
const char *hub_quant_from_name(const char *filename);
/* "x-00001-of-00003.gguf" -> part 1 of 3 and the stem length up to "-00001";
 * false when the name is not a split part. */
bool hub_split_part(const char *filename, int *part, int *count, size_t *stem_len);

/* A file of a repo as the API or a snapshot lists it. */
typedef struct hub_file {
    char path[HUB_FILE_MAX];
    uint64_t size;
    bool size_known;
    bool lfs;
    char sha256[65];  /* lfs.sha256 ("" when not LFS or unknown) */
    char blob_id[64]; /* git blob id ("" when unknown) */
} hub_file;

/* What to fetch for a reference, chosen from a repo's file list. */
typedef struct hub_selection {
    int *idx;          /* indices into the file list (malloc'ed) */
    int n;
    int main_idx;      /* the file whose path is the result, -1 = snapshot dir */
    char format[16];
    char quant[32];
    char note[512];
} hub_selection;

/* Chooses the files ref needs among files[0..n). ram_bytes is the budget
 * for the GGUF choice. Errors name what is missing and list what exists. */
ingot_status hub_select(const hub_ref *ref, const hub_file *files, int n, uint64_t ram_bytes,
                        hub_selection *sel, ingot_error *err);
void hub_selection_free(hub_selection *sel);

/* ---- settings (cache.c) ---- */

typedef struct hub_env {
    char endpoint[1024];
    char token[1024];
    char cache[HUB_PATH_MAX];
    bool offline;
    int max_parallel, retries, stall_timeout_s;
    uint64_t ram_bytes;
    ingot_hub_progress_fn progress;
    void *progress_user;
} hub_env;

ingot_status hub_env_init(hub_env *env, const ingot_hub_options *opt, ingot_error *err);

/* ---- cache layout (cache.c) ---- */

/* <cache>/models--org--name */
bool hub_repo_dir(const hub_env *env, const char *repo, char *buf, size_t n);
/* Reads refs/<revision>; false when absent or malformed. */
bool hub_ref_read(const char *repo_dir, const char *revision, char commit[64]);
ingot_status hub_ref_write(const char *repo_dir, const char *revision, const char *commit,
                           ingot_error *err);
/* Makes every directory of path up to (not including) its last component. */
ingot_status hub_mkdirs_for(const char *path, ingot_error *err);
/* snapshots/<commit>/<file> -> ../../blobs/<etag>, replacing atomically. */
ingot_status hub_snapshot_link(const char *repo_dir, const char *commit, const char *file,
                               const char *etag, ingot_error *err);
/* The files of a snapshot (recursively), with sizes; *files malloc'ed. */
ingot_status hub_snapshot_files(const char *snap_dir, hub_file **files, int *n, ingot_error *err);
/* Format ("safetensors" or "mlx") and quantization ("4bit", "BF16", or "")
 * of a snapshot-style model, from its config.json. */
void hub_snapshot_format(const char *snap, char *format, size_t fn, char *quant, size_t qn);
/* "1.2 GB" */
void hub_format_size(uint64_t bytes, char *buf, size_t n);

/* ---- HTTP (http.c) ---- */

typedef struct hub_http hub_http;

ingot_status hub_http_new(const hub_env *env, hub_http **out, ingot_error *err);
void hub_http_free(hub_http *h);

/* Revision info: the commit and the file list (siblings with sizes and LFS
 * hashes). *files malloc'ed. */
ingot_status hub_http_revision(hub_http *h, const char *repo, const char *revision,
                               char commit[64], hub_file **files, int *n, ingot_error *err);

/* The facts huggingface_hub reads from a HEAD of the resolve URL. */
typedef struct hub_meta {
    char commit[64];
    char etag[HUB_ETAG_MAX];  /* X-Linked-Etag, else ETag, unquoted */
    uint64_t size;            /* X-Linked-Size, else Content-Length */
    bool size_known;
    char url[HUB_PATH_MAX];   /* where to GET the bytes (the CDN for LFS) */
} hub_meta;
ingot_status hub_http_meta(hub_http *h, const char *repo, const char *commit, const char *file,
                           hub_meta *meta, ingot_error *err);

/* Called as body bytes arrive; offset is where data starts in the file
 * (0 after a 200, the range start after a 206). False aborts the transfer. */
typedef bool (*hub_sink_fn)(const void *data, size_t n, uint64_t offset, void *user);
typedef struct hub_fetch {
    int http_status;       /* 200, 206, ... */
    uint64_t range_start;  /* from Content-Range when 206 */
    bool sink_failed;      /* the sink refused bytes (disk full, cancel) */
} hub_fetch;
/* GETs url from byte offset `from` (Range when > 0), streaming the body of a
 * 200/206 to sink. A 416 is returned as a status, not an error. */
ingot_status hub_http_fetch(hub_http *h, const char *url, uint64_t from, hub_sink_fn sink,
                            void *user, hub_fetch *res, ingot_error *err);
/* The endpoint this client talks to (no trailing slash). */
const char *hub_http_endpoint(const hub_http *h);
/* Transfers abort soon after *flag becomes nonzero (NULL: never). */
void hub_http_set_cancel(hub_http *h, const _Atomic int *flag);

/* ---- downloads (download.c) ---- */

/* Downloads files[0..n) of repo at commit into the cache (skipping those
 * already in the snapshot), in parallel, reporting progress through env. */
ingot_status hub_download_all(const hub_env *env, const char *repo, const char *commit,
                              const hub_file *const *files, int n, int *n_downloaded,
                              uint64_t *bytes_downloaded, ingot_error *err);
#endif
