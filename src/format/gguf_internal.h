/* Private to the format layer: the reader's in-memory layout, shared by
 * the parser (gguf.c) and the query functions (gguf_get.c), plus the
 * little-endian decoding helpers both use. Not part of any API. */
#ifndef INGOT_FORMAT_GGUF_INTERNAL_H
#define INGOT_FORMAT_GGUF_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/gguf.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ingot's GGUF code hands out raw little-endian data: big-endian hosts are not supported"
#endif

typedef struct gguf_val {
    ingot_gguf_vtype type;
    ingot_gguf_vtype elem_type; /* arrays only */
    uint64_t n;                 /* arrays: element count */
    uint64_t off;               /* scalar payload / array data / string bytes */
    uint64_t len;               /* scalar strings: byte length */
    const char *str;            /* scalar strings: NUL-terminated copy */
    uint64_t *str_offs;         /* string arrays: offset of each length field */
    int64_t first_sub;          /* arrays of arrays: index of element 0 in vals */
} gguf_val;

typedef struct gguf_kv {
    const char *name;
    int64_t val;                /* index into vals */
    uint64_t span_off, span_len; /* type id + payload, for the writer's copy */
} gguf_kv;

typedef struct gguf_tensor {
    ingot_gguf_tensor t;
    uint64_t info_at;           /* file offset of its offset field, for messages */
} gguf_tensor;

typedef struct pool_chunk {
    struct pool_chunk *next;
    size_t used, cap;
    char data[];
} pool_chunk;

typedef struct name_index {
    int64_t *slots; /* -1 = empty */
    size_t cap, n;
} name_index;

struct ingot_gguf {
    char *path;
    uint32_t version;
    const uint8_t *buf;
    uint64_t size;
    bool mapped;
    int fd;                 /* kept open while mapped (ingot_gguf_read); else -1 */
    size_t alignment;
    uint64_t data_offset;
    gguf_kv *kv;
    int64_t n_kv, cap_kv;
    gguf_val *vals;
    int64_t n_vals, cap_vals;
    gguf_tensor *tensors;
    int64_t n_tensors, cap_tensors;
    name_index key_index, tensor_index;
    pool_chunk *pool;
};

static inline uint16_t ingot_gguf_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t ingot_gguf_le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t ingot_gguf_le64(const uint8_t *p) {
    return (uint64_t)ingot_gguf_le32(p) | ((uint64_t)ingot_gguf_le32(p + 4) << 32);
}

/* Bytes of one scalar element; 0 for strings, arrays and invalid ids. */
size_t ingot_gguf_vtype_size(uint32_t t);
/* Index of the key (tensors=false) or tensor named name, or -1. */
int64_t ingot_gguf_index_find(const ingot_gguf *g, bool tensors, const char *name);
#endif
