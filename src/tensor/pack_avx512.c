/* AVX-512 (BW, VNNI) kernels of the packed 32-element block types (see
 * pack.h): one 64-byte vector holds four weights of sixteen rows, so a
 * vpdpbusd against four broadcast activation bytes advances sixteen
 * output rows at once and no horizontal sum is ever needed. Per block:
 * eight vpdpbusd per activation row (started from -offset * sum(y)), one
 * conversion, one product of the scales and one FMA — the float
 * operations of ingot_pack_gemm_ref in the same order, so results are
 * bit-identical to it. Up to 8 activation rows share each unpacked block.
 * Compiled to nothing off x86_64; only called when the CPU has the
 * extensions (kernels.c checks). */
#include "tensor/kernels.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#include "tensor/pack.h"
#include "tensor/pack_avx512.h"
#include "tensor/quants.h"

/* Activation blocks whose sums and scales are prepared at once. */
#define PK_CHUNK 32

/* The 64-lane vector u (weights 4g..4g+3 of 16 rows, unsigned) of one
 * packed block, g = 0..7. */
PK_INLINE __m512i unpack1(ingot_type type, const uint8_t *blk, int g) {
    const uint8_t *qs = blk + 32;
    if (type == INGOT_TYPE_Q8_0) return _mm512_loadu_si512(qs + 64 * g);
    const __m512i m4 = _mm512_set1_epi8(15);
    const __m512i v = _mm512_loadu_si512(qs + 64 * (g & 3));
    __m512i u = _mm512_and_si512(g < 4 ? v : _mm512_srli_epi16(v, 4), m4);
    if (type == INGOT_TYPE_Q5_0) {
        uint64_t bits;
        memcpy(&bits, qs + 256 + 8 * g, 8);
        u = _mm512_mask_add_epi8(u, _cvtu64_mask64(bits), u, _mm512_set1_epi8(16));
    }
    return u;
}

static size_t pk_block_bytes(ingot_type type) {
    return type == INGOT_TYPE_Q4_0 ? sizeof(ingot_pack_q4_0)
         : type == INGOT_TYPE_Q5_0 ? sizeof(ingot_pack_q5_0)
                                   : sizeof(ingot_pack_q8_0);
}

/* Sum of the 32 quants of an activation block. */
PK_INLINE int32_t act_sum32(__m256i q) {
    const __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);
    const __m256i s32 = _mm256_madd_epi16(s16, _mm256_set1_epi16(1));
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
    return _mm_cvtsi128_si32(h);
}

/* NT activation rows (1..8) against one group of 16 rows, blocks
 * [b0, b1), from the interleaved copy of packed_gemm: block b of row j of
 * the tile is at aq + ((b - b0) * NT + j) * 32, its -offset * sum(y) and
 * fp32 scale at ys/dys[(b - b0) * NT + j]. Every address of the inner
 * loop is then one pointer plus a constant; with the rows' own addresses
 * GCC kept 64 offsets on the stack and reloaded one per vpdpbusd, and the
 * loads, not the dot products, set the pace. The running sums start at 0
 * when b0 == 0, else continue from y. */
PK_INLINE void tile(ingot_type type, const int NT, const uint8_t *blk, const uint8_t *aq, int64_t b0,
                    int64_t b1, const int32_t *ys, const float *dys, float *y, size_t ldy, const uint8_t *pf) {
    const size_t bb = pk_block_bytes(type);
    __m512 acc[8];
    for (int t = 0; t < NT; t++) acc[t] = b0 ? _mm512_loadu_ps(y + (size_t)t * ldy) : _mm512_setzero_ps();
    for (int64_t b = b0; b < b1; b++, blk += bb, aq += 32 * NT, ys += NT, dys += NT) {
        if (NT == 1) pk_prefetch(blk, bb);
        else if (pf) {
            pk_prefetch_l2(pf, bb);
            pf += bb;
        }
        /* the NT sums are independent chains, interleaved so that the
         * dot-product units never wait on one of them (two chains per row
         * measured no faster) */
        __m512i s[8];
        PK_UNROLL(8) for (int t = 0; t < NT; t++) s[t] = _mm512_set1_epi32(ys[t]);
        PK_UNROLL(8) for (int q = 0; q < 8; q++) {
            const __m512i u = unpack1(type, blk, q);
            PK_UNROLL(8) for (int t = 0; t < NT; t++) s[t] = dpbusd_bcst(s[t], u, aq + 32 * t + 4 * q);
        }
        const __m512 dx = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)blk));
        PK_UNROLL(8) for (int t = 0; t < NT; t++) {
            const __m512 sc = _mm512_mul_ps(dx, _mm512_set1_ps(dys[t]));
            acc[t] = _mm512_fmadd_ps(sc, _mm512_cvtepi32_ps(s[t]), acc[t]);
        }
    }
    for (int t = 0; t < NT; t++) _mm512_storeu_ps(y + (size_t)t * ldy, acc[t]);
}

