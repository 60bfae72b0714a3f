/* Owns the scalar attention kernels (the oracle) and the run-time choice
 * of the fastest set this CPU supports. INGOT_KERNELS=ref forces the
 * scalar ones. */
#include "tensor/attn.h"

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

static const ingot_attn_kernels ref = {dot_f16_ref, axpy_f16_ref, "ref"};

const ingot_attn_kernels *ingot_attn_kernels_ref(void) { return &ref; }

#if !(defined(__x86_64__) || defined(_M_X64))
const ingot_attn_kernels *ingot_attn_kernels_avx2(void) { return NULL; }
#endif

const ingot_attn_kernels *ingot_attn_kernels_get(void) {
    const char *force = getenv("INGOT_KERNELS");
    if (force && !strcmp(force, "ref")) return &ref;
    const ingot_cpu_features *f = ingot_cpu();
    const ingot_attn_kernels *k = ingot_attn_kernels_avx2();
    if (k && f->avx2 && f->fma && f->f16c) return k;
    return &ref;
}
