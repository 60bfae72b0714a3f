/* Reference kernels of the K-quants (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K: 256
 * elements per super-block, sub-blocks with small integer scales under one
 * or two fp16 super-scales) and of their activation type Q8_K: bit
 * unpacking, dequantization and integer dot products. Each block is first
 * unpacked to one small integer per element plus one integer scale (and
 * min) per sub-block; dequantization and the dot product both read that,
 * so the bit layout lives in exactly one place per type. The quantizers
 * are in quant_k_quantize.c. */
#include "tensor/quants.h"
#include "tensor/types.h"

/* Results must not depend on the compiler fusing a*b+c into one rounding
 * (clang does by default): dequantization is compared bit for bit with
 * the reference and quantization block for block with llama-quantize. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include <string.h>

#define QK INGOT_QK_K
#define FP16(h) ingot_fp16_to_fp32(h)

/* Element e of a 2-bit plane packed as llama.cpp's K-quants pack them:
 * each 128-element half uses 32 bytes, and the four 32-element groups of
 * the half sit in bit pairs 0-1, 2-3, 4-5, 6-7 of those bytes. */
static int crumb_at(const uint8_t *qs, int e) {
    return (qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
}

void ingot_k4_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0x0f) | (q[j - 4] >> 6) << 4);
        *m = (uint8_t)((q[j + 4] >> 4) | (q[j] >> 6) << 4);
    }
}

void ingot_q3_k_scales(const uint8_t *p, int8_t out[16]) {
    for (int j = 0; j < 16; j++) {
        int lo = j < 8 ? p[j] & 0x0f : p[j - 8] >> 4;
        int hi = (p[8 + j % 4] >> (2 * (j / 4))) & 3;
        out[j] = (int8_t)((lo | hi << 4) - 32);
    }
}

/* ---- Q2_K: q in 0..3, per 16: scale and min in 0..15 ---- */

static void q2_k_unpack(const ingot_block_q2_k *b, uint8_t q[QK]) {
    for (int e = 0; e < QK; e++) q[e] = (uint8_t)crumb_at(b->qs, e);
}

void ingot_q2_k_to_float(const void *vx, float *y, int64_t n) {
    const ingot_block_q2_k *x = vx;
    uint8_t q[QK];
    for (int64_t i = 0; i < n / QK; i++, y += QK) {
        float d = FP16(x[i].d), dmin = FP16(x[i].dmin);
        q2_k_unpack(&x[i], q);
        for (int j = 0; j < QK / 16; j++) {
            float dl = d * (float)(x[i].scales[j] & 0x0f);
            float ml = dmin * (float)(x[i].scales[j] >> 4);
            for (int l = 0; l < 16; l++) y[16 * j + l] = dl * (float)q[16 * j + l] - ml;
        }
    }
}

void ingot_q2_k_vec_dot(int64_t n, float *s, const void *vx, const void *vy) {
    const ingot_block_q2_k *x = vx;
    const ingot_block_q8_k *y = vy;
    uint8_t q[QK];
    float sum = 0;
    for (int64_t i = 0; i < n / QK; i++) {
        q2_k_unpack(&x[i], q);
        int isum = 0, msum = 0;
        for (int j = 0; j < QK / 16; j++) {
            int sub = 0;
            for (int l = 0; l < 16; l++) sub += q[16 * j + l] * y[i].qs[16 * j + l];
            isum += (x[i].scales[j] & 0x0f) * sub;
            msum += (x[i].scales[j] >> 4) * y[i].bsums[j];
        }
        float dall = y[i].d * FP16(x[i].d), dmin = y[i].d * FP16(x[i].dmin);
        sum += dall * (float)isum - dmin * (float)msum;
    }
    *s = sum;
}

/* ---- Q3_K: q in -4..3 (2 low bits + high bit set means "no -4") ---- */

static void q3_k_unpack(const ingot_block_q3_k *b, int8_t q[QK]) {
    for (int e = 0; e < QK; e++) {
        int high = (b->hmask[e % 32] >> (e / 32)) & 1;
        q[e] = (int8_t)(crumb_at(b->qs, e) - (high ? 0 : 4));
    }
}

