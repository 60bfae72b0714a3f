/* The hub client against a fake hub (tests/hub_server.c) on 127.0.0.1:
 * pull into a huggingface_hub-layout cache (relative symlinks, refs, blobs
 * named by ETag), re-pull and resolve without downloading (request
 * counters), resume after a dropped connection (Range from the partial
 * file's size), automatic retries, corrupted bytes (checksum error, nothing
 * in the snapshot), a corrupt partial file, a stall, cancellation, a full
 * disk, 401/403 for a gated repo and the token that opens it, 404s that name
 * what is missing, a renamed repo, offline mode, MLX snapshots, split GGUF,
 * two processes pulling one file, list, and rm keeping shared blobs. */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hub/hub.h"
#include "test.h"

static int port;
static pid_t server;
static char endpoint[128];
static char cache[4096];

static void start_server(void) {
    int fds[2];
    if (pipe(fds) != 0) exit(2);
    server = fork();
    if (server == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(HUB_SERVER, HUB_SERVER, "--fixtures", test_fixture(""), "--timeout", "110", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char buf[32] = {0};
    size_t n = 0;
    /* Blocks until the server has bound its port and printed it. */
    while (n < sizeof buf - 1) {
        ssize_t r = read(fds[0], buf + n, 1);
        if (r <= 0 || buf[n] == '\n') break;
        n++;
    }
    close(fds[0]);
    port = atoi(buf);
    if (port <= 0) {
        fprintf(stderr, "hub_server did not start (%s)\n", HUB_SERVER);
        exit(2);
    }
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
}

static void stop_server(void) {
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
}

static size_t collect(char *p, size_t s, size_t n, void *u) {
    char *buf = u;
    size_t len = strlen(buf), add = s * n;
    if (len + add >= 1024) add = 1023 - len;
    memcpy(buf + len, p, add);
    buf[len + add] = 0;
    return s * n;
}

/* GET /_ctl/<what> on the fake hub; the body (static) */
static const char *ctl(const char *what) {
    static char body[1024];
    body[0] = 0;
    char url[512];
    snprintf(url, sizeof url, "%s/_ctl/%s", endpoint, what);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) fprintf(stderr, "ctl %s failed\n", what);
    return body;
}

static long long stat_of(const char *key) {
    const char *s = ctl("stats");
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(s, k);
    return p ? atoll(p + strlen(k)) : -999;
}

static ingot_hub_options opts(void) {
    ingot_hub_options o = ingot_hub_default_options();
    o.endpoint = endpoint;
    o.cache_dir = cache;
    o.token = "";
    o.offline = 0;
    o.retries = 0;
    o.stall_timeout_s = 10;
    return o;
}

static bool same_as_fixture(const char *path, const char *fixture) {
    size_t a, b;
    char *x = test_read_file(path, &a), *y = test_read_file(test_fixture(fixture), &b);
    bool same = x && y && a == b && memcmp(x, y, a) == 0;
    free(x);
    free(y);
    return same;
}

static void sha256_of_fixture(const char *fixture, char hex[65]) {
    size_t n;
    char *d = test_read_file(test_fixture(fixture), &n);
    unsigned char md[32];
    unsigned ml = 0;
    EVP_Digest(d, n, md, &ml, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) sprintf(hex + 2 * i, "%02x", md[i]);
    free(d);
}

static long long file_size(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static bool exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

/* ---- progress recording ---- */
typedef struct events {
    int n;
    int kinds[256];
    uint64_t last_done, last_total;
    int retries, waits;
    int cancel_at_progress; /* cancel on the first PROGRESS with done > 0 */
} events;

static bool on_progress(const ingot_hub_progress *p, void *user) {
    events *e = user;
    if (e->n < 256) e->kinds[e->n++] = p->event;
    e->last_done = p->done;
    e->last_total = p->total;
    if (p->event == INGOT_HUB_EV_RETRY) e->retries++;
    if (p->event == INGOT_HUB_EV_WAITING) e->waits++;
    if (p->done > p->total && p->total) fprintf(stderr, "done %llu > total %llu\n", (unsigned long long)p->done,
                                                (unsigned long long)p->total);
    if (e->cancel_at_progress && p->event == INGOT_HUB_EV_PROGRESS && p->done > 0) return false;
    return true;
}

static int index_of(const events *e, int kind) {
    for (int i = 0; i < e->n; i++)
        if (e->kinds[i] == kind) return i;
    return -1;
}

static void test_pull_and_repull(void) {
    ingot_hub_options o = opts();
    events ev = {0};
    o.progress = on_progress;
    o.progress_user = &ev;
    ingot_hub_pull_result r;
    ingot_error e = {0};
    ctl("reset");
    CHECK_INT_EQ(ingot_hub_pull("test-org/tiny-GGUF", &o, &r, &e), INGOT_OK);
    if (e.status) fprintf(stderr, "%s\n", e.message);
    CHECK(strstr(r.path, "/models--test-org--tiny-GGUF/snapshots/") != NULL, "path %s", r.path);
    CHECK(strstr(r.path, "/tiny-Q4_K_M.gguf") != NULL, "Q4_K_M chosen: %s", r.path);
    CHECK(strstr(r.note, "Q4_K_M") != NULL, "note says why: %s", r.note);
    CHECK_STR_EQ(r.quant, "Q4_K_M");
    CHECK_STR_EQ(r.format, "gguf");
    CHECK_INT_EQ(strlen(r.commit), 40);
    CHECK_INT_EQ(r.n_downloaded, 1);
    CHECK(same_as_fixture(r.path, "models/synthetic/llama-Q4_K_M.gguf"), "bytes of %s", r.path);
    /* huggingface_hub's layout: a relative symlink to blobs/<sha256>, refs/main. */
    char target[4096], sha[65], want[200];
    ssize_t n = readlink(r.path, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    sha256_of_fixture("models/synthetic/llama-Q4_K_M.gguf", sha);
    snprintf(want, sizeof want, "../../blobs/%s", sha);
    CHECK_STR_EQ(target, want);
    char refp[4200];
    snprintf(refp, sizeof refp, "%s/models--test-org--tiny-GGUF/refs/main", cache);
    char *ref = test_read_file(refp, NULL);
    CHECK(ref && !strcmp(ref, r.commit), "refs/main holds the commit without newline");
    free(ref);
    char lock[4400];
    snprintf(lock, sizeof lock, "%s/.locks/models--test-org--tiny-GGUF/%s.lock", cache, sha);
    CHECK(exists(lock), "lock file %s", lock);
    CHECK_INT_EQ(stat_of("api"), 1);
    CHECK_INT_EQ(stat_of("head"), 1);
    CHECK_INT_EQ(stat_of("cdn"), 1);
    CHECK_INT_EQ(stat_of("bytes"), file_size(test_fixture("models/synthetic/llama-Q4_K_M.gguf")));
    int s = index_of(&ev, INGOT_HUB_EV_START), fs = index_of(&ev, INGOT_HUB_EV_FILE_START),
        fd = index_of(&ev, INGOT_HUB_EV_FILE_DONE), d = index_of(&ev, INGOT_HUB_EV_DONE);
    CHECK(s == 0 && fs > s && fd > fs && d > fd, "event order %d %d %d %d", s, fs, fd, d);
    CHECK(ev.last_done == ev.last_total && ev.last_total == r.bytes_total, "final progress %llu/%llu",
          (unsigned long long)ev.last_done, (unsigned long long)ev.last_total);

    /* Re-pull: one API call, nothing downloaded. */
    ctl("reset");
    ingot_hub_pull_result r2;
    CHECK_INT_EQ(ingot_hub_pull("test-org/tiny-GGUF", &o, &r2, &e), INGOT_OK);
    CHECK_STR_EQ(r2.path, r.path);
    CHECK_INT_EQ(r2.n_downloaded, 0);
    CHECK_INT_EQ(stat_of("api"), 1);
    CHECK_INT_EQ(stat_of("head"), 0);
    CHECK_INT_EQ(stat_of("cdn"), 0);
    CHECK_INT_EQ(stat_of("bytes"), 0);

    /* Resolve uses the cache without a single request. */
    ctl("reset");
    char *path = NULL;
    CHECK_INT_EQ(ingot_hub_resolve("test-org/tiny-GGUF", &o, &path, &e), INGOT_OK);
    CHECK_STR_EQ(path, r.path);
    free(path);
    CHECK_INT_EQ(stat_of("api"), 0);

    /* A regular (non-LFS) file: served by the resolve URL itself, blob named
     * by its git ETag, checked by size. */
    ctl("reset");
    CHECK_INT_EQ(ingot_hub_pull("test-org/tiny-GGUF/README.md", &o, &r2, &e), INGOT_OK);
    char *text = test_read_file(r2.path, NULL);
    CHECK(text && !strcmp(text, "# tiny test models\n"), "README content");
    free(text);
    CHECK_INT_EQ(stat_of("get"), 1);
    CHECK_INT_EQ(stat_of("cdn"), 0);
    n = readlink(r2.path, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    CHECK(strlen(target) == strlen("../../blobs/") + 40, "git blob id etag: %s", target);
    CHECK_INT_EQ(ingot_hub_pull("test-org/tiny-GGUF:q8_0", &o, &r2, &e), INGOT_OK);
    CHECK(same_as_fixture(r2.path, "models/synthetic/llama-Q8_0-pure.gguf"), "Q8_0 bytes");
}

static void blob_paths(const char *repo_folder, const char *fixture, char *blob, char *part, size_t n) {
    char sha[65];
    sha256_of_fixture(fixture, sha);
    snprintf(blob, n, "%s/%s/blobs/%s", cache, repo_folder, sha);
    snprintf(part, n, "%s/%s/blobs/%s.incomplete", cache, repo_folder, sha);
}

static void test_resume(void) {
    ingot_hub_options o = opts();
    ingot_error e = {0};
    ingot_hub_pull_result r;
    const char *fx = "models/real/stories260K.gguf";
    long long size = file_size(test_fixture(fx));
    char blob[4200], part[4200];
    blob_paths("models--test-org--stories260K-GGUF", fx, blob, part, sizeof blob);

    /* The connection drops after 300000 bytes; no retries allowed. */
    ctl("reset");
    ctl("set?drop_after=300000&drop_count=1");
    CHECK_INT_EQ(ingot_hub_pull("test-org/stories260K-GGUF/stories260K.gguf", &o, &r, &e), INGOT_E_NETWORK);
    CHECK(strstr(e.message, "resume") != NULL, "says it will resume: %s", e.message);
    CHECK_INT_EQ(file_size(part), 300000);
    CHECK(!exists(blob), "no blob yet");
    char snapdir[4200];
    snprintf(snapdir, sizeof snapdir, "%s/models--test-org--stories260K-GGUF/refs/main", cache);
    CHECK(!exists(snapdir), "no ref before the snapshot is whole");

    /* A new process (a new pull) resumes from byte 300000. */
    ctl("reset");
    CHECK_INT_EQ(ingot_hub_pull("test-org/stories260K-GGUF/stories260K.gguf", &o, &r, &e), INGOT_OK);
    CHECK_INT_EQ(stat_of("ranges"), 1);
    CHECK_INT_EQ(stat_of("last_range_start"), 300000);
    CHECK_INT_EQ(stat_of("bytes"), size - 300000);
    CHECK_INT_EQ(r.bytes_downloaded, size - 300000);
    CHECK(same_as_fixture(r.path, fx), "resumed file is whole");
    CHECK(!exists(part), "no .incomplete left");

    /* With retries, one pull survives a dropped connection by itself. */
    events ev = {0};
    o.retries = 2;
    o.progress = on_progress;
    o.progress_user = &ev;
    ctl("reset");
    ctl("set?drop_after=100000&drop_count=1");
    CHECK_INT_EQ(ingot_hub_pull("test-org/noq4-GGUF/noq4-Q4_0.gguf", &o, &r, &e), INGOT_OK);
    CHECK_INT_EQ(ev.retries, 1);
    CHECK_INT_EQ(stat_of("ranges"), 1);
    CHECK_INT_EQ(stat_of("last_range_start"), 100000);
    CHECK(same_as_fixture(r.path, "models/synthetic/llama-Q4_0-pure.gguf"), "retried file is whole");
}

static void test_corruption(void) {
    ingot_hub_options o = opts();
    ingot_error e = {0};
    ingot_hub_pull_result r;
    const char *fx = "models/synthetic/llama-F16-pure.gguf";
    char blob[4200], part[4200], link[4400];
    blob_paths("models--test-org--tiny-GGUF", fx, blob, part, sizeof blob);
    ctl("reset");
    ctl("set?corrupt=1");
    CHECK_INT_EQ(ingot_hub_pull("test-org/tiny-GGUF:F16", &o, &r, &e), INGOT_E_FORMAT);
    CHECK(strstr(e.message, "checksum mismatch") && strstr(e.message, "tiny-F16.gguf"), "message: %s", e.message);
    CHECK(!exists(blob) && !exists(part), "nothing kept of a corrupt download");
    char commit[64];
    char repo_dir[4200];
    snprintf(repo_dir, sizeof repo_dir, "%s/models--test-org--tiny-GGUF", cache);
    CHECK(hub_ref_read(repo_dir, "main", commit), "main ref from earlier pulls");
    snprintf(link, sizeof link, "%s/snapshots/%s/tiny-F16.gguf", repo_dir, commit);
    CHECK(!exists(link), "nothing in the snapshot");
    ctl("reset");
    CHECK_INT_EQ(ingot_hub_pull("test-org/tiny-GGUF:F16", &o, &r, &e), INGOT_OK);
    CHECK(same_as_fixture(r.path, fx), "clean download after the corrupt one");

    /* A partial file with wrong bytes: the resume fails verification, so the
     * file is fetched again from zero. */
    const char *fx8 = "models/synthetic/llama-Q8_0-pure.gguf";
    blob_paths("models--test-org--noq4-GGUF", fx8, blob, part, sizeof blob);
    CHECK_INT_EQ(hub_mkdirs_for(part, NULL), INGOT_OK);
    FILE *f = fopen(part, "wb");
    for (int i = 0; i < 5000; i++) fputc('x', f);
    fclose(f);
    ctl("reset");
    CHECK_INT_EQ(ingot_hub_pull("test-org/noq4-GGUF:Q8_0", &o, &r, &e), INGOT_OK);
    CHECK_INT_EQ(stat_of("cdn"), 2);
    CHECK_INT_EQ(stat_of("last_range_start"), 5000);
    CHECK(same_as_fixture(r.path, fx8), "bad partial replaced");
}

static void test_stall_cancel_disk(void) {
    ingot_hub_options o = opts();
    ingot_error e = {0};
    ingot_hub_pull_result r;
    const char *fx = "models/synthetic/llama-f32.gguf";
    char blob[4200], part[4200];
    blob_paths("models--test-org--noq4-GGUF", fx, blob, part, sizeof blob);

    /* The server stops sending: the stall timeout ends the transfer. */
    o.stall_timeout_s = 1;
    ctl("reset");
    ctl("set?stall_after=200000&stall_count=1");
    CHECK_INT_EQ(ingot_hub_pull("test-org/noq4-GGUF/noq4-F32.gguf", &o, &r, &e), INGOT_E_NETWORK);
    CHECK(strstr(e.message, "stalled") && strstr(e.message, "resume"), "message: %s", e.message);
    CHECK_INT_EQ(file_size(part), 200000);

    /* The progress callback cancels; the partial file stays. */
    events ev = {0};
    ev.cancel_at_progress = 1;
    o.stall_timeout_s = 30;
    o.progress = on_progress;
    o.progress_user = &ev;
    ctl("reset");
    ctl("set?stall_after=400000&stall_count=1");
    CHECK_INT_EQ(ingot_hub_pull("test-org/noq4-GGUF/noq4-F32.gguf", &o, &r, &e), INGOT_E_CANCELLED);
    long long got = file_size(part);
    CHECK(got >= 200000 && got <= 400000, "partial kept: %lld", got);
    CHECK_INT_EQ(stat_of("last_range_start"), 200000);
    CHECK(!exists(blob), "no blob after cancel");

    /* A full disk: the partial file is /dev/full, where writes fail. */
    unlink(part);
    CHECK_INT_EQ(symlink("/dev/full", part), 0);
    o = opts();
    ctl("reset");
    CHECK_INT_EQ(ingot_hub_pull("test-org/noq4-GGUF/noq4-F32.gguf", &o, &r, &e), INGOT_E_IO);
    CHECK(strstr(e.message, "disk") != NULL, "says the disk is full: %s", e.message);
    CHECK(!exists(blob), "no blob on a full disk");
    unlink(part);
}

static void test_errors(void) {
    ingot_hub_options o = opts();
    ingot_error e = {0};
    ingot_hub_pull_result r;
    ctl("reset");
    CHECK_INT_EQ(ingot_hub_pull("gated-org/gated-GGUF", &o, &r, &e), INGOT_E_AUTH);
    CHECK(strstr(e.message, "HF_TOKEN") && strstr(e.message, "gated"), "401 message: %s", e.message);
    o.token = "hf_wrong";
    CHECK_INT_EQ(ingot_hub_pull("gated-org/gated-GGUF", &o, &r, &e), INGOT_E_AUTH);
    CHECK(strstr(e.message, "403") && strstr(e.message, "access"), "403 message: %s", e.message);
    /* The token from the environment opens it (and goes to the hub only). */
    o.token = NULL;
    setenv("HF_TOKEN", "hf_test_token", 1);
    CHECK_INT_EQ(ingot_hub_pull("gated-org/gated-GGUF", &o, &r, &e), INGOT_OK);
    unsetenv("HF_TOKEN");
    CHECK(same_as_fixture(r.path, "models/synthetic/llama-Q4_K_M.gguf"), "gated bytes");
    o.token = "";

    CHECK_INT_EQ(ingot_hub_pull("test-org/no-such-repo", &o, &r, &e), INGOT_E_NOT_FOUND);
    CHECK(strstr(e.message, "test-org/no-such-repo") && strstr(e.message, "not found"), "repo 404: %s", e.message);
    CHECK_INT_EQ(ingot_hub_pull("test-org/tiny-GGUF@nobranch", &o, &r, &e), INGOT_E_NOT_FOUND);
    CHECK(strstr(e.message, "nobranch") && strstr(e.message, "revision"), "revision 404: %s", e.message);
    CHECK_INT_EQ(ingot_hub_pull("test-org/tiny-GGUF/missing.gguf", &o, &r, &e), INGOT_E_NOT_FOUND);
    CHECK(strstr(e.message, "missing.gguf") && strstr(e.message, "tiny-Q8_0.gguf"), "file 404: %s", e.message);
    CHECK_INT_EQ(ingot_hub_pull("test-org/tiny-GGUF:Q2_K", &o, &r, &e), INGOT_E_NOT_FOUND);
    CHECK(strstr(e.message, "Q2_K") != NULL, "quant 404: %s", e.message);

    /* Nothing listens here: a network error that says what to do. */
    o.endpoint = "http://127.0.0.1:1";
    CHECK_INT_EQ(ingot_hub_pull("test-org/tiny-GGUF", &o, &r, &e), INGOT_E_NETWORK);
    CHECK(strstr(e.message, "HF_HUB_OFFLINE") != NULL, "network message: %s", e.message);

    /* HF_ENDPOINT picks the server; a renamed repo redirects relatively. */
    o.endpoint = NULL;
    setenv("HF_ENDPOINT", endpoint, 1);
    CHECK_INT_EQ(ingot_hub_pull("test-org/old-name/README.md", &o, &r, &e), INGOT_OK);
    unsetenv("HF_ENDPOINT");
    char *text = test_read_file(r.path, NULL);
    CHECK(text && !strcmp(text, "# tiny test models\n"), "renamed repo content");
    free(text);
}

static void test_offline_and_snapshots(void) {
    ingot_hub_options o = opts();
    ingot_error e = {0};
    ingot_hub_pull_result r;
    char *path = NULL;
    o.offline = 1;
    ctl("reset");
    CHECK_INT_EQ(ingot_hub_resolve("test-org/tiny-GGUF", &o, &path, &e), INGOT_OK);
    CHECK(path && strstr(path, "tiny-Q4_K_M.gguf"), "offline resolve: %s", path ? path : "");
    free(path);
    path = NULL;
    CHECK_INT_EQ(ingot_hub_resolve("test-org/qwen3-mlx", &o, &path, &e), INGOT_E_NOT_FOUND);
    CHECK(strstr(e.message, "offline") && strstr(e.message, "test-org/qwen3-mlx") && strstr(e.message, "ingot pull"),
          "offline message: %s", e.message);
    CHECK(path == NULL, "no path");
    o.offline = -1;
    setenv("HF_HUB_OFFLINE", "1", 1);
    CHECK_INT_EQ(ingot_hub_pull("test-org/qwen3-mlx", &o, &r, &e), INGOT_E_NOT_FOUND);
    unsetenv("HF_HUB_OFFLINE");
    CHECK_INT_EQ(stat_of("api") + stat_of("head") + stat_of("get") + stat_of("cdn"), 0);

    /* An MLX repo comes as a whole snapshot: config, tokenizer, weights. */
    o.offline = 0;
    CHECK_INT_EQ(ingot_hub_resolve("test-org/qwen3-mlx", &o, &path, &e), INGOT_OK);
    CHECK(path && strstr(path, "/snapshots/"), "snapshot dir: %s", path ? path : "");
    char f[4400];
    static const char *files[] = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(f, sizeof f, "%s/%s", path, files[i]);
        CHECK(exists(f), "%s in the snapshot", files[i]);
    }
    snprintf(f, sizeof f, "%s/README.md", path);
    CHECK(!exists(f), "README is not part of the model");
    snprintf(f, sizeof f, "%s/tokenizer.json", path);
    CHECK(same_as_fixture(f, "tokenizers/hf/qwen3/tokenizer.json"), "tokenizer bytes");
    free(path);
    o.offline = 1;
    CHECK_INT_EQ(ingot_hub_pull("test-org/qwen3-mlx", &o, &r, &e), INGOT_OK);
    CHECK_STR_EQ(r.format, "mlx");
    CHECK_STR_EQ(r.quant, "4bit");

    /* Split GGUF: all parts; the path names part 1. */
    o.offline = 0;
    CHECK_INT_EQ(ingot_hub_pull("test-org/split-GGUF", &o, &r, &e), INGOT_OK);
    CHECK(strstr(r.path, "big-Q4_K_M-00001-of-00002.gguf") != NULL, "part 1: %s", r.path);
    CHECK_INT_EQ(r.n_files, 2);
    char *slash = strrchr(r.path, '/');
    snprintf(f, sizeof f, "%.*s/big-Q4_K_M-00002-of-00002.gguf", (int)(slash - r.path), r.path);
    CHECK(same_as_fixture(f, "models/synthetic/qwen3-Q4_K_M.gguf"), "part 2 bytes");

    /* No Q4_K_M: the best fit for a (pretend) small machine, with the reason. */
    o.ram_bytes = 3000000;
    CHECK_INT_EQ(ingot_hub_pull("test-org/noq4-GGUF", &o, &r, &e), INGOT_OK);
    CHECK(strstr(r.path, "noq4-Q8_0.gguf") != NULL, "best fit: %s", r.path);
    CHECK(strstr(r.note, "fits") != NULL, "note: %s", r.note);

    /* A nested path in a repo, through a catalog alias. */
    CHECK_INT_EQ(ingot_hub_pull("stories:260k", &o, &r, &e), INGOT_OK);
    CHECK(strstr(r.path, "/models--ggml-org--models/snapshots/") && strstr(r.path, "/tinyllamas/stories260K.gguf"),
          "alias path: %s", r.path);
    char target[4096];
    ssize_t n = readlink(r.path, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    CHECK(!strncmp(target, "../../../blobs/", 15), "nested link is relative: %s", target);
    CHECK(same_as_fixture(r.path, "models/real/stories260K.gguf"), "alias bytes");
}

/* Two processes pull one file at once: one downloads, the other waits for
 * the blob's lock and finds it done. Whatever the timing, the file is whole
 * and crossed the network once. */
static void test_two_processes(void) {
    ingot_hub_options o = opts();
    const char *fx = "models/synthetic/llama-f32.gguf";
    ctl("reset");
    ctl("set?chunk_delay_ms=3");
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            ingot_hub_pull_result r;
            ingot_error e = {0};
            ingot_status st = ingot_hub_pull("test-org/noq4-GGUF/noq4-F32.gguf", &o, &r, &e);
            if (st) fprintf(stderr, "child: %s\n", e.message);
            _exit(st == INGOT_OK && same_as_fixture(r.path, fx) ? 0 : 1);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status = -1;
        waitpid(kids[k], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d failed", k);
    }
    CHECK_INT_EQ(stat_of("bytes"), file_size(test_fixture(fx)));
    ctl("reset");
    char blob[4200], part[4200];
    blob_paths("models--test-org--noq4-GGUF", fx, blob, part, sizeof blob);
    CHECK(exists(blob) && !exists(part), "one blob, no partial");
}

typedef struct seen {
    int n, gguf_q4, mlx, stories_v1;
} seen;

static bool on_model(const ingot_hub_model *m, void *user) {
    seen *s = user;
    s->n++;
    if (!strcmp(m->ref, "test-org/tiny-GGUF/tiny-Q4_K_M.gguf") && !strcmp(m->quant, "Q4_K_M") &&
        !strcmp(m->format, "gguf") && !strcmp(m->revisions, "main") && m->size > 0)
        s->gguf_q4++;
    if (!strcmp(m->ref, "test-org/qwen3-mlx") && !strcmp(m->format, "mlx") && !strcmp(m->quant, "4bit")) s->mlx++;
    if (!strcmp(m->ref, "test-org/stories260K-GGUF@v1/stories260K.gguf")) s->stories_v1++;
    return true;
}

static void test_list_and_rm(void) {
    ingot_hub_options o = opts();
    ingot_error e = {0};
    ingot_hub_pull_result r;
    /* Two snapshots (main and v1) share the stories260K blob. */
    CHECK_INT_EQ(ingot_hub_pull("test-org/stories260K-GGUF/README.md", &o, &r, &e), INGOT_OK);
    CHECK_INT_EQ(ingot_hub_pull("test-org/stories260K-GGUF@v1/README.md", &o, &r, &e), INGOT_OK);
    CHECK_INT_EQ(ingot_hub_pull("test-org/stories260K-GGUF@v1/stories260K.gguf", &o, &r, &e), INGOT_OK);
    char *v1_readme = NULL;
    CHECK_INT_EQ(ingot_hub_resolve("test-org/stories260K-GGUF@v1/README.md", &o, &v1_readme, &e), INGOT_OK);
    seen s = {0};
    uint64_t total = 0;
    CHECK_INT_EQ(ingot_hub_list(&o, on_model, &s, &total, &e), INGOT_OK);
    CHECK_INT_EQ(s.gguf_q4, 1);
    CHECK_INT_EQ(s.mlx, 1);
    CHECK_INT_EQ(s.stories_v1, 1);
    CHECK(total > 10000000, "total %llu", (unsigned long long)total);

    char repo_dir[4200], blob[4200], part[4200], refv1[4300], refmain[4300];
    snprintf(repo_dir, sizeof repo_dir, "%s/models--test-org--stories260K-GGUF", cache);
    blob_paths("models--test-org--stories260K-GGUF", "models/real/stories260K.gguf", blob, part, sizeof blob);
    snprintf(refv1, sizeof refv1, "%s/refs/v1", repo_dir);
    snprintf(refmain, sizeof refmain, "%s/refs/main", repo_dir);
    ingot_hub_removal rm;
    CHECK_INT_EQ(ingot_hub_remove("test-org/stories260K-GGUF@v1", &o, true, &rm, &e), INGOT_OK);
    CHECK_INT_EQ(rm.n_links, 2);
    CHECK_INT_EQ(rm.n_blobs, 1);
    CHECK_INT_EQ(rm.n_blobs_kept, 1);
    CHECK(exists(v1_readme) && exists(refv1), "dry run deletes nothing");
    CHECK_INT_EQ(ingot_hub_remove("test-org/stories260K-GGUF@v1", &o, false, &rm, &e), INGOT_OK);
    CHECK_INT_EQ(rm.bytes_freed, strlen("# stories260K\nversion 1\n"));
    CHECK(!exists(v1_readme) && !exists(refv1), "v1 snapshot and ref gone");
    CHECK(exists(blob) && exists(refmain), "the shared blob and main stay");
    free(v1_readme);
    char *path = NULL;
    o.offline = 1;
    CHECK_INT_EQ(ingot_hub_resolve("test-org/stories260K-GGUF", &o, &path, &e), INGOT_OK);
    CHECK(path && same_as_fixture(path, "models/real/stories260K.gguf"), "main still resolves");
    free(path);

    /* One file of a snapshot: its link and its now unused blob. */
    char q8blob[4200];
    blob_paths("models--test-org--tiny-GGUF", "models/synthetic/llama-Q8_0-pure.gguf", q8blob, part, sizeof q8blob);
    CHECK(exists(q8blob), "Q8_0 blob before rm");
    CHECK_INT_EQ(ingot_hub_remove("test-org/tiny-GGUF:Q8_0", &o, false, &rm, &e), INGOT_OK);
    CHECK_INT_EQ(rm.n_links, 1);
    CHECK(!exists(q8blob), "Q8_0 blob removed");
    path = NULL;
    CHECK_INT_EQ(ingot_hub_resolve("test-org/tiny-GGUF:Q4_K_M", &o, &path, &e), INGOT_OK);
    free(path);

    /* The last snapshot of a repo takes the repo folder with it. */
    CHECK_INT_EQ(ingot_hub_remove("test-org/stories260K-GGUF", &o, false, &rm, &e), INGOT_OK);
    CHECK(!exists(repo_dir), "repo folder removed");
    CHECK_INT_EQ(ingot_hub_remove("test-org/stories260K-GGUF", &o, false, &rm, &e), INGOT_E_NOT_FOUND);
    CHECK(strstr(e.message, "not in the cache") != NULL, "message: %s", e.message);
}

int main(void) {
    const char *tmp = test_tmpdir();
    if (!tmp) return 1;
    char tmpdir[256];
    snprintf(tmpdir, sizeof tmpdir, "%s", tmp);
    snprintf(cache, sizeof cache, "%s/hub", tmpdir);
    unsetenv("HF_TOKEN");
    unsetenv("HF_HUB_OFFLINE");
    unsetenv("HF_ENDPOINT");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    start_server();
    test_pull_and_repull();
    test_resume();
    test_corruption();
    test_stall_cancel_disk();
    test_errors();
    test_offline_and_snapshots();
    test_two_processes();
    test_list_and_rm();
    stop_server();
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    TEST_END();
}
