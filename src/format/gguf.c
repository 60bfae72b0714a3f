/* The GGUF reader: maps a file (or reads it into memory), validates the
 * whole header before anything is handed out — every length, count,
 * offset and dimension is checked against the bytes that remain, with
 * overflow-safe arithmetic — and then answers metadata and tensor lookups
 * from hash indexes. Values stay in the file: only key names, tensor names
 * and scalar strings are copied (to give them a terminating NUL); numeric
 * arrays, string arrays and tensor data are pointers into the mapping.
 * Error messages read "PATH: <field> at byte N: <problem>". */
#include "format/gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "format/gguf_internal.h"


/* Arrays of arrays deeper than this are refused: real files nest at most
 * once, and the parser recurses once per level. */
#define GGUF_MAX_DEPTH 16
/* Smallest encodings, used to bound counts by the bytes that remain:
 * a kv is key length (8) + type (4) + at least one payload byte; a tensor
 * info is name length (8) + n_dims (4) + type (4) + offset (8). */
#define GGUF_MIN_KV_BYTES 13u
#define GGUF_MIN_TENSOR_BYTES 24u
#define GGUF_MIN_ARRAY_BYTES 12u

/* ---- small helpers ------------------------------------------------------ */

size_t ingot_gguf_vtype_size(uint32_t t) {
    switch (t) {
    case INGOT_GGUF_UINT8: case INGOT_GGUF_INT8: case INGOT_GGUF_BOOL: return 1;
    case INGOT_GGUF_UINT16: case INGOT_GGUF_INT16: return 2;
    case INGOT_GGUF_UINT32: case INGOT_GGUF_INT32: case INGOT_GGUF_FLOAT32: return 4;
    case INGOT_GGUF_UINT64: case INGOT_GGUF_INT64: case INGOT_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

static bool vtype_valid(uint32_t t) { return t <= INGOT_GGUF_FLOAT64; }

static uint64_t fnv1a(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

/* Grows *arr (elements of size elsz) so that it holds at least need. */
static bool grow(void **arr, int64_t *cap, int64_t need, size_t elsz) {
    if (need <= *cap) return true;
    int64_t nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > INT64_MAX / 2) return false;
        nc *= 2;
    }
    if ((uint64_t)nc > SIZE_MAX / elsz) return false;
    void *p = realloc(*arr, (size_t)nc * elsz);
    if (!p) return false;
    *arr = p;
    *cap = nc;
    return true;
}

static char *pool_strdup(ingot_gguf *g, const uint8_t *s, uint64_t len) {
    if (len >= SIZE_MAX - sizeof(pool_chunk) - 1) return NULL;
    pool_chunk *c = g->pool;
    if (!c || c->cap - c->used < len + 1) {
        size_t cap = len + 1 > 65536 ? (size_t)len + 1 : 65536;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = g->pool;
        c->used = 0;
        c->cap = cap;
        g->pool = c;
    }
    char *d = c->data + c->used;
    if (len) memcpy(d, s, (size_t)len);
    d[len] = 0;
    c->used += (size_t)len + 1;
    return d;
}

/* Name index: open addressing over indexes into kv[] or tensors[]. */
typedef const char *(*name_of_fn)(const ingot_gguf *g, int64_t i);
static const char *kv_name_of(const ingot_gguf *g, int64_t i) { return g->kv[i].name; }
static const char *tensor_name_of(const ingot_gguf *g, int64_t i) { return g->tensors[i].t.name; }

static int64_t index_find(const ingot_gguf *g, const name_index *ix, name_of_fn name_of,
                          const char *name) {
    if (!ix->cap) return -1;
    size_t mask = ix->cap - 1;
    for (size_t h = (size_t)fnv1a(name) & mask;; h = (h + 1) & mask) {
        int64_t i = ix->slots[h];
        if (i < 0) return -1;
        if (strcmp(name_of(g, i), name) == 0) return i;
    }
}

static bool index_place(const ingot_gguf *g, int64_t *slots, size_t cap, name_of_fn name_of,
                        int64_t i) {
    size_t mask = cap - 1;
    size_t h = (size_t)fnv1a(name_of(g, i)) & mask;
    while (slots[h] >= 0) h = (h + 1) & mask;
    slots[h] = i;
    return true;
}

/* Adds entry i; returns the index of an existing entry of the same name
 * (and adds nothing), -1 when added, -2 on out of memory. */
static int64_t index_add(const ingot_gguf *g, name_index *ix, name_of_fn name_of, int64_t i) {
    int64_t prev = index_find(g, ix, name_of, name_of(g, i));
    if (prev >= 0) return prev;
    if ((ix->n + 1) * 2 > ix->cap) {
        size_t nc = ix->cap ? ix->cap * 2 : 64;
        if (nc > SIZE_MAX / sizeof(int64_t)) return -2;
        int64_t *s = malloc(nc * sizeof *s);
        if (!s) return -2;
        for (size_t k = 0; k < nc; k++) s[k] = -1;
        for (size_t k = 0; k < ix->cap; k++)
            if (ix->slots[k] >= 0) index_place(g, s, nc, name_of, ix->slots[k]);
        free(ix->slots);
        ix->slots = s;
        ix->cap = nc;
    }
    index_place(g, ix->slots, ix->cap, name_of, i);
    ix->n++;
    return -1;
}

/* ---- parser ------------------------------------------------------------- */

enum { CTX_HEADER, CTX_KEY, CTX_TENSOR };

typedef struct parser {
    ingot_gguf *g;
    const uint8_t *buf;
    uint64_t size, pos; /* invariant: pos <= size */
    ingot_error *err;
    int ctx;            /* what is being read, for messages */
    uint64_t ctx_idx;
    const char *ctx_name;
} parser;

/* Copies a name from the file into a message: printable, bounded. */
static void sanitize(char *out, size_t cap, const char *s) {
    size_t o = 0;
    for (; *s && o + 4 < cap; s++) out[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    if (*s) { out[o++] = '.'; out[o++] = '.'; out[o++] = '.'; }
    out[o] = 0;
}

static ingot_status perr(parser *p, ingot_status s, uint64_t at, const char *field,
                         const char *fmt, ...) INGOT_PRINTF(5, 6);
static ingot_status perr(parser *p, ingot_status s, uint64_t at, const char *field,
                         const char *fmt, ...) {
    char problem[512], ctx[160] = "", name[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    if (p->ctx == CTX_KEY) {
        if (p->ctx_name) {
            sanitize(name, sizeof name, p->ctx_name);
            snprintf(ctx, sizeof ctx, "key #%llu '%s' ", (unsigned long long)p->ctx_idx, name);
        } else {
            snprintf(ctx, sizeof ctx, "key #%llu ", (unsigned long long)p->ctx_idx);
        }
    } else if (p->ctx == CTX_TENSOR) {
        if (p->ctx_name) {
            sanitize(name, sizeof name, p->ctx_name);
            snprintf(ctx, sizeof ctx, "tensor '%s' ", name);
        } else {
            snprintf(ctx, sizeof ctx, "tensor #%llu ", (unsigned long long)p->ctx_idx);
        }
    }
    return ingot_error_set(p->err, s, "%s: %s%s at byte %llu: %s", p->g->path, ctx, field,
                           (unsigned long long)at, problem);
}

static ingot_status nomem(parser *p) {
    return ingot_error_set(p->err, INGOT_E_NOMEM, "%s: out of memory while reading the header",
                           p->g->path);
}

static uint64_t left(const parser *p) { return p->size - p->pos; }

static ingot_status need(parser *p, uint64_t n, const char *field) {
    if (n <= left(p)) return INGOT_OK;
    return perr(p, INGOT_E_FORMAT, p->pos, field,
                "file truncated: %llu bytes needed, %llu left (file size %llu)",
                (unsigned long long)n, (unsigned long long)left(p), (unsigned long long)p->size);
}

static ingot_status rd_u32(parser *p, const char *field, uint32_t *v) {
    ingot_status s = need(p, 4, field);
    if (s) return s;
    *v = ingot_gguf_le32(p->buf + p->pos);
    p->pos += 4;
    return INGOT_OK;
}

static ingot_status rd_u64(parser *p, const char *field, uint64_t *v) {
    ingot_status s = need(p, 8, field);
    if (s) return s;
    *v = ingot_gguf_le64(p->buf + p->pos);
    p->pos += 8;
    return INGOT_OK;
}

/* A length-prefixed string: field names the length ("string length"). */
static ingot_status rd_str(parser *p, const char *field, uint64_t *off, uint64_t *len) {
    uint64_t at = p->pos;
    ingot_status s = rd_u64(p, field, len);
    if (s) return s;
    if (*len > left(p)) {
        p->pos = at;
        return perr(p, INGOT_E_FORMAT, at, field,
                    "string length %llu runs past end of file (%llu bytes left, file size %llu)",
                    (unsigned long long)*len, (unsigned long long)(p->size - at - 8),
                    (unsigned long long)p->size);
    }
    *off = p->pos;
    p->pos += *len;
    return INGOT_OK;
}

static int64_t new_val(parser *p) {
    ingot_gguf *g = p->g;
    if (!grow((void **)&g->vals, &g->cap_vals, g->n_vals + 1, sizeof *g->vals)) return -1;
    memset(&g->vals[g->n_vals], 0, sizeof *g->vals);
    g->vals[g->n_vals].first_sub = -1;
    return g->n_vals++;
}

static ingot_status parse_array(parser *p, int64_t vi, int depth, const char *field);

/* Reads one value of type t (already read) into vals[vi]; vi < 0 only
 * validates and skips it (used before reserving slots for the elements of
 * an array of arrays, so that every slot is backed by bytes of the file). */
static ingot_status parse_value(parser *p, uint32_t t, int64_t vi, int depth, const char *field) {
    char f[160];
    if (vi >= 0) p->g->vals[vi].type = (ingot_gguf_vtype)t;
    size_t sz = ingot_gguf_vtype_size(t);
    if (sz) {
        ingot_status s = need(p, sz, field);
        if (s) return s;
        if (vi >= 0) p->g->vals[vi].off = p->pos;
        p->pos += sz;
        return INGOT_OK;
    }
    if (t == INGOT_GGUF_STRING) {
        uint64_t off, len;
        snprintf(f, sizeof f, "%s string length", field);
        ingot_status s = rd_str(p, f, &off, &len);
        if (s || vi < 0) return s;
        const char *str = pool_strdup(p->g, p->buf + off, len);
        if (!str) return nomem(p);
        gguf_val *v = &p->g->vals[vi];
        v->off = off;
        v->len = len;
        v->str = str;
        return INGOT_OK;
    }
    return parse_array(p, vi, depth, field);
}

static ingot_status parse_array(parser *p, int64_t vi, int depth, const char *field) {
    char f[160];
    ingot_status s;
    uint64_t at = p->pos;
    uint32_t et;
    uint64_t n;
    if (depth >= GGUF_MAX_DEPTH)
        return perr(p, INGOT_E_FORMAT, at, field, "arrays nested deeper than %d levels",
                    GGUF_MAX_DEPTH);
    snprintf(f, sizeof f, "%s array type", field);
    if ((s = rd_u32(p, f, &et))) return s;
    if (!vtype_valid(et))
        return perr(p, INGOT_E_FORMAT, at, f, "invalid array element type %u", et);
    at = p->pos;
    snprintf(f, sizeof f, "%s array count", field);
    if ((s = rd_u64(p, f, &n))) return s;
    if (vi >= 0) {
        gguf_val *v = &p->g->vals[vi];
        v->elem_type = (ingot_gguf_vtype)et;
        v->n = n;
        v->off = p->pos;
    }
    size_t esz = ingot_gguf_vtype_size(et);
    uint64_t min_el = esz ? esz : et == INGOT_GGUF_STRING ? 8 : GGUF_MIN_ARRAY_BYTES;
    if (n > left(p) / min_el)
        return perr(p, INGOT_E_FORMAT, at, f,
                    "array of %llu elements of type %u (at least %llu bytes each) runs past end "
                    "of file (%llu bytes left)",
                    (unsigned long long)n, et, (unsigned long long)min_el,
                    (unsigned long long)left(p));
    if (esz) {
        p->pos += n * esz;
        return INGOT_OK;
    }
    if (et == INGOT_GGUF_STRING) {
        /* Validate every length first, so that the index allocated below is
         * backed by real bytes of the file. */
        uint64_t start = p->pos;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t off, len;
            snprintf(f, sizeof f, "%s array element #%llu string length", field,
                     (unsigned long long)i);
            if ((s = rd_str(p, f, &off, &len))) return s;
        }
        if (vi < 0) return INGOT_OK;
        if (n > SIZE_MAX / sizeof(uint64_t)) return nomem(p);
        uint64_t *offs = malloc(n ? (size_t)n * sizeof *offs : 1);
        if (!offs) return nomem(p);
        uint64_t q = start;
        for (uint64_t i = 0; i < n; i++) {
            offs[i] = q;
            q += 8 + ingot_gguf_le64(p->buf + q);
        }
        p->g->vals[vi].str_offs = offs;
        return INGOT_OK;
    }
    /* Array of arrays: validate the elements, then reserve n consecutive
     * slots and fill each. */
    uint64_t start = p->pos;
    for (uint64_t i = 0; i < n; i++) {
        snprintf(f, sizeof f, "%s[%llu]", field, (unsigned long long)i);
        if ((s = parse_value(p, INGOT_GGUF_ARRAY, -1, depth + 1, f))) return s;
    }
    if (vi < 0) return INGOT_OK;
    p->pos = start;
    ingot_gguf *g = p->g;
    if ((int64_t)n > INT64_MAX - g->n_vals ||
        !grow((void **)&g->vals, &g->cap_vals, g->n_vals + (int64_t)n, sizeof *g->vals))
        return nomem(p);
    int64_t first = g->n_vals;
    for (uint64_t i = 0; i < n; i++) {
        memset(&g->vals[first + (int64_t)i], 0, sizeof *g->vals);
        g->vals[first + (int64_t)i].first_sub = -1;
    }
    g->n_vals += (int64_t)n;
    g->vals[vi].first_sub = first;
    for (uint64_t i = 0; i < n; i++) {
        snprintf(f, sizeof f, "%s[%llu]", field, (unsigned long long)i);
        if ((s = parse_value(p, INGOT_GGUF_ARRAY, first + (int64_t)i, depth + 1, f))) return s;
    }
    return INGOT_OK;
}

static ingot_status parse_alignment(parser *p, int64_t k) {
    ingot_gguf *g = p->g;
    const gguf_val *v = &g->vals[g->kv[k].val];
    uint64_t a = 0;
    bool ok = true;
    const uint8_t *b = p->buf + v->off;
    switch (v->type) {
    case INGOT_GGUF_UINT8: a = b[0]; break;
    case INGOT_GGUF_UINT16: a = ingot_gguf_le16(b); break;
    case INGOT_GGUF_UINT32: a = ingot_gguf_le32(b); break;
    case INGOT_GGUF_UINT64: a = ingot_gguf_le64(b); break;
    case INGOT_GGUF_INT8: a = (uint64_t)(int64_t)(int8_t)b[0]; break;
    case INGOT_GGUF_INT16: a = (uint64_t)(int64_t)(int16_t)ingot_gguf_le16(b); break;
    case INGOT_GGUF_INT32: a = (uint64_t)(int64_t)(int32_t)ingot_gguf_le32(b); break;
    case INGOT_GGUF_INT64: a = ingot_gguf_le64(b); break;
    default: ok = false;
    }
    if (!ok)
        return perr(p, INGOT_E_FORMAT, v->off, "value",
                    "general.alignment must be an integer (value type %d)", (int)v->type);
    if (a == 0 || (a & (a - 1)) || a > (1u << 30))
        return perr(p, INGOT_E_FORMAT, v->off, "value",
                    "alignment %lld is not a power of two between 1 and 2^30", (long long)a);
    g->alignment = (size_t)a;
    return INGOT_OK;
}

static ingot_status parse_kvs(parser *p, uint64_t n_kv) {
    ingot_gguf *g = p->g;
    ingot_status s;
    for (uint64_t k = 0; k < n_kv; k++) {
        p->ctx = CTX_KEY;
        p->ctx_idx = k;
        p->ctx_name = NULL;
        uint64_t at = p->pos, off, len;
        if ((s = rd_str(p, "key length", &off, &len))) return s;
        if (memchr(p->buf + off, 0, (size_t)len))
            return perr(p, INGOT_E_FORMAT, at, "name", "key name contains a NUL byte");
        if (!grow((void **)&g->kv, &g->cap_kv, g->n_kv + 1, sizeof *g->kv)) return nomem(p);
        gguf_kv *kv = &g->kv[g->n_kv];
        if (!(kv->name = pool_strdup(g, p->buf + off, len))) return nomem(p);
        p->ctx_name = kv->name;
        int64_t dup = index_add(g, &g->key_index, kv_name_of, g->n_kv);
        if (dup == -2) return nomem(p);
        if (dup >= 0)
            return perr(p, INGOT_E_FORMAT, at, "name", "duplicate key (first defined as key #%lld)",
                        (long long)dup);
        g->n_kv++;
        uint64_t tat = p->pos;
        uint32_t t;
        if ((s = rd_u32(p, "type", &t))) return s;
        if (!vtype_valid(t)) return perr(p, INGOT_E_FORMAT, tat, "type", "invalid value type %u", t);
        int64_t vi = new_val(p);
        if (vi < 0) return nomem(p);
        g->kv[k].val = vi;
        if ((s = parse_value(p, t, vi, 0, "value"))) return s;
        g->kv[k].span_off = tat;
        g->kv[k].span_len = p->pos - tat;
        if (strcmp(g->kv[k].name, "general.alignment") == 0 && (s = parse_alignment(p, (int64_t)k)))
            return s;
    }
    return INGOT_OK;
}

static ingot_status parse_tensor_infos(parser *p, uint64_t n_tensors) {
    ingot_gguf *g = p->g;
    ingot_status s;
    char f[32];
    for (uint64_t i = 0; i < n_tensors; i++) {
        p->ctx = CTX_TENSOR;
        p->ctx_idx = i;
        p->ctx_name = NULL;
        uint64_t at = p->pos, off, len;
        if ((s = rd_str(p, "name length", &off, &len))) return s;
        if (memchr(p->buf + off, 0, (size_t)len))
            return perr(p, INGOT_E_FORMAT, at, "name", "tensor name contains a NUL byte");
        if (!grow((void **)&g->tensors, &g->cap_tensors, g->n_tensors + 1, sizeof *g->tensors))
            return nomem(p);
        gguf_tensor *gt = &g->tensors[g->n_tensors];
        memset(gt, 0, sizeof *gt);
        if (!(gt->t.name = pool_strdup(g, p->buf + off, len))) return nomem(p);
        p->ctx_name = gt->t.name;
        int64_t dup = index_add(g, &g->tensor_index, tensor_name_of, g->n_tensors);
        if (dup == -2) return nomem(p);
        if (dup >= 0)
            return perr(p, INGOT_E_FORMAT, at, "name",
                        "duplicate tensor name (first defined as tensor #%lld)", (long long)dup);
        g->n_tensors++;
        ingot_gguf_tensor *t = &gt->t;

        at = p->pos;
        uint32_t nd;
        if ((s = rd_u32(p, "n_dims", &nd))) return s;
        if (nd > INGOT_GGUF_MAX_DIMS)
            return perr(p, INGOT_E_FORMAT, at, "n_dims", "%u dimensions (at most %d supported)", nd,
                        INGOT_GGUF_MAX_DIMS);
        t->n_dims = (int)nd;
        uint64_t dims_at = p->pos;
        int64_t nelem = 1;
        for (int d = 0; d < INGOT_GGUF_MAX_DIMS; d++) t->ne[d] = 1;
        for (uint32_t d = 0; d < nd; d++) {
            uint64_t v, dat = p->pos;
            snprintf(f, sizeof f, "ne[%u]", d);
            if ((s = rd_u64(p, f, &v))) return s;
            if (v == 0 || v > (uint64_t)INT64_MAX)
                return perr(p, INGOT_E_FORMAT, dat, f, "dimension %lld is not positive",
                            (long long)v);
            if ((int64_t)v > INT64_MAX / nelem)
                return perr(p, INGOT_E_FORMAT, dat, f,
                            "element count overflows (dimension %llu)", (unsigned long long)v);
            t->ne[d] = (int64_t)v;
            nelem *= (int64_t)v;
        }
        at = p->pos;
        uint32_t ty;
        if ((s = rd_u32(p, "type", &ty))) return s;
        const ingot_type_traits *tr = ingot_type_traits_get((ingot_type)ty);
        if (!tr)
            return perr(p, INGOT_E_UNSUPPORTED, at, "type", "unknown or unsupported tensor type %u",
                        ty);
        t->type = (ingot_type)ty;
        if (t->ne[0] % tr->block_size)
            return perr(p, INGOT_E_FORMAT, dims_at, "ne[0]",
                        "row length %lld is not a multiple of the block size %lld of type %s",
                        (long long)t->ne[0], (long long)tr->block_size, tr->name);
        uint64_t row = (uint64_t)(t->ne[0] / tr->block_size) * tr->type_size;
        uint64_t rows = (uint64_t)(nelem / t->ne[0]);
        if (rows && row > UINT64_MAX / rows)
            return perr(p, INGOT_E_FORMAT, dims_at, "ne", "byte size overflows");
        uint64_t nbytes = row * rows;
        if (nbytes > SIZE_MAX || nbytes > p->size)
            return perr(p, INGOT_E_FORMAT, dims_at, "ne",
                        "%llu bytes of data is more than the file size %llu",
                        (unsigned long long)nbytes, (unsigned long long)p->size);
        t->nbytes = (size_t)nbytes;
        gt->info_at = p->pos;
        if ((s = rd_u64(p, "offset", &t->offset))) return s;
        if (t->offset % g->alignment)
            return perr(p, INGOT_E_FORMAT, gt->info_at, "offset",
                        "offset %llu is not a multiple of the alignment %zu",
                        (unsigned long long)t->offset, g->alignment);
    }
    return INGOT_OK;
}

typedef struct span { uint64_t off, end; int64_t i; } span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off ? 1 : (x->i > y->i) - (x->i < y->i);
}

static ingot_status place_tensors(parser *p) {
    ingot_gguf *g = p->g;
    if (!g->n_tensors) return INGOT_OK;
    uint64_t room = g->data_offset <= p->size ? p->size - g->data_offset : 0;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        gguf_tensor *gt = &g->tensors[i];
        p->ctx = CTX_TENSOR;
        p->ctx_name = gt->t.name;
        if (gt->t.offset > room || gt->t.nbytes > room - gt->t.offset)
            return perr(p, INGOT_E_FORMAT, gt->info_at, "offset",
                        "data at %llu + %zu bytes runs past end of file (data section starts at "
                        "byte %llu, file size %llu)",
                        (unsigned long long)gt->t.offset, gt->t.nbytes,
                        (unsigned long long)g->data_offset, (unsigned long long)p->size);
        gt->t.data = p->buf + g->data_offset + gt->t.offset;
    }
    if ((uint64_t)g->n_tensors > SIZE_MAX / sizeof(span)) return nomem(p);
    span *sp = malloc((size_t)g->n_tensors * sizeof *sp);
    if (!sp) return nomem(p);
    for (int64_t i = 0; i < g->n_tensors; i++)
        sp[i] = (span){g->tensors[i].t.offset, g->tensors[i].t.offset + g->tensors[i].t.nbytes, i};
    qsort(sp, (size_t)g->n_tensors, sizeof *sp, span_cmp);
    ingot_status s = INGOT_OK;
    for (int64_t i = 1; i < g->n_tensors && !s; i++) {
        if (sp[i].off < sp[i - 1].end) {
            gguf_tensor *gt = &g->tensors[sp[i].i];
            char other[96];
            sanitize(other, sizeof other, g->tensors[sp[i - 1].i].t.name);
            p->ctx_name = gt->t.name;
            s = perr(p, INGOT_E_FORMAT, gt->info_at, "offset",
                     "data [%llu, %llu) overlaps tensor '%s' [%llu, %llu)",
                     (unsigned long long)sp[i].off, (unsigned long long)sp[i].end, other,
                     (unsigned long long)sp[i - 1].off, (unsigned long long)sp[i - 1].end);
        }
    }
    free(sp);
    return s;
}

