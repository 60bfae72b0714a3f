/* AMX int8 panel kernels (gemm_panel) of the symmetric 32-element block
 * types Q4_0, Q5_0, Q8_0 and IQ4_NL against Q8_0 activations; every other
 * entry of the set is inherited from avx512.
 *
 * Results are bit-identical to the x86 sets' vec_dot, so the canonical
 * order of the float work is theirs (kernels_x86_q32.h): per pair of
 * (weight row, activation row) eight float lanes; for every two blocks b,
 * b+1 lane 0/1/4/5 gets fma(dx_b * dy_b, int sum of bytes 0-7 / 8-15 /
 * 16-23 / 24-31 of block b), lanes 2/3/6/7 the same of block b+1; an odd
 * last block puts the sums of its bytes 4m..4m+3 into lane m; the pair's
 * result is ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)). The tiles deliver
 * exactly those integer sums: a tile product with K = 8 bytes
 * (`tdpbssd`, A = 16 weight rows x 8 bytes, B = 2 dwords x 16 activation
 * rows) gives for 16 x 16 pairs the sum over one 8-byte segment, so one
 * block takes four products into four accumulator tiles; the odd last
 * block uses K = 8 with the second dword of B zero (4-byte segments).
 * The int32 tiles are stored and the float steps run on 512-bit vectors
 * over 16 activation rows at once (one weight row's lanes), in the
 * canonical order, for blocks in chunks so that each pair's eight lanes
 * stay in registers across a chunk.
 *
 * Data: per panel call, the activations of every 16 rows are transposed
 * to the tiles' B layout (per block, per 4-byte group, 16 rows x 4 bytes;
 * missing rows zero) with their fp16 scales as floats; per 16 weight rows
 * the weights are unpacked to signed bytes, 32 per row and block, with
 * their scales as floats. Both live in a per-thread scratch buffer that
 * grows as needed (freed at thread exit).
 *
 * The tile configuration is loaded once per thread (first use); the
 * process-wide permission for the tile state is asked by kernels.c
 * (ingot_amx_enable) before this set is built. Compiled to nothing off
 * x86_64. */
#include "tensor/kernels.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/quants.h"

#define AMX_INLINE static inline __attribute__((always_inline))
/* The tile intrinsics are asm statements that do not tell the compiler
 * which memory they read or write. */
#define AMX_BARRIER() __asm__ volatile("" ::: "memory")

/* Blocks per chunk of the float pass (even, dividing 16): two chunks of
 * int32 tiles (32 KiB) stay in L1 while each weight row's lanes stay in
 * registers across a chunk. */
#define AMX_CHUNK 4
/* Bytes per block in the weight and activation buffers: 16 rows x 32. */
#define AMX_BLK 512

/* ---- per-thread state: tile configuration and scratch ---- */

/* Tiles 0-3: int32 accumulators, 16 weight rows x 16 activation rows;
 * 4, 5: A, 16 weight rows x 8 bytes; 6, 7: B, 2 dwords x 16 rows. */
typedef struct amx_config {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} amx_config;

/* Which kernel file's tile configuration this thread has loaded. */
_Thread_local int ingot_amx_tile_owner;

static void amx_configure(void) {
    amx_config c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int t = 0; t < 4; t++) c.rows[t] = 16, c.colsb[t] = 64;
    for (int t = 4; t < 6; t++) c.rows[t] = 16, c.colsb[t] = 8;
    for (int t = 6; t < 8; t++) c.rows[t] = 2, c.colsb[t] = 64;
    AMX_BARRIER();
    _tile_loadconfig(&c);
    AMX_BARRIER();
    ingot_amx_tile_owner = INGOT_AMX_OWNER_PANEL;
}

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static _Thread_local void *scratch;
static _Thread_local size_t scratch_cap;

static void scratch_key_make(void) { (void)pthread_key_create(&scratch_key, free); }

/* A 64-byte aligned buffer of at least `bytes`, or NULL. */
static void *scratch_get(size_t bytes) {
    if (bytes <= scratch_cap) return scratch;
    pthread_once(&scratch_once, scratch_key_make);
    free(scratch);
    const size_t cap = ((bytes + bytes / 4) + 4095) & ~(size_t)4095;
    scratch = aligned_alloc(64, cap);
    scratch_cap = scratch ? cap : 0;
    (void)pthread_setspecific(scratch_key, scratch);
    return scratch;
}

/* ---- weight unpacking: 32 signed bytes per row and block ---- */

