/* Owns the conversation with the hub over libcurl: the revision API
 * (commit + siblings with sizes and LFS sha256), the HEAD of a resolve URL
 * that names a file's blob (X-Repo-Commit, X-Linked-Etag / ETag,
 * X-Linked-Size, and the CDN Location for LFS files, following only the
 * hub's own relative redirects as huggingface_hub does), ranged GETs that
 * stream into a sink, and turning HTTP and network failures into messages
 * that say what to do. The token goes only to the endpoint's own URLs,
 * never to a CDN. Proxy variables are libcurl's. */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "hub/hub.h"

#define JSON_MAX (64u << 20)

struct hub_http {
    CURL *curl;
    char endpoint[1024];
    char token[1024];
    long stall_s;
    const _Atomic int *cancel;
};

/* What a response said, reset at each status line (redirects give several). */
typedef struct resp {
    long status;
    char commit[128], linked_etag[HUB_ETAG_MAX], etag[HUB_ETAG_MAX];
    char linked_size[32], content_length[32], location[HUB_PATH_MAX], content_range[96];
    char error_code[64], error_message[512];
    /* body */
    char *body;
    size_t body_len, body_cap, body_max;
    hub_sink_fn sink;
    void *sink_user;
    uint64_t delivered;
    bool sink_failed;
    hub_fetch *fetch;
} resp;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

ingot_status hub_http_new(const hub_env *env, hub_http **out, ingot_error *err) {
    *out = NULL;
    pthread_once(&curl_once, curl_init_once);
    hub_http *h = calloc(1, sizeof *h);
    if (!h) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    h->curl = curl_easy_init();
    if (!h->curl) {
        free(h);
        return ingot_error_set(err, INGOT_E_INTERNAL, "curl_easy_init failed");
    }
    snprintf(h->endpoint, sizeof h->endpoint, "%s", env->endpoint);
    snprintf(h->token, sizeof h->token, "%s", env->token);
    h->stall_s = env->stall_timeout_s;
    *out = h;
    return INGOT_OK;
}

void hub_http_free(hub_http *h) {
    if (!h) return;
    curl_easy_cleanup(h->curl);
    free(h);
}

const char *hub_http_endpoint(const hub_http *h) { return h->endpoint; }
void hub_http_set_cancel(hub_http *h, const _Atomic int *flag) { h->cancel = flag; }

static void copy_value(char *dst, size_t n, const char *v, size_t len) {
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' ')) len--;
    while (len && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    if (len >= n) len = n - 1;
    memcpy(dst, v, len);
    dst[len] = 0;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *user) {
    resp *r = user;
    size_t len = size * nitems;
    if (len >= 5 && !strncmp(buf, "HTTP/", 5)) {
        /* A new response (after a redirect): forget the previous headers. */
        char *body = r->body;
        size_t cap = r->body_cap, max = r->body_max;
        hub_sink_fn sink = r->sink;
        void *su = r->sink_user;
        hub_fetch *f = r->fetch;
        memset(r, 0, sizeof *r);
        r->body = body;
        r->body_cap = cap;
        r->body_max = max;
        r->sink = sink;
        r->sink_user = su;
        r->fetch = f;
        const char *sp = memchr(buf, ' ', len);
        if (sp) r->status = strtol(sp + 1, NULL, 10);
        return len;
    }
    const char *colon = memchr(buf, ':', len);
    if (!colon) return len;
    size_t kl = (size_t)(colon - buf);
    const char *v = colon + 1;
    size_t vl = len - kl - 1;
    static const struct { const char *name; size_t off, cap; } keys[] = {
        {"x-repo-commit", offsetof(resp, commit), sizeof ((resp *)0)->commit},
        {"x-linked-etag", offsetof(resp, linked_etag), sizeof ((resp *)0)->linked_etag},
        {"etag", offsetof(resp, etag), sizeof ((resp *)0)->etag},
        {"x-linked-size", offsetof(resp, linked_size), sizeof ((resp *)0)->linked_size},
        {"content-length", offsetof(resp, content_length), sizeof ((resp *)0)->content_length},
        {"location", offsetof(resp, location), sizeof ((resp *)0)->location},
        {"content-range", offsetof(resp, content_range), sizeof ((resp *)0)->content_range},
        {"x-error-code", offsetof(resp, error_code), sizeof ((resp *)0)->error_code},
        {"x-error-message", offsetof(resp, error_message), sizeof ((resp *)0)->error_message},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strlen(keys[i].name) == kl && !strncasecmp(buf, keys[i].name, kl))
            copy_value((char *)r + keys[i].off, keys[i].cap, v, vl);
    return len;
}

