/* The GGUF writer: collects metadata (each value kept already encoded, so
 * that a key copied from a reader — nested arrays included — is written
 * byte for byte) and borrowed tensor data, then writes a version 3 file
 * with every tensor aligned, into a temporary file beside the target that
 * is renamed into place only once it is complete and synced. */
#include "format/gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "format/gguf_internal.h"

typedef struct wkv {
    char *key;
    uint8_t *val; /* type id (u32) + payload, as in the file */
    size_t len;
} wkv;

typedef struct wtensor {
    char *name;
    ingot_type type;
    int n_dims;
    int64_t ne[INGOT_GGUF_MAX_DIMS];
    uint64_t nbytes;
    const void *data;
} wtensor;

struct ingot_gguf_writer {
    wkv *kv;
    size_t n_kv, cap_kv;
    wtensor *t;
    size_t n_t, cap_t;
    size_t alignment;
    bool alignment_set;
};

/* Growable byte buffer; a failed allocation sticks in oom. */
typedef struct wbuf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
} wbuf;

static void wb_put(wbuf *b, const void *src, size_t n) {
    if (b->oom) return;
    if (n > SIZE_MAX - b->n) { b->oom = true; return; }
    if (b->n + n > b->cap) {
        size_t nc = b->cap ? b->cap : 64;
        while (nc < b->n + n) {
            if (nc > SIZE_MAX / 2) { b->oom = true; return; }
            nc *= 2;
        }
        uint8_t *q = realloc(b->p, nc);
        if (!q) { b->oom = true; return; }
        b->p = q;
        b->cap = nc;
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void wb_u32(wbuf *b, uint32_t v) { wb_put(b, &v, 4); }
static void wb_u64(wbuf *b, uint64_t v) { wb_put(b, &v, 8); }
static void wb_str(wbuf *b, const char *s, uint64_t len) {
    wb_u64(b, len);
    wb_put(b, s, (size_t)len);
}

ingot_gguf_writer *ingot_gguf_writer_new(void) {
    ingot_gguf_writer *w = calloc(1, sizeof *w);
    if (w) w->alignment = INGOT_GGUF_DEFAULT_ALIGNMENT;
    return w;
}

void ingot_gguf_writer_free(ingot_gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].val);
    }
    for (size_t i = 0; i < w->n_t; i++) free(w->t[i].name);
    free(w->kv);
    free(w->t);
    free(w);
}

void ingot_gguf_writer_set_alignment(ingot_gguf_writer *w, size_t alignment) {
    if (!w) return;
    w->alignment = alignment; /* validated by ingot_gguf_writer_write */
    w->alignment_set = true;
}

static wkv *find_kv(ingot_gguf_writer *w, const char *key) {
    for (size_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->kv[i].key, key) == 0) return &w->kv[i];
    return NULL;
}

/* Takes ownership of the encoded value in b (freed on failure). */
static ingot_status set_encoded(ingot_gguf_writer *w, const char *key, wbuf *b) {
    if (b->oom) {
        free(b->p);
        return INGOT_E_NOMEM;
    }
    wkv *kv = find_kv(w, key);
    if (kv) {
        free(kv->val);
        kv->val = b->p;
        kv->len = b->n;
        return INGOT_OK;
    }
    if (w->n_kv == w->cap_kv) {
        size_t nc = w->cap_kv ? w->cap_kv * 2 : 32;
        wkv *q = realloc(w->kv, nc * sizeof *q);
        if (!q) { free(b->p); return INGOT_E_NOMEM; }
        w->kv = q;
        w->cap_kv = nc;
    }
    char *k = strdup(key);
    if (!k) { free(b->p); return INGOT_E_NOMEM; }
    w->kv[w->n_kv++] = (wkv){k, b->p, b->n};
    return INGOT_OK;
}

ingot_status ingot_gguf_writer_set_scalar(ingot_gguf_writer *w, const char *key, ingot_gguf_vtype t,
                                          const void *v) {
    size_t sz = ingot_gguf_vtype_size(t);
    if (!w || !key || !v || !sz) return INGOT_E_INVALID_ARG;
    wbuf b = {0};
    wb_u32(&b, (uint32_t)t);
    if (t == INGOT_GGUF_BOOL) {
        uint8_t x = *(const bool *)v ? 1 : 0;
        wb_put(&b, &x, 1);
    } else {
        wb_put(&b, v, sz);
    }
    return set_encoded(w, key, &b);
}

ingot_status ingot_gguf_writer_set_u32(ingot_gguf_writer *w, const char *key, uint32_t v) {
    return ingot_gguf_writer_set_scalar(w, key, INGOT_GGUF_UINT32, &v);
}
ingot_status ingot_gguf_writer_set_i32(ingot_gguf_writer *w, const char *key, int32_t v) {
    return ingot_gguf_writer_set_scalar(w, key, INGOT_GGUF_INT32, &v);
}
ingot_status ingot_gguf_writer_set_u64(ingot_gguf_writer *w, const char *key, uint64_t v) {
    return ingot_gguf_writer_set_scalar(w, key, INGOT_GGUF_UINT64, &v);
}
ingot_status ingot_gguf_writer_set_f32(ingot_gguf_writer *w, const char *key, float v) {
    return ingot_gguf_writer_set_scalar(w, key, INGOT_GGUF_FLOAT32, &v);
}
ingot_status ingot_gguf_writer_set_bool(ingot_gguf_writer *w, const char *key, bool v) {
    return ingot_gguf_writer_set_scalar(w, key, INGOT_GGUF_BOOL, &v);
}

