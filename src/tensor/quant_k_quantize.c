/* Reference quantizers of the K-quants Q2_K..Q6_K. Each sub-block's scale
 * (and min) is chosen by a search rather than from the block's extremes:
 * a few candidate grids are tried and, for each, the scale (and min) that
 * minimise the weighted squared error for that rounding are solved in
 * closed form; the best fit wins. The sub-block scales are then quantized
 * to the format's small integers under one fp16 super-scale, and every
 * value is re-rounded against the scale it will actually be decoded with.
 * This follows the algorithm of llama.cpp's documented reference
 * quantizers (same candidates, weights and arithmetic order), so on the
 * same input the blocks agree with llama-quantize's and the error matches. */
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
#define GROUP_EPS 1e-15f /* below this a group is treated as all zeros */

/* Asymmetric fit of x[0..n) to levels 0..nmax: x ~ scale * L + min with
 * min <= 0 (the formats store -min as an unsigned number). Tries the grids
 * that map [min, max] onto nmax + rmin + rdelta*k levels (k < nstep+1) and
 * keeps the weighted least-squares (scale, min) of the best one; use_mad
 * measures absolute instead of squared error. Returns scale, *neg_min =
 * -min, levels in L. */
static float fit_scale_min(int n, int nmax, const float *x, const float *w, uint8_t *L,
                           float *neg_min, float rmin, float rdelta, int nstep, bool use_mad) {
    uint8_t trial[32];
    float lo = x[0], hi = x[0];
    float sum_w = w[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (lo > 0) lo = 0;
    if (hi == lo) {
        memset(L, 0, (size_t)n);
        *neg_min = -lo;
        return 0.0f;
    }
    float iscale = (float)nmax / (hi - lo);
    float scale = 1.0f / iscale;
    float best = 0;
    for (int i = 0; i < n; i++) {
        L[i] = (uint8_t)ingot_q_round(iscale * (x[i] - lo), 0, nmax);
        float diff = scale * (float)L[i] + lo - x[i];
        best += w[i] * (use_mad ? fabsf(diff) : diff * diff);
    }
    for (int k = 0; k <= nstep; k++) {
        iscale = (rmin + rdelta * (float)k + (float)nmax) / (hi - lo);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = ingot_q_round(iscale * (x[i] - lo), 0, nmax);
            trial[i] = (uint8_t)l;
            sum_l += w[i] * (float)l;
            sum_l2 += w[i] * (float)l * (float)l;
            sum_xl += w[i] * (float)l * x[i];
        }
        float det = sum_w * sum_l2 - sum_l * sum_l;
        if (!(det > 0)) continue;
        float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
        float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
        if (this_min > 0) { /* the format cannot add: refit with min = 0 */
            this_min = 0;
            this_scale = sum_xl / sum_l2;
        }
        float err = 0;
        for (int i = 0; i < n; i++) {
            float diff = this_scale * (float)trial[i] + this_min - x[i];
            err += w[i] * (use_mad ? fabsf(diff) : diff * diff);
        }
        if (err < best) {
            memcpy(L, trial, (size_t)n);
            best = err;
            scale = this_scale;
            lo = this_min;
        }
    }
    *neg_min = -lo;
    return scale;
}

/* The element of largest magnitude, sign kept. */
static float signed_absmax(const float *x, int n, float *amax_out) {
    float amax = 0, max = 0;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > amax) { amax = fabsf(x[i]); max = x[i]; }
    *amax_out = amax;
    return max;
}

/* Symmetric fit to levels -nmax..nmax-1 weighting each element by x^2
 * (large values matter most for a dot product): tries 19 grids around the
 * one that maps the extreme onto -nmax and keeps the least-squares scale
 * of the best. Levels are stored offset by nmax. */
