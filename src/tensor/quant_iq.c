/* Reference kernels of the non-linear 4-bit types IQ4_NL (32-element
 * blocks, one fp16 scale) and IQ4_XS (256-element super-blocks with 6-bit
 * sub-block scales): every 4-bit index selects one of 16 fixed levels
 * spaced more densely near zero, where weights cluster. Dequantization,
 * dot products against Q8_0 / Q8_K, and quantizers that search the scale
 * by weighted least squares over the level grid. */
#include "tensor/quants.h"
#include "tensor/types.h"

/* Results must not depend on the compiler fusing a*b+c into one rounding
 * (clang does by default): dequantization is compared bit for bit with
 * the reference and quantization block for block with llama-quantize. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include <string.h>

#define FP16(h) ingot_fp16_to_fp32(h)

const int8_t ingot_iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                       1,    13,   25,  38,  53,  69,  89,  113};

/* ---- IQ4_NL ---- */

void ingot_iq4_nl_to_float(const void *vx, float *y, int64_t n) {
    const ingot_block_iq4_nl *x = vx;
    for (int64_t i = 0; i < n / INGOT_QK4_NL; i++, y += INGOT_QK4_NL) {
        float d = FP16(x[i].d);
        for (int j = 0; j < INGOT_QK4_NL / 2; j++) {
            y[j] = d * (float)ingot_iq4nl_values[x[i].qs[j] & 0x0f];
            y[j + INGOT_QK4_NL / 2] = d * (float)ingot_iq4nl_values[x[i].qs[j] >> 4];
        }
    }
}

void ingot_iq4_nl_vec_dot(int64_t n, float *s, const void *vx, const void *vy) {
    const ingot_block_iq4_nl *x = vx;
    const ingot_block_q8_0 *y = vy;
    float sum = 0;
    for (int64_t i = 0; i < n / INGOT_QK4_NL; i++) {
        int isum = 0;
        for (int j = 0; j < INGOT_QK4_NL / 2; j++) {
            isum += ingot_iq4nl_values[x[i].qs[j] & 0x0f] * y[i].qs[j];
            isum += ingot_iq4nl_values[x[i].qs[j] >> 4] * y[i].qs[j + INGOT_QK4_NL / 2];
        }
        sum += FP16(x[i].d) * FP16(y[i].d) * (float)isum;
    }
    *s = sum;
}

/* ---- IQ4_XS ---- */