/* Activation rows that share one pass over a group's weights: a group
 * (16 rows x PK_CHUNK blocks) is read from memory once and then from L1
 * for every tile of these, instead of streaming the whole weight once per
 * 8 activation rows. */
#define PK_TT 64
_Static_assert(PK_TT == INGOT_PACKED_ACT_TILE, "tiles of ingot_packed_act");


/* Every group against the nt (<= PK_TT) activation rows of one tile,
 * blocks [b0, b1): the activations of sub-tile (t, NT) start at element
 * t * S + bo * NT of aq (32 bytes each), ys and dys, and run on block by
 * block (the layout of tile()). S is the arrays' row stride in blocks,
 * bo 0 when they start at block b0, b0 when they start at block 0. */
PK_INLINE void run_chunk(ingot_type type, int64_t n, const void *w, int64_t ngroups, int nt, int64_t b0, int64_t b1,
                         const uint8_t *aq, const int32_t *ys, const float *dys, size_t S, size_t bo, float *y0,
                         size_t ldy) {
    const size_t bb = pk_block_bytes(type), gb = (size_t)(n / 32) * bb;
    for (int64_t g = 0; g < ngroups; g++) {
        const uint8_t *blk = (const uint8_t *)w + (size_t)g * gb + (size_t)b0 * bb;
        /* the first tile asks for the next group's blocks (see
         * pk_prefetch_l2) */
        const uint8_t *nxt = g + 1 < ngroups ? blk + gb : NULL;
        float *yg = y0 + 16 * g;
#define PK_RUN(t, NT)                                                                                 \
    do {                                                                                              \
        const size_t i0_ = (size_t)(t) * S + bo * (NT);                                               \
        tile(type, NT, blk, aq + 32 * i0_, b0, b1, ys + i0_, dys + i0_, yg + (size_t)(t) * ldy, ldy, \
             (t) == 0 ? nxt : NULL);                                                                  \
    } while (0)
        PK_TILES(nt, PK_RUN);
#undef PK_RUN
    }
}

/* Blocks per chunk: a single tile has no other tile to share the group's
 * weights with in L1, so it takes long chunks (generation then streams
 * each group's weights in one run, and tile()'s prefetch stays within
 * it) instead of a jump every 9 KiB; `most` is what the caller's buffers
 * hold. */
PK_INLINE int64_t pk_chunk_blocks(int nt, int64_t most) { return nt <= 8 ? most : PK_CHUNK; }

/* Activation rows as they are: each chunk's are first copied into the
 * layout of ingot_packed_act (for this chunk only). */
