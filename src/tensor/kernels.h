/* The hot kernels of the matmul, per instruction set, behind one table:
 * the dot product of a weight row with one activation row (vec_dot), with
 * up to four activation rows at once (vec_dot_n: the weight block is
 * unpacked once and reused, which is what makes prompt processing fast),
 * and the quantizers that turn float activations into each weight type's
 * vec_dot_type. The set is chosen once per process from the CPU's
 * features (ingot_kernels_get); the scalar reference set (the oracle of
 * the tests) is always built. Every kernel is a pure function. */
#ifndef INGOT_TENSOR_KERNELS_H
#define INGOT_TENSOR_KERNELS_H
#include <stddef.h>
#include <stdint.h>

#include "tensor/pack.h"
#include "tensor/types.h"

/* Most activation rows one vec_dot_n or gemm call takes (the avx512 set
 * keeps 2 x 8 pairs of the symmetric 32-block types in registers; the
 * other kernels walk the activation rows 4 at a time). */
#define INGOT_KERNELS_MAX_NY 8
/* Most weight rows one gemm call takes. The SIMD sets keep 2 x 4 or 1 x 4
 * pairs (2 x 8 in places) in registers and walk the rest of a call's
 * pairs in such tiles. */
#define INGOT_KERNELS_MAX_NX 4

/* s[j] = dot(x, y + j*y_stride) for j < ny (1 <= ny <= INGOT_KERNELS_MAX_NY):
 * x is one weight row of n elements, y points at ny activation rows in the
 * weight type's vec_dot_type, y_stride bytes apart. s[j] is bit-identical
 * to vec_dot(n, &s[j], x, y + j*y_stride) of the same set, so results
 * never depend on how tokens are batched. */
typedef void (*ingot_vec_dot_n_fn)(int64_t n, float *s, const void *x, const void *y,
                                   size_t y_stride, int ny);

/* s[i*ld + j] = dot(x + i*x_stride, y + j*y_stride) for i < nx weight rows
 * (1..INGOT_KERNELS_MAX_NX) and j < ny activation rows (1..
 * INGOT_KERNELS_MAX_NY): a register-blocked tile of the matmul, each
 * weight block unpacked once for all activation rows and each activation
 * block loaded once for all weight rows. Every s[i*ld + j] is
 * bit-identical to vec_dot(n, ., x + i*x_stride, y + j*y_stride) of the
 * same set. */
typedef void (*ingot_gemm_fn)(int64_t n, float *s, size_t ld, const void *x, size_t x_stride,
                              int nx, const void *y, size_t y_stride, int ny);

/* A whole panel of the matmul: s[i*sx + j*sy] = dot(x + i*x_stride,
 * y + j*y_stride) for every i < nx weight rows and j < ny activation rows
 * (any nx, ny >= 1; the strides sx, sy of the output are in floats, so the
 * caller picks weight-row-major (sx = ld, sy = 1) or token-major (sx = 1,
 * sy = ldy) output). For sets whose kernels need larger tiles than gemm
 * passes (amx: 16 x 16) and whose set-up (repacking weights, transposing
 * activations) pays only over many rows: worth calling when ny is at
 * least ~16 (see docs/KERNELS.md). Every result is bit-identical to
 * vec_dot of the same set. NULL where a set has none; then use gemm. */
typedef void (*ingot_gemm_panel_fn)(int64_t n, float *s, size_t sx, size_t sy, const void *x,
                                    size_t x_stride, int64_t nx, const void *y, size_t y_stride,
                                    int64_t ny);

/* Packed weights (tensor/pack.h): y[t*ldy + i] = packed dot of row i of
 * the ngroups groups of 16 rows at w (i < 16 * ngroups) with activation
 * row t (t < ny, any ny >= 1; rows act_row bytes apart, in the type's
 * vec_dot_type). Bit-identical to ingot_pack_gemm_ref in every set. */
typedef void (*ingot_packed_gemm_fn)(int64_t n, const void *w, int64_t ngroups, const void *act,
                                     size_t act_row, int64_t ny, float *y, size_t ldy);

/* Writes activation row t (Q8_0, pa->nb blocks) into pa. Rows are
 * independent: threads may write different rows at once. */
typedef void (*ingot_packed_act_row_fn)(const void *row, int64_t t, const ingot_packed_act *pa);
/* As ingot_packed_gemm_fn, for all pa->rows activation rows of pa (n =
 * 32 * pa->nb). Bit-identical to ingot_pack_gemm_ref. */