static float fit_scale_sym(int n, int nmax, const float *x, uint8_t *L) {
    float amax, max = signed_absmax(x, n, &amax);
    if (amax < GROUP_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float iscale = -(float)nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = ingot_q_round(iscale * x[i], -nmax, nmax - 1);
        L[i] = (uint8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int k = -9; k <= 9; k++) {
        if (k == 0) continue;
        iscale = -((float)nmax + 0.1f * (float)k) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = ingot_q_round(iscale * x[i], -nmax, nmax - 1);
            float w = x[i] * x[i];
            sumlx += w * x[i] * (float)l;
            suml2 += w * (float)l * (float)l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++)
                L[i] = (uint8_t)(nmax + ingot_q_round(iscale * x[i], -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* Symmetric fit for very few levels (-nmax..nmax-1), where one grid is
 * coarse: starting from the extreme-based rounding, each level is moved to
 * its best value given the others (coordinate descent on the x^2-weighted
 * least-squares objective sumlx^2/suml2) until nothing changes or five
 * passes are done. Levels stored offset by nmax. */
static float fit_scale_sym_refine(int n, int nmax, const float *x, uint8_t *L) {
    int8_t l8[16];
    float amax, max = signed_absmax(x, n, &amax);
    if (amax < GROUP_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float iscale = -(float)nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = ingot_q_round(iscale * x[i], -nmax, nmax - 1);
        l8[i] = (int8_t)l;
        float w = x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    for (int pass = 0; pass < 5; pass++) {
        int changed = 0;
        for (int i = 0; i < n; i++) {
            float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * (float)l8[i];
            if (!(slx > 0)) continue;
            float sl2 = suml2 - w * (float)l8[i] * (float)l8[i];
            int nl = ingot_q_round(x[i] * sl2 / slx, -nmax, nmax - 1);
            if (nl == l8[i]) continue;
            slx += w * x[i] * (float)nl;
            sl2 += w * (float)nl * (float)nl;
            if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                l8[i] = (int8_t)nl;
                sumlx = slx;
                suml2 = sl2;
                changed++;
            }
        }
        if (!changed) break;
    }
    for (int i = 0; i < n; i++) L[i] = (uint8_t)(l8[i] + nmax);
    return sumlx / suml2;
}

/* Packs 256 2-bit values in the K-quant crumb layout (see quant_k.c). */
static void pack_crumbs(const uint8_t *L, uint8_t *qs) {
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++) {
            const uint8_t *p = L + 128 * h + l;
            qs[32 * h + l] = (uint8_t)((p[0] & 3) | (p[32] & 3) << 2 | (p[64] & 3) << 4 | (p[96] & 3) << 6);
        }
}

/* ---- Q2_K ---- */

void ingot_q2_k_from_float(const float *x, void *vy, int64_t n) {
    ingot_block_q2_k *y = vy;
    uint8_t L[QK];
    float w[16], scales[16], mins[16];
    for (int64_t i = 0; i < n / QK; i++, x += QK) {
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++) w[l] = fabsf(x[16 * j + l]);
            scales[j] = fit_scale_min(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], -0.5f, 0.1f, 15, true);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        memset(y[i].scales, 0, sizeof y[i].scales);
        y[i].d = y[i].dmin = 0;
        if (max_scale > 0) {
            float iscale = 15.0f / max_scale;
            for (int j = 0; j < 16; j++) y[i].scales[j] = (uint8_t)ingot_q_round(iscale * scales[j], 0, 15);
            y[i].d = ingot_fp32_to_fp16(max_scale / 15.0f);
        }
        if (max_min > 0) {
            float iscale = 15.0f / max_min;
            for (int j = 0; j < 16; j++)
                y[i].scales[j] |= (uint8_t)(ingot_q_round(iscale * mins[j], 0, 15) << 4);
            y[i].dmin = ingot_fp32_to_fp16(max_min / 15.0f);
        }
        float dq = ingot_fp16_to_fp32(y[i].d), mq = ingot_fp16_to_fp32(y[i].dmin);
        for (int j = 0; j < 16; j++) {
            float d = dq * (float)(y[i].scales[j] & 0x0f);
            if (d == 0.0f) continue;
            float dm = mq * (float)(y[i].scales[j] >> 4);
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (uint8_t)ingot_q_round((x[16 * j + l] + dm) / d, 0, 3);
        }
        pack_crumbs(L, y[i].qs);
    }
}

/* ---- Q3_K ---- */

void ingot_q3_k_from_float(const float *x, void *vy, int64_t n) {
    ingot_block_q3_k *y = vy;
    uint8_t L[QK];
    float scales[16];
    int8_t sc[16];
    for (int64_t i = 0; i < n / QK; i++, x += QK) {
        float amax = 0, max_scale = 0;
        for (int j = 0; j < 16; j++) {
            scales[j] = fit_scale_sym_refine(16, 4, x + 16 * j, L + 16 * j);
            if (fabsf(scales[j]) > amax) { amax = fabsf(scales[j]); max_scale = scales[j]; }
        }
        memset(y[i].scales, 0, sizeof y[i].scales);
        y[i].d = 0;
        if (max_scale != 0.0f) {
            float iscale = -32.0f / max_scale;
            for (int j = 0; j < 16; j++) {
                int l = ingot_q_round(iscale * scales[j], -32, 31) + 32;
                if (j < 8) y[i].scales[j] = (uint8_t)(l & 0x0f);
                else y[i].scales[j - 8] |= (uint8_t)((l & 0x0f) << 4);
                y[i].scales[8 + j % 4] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
            }
            y[i].d = ingot_fp32_to_fp16(1.0f / iscale);
        }
        ingot_q3_k_scales(y[i].scales, sc);
        float dq = ingot_fp16_to_fp32(y[i].d);
        for (int j = 0; j < 16; j++) {
            float d = dq * (float)sc[j];
            if (d == 0.0f) continue;
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (uint8_t)(ingot_q_round(x[16 * j + l] / d, -4, 3) + 4);
        }
        /* Bit 2 goes to hmask: element e sets bit e/32 of hmask[e%32]. */
        memset(y[i].hmask, 0, sizeof y[i].hmask);
        for (int e = 0; e < QK; e++)
            if (L[e] > 3) {
                y[i].hmask[e % 32] |= (uint8_t)(1u << (e / 32));
                L[e] -= 4;
            }
        pack_crumbs(L, y[i].qs);
    }
}

/* ---- Q4_K / Q5_K ---- */

/* Shared by Q4_K (nmax 15) and Q5_K (nmax 31): fits the eight 32-element
 * sub-blocks, quantizes their scales and mins to 6 bits, and leaves the
 * final levels in L. */
static void k32_quantize(const float *x, int nmax, float rmin, int nstep, uint16_t *d_out,
                         uint16_t *dmin_out, uint8_t *packed, uint8_t *L) {
    float w[32], scales[8], mins[8];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        const float *xb = x + 32 * j;
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += xb[l] * xb[l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) w[l] = av_x + fabsf(xb[l]);
        scales[j] = fit_scale_min(32, nmax, xb, w, L + 32 * j, &mins[j], rmin, 0.1f, nstep, false);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
    memset(packed, 0, INGOT_K_SCALE_SIZE);
    for (int j = 0; j < 8; j++) {
        int ls = ingot_q_round(inv_scale * scales[j], 0, 63);
        int lm = ingot_q_round(inv_min * mins[j], 0, 63);
        if (j < 4) {
            packed[j] = (uint8_t)ls;
            packed[j + 4] = (uint8_t)lm;
        } else {
            packed[j + 4] = (uint8_t)((ls & 0x0f) | (lm & 0x0f) << 4);
            packed[j - 4] |= (uint8_t)((ls >> 4) << 6);
            packed[j] |= (uint8_t)((lm >> 4) << 6);
        }
    }
    *d_out = ingot_fp32_to_fp16(max_scale / 63.0f);
    *dmin_out = ingot_fp32_to_fp16(max_min / 63.0f);
    float dq = ingot_fp16_to_fp32(*d_out), mq = ingot_fp16_to_fp32(*dmin_out);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        ingot_k4_scale_min(j, packed, &sc, &m);
        float d = dq * (float)sc;
        if (d == 0.0f) continue;
        float dm = mq * (float)m;
        for (int l = 0; l < 32; l++)
            L[32 * j + l] = (uint8_t)ingot_q_round((x[32 * j + l] + dm) / d, 0, nmax);
    }
}