static ingot_status parse(parser *p) {
    ingot_gguf *g = p->g;
    ingot_status s;
    p->ctx = CTX_HEADER;
    if (p->size < 4 || memcmp(p->buf, "GGUF", 4) != 0) {
        if (p->size < 4)
            return perr(p, INGOT_E_FORMAT, 0, "magic", "file truncated: %llu bytes, not a GGUF file",
                        (unsigned long long)p->size);
        char m[5];
        for (int i = 0; i < 4; i++) m[i] = (p->buf[i] >= 0x20 && p->buf[i] < 0x7f) ? (char)p->buf[i] : '?';
        m[4] = 0;
        return perr(p, INGOT_E_FORMAT, 0, "magic",
                    "not a GGUF file (starts with '%s' = %02x %02x %02x %02x)", m, p->buf[0],
                    p->buf[1], p->buf[2], p->buf[3]);
    }
    p->pos = 4;
    uint32_t ver;
    if ((s = rd_u32(p, "version", &ver))) return s;
    if (ver == 1)
        return perr(p, INGOT_E_UNSUPPORTED, 4, "version",
                    "GGUF v1 is not supported (only versions 2 and 3); re-convert the model");
    if (ver != 2 && ver != 3) {
        uint32_t sw = (ver >> 24) | ((ver >> 8) & 0xff00u) | ((ver << 8) & 0xff0000u) | (ver << 24);
        if (sw >= 1 && sw <= 3)
            return perr(p, INGOT_E_UNSUPPORTED, 4, "version",
                        "big-endian GGUF (version %u byte-swapped): only little-endian files are "
                        "supported", sw);
        return perr(p, INGOT_E_FORMAT, 4, "version",
                    "unknown GGUF version %u (only versions 2 and 3 are supported)", ver);
    }
    g->version = ver;
    uint64_t n_tensors, n_kv;
    if ((s = rd_u64(p, "tensor count", &n_tensors))) return s;
    if ((s = rd_u64(p, "kv count", &n_kv))) return s;
    if (n_kv > left(p) / GGUF_MIN_KV_BYTES)
        return perr(p, INGOT_E_FORMAT, 16, "kv count",
                    "%llu key-value pairs cannot fit in the %llu bytes left in the file",
                    (unsigned long long)n_kv, (unsigned long long)left(p));
    if (n_tensors > left(p) / GGUF_MIN_TENSOR_BYTES ||
        n_kv * GGUF_MIN_KV_BYTES > left(p) - n_tensors * GGUF_MIN_TENSOR_BYTES)
        return perr(p, INGOT_E_FORMAT, 8, "tensor count",
                    "%llu tensors and %llu key-value pairs cannot fit in the %llu bytes left in "
                    "the file",
                    (unsigned long long)n_tensors, (unsigned long long)n_kv,
                    (unsigned long long)left(p));
    if ((s = parse_kvs(p, n_kv))) return s;
    if ((s = parse_tensor_infos(p, n_tensors))) return s;
    uint64_t a = g->alignment;
    g->data_offset = p->pos + (a - p->pos % a) % a; /* pos <= size: cannot overflow */
    return place_tensors(p);
}

