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
#include "tensor/pack.h"
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

/* vec_dot_n and gemm of the reference set: one reference dot per pair. */
#define REF_N(pre)                                                                          \
    static void ref_n_##pre(int64_t n, float *s, const void *x, const void *y, size_t stride, \
                            int ny) {                                                       \
        for (int j = 0; j < ny; j++)                                                        \
            ingot_##pre##_vec_dot(n, &s[j], x, (const char *)y + (size_t)j * stride);       \
    }                                                                                       \
    static void ref_gemm_##pre(int64_t n, float *s, size_t ld, const void *x, size_t xs,    \
                               int nx, const void *y, size_t ys, int ny) {                  \
        for (int i = 0; i < nx; i++)                                                        \
            ref_n_##pre(n, s + (size_t)i * ld, (const char *)x + (size_t)i * xs, y, ys, ny); \
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

/* packed_gemm of the reference set: the scalar oracle */
#define P(pre, id)                                                                          \
    static void ref_packed_##pre(int64_t n, const void *w, int64_t ng, const void *act,     \
                                 size_t act_row, int64_t ny, float *y, size_t ldy) {        \
        ingot_pack_gemm_ref(INGOT_TYPE_##id, n, w, ng, act, act_row, ny, y, ldy);           \
    }
P(q4_0, Q4_0)
P(q5_0, Q5_0)
P(q8_0, Q8_0)
P(q4_k, Q4_K)
P(q6_k, Q6_K)
#undef P

#define W(id, pre)                                                                          \
    .vec_dot[INGOT_TYPE_##id] = ingot_##pre##_vec_dot, .vec_dot_n[INGOT_TYPE_##id] = ref_n_##pre, \
    .gemm[INGOT_TYPE_##id] = ref_gemm_##pre
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
    .packed_gemm[INGOT_TYPE_Q4_0] = ref_packed_q4_0,
    .packed_gemm[INGOT_TYPE_Q5_0] = ref_packed_q5_0,
    .packed_gemm[INGOT_TYPE_Q8_0] = ref_packed_q8_0,
    .packed_gemm[INGOT_TYPE_Q4_K] = ref_packed_q4_k,
    .packed_gemm[INGOT_TYPE_Q6_K] = ref_packed_q6_k,
};
#undef W

/* The sets, best last; a set starts as a copy of the next weaker one it
 * builds on (`base`), so entries it does not implement are inherited. */
enum { SET_REF, SET_AVX2, SET_AVXVNNI, SET_AVX512, SET_AMX, SET_NEON, SET_COUNT };
static ingot_kernels sets[SET_COUNT];
static bool set_ok[SET_COUNT];
static const char *const set_names[SET_COUNT] = {"ref", "avx2", "avxvnni", "avx512", "amx", "neon"};
static const ingot_kernels *best;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(int id, int base, void (*fill)(ingot_kernels *)) {
    sets[id] = sets[base];
    sets[id].isa = set_names[id];
    /* the scalar packed kernels are for tests: a SIMD set packs only the
     * types it has its own packed kernels for */
    if (base == SET_REF) memset(sets[id].packed_gemm, 0, sizeof sets[id].packed_gemm);
    fill(&sets[id]);
    set_ok[id] = true;
}

static void choose(void) {
    const ingot_cpu_features *cpu = ingot_cpu();
    sets[SET_REF] = ref_set;
    set_ok[SET_REF] = true;
#if defined(__x86_64__)
    if (cpu->avx2 && cpu->fma && cpu->f16c) {
        build(SET_AVX2, SET_REF, ingot_kernels_fill_avx2);
        if (cpu->avxvnni) build(SET_AVXVNNI, SET_AVX2, ingot_kernels_fill_avxvnni);
        if (cpu->avx512f && cpu->avx512bw && cpu->avx512vl && cpu->avx512dq && cpu->avx512vnni)
            build(SET_AVX512, SET_AVX2, ingot_kernels_fill_avx512);
        /* AMX int8 tiles for the panels, the rest inherited from avx512 */
        if (set_ok[SET_AVX512] && cpu->amx_tile && cpu->amx_int8 && ingot_amx_enable())
            build(SET_AMX, SET_AVX512, ingot_kernels_fill_amx);
    }
#endif
#if defined(__aarch64__)
    if (cpu->neon) build(SET_NEON, SET_REF, ingot_kernels_fill_neon);
#endif
    (void)cpu;
    int pick = SET_REF;
    for (int i = 0; i < SET_COUNT; i++)
        if (set_ok[i]) pick = i;
    const char *want = getenv("INGOT_KERNELS");
    if (want && *want)
        for (int i = 0; i < SET_COUNT; i++)
            if (set_ok[i] && !strcmp(want, set_names[i])) pick = i;
    best = pick == SET_REF ? &ref_set : &sets[pick];
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
    for (int i = 0; i < SET_COUNT; i++)
        if (set_ok[i] && !strcmp(isa, set_names[i])) return &sets[i];
    return NULL;
}
