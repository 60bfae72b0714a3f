/* Owns the packed layouts of the K-quants Q4_K and Q6_K (see pack.h):
 * packing 16 rows' super-blocks into one block, unpacking a row back
 * (tests), and the scalar packed kernel that defines their packed dots.
 *
 * Why every integer below is exact in int32, for any weight bytes and
 * activations from the Q8_K quantizer (qs in [-127, 127], bsums the sums
 * of their 16-element runs, so |S16| <= 2032):
 *   Q4_K: |raw_j| <= 32 * 15 * 127 = 60960, sc_j <= 63, so
 *         |isum| <= 8 * 63 * 60960 = 30.7e6; |msum| <= 8 * 63 * 4064.
 *   Q6_K: |raw_j - 32 S16[j]| = |sum (q6 - 32) y| <= 16 * 32 * 127 = 65024,
 *         |sc_j| <= 128, so |isum| <= 16 * 128 * 65024 = 133e6.
 * All far below 2^31; the SIMD kernels form the same integers (their
 * int16 steps have their own bounds, in pack_k_avx512.c). (float)isum
 * rounds to nearest even above 2^24, in every set alike. */
#include "tensor/pack_k.h"

#include <math.h>
#include <string.h>

#include "tensor/pack.h"
#include "tensor/quants.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define QK INGOT_QK_K

int ingot_pack_k_supported(ingot_type type) { return type == INGOT_TYPE_Q4_K || type == INGOT_TYPE_Q6_K; }

size_t ingot_pack_k_block_bytes(ingot_type type) {
    return type == INGOT_TYPE_Q4_K ? sizeof(ingot_pack_q4_k) : type == INGOT_TYPE_Q6_K ? INGOT_PACK_Q6_K_BYTES : 0;
}

/* q6 (0..63, value + 32) of the 256 weights of one Q6_K block, in the
 * bit order of quant_k.c's reference unpacking. */
static void q6_k_quants(const ingot_block_q6_k *x, uint8_t q[QK]) {
    for (int e = 0; e < QK; e++) {
        const int h = e / 128, r = e % 128, g = r / 32, l = r % 32;
        const uint8_t lb = x->ql[64 * h + 32 * (g % 2) + l];
        const int lo = g < 2 ? lb & 0x0f : lb >> 4;
        const int hi = (x->qh[32 * h + l] >> (2 * g)) & 3;
        q[e] = (uint8_t)(lo | hi << 4);
    }
}

void ingot_pack_k_block(ingot_type type, const char *rows, size_t row_bytes, int64_t b, uint8_t *dst) {
    if (type == INGOT_TYPE_Q4_K) {
        /* a 4-byte interleave of the rows' own bytes */
        ingot_pack_q4_k *p = (ingot_pack_q4_k *)dst;
        for (int r = 0; r < 16; r++) {
            const ingot_block_q4_k *x = (const ingot_block_q4_k *)(rows + (size_t)r * row_bytes) + b;
            memcpy(&p->d[r], &x->d, 2);
            memcpy(&p->dmin[r], &x->dmin, 2);
            for (int k = 0; k < 3; k++) memcpy(&p->scales[k][4 * r], x->scales + 4 * k, 4);
            for (int c = 0; c < 32; c++) memcpy(&p->qs[c][4 * r], x->qs + 4 * c, 4);
        }
        return;
    }
    uint8_t *q = dst + ingot_pack_q6_k_q(b), *sc = dst + ingot_pack_q6_k_scales(b), *d = dst + ingot_pack_q6_k_d(b);
    for (int r = 0; r < 16; r++) {
        const ingot_block_q6_k *x = (const ingot_block_q6_k *)(rows + (size_t)r * row_bytes) + b;
        uint8_t v[QK];
        q6_k_quants(x, v);
        memcpy(d + 2 * r, &x->d, 2);
        for (int j = 0; j < 16; j++) {
            sc[16 * j + r] = (uint8_t)x->scales[j];
            const uint8_t *s = v + 16 * j;
            for (int i = 0; i < 3; i++)
                for (int e = 0; e < 4; e++)
                    q[192 * j + 64 * i + 4 * r + e] = (uint8_t)(s[4 * i + e] | ((s[12 + e] >> (2 * i)) & 3) << 6);
        }
    }
}

/* Row r of packed block b: stored quants (0..15 / 0..63), the integer
 * scales (and Q4_K mins) of its sub-blocks, and the fp16 super-scales. */
typedef struct krow {
    uint8_t q[QK];
    int sc[16], m[8];
    uint16_t d, dmin;
} krow;

