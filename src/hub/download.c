/* Owns getting files' bytes into the cache safely: for each file, the HEAD
 * that names its blob, a lock per blob (flock on .locks/<repo>/<etag>.lock,
 * so two processes never write one blob), resuming blobs/<etag>.incomplete
 * with an HTTP Range, retrying dropped connections, checking free space,
 * verifying sha256 (LFS) or size before an atomic rename to blobs/<etag>,
 * and only then the snapshot symlink. Several files run in parallel on
 * worker threads; the calling thread gathers their progress and is the only
 * one that calls the user's callback. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "base/platform.h"
#include "hub/hub.h"

enum { JOB_CACHED, JOB_PENDING, JOB_WAITING, JOB_ACTIVE, JOB_DONE, JOB_FAILED };

typedef struct job {
    const hub_file *file;
    /* written by the worker under batch.mu */
    int state;
    int retries;
    uint64_t done, total, resumed_from;
    bool downloaded;
    ingot_error err;
    /* what the calling thread already reported */
    int seen_state, seen_retries;
} job;

typedef struct batch {
    const hub_env *env;
    const char *repo, *commit;
    char repo_dir[HUB_PATH_MAX];
    job *jobs;
    int n, next;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running;
    uint64_t received; /* bytes over the network, this pull */
    _Atomic int cancel;
} batch;

/* The state of one blob being written. */
typedef struct writer {
    batch *b;
    job *j;
    int fd;
    uint64_t pos;
    EVP_MD_CTX *md;
    int write_errno;
} writer;

static void nap_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static void set_state(batch *b, job *j, int state) {
    pthread_mutex_lock(&b->mu);
    j->state = state;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static bool write_all(int fd, const void *data, size_t n, int *err) {
    const char *p = data;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            *err = errno;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static bool sink(const void *data, size_t n, uint64_t offset, void *user) {
    writer *w = user;
    if (atomic_load(&w->b->cancel)) return false;
    if (offset != w->pos) {
        /* The server ignored our Range and starts over: so do we. */
        if (offset != 0 || ftruncate(w->fd, 0) != 0 || lseek(w->fd, 0, SEEK_SET) != 0) return false;
        EVP_DigestInit_ex(w->md, EVP_sha256(), NULL);
        w->pos = 0;
    }
    if (!write_all(w->fd, data, n, &w->write_errno)) return false;
    EVP_DigestUpdate(w->md, data, n);
    w->pos += n;
    pthread_mutex_lock(&w->b->mu);
    w->j->done = w->pos;
    w->b->received += n;
    pthread_mutex_unlock(&w->b->mu);
    return true;
}

/* Feeds the first n bytes already on disk to the hash. */
static bool hash_existing(int fd, uint64_t n, EVP_MD_CTX *md) {
    char *buf = malloc(1 << 20);
    if (!buf) return false;
    uint64_t off = 0;
    bool ok = true;
    while (off < n) {
        size_t want = n - off < (1u << 20) ? (size_t)(n - off) : (1u << 20);
        ssize_t r = pread(fd, buf, want, (off_t)off);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) continue;
            ok = false;
            break;
        }
        EVP_DigestUpdate(md, buf, (size_t)r);
        off += (uint64_t)r;
    }
    free(buf);
    return ok;
}

static void to_hex(const unsigned char *d, unsigned n, char *out) {
    static const char hx[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 15];
    }
    out[2 * n] = 0;
}

