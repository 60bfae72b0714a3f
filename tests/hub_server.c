/* A fake Hugging Face hub for the hub tests, on 127.0.0.1 (libmicrohttpd).
 * It serves a few repositories made of fixture files (read in place) and
 * inline texts, the way the hub does: the revision API with siblings, sizes
 * and LFS sha256 (?blobs=true), resolve URLs that answer HEAD/GET with
 * X-Repo-Commit and ETag (regular files) or redirect LFS files to a
 * separate /cdn/ path with X-Linked-Etag and X-Linked-Size, Range requests,
 * 401/403 for a gated repo, 404s with X-Error-Code, and a relative redirect
 * for a renamed repo. Faults for tests: drop the connection after N bytes,
 * corrupt a byte, stall, or slow down (GET /_ctl/set?...); request counters
 * at /_ctl/stats. Prints its port on stdout, then serves until SIGTERM or
 * --timeout seconds.
 * usage: hub_server --fixtures DIR [--token TOKEN] [--timeout S] */
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct blob {
    const char *path;     /* in the repo */
    const char *fixture;  /* relative to --fixtures, or NULL */
    const char *text;     /* inline content when no fixture */
    unsigned char *data;
    size_t size;
    bool lfs;
    char sha256[65], git_sha1[41];
} blob;

typedef struct revision {
    const char *name;      /* branch or tag */
    char commit[41];
    blob *files[8];
    int n;
} revision;

typedef struct repo {
    const char *id;
    bool gated;
    const char *renamed_to; /* answers with a relative redirect */
    revision revs[2];
    int n_revs;
} repo;

/* Contents. */
static blob b_tiny_q4 = {"tiny-Q4_K_M.gguf", "models/synthetic/llama-Q4_K_M.gguf", NULL, NULL, 0, true, "", ""};
static blob b_tiny_q8 = {"tiny-Q8_0.gguf", "models/synthetic/llama-Q8_0-pure.gguf", NULL, NULL, 0, true, "", ""};
static blob b_tiny_f16 = {"tiny-F16.gguf", "models/synthetic/llama-F16-pure.gguf", NULL, NULL, 0, true, "", ""};
static blob b_readme = {"README.md", NULL, "# tiny test models\n", NULL, 0, false, "", ""};
static blob b_attrs = {".gitattributes", NULL, "*.gguf filter=lfs diff=lfs merge=lfs -text\n", NULL, 0, false, "", ""};
static blob b_noq4_q8 = {"noq4-Q8_0.gguf", "models/synthetic/llama-Q8_0-pure.gguf", NULL, NULL, 0, true, "", ""};
static blob b_noq4_q4 = {"noq4-Q4_0.gguf", "models/synthetic/llama-Q4_0-pure.gguf", NULL, NULL, 0, true, "", ""};
static blob b_noq4_f16 = {"noq4-F16.gguf", "models/synthetic/llama-F16-pure.gguf", NULL, NULL, 0, true, "", ""};
static blob b_noq4_f32 = {"noq4-F32.gguf", "models/synthetic/llama-f32.gguf", NULL, NULL, 0, true, "", ""};
static blob b_stories = {"stories260K.gguf", "models/real/stories260K.gguf", NULL, NULL, 0, true, "", ""};
static blob b_readme_v2 = {"README.md", NULL, "# stories260K\nversion 2\n", NULL, 0, false, "", ""};
static blob b_readme_v1 = {"README.md", NULL, "# stories260K\nversion 1\n", NULL, 0, false, "", ""};
static blob b_nested = {"tinyllamas/stories260K.gguf", "models/real/stories260K.gguf", NULL, NULL, 0, true, "", ""};
static blob b_mlx_config = {"config.json", NULL,
                            "{\"model_type\": \"qwen3\", \"hidden_size\": 2, \"quantization\": "
                            "{\"group_size\": 64, \"bits\": 4}}\n",
                            NULL, 0, false, "", ""};
static blob b_mlx_tok = {"tokenizer.json", "tokenizers/hf/qwen3/tokenizer.json", NULL, NULL, 0, false, "", ""};
static blob b_mlx_tokcfg = {"tokenizer_config.json", "tokenizers/hf/qwen3/tokenizer_config.json", NULL, NULL, 0, false, "", ""};
/* A valid safetensors file: 8-byte header length, JSON header, 8 bytes of data. */
static blob b_mlx_weights = {"model.safetensors", NULL,
                             "\x40\0\0\0\0\0\0\0{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}          "
                             "\0\0\x80\x3f\0\0\0\x40",
                             NULL, 0, true, "", ""};