void ingot_q4_k_from_float(const float *x, void *vy, int64_t n) {
    ingot_block_q4_k *y = vy;
    uint8_t L[QK];
    for (int64_t i = 0; i < n / QK; i++, x += QK) {
        k32_quantize(x, 15, -1.0f, 20, &y[i].d, &y[i].dmin, y[i].scales, L);
        for (int p = 0; p < 4; p++)
            for (int l = 0; l < 32; l++)
                y[i].qs[32 * p + l] = (uint8_t)(L[64 * p + l] | L[64 * p + 32 + l] << 4);
    }
}

void ingot_q5_k_from_float(const float *x, void *vy, int64_t n) {
    ingot_block_q5_k *y = vy;
    uint8_t L[QK];
    for (int64_t i = 0; i < n / QK; i++, x += QK) {
        k32_quantize(x, 31, -0.5f, 15, &y[i].d, &y[i].dmin, y[i].scales, L);
        memset(y[i].qh, 0, sizeof y[i].qh);
        for (int e = 0; e < QK; e++)
            if (L[e] > 15) y[i].qh[e % 32] |= (uint8_t)(1u << (e / 32));
        for (int p = 0; p < 4; p++)
            for (int l = 0; l < 32; l++)
                y[i].qs[32 * p + l] =
                    (uint8_t)((L[64 * p + l] & 0x0f) | (L[64 * p + 32 + l] & 0x0f) << 4);
    }
}

