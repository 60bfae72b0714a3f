/* The attention kernels of every ISA this CPU runs against the scalar
 * reference, on random rows of several lengths (head dims 8..256 and odd
 * tails); attend_f16 (grouped heads) against a double-precision oracle,
 * independent of how many heads share a call, across its key chunks;
 * attend_f16_tok (a tile of prompt tokens) bit for bit against one-token
 * calls;
 * the gated activations against expf/tanhf; the AVX-512 set bit for bit
 * against the AVX2 one. */
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

/* nq random queries in [-6, 6) and nkv random F16 keys and values. */
static void fill_qkv(float *q, size_t nq, uint16_t *kk, uint16_t *vv, size_t nkv) {
    for (size_t i = 0; i < nq; i++) q[i] = frand() * 3.0f;
    for (size_t i = 0; i < nkv; i++) {
        kk[i] = ingot_fp32_to_fp16(frand());
        vv[i] = ingot_fp32_to_fp16(frand());
    }
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
    /* attend_f16: against a double-precision computation with the same
     * F16 roundings; a head's result must not depend on its neighbours */
    const int hds[] = {64, 128, 8};
    const int nks[] = {1, 7, 8, 9, 127, 128, 129, 300};
    float *scratch = malloc(ingot_attend_scratch(7, 300, 128) * sizeof(float));
    float *scratch1 = malloc(ingot_attend_scratch(1, 300, 128) * sizeof(float));
    for (size_t si = 0; si < 3; si++) {
        const ingot_attn_kernels *k = si == 0 ? ref : sets[si - 1];
        if (!k) continue;
        int bad = 0, bad_solo = 0;
        double worst = 0;
        for (size_t hi = 0; hi < 3; hi++)
            for (size_t ni = 0; ni < sizeof nks / sizeof *nks; ni++) {
                const int hd = hds[hi], nk = nks[ni], nh = 7, stride = 2 * hd + 8;
                float *q = malloc((size_t)nh * hd * 4), *o = malloc((size_t)nh * hd * 4), *o1 = malloc((size_t)hd * 4);
                uint16_t *kk = malloc((size_t)nk * stride * 2), *vv = malloc((size_t)nk * stride * 2);
                for (int i = 0; i < nh * hd; i++) q[i] = frand();
                for (int i = 0; i < nk * stride; i++) {
                    kk[i] = ingot_fp32_to_fp16(frand());
                    vv[i] = ingot_fp32_to_fp16(frand());
                }
                const float scale = 1.0f / sqrtf((float)hd);
                k->attend_f16(q, (size_t)hd, nh, kk, vv, (size_t)stride, nk, hd, scale, 0.0f, o, (size_t)hd, scratch);
                for (int h = 0; h < nh; h++) {
                    double s[300], mx = -1e300, sum = 0;
                    for (int j = 0; j < nk; j++) {
                        double d = 0;
                        for (int i = 0; i < hd; i++)
                            d += (double)ingot_fp16_to_fp32(ingot_fp32_to_fp16(q[h * hd + i])) *
                                 ingot_fp16_to_fp32(kk[j * stride + i]);
                        s[j] = d * scale;
                        if (s[j] > mx) mx = s[j];
                    }
                    for (int j = 0; j < nk; j++) sum += (s[j] = exp(s[j] - mx));
                    for (int i = 0; i < hd; i++) {
                        double e = 0, m = 0;
                        for (int j = 0; j < nk; j++) {
                            e += s[j] / sum * ingot_fp16_to_fp32(vv[j * stride + i]);
                            m += fabs(ingot_fp16_to_fp32(vv[j * stride + i]));
                        }
                        /* the F16 rounding of each weight: 2^-11 relative */
                        const double err = fabs(o[h * hd + i] - e) / (m / nk + 1e-3);
                        if (err > worst) worst = err;
                        if (err > 2e-3) bad++;
                    }
                }
                /* head 3 alone gives the same bits as within the group */
                k->attend_f16(q + 3 * hd, (size_t)hd, 1, kk, vv, (size_t)stride, nk, hd, scale, 0.0f, o1, (size_t)hd,
                              scratch1);
                if (memcmp(o1, o + 3 * hd, (size_t)hd * 4)) bad_solo++;
                free(q);
                free(o);
                free(o1);
                free(kk);
                free(vv);
            }
        CHECK(bad == 0, "%s attend_f16: %d outputs off the oracle (worst %.2e)", k->isa, bad, worst);
        CHECK(bad_solo == 0, "%s attend_f16: %d results depend on the other heads of the call", k->isa, bad_solo);
        printf("%s attend_f16: worst error %.2e of the value scale\n", k->isa, worst);
        /* attend_f16_tok: ntok tokens in one call (token i sees nk + i
         * keys) give the bits of ntok attend_f16 calls, with and without a
         * softcap, queries and outputs strided per token */
        int bad_tok = 0;
        const int nhs[] = {1, 2, 7}, ntoks[] = {1, 3, 8, 32};
        for (size_t hi = 0; hi < 2; hi++)
            for (size_t gi = 0; gi < 3; gi++)
                for (size_t ti = 0; ti < 4; ti++)
                    for (size_t ni = 0; ni < sizeof nks / sizeof *nks; ni++) {
                        const int hd = hds[hi], nh = nhs[gi], ntok = ntoks[ti], nk = nks[ni];
                        const int stride = hd + 24, nkt = nk + ntok;
                        const size_t q_tok = (size_t)nh * hd + 16, o_tok = (size_t)nh * hd + 8;
                        const float softcap = ni % 2 ? 30.0f : 0.0f, scale = 0.125f;
                        float *q = malloc(q_tok * ntok * 4), *o = malloc(o_tok * ntok * 4);
                        float *o1 = malloc((size_t)nh * hd * 4);
                        float *sc = malloc(ingot_attend_scratch(nh * ntok, nkt, hd) * sizeof(float));
                        uint16_t *kk = malloc((size_t)nkt * stride * 2), *vv = malloc((size_t)nkt * stride * 2);
                        fill_qkv(q, q_tok * ntok, kk, vv, (size_t)nkt * stride);
                        k->attend_f16_tok(q, q_tok, (size_t)hd, nh, ntok, kk, vv, (size_t)stride, nk, hd, scale,
                                          softcap, o, o_tok, (size_t)hd, sc);
                        for (int t = 0; t < ntok; t++) {
                            k->attend_f16(q + t * q_tok, (size_t)hd, nh, kk, vv, (size_t)stride, nk + t, hd, scale,
                                          softcap, o1, (size_t)hd, sc);
                            if (memcmp(o1, o + t * o_tok, (size_t)nh * hd * 4)) {
                                if (!bad_tok)
                                    fprintf(stderr, "%s attend_f16_tok hd=%d nh=%d ntok=%d nk=%d: token %d differs\n",
                                            k->isa, hd, nh, ntok, nk, t);
                                bad_tok++;
                            }
                        }
                        free(q);
                        free(o);
                        free(o1);
                        free(sc);
                        free(kk);
                        free(vv);
                    }
        CHECK(bad_tok == 0, "%s attend_f16_tok: %d tokens differ from one-token attend_f16", k->isa, bad_tok);
        /* gated activations */
        float g[37], u[37], h1[37];
        int bad_act = 0;
        for (int i = 0; i < 37; i++) {
            g[i] = frand() * (i < 4 ? 60.0f : 4.0f);
            u[i] = frand();
        }
        k->silu_mul(h1, g, u, 37);
        for (int i = 0; i < 37; i++) {
            const double e = g[i] / (1.0 + exp(-(double)g[i])) * u[i];
            if (fabs(h1[i] - e) > 4e-7 * fabs(e) + 1e-30) {
                bad_act++;
                fprintf(stderr, "silu %s g=%g u=%g got %.9g want %.9g\n", k->isa, g[i], u[i], h1[i], e);
            }
        }
        k->gelu_mul(h1, g, u, 37);
        for (int i = 0; i < 37; i++) {
            const double x = g[i], e = 0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))) * u[i];
            /* the tanh form cancels for negative x (1 + tanh ~ 0): an
             * absolute bound on the scale of x * u there */
            if (fabs(h1[i] - e) > 4e-6 * fabs(e) + 1e-6 * fabs((double)g[i] * u[i])) {
                bad_act++;
                fprintf(stderr, "gelu %s g=%g u=%g got %.9g want %.9g\n", k->isa, g[i], u[i], h1[i], e);
            }
        }
        CHECK(bad_act == 0, "%s silu_mul/gelu_mul: %d values off", k->isa, bad_act);
    }
    /* the AVX-512 set gives the AVX2 set's bits (same chains, wider
     * vectors), head dims that take its own tile and the fallback alike */
    const ingot_attn_kernels *a2 = ingot_attn_kernels_avx2(), *a5 = ingot_attn_kernels_avx512();
    if (a2 && a5) {
        int diff = 0, cases = 0;
        const int hd5[] = {16, 64, 128, 256, 80, 96, 24};
        const int nh5[] = {1, 4, 7, 16}, nt5[] = {1, 2, 5, 8, 32}, nk5[] = {1, 9, 31, 100, 129, 300};
        for (size_t hi = 0; hi < sizeof hd5 / sizeof *hd5; hi++)
            for (size_t gi = 0; gi < 4; gi++)
                for (size_t ti = 0; ti < 5; ti++)
                    for (size_t ni = 0; ni < 6; ni++) {
                        const int hd = hd5[hi], nh = nh5[gi], ntok = nt5[ti], nk = nk5[ni];
                        if ((size_t)nh * ntok * hd * nk > 4000000) continue;
                        const int stride = 2 * hd + 8, nkt = nk + ntok;
                        const size_t q_tok = (size_t)nh * hd + 16, n_out = (size_t)ntok * nh * hd;
                        const float softcap = (hi + ni) % 3 ? 0.0f : 20.0f;
                        float *q = malloc(q_tok * ntok * 4), *o2 = malloc(n_out * 4), *o5 = malloc(n_out * 4);
                        float *sc = malloc(ingot_attend_scratch(nh * ntok, nkt, hd) * sizeof(float));
                        uint16_t *kk = malloc((size_t)nkt * stride * 2), *vv = malloc((size_t)nkt * stride * 2);
                        fill_qkv(q, q_tok * ntok, kk, vv, (size_t)nkt * stride);
                        a2->attend_f16_tok(q, q_tok, (size_t)hd, nh, ntok, kk, vv, (size_t)stride, nk, hd, 0.1f,
                                           softcap, o2, (size_t)nh * hd, (size_t)hd, sc);
                        a5->attend_f16_tok(q, q_tok, (size_t)hd, nh, ntok, kk, vv, (size_t)stride, nk, hd, 0.1f,
                                           softcap, o5, (size_t)nh * hd, (size_t)hd, sc);
                        if (memcmp(o2, o5, n_out * 4)) {
                            if (!diff)
                                fprintf(stderr, "avx512 vs avx2 hd=%d nh=%d ntok=%d nk=%d: outputs differ\n", hd, nh,
                                        ntok, nk);
                            diff++;
                        }
                        cases++;
                        free(q);
                        free(o2);
                        free(o5);
                        free(sc);
                        free(kk);
                        free(vv);
                    }
        CHECK(diff == 0, "avx512 attention differs from avx2 in %d of %d cases", diff, cases);
        float g[77], u[77], h2[77], h5[77];
        for (int i = 0; i < 77; i++) {
            g[i] = frand() * (i % 9 == 0 ? 120.0f : 5.0f);
            u[i] = frand();
        }
        int dact = 0;
        for (int n = 1; n <= 77; n += 4) {
            a2->silu_mul(h2, g, u, n);
            a5->silu_mul(h5, g, u, n);
            dact += memcmp(h2, h5, (size_t)n * 4) != 0;
            a2->gelu_mul(h2, g, u, n);
            a5->gelu_mul(h5, g, u, n);
            dact += memcmp(h2, h5, (size_t)n * 4) != 0;
        }
        CHECK(dact == 0, "avx512 silu/gelu differ from avx2 for %d lengths", dact);
        printf("avx512 attention: bit-identical to avx2 in %d cases\n", cases);
    }
    free(scratch);
    free(scratch1);
    TEST_END();
}
