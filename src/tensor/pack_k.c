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
#include <stddef.h>
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
 * bit order of quant_k.c's reference unpacking: per 128-weight half h and
 * l < 32, ql[64h+l] holds weights l (low nibble) and 64+l (high), ql[64h+32+l]
 * weights 32+l and 96+l, bit pairs 0-1..6-7 of qh[32h+l] their high bits. */
static uint32_t ld32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void st32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* Four bytes at a time: the shifts move bits within each byte, the masks
 * drop what crossed into a neighbour. */
static void q6_k_quants(const ingot_block_q6_k *x, uint8_t q[QK]) {
    const uint32_t m4 = 0x0f0f0f0fu, m30 = 0x30303030u;
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = x->ql + 64 * h, *qh = x->qh + 32 * h;
        uint8_t *o = q + 128 * h;
        for (int l = 0; l < 32; l += 4) {
            const uint32_t a = ld32(ql + l), b = ld32(ql + 32 + l), c = ld32(qh + l);
            st32(o + l, (a & m4) | (c << 4 & m30));
            st32(o + 32 + l, (b & m4) | (c << 2 & m30));
            st32(o + 64 + l, (a >> 4 & m4) | (c & m30));
            st32(o + 96 + l, (b >> 4 & m4) | (c >> 2 & m30));
        }
    }
}

void ingot_pack_k_block(ingot_type type, const char *rows, size_t row_bytes, int64_t b, uint8_t *dst) {
    if (type == INGOT_TYPE_Q4_K) {
        /* a 4-byte interleave of the rows' own bytes */
        ingot_pack_q4_k *p = (ingot_pack_q4_k *)dst;
        const uint8_t *x[16];
        for (int r = 0; r < 16; r++) {
            x[r] = (const uint8_t *)((const ingot_block_q4_k *)(rows + (size_t)r * row_bytes) + b);
            memcpy(&p->d[r], x[r] + offsetof(ingot_block_q4_k, d), 2);
            memcpy(&p->dmin[r], x[r] + offsetof(ingot_block_q4_k, dmin), 2);
        }
        /* whole 64-byte lines of the destination, one after the other */
        for (int k = 0; k < 3; k++)
            for (int r = 0; r < 16; r++) st32(&p->scales[k][4 * r], ld32(x[r] + offsetof(ingot_block_q4_k, scales) + 4 * k));
        for (int c = 0; c < 32; c++)
            for (int r = 0; r < 16; r++) st32(&p->qs[c][4 * r], ld32(x[r] + offsetof(ingot_block_q4_k, qs) + 4 * c));
        return;
    }
    uint8_t *q = dst + ingot_pack_q6_k_q(b), *sc = dst + ingot_pack_q6_k_scales(b), *d = dst + ingot_pack_q6_k_d(b);
    uint8_t v[16][QK];
    for (int r = 0; r < 16; r++) {
        const ingot_block_q6_k *x = (const ingot_block_q6_k *)(rows + (size_t)r * row_bytes) + b;
        q6_k_quants(x, v[r]);
        memcpy(d + 2 * r, &x->d, 2);
        for (int j = 0; j < 16; j++) sc[16 * j + r] = (uint8_t)x->scales[j];
    }
    const uint32_t mc0 = 0xc0c0c0c0u;
    for (int j = 0; j < 16; j++, q += 192)
        for (int r = 0; r < 16; r++) {
            const uint8_t *s = v[r] + 16 * j;
            const uint32_t top = ld32(s + 12);
            st32(q + 4 * r, ld32(s) | (top << 6 & mc0));
            st32(q + 64 + 4 * r, ld32(s + 4) | (top << 4 & mc0));
            st32(q + 128 + 4 * r, ld32(s + 8) | (top << 2 & mc0));
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
