/* Attention inner loops over an F16 KV cache: q·k for one key row and
 * o += w * v for one value row, with a scalar reference and per-ISA
 * versions chosen at run time. */
#ifndef INGOT_TENSOR_ATTN_H
#define INGOT_TENSOR_ATTN_H
#include <stdint.h>

typedef struct ingot_attn_kernels {
    /* sum_i q[i] * fp16(k[i]) */
    float (*dot_f16)(const float *q, const uint16_t *k, int n);
    /* o[i] += w * fp16(v[i]) */
    void (*axpy_f16)(float w, const uint16_t *v, float *o, int n);
    const char *isa;
} ingot_attn_kernels;

const ingot_attn_kernels *ingot_attn_kernels_get(void);
const ingot_attn_kernels *ingot_attn_kernels_ref(void);
/* The AVX2+F16C set, or NULL when not compiled in (non-x86 builds). */
const ingot_attn_kernels *ingot_attn_kernels_avx2(void);
#endif