PK_INLINE void packed_gemm(ingot_type type, int64_t n, const void *w, int64_t ngroups, const void *act,
                           size_t act_row, int64_t ny, float *y, size_t ldy) {
    const int off = type == INGOT_TYPE_Q4_0 ? 8 : type == INGOT_TYPE_Q5_0 ? 16 : 128;
    const int64_t nb = n / 32;
    /* the chunk's activations, tile by tile (see tile()): 64 KiB */
    _Alignas(64) uint8_t aq[PK_TT * PK_CHUNK * 32];
    int32_t ys[PK_TT * PK_CHUNK];
    float dys[PK_TT * PK_CHUNK];
    for (int64_t t0 = 0; t0 < ny; t0 += PK_TT) {
        const int nt = ny - t0 < PK_TT ? (int)(ny - t0) : PK_TT;
        const uint8_t *a0 = (const uint8_t *)act + (size_t)t0 * act_row;
        float *y0 = y + (size_t)t0 * ldy;
        const int64_t cb = pk_chunk_blocks(nt, PK_TT * PK_CHUNK / nt);
        for (int64_t b0 = 0; b0 < nb; b0 += cb) {
            const int64_t b1 = nb - b0 < cb ? nb : b0 + cb, nbc = b1 - b0;
#define PK_COPY(t, NT)                                                                           \
    for (int j = 0; j < (NT); j++) {                                                             \
        const ingot_block_q8_0 *a = (const ingot_block_q8_0 *)(a0 + (size_t)((t) + j) * act_row); \
        const ingot_block_q8_0 *an = (const ingot_block_q8_0 *)((const uint8_t *)a + 2 * act_row); \
        for (int64_t b = b0; b < b1; b++) {                                                      \
            const size_t i = (size_t)((t) * nbc + (b - b0) * (NT) + j);                          \
            /* the row after next (prefetches never fault) */                                   \
            _mm_prefetch((const char *)&an[b], _MM_HINT_T0);                                     \
            const __m256i q = _mm256_loadu_si256((const __m256i *)a[b].qs);                      \
            _mm256_store_si256((__m256i *)(aq + 32 * i), q);                                     \
            ys[i] = -off * act_sum32(q);                                                         \
            dys[i] = _cvtsh_ss(a[b].d);                                                          \
        }                                                                                        \
    }
            PK_TILES(nt, PK_COPY);
#undef PK_COPY
            run_chunk(type, n, w, ngroups, nt, b0, b1, aq, ys, dys, (size_t)nbc, 0, y0, ldy);
        }
    }
}

/* Activations already in that layout (ingot_packed_act), for the whole
 * product: nothing to copy. */
PK_INLINE void packed_gemm_act(ingot_type type, int64_t n, const void *w, int64_t ngroups, const ingot_packed_act *pa,
                               float *y, size_t ldy) {
    const int64_t nb = pa->nb, ny = pa->rows;
    const int32_t *ysk = ingot_packed_act_ys(pa, type);
    for (int64_t t0 = 0; t0 < ny; t0 += PK_TT) {
        const int nt = ny - t0 < PK_TT ? (int)(ny - t0) : PK_TT;
        const size_t e0 = (size_t)t0 * (size_t)nb;
        const int64_t cb = pk_chunk_blocks(nt, nb);
        for (int64_t b0 = 0; b0 < nb; b0 += cb) {
            const int64_t b1 = nb - b0 < cb ? nb : b0 + cb;
            run_chunk(type, n, w, ngroups, nt, b0, b1, pa->q + 32 * e0, ysk + e0, pa->d + e0, (size_t)nb,
                      (size_t)b0, y + (size_t)t0 * ldy, ldy);
        }
    }
}

#define PK_ENTRY(name, id)                                                                     \
    static void name(int64_t n, const void *w, int64_t ngroups, const void *act, size_t act_row, \
                     int64_t ny, float *y, size_t ldy) {                                       \
        packed_gemm(INGOT_TYPE_##id, n, w, ngroups, act, act_row, ny, y, ldy);                 \
    }
PK_ENTRY(pk_q4_0, Q4_0)
PK_ENTRY(pk_q5_0, Q5_0)
PK_ENTRY(pk_q8_0, Q8_0)

#define PK_ENTRY_ACT(name, id)                                                                           \
    static void name(int64_t n, const void *w, int64_t ngroups, const ingot_packed_act *pa, float *y, \
                     size_t ldy) {                                                                     \
        packed_gemm_act(INGOT_TYPE_##id, n, w, ngroups, pa, y, ldy);                                   \
    }
PK_ENTRY_ACT(pka_q4_0, Q4_0)
PK_ENTRY_ACT(pka_q5_0, Q5_0)
PK_ENTRY_ACT(pka_q8_0, Q8_0)

void ingot_pack_fill_avx512(ingot_kernels *k) {
    k->packed_gemm[INGOT_TYPE_Q4_0] = pk_q4_0;
    k->packed_gemm[INGOT_TYPE_Q5_0] = pk_q5_0;
    k->packed_gemm[INGOT_TYPE_Q8_0] = pk_q8_0;
    k->packed_gemm_act[INGOT_TYPE_Q4_0] = pka_q4_0;
    k->packed_gemm_act[INGOT_TYPE_Q5_0] = pka_q5_0;
    k->packed_gemm_act[INGOT_TYPE_Q8_0] = pka_q8_0;
    /* packed_act_row: the avx2 set's (this set starts as a copy of it) */
    ingot_pack_k_fill_avx512(k);
}
#endif
