/* GGUF files (versions 2 and 3): a validating reader over a read-only
 * mapping, and a writer. Every length, count, offset and dimension is
 * checked against the file size before use; errors name the file, the
 * field and the byte offset. Tensor data is never copied: tensor->data
 * points into the mapping, which lives until ingot_gguf_close. */
#ifndef INGOT_FORMAT_GGUF_H
#define INGOT_FORMAT_GGUF_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingot.h"
#include "tensor/types.h"

typedef enum ingot_gguf_vtype {
    INGOT_GGUF_UINT8 = 0, INGOT_GGUF_INT8 = 1, INGOT_GGUF_UINT16 = 2, INGOT_GGUF_INT16 = 3,
    INGOT_GGUF_UINT32 = 4, INGOT_GGUF_INT32 = 5, INGOT_GGUF_FLOAT32 = 6, INGOT_GGUF_BOOL = 7,
    INGOT_GGUF_STRING = 8, INGOT_GGUF_ARRAY = 9, INGOT_GGUF_UINT64 = 10, INGOT_GGUF_INT64 = 11,
    INGOT_GGUF_FLOAT64 = 12
} ingot_gguf_vtype;

#define INGOT_GGUF_MAX_DIMS 4
#define INGOT_GGUF_DEFAULT_ALIGNMENT 32

typedef struct ingot_gguf_tensor {
    const char *name;          /* NUL-terminated, owned by the gguf handle */
    ingot_type type;
    int n_dims;
    int64_t ne[INGOT_GGUF_MAX_DIMS]; /* ne[0] = row length; unused dims are 1 */
    uint64_t offset;           /* relative to the data section */
    size_t nbytes;
    const void *data;          /* into the mapping */
} ingot_gguf_tensor;

typedef struct ingot_gguf ingot_gguf;

/* Opens and validates a file. use_mmap=false reads it into memory instead. */
ingot_status ingot_gguf_open(const char *path, bool use_mmap, ingot_gguf **out, ingot_error *err);
void ingot_gguf_close(ingot_gguf *g);

const char *ingot_gguf_path(const ingot_gguf *g);
uint32_t ingot_gguf_version(const ingot_gguf *g);
uint64_t ingot_gguf_file_size(const ingot_gguf *g);
/* Whether the tensor data is a read-only file mapping (not a heap copy):
 * pages of it may then be dropped with madvise(MADV_DONTNEED) and are
 * read back from the file if touched again. */
bool ingot_gguf_is_mapped(const ingot_gguf *g);
/* The whole file mapping (false if the file was read into memory). */
bool ingot_gguf_mapping(const ingot_gguf *g, const void **base, size_t *len);
/* Copies len bytes of the file that start at src (a pointer into the data,
 * e.g. a tensor's) to dst. From a mapping it reads the file (pread) instead
 * of touching the mapped pages: the kernel maps whole large folios around
 * a faulting address, so a few random reads from a mapping can make
 * megabytes resident. Falls back to memcpy if the read fails. */
void ingot_gguf_read(const ingot_gguf *g, const void *src, size_t len, void *dst);
size_t ingot_gguf_alignment(const ingot_gguf *g);
/* File offset of the tensor data section (tensor offsets are relative to it). */
uint64_t ingot_gguf_data_offset(const ingot_gguf *g);

/* Metadata. Keys are looked up by exact name; index -1 = absent. */
int64_t ingot_gguf_n_kv(const ingot_gguf *g);
int64_t ingot_gguf_find_key(const ingot_gguf *g, const char *key);
const char *ingot_gguf_key(const ingot_gguf *g, int64_t kid);
/* Value type of a key (or of an arr_sub id); (ingot_gguf_vtype)-1 if kid is invalid. */
ingot_gguf_vtype ingot_gguf_kv_type(const ingot_gguf *g, int64_t kid);
/* The value's exact GGUF encoding (type id + payload) inside the file, for
 * copying; NULL if kid is not a key. */
const void *ingot_gguf_kv_raw(const ingot_gguf *g, int64_t kid, size_t *len);

/* Typed getters: return false when the key is absent or of an incompatible
 * type (any integer type converts to another if the value fits; float32
 * and float64 convert to each other). */
bool ingot_gguf_get_u32(const ingot_gguf *g, const char *key, uint32_t *out);
bool ingot_gguf_get_i32(const ingot_gguf *g, const char *key, int32_t *out);
bool ingot_gguf_get_u64(const ingot_gguf *g, const char *key, uint64_t *out);
bool ingot_gguf_get_i64(const ingot_gguf *g, const char *key, int64_t *out);
bool ingot_gguf_get_f32(const ingot_gguf *g, const char *key, float *out);
bool ingot_gguf_get_f64(const ingot_gguf *g, const char *key, double *out);
bool ingot_gguf_get_bool(const ingot_gguf *g, const char *key, bool *out);
/* String value, NUL-terminated, owned by g (may contain no NUL inside). */
const char *ingot_gguf_get_str(const ingot_gguf *g, const char *key);