ingot_status ingot_gguf_writer_set_str(ingot_gguf_writer *w, const char *key, const char *v) {
    if (!w || !key || !v) return INGOT_E_INVALID_ARG;
    wbuf b = {0};
    wb_u32(&b, INGOT_GGUF_STRING);
    wb_str(&b, v, strlen(v));
    return set_encoded(w, key, &b);
}

ingot_status ingot_gguf_writer_set_arr(ingot_gguf_writer *w, const char *key, ingot_gguf_vtype t,
                                       const void *data, uint64_t n) {
    size_t sz = ingot_gguf_vtype_size(t);
    if (!w || !key || !sz || (n && !data)) return INGOT_E_INVALID_ARG;
    if (n > SIZE_MAX / sz) return INGOT_E_NOMEM;
    wbuf b = {0};
    wb_u32(&b, INGOT_GGUF_ARRAY);
    wb_u32(&b, (uint32_t)t);
    wb_u64(&b, n);
    if (t == INGOT_GGUF_BOOL) {
        const uint8_t *d = data; /* GGUF bools are one byte, 0 or 1 */
        for (uint64_t i = 0; i < n; i++) {
            uint8_t x = d[i] ? 1 : 0;
            wb_put(&b, &x, 1);
        }
    } else {
        wb_put(&b, data, (size_t)n * sz);
    }
    return set_encoded(w, key, &b);
}

ingot_status ingot_gguf_writer_set_arr_str(ingot_gguf_writer *w, const char *key,
                                           const char *const *strs, uint64_t n) {
    if (!w || !key || (n && !strs)) return INGOT_E_INVALID_ARG;
    for (uint64_t i = 0; i < n; i++)
        if (!strs[i]) return INGOT_E_INVALID_ARG;
    wbuf b = {0};
    wb_u32(&b, INGOT_GGUF_ARRAY);
    wb_u32(&b, INGOT_GGUF_STRING);
    wb_u64(&b, n);
    for (uint64_t i = 0; i < n && !b.oom; i++) wb_str(&b, strs[i], strlen(strs[i]));
    return set_encoded(w, key, &b);
}

ingot_status ingot_gguf_writer_copy_kv(ingot_gguf_writer *w, const ingot_gguf *g, int64_t kid) {
    if (!w || !g) return INGOT_E_INVALID_ARG;
    size_t len = 0;
    const void *raw = ingot_gguf_kv_raw(g, kid, &len);
    if (!raw) return INGOT_E_INVALID_ARG;
    wbuf b = {0};
    wb_put(&b, raw, len);
    return set_encoded(w, ingot_gguf_key(g, kid), &b);
}

ingot_status ingot_gguf_writer_add_tensor(ingot_gguf_writer *w, const char *name, ingot_type type,
                                          int n_dims, const int64_t *ne, const void *data) {
    if (!w || !name || !*name || n_dims < 0 || n_dims > INGOT_GGUF_MAX_DIMS || (n_dims && !ne))
        return INGOT_E_INVALID_ARG;
    const ingot_type_traits *tr = ingot_type_traits_get(type);
    if (!tr) return INGOT_E_UNSUPPORTED;
    wtensor t = {0};
    t.type = type;
    t.n_dims = n_dims;
    int64_t nelem = 1;
    for (int d = 0; d < INGOT_GGUF_MAX_DIMS; d++) t.ne[d] = d < n_dims ? ne[d] : 1;
    for (int d = 0; d < INGOT_GGUF_MAX_DIMS; d++) {
        if (t.ne[d] <= 0 || t.ne[d] > INT64_MAX / nelem) return INGOT_E_INVALID_ARG;
        nelem *= t.ne[d];
    }
    if (t.ne[0] % tr->block_size) return INGOT_E_INVALID_ARG;
    uint64_t row = (uint64_t)(t.ne[0] / tr->block_size) * tr->type_size;
    uint64_t rows = (uint64_t)(nelem / t.ne[0]);
    if (row > UINT64_MAX / rows || row * rows > SIZE_MAX) return INGOT_E_INVALID_ARG;
    t.nbytes = row * rows;
    if (!data) return INGOT_E_INVALID_ARG;
    t.data = data;
    for (size_t i = 0; i < w->n_t; i++)
        if (strcmp(w->t[i].name, name) == 0) return INGOT_E_INVALID_ARG;
    if (w->n_t == w->cap_t) {
        size_t nc = w->cap_t ? w->cap_t * 2 : 64;
        wtensor *q = realloc(w->t, nc * sizeof *q);
        if (!q) return INGOT_E_NOMEM;
        w->t = q;
        w->cap_t = nc;
    }
    if (!(t.name = strdup(name))) return INGOT_E_NOMEM;
    w->t[w->n_t++] = t;
    return INGOT_OK;
}