static blob b_mlx_readme = {"README.md", NULL, "# qwen3 mlx test\n", NULL, 0, false, "", ""};
static blob b_split1 = {"big-Q4_K_M-00001-of-00002.gguf", "models/synthetic/qwen2-Q4_K_M.gguf", NULL, NULL, 0, true, "", ""};
static blob b_split2 = {"big-Q4_K_M-00002-of-00002.gguf", "models/synthetic/qwen3-Q4_K_M.gguf", NULL, NULL, 0, true, "", ""};
static blob b_gated = {"gated-Q4_K_M.gguf", "models/synthetic/llama-Q4_K_M.gguf", NULL, NULL, 0, true, "", ""};

static blob *all_blobs[] = {&b_tiny_q4, &b_tiny_q8, &b_tiny_f16, &b_readme, &b_attrs, &b_noq4_q8,
                            &b_noq4_q4, &b_noq4_f16, &b_noq4_f32, &b_stories, &b_readme_v2,
                            &b_readme_v1, &b_nested, &b_mlx_config, &b_mlx_tok, &b_mlx_tokcfg,
                            &b_mlx_weights, &b_mlx_readme, &b_split1, &b_split2, &b_gated};

static repo repos[] = {
    {"test-org/tiny-GGUF", false, NULL, {{"main", "", {&b_attrs, &b_readme, &b_tiny_f16, &b_tiny_q4, &b_tiny_q8}, 5}}, 1},
    {"test-org/noq4-GGUF", false, NULL, {{"main", "", {&b_noq4_f16, &b_noq4_f32, &b_noq4_q4, &b_noq4_q8}, 4}}, 1},
    {"test-org/stories260K-GGUF", false, NULL,
     {{"main", "", {&b_readme_v2, &b_stories}, 2}, {"v1", "", {&b_readme_v1, &b_stories}, 2}}, 2},
    {"ggml-org/models", false, NULL, {{"main", "", {&b_nested}, 1}}, 1},
    {"test-org/qwen3-mlx", false, NULL,
     {{"main", "", {&b_mlx_readme, &b_mlx_config, &b_mlx_weights, &b_mlx_tok, &b_mlx_tokcfg}, 5}}, 1},
    {"test-org/split-GGUF", false, NULL, {{"main", "", {&b_split1, &b_split2, &b_readme}, 3}}, 1},
    {"gated-org/gated-GGUF", true, NULL, {{"main", "", {&b_gated}, 1}}, 1},
    {"test-org/old-name", false, "test-org/tiny-GGUF", {{"main", "", {0}, 0}}, 1},
};

static const char *fixtures;
static const char *token = "hf_test_token";
static int port;

/* Faults and counters, changed by /_ctl. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long long drop_after = -1; /* bytes into a body */
static int drop_count;            /* bodies still to drop */
static int corrupt_count;         /* bodies still to corrupt */
static long long stall_after = -1;
static int stall_count;
static int chunk_delay_ms;
static long n_api, n_head, n_get, n_cdn, n_ranges, n_unauth;
static long long bytes_sent;
static long long last_range_start = -1;
static atomic_int stopping;

static void digest(const EVP_MD *md, const void *a, size_t an, const void *b, size_t bn, char *hex) {
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, md, NULL);
    if (an) EVP_DigestUpdate(c, a, an);
    if (bn) EVP_DigestUpdate(c, b, bn);
    EVP_DigestFinal_ex(c, d, &n);
    EVP_MD_CTX_free(c);
    for (unsigned i = 0; i < n; i++) sprintf(hex + 2 * i, "%02x", d[i]);
}

