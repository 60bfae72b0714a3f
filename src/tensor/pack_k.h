/* Internal to tensor/: the K-quant half of the packed layouts (pack.c
 * dispatches Q4_K and Q6_K here; layouts and order are in pack.h). */
#ifndef INGOT_TENSOR_PACK_K_H
#define INGOT_TENSOR_PACK_K_H
#include <stddef.h>
#include <stdint.h>

#include "tensor/types.h"

int ingot_pack_k_supported(ingot_type type);
/* Bytes of one packed block (one super-block of 16 rows). */
size_t ingot_pack_k_block_bytes(ingot_type type);
/* Super-block b of the 16 rows at `rows` into one packed block; b is also
 * the block's index in its group (Q6_K's part order depends on it). */
void ingot_pack_k_block(ingot_type type, const char *rows, size_t row_bytes, int64_t b, uint8_t *dst);
void ingot_pack_k_row_to_float(ingot_type type, int64_t ne0, const void *group, int r, float *out);
void ingot_pack_k_gemm_ref(ingot_type type, int64_t n, const void *w, int64_t ngroups, const void *act,
                           size_t act_row, int64_t ny, float *y, size_t ldy);
#endif