static bool status_ok(long s) { return s == 200 || s == 206; }

static size_t on_body(char *data, size_t size, size_t nmemb, void *user) {
    resp *r = user;
    size_t len = size * nmemb;
    if (r->sink && status_ok(r->status)) {
        if (r->fetch && r->delivered == 0) {
            r->fetch->http_status = (int)r->status;
            r->fetch->range_start = 0;
            if (r->status == 206) {
                unsigned long long a;
                if (sscanf(r->content_range, "bytes %llu-", &a) != 1) {
                    r->sink_failed = true;
                    return 0;
                }
                r->fetch->range_start = a;
            }
        }
        uint64_t off = (r->fetch ? r->fetch->range_start : 0) + r->delivered;
        if (!r->sink(data, len, off, r->sink_user)) {
            r->sink_failed = true;
            return 0;
        }
        r->delivered += len;
        return len;
    }
    /* Keep the start of an error body (or the whole JSON answer). */
    if (r->body_len + len > r->body_max) {
        if (r->sink) return len;
        r->sink_failed = true;
        return 0;
    }
    if (r->body_len + len + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + len + 1) cap *= 2;
        char *b = realloc(r->body, cap);
        if (!b) return 0;
        r->body = b;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    r->body[r->body_len] = 0;
    return len;
}

static int on_xfer(void *user, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
    const hub_http *h = user;
    return h->cancel && atomic_load(h->cancel) ? 1 : 0;
}

static bool is_endpoint_url(const hub_http *h, const char *url) {
    size_t n = strlen(h->endpoint);
    return !strncmp(url, h->endpoint, n) && (url[n] == '/' || url[n] == 0 || url[n] == '?');
}

/* Runs one request on the handle; fills r. Returns the curl code. */
static CURLcode perform(hub_http *h, const char *url, bool head, bool follow, uint64_t from, resp *r) {
    CURL *c = h->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "ingot/" INGOT_VERSION);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->stall_s);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xfer);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
    if (head) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    char range[48];
    if (from > 0) {
        snprintf(range, sizeof range, "%llu-", (unsigned long long)from);
        curl_easy_setopt(c, CURLOPT_RANGE, range);
    }
    struct curl_slist *hdrs = NULL;
    char auth[1100];
    /* Sizes and hashes are of the stored bytes: never let a proxy or CDN
     * compress them. */
    hdrs = curl_slist_append(hdrs, "Accept-Encoding: identity");
    if (h->token[0] && is_endpoint_url(h, url)) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", h->token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (code) r->status = code;
    curl_slist_free_all(hdrs);
    return rc;
}

static ingot_status curl_error(const hub_http *h, CURLcode rc, const char *url, ingot_error *err) {
    switch (rc) {
    case CURLE_ABORTED_BY_CALLBACK:
        return ingot_error_set(err, INGOT_E_CANCELLED, "cancelled");
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return ingot_error_set(err, INGOT_E_NETWORK,
                               "cannot reach %s (%s); check the network or proxy settings, or set "
                               "HF_HUB_OFFLINE=1 to use only the local cache",
                               url, curl_easy_strerror(rc));
    case CURLE_OPERATION_TIMEDOUT:
        return ingot_error_set(err, INGOT_E_NETWORK, "the transfer from %s stalled (no data for %ld s)",
                               url, h->stall_s);
    default:
        return ingot_error_set(err, INGOT_E_NETWORK, "connection to %s failed: %s", url,
                               curl_easy_strerror(rc));
    }
}

