/* AMX int8 kernels of the packed 32-element block types (see pack.h) for
 * prompt processing: every 16 activation rows x 16 weight rows x one
 * block is one tile product, since the packed layout is already the B
 * operand's (16 rows x 4 bytes per tile row) and the activation blocks
 * load straight into A (16 rows, 32 bytes each, act_row apart).
 *
 * Per block, `tdpbssd` (signed activations x the weights widened back to
 * signed bytes, once per group and call) gives the exact 16 x 16 int32
 * sums of the block; the tile is stored and each activation row's 16
 * lanes are finished on a 512-bit vector exactly as ingot_pack_gemm_ref
 * does (convert, multiply the scales, one FMA into the running sum), so
 * results are bit-identical to the scalar and AVX-512 packed kernels. Four blocks are in flight (four
 * accumulator tiles) so the tile unit and the vector work overlap.
 *
 * Per call: the activations' scales are prepared once, each group's
 * weights are widened to signed bytes once, then every whole 16-row tile
 * of activations runs on the tiles;
 * the last ny % 16 rows go to the AVX-512 packed kernel this set was
 * built on. Compiled to nothing off x86_64. */
#include "tensor/kernels.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/pack.h"
#include "tensor/quants.h"

#define PA_INLINE static inline __attribute__((always_inline))
#define AMX_BARRIER() __asm__ volatile("" ::: "memory")

/* Tiles 0-3: int32 sums (16 activation rows x 16 weight rows), two
 * blocks in 0, 1 and the next two in 2, 3; 4, 5: A, 16 activation rows x
 * 32 bytes; 6, 7: B, 8 x 64 bytes. */
typedef struct tile_config {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

static void configure(void) {
    tile_config c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int t = 0; t < 4; t++) c.rows[t] = 16, c.colsb[t] = 64;
    for (int t = 4; t < 6; t++) c.rows[t] = 16, c.colsb[t] = 32;
    for (int t = 6; t < 8; t++) c.rows[t] = 8, c.colsb[t] = 64;
    AMX_BARRIER();
    _tile_loadconfig(&c);
    AMX_BARRIER();
    ingot_amx_tile_owner = INGOT_AMX_OWNER_PACKED;
}

/* ---- per-thread scratch ---- */
static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static _Thread_local void *scratch;
static _Thread_local size_t scratch_cap;
static void key_make(void) { (void)pthread_key_create(&key, free); }

static void *scratch_get(size_t bytes) {
    if (bytes <= scratch_cap) return scratch;
    pthread_once(&key_once, key_make);
    free(scratch);
    const size_t cap = ((bytes + bytes / 4) + 4095) & ~(size_t)4095;
    scratch = aligned_alloc(64, cap);
    scratch_cap = scratch ? cap : 0;
    (void)pthread_setspecific(key, scratch);
    return scratch;
}

/* The avx512 packed kernels, for activation rows that do not fill a tile. */
static ingot_packed_gemm_fn vnni[INGOT_TYPE_COUNT];

PA_INLINE size_t block_bytes(ingot_type type) {
    return type == INGOT_TYPE_Q4_0 ? sizeof(ingot_pack_q4_0)
         : type == INGOT_TYPE_Q5_0 ? sizeof(ingot_pack_q5_0)
                                   : sizeof(ingot_pack_q8_0);
}

/* Block b's weights as the B tile: 8 rows (weights 4g..4g+3) x 64 signed
 * bytes (the stored value minus the type's offset). */