static bool load_blob(blob *b) {
    if (b->fixture) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", fixtures, b->fixture);
        FILE *f = fopen(path, "rb");
        if (!f) {
            fprintf(stderr, "hub_server: cannot open %s\n", path);
            return false;
        }
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        b->data = malloc((size_t)n + 1);
        if (!b->data || fread(b->data, 1, (size_t)n, f) != (size_t)n) {
            fclose(f);
            return false;
        }
        fclose(f);
        b->size = (size_t)n;
    } else {
        /* The safetensors blob holds NULs: its length is fixed by its header. */
        b->size = b == &b_mlx_weights ? 8 + 0x40 + 8 : strlen(b->text);
        b->data = malloc(b->size + 1);
        memcpy(b->data, b->text, b->size);
    }
    digest(EVP_sha256(), b->data, b->size, NULL, 0, b->sha256);
    char hdr[64];
    int hl = snprintf(hdr, sizeof hdr, "blob %zu", b->size) + 1; /* with its NUL */
    digest(EVP_sha1(), hdr, (size_t)hl, b->data, b->size, b->git_sha1);
    return true;
}

static repo *find_repo(const char *id) {
    for (size_t i = 0; i < sizeof repos / sizeof repos[0]; i++)
        if (!strcmp(repos[i].id, id)) return &repos[i];
    return NULL;
}

static revision *find_rev(repo *r, const char *name) {
    for (int i = 0; i < r->n_revs; i++)
        if (!strcmp(r->revs[i].name, name) || !strcmp(r->revs[i].commit, name)) return &r->revs[i];
    return NULL;
}