/* The message for an HTTP failure; what/repo name the thing asked for. */
static ingot_status status_error(const hub_http *h, const resp *r, const char *repo,
                                 const char *what, const char *url, ingot_error *err) {
    const char *srv = r->error_message[0] ? r->error_message : "";
    /* The hub answers 401 for a repository that does not exist, so as not to
     * reveal private ones: its error code tells the two apart. */
    if (!strcasecmp(r->error_code, "RepoNotFound"))
        return ingot_error_set(err, INGOT_E_NOT_FOUND,
                               "repository %s not found on %s (check the name; a private "
                               "repository also needs HF_TOKEN)",
                               repo, h->endpoint);
    if (r->status == 401 || r->status == 403) {
        if (!h->token[0] || r->status == 401)
            return ingot_error_set(
                err, INGOT_E_AUTH,
                "%s: HTTP %ld, the repository is gated or private%s%s%s. Accept its terms at "
                "https://huggingface.co/%s if it is gated, create a read token at "
                "https://huggingface.co/settings/tokens and set HF_TOKEN=hf_... %s",
                what, r->status, srv[0] ? " (" : "", srv, srv[0] ? ")" : "", repo,
                h->token[0] ? "(the token that was sent was refused)" : "(no token was sent)");
        return ingot_error_set(err, INGOT_E_AUTH,
                               "%s: HTTP 403, your token has no access%s%s%s. Request access at "
                               "https://huggingface.co/%s, or use a token (HF_TOKEN) of an "
                               "account that has it",
                               what, srv[0] ? " (" : "", srv, srv[0] ? ")" : "", repo);
    }
    if (r->status == 404) {
        if (!strcasecmp(r->error_code, "RevisionNotFound"))
            return ingot_error_set(err, INGOT_E_NOT_FOUND, "%s: no such revision (branch, tag or commit)", what);
        if (!strcasecmp(r->error_code, "EntryNotFound"))
            return ingot_error_set(err, INGOT_E_NOT_FOUND, "%s: no such file in the repository", what);
        return ingot_error_set(err, INGOT_E_NOT_FOUND, "%s: not found (HTTP 404 from %s)", what, url);
    }
    if (r->status == 429)
        return ingot_error_set(err, INGOT_E_NETWORK, "%s: the hub is rate limiting requests (HTTP 429); try again later",
                               what);
    return ingot_error_set(err, INGOT_E_NETWORK, "%s: HTTP %ld from %s%s%s", what, r->status, url,
                           srv[0] ? ": " : "", srv);
}

/* Appends path to buf, escaping each segment but keeping the slashes. */
static bool append_escaped_path(CURL *c, char *buf, size_t n, const char *path) {
    size_t len = strlen(buf);
    const char *seg = path;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t sl = end ? (size_t)(end - seg) : strlen(seg);
        char *e = curl_easy_escape(c, seg, (int)sl);
        if (!e) return false;
        int w = snprintf(buf + len, n - len, "%s%s", e, end ? "/" : "");
        curl_free(e);
        if (w < 0 || (size_t)w >= n - len) return false;
        len += (size_t)w;
        if (!end) return true;
        seg = end + 1;
    }
}

static bool hex_lower(const char *s, size_t n) {
    if (strlen(s) != n) return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) return false;
    return true;
}