/* ---- open / close ------------------------------------------------------- */

static ingot_status load_file(ingot_gguf *g, bool use_mmap, ingot_error *err) {
    int fd = open(g->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ingot_error_set(err, errno == ENOENT ? INGOT_E_NOT_FOUND : INGOT_E_IO,
                               "%s: cannot open: %s", g->path, strerror(errno));
    struct stat st;
    ingot_status s = INGOT_OK;
    if (fstat(fd, &st) != 0) {
        s = ingot_error_set(err, INGOT_E_IO, "%s: cannot stat: %s", g->path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        s = ingot_error_set(err, INGOT_E_IO, "%s: not a regular file", g->path);
    } else if ((uint64_t)st.st_size > SIZE_MAX) {
        s = ingot_error_set(err, INGOT_E_NOMEM, "%s: file too large for this address space",
                            g->path);
    } else if (st.st_size == 0) {
        g->buf = NULL;
        g->size = 0;
    } else if (use_mmap) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            s = ingot_error_set(err, INGOT_E_IO, "%s: cannot map %lld bytes: %s", g->path,
                                (long long)st.st_size, strerror(errno));
        } else {
            g->buf = m;
            g->size = (uint64_t)st.st_size;
            g->mapped = true;
            g->fd = fd; /* for ingot_gguf_read */
            return INGOT_OK;
        }
    } else {
        uint8_t *b = malloc((size_t)st.st_size);
        if (!b) {
            s = ingot_error_set(err, INGOT_E_NOMEM, "%s: cannot allocate %lld bytes", g->path,
                                (long long)st.st_size);
        } else {
            size_t got = 0, want = (size_t)st.st_size;
            while (got < want) {
                ssize_t r = read(fd, b + got, want - got);
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0) break;
                got += (size_t)r;
            }
            if (got != want) {
                free(b);
                s = ingot_error_set(err, INGOT_E_IO, "%s: short read (%zu of %zu bytes)", g->path,
                                    got, want);
            } else {
                g->buf = b;
                g->size = want;
            }
        }
    }
    close(fd);
    return s;
}