static int iq4_xs_scale(const ingot_block_iq4_xs *b, int ib) {
    int lo = (b->scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0f;
    int hi = (b->scales_h >> (2 * ib)) & 3;
    return (lo | hi << 4) - 32;
}

void ingot_iq4_xs_to_float(const void *vx, float *y, int64_t n) {
    const ingot_block_iq4_xs *x = vx;
    for (int64_t i = 0; i < n / INGOT_QK_K; i++) {
        float d = FP16(x[i].d);
        for (int ib = 0; ib < INGOT_QK_K / 32; ib++, y += 32) {
            float dl = d * (float)iq4_xs_scale(&x[i], ib);
            const uint8_t *qs = x[i].qs + 16 * ib;
            for (int j = 0; j < 16; j++) {
                y[j] = dl * (float)ingot_iq4nl_values[qs[j] & 0x0f];
                y[j + 16] = dl * (float)ingot_iq4nl_values[qs[j] >> 4];
            }
        }
    }
}

void ingot_iq4_xs_vec_dot(int64_t n, float *s, const void *vx, const void *vy) {
    const ingot_block_iq4_xs *x = vx;
    const ingot_block_q8_k *y = vy;
    float sum = 0;
    for (int64_t i = 0; i < n / INGOT_QK_K; i++) {
        int isum = 0;
        for (int ib = 0; ib < INGOT_QK_K / 32; ib++) {
            const uint8_t *qs = x[i].qs + 16 * ib;
            const int8_t *q8 = y[i].qs + 32 * ib;
            int sub = 0;
            for (int j = 0; j < 16; j++) {
                sub += ingot_iq4nl_values[qs[j] & 0x0f] * q8[j];
                sub += ingot_iq4nl_values[qs[j] >> 4] * q8[j + 16];
            }
            isum += iq4_xs_scale(&x[i], ib) * sub;
        }
        sum += FP16(x[i].d) * y[i].d * (float)isum;
    }
    *s = sum;
}

/* ---- quantization ---- */

/* Index of the level nearest to v (ties go up). */
static int iq4_nearest(float v) {
    if (!(v > ingot_iq4nl_values[0])) return 0;
    int k = 1;
    while (k < 15 && (float)ingot_iq4nl_values[k] < v) k++;
    float below = v - (float)ingot_iq4nl_values[k - 1], above = (float)ingot_iq4nl_values[k] - v;
    return below < above ? k - 1 : k;
}

/* Best scale for 32 values on the level grid, weights x^2. The grid is
 * asymmetric (-127..113), so the extreme is tried against either end and
 * a few neighbouring levels; for each rounding, the least-squares scale. */
static float iq4_fit(const float *x) {
    float amax = 0, max = 0;
    for (int j = 0; j < 32; j++)
        if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); max = x[j]; }
    if (amax < 1e-15f) return 0.0f;
    float best_d = -max / (float)ingot_iq4nl_values[0], best = -1;
    for (int end = 0; end < 2; end++) {
        float top = end ? (float)ingot_iq4nl_values[15] : (float)ingot_iq4nl_values[0];
        for (int t = -7; t <= 7; t++) {
            float id = (top + (float)t) / max;
            float sumqx = 0, sumq2 = 0;
            for (int j = 0; j < 32; j++) {
                float q = (float)ingot_iq4nl_values[iq4_nearest(id * x[j])];
                float w = x[j] * x[j];
                sumqx += w * q * x[j];
                sumq2 += w * q * q;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                best_d = sumqx / sumq2;
                best = best_d * sumqx;
            }
        }
    }
    return best_d;
}

static void iq4_pack32(const float *x, float d, uint8_t *qs) {
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int j = 0; j < 16; j++)
        qs[j] = (uint8_t)(iq4_nearest(id * x[j]) | iq4_nearest(id * x[j + 16]) << 4);
}

void ingot_iq4_nl_from_float(const float *x, void *vy, int64_t n) {
    ingot_block_iq4_nl *y = vy;
    for (int64_t i = 0; i < n / INGOT_QK4_NL; i++, x += INGOT_QK4_NL) {
        y[i].d = ingot_fp32_to_fp16(iq4_fit(x));
        iq4_pack32(x, FP16(y[i].d), y[i].qs);
    }
}

void ingot_iq4_xs_from_float(const float *x, void *vy, int64_t n) {
    ingot_block_iq4_xs *y = vy;
    float scales[8];
    for (int64_t i = 0; i < n / INGOT_QK_K; i++, x += INGOT_QK_K) {
        float amax = 0, max_scale = 0;
        for (int ib = 0; ib < 8; ib++) {
            scales[ib] = iq4_fit(x + 32 * ib);
            if (fabsf(scales[ib]) > amax) { amax = fabsf(scales[ib]); max_scale = scales[ib]; }
        }
        memset(&y[i], 0, sizeof y[i]);
        /* The largest sub-scale maps to -32, the end with the most room. */
        float d = -max_scale / 32.0f;
        y[i].d = ingot_fp32_to_fp16(d);
        float dq = FP16(y[i].d);
        float id = dq != 0.0f ? 1.0f / dq : 0.0f;
        uint16_t sh = 0;
        for (int ib = 0; ib < 8; ib++) {
            int l = ingot_q_round(id * scales[ib], -32, 31);
            iq4_pack32(x + 32 * ib, dq * (float)l, y[i].qs + 16 * ib);
            l += 32;
            y[i].scales_l[ib / 2] |= (uint8_t)((l & 0x0f) << (4 * (ib % 2)));
            sh |= (uint16_t)((l >> 4) << (2 * ib));
        }
        y[i].scales_h = sh;
    }
}