ingot_status hub_http_revision(hub_http *h, const char *repo, const char *revision,
                               char commit[64], hub_file **files_out, int *n_out, ingot_error *err) {
    *files_out = NULL;
    *n_out = 0;
    char url[HUB_PATH_MAX], what[600];
    snprintf(what, sizeof what, "%s@%s", repo, revision);
    char *rev = curl_easy_escape(h->curl, revision, 0);
    if (!rev) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    int w = snprintf(url, sizeof url, "%s/api/models/%s/revision/%s?blobs=true", h->endpoint, repo, rev);
    curl_free(rev);
    if (w < 0 || (size_t)w >= sizeof url) return ingot_error_set(err, INGOT_E_INVALID_ARG, "URL too long");
    resp r;
    memset(&r, 0, sizeof r);
    r.body_max = JSON_MAX;
    CURLcode rc = perform(h, url, false, true, 0, &r);
    ingot_status st = INGOT_OK;
    if (rc != CURLE_OK) {
        st = r.sink_failed ? ingot_error_set(err, INGOT_E_FORMAT, "%s: the revision info from %s is larger than %u MB",
                                             what, url, JSON_MAX >> 20)
                           : curl_error(h, rc, url, err);
    } else if (r.status != 200) {
        st = status_error(h, &r, repo, what, url, err);
    }
    if (st) {
        free(r.body);
        return st;
    }
    json_error_t je;
    json_t *root = json_loadb(r.body ? r.body : "", r.body_len, 0, &je);
    free(r.body);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return ingot_error_set(err, INGOT_E_FORMAT, "%s: the hub's revision info (%s) is not a JSON object: %s at byte %d",
                               what, url, root ? "wrong type" : je.text, root ? 0 : je.position);
    }
    const char *sha = json_string_value(json_object_get(root, "sha"));
    if (!sha || !hex_lower(sha, 40)) {
        json_decref(root);
        return ingot_error_set(err, INGOT_E_FORMAT, "%s: the revision info from %s has no valid \"sha\" commit",
                               what, url);
    }
    snprintf(commit, 64, "%s", sha);
    json_t *sib = json_object_get(root, "siblings");
    if (!json_is_array(sib) || json_array_size(sib) > 1000000) {
        json_decref(root);
        return ingot_error_set(err, INGOT_E_FORMAT, "%s: the revision info from %s has no \"siblings\" list",
                               what, url);
    }
    size_t ns = json_array_size(sib);
    hub_file *files = calloc(ns ? ns : 1, sizeof *files);
    if (!files) {
        json_decref(root);
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    int n = 0;
    for (size_t i = 0; i < ns; i++) {
        json_t *s = json_array_get(sib, i);
        const char *name = json_string_value(json_object_get(s, "rfilename"));
        /* A name that could escape the snapshot folder is skipped, never used. */
        if (!name || !hub_repo_path_valid(name)) {
            ingot_log(INGOT_LOG_WARN, "%s: skipping sibling %zu with an unusable file name", what, i);
            continue;
        }
        hub_file *f = &files[n++];
        snprintf(f->path, sizeof f->path, "%s", name);
        json_t *sz = json_object_get(s, "size");
        if (json_is_integer(sz) && json_integer_value(sz) >= 0) {
            f->size = (uint64_t)json_integer_value(sz);
            f->size_known = true;
        }
        const char *bid = json_string_value(json_object_get(s, "blobId"));
        if (bid && strlen(bid) < sizeof f->blob_id) snprintf(f->blob_id, sizeof f->blob_id, "%s", bid);
        json_t *lfs = json_object_get(s, "lfs");
        if (json_is_object(lfs)) {
            f->lfs = true;
            const char *h256 = json_string_value(json_object_get(lfs, "sha256"));
            if (!h256) h256 = json_string_value(json_object_get(lfs, "oid"));
            if (h256 && hex_lower(h256, 64)) snprintf(f->sha256, sizeof f->sha256, "%s", h256);
            json_t *lsz = json_object_get(lfs, "size");
            if (json_is_integer(lsz) && json_integer_value(lsz) >= 0) {
                f->size = (uint64_t)json_integer_value(lsz);
                f->size_known = true;
            }
        }
    }
    json_decref(root);
    *files_out = files;
    *n_out = n;
    return INGOT_OK;
}

static void normalize_etag(const char *in, char *out, size_t n) {
    if (!strncmp(in, "W/", 2)) in += 2;
    size_t len = strlen(in);
    if (len >= 2 && in[0] == '"' && in[len - 1] == '"') {
        in++;
        len -= 2;
    }
    if (len >= n) len = n - 1;
    memcpy(out, in, len);
    out[len] = 0;
}

static bool etag_valid(const char *e) {
    size_t n = strlen(e);
    if (n == 0 || n > 128 || e[0] == '.') return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)e[i]) && e[i] != '-' && e[i] != '_' && e[i] != '.') return false;
    return true;
}

/* scheme://host[:port] of url, into buf. */
static bool url_origin(const char *url, char *buf, size_t n) {
    const char *p = strstr(url, "://");
    if (!p) return false;
    const char *slash = strchr(p + 3, '/');
    size_t len = slash ? (size_t)(slash - url) : strlen(url);
    if (len >= n) return false;
    memcpy(buf, url, len);
    buf[len] = 0;
    return true;
}