/* ---- Q6_K ---- */

void ingot_q6_k_from_float(const float *x, void *vy, int64_t n) {
    ingot_block_q6_k *y = vy;
    uint8_t L[QK];
    float scales[16];
    for (int64_t i = 0; i < n / QK; i++, x += QK) {
        float amax = 0, max_scale = 0;
        for (int j = 0; j < 16; j++) {
            scales[j] = fit_scale_sym(16, 32, x + 16 * j, L + 16 * j);
            if (fabsf(scales[j]) > amax) { amax = fabsf(scales[j]); max_scale = scales[j]; }
        }
        if (amax < GROUP_EPS) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        float iscale = -128.0f / max_scale;
        y[i].d = ingot_fp32_to_fp16(1.0f / iscale);
        for (int j = 0; j < 16; j++) y[i].scales[j] = (int8_t)ingot_q_round(iscale * scales[j], -128, 127);
        float dq = ingot_fp16_to_fp32(y[i].d);
        for (int j = 0; j < 16; j++) {
            float d = dq * (float)y[i].scales[j];
            if (d == 0.0f) continue;
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (uint8_t)(ingot_q_round(x[16 * j + l] / d, -32, 31) + 32);
        }
        /* Low nibbles: l with l+64 and l+32 with l+96 share a byte in each
         * 128-half; the 2 high bits of the half's four 32-groups share qh. */
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < 32; l++) {
                const uint8_t *p = L + 128 * h + l;
                y[i].ql[64 * h + l] = (uint8_t)((p[0] & 0x0f) | (p[64] & 0x0f) << 4);
                y[i].ql[64 * h + 32 + l] = (uint8_t)((p[32] & 0x0f) | (p[96] & 0x0f) << 4);
                y[i].qh[32 * h + l] =
                    (uint8_t)((p[0] >> 4) | (p[32] >> 4) << 2 | (p[64] >> 4) << 4 | (p[96] >> 4) << 6);
            }
    }
}