AMX_INLINE __m256i nibbles16(const uint8_t *p) {
    const __m128i q = _mm_loadu_si128((const __m128i *)p);
    const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(q), _mm_srli_epi16(q, 4), 1);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
}

AMX_INLINE __m256i q4_0_bytes(const ingot_block_q4_0 *x) {
    return _mm256_sub_epi8(nibbles16(x->qs), _mm256_set1_epi8(8));
}
AMX_INLINE __m256i q5_0_bytes(const ingot_block_q5_0 *x) {
    uint32_t h;
    memcpy(&h, x->qh, 4);
    /* nibble - 16 where the 5th bit is clear */
    const __m256i q = nibbles16(x->qs);
    return _mm256_mask_sub_epi8(q, (__mmask32)~h, q, _mm256_set1_epi8(16));
}
AMX_INLINE __m256i q8_0_bytes(const ingot_block_q8_0 *x) {
    return _mm256_loadu_si256((const __m256i *)x->qs);
}
AMX_INLINE __m256i iq4_nl_bytes(const ingot_block_iq4_nl *x) {
    const __m256i table =
        _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)ingot_iq4nl_values));
    return _mm256_shuffle_epi8(table, nibbles16(x->qs));
}

/* Rows [0, rows) of x (16 at most) into wq[b][i][32] and wd[b][i]; rows
 * beyond `rows` zero. */
typedef void (*amx_repack_fn)(const void *x, size_t xs, int rows, int64_t nb, int8_t *wq, float *wd);

#define AMX_REPACK(name, xtype)                                                             \
    static void name##_repack(const void *vx, size_t xs, int rows, int64_t nb, int8_t *wq, \
                              float *wd) {                                                  \
        if (rows < 16)                                                                      \
            for (int64_t b = 0; b < nb; b++) {                                              \
                memset(wq + b * AMX_BLK + rows * 32, 0, (size_t)(16 - rows) * 32);           \
                for (int i = rows; i < 16; i++) wd[b * 16 + i] = 0.0f;                      \
            }                                                                               \
        for (int i = 0; i < rows; i++) {                                                    \
            const xtype *x = (const xtype *)((const char *)vx + (size_t)i * xs);            \
            for (int64_t b = 0; b < nb; b++) {                                              \
                _mm256_store_si256((__m256i *)(wq + b * AMX_BLK + i * 32), name##_bytes(x + b)); \
                wd[b * 16 + i] = _cvtsh_ss(x[b].d);                                         \
            }                                                                               \
        }                                                                                   \
    }
AMX_REPACK(q4_0, ingot_block_q4_0)
AMX_REPACK(q5_0, ingot_block_q5_0)
AMX_REPACK(q8_0, ingot_block_q8_0)
AMX_REPACK(iq4_nl, ingot_block_iq4_nl)

/* ---- activations: 16 Q8_0 rows into the B layout ---- */

/* aq[b][g][j][4] = bytes 4g..4g+3 of block b of row j, ad[b][j] = its
 * scale (rows j >= rows zero); if nb is odd, aqt[2m][j] = group m of the
 * last block and aqt[2m+1][j] = 0 (the 4-byte segments of the tail). */
static void amx_prep_act(const void *y, size_t ys, int rows, int64_t nb, int8_t *aq, float *ad,
                         int8_t *aqt) {
    const __mmask16 live = (__mmask16)((1u << rows) - 1);
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32((int)ys));
    const __m512i zero = _mm512_setzero_si512();
    for (int64_t b = 0; b < nb; b++) {
        const char *p = (const char *)y + b * (int64_t)sizeof(ingot_block_q8_0);
        const __m512i d = _mm512_mask_i32gather_epi32(zero, live, idx, p, 1);
        _mm512_store_ps(ad + b * 16, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(d)));
        for (int g = 0; g < 8; g++)
            _mm512_store_si512(aq + b * AMX_BLK + g * 64,
                               _mm512_mask_i32gather_epi32(zero, live, idx, p + 2 + 4 * g, 1));
    }
    if (nb & 1)
        for (int g = 0; g < 8; g++) {
            _mm512_store_si512(aqt + 128 * g, _mm512_load_si512(aq + (nb - 1) * AMX_BLK + g * 64));
            _mm512_store_si512(aqt + 128 * g + 64, zero);
        }
}

/* ---- one 16 x 16 tile of pairs over all blocks ---- */