ingot_status hub_http_meta(hub_http *h, const char *repo, const char *commit, const char *file,
                           hub_meta *meta, ingot_error *err) {
    memset(meta, 0, sizeof *meta);
    char url[HUB_PATH_MAX], what[HUB_FILE_MAX + 400];
    snprintf(what, sizeof what, "%s@%.12s: %s", repo, commit, file);
    int w = snprintf(url, sizeof url, "%s/%s/resolve/%s/", h->endpoint, repo, commit);
    if (w < 0 || (size_t)w >= sizeof url || !append_escaped_path(h->curl, url, sizeof url, file))
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "URL too long for %s", what);
    resp r;
    for (int hop = 0;; hop++) {
        memset(&r, 0, sizeof r);
        r.body_max = 4096;
        CURLcode rc = perform(h, url, true, false, 0, &r);
        if (rc != CURLE_OK) return curl_error(h, rc, url, err);
        if (r.status >= 300 && r.status < 400 && r.location[0] && !r.commit[0]) {
            /* The hub's own redirect (a renamed repository): follow it. */
            if (hop >= 5) return ingot_error_set(err, INGOT_E_NETWORK, "%s: too many redirects", what);
            char next[HUB_PATH_MAX];
            if (r.location[0] == '/') {
                char origin[1024];
                if (!url_origin(url, origin, sizeof origin)) break;
                snprintf(next, sizeof next, "%s%s", origin, r.location);
            } else {
                snprintf(next, sizeof next, "%s", r.location);
            }
            snprintf(url, sizeof url, "%s", next);
            continue;
        }
        break;
    }
    if (!(r.status >= 200 && r.status < 400)) return status_error(h, &r, repo, what, url, err);
    normalize_etag(r.linked_etag[0] ? r.linked_etag : r.etag, meta->etag, sizeof meta->etag);
    if (!etag_valid(meta->etag))
        return ingot_error_set(err, INGOT_E_FORMAT,
                               "%s: the hub sent %s ETag ('%s'), so the file cannot be stored in the cache",
                               what, meta->etag[0] ? "an unusable" : "no", meta->etag);
    snprintf(meta->commit, sizeof meta->commit, "%s", hex_lower(r.commit, 40) ? r.commit : commit);
    const char *sz = r.linked_size[0] ? r.linked_size : r.content_length;
    if (sz[0]) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(sz, &end, 10);
        if (!errno && end != sz && *end == 0) {
            meta->size = v;
            meta->size_known = true;
        }
    }
    if (r.status >= 300 && r.location[0]) {
        if (r.location[0] == '/') {
            char origin[1024];
            if (!url_origin(url, origin, sizeof origin))
                return ingot_error_set(err, INGOT_E_FORMAT, "%s: bad redirect", what);
            snprintf(meta->url, sizeof meta->url, "%s%s", origin, r.location);
        } else {
            snprintf(meta->url, sizeof meta->url, "%s", r.location);
        }
    } else {
        snprintf(meta->url, sizeof meta->url, "%s", url);
    }
    return INGOT_OK;
}

ingot_status hub_http_fetch(hub_http *h, const char *url, uint64_t from, hub_sink_fn sink,
                            void *user, hub_fetch *res, ingot_error *err) {
    memset(res, 0, sizeof *res);
    resp r;
    memset(&r, 0, sizeof r);
    r.body_max = 4096;
    r.sink = sink;
    r.sink_user = user;
    r.fetch = res;
    CURLcode rc = perform(h, url, false, true, from, &r);
    res->http_status = (int)r.status;
    res->sink_failed = r.sink_failed;
    ingot_status st = INGOT_OK;
    if (r.sink_failed) {
        st = ingot_error_set(err, INGOT_E_IO, "the download from %s was refused by its writer", url);
    } else if (rc != CURLE_OK) {
        st = curl_error(h, rc, url, err);
    } else if (r.status == 416) {
        st = INGOT_OK;
    } else if (!status_ok(r.status) && is_endpoint_url(h, url)) {
        st = status_error(h, &r, "the repository", url, url, err);
    } else if (r.status == 401 || r.status == 403) {
        /* CDN URLs are signed and expire: a new pull gets a fresh one. */
        st = ingot_error_set(err, INGOT_E_NETWORK,
                             "the download URL was refused (HTTP %ld); it may have expired: pull again", r.status);
    } else if (!status_ok(r.status)) {
        st = ingot_error_set(err, r.status == 404 ? INGOT_E_NOT_FOUND : INGOT_E_NETWORK,
                             "HTTP %ld from the download URL %s", r.status, url);
    } else if (r.delivered == 0) {
        res->range_start = r.status == 206 ? from : 0;
    }
    free(r.body);
    return st;
}