static blob *find_file(revision *v, const char *path) {
    for (int i = 0; i < v->n; i++)
        if (!strcmp(v->files[i]->path, path)) return v->files[i];
    return NULL;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned code, const char *text,
                                 const char *err_code) {
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (err_code) {
        MHD_add_response_header(r, "X-Error-Code", err_code);
        MHD_add_response_header(r, "X-Error-Message", text);
    }
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* 401 without a token, 403 with a wrong one, as the hub does for gated repos. */
static bool auth_ok(struct MHD_Connection *c, repo *r, enum MHD_Result *ret) {
    if (!r->gated) return true;
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    char want[512];
    snprintf(want, sizeof want, "Bearer %s", token);
    if (a && !strcmp(a, want)) return true;
    pthread_mutex_lock(&mu);
    n_unauth++;
    pthread_mutex_unlock(&mu);
    if (!a) *ret = send_text(c, 401, "Access to this model is restricted: you must be authenticated.", "GatedRepo");
    else *ret = send_text(c, 403, "Access to this model is restricted and you are not in the authorized list.", "GatedRepo");
    return false;
}

/* A body being streamed, with the faults that apply to it. */
typedef struct stream {
    const blob *b;
    size_t start, end; /* [start, end) */
    long long drop_at, stall_at, corrupt_at; /* absolute offsets, -1 = none */
} stream;

static ssize_t read_body(void *cls, uint64_t pos, char *buf, size_t max) {
    stream *s = cls;
    size_t off = s->start + (size_t)pos;
    if (off >= s->end) return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = s->end - off;
    if (n > max) n = max;
    if (n > 65536) n = 65536;
    if (s->drop_at >= 0) {
        if ((long long)off >= s->drop_at) return MHD_CONTENT_READER_END_WITH_ERROR;
        if ((long long)(off + n) > s->drop_at) n = (size_t)(s->drop_at - (long long)off);
    }
    if (s->stall_at >= 0) {
        if ((long long)off >= s->stall_at) {
            /* Hold the connection open without sending, until told to stop. */
            for (int i = 0; i < 400 && !atomic_load(&stopping); i++) {
                struct timespec ts = {0, 50 * 1000000L};
                nanosleep(&ts, NULL);
            }
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if ((long long)(off + n) > s->stall_at) n = (size_t)(s->stall_at - (long long)off);
    }
    memcpy(buf, s->b->data + off, n);
    if (s->corrupt_at >= (long long)off && s->corrupt_at < (long long)(off + n)) buf[s->corrupt_at - (long long)off] ^= 0x5a;
    pthread_mutex_lock(&mu);
    bytes_sent += (long long)n;
    int delay = chunk_delay_ms;
    pthread_mutex_unlock(&mu);
    if (delay > 0) {
        struct timespec ts = {delay / 1000, (delay % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return (ssize_t)n;
}

static void free_stream(void *cls) { free(cls); }

/* Serves b (a whole file or a Range of it), applying the faults. */
static enum MHD_Result send_blob(struct MHD_Connection *c, const blob *b, bool head, struct MHD_Response **rp,
                                 unsigned *code) {
    size_t start = 0, end = b->size;
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    *code = 200;
    if (range) {
        unsigned long long a = 0, z = 0;
        int k = sscanf(range, "bytes=%llu-%llu", &a, &z);
        if (k < 1) return MHD_NO;
        if (a >= b->size) {
            char cr[64];
            snprintf(cr, sizeof cr, "bytes */%zu", b->size);
            struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
            MHD_add_response_header(r, "Content-Range", cr);
            *rp = r;
            *code = 416;
            return MHD_YES;
        }
        start = (size_t)a;
        if (k == 2 && z + 1 < b->size) end = (size_t)z + 1;
        *code = 206;
        pthread_mutex_lock(&mu);
        if (!head) {
            n_ranges++;
            last_range_start = (long long)start;
        }
        pthread_mutex_unlock(&mu);
    }
    stream *s = calloc(1, sizeof *s);
    s->b = b;
    s->start = start;
    s->end = end;
    s->drop_at = s->stall_at = s->corrupt_at = -1;
    if (!head) {
        pthread_mutex_lock(&mu);
        if (drop_count > 0 && drop_after >= 0) {
            drop_count--;
            s->drop_at = drop_after;
        }
        if (stall_count > 0 && stall_after >= 0) {
            stall_count--;
            s->stall_at = stall_after;
        }
        if (corrupt_count > 0) {
            corrupt_count--;
            s->corrupt_at = (long long)(b->size / 2);
        }
        pthread_mutex_unlock(&mu);
    }
    /* For HEAD, MHD sends the headers of this response (Content-Length
     * included) without calling the reader. */
    struct MHD_Response *r = MHD_create_response_from_callback(end - start, 65536, read_body, s, free_stream);
    if (*code == 206) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %zu-%zu/%zu", start, end - 1, b->size);
        MHD_add_response_header(r, "Content-Range", cr);
    }
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    *rp = r;
    return MHD_YES;
}

static enum MHD_Result handle_api(struct MHD_Connection *c, const char *rest) {
    /* {org}/{name}/revision/{rev} or {org}/{name} */
    char id[256], rev[256] = "main";
    const char *p = strchr(rest, '/');
    if (!p) return send_text(c, 404, "Repository not found", "RepoNotFound");
    const char *q = strchr(p + 1, '/');
    size_t idl = q ? (size_t)(q - rest) : strlen(rest);
    if (idl >= sizeof id) return send_text(c, 404, "Repository not found", "RepoNotFound");
    memcpy(id, rest, idl);
    id[idl] = 0;
    if (q) {
        if (strncmp(q, "/revision/", 10) != 0) return send_text(c, 404, "Not found", NULL);
        snprintf(rev, sizeof rev, "%s", q + 10);
    }
    pthread_mutex_lock(&mu);
    n_api++;
    pthread_mutex_unlock(&mu);
    repo *r = find_repo(id);
    if (!r) return send_text(c, 401, "Repository not found", "RepoNotFound");
    enum MHD_Result ret;
    if (!auth_ok(c, r, &ret)) return ret;
    if (r->renamed_to) {
        char loc[600];
        snprintf(loc, sizeof loc, "/api/models/%s/revision/%s", r->renamed_to, rev);
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(resp, "Location", loc);
        ret = MHD_queue_response(c, 307, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    revision *v = find_rev(r, rev);
    if (!v) return send_text(c, 404, "Invalid rev id", "RevisionNotFound");
    const char *blobs = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "blobs");
    bool with_blobs = blobs && !strcmp(blobs, "true");
    size_t cap = 16384, len = 0;
    char *out = malloc(cap);
    len += (size_t)snprintf(out + len, cap - len,
                            "{\"_id\":\"%.24s\",\"id\":\"%s\",\"modelId\":\"%s\",\"sha\":\"%s\","
                            "\"private\":false,\"gated\":%s,\"siblings\":[",
                            v->commit, r->id, r->id, v->commit, r->gated ? "\"manual\"" : "false");
    for (int i = 0; i < v->n; i++) {
        const blob *b = v->files[i];
        len += (size_t)snprintf(out + len, cap - len, "%s{\"rfilename\":\"%s\"", i ? "," : "", b->path);
        if (with_blobs) {
            len += (size_t)snprintf(out + len, cap - len, ",\"blobId\":\"%s\",\"size\":%zu", b->git_sha1, b->size);
            if (b->lfs)
                len += (size_t)snprintf(out + len, cap - len,
                                        ",\"lfs\":{\"sha256\":\"%s\",\"size\":%zu,\"pointerSize\":134}",
                                        b->sha256, b->size);
        }
        len += (size_t)snprintf(out + len, cap - len, "}");
    }
    len += (size_t)snprintf(out + len, cap - len, "]}");
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, out, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    ret = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result handle_resolve(struct MHD_Connection *c, const char *url, bool head) {
    /* /{org}/{name}/resolve/{rev}/{path} */
    char id[256], rev[256], path[2048];
    const char *p1 = strchr(url + 1, '/');
    if (!p1) return send_text(c, 404, "Not found", NULL);
    const char *p2 = strchr(p1 + 1, '/');
    if (!p2 || strncmp(p2, "/resolve/", 9) != 0) return send_text(c, 404, "Not found", NULL);
    size_t idl = (size_t)(p2 - url - 1);
    if (idl >= sizeof id) return send_text(c, 404, "Not found", NULL);
    memcpy(id, url + 1, idl);
    id[idl] = 0;
    const char *rs = p2 + 9;
    const char *re = strchr(rs, '/');
    if (!re || (size_t)(re - rs) >= sizeof rev) return send_text(c, 404, "Not found", NULL);
    memcpy(rev, rs, (size_t)(re - rs));
    rev[re - rs] = 0;
    snprintf(path, sizeof path, "%s", re + 1);
    pthread_mutex_lock(&mu);
    if (head) n_head++;
    else n_get++;
    pthread_mutex_unlock(&mu);
    repo *r = find_repo(id);
    if (!r) return send_text(c, 401, "Repository not found", "RepoNotFound");
    enum MHD_Result ret;
    if (!auth_ok(c, r, &ret)) return ret;
    if (r->renamed_to) {
        char loc[4096];
        snprintf(loc, sizeof loc, "/%s/resolve/%s/%s", r->renamed_to, rev, path);
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(resp, "Location", loc);
        ret = MHD_queue_response(c, 307, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    revision *v = find_rev(r, rev);
    if (!v) return send_text(c, 404, "Invalid rev id", "RevisionNotFound");
    blob *b = find_file(v, path);
    if (!b) return send_text(c, 404, "Entry not found", "EntryNotFound");
    struct MHD_Response *resp;
    unsigned code;
    if (b->lfs) {
        /* LFS: the hub answers with a redirect to its CDN and the blob's facts. */
        char loc[512], size[32], etag[80], ptr[80];
        snprintf(loc, sizeof loc, "http://127.0.0.1:%d/cdn/%s?name=%s", port, b->sha256, b->path);
        snprintf(size, sizeof size, "%zu", b->size);
        snprintf(etag, sizeof etag, "\"%s\"", b->sha256);
        snprintf(ptr, sizeof ptr, "\"%s\"", b->git_sha1);
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(resp, "Location", loc);
        MHD_add_response_header(resp, "X-Linked-Etag", etag);
        MHD_add_response_header(resp, "X-Linked-Size", size);
        MHD_add_response_header(resp, "ETag", ptr);
        code = 302;
    } else {
        if (send_blob(c, b, head, &resp, &code) != MHD_YES) return MHD_NO;
        char etag[64];
        snprintf(etag, sizeof etag, "\"%s\"", b->git_sha1);
        MHD_add_response_header(resp, "ETag", etag);
    }
    MHD_add_response_header(resp, "X-Repo-Commit", v->commit);
    ret = MHD_queue_response(c, code, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result handle_cdn(struct MHD_Connection *c, const char *sha, bool head) {
    pthread_mutex_lock(&mu);
    if (!head) n_cdn++;
    pthread_mutex_unlock(&mu);
    for (size_t i = 0; i < sizeof all_blobs / sizeof all_blobs[0]; i++) {
        if (strcmp(all_blobs[i]->sha256, sha) != 0) continue;
        struct MHD_Response *resp;
        unsigned code;
        if (send_blob(c, all_blobs[i], head, &resp, &code) != MHD_YES) return MHD_NO;
        enum MHD_Result ret = MHD_queue_response(c, code, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    return send_text(c, 404, "NoSuchKey", NULL);
}

static long long arg_ll(struct MHD_Connection *c, const char *k, long long def) {
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, k);
    return v ? strtoll(v, NULL, 10) : def;
}

static enum MHD_Result handle_ctl(struct MHD_Connection *c, const char *what) {
    char buf[1024];
    pthread_mutex_lock(&mu);
    if (!strcmp(what, "set")) {
        drop_after = arg_ll(c, "drop_after", drop_after);
        drop_count = (int)arg_ll(c, "drop_count", drop_after >= 0 ? 1 : 0);
        stall_after = arg_ll(c, "stall_after", stall_after);
        stall_count = (int)arg_ll(c, "stall_count", stall_after >= 0 ? 1 : 0);
        corrupt_count = (int)arg_ll(c, "corrupt", corrupt_count);
        chunk_delay_ms = (int)arg_ll(c, "chunk_delay_ms", chunk_delay_ms);
        snprintf(buf, sizeof buf, "ok\n");
    } else if (!strcmp(what, "reset")) {
        drop_after = stall_after = -1;
        drop_count = stall_count = corrupt_count = chunk_delay_ms = 0;
        n_api = n_head = n_get = n_cdn = n_ranges = n_unauth = 0;
        bytes_sent = 0;
        last_range_start = -1;
        snprintf(buf, sizeof buf, "ok\n");
    } else {
        snprintf(buf, sizeof buf,
                 "{\"api\":%ld,\"head\":%ld,\"get\":%ld,\"cdn\":%ld,\"ranges\":%ld,\"unauth\":%ld,"
                 "\"bytes\":%lld,\"last_range_start\":%lld}\n",
                 n_api, n_head, n_get, n_cdn, n_ranges, n_unauth, bytes_sent, last_range_start);
    }
    pthread_mutex_unlock(&mu);
    return send_text(c, 200, buf, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **state) {
    static int first;
    if (*state == NULL) {
        *state = &first;
        return MHD_YES;
    }
    bool head = !strcmp(method, "HEAD");
    if (!head && strcmp(method, "GET") != 0) return send_text(c, 405, "method not allowed", NULL);
    if (!strncmp(url, "/_ctl/", 6)) return handle_ctl(c, url + 6);
    if (!strncmp(url, "/api/models/", 12)) return handle_api(c, url + 12);
    if (!strncmp(url, "/cdn/", 5)) return handle_cdn(c, url + 5, head);
    return handle_resolve(c, url, head);
}

int main(int argc, char **argv) {
    int timeout = 120;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--fixtures") && i + 1 < argc) fixtures = argv[++i];
        else if (!strcmp(argv[i], "--token") && i + 1 < argc) token = argv[++i];
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) timeout = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: hub_server --fixtures DIR [--token T] [--timeout S]\n");
            return 2;
        }
    }
    if (!fixtures) fixtures = getenv("INGOT_FIXTURES");
    if (!fixtures) {
        fprintf(stderr, "hub_server: --fixtures DIR is required\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof all_blobs / sizeof all_blobs[0]; i++)
        if (!load_blob(all_blobs[i])) return 1;
    for (size_t i = 0; i < sizeof repos / sizeof repos[0]; i++)
        for (int k = 0; k < repos[i].n_revs; k++) {
            char seed[512];
            snprintf(seed, sizeof seed, "commit:%s:%s", repos[i].id, repos[i].revs[k].name);
            digest(EVP_sha1(), seed, strlen(seed), NULL, 0, repos[i].revs[k].commit);
        }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* the daemon's threads inherit this */
    signal(SIGPIPE, SIG_IGN);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                                            0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, &addr,
                                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "hub_server: cannot start the HTTP daemon\n");
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    port = info ? info->port : 0;
    printf("%d\n", port);
    fflush(stdout);
    struct timespec ts = {timeout, 0};
    while (sigtimedwait(&set, NULL, &ts) < 0 && errno == EINTR) {}
    atomic_store(&stopping, 1);
    MHD_stop_daemon(d);
    for (size_t i = 0; i < sizeof all_blobs / sizeof all_blobs[0]; i++) free(all_blobs[i]->data);
    return 0;
}