void ingot_q3_k_to_float(const void *vx, float *y, int64_t n) {
    const ingot_block_q3_k *x = vx;
    int8_t q[QK], sc[16];
    for (int64_t i = 0; i < n / QK; i++, y += QK) {
        float d = FP16(x[i].d);
        q3_k_unpack(&x[i], q);
        ingot_q3_k_scales(x[i].scales, sc);
        for (int j = 0; j < QK / 16; j++) {
            float dl = d * (float)sc[j];
            for (int l = 0; l < 16; l++) y[16 * j + l] = dl * (float)q[16 * j + l];
        }
    }
}

void ingot_q3_k_vec_dot(int64_t n, float *s, const void *vx, const void *vy) {
    const ingot_block_q3_k *x = vx;
    const ingot_block_q8_k *y = vy;
    int8_t q[QK], sc[16];
    float sum = 0;
    for (int64_t i = 0; i < n / QK; i++) {
        q3_k_unpack(&x[i], q);
        ingot_q3_k_scales(x[i].scales, sc);
        int isum = 0;
        for (int j = 0; j < QK / 16; j++) {
            int sub = 0;
            for (int l = 0; l < 16; l++) sub += q[16 * j + l] * y[i].qs[16 * j + l];
            isum += sc[j] * sub;
        }
        sum += FP16(x[i].d) * y[i].d * (float)isum;
    }
    *s = sum;
}

/* ---- Q4_K / Q5_K: 8 sub-blocks of 32, 6-bit scale and min ---- */

/* Low 4 bits of element e: 64-element pairs of sub-blocks share 32 bytes,
 * the even sub-block in the low nibbles, the odd one in the high. */
static int nibble_at(const uint8_t *qs, int e) {
    const uint8_t b = qs[32 * (e / 64) + e % 32];
    return (e / 32) % 2 ? b >> 4 : b & 0x0f;
}

static void q4_k_unpack(const ingot_block_q4_k *b, uint8_t q[QK]) {
    for (int e = 0; e < QK; e++) q[e] = (uint8_t)nibble_at(b->qs, e);
}

static void q5_k_unpack(const ingot_block_q5_k *b, uint8_t q[QK]) {
    for (int e = 0; e < QK; e++)
        q[e] = (uint8_t)(nibble_at(b->qs, e) | ((b->qh[e % 32] >> (e / 32)) & 1) << 4);
}

/* Shared by Q4_K and Q5_K once the quants are unpacked. */
static void k32_to_float(const uint8_t *q, const uint8_t *scales, float d, float dmin, float *y) {
    for (int j = 0; j < QK / 32; j++) {
        uint8_t sc, m;
        ingot_k4_scale_min(j, scales, &sc, &m);
        float dl = d * (float)sc, ml = dmin * (float)m;
        for (int l = 0; l < 32; l++) y[32 * j + l] = dl * (float)q[32 * j + l] - ml;
    }
}

static float k32_dot(const uint8_t *q, const uint8_t *scales, float d, float dmin,
                     const ingot_block_q8_k *y) {
    int isum = 0, msum = 0;
    for (int j = 0; j < QK / 32; j++) {
        uint8_t sc, m;
        ingot_k4_scale_min(j, scales, &sc, &m);
        int sub = 0;
        for (int l = 0; l < 32; l++) sub += q[32 * j + l] * y->qs[32 * j + l];
        isum += sc * sub;
        msum += m * (y->bsums[2 * j] + y->bsums[2 * j + 1]);
    }
    return y->d * d * (float)isum - y->d * dmin * (float)msum;
}

void ingot_q4_k_to_float(const void *vx, float *y, int64_t n) {
    const ingot_block_q4_k *x = vx;
    uint8_t q[QK];
    for (int64_t i = 0; i < n / QK; i++, y += QK) {
        q4_k_unpack(&x[i], q);
        k32_to_float(q, x[i].scales, FP16(x[i].d), FP16(x[i].dmin), y);
    }
}

void ingot_q4_k_vec_dot(int64_t n, float *s, const void *vx, const void *vy) {
    const ingot_block_q4_k *x = vx;
    const ingot_block_q8_k *y = vy;
    uint8_t q[QK];
    float sum = 0;
    for (int64_t i = 0; i < n / QK; i++) {
        q4_k_unpack(&x[i], q);
        sum += k32_dot(q, x[i].scales, FP16(x[i].d), FP16(x[i].dmin), &y[i]);
    }
    *s = sum;
}

