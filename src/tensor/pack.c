/* Owns the packed weight layouts (see pack.h): packing rows into groups,
 * unpacking a row back (tests), and the scalar packed kernel that defines
 * the packed dot's results for every set. */
#include "tensor/pack.h"

#include <math.h>
#include <string.h>

#include "tensor/pack_k.h"
#include "tensor/quants.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

int ingot_pack_supported(ingot_type type) {
    return type == INGOT_TYPE_Q4_0 || type == INGOT_TYPE_Q5_0 || type == INGOT_TYPE_Q8_0 ||
           ingot_pack_k_supported(type);
}

static size_t block_bytes(ingot_type type) {
    switch (type) {
    case INGOT_TYPE_Q4_0: return sizeof(ingot_pack_q4_0);
    case INGOT_TYPE_Q5_0: return sizeof(ingot_pack_q5_0);
    case INGOT_TYPE_Q8_0: return sizeof(ingot_pack_q8_0);
    default: return ingot_pack_k_block_bytes(type);
    }
}

/* Weights per packed block. */
static int64_t block_len(ingot_type type) { return ingot_pack_k_supported(type) ? INGOT_QK_K : 32; }

size_t ingot_pack_group_bytes(ingot_type type, int64_t ne0) {
    if (!ingot_pack_supported(type) || ne0 <= 0 || ne0 % block_len(type)) return 0;
    return (size_t)(ne0 / block_len(type)) * block_bytes(type);
}

static int offset_of(ingot_type type) {
    return type == INGOT_TYPE_Q4_0 ? 8 : type == INGOT_TYPE_Q5_0 ? 16 : 128;
}

/* Block b of the 16 rows at `rows` into one packed block. The 4-bit
 * layouts keep the Q4_0/Q5_0 byte order (byte j: weights j and j+16), so
 * packing is a 4-byte interleave; Q8_0 adds 128 to every byte. One
 * function per type keeps the loops fixed for the compiler. */
static void pack_block_q8_0(const char *rows, size_t row_bytes, int64_t b, uint8_t *dst) {
    uint16_t d[16];
    for (int r = 0; r < 16; r++) {
        const ingot_block_q8_0 *x = (const ingot_block_q8_0 *)(rows + (size_t)r * row_bytes) + b;
        memcpy(&d[r], &x->d, 2);
        for (int g = 0; g < 8; g++) {
            uint32_t u;
            memcpy(&u, x->qs + 4 * g, 4);
            u ^= 0x80808080u;
            memcpy(dst + 32 + g * 64 + r * 4, &u, 4);
        }
    }
    memcpy(dst, d, 32);
}

static void pack_block_q4(int q5, const char *rows, size_t row_bytes, int64_t b, uint8_t *dst) {
    uint16_t d[16];
    uint32_t h[16];
    for (int r = 0; r < 16; r++) {
        const char *row = rows + (size_t)r * row_bytes;
        uint32_t q[4];
        if (q5) {
            const ingot_block_q5_0 *x = (const ingot_block_q5_0 *)row + b;
            memcpy(&d[r], &x->d, 2);
            memcpy(&h[r], x->qh, 4);
            memcpy(q, x->qs, 16);
        } else {
            const ingot_block_q4_0 *x = (const ingot_block_q4_0 *)row + b;
            memcpy(&d[r], &x->d, 2);
            memcpy(q, x->qs, 16);
        }
        for (int c = 0; c < 4; c++) memcpy(dst + 32 + c * 64 + r * 4, &q[c], 4);
    }
    memcpy(dst, d, 32);
    if (q5) {
        /* a 16 x 8 nibble transpose: nibble r of the 64-bit word g is
         * nibble g of h[r]; byte k of word g holds rows 2k and 2k + 1, so
         * the rows are paired first and the bytes moved after */
        uint8_t qh[8][8];
        for (int k = 0; k < 8; k++) {
            const uint32_t a = h[2 * k], c = h[2 * k + 1];
            const uint32_t even = (a & 0x0f0f0f0fu) | ((c & 0x0f0f0f0fu) << 4);
            const uint32_t odd = ((a >> 4) & 0x0f0f0f0fu) | (c & 0xf0f0f0f0u);
            for (int j = 0; j < 4; j++) {
                qh[2 * j][k] = (uint8_t)(even >> (8 * j));
                qh[2 * j + 1][k] = (uint8_t)(odd >> (8 * j));
            }
        }
        memcpy(dst + 32 + 256, qh, sizeof qh);
    }
}

static void pack_block(ingot_type type, const char *rows, size_t row_bytes, int64_t b, uint8_t *dst) {
    if (type == INGOT_TYPE_Q8_0) pack_block_q8_0(rows, row_bytes, b, dst);
    else if (type == INGOT_TYPE_Q5_0) pack_block_q4(1, rows, row_bytes, b, dst);
    else pack_block_q4(0, rows, row_bytes, b, dst);
}

