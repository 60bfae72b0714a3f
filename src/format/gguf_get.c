/* Queries on an opened GGUF file: header facts, keys (typed getters that
 * convert between integer types and between float widths when the value
 * fits), arrays (nested ones through sub ids) and tensors. Everything here
 * reads what gguf.c validated, so no bounds are re-checked against the
 * file, only the caller's indexes. */
#include <string.h>

#include "format/gguf.h"
#include "format/gguf_internal.h"

const char *ingot_gguf_path(const ingot_gguf *g) { return g->path; }
uint32_t ingot_gguf_version(const ingot_gguf *g) { return g->version; }
uint64_t ingot_gguf_file_size(const ingot_gguf *g) { return g->size; }
bool ingot_gguf_is_mapped(const ingot_gguf *g) { return g && g->mapped; }
bool ingot_gguf_mapping(const ingot_gguf *g, const void **base, size_t *len) {
    if (!g || !g->mapped || !g->buf) return false;
    *base = g->buf;
    *len = (size_t)g->size;
    return true;
}
size_t ingot_gguf_alignment(const ingot_gguf *g) { return g->alignment; }
uint64_t ingot_gguf_data_offset(const ingot_gguf *g) { return g->data_offset; }
int64_t ingot_gguf_n_kv(const ingot_gguf *g) { return g->n_kv; }

int64_t ingot_gguf_find_key(const ingot_gguf *g, const char *key) {
    if (!g || !key) return -1;
    return ingot_gguf_index_find(g, false, key);
}

const char *ingot_gguf_key(const ingot_gguf *g, int64_t kid) {
    return kid >= 0 && kid < g->n_kv ? g->kv[kid].name : NULL;
}

/* Ids below n_kv are keys; ids from n_kv on are elements of arrays of
 * arrays (vals index + n_kv). */
static const gguf_val *val_of(const ingot_gguf *g, int64_t id) {
    if (id < 0) return NULL;
    if (id < g->n_kv) return &g->vals[g->kv[id].val];
    if (id - g->n_kv < g->n_vals) return &g->vals[id - g->n_kv];
    return NULL;
}

ingot_gguf_vtype ingot_gguf_kv_type(const ingot_gguf *g, int64_t kid) {
    const gguf_val *v = val_of(g, kid);
    return v ? v->type : (ingot_gguf_vtype)-1;
}

const void *ingot_gguf_kv_raw(const ingot_gguf *g, int64_t kid, size_t *len) {
    if (kid < 0 || kid >= g->n_kv) return NULL;
    if (len) *len = (size_t)g->kv[kid].span_len;
    return g->buf + g->kv[kid].span_off;
}

/* A scalar integer as (negative?, magnitude); false if not an integer. */
static bool val_int(const ingot_gguf *g, const gguf_val *v, bool *neg, uint64_t *mag) {
    const uint8_t *b = g->buf + v->off;
    int64_t si;
    switch (v->type) {
    case INGOT_GGUF_UINT8: *neg = false; *mag = b[0]; return true;
    case INGOT_GGUF_UINT16: *neg = false; *mag = ingot_gguf_le16(b); return true;
    case INGOT_GGUF_UINT32: *neg = false; *mag = ingot_gguf_le32(b); return true;
    case INGOT_GGUF_UINT64: *neg = false; *mag = ingot_gguf_le64(b); return true;
    case INGOT_GGUF_INT8: si = (int8_t)b[0]; break;
    case INGOT_GGUF_INT16: si = (int16_t)ingot_gguf_le16(b); break;
    case INGOT_GGUF_INT32: si = (int32_t)ingot_gguf_le32(b); break;
    case INGOT_GGUF_INT64: si = (int64_t)ingot_gguf_le64(b); break;
    default: return false;
    }
    *neg = si < 0;
    *mag = si < 0 ? (uint64_t)0 - (uint64_t)si : (uint64_t)si;
    return true;
}

static const gguf_val *key_val(const ingot_gguf *g, const char *key) {
    return val_of(g, ingot_gguf_find_key(g, key));
}

static bool get_int(const ingot_gguf *g, const char *key, bool *neg, uint64_t *mag) {
    const gguf_val *v = key_val(g, key);
    return v && val_int(g, v, neg, mag);
}

bool ingot_gguf_get_u32(const ingot_gguf *g, const char *key, uint32_t *out) {
    bool neg;
    uint64_t m;
    if (!get_int(g, key, &neg, &m) || neg || m > UINT32_MAX) return false;
    *out = (uint32_t)m;
    return true;
}

bool ingot_gguf_get_i32(const ingot_gguf *g, const char *key, int32_t *out) {
    bool neg;
    uint64_t m;
    if (!get_int(g, key, &neg, &m) || m > (neg ? (uint64_t)INT32_MAX + 1 : (uint64_t)INT32_MAX))
        return false;
    *out = neg ? (int32_t)(-(int64_t)m) : (int32_t)m;
    return true;
}

bool ingot_gguf_get_u64(const ingot_gguf *g, const char *key, uint64_t *out) {
    bool neg;
    uint64_t m;
    if (!get_int(g, key, &neg, &m) || neg) return false;
    *out = m;
    return true;
}

