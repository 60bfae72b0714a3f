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
 *   K-quants (Q4_K, Q6_K; activations Q8_K with float dy and the sums
 *   S16[i] of its 16-element runs): per super-block b, in order,
 *     Q4_K: isum = sum_j sc_j * raw_j           (j = 8 sub-blocks of 32)
 *           msum = sum_j m_j * (S16[2j] + S16[2j+1])
 *           acc  = fmaf(dx * dy, (float)isum, acc)
 *           acc  = fmaf(-(dmin * dy), (float)msum, acc)
 *     Q6_K: isum = sum_j sc_j * (raw_j - 32 * S16[j])  (16 sub-blocks of 16)
 *           acc  = fmaf(dx * dy, (float)isum, acc)
 *   where raw_j = sum of q * y over the sub-block (q the stored unsigned
 *   quant: 0..15, 0..63) and every sum is exact in int32 (see pack_k.c).
 * It differs from the unpacked vec_dot's order only in the last bits.
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
 * 128) and isum = sum(u * y) - offset * sum(y).
 *
 * K-quants, one packed block per super-block of 256 weights, exactly as
 * many bytes as the 16 rows' blocks (generation reads as many bytes as
 * unpacked; lanes (r,e) as above):
 *   Q4_K (2304 bytes = 16 * 144): uint16 d[16]; uint16 dmin[16];
 *         uint8 scales[3][64]   lane (r,e) of scales[k] = byte 4k+e of row
 *                               r's 12 scale bytes (the 6-bit scales and
 *                               mins stay in the Q4_K bit order: as bytes
 *                               they would take 16 bytes a row, 64 more a
 *                               block; decoding them costs ~25 vector ops
 *                               per block, shared by all activation rows)
 *         uint8 qs[32][64]      lane (r,e) of qs[c] = byte 4c+e of row r's
 *                               qs: low nibble = weight 4(c%8)+e of
 *                               sub-block 2(c/8), high nibble = the same
 *                               weight of sub-block 2(c/8)+1
 *   Q6_K (3360 bytes = 16 * 210): sub-block j (16 weights) of 16 rows in
 *         192 bytes q[j][3][64], 4 weights per byte triple: lane (r,e) of
 *         q[j][i] (i = 0, 1, 2) = q6 of weight 4i+e in bits 0-5 and bits
 *         2i..2i+1 of the q6 of weight 12+e in bits 6-7 (so weights 12..15
 *         are (q[j][0] >> 6) | (q[j][1] >> 6) << 2 | (q[j][2] >> 6) << 4);
 *         then int8 scales[16][16] (scales[j][r]); then uint16 d[16]. A
 *         block with an odd index in its group stores d first (d, q,
 *         scales): 3360 is not a multiple of 64, and this keeps every
 *         64-byte vector aligned in groups that start aligned.
 *         Stored q6 = value + 32. */
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

typedef struct ingot_pack_q4_k {
    uint16_t d[16];
    uint16_t dmin[16];
    uint8_t scales[3][64];
    uint8_t qs[32][64];
} ingot_pack_q4_k;
/* Bytes of a packed Q6_K block; its parts are at the offsets below. */
#define INGOT_PACK_Q6_K_BYTES 3360
/* Offsets of q, scales and d in packed Q6_K block b of a group. */
static inline size_t ingot_pack_q6_k_q(int64_t b) { return b & 1 ? 32 : 0; }
static inline size_t ingot_pack_q6_k_scales(int64_t b) { return (b & 1 ? 32 : 0) + 3072; }
static inline size_t ingot_pack_q6_k_d(int64_t b) { return b & 1 ? 0 : 3328; }

/* Activations laid out once per product for the packed kernels of a set
 * that reads them so (AVX-512's 32-element block types; without it they
 * copy them into this order for every chunk of weights they take). The
 * rows are cut into tiles of INGOT_PACKED_ACT_TILE and each tile into
 * sub-tiles of 8 rows, then 4, 2 and 1 (ingot_packed_act_place); block b
 * of row j of a sub-tile of nt rows starting at row s is element
 * s * nb + b * nt + j of every array, so a kernel walking a sub-tile
 * block by block reads one contiguous run. */
#define INGOT_PACKED_ACT_TILE 64
typedef struct ingot_packed_act {
    uint8_t *q;     /* [rows * nb][32]: the Q8_0 quants */
    int32_t *ys[3]; /* -8, -16, -128 times the block's sum of quants (the
                       offsets of Q4_0, Q5_0, Q8_0's stored weights) */
    float *d;       /* the Q8_0 scale as fp32 */
    int64_t rows, nb;
} ingot_packed_act;
/* The sub-tile holding row t in a layout of `rows` rows: its first row
 * and its number of rows (8, 4, 2 or 1). */
static inline void ingot_packed_act_place(int64_t rows, int64_t t, int64_t *first, int *nt) {
    const int64_t t0 = t - t % INGOT_PACKED_ACT_TILE, left = rows - t0;
    const int n = left < INGOT_PACKED_ACT_TILE ? (int)left : INGOT_PACKED_ACT_TILE;
    const int r = (int)(t - t0), full = n & ~7;
    *first = t0 + (r & ~7);
    *nt = 8;
    if (r < full) return;
    int s = full;
    for (int size = 4; size >= 1; size >>= 1)
        if (n & size) {
            if (r < s + size) {
                *first = t0 + s;
                *nt = size;
                return;
            }
            s += size;
        }
}
/* The ys array of pa that a weight type's offset uses (Q4_0: -8, Q5_0:
 * -16, Q8_0: -128). */
static inline const int32_t *ingot_packed_act_ys(const ingot_packed_act *pa, ingot_type type) {
    return pa->ys[type == INGOT_TYPE_Q4_0 ? 0 : type == INGOT_TYPE_Q5_0 ? 1 : 2];
}
/* Bytes of the arrays of a layout of rows x nb blocks, and the layout
 * itself on such a buffer (64-byte aligned). */
size_t ingot_packed_act_bytes(int64_t rows, int64_t nb);
void ingot_packed_act_init(ingot_packed_act *pa, void *buf, int64_t rows, int64_t nb);

/* The scalar packed kernel, the oracle of every set's packed_gemm:
 * y[t * ldy + i] = packed dot of row i (< 16 * ngroups) of the groups at w
 * with activation row t (< ny), act rows act_row bytes apart in the
 * type's vec_dot_type. */
void ingot_pack_gemm_ref(ingot_type type, int64_t n, const void *w, int64_t ngroups, const void *act,
                         size_t act_row, int64_t ny, float *y, size_t ldy);
#endif
