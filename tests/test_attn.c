/* The attention kernels of every ISA this CPU runs against the scalar
 * reference, on random rows of several lengths (head dims 8..256 and odd
 * tails). */
#include <stdint.h>

#include "tensor/attn.h"
#include "tensor/types.h"
#include "test.h"

static uint64_t rng = 88172645463325252ull;
static float frand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 4.0f - 2.0f;
}

int main(void) {
    const ingot_attn_kernels *ref = ingot_attn_kernels_ref(), *best = ingot_attn_kernels_get();
    const ingot_attn_kernels *sets[] = {ingot_attn_kernels_avx2(), best};
    printf("attention kernels in use: %s\n", best->isa);
    for (size_t si = 0; si < 2; si++) {
        const ingot_attn_kernels *k = sets[si];
        if (!k) continue;
        const int lens[] = {1, 7, 8, 16, 31, 64, 80, 128, 256};
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            int n = lens[li];
            float q[256], o1[256], o2[256];
            uint16_t kv[256];
            for (int i = 0; i < n; i++) {
                q[i] = frand();
                kv[i] = ingot_fp32_to_fp16(frand());
                o1[i] = o2[i] = frand();
            }
            double exact = 0, mag = 0;
            for (int i = 0; i < n; i++) {
                exact += (double)q[i] * ingot_fp16_to_fp32(kv[i]);
                mag += fabs((double)q[i] * ingot_fp16_to_fp32(kv[i]));
            }
            float a = ref->dot_f16(q, kv, n), b = k->dot_f16(q, kv, n);
            CHECK(fabs(a - exact) <= 1e-5 * mag + 1e-7 && fabs(b - exact) <= 1e-5 * mag + 1e-7,
                  "%s dot n=%d: ref %g %s %g exact %g", k->isa, n, a, k->isa, b, exact);
            ref->axpy_f16(0.37f, kv, o1, n);
            k->axpy_f16(0.37f, kv, o2, n);
            float md = 0;
            for (int i = 0; i < n; i++) md = fmaxf(md, fabsf(o1[i] - o2[i]));
            CHECK(md <= 1e-6f, "%s axpy n=%d differs by %g", k->isa, n, md);
        }
    }
    TEST_END();
}