void ingot_q5_k_to_float(const void *vx, float *y, int64_t n) {
    const ingot_block_q5_k *x = vx;
    uint8_t q[QK];
    for (int64_t i = 0; i < n / QK; i++, y += QK) {
        q5_k_unpack(&x[i], q);
        k32_to_float(q, x[i].scales, FP16(x[i].d), FP16(x[i].dmin), y);
    }
}

void ingot_q5_k_vec_dot(int64_t n, float *s, const void *vx, const void *vy) {
    const ingot_block_q5_k *x = vx;
    const ingot_block_q8_k *y = vy;
    uint8_t q[QK];
    float sum = 0;
    for (int64_t i = 0; i < n / QK; i++) {
        q5_k_unpack(&x[i], q);
        sum += k32_dot(q, x[i].scales, FP16(x[i].d), FP16(x[i].dmin), &y[i]);
    }
    *s = sum;
}

/* ---- Q6_K: q in -32..31, int8 scale per 16 ---- */

/* Each 128-element half has 64 bytes of low nibbles (elements l and l+64
 * share ql[l], l+32 and l+96 share ql[l+32]) and 32 bytes of high bit
 * pairs (the four 32-groups in bit pairs 0-1..6-7). */
static void q6_k_unpack(const ingot_block_q6_k *b, int8_t q[QK]) {
    for (int e = 0; e < QK; e++) {
        int h = e / 128, r = e % 128, g = r / 32, l = r % 32;
        uint8_t lb = b->ql[64 * h + 32 * (g % 2) + l];
        int lo = g < 2 ? lb & 0x0f : lb >> 4;
        int hi = (b->qh[32 * h + l] >> (2 * g)) & 3;
        q[e] = (int8_t)((lo | hi << 4) - 32);
    }
}

void ingot_q6_k_to_float(const void *vx, float *y, int64_t n) {
    const ingot_block_q6_k *x = vx;
    int8_t q[QK];
    for (int64_t i = 0; i < n / QK; i++, y += QK) {
        float d = FP16(x[i].d);
        q6_k_unpack(&x[i], q);
        for (int j = 0; j < QK / 16; j++) {
            float dl = d * (float)x[i].scales[j];
            for (int l = 0; l < 16; l++) y[16 * j + l] = dl * (float)q[16 * j + l];
        }
    }
}

void ingot_q6_k_vec_dot(int64_t n, float *s, const void *vx, const void *vy) {
    const ingot_block_q6_k *x = vx;
    const ingot_block_q8_k *y = vy;
    int8_t q[QK];
    float sum = 0;
    for (int64_t i = 0; i < n / QK; i++) {
        q6_k_unpack(&x[i], q);
        int isum = 0;
        for (int j = 0; j < QK / 16; j++) {
            int sub = 0;
            for (int l = 0; l < 16; l++) sub += q[16 * j + l] * y[i].qs[16 * j + l];
            isum += x[i].scales[j] * sub;
        }
        sum += FP16(x[i].d) * y[i].d * (float)isum;
    }
    *s = sum;
}

/* ---- Q8_K: the activations of K-quant dots ---- */

void ingot_q8_k_to_float(const void *vx, float *y, int64_t n) {
    const ingot_block_q8_k *x = vx;
    for (int64_t i = 0; i < n / QK; i++, y += QK)
        for (int j = 0; j < QK; j++) y[j] = x[i].d * (float)x[i].qs[j];
}

void ingot_q8_k_from_float(const float *x, void *vy, int64_t n) {
    ingot_block_q8_k *y = vy;
    for (int64_t i = 0; i < n / QK; i++, x += QK) {
        float amax = 0, max = 0;
        for (int j = 0; j < QK; j++)
            if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); max = x[j]; }
        if (amax == 0.0f) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        /* The extreme maps to -127 so that its sign sets the scale's. */
        float iscale = -127.0f / max;
        for (int j = 0; j < QK; j++) y[i].qs[j] = (int8_t)ingot_q_round(iscale * x[j], -127, 127);
        for (int j = 0; j < QK / 16; j++) {
            int sum = 0;
            for (int l = 0; l < 16; l++) sum += y[i].qs[16 * j + l];
            y[i].bsums[j] = (int16_t)sum;
        }
        y[i].d = 1.0f / iscale;
    }
}