static void unpack_row(ingot_type type, const uint8_t *blk, int64_t b, int r, krow *o) {
    if (type == INGOT_TYPE_Q4_K) {
        const ingot_pack_q4_k *p = (const ingot_pack_q4_k *)blk;
        o->d = p->d[r];
        o->dmin = p->dmin[r];
        uint8_t s12[12];
        for (int k = 0; k < 3; k++) memcpy(s12 + 4 * k, &p->scales[k][4 * r], 4);
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            ingot_k4_scale_min(j, s12, &sc, &m);
            o->sc[j] = sc;
            o->m[j] = m;
        }
        for (int w = 0; w < QK; w++) {
            const int s = w / 32, l = w % 32;
            const uint8_t byte = p->qs[8 * (s / 2) + l / 4][4 * r + l % 4];
            o->q[w] = (uint8_t)(s % 2 ? byte >> 4 : byte & 0x0f);
        }
        return;
    }
    const uint8_t *q = blk + ingot_pack_q6_k_q(b), *sc = blk + ingot_pack_q6_k_scales(b);
    memcpy(&o->d, blk + ingot_pack_q6_k_d(b) + 2 * r, 2);
    o->dmin = 0;
    for (int j = 0; j < 16; j++) {
        o->sc[j] = (int8_t)sc[16 * j + r];
        const uint8_t *t = q + 192 * j + 4 * r;
        for (int e = 0; e < 4; e++) {
            for (int i = 0; i < 3; i++) o->q[16 * j + 4 * i + e] = t[64 * i + e] & 63;
            o->q[16 * j + 12 + e] = (uint8_t)(t[e] >> 6 | (t[64 + e] >> 6) << 2 | (t[128 + e] >> 6) << 4);
        }
    }
}

void ingot_pack_k_row_to_float(ingot_type type, int64_t ne0, const void *group, int r, float *out) {
    const size_t bb = ingot_pack_k_block_bytes(type);
    krow k;
    for (int64_t b = 0; b < ne0 / QK; b++, out += QK) {
        unpack_row(type, (const uint8_t *)group + (size_t)b * bb, b, r, &k);
        const float d = ingot_fp16_to_fp32(k.d);
        /* the reference dequantizers' operations, in their order */
        if (type == INGOT_TYPE_Q4_K) {
            const float dmin = ingot_fp16_to_fp32(k.dmin);
            for (int j = 0; j < 8; j++) {
                const float dl = d * (float)k.sc[j], ml = dmin * (float)k.m[j];
                for (int l = 0; l < 32; l++) out[32 * j + l] = dl * (float)k.q[32 * j + l] - ml;
            }
        } else {
            for (int j = 0; j < 16; j++) {
                const float dl = d * (float)k.sc[j];
                for (int l = 0; l < 16; l++) out[16 * j + l] = dl * (float)(k.q[16 * j + l] - 32);
            }
        }
    }
}

void ingot_pack_k_gemm_ref(ingot_type type, int64_t n, const void *w, int64_t ngroups, const void *act,
                           size_t act_row, int64_t ny, float *y, size_t ldy) {
    const size_t bb = ingot_pack_k_block_bytes(type), gb = (size_t)(n / QK) * bb;
    krow rows[16];
    for (int64_t g = 0; g < ngroups; g++)
        for (int64_t b = 0; b < n / QK; b++) {
            /* the block's rows once, then every activation row; the
             * running sums live in y (a float store is exact) */
            const uint8_t *blk = (const uint8_t *)w + (size_t)g * gb + (size_t)b * bb;
            for (int r = 0; r < 16; r++) unpack_row(type, blk, b, r, &rows[r]);
            for (int64_t t = 0; t < ny; t++) {
                const ingot_block_q8_k *a = (const ingot_block_q8_k *)((const char *)act + (size_t)t * act_row) + b;
                float *out = y + (size_t)t * ldy + (size_t)g * 16;
                for (int r = 0; r < 16; r++) {
                    const krow *k = &rows[r];
                    const float dx = ingot_fp16_to_fp32(k->d);
                    const float acc = b ? out[r] : 0.0f;
                    int32_t isum = 0;
                    if (type == INGOT_TYPE_Q4_K) {
                        int32_t msum = 0;
                        for (int j = 0; j < 8; j++) {
                            int32_t raw = 0;
                            for (int l = 0; l < 32; l++) raw += k->q[32 * j + l] * a->qs[32 * j + l];
                            isum += k->sc[j] * raw;
                            msum += k->m[j] * (a->bsums[2 * j] + a->bsums[2 * j + 1]);
                        }
                        const float dmin = ingot_fp16_to_fp32(k->dmin);
                        out[r] = fmaf(-(dmin * a->d), (float)msum, fmaf(dx * a->d, (float)isum, acc));
                    } else {
                        for (int j = 0; j < 16; j++) {
                            int32_t raw = 0;
                            for (int l = 0; l < 16; l++) raw += k->q[16 * j + l] * a->qs[16 * j + l];
                            isum += k->sc[j] * (raw - 32 * a->bsums[j]);
                        }
                        out[r] = fmaf(dx * a->d, (float)isum, acc);
                    }
                }
            }
        }
}