/* Four 8-byte segments of block b into tiles 0-3 and then cb[s][16][16]. */
AMX_INLINE void amx_block(const int8_t *wq, const int8_t *aq, int64_t b, int32_t *cb) {
    const int8_t *w = wq + b * AMX_BLK, *a = aq + b * AMX_BLK;
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    _tile_loadd(4, w, 32);
    _tile_loadd(6, a, 64);
    _tile_dpbssd(0, 4, 6);
    _tile_loadd(5, w + 8, 32);
    _tile_loadd(7, a + 128, 64);
    _tile_dpbssd(1, 5, 7);
    _tile_loadd(4, w + 16, 32);
    _tile_loadd(6, a + 256, 64);
    _tile_dpbssd(2, 4, 6);
    _tile_loadd(5, w + 24, 32);
    _tile_loadd(7, a + 384, 64);
    _tile_dpbssd(3, 5, 7);
    _tile_stored(0, cb, 64);
    _tile_stored(1, cb + 256, 64);
    _tile_stored(2, cb + 512, 64);
    _tile_stored(3, cb + 768, 64);
}

/* The tail block's 4-byte segments 4h..4h+3 (lanes 4h..4h+3) into cb. */
AMX_INLINE void amx_tail(const int8_t *wq, const int8_t *aqt, int64_t b, int h, int32_t *cb) {
    const int8_t *w = wq + b * AMX_BLK + 16 * h, *a = aqt + 512 * h;
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    /* A reads 8 bytes from 4m: the upper 4 meet B's zero dword */
    _tile_loadd(4, w, 32);
    _tile_loadd(6, a, 64);
    _tile_dpbssd(0, 4, 6);
    _tile_loadd(5, w + 4, 32);
    _tile_loadd(7, a + 128, 64);
    _tile_dpbssd(1, 5, 7);
    _tile_loadd(4, w + 8, 32);
    _tile_loadd(6, a + 256, 64);
    _tile_dpbssd(2, 4, 6);
    _tile_loadd(5, w + 12, 32);
    _tile_loadd(7, a + 384, 64);
    _tile_dpbssd(3, 5, 7);
    _tile_stored(0, cb, 64);
    _tile_stored(1, cb + 256, 64);
    _tile_stored(2, cb + 512, 64);
    _tile_stored(3, cb + 768, 64);
}

#define CVT(p) _mm512_cvtepi32_ps(_mm512_load_si512(p))

/* The float steps of blocks c0..ce-1 (ce - c0 even) for the 16 weight
 * rows, their int32 tiles in cb; between rows, the tiles of the next
 * chunk (blocks n0..n1-1, into nb_) are issued one block per 16 / CHUNK
 * rows, so that the tile unit works while the vector units do. */
AMX_INLINE void amx_chunk(const float *wd, const float *ad, const int32_t *cb, float *acc, int64_t c0, int64_t ce,
                          const int8_t *wq, const int8_t *aq, int64_t n0, int64_t n1, int32_t *nb_) {
    for (int i = 0; i < 16; i++) {
        if (i % (16 / AMX_CHUNK) == 0) {
            const int64_t b = n0 + i / (16 / AMX_CHUNK);
            if (b < n1) {
                AMX_BARRIER();
                amx_block(wq, aq, b, nb_ + (b - n0) * 1024);
                AMX_BARRIER();
            }
        }
        float *ai = acc + i * 128;
        __m512 l0 = _mm512_load_ps(ai), l1 = _mm512_load_ps(ai + 16), l2 = _mm512_load_ps(ai + 32),
               l3 = _mm512_load_ps(ai + 48), l4 = _mm512_load_ps(ai + 64), l5 = _mm512_load_ps(ai + 80),
               l6 = _mm512_load_ps(ai + 96), l7 = _mm512_load_ps(ai + 112);
        for (int64_t b = c0; b < ce; b += 2) {
            const int32_t *e = cb + (b - c0) * 1024 + i * 16, *o = e + 1024;
            const __m512 s0 = _mm512_mul_ps(_mm512_set1_ps(wd[b * 16 + i]), _mm512_load_ps(ad + b * 16));
            const __m512 s1 = _mm512_mul_ps(_mm512_set1_ps(wd[(b + 1) * 16 + i]), _mm512_load_ps(ad + (b + 1) * 16));
            l0 = _mm512_fmadd_ps(s0, CVT(e), l0);
            l1 = _mm512_fmadd_ps(s0, CVT(e + 256), l1);
            l4 = _mm512_fmadd_ps(s0, CVT(e + 512), l4);
            l5 = _mm512_fmadd_ps(s0, CVT(e + 768), l5);
            l2 = _mm512_fmadd_ps(s1, CVT(o), l2);
            l3 = _mm512_fmadd_ps(s1, CVT(o + 256), l3);
            l6 = _mm512_fmadd_ps(s1, CVT(o + 512), l6);
            l7 = _mm512_fmadd_ps(s1, CVT(o + 768), l7);
        }
        _mm512_store_ps(ai, l0);
        _mm512_store_ps(ai + 16, l1);
        _mm512_store_ps(ai + 32, l2);
        _mm512_store_ps(ai + 48, l3);
        _mm512_store_ps(ai + 64, l4);
        _mm512_store_ps(ai + 80, l5);
        _mm512_store_ps(ai + 96, l6);
        _mm512_store_ps(ai + 112, l7);
    }
}