PA_INLINE void widen(ingot_type type, const uint8_t *blk, uint8_t *out) {
    const uint8_t *qs = blk + 32;
    if (type == INGOT_TYPE_Q8_0) {
        for (int g = 0; g < 8; g++)
            _mm512_store_si512(out + 64 * g, _mm512_xor_si512(_mm512_loadu_si512(qs + 64 * g), _mm512_set1_epi8(-128)));
        return;
    }
    const __m512i m4 = _mm512_set1_epi8(15);
    __m512i u[8];
    for (int c = 0; c < 4; c++) {
        const __m512i v = _mm512_loadu_si512(qs + 64 * c);
        u[c] = _mm512_and_si512(v, m4);
        u[c + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
    }
    if (type == INGOT_TYPE_Q5_0)
        for (int g = 0; g < 8; g++) {
            uint64_t bits;
            memcpy(&bits, qs + 256 + 8 * g, 8);
            u[g] = _mm512_mask_add_epi8(u[g], _cvtu64_mask64(bits), u[g], _mm512_set1_epi8(16));
        }
    const __m512i off = _mm512_set1_epi8(type == INGOT_TYPE_Q5_0 ? 16 : 8);
    for (int g = 0; g < 8; g++) _mm512_store_si512(out + 64 * g, _mm512_sub_epi8(u[g], off));
}

/* Finishes one block's 16 x 16 sums (tile stored at cb) into acc. */
PA_INLINE void finish(const int32_t *cb, __m512 dx, const float *dys, size_t nb, __m512 acc[16]) {
    for (int t = 0; t < 16; t++) {
        const __m512 sc = _mm512_mul_ps(dx, _mm512_set1_ps(dys[(size_t)t * nb]));
        acc[t] = _mm512_fmadd_ps(sc, _mm512_cvtepi32_ps(_mm512_load_si512(cb + 16 * t)), acc[t]);
    }
}

PA_INLINE void packed_amx(ingot_type type, int64_t n, const void *w, int64_t ngroups, const void *act,
                          size_t act_row, int64_t ny, float *y, size_t ldy) {
    const int64_t full = ny / 16 * 16;
    if (full) {
        if (ingot_amx_tile_owner != INGOT_AMX_OWNER_PACKED) configure();
        const size_t nb = (size_t)(n / 32), bb = block_bytes(type), gb = nb * bb;
        const size_t side = (size_t)full * nb * sizeof(float);
        const size_t wbytes = nb * 512;
        const size_t abytes = (size_t)full * nb * 32;
        uint8_t *sp = scratch_get(side + wbytes + 4 * 1024 + 64 + abytes + 64);
        if (!sp) {
            vnni[type](n, w, ngroups, act, act_row, ny, y, ldy);
            return;
        }
        /* dys[t][b]: the scale of block b of activation row t */
        float *dys = (float *)sp;
        uint8_t *wide = sp + ((side + 63) & ~(size_t)63);
        int32_t *cb = (int32_t *)(wide + wbytes);
        /* activations regrouped: for each 16-row tile and block, the 16
         * rows' 32 bytes contiguous (one A tile = 8 cache lines) */
        uint8_t *at = (uint8_t *)(cb + 1024);
        at = (uint8_t *)(((uintptr_t)at + 63) & ~(uintptr_t)63);
        for (int64_t t = 0; t < full; t++) {
            const ingot_block_q8_0 *a = (const ingot_block_q8_0 *)((const char *)act + (size_t)t * act_row);
            uint8_t *dst = at + (size_t)(t / 16) * nb * 512 + (size_t)(t % 16) * 32;
            for (size_t b = 0; b < nb; b++) {
                dys[(size_t)t * nb + b] = _cvtsh_ss(a[b].d);
                _mm256_store_si256((__m256i *)(dst + b * 512), _mm256_loadu_si256((const __m256i *)a[b].qs));
            }
        }
        for (int64_t g = 0; g < ngroups; g++) {
            const uint8_t *grp = (const uint8_t *)w + (size_t)g * gb;
            for (size_t b = 0; b < nb; b++) widen(type, grp + b * bb, wide + b * 512);
            for (int64_t t0 = 0; t0 < full; t0 += 16) {
                __m512 acc[16];
                for (int t = 0; t < 16; t++) acc[t] = _mm512_setzero_ps();
                const uint8_t *a0 = at + (size_t)(t0 / 16) * nb * 512;
                const float *dys0 = dys + (size_t)t0 * nb;
                /* Software pipeline over block pairs: the products of
                 * pair k+1 are issued before the sums of pair k are
                 * stored and finished, so the tile unit's latency overlaps
                 * the vector work (tiles 0, 1 for even pairs, 2, 3 for odd;
                 * the stored sums alternate between two buffers). */
                const size_t npairs = nb / 2;
#define PA_B(b) (wide + (b) * 512)
#define PA_A(b) (a0 + (b) * 512)
#define PA_DX(b) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(grp + (b) * bb)))
#define PA_ISSUE(c, c1, b)                                                                  \
    do {                                                                                    \
        _tile_zero(c);                                                                      \
        _tile_zero(c1);                                                                     \
        _tile_loadd(4, PA_A(b), 32);                                             \
        _tile_loadd(6, PA_B(b), 64);                                                        \
        _tile_dpbssd(c, 4, 6);                                                              \
        _tile_loadd(5, PA_A((b) + 1), 32);                                       \
        _tile_loadd(7, PA_B((b) + 1), 64);                                                  \
        _tile_dpbssd(c1, 5, 7);                                                             \
    } while (0)
                if (npairs) PA_ISSUE(0, 1, 0);
                for (size_t k = 0; k < npairs; k++) {
                    const size_t b = 2 * k;
                    int32_t *buf = cb + (k & 1) * 512;
                    if (k & 1) {
                        if (k + 1 < npairs) PA_ISSUE(0, 1, b + 2);
                        _tile_stored(2, buf, 64);
                        _tile_stored(3, buf + 256, 64);
                    } else {
                        if (k + 1 < npairs) PA_ISSUE(2, 3, b + 2);
                        _tile_stored(0, buf, 64);
                        _tile_stored(1, buf + 256, 64);
                    }
                    AMX_BARRIER();
                    finish(buf, PA_DX(b), dys0 + b, nb, acc);
                    finish(buf + 256, PA_DX(b + 1), dys0 + b + 1, nb, acc);
                }
                if (nb & 1) {
                    const size_t b = nb - 1;
                    _tile_zero(0);
                    _tile_loadd(4, PA_A(b), 32);
                    _tile_loadd(6, PA_B(b), 64);
                    _tile_dpbssd(0, 4, 6);
                    _tile_stored(0, cb, 64);
                    AMX_BARRIER();
                    finish(cb, PA_DX(b), dys0 + b, nb, acc);
                }
#undef PA_ISSUE
#undef PA_B
#undef PA_A
#undef PA_DX
                for (int t = 0; t < 16; t++) _mm512_storeu_ps(y + (size_t)(t0 + t) * ldy + 16 * g, acc[t]);
            }
        }
    }
    if (ny > full)
        vnni[type](n, w, ngroups, (const char *)act + (size_t)full * act_row, act_row, ny - full,
                   y + (size_t)full * ldy, ldy);
}

#define PA_ENTRY(name, id)                                                                     \
    static void name(int64_t n, const void *w, int64_t ngroups, const void *act, size_t act_row, \
                     int64_t ny, float *y, size_t ldy) {                                       \
        packed_amx(INGOT_TYPE_##id, n, w, ngroups, act, act_row, ny, y, ldy);                  \
    }
PA_ENTRY(pa_q4_0, Q4_0)
PA_ENTRY(pa_q5_0, Q5_0)
PA_ENTRY(pa_q8_0, Q8_0)

void ingot_pack_fill_amx(ingot_kernels *k) {
    const ingot_type types[] = {INGOT_TYPE_Q4_0, INGOT_TYPE_Q5_0, INGOT_TYPE_Q8_0};
    ingot_packed_gemm_fn mine[] = {pa_q4_0, pa_q5_0, pa_q8_0};
    for (int i = 0; i < 3; i++) {
        if (!k->packed_gemm[types[i]]) continue; /* built on a set without them */
        vnni[types[i]] = k->packed_gemm[types[i]];
        k->packed_gemm[types[i]] = mine[i];
        /* the tiles read the activations as they are */
        k->packed_gemm_act[types[i]] = NULL;
    }
}
#endif