/* The alignment to write with, from set_alignment or a general.alignment
 * key (set or copied); keeps that key consistent with it. */
static ingot_status resolve_alignment(ingot_gguf_writer *w, const char *path, size_t *out,
                                      ingot_error *err) {
    wkv *kv = find_kv(w, "general.alignment");
    uint64_t a = INGOT_GGUF_DEFAULT_ALIGNMENT;
    if (w->alignment_set) {
        a = w->alignment;
    } else if (kv) {
        uint32_t t;
        memcpy(&t, kv->val, 4);
        size_t sz = ingot_gguf_vtype_size(t);
        if (!sz || t == INGOT_GGUF_BOOL || t == INGOT_GGUF_FLOAT32 || t == INGOT_GGUF_FLOAT64 ||
            kv->len != 4 + sz)
            return ingot_error_set(err, INGOT_E_INVALID_ARG,
                                   "%s: general.alignment must be an unsigned integer", path);
        a = 0;
        memcpy(&a, kv->val + 4, sz); /* little-endian host: low bytes first */
        bool is_signed = t == INGOT_GGUF_INT8 || t == INGOT_GGUF_INT16 || t == INGOT_GGUF_INT32 ||
                         t == INGOT_GGUF_INT64;
        if (is_signed && sz < 8 && (a >> (sz * 8 - 1))) a = 0; /* negative */
    }
    if (a == 0 || (a & (a - 1)) || a > (1u << 30))
        return ingot_error_set(err, INGOT_E_INVALID_ARG,
                               "%s: alignment %llu is not a power of two between 1 and 2^30", path,
                               (unsigned long long)a);
    if (w->alignment_set && (kv || a != INGOT_GGUF_DEFAULT_ALIGNMENT) &&
        ingot_gguf_writer_set_u32(w, "general.alignment", (uint32_t)a))
        return ingot_error_set(err, INGOT_E_NOMEM, "%s: out of memory", path);
    *out = (size_t)a;
    return INGOT_OK;
}

static bool write_all(int fd, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n) {
        ssize_t r = write(fd, b, n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (r == 0) errno = EIO;
            return false;
        }
        b += r;
        n -= (size_t)r;
    }
    return true;
}

static bool write_pad(int fd, uint64_t pos, size_t align) {
    static const uint8_t zeros[256];
    size_t pad = (size_t)((align - pos % align) % align);
    while (pad) {
        size_t k = pad < sizeof zeros ? pad : sizeof zeros;
        if (!write_all(fd, zeros, k)) return false;
        pad -= k;
    }
    return true;
}

ingot_status ingot_gguf_writer_write(ingot_gguf_writer *w, const char *path, ingot_error *err) {
    if (!w || !path || !*path)
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_gguf_writer_write: no writer or path");
    size_t align = INGOT_GGUF_DEFAULT_ALIGNMENT;
    ingot_status s = resolve_alignment(w, path, &align, err);
    if (s) return s;

    wbuf h = {0};
    wb_put(&h, "GGUF", 4);
    wb_u32(&h, 3);
    wb_u64(&h, w->n_t);
    wb_u64(&h, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        wb_str(&h, w->kv[i].key, strlen(w->kv[i].key));
        wb_put(&h, w->kv[i].val, w->kv[i].len);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        wb_str(&h, t->name, strlen(t->name));
        wb_u32(&h, (uint32_t)t->n_dims);
        for (int d = 0; d < t->n_dims; d++) wb_u64(&h, (uint64_t)t->ne[d]);
        wb_u32(&h, (uint32_t)t->type);
        wb_u64(&h, off);
        uint64_t padded = t->nbytes + (align - t->nbytes % align) % align;
        if (padded < t->nbytes || off > UINT64_MAX - padded) {
            free(h.p);
            return ingot_error_set(err, INGOT_E_RANGE, "%s: tensor data exceeds 2^64 bytes", path);
        }
        off += padded;
    }
    if (h.oom) {
        free(h.p);
        return ingot_error_set(err, INGOT_E_NOMEM, "%s: out of memory building the header", path);
    }

    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) {
        free(h.p);
        return ingot_error_set(err, INGOT_E_NOMEM, "%s: out of memory", path);
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp-XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        s = ingot_error_set(err, INGOT_E_IO, "%s: cannot create a temporary file beside it: %s",
                            path, strerror(errno));
        free(tmp);
        free(h.p);
        return s;
    }
    bool ok = fchmod(fd, 0644) == 0 && write_all(fd, h.p, h.n) && write_pad(fd, h.n, align);
    for (size_t i = 0; ok && i < w->n_t; i++)
        ok = write_all(fd, w->t[i].data, (size_t)w->t[i].nbytes) &&
             write_pad(fd, w->t[i].nbytes, align);
    ok = ok && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        unlink(tmp);
        s = ingot_error_set(err, INGOT_E_IO, "%s: write failed: %s", path, strerror(saved));
    }
    free(tmp);
    free(h.p);
    return s;
}