bool ingot_gguf_get_i64(const ingot_gguf *g, const char *key, int64_t *out) {
    bool neg;
    uint64_t m;
    if (!get_int(g, key, &neg, &m) || m > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
        return false;
    *out = neg ? (m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m) : (int64_t)m;
    return true;
}

bool ingot_gguf_get_f64(const ingot_gguf *g, const char *key, double *out) {
    const gguf_val *v = key_val(g, key);
    if (!v) return false;
    const uint8_t *b = g->buf + v->off;
    if (v->type == INGOT_GGUF_FLOAT32) {
        uint32_t u = ingot_gguf_le32(b);
        float f;
        memcpy(&f, &u, 4);
        *out = f;
        return true;
    }
    if (v->type == INGOT_GGUF_FLOAT64) {
        uint64_t u = ingot_gguf_le64(b);
        memcpy(out, &u, 8);
        return true;
    }
    return false;
}

bool ingot_gguf_get_f32(const ingot_gguf *g, const char *key, float *out) {
    double d;
    if (!ingot_gguf_get_f64(g, key, &d)) return false;
    *out = (float)d;
    return true;
}

bool ingot_gguf_get_bool(const ingot_gguf *g, const char *key, bool *out) {
    const gguf_val *v = key_val(g, key);
    if (!v || v->type != INGOT_GGUF_BOOL) return false;
    *out = g->buf[v->off] != 0;
    return true;
}

const char *ingot_gguf_get_str(const ingot_gguf *g, const char *key) {
    const gguf_val *v = key_val(g, key);
    return v && v->type == INGOT_GGUF_STRING ? v->str : NULL;
}

static const gguf_val *arr_of(const ingot_gguf *g, int64_t kid) {
    const gguf_val *v = val_of(g, kid);
    return v && v->type == INGOT_GGUF_ARRAY ? v : NULL;
}

ingot_gguf_vtype ingot_gguf_arr_type(const ingot_gguf *g, int64_t kid) {
    const gguf_val *v = arr_of(g, kid);
    return v ? v->elem_type : (ingot_gguf_vtype)-1;
}

uint64_t ingot_gguf_arr_n(const ingot_gguf *g, int64_t kid) {
    const gguf_val *v = arr_of(g, kid);
    return v ? v->n : 0;
}

const void *ingot_gguf_arr_data(const ingot_gguf *g, int64_t kid) {
    const gguf_val *v = arr_of(g, kid);
    return v && ingot_gguf_vtype_size(v->elem_type) ? g->buf + v->off : NULL;
}

bool ingot_gguf_arr_get_i64(const ingot_gguf *g, int64_t kid, uint64_t i, int64_t *out) {
    const gguf_val *v = arr_of(g, kid);
    if (!v || i >= v->n) return false;
    size_t sz = ingot_gguf_vtype_size(v->elem_type);
    const uint8_t *b = g->buf + v->off + i * sz;
    switch (v->elem_type) {
    case INGOT_GGUF_UINT8: *out = b[0]; return true;
    case INGOT_GGUF_INT8: *out = (int8_t)b[0]; return true;
    case INGOT_GGUF_UINT16: *out = ingot_gguf_le16(b); return true;
    case INGOT_GGUF_INT16: *out = (int16_t)ingot_gguf_le16(b); return true;
    case INGOT_GGUF_UINT32: *out = ingot_gguf_le32(b); return true;
    case INGOT_GGUF_INT32: *out = (int32_t)ingot_gguf_le32(b); return true;
    case INGOT_GGUF_INT64: *out = (int64_t)ingot_gguf_le64(b); return true;
    case INGOT_GGUF_UINT64:
        if (ingot_gguf_le64(b) > (uint64_t)INT64_MAX) return false;
        *out = (int64_t)ingot_gguf_le64(b);
        return true;
    default: return false;
    }
}

bool ingot_gguf_arr_get_f32(const ingot_gguf *g, int64_t kid, uint64_t i, float *out) {
    const gguf_val *v = arr_of(g, kid);
    if (!v || i >= v->n) return false;
    if (v->elem_type == INGOT_GGUF_FLOAT32) {
        uint32_t u = ingot_gguf_le32(g->buf + v->off + i * 4);
        memcpy(out, &u, 4);
        return true;
    }
    if (v->elem_type == INGOT_GGUF_FLOAT64) {
        uint64_t u = ingot_gguf_le64(g->buf + v->off + i * 8);
        double d;
        memcpy(&d, &u, 8);
        *out = (float)d;
        return true;
    }
    return false;
}

const char *ingot_gguf_arr_str(const ingot_gguf *g, int64_t kid, uint64_t i, uint64_t *len) {
    const gguf_val *v = arr_of(g, kid);
    if (!v || v->elem_type != INGOT_GGUF_STRING || i >= v->n) return NULL;
    const uint8_t *p = g->buf + v->str_offs[i];
    if (len) *len = ingot_gguf_le64(p);
    return (const char *)p + 8;
}

int64_t ingot_gguf_arr_sub(const ingot_gguf *g, int64_t kid, uint64_t i) {
    const gguf_val *v = arr_of(g, kid);
    if (!v || v->elem_type != INGOT_GGUF_ARRAY || i >= v->n) return -1;
    return g->n_kv + v->first_sub + (int64_t)i;
}

int64_t ingot_gguf_n_tensors(const ingot_gguf *g) { return g->n_tensors; }

const ingot_gguf_tensor *ingot_gguf_tensor_at(const ingot_gguf *g, int64_t i) {
    return i >= 0 && i < g->n_tensors ? &g->tensors[i].t : NULL;
}

const ingot_gguf_tensor *ingot_gguf_find_tensor(const ingot_gguf *g, const char *name) {
    if (!g || !name) return NULL;
    return ingot_gguf_tensor_at(g, ingot_gguf_index_find(g, true, name));
}
