/* Reference kernels of the 32-element block types Q4_0, Q4_1, Q5_0, Q5_1
 * and the activation types Q8_0, Q8_1: dequantization, the round-to-grid
 * quantizers of the formats' reference (scale from the block's extreme,
 * no search), and integer dot products against Q8_0 (symmetric types) or
 * Q8_1 (types with a min, whose s = d*sum(q) folds the min in). */
#include "tensor/quants.h"
#include "tensor/types.h"

/* Results must not depend on the compiler fusing a*b+c into one rounding
 * (clang does by default): dequantization is compared bit for bit with
 * the reference and quantization block for block with llama-quantize. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include <float.h>
#include <string.h>

#define FP16(h) ingot_fp16_to_fp32(h)

static uint32_t load_u32le(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store_u32le(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* The value of largest magnitude, sign kept (symmetric types map it to
 * the most negative level so that the full range is used). */
static float signed_absmax(const float *x, int n) {
    float amax = 0, max = 0;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > amax) { amax = fabsf(x[i]); max = x[i]; }
    return max;
}

static void min_max(const float *x, int n, float *mn, float *mx) {
    float lo = FLT_MAX, hi = -FLT_MAX;
    for (int i = 0; i < n; i++) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
    }
    *mn = lo;
    *mx = hi;
}

/* ---- Q4_0 ---- */

void ingot_q4_0_to_float(const void *vx, float *y, int64_t n) {
    const ingot_block_q4_0 *x = vx;
    for (int64_t i = 0; i < n / INGOT_QK4_0; i++, y += INGOT_QK4_0) {
        float d = FP16(x[i].d);
        for (int j = 0; j < INGOT_QK4_0 / 2; j++) {
            y[j] = d * (float)((x[i].qs[j] & 0x0f) - 8);
            y[j + INGOT_QK4_0 / 2] = d * (float)((x[i].qs[j] >> 4) - 8);
        }
    }
}

void ingot_q4_0_from_float(const float *x, void *vy, int64_t n) {
    ingot_block_q4_0 *y = vy;
    for (int64_t i = 0; i < n / INGOT_QK4_0; i++, x += INGOT_QK4_0) {
        float d = signed_absmax(x, INGOT_QK4_0) / -8.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = ingot_fp32_to_fp16(d);
        for (int j = 0; j < INGOT_QK4_0 / 2; j++) {
            int q0 = ingot_q_trunc(x[j] * id + 8.5f, 15);
            int q1 = ingot_q_trunc(x[j + INGOT_QK4_0 / 2] * id + 8.5f, 15);
            y[i].qs[j] = (uint8_t)(q0 | q1 << 4);
        }
    }
}

void ingot_q4_0_vec_dot(int64_t n, float *s, const void *vx, const void *vy) {
    const ingot_block_q4_0 *x = vx;
    const ingot_block_q8_0 *y = vy;
    float sum = 0;
    for (int64_t i = 0; i < n / INGOT_QK4_0; i++) {
        int isum = 0;
        for (int j = 0; j < INGOT_QK4_0 / 2; j++) {
            isum += ((x[i].qs[j] & 0x0f) - 8) * y[i].qs[j];
            isum += ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + INGOT_QK4_0 / 2];
        }
        sum += (float)isum * FP16(x[i].d) * FP16(y[i].d);
    }
    *s = sum;
}

/* ---- Q4_1 ---- */

void ingot_q4_1_to_float(const void *vx, float *y, int64_t n) {
    const ingot_block_q4_1 *x = vx;
    for (int64_t i = 0; i < n / INGOT_QK4_1; i++, y += INGOT_QK4_1) {
        float d = FP16(x[i].d), m = FP16(x[i].m);
        for (int j = 0; j < INGOT_QK4_1 / 2; j++) {
            y[j] = d * (float)(x[i].qs[j] & 0x0f) + m;
            y[j + INGOT_QK4_1 / 2] = d * (float)(x[i].qs[j] >> 4) + m;
        }
    }
}

void ingot_q4_1_from_float(const float *x, void *vy, int64_t n) {
    ingot_block_q4_1 *y = vy;
    for (int64_t i = 0; i < n / INGOT_QK4_1; i++, x += INGOT_QK4_1) {
        float mn, mx;
        min_max(x, INGOT_QK4_1, &mn, &mx);
        float d = (mx - mn) / 15.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = ingot_fp32_to_fp16(d);
        y[i].m = ingot_fp32_to_fp16(mn);
        for (int j = 0; j < INGOT_QK4_1 / 2; j++) {
            int q0 = ingot_q_trunc((x[j] - mn) * id + 0.5f, 15);
            int q1 = ingot_q_trunc((x[j + INGOT_QK4_1 / 2] - mn) * id + 0.5f, 15);
            y[i].qs[j] = (uint8_t)(q0 | q1 << 4);
        }
    }
}

