/* Owns the scalar attention kernels (the oracle) and the run-time choice
 * of the fastest set this CPU supports. INGOT_KERNELS=ref forces the
 * scalar ones. */
#include "tensor/attn.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "tensor/types.h"

static float dot_f16_ref(const float *q, const uint16_t *k, int n) {
    float s = 0;
    for (int i = 0; i < n; i++) s += q[i] * ingot_fp16_to_fp32(k[i]);
    return s;
}

static void axpy_f16_ref(float w, const uint16_t *v, float *o, int n) {
    for (int i = 0; i < n; i++) o[i] += w * ingot_fp16_to_fp32(v[i]);
}

static float round_f16(float x) { return ingot_fp16_to_fp32(ingot_fp32_to_fp16(x)); }

static void attend_f16_ref(const float *q, size_t ldq, int nh, const uint16_t *k, const uint16_t *v,
                           size_t kv_stride, int nk, int hd, float scale, float softcap, float *out,
                           size_t ldo, float *scratch) {
    float *qr = scratch + nk; /* the rounded query, after the scores */
    for (int h = 0; h < nh; h++) {
        for (int d = 0; d < hd; d++) qr[d] = round_f16(q[(size_t)h * ldq + d]);
        float mx = -INFINITY;
        for (int j = 0; j < nk; j++) {
            float s = dot_f16_ref(qr, k + (size_t)j * kv_stride, hd) * scale;
            if (softcap > 0) s = softcap * tanhf(s / softcap);
            scratch[j] = s;
            if (s > mx) mx = s;
        }
        float sum = 0;
        for (int j = 0; j < nk; j++) {
            scratch[j] = scratch[j] == -INFINITY ? 0.0f : expf(scratch[j] - mx);
            sum += scratch[j];
        }
        const float inv = 1.0f / sum;
        float *o = out + (size_t)h * ldo;
        for (int d = 0; d < hd; d++) o[d] = 0;
        for (int j = 0; j < nk; j++) axpy_f16_ref(round_f16(scratch[j] * inv), v + (size_t)j * kv_stride, o, hd);
    }
}

static void attend_f16_tok_ref(const float *q, size_t q_tok, size_t ldq, int nh, int ntok, const uint16_t *k,
                               const uint16_t *v, size_t kv_stride, int nk, int hd, float scale, float softcap,
                               float *out, size_t o_tok, size_t ldo, float *scratch) {
    for (int i = 0; i < ntok; i++)
        attend_f16_ref(q + (size_t)i * q_tok, ldq, nh, k, v, kv_stride, nk + i, hd, scale, softcap,
                       out + (size_t)i * o_tok, ldo, scratch);
}

static void silu_mul_ref(float *h, const float *g, const float *u, int64_t n) {
    for (int64_t i = 0; i < n; i++) h[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

static void gelu_mul_ref(float *h, const float *g, const float *u, int64_t n) {
    const float c = 0.7978845608028654f; /* sqrt(2/pi) */
    for (int64_t i = 0; i < n; i++) {
        const float x = g[i];
        h[i] = 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x))) * u[i];
    }
}

static const ingot_attn_kernels ref = {dot_f16_ref,  axpy_f16_ref, attend_f16_ref, attend_f16_tok_ref,
                                       silu_mul_ref, gelu_mul_ref, "ref"};

const ingot_attn_kernels *ingot_attn_kernels_ref(void) { return &ref; }

#if !(defined(__x86_64__) || defined(_M_X64))
const ingot_attn_kernels *ingot_attn_kernels_avx2(void) { return NULL; }
void ingot_attn_fill_avx512(ingot_attn_kernels *k) { (void)k; }
#endif

static ingot_attn_kernels avx512;
static bool avx512_ok;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build_avx512(void) {
    const ingot_cpu_features *f = ingot_cpu();
    const ingot_attn_kernels *a2 = ingot_attn_kernels_avx2();
    if (!a2 || !(f->avx2 && f->fma && f->f16c && f->avx512f && f->avx512vl && f->avx512dq && f->avx512bw)) return;
    avx512 = *a2;
    ingot_attn_fill_avx512(&avx512);
    avx512_ok = true;
}

const ingot_attn_kernels *ingot_attn_kernels_avx512(void) {
    pthread_once(&once, build_avx512);
    return avx512_ok ? &avx512 : NULL;
}

/* INGOT_KERNELS names a matmul set (kernels.c); attention follows it:
 * ref, the AVX2 set for avx2/avxvnni, else the best there is. */
const ingot_attn_kernels *ingot_attn_kernels_get(void) {
    const char *force = getenv("INGOT_KERNELS");
    if (force && !strcmp(force, "ref")) return &ref;
    const ingot_cpu_features *f = ingot_cpu();
    const ingot_attn_kernels *k = ingot_attn_kernels_avx2();
    if (!k || !(f->avx2 && f->fma && f->f16c)) return &ref;
    if (force && (!strcmp(force, "avx2") || !strcmp(force, "avxvnni"))) return k;
    const ingot_attn_kernels *k512 = ingot_attn_kernels_avx512();
    return k512 ? k512 : k;
}
