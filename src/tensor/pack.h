/* Packed weights: the layout the matrix kernels prefer, made once when a
 * model loads. A weight of ne1 rows (a multiple of INGOT_PACK_ROWS) is cut
 * into groups of 16 consecutive rows; within a group the quantized values
 * of the 16 rows are interleaved four weights at a time, so one 64-byte
 * load holds weights k..k+3 of all 16 rows — the operand of one
 * vpdpbusd (16 int32 lanes = 16 rows), the B rows of an AMX tile, and two
 * 256-bit halves for AVX2. A kernel then computes 16 output rows per
 * vector instead of reducing one row horizontally: that is what makes
 * generation bandwidth-bound and prompt processing int8-bound.
 *
 * The packed dot has its own canonical float order, the same in every
 * kernel set that has packed kernels (the scalar reference below
 * included), so batch size, thread count and instruction set never change
 * a result:
 *   32-element block types (Q4_0, Q5_0, Q8_0): per block b, in order,
 *     isum = exact int32 dot of the block;
 *     acc  = fmaf(dx_b * dy_b, (float)isum, acc)   (acc starts at 0)
 * (types added later document theirs in pack.c). It differs from the
 * unpacked vec_dot's order only in the last bits.
 *
 * Layout of one group (16 rows), for each block b of the row in order
 * (the "packed block"; lanes are row r * 4 + e, e = 0..3):
 *   Q4_0: uint16 d[16]; uint8 qs[4][64]      chunk c, lane (r,e): low
 *         nibble = q of weight 4c+e, high nibble = q of weight 16+4c+e
 *         (that is the Q4_0 byte qs[4c+e] of row r); value = q - 8
 *   Q5_0: as Q4_0, then uint64 qh[8]: bit (r*4+e) of qh[g] = 5th bit of
 *         weight 4g+e of row r; value = q - 16
 *   Q8_0: uint16 d[16]; uint8 qs[8][64]      qs[g][(r,e)] = q(4g+e) + 128
 * so every stored weight is unsigned (u = value + offset, offset 8, 16,
 * 128) and isum = sum(u * y) - offset * sum(y). */
#ifndef INGOT_TENSOR_PACK_H
#define INGOT_TENSOR_PACK_H
#include <stddef.h>
#include <stdint.h>

#include "tensor/types.h"

#define INGOT_PACK_ROWS 16

/* Whether `type` has a packed layout at all (kernels may still be missing
 * in a given set: see ingot_kernels.packed_gemm). */
int ingot_pack_supported(ingot_type type);
/* Bytes of one packed group of 16 rows of ne0 weights (0 if unsupported). */
size_t ingot_pack_group_bytes(ingot_type type, int64_t ne0);
/* Packs groups [g0, g1) of a weight whose rows (ne0 weights, row_bytes
 * apart) start at src: group g goes to dst + g * group_bytes. Pure and
 * thread-safe: callers split the groups across threads. */
void ingot_pack_groups(ingot_type type, int64_t ne0, const void *src, size_t row_bytes, int64_t g0,
                       int64_t g1, void *dst);
/* Row r (0..15) of one packed group back to floats (tests, debugging). */
void ingot_pack_row_to_float(ingot_type type, int64_t ne0, const void *group, int r, float *out);

/* Offsets and sizes of the 32-element block types' packed blocks (shared
 * by the kernels of every set). */
typedef struct ingot_pack_q4_0 {
    uint16_t d[16];
    uint8_t qs[4][64];
} ingot_pack_q4_0;
typedef struct ingot_pack_q5_0 {
    uint16_t d[16];
    uint8_t qs[4][64];
    uint64_t qh[8];
} ingot_pack_q5_0;
typedef struct ingot_pack_q8_0 {
    uint16_t d[16];
    uint8_t qs[8][64];
} ingot_pack_q8_0;

/* The scalar packed kernel, the oracle of every set's packed_gemm:
 * y[t * ldy + i] = packed dot of row i (< 16 * ngroups) of the groups at w
 * with activation row t (< ny), act rows act_row bytes apart in the
 * type's vec_dot_type. */
void ingot_pack_gemm_ref(ingot_type type, int64_t n, const void *w, int64_t ngroups, const void *act,
                         size_t act_row, int64_t ny, float *y, size_t ldy);
#endif