static bool is_sha256_hex(const char *s) {
    if (strlen(s) != 64) return false;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

/* Takes the blob's lock, waiting (cancellably) while another process holds
 * it. Returns the lock's fd, or -1 with err set. */
static int lock_blob(batch *b, job *j, const char *etag, ingot_error *err) {
    char path[HUB_PATH_MAX];
    const char *folder = strrchr(b->repo_dir, '/');
    snprintf(path, sizeof path, "%s/.locks%s/%s.lock", b->env->cache, folder ? folder : "/", etag);
    if (hub_mkdirs_for(path, err)) return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        ingot_error_set(err, INGOT_E_IO, "cannot open lock file %s: %s", path, strerror(errno));
        return -1;
    }
    bool waiting = false;
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            ingot_error_set(err, INGOT_E_IO, "cannot lock %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (atomic_load(&b->cancel)) {
            ingot_error_set(err, INGOT_E_CANCELLED, "cancelled");
            close(fd);
            return -1;
        }
        if (!waiting) {
            set_state(b, j, JOB_WAITING);
            waiting = true;
        }
        nap_ms(100);
    }
    return fd;
}

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Downloads into blob_path via its .incomplete file; verifies; renames. */
static ingot_status fetch_blob(batch *b, job *j, hub_http *http, const hub_meta *meta,
                               const char *blob_path, uint64_t expect, bool expect_known,
                               const char *sha, ingot_error *err) {
    char part[HUB_PATH_MAX + 16];
    snprintf(part, sizeof part, "%s.incomplete", blob_path);
    const char *name = j->file->path;
    bool restarted = false; /* a corrupt resume is retried once from zero */
    int attempt = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    ingot_status st = INGOT_OK;
    for (;;) {
        int fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            st = ingot_error_set(err, INGOT_E_IO, "cannot write %s: %s", part, strerror(errno));
            break;
        }
        struct stat fst;
        uint64_t have = fstat(fd, &fst) == 0 && S_ISREG(fst.st_mode) ? (uint64_t)fst.st_size : 0;
        if (expect_known && have > expect) {
            if (ftruncate(fd, 0) != 0) {}
            have = 0;
        }
        EVP_DigestInit_ex(md, EVP_sha256(), NULL);
        if (have && !hash_existing(fd, have, md)) {
            if (ftruncate(fd, 0) != 0) {}
            have = 0;
            EVP_DigestInit_ex(md, EVP_sha256(), NULL);
        }
        lseek(fd, (off_t)have, SEEK_SET);
        pthread_mutex_lock(&b->mu);
        if (attempt == 0 && !restarted) j->resumed_from = have;
        j->done = have;
        j->state = JOB_ACTIVE;
        pthread_cond_signal(&b->cv);
        pthread_mutex_unlock(&b->mu);
        if (expect_known && expect > have) {
            struct statvfs vfs;
            if (fstatvfs(fd, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < expect - have) {
                char need[32], free_[32];
                hub_format_size(expect - have, need, sizeof need);
                hub_format_size((uint64_t)vfs.f_bavail * vfs.f_frsize, free_, sizeof free_);
                close(fd);
                st = ingot_error_set(err, INGOT_E_IO,
                                     "not enough disk space for %s: it needs %s more and only %s is "
                                     "free in %s; free some space (or set HF_HUB_CACHE to another "
                                     "disk) and pull again",
                                     name, need, free_, b->env->cache);
                break;
            }
        }
        writer w = {b, j, fd, have, md, 0};
        hub_fetch res = {0};
        ingot_error ferr = {0};
        ingot_status fs = INGOT_OK;
        if (!(expect_known && have == expect)) fs = hub_http_fetch(http, meta->url, have, sink, &w, &res, &ferr);
        if (fs == INGOT_OK && res.http_status == 416 && have > 0) {
            /* The partial file does not fit the server's copy: start over. */
            if (ftruncate(fd, 0) != 0) {}
            close(fd);
            if (restarted) {
                st = ingot_error_set(err, INGOT_E_NETWORK, "%s: the server refused every byte range", name);
                break;
            }
            restarted = true;
            continue;
        }
        if (fs != INGOT_OK) {
            close(fd);
            if (w.write_errno) {
                char got[32];
                hub_format_size(w.pos, got, sizeof got);
                st = ingot_error_set(err, INGOT_E_IO,
                                     "%s writing %s: %s (%s kept; free some space and pull again to "
                                     "resume)",
                                     w.write_errno == ENOSPC ? "disk full" : "write error", part,
                                     strerror(w.write_errno), got);
                break;
            }
            if (fs == INGOT_E_CANCELLED || atomic_load(&b->cancel)) {
                st = ingot_error_set(err, INGOT_E_CANCELLED,
                                     "cancelled; the partial download of %s is kept and will resume", name);
                break;
            }
            if (fs == INGOT_E_NETWORK && attempt < b->env->retries) {
                attempt++;
                pthread_mutex_lock(&b->mu);
                j->retries++;
                pthread_cond_signal(&b->cv);
                pthread_mutex_unlock(&b->mu);
                ingot_log(INGOT_LOG_WARN, "%s: %s; resuming (attempt %d of %d)", name, ferr.message,
                          attempt + 1, b->env->retries + 1);
                nap_ms(250L * attempt);
                continue;
            }
            if (fs == INGOT_E_NETWORK) {
                char got[32], tot[32];
                hub_format_size(w.pos, got, sizeof got);
                hub_format_size(expect, tot, sizeof tot);
                st = ingot_error_set(err, INGOT_E_NETWORK,
                                     "%s: %s; %s of %s%s%s is kept in the cache and the next pull "
                                     "will resume from there",
                                     name, ferr.message, got, expect_known ? tot : "?",
                                     attempt ? " after retries" : "", "");
            } else {
                *err = ferr;
                ingot_error_prefix(err, "%s", name);
                st = ferr.status;
            }
            break;
        }
        if (expect_known && w.pos < expect) {
            close(fd);
            if (attempt < b->env->retries) {
                attempt++;
                continue;
            }
            st = ingot_error_set(err, INGOT_E_NETWORK,
                                 "%s: the server sent only %llu of %llu bytes; what arrived is kept "
                                 "and the next pull will resume",
                                 name, (unsigned long long)w.pos, (unsigned long long)expect);
            break;
        }
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned dl = 0;
        char got[2 * EVP_MAX_MD_SIZE + 1];
        EVP_DigestFinal_ex(md, d, &dl);
        to_hex(d, dl, got);
        bool bad_size = expect_known && w.pos != expect;
        bool bad_hash = sha && strcmp(got, sha) != 0;
        if (bad_size || bad_hash) {
            close(fd);
            unlink(part);
            if (have > 0 && !restarted) {
                /* The bytes kept from an earlier attempt may be what is bad. */
                restarted = true;
                ingot_log(INGOT_LOG_WARN, "%s: resumed download failed verification; downloading again", name);
                continue;
            }
            if (bad_hash)
                st = ingot_error_set(err, INGOT_E_FORMAT,
                                     "%s: checksum mismatch, expected sha256 %s but the download has %s; "
                                     "it was deleted and nothing was added to the snapshot",
                                     name, sha, got);
            else
                st = ingot_error_set(err, INGOT_E_FORMAT,
                                     "%s: size mismatch, expected %llu bytes but got %llu; it was "
                                     "deleted and nothing was added to the snapshot",
                                     name, (unsigned long long)expect, (unsigned long long)w.pos);
            break;
        }
        if (fsync(fd) != 0 && errno != EINVAL) {
            int e = errno;
            close(fd);
            st = ingot_error_set(err, INGOT_E_IO, "cannot flush %s: %s", part, strerror(e));
            break;
        }
        close(fd);
        if (rename(part, blob_path) != 0) {
            st = ingot_error_set(err, INGOT_E_IO, "cannot rename %s: %s", part, strerror(errno));
            break;
        }
        pthread_mutex_lock(&b->mu);
        j->downloaded = w.pos > have || have == 0;
        pthread_mutex_unlock(&b->mu);
        break;
    }
    EVP_MD_CTX_free(md);
    return st;
}

