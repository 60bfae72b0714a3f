/* Tensor element types: ids (GGUF/ggml numbering), block layouts and the
 * per-type traits table (dequantize, quantize, dot product). The scalar
 * reference implementations are the oracle for every SIMD kernel. */
#ifndef INGOT_TENSOR_TYPES_H
#define INGOT_TENSOR_TYPES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Numbering is the GGUF file format's (ggml_type); never renumber. */
typedef enum ingot_type {
    INGOT_TYPE_F32 = 0,
    INGOT_TYPE_F16 = 1,
    INGOT_TYPE_Q4_0 = 2,
    INGOT_TYPE_Q4_1 = 3,
    INGOT_TYPE_Q5_0 = 6,
    INGOT_TYPE_Q5_1 = 7,
    INGOT_TYPE_Q8_0 = 8,
    INGOT_TYPE_Q8_1 = 9,
    INGOT_TYPE_Q2_K = 10,
    INGOT_TYPE_Q3_K = 11,
    INGOT_TYPE_Q4_K = 12,
    INGOT_TYPE_Q5_K = 13,
    INGOT_TYPE_Q6_K = 14,
    INGOT_TYPE_Q8_K = 15,
    INGOT_TYPE_IQ4_NL = 20,
    INGOT_TYPE_IQ4_XS = 23,
    INGOT_TYPE_BF16 = 30,
    INGOT_TYPE_COUNT = 40 /* upper bound of ids, not a type */
} ingot_type;

typedef void (*ingot_to_float_fn)(const void *x, float *y, int64_t n);
typedef void (*ingot_from_float_fn)(const float *x, void *y, int64_t n);
/* *s = dot(x[0..n), y[0..n)) where x is of the weight type and y of its
 * vec_dot_type; n is a multiple of both block sizes. */
typedef void (*ingot_vec_dot_fn)(int64_t n, float *s, const void *x, const void *y);

typedef struct ingot_type_traits {
    const char *name;               /* "Q4_K", as llama.cpp spells it */
    int64_t block_size;             /* elements per block */
    size_t type_size;               /* bytes per block */
    bool is_quantized;
    ingot_to_float_fn to_float;     /* always set for supported types */
    ingot_from_float_fn from_float; /* reference quantizer; NULL where none */
    ingot_type vec_dot_type;        /* how activations are stored for vec_dot */
    ingot_vec_dot_fn vec_dot;       /* scalar reference */
} ingot_type_traits;

/* Traits of a supported type, or NULL for an unknown/unsupported id. */
const ingot_type_traits *ingot_type_traits_get(ingot_type t);
/* Name of any id ("F32", "Q4_K", ...), or NULL if unknown. */
const char *ingot_type_name(ingot_type t);
/* Type by name (case-insensitive), or -1. */
int ingot_type_from_name(const char *name);
/* Bytes of a row of n elements (n must be a multiple of the block size). */
size_t ingot_type_row_size(ingot_type t, int64_t n);

/* Half-precision conversions (round to nearest even). */
float ingot_fp16_to_fp32(uint16_t h);
uint16_t ingot_fp32_to_fp16(float f);
float ingot_bf16_to_fp32(uint16_t h);
uint16_t ingot_fp32_to_bf16(float f);
#endif
