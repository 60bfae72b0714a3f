/* Owns the choice of kernel set: the scalar reference set (the type
 * traits' vec_dot, a row-by-row vec_dot_n, and the activation quantizers
 * that every set must match bit for bit), and the run-time selection of
 * the best set for this CPU, made once per process. The per-ISA files
 * only fill tables; which of them may run is decided here alone. */
#include "tensor/kernels.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "tensor/quants.h"

/* Results must not depend on the compiler fusing a*b+c into one rounding:
 * the SIMD quantizers are compared bit for bit with these. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* Activation rows for Q8_0/Q8_1 dots are quantized the way llama.cpp's
 * SIMD x86/ARM paths do it at run time — scale 127/amax and ties to even —
 * which differs from the reference weight quantizer (1/(amax/127), ties
 * away) in the last bit. The difference flips a few int8 values per row,
 * and random-weight parity fixtures amplify such flips. */
/* 127/amax, or 0 where that is not finite (amax zero or so tiny that d
 * rounds to a zero fp16 anyway), so that no float -> int conversion is
 * ever out of range. */
static float act_inverse(float amax) {
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    return isfinite(id) ? id : 0.0f;
}

static void act_q8_0(const float *x, void *vy, int64_t n) {
    ingot_block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f, id = act_inverse(amax);
        y[i].d = ingot_fp32_to_fp16(d);
        for (int j = 0; j < 32; j++) y[i].qs[j] = (int8_t)nearbyintf(x[j] * id);
    }
}

static void act_q8_1(const float *x, void *vy, int64_t n) {
    ingot_block_q8_1 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f, id = act_inverse(amax);
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            y[i].qs[j] = (int8_t)nearbyintf(x[j] * id);
            sum += y[i].qs[j];
        }
        y[i].d = ingot_fp32_to_fp16(d);
        y[i].s = ingot_fp32_to_fp16(d * (float)sum);
    }
}

/* vec_dot_n of the reference set: one reference dot per activation row. */
#define REF_N(pre)                                                                          \
    static void ref_n_##pre(int64_t n, float *s, const void *x, const void *y, size_t stride, \
                            int ny) {                                                       \
        for (int j = 0; j < ny; j++)                                                        \
            ingot_##pre##_vec_dot(n, &s[j], x, (const char *)y + (size_t)j * stride);       \
    }
REF_N(f32)
REF_N(f16)
REF_N(bf16)
REF_N(q4_0)
REF_N(q4_1)
REF_N(q5_0)
REF_N(q5_1)
REF_N(q8_0)
REF_N(q2_k)
REF_N(q3_k)
REF_N(q4_k)
REF_N(q5_k)
REF_N(q6_k)
REF_N(iq4_nl)
REF_N(iq4_xs)
#undef REF_N

#define W(id, pre) \
    .vec_dot[INGOT_TYPE_##id] = ingot_##pre##_vec_dot, .vec_dot_n[INGOT_TYPE_##id] = ref_n_##pre
static const ingot_kernels ref_set = {
    .isa = "ref",
    W(F32, f32), W(F16, f16), W(BF16, bf16), W(Q4_0, q4_0), W(Q4_1, q4_1), W(Q5_0, q5_0),
    W(Q5_1, q5_1), W(Q8_0, q8_0), W(Q2_K, q2_k), W(Q3_K, q3_k), W(Q4_K, q4_k), W(Q5_K, q5_k),
    W(Q6_K, q6_k), W(IQ4_NL, iq4_nl), W(IQ4_XS, iq4_xs),
    .quantize_act[INGOT_TYPE_F32] = ingot_f32_from_float,
    .quantize_act[INGOT_TYPE_F16] = ingot_f16_from_float,
    .quantize_act[INGOT_TYPE_BF16] = ingot_bf16_from_float,
    .quantize_act[INGOT_TYPE_Q8_0] = act_q8_0,
    .quantize_act[INGOT_TYPE_Q8_1] = act_q8_1,
    .quantize_act[INGOT_TYPE_Q8_K] = ingot_q8_k_from_float,
};
#undef W

static ingot_kernels avx2_set, neon_set;
static bool avx2_ok, neon_ok;
static const ingot_kernels *best;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void choose(void) {
    const ingot_cpu_features *cpu = ingot_cpu();
#if defined(__x86_64__)
    if (cpu->avx2 && cpu->fma && cpu->f16c) {
        avx2_set = ref_set;
        avx2_set.isa = "avx2";
        ingot_kernels_fill_avx2(&avx2_set);
        avx2_ok = true;
    }
#endif
#if defined(__aarch64__)
    if (cpu->neon) {
        neon_set = ref_set;
        neon_set.isa = "neon";
        ingot_kernels_fill_neon(&neon_set);
        neon_ok = true;
    }
#endif
    (void)cpu;
    best = avx2_ok ? &avx2_set : neon_ok ? &neon_set : &ref_set;
    const char *want = getenv("INGOT_KERNELS");
    if (want && *want) {
        if (!strcmp(want, "ref")) best = &ref_set;
        else if (!strcmp(want, "avx2") && avx2_ok) best = &avx2_set;
        else if (!strcmp(want, "neon") && neon_ok) best = &neon_set;
    }
}

const ingot_kernels *ingot_kernels_get(void) {
    pthread_once(&once, choose);
    return best;
}

const ingot_kernels *ingot_kernels_ref(void) { return &ref_set; }

const ingot_kernels *ingot_kernels_for(const char *isa) {
    pthread_once(&once, choose);
    if (!isa) return NULL;
    if (!strcmp(isa, "ref")) return &ref_set;
    if (!strcmp(isa, "avx2")) return avx2_ok ? &avx2_set : NULL;
    if (!strcmp(isa, "neon")) return neon_ok ? &neon_set : NULL;
    return NULL;
}