static ingot_status run_job(batch *b, job *j, hub_http *http, ingot_error *err) {
    const hub_file *f = j->file;
    hub_meta meta;
    ingot_status st = hub_http_meta(http, b->repo, b->commit, f->path, &meta, err);
    if (st) return st;
    uint64_t expect = meta.size_known ? meta.size : f->size;
    bool expect_known = meta.size_known || f->size_known;
    /* LFS files are named by their sha256; the revision info says so too. */
    const char *sha = f->sha256[0] ? f->sha256 : NULL;
    if (!sha && is_sha256_hex(meta.etag) && (f->lfs || !strstr(meta.url, "/resolve/"))) sha = meta.etag;
    pthread_mutex_lock(&b->mu);
    j->total = expect;
    pthread_mutex_unlock(&b->mu);
    char blob[HUB_PATH_MAX];
    if (snprintf(blob, sizeof blob, "%s/blobs/%s", b->repo_dir, meta.etag) >= (int)sizeof blob)
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "cache path too long");
    if (!file_exists(blob)) {
        if ((st = hub_mkdirs_for(blob, err))) return st;
        int lock = lock_blob(b, j, meta.etag, err);
        if (lock < 0) return err ? err->status : INGOT_E_IO;
        /* Another process may have finished it while we waited. */
        if (!file_exists(blob)) st = fetch_blob(b, j, http, &meta, blob, expect, expect_known, sha, err);
        close(lock);
        if (st) return st;
    }
    return hub_snapshot_link(b->repo_dir, b->commit, f->path, meta.etag, err);
}