void ingot_pack_groups(ingot_type type, int64_t ne0, const void *src, size_t row_bytes, int64_t g0,
                       int64_t g1, void *dst) {
    const size_t gb = ingot_pack_group_bytes(type, ne0), bb = block_bytes(type);
    if (!gb) return;
    for (int64_t g = g0; g < g1; g++) {
        const char *rows = (const char *)src + (size_t)g * 16 * row_bytes;
        uint8_t *out = (uint8_t *)dst + (size_t)g * gb;
        for (int64_t b = 0; b < ne0 / block_len(type); b++)
            if (ingot_pack_k_supported(type))
                ingot_pack_k_block(type, rows, row_bytes, b, out + (size_t)b * bb);
            else
                pack_block(type, rows, row_bytes, b, out + (size_t)b * bb);
    }
}

/* Stored value u of weight k of row r in a packed block. */
static int packed_u(ingot_type type, const uint8_t *blk, int r, int k) {
    const uint8_t *qs = blk + 32;
    if (type == INGOT_TYPE_Q8_0) return qs[(k / 4) * 64 + r * 4 + k % 4];
    const int c = (k % 16) / 4, e = k % 4;
    int u = k < 16 ? qs[c * 64 + r * 4 + e] & 15 : qs[c * 64 + r * 4 + e] >> 4;
    if (type == INGOT_TYPE_Q5_0) {
        uint64_t qh;
        memcpy(&qh, qs + 256 + 8 * (k / 4), 8);
        u |= (int)((qh >> (r * 4 + e)) & 1) << 4;
    }
    return u;
}

void ingot_pack_row_to_float(ingot_type type, int64_t ne0, const void *group, int r, float *out) {
    if (ingot_pack_k_supported(type)) {
        ingot_pack_k_row_to_float(type, ne0, group, r, out);
        return;
    }
    const size_t bb = block_bytes(type);
    const int off = offset_of(type);
    for (int64_t b = 0; b < ne0 / 32; b++) {
        const uint8_t *blk = (const uint8_t *)group + (size_t)b * bb;
        uint16_t d;
        memcpy(&d, blk + 2 * r, 2);
        const float df = ingot_fp16_to_fp32(d);
        for (int k = 0; k < 32; k++) out[b * 32 + k] = df * (float)(packed_u(type, blk, r, k) - off);
    }
}

void ingot_pack_gemm_ref(ingot_type type, int64_t n, const void *w, int64_t ngroups, const void *act,
                         size_t act_row, int64_t ny, float *y, size_t ldy) {
    if (ingot_pack_k_supported(type)) {
        ingot_pack_k_gemm_ref(type, n, w, ngroups, act, act_row, ny, y, ldy);
        return;
    }
    const size_t gb = ingot_pack_group_bytes(type, n), bb = block_bytes(type);
    const int off = offset_of(type);
    for (int64_t g = 0; g < ngroups; g++)
        for (int64_t b = 0; b < n / 32; b++) {
            /* the block's values once, then every activation row; the
             * running sums live in y (a float store is exact) */
            const uint8_t *blk = (const uint8_t *)w + (size_t)g * gb + (size_t)b * bb;
            int8_t v[16][32];
            float dx[16];
            for (int r = 0; r < 16; r++) {
                uint16_t d;
                memcpy(&d, blk + 2 * r, 2);
                dx[r] = ingot_fp16_to_fp32(d);
                for (int k = 0; k < 32; k++) v[r][k] = (int8_t)(packed_u(type, blk, r, k) - off);
            }
            for (int64_t t = 0; t < ny; t++) {
                const ingot_block_q8_0 *a = (const ingot_block_q8_0 *)((const char *)act + (size_t)t * act_row) + b;
                const float dy = ingot_fp16_to_fp32(a->d);
                float *out = y + (size_t)t * ldy + (size_t)g * 16;
                for (int r = 0; r < 16; r++) {
                    int32_t isum = 0;
                    for (int k = 0; k < 32; k++) isum += v[r][k] * a->qs[k];
                    out[r] = fmaf(dx[r] * dy, (float)isum, b ? out[r] : 0.0f);
                }
            }
        }
}

static size_t align64z(size_t x) { return (x + 63) & ~(size_t)63; }

size_t ingot_packed_act_bytes(int64_t rows, int64_t nb) {
    const size_t e = (size_t)rows * (size_t)nb;
    return align64z(32 * e) + 3 * align64z(4 * e) + align64z(4 * e);
}

void ingot_packed_act_init(ingot_packed_act *pa, void *buf, int64_t rows, int64_t nb) {
    const size_t e = (size_t)rows * (size_t)nb;
    char *p = buf;
    pa->q = (uint8_t *)p;
    p += align64z(32 * e);
    for (int k = 0; k < 3; k++) {
        pa->ys[k] = (int32_t *)(void *)p;
        p += align64z(4 * e);
    }
    pa->d = (float *)(void *)p;
    pa->rows = rows;
    pa->nb = nb;
}