/* out[i][j] for the 16 x 16 pairs of weight tile (wq, wd) and activation
 * tile (aq, ad, aqt); acc: 16 x 8 x 16 floats of scratch, cb: the int32
 * tiles of two chunks. */
static void amx_tile16(int64_t nb, const int8_t *wq, const float *wd, const int8_t *aq,
                       const float *ad, const int8_t *aqt, int32_t *cb, float *acc, float *out) {
    memset(acc, 0, 16 * 8 * 16 * sizeof(float));
    const int64_t nbe = nb & ~(int64_t)1;
    /* chunk 0's tiles first; then each chunk's float steps carry the next one's tiles */
    AMX_BARRIER();
    for (int64_t b = 0; b < (AMX_CHUNK < nbe ? AMX_CHUNK : nbe); b++) amx_block(wq, aq, b, cb + b * 1024);
    AMX_BARRIER();
    for (int64_t c0 = 0, k = 0; c0 < nbe; c0 += AMX_CHUNK, k ^= 1) {
        const int64_t ce = c0 + AMX_CHUNK < nbe ? c0 + AMX_CHUNK : nbe;
        const int64_t n1 = ce + AMX_CHUNK < nbe ? ce + AMX_CHUNK : nbe;
        amx_chunk(wd, ad, cb + k * AMX_CHUNK * 1024, acc, c0, ce, wq, aq, ce, n1, cb + (k ^ 1) * AMX_CHUNK * 1024);
        AMX_BARRIER();
    }
    if (nb & 1) {
        const int64_t b = nb - 1;
        for (int h = 0; h < 2; h++) {
            AMX_BARRIER();
            amx_tail(wq, aqt, b, h, cb);
            AMX_BARRIER();
            for (int i = 0; i < 16; i++) {
                float *ai = acc + i * 128 + 64 * h;
                const __m512 sc = _mm512_mul_ps(_mm512_set1_ps(wd[b * 16 + i]), _mm512_load_ps(ad + b * 16));
                for (int m = 0; m < 4; m++)
                    _mm512_store_ps(ai + 16 * m, _mm512_fmadd_ps(sc, CVT(cb + 256 * m + i * 16),
                                                                 _mm512_load_ps(ai + 16 * m)));
            }
        }
    }
    for (int i = 0; i < 16; i++) {
        const float *ai = acc + i * 128;
        const __m512 a04 = _mm512_add_ps(_mm512_load_ps(ai), _mm512_load_ps(ai + 64));
        const __m512 a26 = _mm512_add_ps(_mm512_load_ps(ai + 32), _mm512_load_ps(ai + 96));
        const __m512 a15 = _mm512_add_ps(_mm512_load_ps(ai + 16), _mm512_load_ps(ai + 80));
        const __m512 a37 = _mm512_add_ps(_mm512_load_ps(ai + 48), _mm512_load_ps(ai + 112));
        _mm512_store_ps(out + i * 16, _mm512_add_ps(_mm512_add_ps(a04, a26), _mm512_add_ps(a15, a37)));
    }
}
#undef CVT

/* ---- the panel ---- */

/* The inherited gemm of each type: the fallback when no scratch memory. */
static ingot_gemm_fn base_gemm[INGOT_TYPE_COUNT];

static void fallback(ingot_type t, int64_t n, float *s, size_t sx, size_t sy, const void *x, size_t xs,
                     int64_t nx, const void *y, size_t ys, int64_t ny) {
    enum { MX = INGOT_KERNELS_MAX_NX, MY = INGOT_KERNELS_MAX_NY };
    float tile[MX * MY];
    for (int64_t i = 0; i < nx; i += MX)
        for (int64_t j = 0; j < ny; j += MY) {
            const int mx = (int)(nx - i < MX ? nx - i : MX), my = (int)(ny - j < MY ? ny - j : MY);
            base_gemm[t](n, tile, MY, (const char *)x + (size_t)i * xs, xs, mx, (const char *)y + (size_t)j * ys,
                         ys, my);
            for (int a = 0; a < mx; a++)
                for (int c = 0; c < my; c++) s[(size_t)(i + a) * sx + (size_t)(j + c) * sy] = tile[a * MY + c];
        }
}