typedef void (*ingot_packed_gemm_act_fn)(int64_t n, const void *w, int64_t ngroups, const ingot_packed_act *pa,
                                         float *y, size_t ldy);

typedef struct ingot_kernels {
    const char *isa; /* "amx", "avx512", "avxvnni", "avx2", "neon", "ref" */
    /* Indexed by weight type; same contract as the type traits' vec_dot
     * (x = weight row, y = activations in vec_dot_type, n a multiple of
     * the block size). Quantized activations must lie in [-127, 127], as
     * quantize_act produces them. NULL for types that are never weights
     * (Q8_1, Q8_K) and unknown ids. */
    ingot_vec_dot_fn vec_dot[INGOT_TYPE_COUNT];
    ingot_vec_dot_n_fn vec_dot_n[INGOT_TYPE_COUNT];
    ingot_gemm_fn gemm[INGOT_TYPE_COUNT];
    /* Indexed by vec_dot_type (F32, F16, BF16, Q8_0, Q8_1, Q8_K): float
     * activations -> that type, bit-identical across sets for finite
     * inputs. Q8_0/Q8_1 use scale 127/amax and round half to even (as
     * llama.cpp's run-time activation quantizers do, unlike the reference
     * weight quantizer); Q8_K is ingot_q8_k_from_float; F16/BF16 round to
     * nearest even. */
    ingot_from_float_fn quantize_act[INGOT_TYPE_COUNT];
    /* Indexed by weight type; NULL except where a set has panel kernels
     * (amx: Q4_0, Q5_0, Q8_0, IQ4_NL). */
    ingot_gemm_panel_fn gemm_panel[INGOT_TYPE_COUNT];
    /* Indexed by weight type; NULL where the set has no packed kernel for
     * it. Weights are packed at load time only for types whose entry is
     * set in the chosen set (ref: the scalar oracle, for tests). */
    ingot_packed_gemm_fn packed_gemm[INGOT_TYPE_COUNT];
    /* Indexed by weight type; NULL where the set reads activations as
     * they are. Set only together with packed_act_row. */
    ingot_packed_gemm_act_fn packed_gemm_act[INGOT_TYPE_COUNT];
    ingot_packed_act_row_fn packed_act_row;
} ingot_kernels;

/* The best set for this CPU, chosen on first call and then constant.
 * Environment INGOT_KERNELS=ref (or avx2, neon) forces a set; a set this
 * CPU cannot run falls back to the best available. */
const ingot_kernels *ingot_kernels_get(void);
/* The scalar reference set (always available). */
const ingot_kernels *ingot_kernels_ref(void);
/* The set of a named instruction set ("ref", "avx2", "neon"), or NULL if
 * it is not built for this architecture or this CPU lacks it. */
const ingot_kernels *ingot_kernels_for(const char *isa);

/* Fillers of the per-ISA files: overwrite the entries they implement
 * (the table starts as a copy of the reference set). Only called when
 * the CPU has the features; defined only on their architecture. */
void ingot_kernels_fill_avx2(ingot_kernels *k);
void ingot_kernels_fill_avxvnni(ingot_kernels *k);
void ingot_kernels_fill_avx512(ingot_kernels *k);
/* Also needs ingot_amx_enable() to have succeeded. */
void ingot_kernels_fill_amx(ingot_kernels *k);
void ingot_kernels_fill_neon(ingot_kernels *k);
/* AMX tile configurations are per thread and differ between the kernel
 * files that use tiles: each loads its own when this is not its id. */
extern _Thread_local int ingot_amx_tile_owner;
enum { INGOT_AMX_OWNER_PANEL = 1, INGOT_AMX_OWNER_PACKED = 2 };
void ingot_pack_fill_amx(ingot_kernels *k);
/* Packed kernels (tensor/pack_*.c), called by the fillers of their set. */
void ingot_pack_fill_avx512(ingot_kernels *k);
void ingot_pack_fill_avx2(ingot_kernels *k);
void ingot_pack_fill_avxvnni(ingot_kernels *k);
/* The K-quants' packed kernels (tensor/pack_k_avx512.c, pack_k_avx2.c),
 * called by ingot_pack_fill_avx512 and ingot_kernels_fill_avx2. */
void ingot_pack_k_fill_avx512(ingot_kernels *k);
void ingot_pack_k_fill_avx2(ingot_kernels *k);
#endif