void ingot_q4_1_vec_dot(int64_t n, float *s, const void *vx, const void *vy) {
    const ingot_block_q4_1 *x = vx;
    const ingot_block_q8_1 *y = vy;
    float sum = 0;
    for (int64_t i = 0; i < n / INGOT_QK4_1; i++) {
        int isum = 0;
        for (int j = 0; j < INGOT_QK4_1 / 2; j++) {
            isum += (x[i].qs[j] & 0x0f) * y[i].qs[j];
            isum += (x[i].qs[j] >> 4) * y[i].qs[j + INGOT_QK4_1 / 2];
        }
        sum += FP16(x[i].d) * FP16(y[i].d) * (float)isum + FP16(x[i].m) * FP16(y[i].s);
    }
    *s = sum;
}

/* ---- Q5_0 ---- */

void ingot_q5_0_to_float(const void *vx, float *y, int64_t n) {
    const ingot_block_q5_0 *x = vx;
    for (int64_t i = 0; i < n / INGOT_QK5_0; i++, y += INGOT_QK5_0) {
        float d = FP16(x[i].d);
        uint32_t qh = load_u32le(x[i].qh);
        for (int j = 0; j < INGOT_QK5_0 / 2; j++) {
            int q0 = (x[i].qs[j] & 0x0f) | (int)((qh >> j) & 1) << 4;
            int q1 = (x[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            y[j] = d * (float)(q0 - 16);
            y[j + INGOT_QK5_0 / 2] = d * (float)(q1 - 16);
        }
    }
}

void ingot_q5_0_from_float(const float *x, void *vy, int64_t n) {
    ingot_block_q5_0 *y = vy;
    for (int64_t i = 0; i < n / INGOT_QK5_0; i++, x += INGOT_QK5_0) {
        float d = signed_absmax(x, INGOT_QK5_0) / -16.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = ingot_fp32_to_fp16(d);
        uint32_t qh = 0;
        for (int j = 0; j < INGOT_QK5_0 / 2; j++) {
            int q0 = ingot_q_trunc(x[j] * id + 16.5f, 31);
            int q1 = ingot_q_trunc(x[j + INGOT_QK5_0 / 2] * id + 16.5f, 31);
            y[i].qs[j] = (uint8_t)((q0 & 0x0f) | (q1 & 0x0f) << 4);
            qh |= (uint32_t)(q0 >> 4) << j | (uint32_t)(q1 >> 4) << (j + 16);
        }
        store_u32le(y[i].qh, qh);
    }
}

void ingot_q5_0_vec_dot(int64_t n, float *s, const void *vx, const void *vy) {
    const ingot_block_q5_0 *x = vx;
    const ingot_block_q8_0 *y = vy;
    float sum = 0;
    for (int64_t i = 0; i < n / INGOT_QK5_0; i++) {
        uint32_t qh = load_u32le(x[i].qh);
        int isum = 0;
        for (int j = 0; j < INGOT_QK5_0 / 2; j++) {
            int q0 = ((x[i].qs[j] & 0x0f) | (int)((qh >> j) & 1) << 4) - 16;
            int q1 = ((x[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4) - 16;
            isum += q0 * y[i].qs[j] + q1 * y[i].qs[j + INGOT_QK5_0 / 2];
        }
        sum += FP16(x[i].d) * FP16(y[i].d) * (float)isum;
    }
    *s = sum;
}

/* ---- Q5_1 ---- */

void ingot_q5_1_to_float(const void *vx, float *y, int64_t n) {
    const ingot_block_q5_1 *x = vx;
    for (int64_t i = 0; i < n / INGOT_QK5_1; i++, y += INGOT_QK5_1) {
        float d = FP16(x[i].d), m = FP16(x[i].m);
        uint32_t qh = load_u32le(x[i].qh);
        for (int j = 0; j < INGOT_QK5_1 / 2; j++) {
            int q0 = (x[i].qs[j] & 0x0f) | (int)((qh >> j) & 1) << 4;
            int q1 = (x[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            y[j] = d * (float)q0 + m;
            y[j + INGOT_QK5_1 / 2] = d * (float)q1 + m;
        }
    }
}

void ingot_q5_1_from_float(const float *x, void *vy, int64_t n) {
    ingot_block_q5_1 *y = vy;
    for (int64_t i = 0; i < n / INGOT_QK5_1; i++, x += INGOT_QK5_1) {
        float mn, mx;
        min_max(x, INGOT_QK5_1, &mn, &mx);
        float d = (mx - mn) / 31.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = ingot_fp32_to_fp16(d);
        y[i].m = ingot_fp32_to_fp16(mn);
        uint32_t qh = 0;
        for (int j = 0; j < INGOT_QK5_1 / 2; j++) {
            int q0 = ingot_q_trunc((x[j] - mn) * id + 0.5f, 31);
            int q1 = ingot_q_trunc((x[j + INGOT_QK5_1 / 2] - mn) * id + 0.5f, 31);
            y[i].qs[j] = (uint8_t)((q0 & 0x0f) | (q1 & 0x0f) << 4);
            qh |= (uint32_t)(q0 >> 4) << j | (uint32_t)(q1 >> 4) << (j + 16);
        }
        store_u32le(y[i].qh, qh);
    }
}

void ingot_q5_1_vec_dot(int64_t n, float *s, const void *vx, const void *vy) {
    const ingot_block_q5_1 *x = vx;
    const ingot_block_q8_1 *y = vy;
    float sum = 0;
    for (int64_t i = 0; i < n / INGOT_QK5_1; i++) {
        uint32_t qh = load_u32le(x[i].qh);
        int isum = 0;
        for (int j = 0; j < INGOT_QK5_1 / 2; j++) {
            int q0 = (x[i].qs[j] & 0x0f) | (int)((qh >> j) & 1) << 4;
            int q1 = (x[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            isum += q0 * y[i].qs[j] + q1 * y[i].qs[j + INGOT_QK5_1 / 2];
        }
        sum += FP16(x[i].d) * FP16(y[i].d) * (float)isum + FP16(x[i].m) * FP16(y[i].s);
    }
    *s = sum;
}

/* ---- Q8_0 / Q8_1 ---- */

void ingot_q8_0_to_float(const void *vx, float *y, int64_t n) {
    const ingot_block_q8_0 *x = vx;
    for (int64_t i = 0; i < n / INGOT_QK8_0; i++, y += INGOT_QK8_0) {
        float d = FP16(x[i].d);
        for (int j = 0; j < INGOT_QK8_0; j++) y[j] = d * (float)x[i].qs[j];
    }
}

static float absmax(const float *x, int n) {
    float amax = 0;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > amax) amax = fabsf(x[i]);
    return amax;
}

void ingot_q8_0_from_float(const float *x, void *vy, int64_t n) {
    ingot_block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / INGOT_QK8_0; i++, x += INGOT_QK8_0) {
        float d = absmax(x, INGOT_QK8_0) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = ingot_fp32_to_fp16(d);
        for (int j = 0; j < INGOT_QK8_0; j++)
            y[i].qs[j] = (int8_t)ingot_q_round_away(x[j] * id, -127, 127);
    }
}

void ingot_q8_0_vec_dot(int64_t n, float *s, const void *vx, const void *vy) {
    const ingot_block_q8_0 *x = vx, *y = vy;
    float sum = 0;
    for (int64_t i = 0; i < n / INGOT_QK8_0; i++) {
        int isum = 0;
        for (int j = 0; j < INGOT_QK8_0; j++) isum += x[i].qs[j] * y[i].qs[j];
        sum += (float)isum * (FP16(x[i].d) * FP16(y[i].d));
    }
    *s = sum;
}

void ingot_q8_1_to_float(const void *vx, float *y, int64_t n) {
    const ingot_block_q8_1 *x = vx;
    for (int64_t i = 0; i < n / INGOT_QK8_1; i++, y += INGOT_QK8_1) {
        float d = FP16(x[i].d);
        for (int j = 0; j < INGOT_QK8_1; j++) y[j] = d * (float)x[i].qs[j];
    }
}

void ingot_q8_1_from_float(const float *x, void *vy, int64_t n) {
    ingot_block_q8_1 *y = vy;
    for (int64_t i = 0; i < n / INGOT_QK8_1; i++, x += INGOT_QK8_1) {
        float d = absmax(x, INGOT_QK8_1) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int j = 0; j < INGOT_QK8_1; j++) {
            y[i].qs[j] = (int8_t)ingot_q_round_away(x[j] * id, -127, 127);
            sum += y[i].qs[j];
        }
        y[i].d = ingot_fp32_to_fp16(d);
        y[i].s = ingot_fp32_to_fp16((float)sum * d);
    }
}