static size_t align64(size_t v) { return (v + 63) & ~(size_t)63; }

static void amx_panel(ingot_type t, amx_repack_fn repack, int64_t n, float *s, size_t sx, size_t sy,
                      const void *x, size_t xs, int64_t nx, const void *y, size_t ys, int64_t ny) {
    const int64_t nb = n / 32, nat = (ny + 15) / 16;
    /* scratch: per activation tile aq, ad, aqt; weights wq (+ the tail's
     * 4-byte over-read), wd; chunk tiles; accumulators; output tile */
    const size_t aq_b = (size_t)nb * AMX_BLK, ad_b = align64((size_t)nb * 64), aqt_b = 1024;
    const size_t at_b = aq_b + ad_b + aqt_b;
    const size_t wq_b = aq_b + 64, wd_b = ad_b, cb_b = 2 * AMX_CHUNK * 4096, acc_b = 8192, out_b = 1024;
    char *m = scratch_get((size_t)nat * at_b + wq_b + wd_b + cb_b + acc_b + out_b);
    if (!m || nb == 0) {
        fallback(t, n, s, sx, sy, x, xs, nx, y, ys, ny);
        return;
    }
    int8_t *wq = (int8_t *)(m + (size_t)nat * at_b);
    float *wd = (float *)((char *)wq + wq_b);
    int32_t *cb = (int32_t *)((char *)wd + wd_b);
    float *acc = (float *)((char *)cb + cb_b), *out = acc + 2048;
    if (ingot_amx_tile_owner != INGOT_AMX_OWNER_PANEL) amx_configure();
    for (int64_t a = 0; a < nat; a++) {
        char *at = m + (size_t)a * at_b;
        const int rows = (int)(ny - 16 * a < 16 ? ny - 16 * a : 16);
        amx_prep_act((const char *)y + (size_t)(16 * a) * ys, ys, rows, nb, (int8_t *)at, (float *)(at + aq_b),
                     (int8_t *)(at + aq_b + ad_b));
    }
    memset(wq + aq_b, 0, 64);
    for (int64_t w = 0; w < nx; w += 16) {
        const int rows = (int)(nx - w < 16 ? nx - w : 16);
        repack((const char *)x + (size_t)w * xs, xs, rows, nb, wq, wd);
        for (int64_t a = 0; a < nat; a++) {
            const char *at = m + (size_t)a * at_b;
            const int cols = (int)(ny - 16 * a < 16 ? ny - 16 * a : 16);
            amx_tile16(nb, wq, wd, (const int8_t *)at, (const float *)(at + aq_b),
                       (const int8_t *)(at + aq_b + ad_b), cb, acc, out);
            float *sw = s + (size_t)w * sx + (size_t)(16 * a) * sy;
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) sw[(size_t)i * sx + (size_t)j * sy] = out[i * 16 + j];
        }
    }
}

#define AMX_PANEL(name, id)                                                                 \
    static void name##_panel(int64_t n, float *s, size_t sx, size_t sy, const void *x, size_t xs, \
                             int64_t nx, const void *y, size_t ys, int64_t ny) {            \
        amx_panel(INGOT_TYPE_##id, name##_repack, n, s, sx, sy, x, xs, nx, y, ys, ny);      \
    }
AMX_PANEL(q4_0, Q4_0)
AMX_PANEL(q5_0, Q5_0)
AMX_PANEL(q8_0, Q8_0)
AMX_PANEL(iq4_nl, IQ4_NL)

void ingot_kernels_fill_amx(ingot_kernels *k) {
    for (int t = 0; t < INGOT_TYPE_COUNT; t++) base_gemm[t] = k->gemm[t];
    k->gemm_panel[INGOT_TYPE_Q4_0] = q4_0_panel;
    k->gemm_panel[INGOT_TYPE_Q5_0] = q5_0_panel;
    k->gemm_panel[INGOT_TYPE_Q8_0] = q8_0_panel;
    k->gemm_panel[INGOT_TYPE_IQ4_NL] = iq4_nl_panel;
    ingot_pack_fill_amx(k);
}
#endif