ingot_status ingot_gguf_open(const char *path, bool use_mmap, ingot_gguf **out, ingot_error *err) {
    if (out) *out = NULL;
    if (!path || !out)
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_gguf_open: path and out are required");
    ingot_gguf *g = calloc(1, sizeof *g);
    if (!g || !(g->path = strdup(path))) {
        free(g);
        return ingot_error_set(err, INGOT_E_NOMEM, "%s: out of memory", path);
    }
    g->alignment = INGOT_GGUF_DEFAULT_ALIGNMENT;
    g->fd = -1;
    ingot_status s = load_file(g, use_mmap, err);
    if (!s) {
        static const uint8_t empty[1];
        parser p = {g, g->buf ? g->buf : empty, g->size, 0, err, CTX_HEADER, 0, NULL};
        s = parse(&p);
    }
    if (s) {
        ingot_gguf_close(g);
        return s;
    }
    *out = g;
    return INGOT_OK;
}

void ingot_gguf_read(const ingot_gguf *g, const void *src, size_t len, void *dst) {
    const uint8_t *p = src;
    size_t got = 0;
    if (g && g->mapped && g->fd >= 0 && p >= g->buf && len <= g->size && (uint64_t)(p - g->buf) <= g->size - len) {
        const off_t off = (off_t)(p - g->buf);
        while (got < len) {
            ssize_t r = pread(g->fd, (uint8_t *)dst + got, len - got, off + (off_t)got);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            got += (size_t)r;
        }
    }
    if (got < len) memcpy((uint8_t *)dst + got, p + got, len - got); /* not mapped, or the read failed */
}

void ingot_gguf_close(ingot_gguf *g) {
    if (!g) return;
    if (g->buf) {
        if (g->mapped) munmap((void *)g->buf, (size_t)g->size);
        else free((void *)g->buf);
    }
    if (g->fd >= 0) close(g->fd);
    for (int64_t i = 0; i < g->n_vals; i++) free(g->vals[i].str_offs);
    free(g->vals);
    free(g->kv);
    free(g->tensors);
    free(g->key_index.slots);
    free(g->tensor_index.slots);
    while (g->pool) {
        pool_chunk *n = g->pool->next;
        free(g->pool);
        g->pool = n;
    }
    free(g->path);
    free(g);
}

int64_t ingot_gguf_index_find(const ingot_gguf *g, bool tensors, const char *name) {
    if (!g || !name) return -1;
    return tensors ? index_find(g, &g->tensor_index, tensor_name_of, name)
                   : index_find(g, &g->key_index, kv_name_of, name);
}