static void *worker(void *arg) {
    batch *b = arg;
    hub_http *http = NULL;
    ingot_error herr = {0};
    ingot_status hst = hub_http_new(b->env, &http, &herr);
    if (http) hub_http_set_cancel(http, &b->cancel);
    for (;;) {
        pthread_mutex_lock(&b->mu);
        while (b->next < b->n && b->jobs[b->next].state != JOB_PENDING) b->next++;
        job *j = b->next < b->n ? &b->jobs[b->next++] : NULL;
        pthread_mutex_unlock(&b->mu);
        if (!j) break;
        ingot_error err = {0};
        ingot_status st = hst;
        if (hst) err = herr;
        else if (atomic_load(&b->cancel)) st = ingot_error_set(&err, INGOT_E_CANCELLED, "cancelled");
        else st = run_job(b, j, http, &err);
        pthread_mutex_lock(&b->mu);
        j->err = err;
        j->state = st ? JOB_FAILED : JOB_DONE;
        if (!st) j->done = j->total;
        pthread_cond_signal(&b->cv);
        pthread_mutex_unlock(&b->mu);
    }
    hub_http_free(http);
    pthread_mutex_lock(&b->mu);
    b->running--;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

/* Rate over a sliding window of recent samples. */
typedef struct rate_meter {
    double t[32];
    uint64_t v[32];
    int n, head;
} rate_meter;

static double rate_update(rate_meter *m, double now, uint64_t v) {
    int i = (m->head + m->n) % 32;
    if (m->n == 32) m->head = (m->head + 1) % 32;
    else m->n++;
    m->t[i] = now;
    m->v[i] = v;
    /* Oldest sample within the last 5 s. */
    int o = m->head;
    for (int k = 0; k < m->n; k++) {
        int idx = (m->head + k) % 32;
        if (now - m->t[idx] <= 5000.0) {
            o = idx;
            break;
        }
    }
    double dt = (now - m->t[o]) / 1000.0;
    return dt > 0.2 ? (double)(v - m->v[o]) / dt : 0.0;
}

static bool emit(const hub_env *env, ingot_hub_progress *p) {
    return env->progress ? env->progress(p, env->progress_user) : true;
}

ingot_status hub_download_all(const hub_env *env, const char *repo, const char *commit,
                              const hub_file *const *files, int n, int *n_downloaded,
                              uint64_t *bytes_downloaded, ingot_error *err) {
    *n_downloaded = 0;
    *bytes_downloaded = 0;
    batch b;
    memset(&b, 0, sizeof b);
    b.env = env;
    b.repo = repo;
    b.commit = commit;
    if (!hub_repo_dir(env, repo, b.repo_dir, sizeof b.repo_dir))
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "cache path too long");
    b.jobs = calloc((size_t)(n ? n : 1), sizeof *b.jobs);
    if (!b.jobs) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    b.n = n;
    int needed = 0;
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        job *j = &b.jobs[i];
        j->file = files[i];
        char link[HUB_PATH_MAX];
        snprintf(link, sizeof link, "%s/snapshots/%s/%s", b.repo_dir, commit, files[i]->path);
        j->state = file_exists(link) ? JOB_CACHED : JOB_PENDING;
        j->seen_state = j->state;
        if (j->state == JOB_PENDING) {
            needed++;
            j->total = files[i]->size;
            total += files[i]->size;
        }
    }
    ingot_hub_progress p;
    memset(&p, 0, sizeof p);
    p.repo = repo;
    p.event = INGOT_HUB_EV_START;
    p.total = total;
    p.files_total = needed;
    p.eta_sec = -1;
    if (!emit(env, &p)) atomic_store(&b.cancel, 1);
    if (needed == 0) {
        free(b.jobs);
        p.event = INGOT_HUB_EV_DONE;
        emit(env, &p);
        return INGOT_OK;
    }
    pthread_mutex_init(&b.mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b.cv, &ca);
    pthread_condattr_destroy(&ca);
    int nt = needed < env->max_parallel ? needed : env->max_parallel;
    pthread_t *th = calloc((size_t)nt, sizeof *th);
    if (!th) {
        free(b.jobs);
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    int started = 0;
    for (int i = 0; i < nt; i++) {
        pthread_mutex_lock(&b.mu);
        b.running++;
        pthread_mutex_unlock(&b.mu);
        if (pthread_create(&th[started], NULL, worker, &b) != 0) {
            pthread_mutex_lock(&b.mu);
            b.running--;
            pthread_mutex_unlock(&b.mu);
            break;
        }
        started++;
    }
    if (started == 0) {
        free(th);
        free(b.jobs);
        return ingot_error_set(err, INGOT_E_INTERNAL, "cannot start download threads");
    }
    rate_meter rm;
    memset(&rm, 0, sizeof rm);
    double last_progress = 0;
    uint64_t last_done = (uint64_t)-1;
    pthread_mutex_lock(&b.mu);
    for (;;) {
        /* Collect what changed, then report it with the lock released. */
        ingot_hub_progress ev[8];
        char names[8][HUB_FILE_MAX];
        int nev = 0;
        uint64_t done = 0, tot = 0;
        int files_done = 0;
        for (int i = 0; i < n; i++) {
            job *j = &b.jobs[i];
            if (j->state == JOB_CACHED) continue;
            done += j->state == JOB_DONE ? j->total : j->done;
            tot += j->total;
            if (j->state == JOB_DONE) files_done++;
        }
        for (int i = 0; i < n && nev < 8; i++) {
            job *j = &b.jobs[i];
            int e = -1;
            if (j->retries != j->seen_retries) {
                j->seen_retries = j->retries;
                e = INGOT_HUB_EV_RETRY;
            } else if (j->state != j->seen_state) {
                int s = j->state;
                if (s == JOB_ACTIVE) e = INGOT_HUB_EV_FILE_START;
                else if (s == JOB_WAITING) e = INGOT_HUB_EV_WAITING;
                else if (s == JOB_DONE) e = INGOT_HUB_EV_FILE_DONE;
                /* A job can pass through ACTIVE between two looks: still say it started. */
                if (s == JOB_DONE && j->seen_state != JOB_ACTIVE) {
                    j->seen_state = JOB_ACTIVE;
                    e = INGOT_HUB_EV_FILE_START;
                } else {
                    j->seen_state = s;
                }
            }
            if (e < 0) continue;
            memset(&ev[nev], 0, sizeof ev[nev]);
            ev[nev].event = (ingot_hub_event)e;
            snprintf(names[nev], sizeof names[nev], "%s", j->file->path);
            ev[nev].file_done = j->state == JOB_DONE ? j->total : j->done;
            ev[nev].file_total = j->total;
            ev[nev].resumed_from = j->resumed_from;
            nev++;
        }
        bool finished = b.running == 0;
        uint64_t received = b.received;
        pthread_mutex_unlock(&b.mu);
        double now = ingot_time_ms();
        double rate = rate_update(&rm, now, received);
        bool go_on = true;
        for (int k = 0; k < nev; k++) {
            ev[k].repo = repo;
            ev[k].file = names[k];
            ev[k].done = done;
            ev[k].total = tot;
            ev[k].files_done = files_done;
            ev[k].files_total = needed;
            ev[k].bytes_per_sec = rate;
            ev[k].eta_sec = rate > 0 ? (double)(tot - (done < tot ? done : tot)) / rate : -1;
            if (!emit(env, &ev[k])) go_on = false;
        }
        if (done != last_done && now - last_progress >= 100.0 && !finished) {
            memset(&p, 0, sizeof p);
            p.event = INGOT_HUB_EV_PROGRESS;
            p.repo = repo;
            p.done = done;
            p.total = tot;
            p.files_done = files_done;
            p.files_total = needed;
            p.bytes_per_sec = rate;
            p.eta_sec = rate > 0 ? (double)(tot - (done < tot ? done : tot)) / rate : -1;
            if (!emit(env, &p)) go_on = false;
            last_done = done;
            last_progress = now;
        }
        if (!go_on) atomic_store(&b.cancel, 1);
        pthread_mutex_lock(&b.mu);
        if (finished && nev == 0) break;
        if (finished) continue;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&b.cv, &b.mu, &ts);
    }
    pthread_mutex_unlock(&b.mu);
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    free(th);
    ingot_status st = INGOT_OK;
    for (int i = 0; i < n; i++) {
        job *j = &b.jobs[i];
        if (j->state == JOB_DONE && j->downloaded) (*n_downloaded)++;
        if (j->state != JOB_FAILED) continue;
        /* Report the first real failure rather than the cancellations it caused. */
        if (st == INGOT_OK || (st == INGOT_E_CANCELLED && j->err.status != INGOT_E_CANCELLED)) {
            st = j->err.status ? j->err.status : INGOT_E_INTERNAL;
            if (err) *err = j->err;
        }
    }
    *bytes_downloaded = b.received;
    if (st == INGOT_OK) {
        memset(&p, 0, sizeof p);
        p.event = INGOT_HUB_EV_DONE;
        p.repo = repo;
        p.done = p.total = total;
        p.files_done = p.files_total = needed;
        p.eta_sec = 0;
        emit(env, &p);
    }
    pthread_cond_destroy(&b.cv);
    pthread_mutex_destroy(&b.mu);
    free(b.jobs);
    return st;
}