/* Arrays (by key id). Element type ((ingot_gguf_vtype)-1 if kid is not an
 * array); count (0 if not an array); raw little-endian element data for
 * numeric/bool elements (NULL for strings/arrays); i-th string. */
ingot_gguf_vtype ingot_gguf_arr_type(const ingot_gguf *g, int64_t kid);
uint64_t ingot_gguf_arr_n(const ingot_gguf *g, int64_t kid);
const void *ingot_gguf_arr_data(const ingot_gguf *g, int64_t kid);
/* NOTE: arr_data is generally NOT aligned for its element type (it sits
 * wherever the header put it): read it with memcpy, or use these getters.
 * i-th element of a numeric array: any integer element type into i64;
 * float32/float64 elements into a float. False if out of range or the
 * element type does not convert. */
bool ingot_gguf_arr_get_i64(const ingot_gguf *g, int64_t kid, uint64_t i, int64_t *out);
bool ingot_gguf_arr_get_f32(const ingot_gguf *g, int64_t kid, uint64_t i, float *out);
/* i-th string of a string array: pointer into the file (NOT NUL-terminated)
 * and its length; NULL if out of range or not a string array. */
const char *ingot_gguf_arr_str(const ingot_gguf *g, int64_t kid, uint64_t i, uint64_t *len);
/* Nested arrays: the i-th element of an array of arrays, as a key-like id
 * usable with the arr_* functions; -1 if not applicable. */
int64_t ingot_gguf_arr_sub(const ingot_gguf *g, int64_t kid, uint64_t i);

/* Tensors. */
int64_t ingot_gguf_n_tensors(const ingot_gguf *g);
const ingot_gguf_tensor *ingot_gguf_tensor_at(const ingot_gguf *g, int64_t i);
const ingot_gguf_tensor *ingot_gguf_find_tensor(const ingot_gguf *g, const char *name);

/* ---- writer ------------------------------------------------------------ */
typedef struct ingot_gguf_writer ingot_gguf_writer;

ingot_gguf_writer *ingot_gguf_writer_new(void); /* NULL on OOM */
void ingot_gguf_writer_free(ingot_gguf_writer *w);
void ingot_gguf_writer_set_alignment(ingot_gguf_writer *w, size_t alignment);
/* Setters replace an existing key of the same name. Values are copied. */
ingot_status ingot_gguf_writer_set_u32(ingot_gguf_writer *w, const char *key, uint32_t v);
ingot_status ingot_gguf_writer_set_i32(ingot_gguf_writer *w, const char *key, int32_t v);
ingot_status ingot_gguf_writer_set_u64(ingot_gguf_writer *w, const char *key, uint64_t v);
ingot_status ingot_gguf_writer_set_f32(ingot_gguf_writer *w, const char *key, float v);
ingot_status ingot_gguf_writer_set_bool(ingot_gguf_writer *w, const char *key, bool v);
/* Any scalar type t (not STRING/ARRAY); v points to a value of the matching
 * C type (uint8_t, int16_t, float, double, bool, ...). */
ingot_status ingot_gguf_writer_set_scalar(ingot_gguf_writer *w, const char *key, ingot_gguf_vtype t,
                                          const void *v);
ingot_status ingot_gguf_writer_set_str(ingot_gguf_writer *w, const char *key, const char *v);
/* Numeric/bool array of n elements of type t, copied from data. */
ingot_status ingot_gguf_writer_set_arr(ingot_gguf_writer *w, const char *key, ingot_gguf_vtype t,
                                       const void *data, uint64_t n);
ingot_status ingot_gguf_writer_set_arr_str(ingot_gguf_writer *w, const char *key,
                                           const char *const *strs, uint64_t n);
/* Copies key kid (any type, nested arrays included) from a reader. */
ingot_status ingot_gguf_writer_copy_kv(ingot_gguf_writer *w, const ingot_gguf *g, int64_t kid);
/* Adds a tensor; data (nbytes = row_size(type, ne[0]) * rows) is borrowed
 * until ingot_gguf_writer_write returns. */
ingot_status ingot_gguf_writer_add_tensor(ingot_gguf_writer *w, const char *name, ingot_type type,
                                          int n_dims, const int64_t *ne, const void *data);
/* Writes atomically: a temporary file beside path, renamed into place only
 * when complete; on failure nothing is left at path. */
ingot_status ingot_gguf_writer_write(ingot_gguf_writer *w, const char *path, ingot_error *err);
#endif
