/* Every kernel set this machine can run (avx2, avxvnni, avx512 on x86_64,
 * neon on arm64) against the scalar reference set: vec_dot of every weight
 * type on random blocks (quantizer output, random bit patterns with sane
 * scales, extreme and zero blocks; one block to many, odd block counts),
 * within a rounding bound relative to sum |w*a|; vec_dot_n (1..8 rows)
 * and gemm (every tile shape up to 4 x 8, padded strides, ld wider than
 * the tile) bit-identical to the set's own vec_dot; the x86 sets beyond
 * avx2 bit-identical to avx2; activation quantizers bit-identical to the
 * reference ones (ties, zeros, huge, tiny and subnormal values). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "tensor/kernels.h"
#include "tensor/quants.h"
#include "tensor/types.h"
#include "test.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}
static float frand(void) { return (float)rnd() / 4294967296.0f * 2.0f - 1.0f; } /* [-1, 1) */

static const ingot_type weight_types[] = {
    INGOT_TYPE_F32,  INGOT_TYPE_F16,  INGOT_TYPE_BF16, INGOT_TYPE_Q4_0,   INGOT_TYPE_Q4_1,
    INGOT_TYPE_Q5_0, INGOT_TYPE_Q5_1, INGOT_TYPE_Q8_0, INGOT_TYPE_Q2_K,   INGOT_TYPE_Q3_K,
    INGOT_TYPE_Q4_K, INGOT_TYPE_Q5_K, INGOT_TYPE_Q6_K, INGOT_TYPE_IQ4_NL, INGOT_TYPE_IQ4_XS,
};
#define N_WEIGHT_TYPES (sizeof weight_types / sizeof weight_types[0])

/* Float data of one of several shapes: uniform, outliers, wide dynamic
 * range, a constant, all zeros; |x| <= 50 * scale, so that F16 data and
 * Q8_1 sums stay finite for the scales used here. */
static void fill_floats(float *x, int64_t n, int kind, float scale) {
    for (int64_t i = 0; i < n; i++) {
        float v = frand();
        switch (kind) {
        case 0: break;
        case 1: if (rnd() % 37 == 0) v *= 50.0f; break;
        case 2: v *= powf(2.0f, (float)(rnd() % 16) - 12.0f); break;
        case 3: v = 0.75f; break;
        default: v = 0.0f; break;
        }
        x[i] = v * scale;
    }
}

/* Overwrites the fp16 scale fields of quantized blocks with finite values
 * (random bit patterns elsewhere): exponent kept moderate so that sums do
 * not overflow float. */
static uint16_t rand_scale(void) {
    float v = frand() * powf(2.0f, (float)(rnd() % 10) - 8.0f);
    return ingot_fp32_to_fp16(v);
}
static void sanitize_scales(ingot_type t, uint8_t *data, int64_t nblocks, size_t bsize) {
    for (int64_t b = 0; b < nblocks; b++) {
        uint8_t *p = data + (size_t)b * bsize;
        uint16_t v[2] = {rand_scale(), rand_scale()};
        switch (t) {
        case INGOT_TYPE_Q4_0: case INGOT_TYPE_Q5_0: case INGOT_TYPE_Q8_0: case INGOT_TYPE_IQ4_NL:
        case INGOT_TYPE_IQ4_XS:
            memcpy(p, v, 2); break;
        case INGOT_TYPE_Q4_1: case INGOT_TYPE_Q5_1: case INGOT_TYPE_Q4_K: case INGOT_TYPE_Q5_K:
            memcpy(p, v, 4); break;
        case INGOT_TYPE_Q2_K: memcpy(p + 80, v, 4); break;
        case INGOT_TYPE_Q3_K: memcpy(p + 108, v, 2); break;
        case INGOT_TYPE_Q6_K: memcpy(p + 208, v, 2); break;
        default: break;
        }
    }
}

/* A weight row of n elements in type t: mode 0 = the reference quantizer
 * of random floats, 1 = random bits with sane scales, 2 = extremes (every
 * quant at its largest magnitude), 3 = all zero bytes. */
static void make_weights(ingot_type t, int64_t n, int mode, void *out) {
    const ingot_type_traits *tr = ingot_type_traits_get(t);
    const size_t bytes = ingot_type_row_size(t, n);
    float *f = malloc((size_t)n * sizeof *f);
    uint8_t *p = out;
    if (mode == 0 || !tr->is_quantized) {
        fill_floats(f, n, mode == 3 ? 4 : (int)(rnd() % 4), mode == 2 ? 100.0f : 1.0f);
        tr->from_float(f, out, n);
    } else if (mode == 1 || mode == 2) {
        for (size_t i = 0; i < bytes; i++) p[i] = mode == 1 ? (uint8_t)rnd() : (rnd() & 1 ? 0xff : 0x00);
        if (t == INGOT_TYPE_Q8_0 && mode == 2)
            for (size_t i = 0; i < bytes; i++) p[i] = (i % 34 < 2) ? 0 : (rnd() & 1 ? 0x80 : 0x7f);
        sanitize_scales(t, p, n / tr->block_size, tr->type_size);
    } else {
        memset(out, 0, bytes);
    }
    free(f);
}

/* sum |w_i * a_i| in double, from the dequantized rows: the scale of the
 * rounding error any summation order may make. */
static double abs_dot(ingot_type t, const void *w, const void *a, int64_t n) {
    const ingot_type_traits *tr = ingot_type_traits_get(t);
    const ingot_type_traits *ta = ingot_type_traits_get(tr->vec_dot_type);
    float *fw = malloc((size_t)n * sizeof *fw), *fa = malloc((size_t)n * sizeof *fa);
    tr->to_float(w, fw, n);
    ta->to_float(a, fa, n);
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += fabs((double)fw[i] * fa[i]);
    free(fw);
    free(fa);
    return s;
}

/* Types with a min (the dot subtracts a separate min term): the bound also
 * counts that term, which can cancel against the scaled quants. */
static int has_min(ingot_type t) {
    return t == INGOT_TYPE_Q4_1 || t == INGOT_TYPE_Q5_1 || t == INGOT_TYPE_Q2_K ||
           t == INGOT_TYPE_Q4_K || t == INGOT_TYPE_Q5_K;
}

/* Checks set ks for weight type t against the reference; `same` (or NULL)
 * is a set whose results ks must reproduce bit for bit (the x86 sets
 * beyond avx2 compute the same integer lanes and float operations). */
static void test_type(const ingot_kernels *ks, const ingot_kernels *same, ingot_type t) {
    enum { NX = INGOT_KERNELS_MAX_NX, NY = INGOT_KERNELS_MAX_NY };
    const ingot_kernels *ref = ingot_kernels_ref();
    const ingot_type_traits *tr = ingot_type_traits_get(t);
    const ingot_type vt = tr->vec_dot_type;
    const int64_t bs = tr->block_size == 1 ? 1 : (tr->block_size > 32 ? 256 : 32);
    const int64_t lens_float[] = {1, 7, 8, 15, 16, 17, 33, 64, 100, 896, 4096, 4099};
    const int64_t lens_32[] = {32, 64, 96, 256, 896, 4096, 4128};
    const int64_t lens_256[] = {256, 512, 768, 2048, 4096, 4864};
    const int64_t *lens = bs == 1 ? lens_float : bs == 32 ? lens_32 : lens_256;
    const int nlens = bs == 1 ? 12 : bs == 32 ? 7 : 6;
    int bad_dot = 0, bad_n = 0, bad_q = 0, bad_gemm = 0, bad_same = 0, checks = 0, gemms = 0;
    double worst = 0;
    for (int li = 0; li < nlens; li++) {
        const int64_t n = lens[li];
        const size_t wrow = ingot_type_row_size(t, n), arow = ingot_type_row_size(vt, n);
        const size_t stride = arow + 96;  /* rows not packed: strides are honoured */
        const size_t wstride = wrow + 40;
        uint8_t *w = malloc(wstride * NX);
        uint8_t *a = malloc(stride * NY), *a2 = malloc(arow);
        float *f = malloc((size_t)n * sizeof *f);
        for (int mode = 0; mode < 4; mode++) {
            for (int rep = 0; rep < 3; rep++) {
                for (int i = 0; i < NX; i++) make_weights(t, n, i == 0 ? mode : (mode + rep + i) % 4, w + (size_t)i * wstride);
                for (int j = 0; j < NY; j++) {
                    fill_floats(f, n, (mode == 3 && j == 0) ? 4 : (int)(rnd() % 4),
                                rep == 2 ? 100.0f : 1.0f);
                    ref->quantize_act[vt](f, a + (size_t)j * stride, n);
                    ks->quantize_act[vt](f, a2, n);
                    if (memcmp(a2, a + (size_t)j * stride, arow)) bad_q++;
                }
                float s_ref[NX][NY], s_one[NX][NY];
                for (int i = 0; i < NX; i++) {
                    const uint8_t *wi = w + (size_t)i * wstride;
                    for (int j = 0; j < NY; j++) {
                        const uint8_t *aj = a + (size_t)j * stride;
                        ks->vec_dot[t](n, &s_one[i][j], wi, aj);
                        if (same) {
                            float s_same;
                            same->vec_dot[t](n, &s_same, wi, aj);
                            if (memcmp(&s_same, &s_one[i][j], sizeof s_same)) bad_same++;
                        }
                        /* the reference for all pairs in the first repetition
                         * (its gemm is checked then), else a cross of them */
                        if (rep > 0 && i > 0 && j > 0) continue;
                        ref->vec_dot[t](n, &s_ref[i][j], wi, aj);
                        double bound = abs_dot(t, wi, aj, n);
                        if (has_min(t)) bound *= 4; /* see has_min */
                        const double err = fabs((double)s_ref[i][j] - s_one[i][j]);
                        const double tol = 1e-5 * bound + 1e-6 * fabs(s_ref[i][j]) + 1e-30;
                        if (err / tol > worst) worst = err / tol;
                        if (!(err <= tol) && s_ref[i][j] != s_one[i][j]) {
                            if (bad_dot < 5)
                                fprintf(stderr, "  %s %s n=%lld mode=%d: ref %.9g, %s %.9g (bound %g)\n",
                                        ks->isa, tr->name, (long long)n, mode, s_ref[i][j], ks->isa,
                                        s_one[i][j], bound);
                            bad_dot++;
                        }
                        checks++;
                    }
                    for (int ny = 1; ny <= NY; ny++) {
                        float s_n[NY];
                        ks->vec_dot_n[t](n, s_n, wi, a, stride, ny);
                        if (memcmp(s_n, s_one[i], (size_t)ny * sizeof(float))) bad_n++;
                        if (i == 0) {
                            ref->vec_dot_n[t](n, s_n, wi, a, stride, ny);
                            if (memcmp(s_n, s_ref[i], (size_t)ny * sizeof(float))) bad_n++;
                        }
                    }
                }
                /* every tile shape in the first repetition, the largest and
                 * an odd one after; ld wider than ny, and the gaps untouched */
                for (int nx = 1; nx <= NX; nx++)
                    for (int ny = 1; ny <= NY; ny++) {
                        if (rep > 0 && !(nx == NX && ny == NY) && !(nx == 3 && ny == NY - 1)) continue;
                        const size_t ld = (size_t)ny + 3;
                        float out[NX * (NY + 3)];
                        for (int r = 0; r < (rep == 0 ? 2 : 1); r++) {
                            const ingot_kernels *k = r ? ref : ks;
                            for (size_t e = 0; e < sizeof out / sizeof out[0]; e++) out[e] = -7.25f;
                            k->gemm[t](n, out, ld, w, wstride, nx, a, stride, ny);
                            for (int i = 0; i < NX; i++)
                                for (size_t j = 0; j < ld; j++) {
                                    const float *want = i < nx && j < (size_t)ny
                                                            ? (r ? &s_ref[i][j] : &s_one[i][j])
                                                            : &(const float){-7.25f};
                                    if (memcmp(&out[(size_t)i * ld + j], want, sizeof(float))) bad_gemm++;
                                }
                            gemms++;
                        }
                    }
            }
        }
        free(w);
        free(a);
        free(a2);
        free(f);
    }
    CHECK(bad_dot == 0, "%s %s: %d of %d dots outside the bound", ks->isa, tr->name, bad_dot, checks);
    CHECK(bad_n == 0, "%s %s: %d vec_dot_n results differ from vec_dot", ks->isa, tr->name, bad_n);
    CHECK(bad_gemm == 0, "%s %s: %d gemm results (of %d calls) differ from vec_dot", ks->isa,
          tr->name, bad_gemm, gemms);
    CHECK(bad_same == 0, "%s %s: %d of %d dots differ from the %s set", ks->isa, tr->name,
          bad_same, checks, same ? same->isa : "");
    CHECK(bad_q == 0, "%s %s: %d activation rows differ from the reference", ks->isa,
          ingot_type_name(vt), bad_q);
    printf("  %-7s %-7s worst error %.3f of the bound%s\n", ks->isa, tr->name, worst,
           same ? ", bit-identical to avx2" : "");
}

/* gemm_panel (sets that have one, for the types they cover): panels of
 * every size class (one pair; fewer than, exactly, more than one 16 x 16
 * tile in each direction; several activation tiles), odd and even block
 * counts, padded strides, both output layouts with gaps: every result
 * bit-identical to the set's vec_dot, nothing else written. */
static void test_panel(const ingot_kernels *ks, ingot_type t) {
    if (!ks->gemm_panel[t]) return;
    const ingot_type_traits *tr = ingot_type_traits_get(t);
    const ingot_type vt = tr->vec_dot_type;
    const int64_t lens[] = {32, 64, 96, 256, 896, 4128};
    const int64_t shapes[][2] = {{1, 1}, {1, 16}, {3, 5}, {16, 1}, {16, 16}, {17, 16},
                                 {16, 17}, {5, 40}, {33, 64}, {20, 70}};
    const int nshapes = (int)(sizeof shapes / sizeof shapes[0]);
    int bad = 0, panels = 0;
    for (int li = 0; li < 6; li++) {
        const int64_t n = lens[li];
        const size_t wrow = ingot_type_row_size(t, n), arow = ingot_type_row_size(vt, n);
        const size_t ws = wrow + 40, as = arow + 96;
        const int64_t MXR = 33, MYR = 70;
        uint8_t *w = malloc(ws * MXR), *a = malloc(as * MYR);
        float *f = malloc((size_t)n * sizeof *f), *one = malloc(sizeof(float) * MXR * MYR);
        for (int64_t i = 0; i < MXR; i++) make_weights(t, n, (int)((i + li) % 4), w + (size_t)i * ws);
        for (int64_t j = 0; j < MYR; j++) {
            fill_floats(f, n, (int)(rnd() % 5), j % 3 ? 1.0f : 100.0f);
            ks->quantize_act[vt](f, a + (size_t)j * as, n);
        }
        for (int64_t i = 0; i < MXR; i++)
            for (int64_t j = 0; j < MYR; j++)
                ks->vec_dot[t](n, &one[i * MYR + j], w + (size_t)i * ws, a + (size_t)j * as);
        for (int sh = 0; sh < nshapes; sh++)
            for (int layout = 0; layout < 2; layout++) {
                const int64_t nx = shapes[sh][0], ny = shapes[sh][1];
                /* weight-row-major with ld = ny + 3, or token-major with ldy = nx + 5 */
                const size_t sx = layout ? 1 : (size_t)ny + 3, sy = layout ? (size_t)nx + 5 : 1;
                const size_t cells = layout ? (size_t)ny * sy : (size_t)nx * sx;
                float *out = malloc(cells * sizeof *out);
                for (size_t e = 0; e < cells; e++) out[e] = -7.25f;
                ks->gemm_panel[t](n, out, sx, sy, w, ws, nx, a, as, ny);
                for (size_t e = 0; e < cells; e++) {
                    const int64_t i = layout ? (int64_t)(e % sy) : (int64_t)(e / sx);
                    const int64_t j = layout ? (int64_t)(e / sy) : (int64_t)(e % sx);
                    const float want = i < nx && j < ny ? one[i * MYR + j] : -7.25f;
                    if (memcmp(&out[e], &want, sizeof want)) {
                        if (bad < 5)
                            fprintf(stderr, "  %s %s panel n=%lld %lldx%lld pair %lld,%lld: %.9g, vec_dot %.9g\n",
                                    ks->isa, tr->name, (long long)n, (long long)nx, (long long)ny,
                                    (long long)i, (long long)j, out[e], want);
                        bad++;
                    }
                }
                free(out);
                panels++;
            }
        free(w);
        free(a);
        free(f);
        free(one);
    }
    CHECK(bad == 0, "%s %s: %d gemm_panel results (of %d panels) differ from vec_dot", ks->isa,
          tr->name, bad, panels);
    printf("  %-7s %-7s gemm_panel: %d panels bit-identical to vec_dot\n", ks->isa, tr->name, panels);
}

/* Quantizer rows that stress rounding: exact ties after scaling, sign
 * ties of the extreme, zeros, huge and subnormal values. */
static void test_quantizers(const ingot_kernels *ks) {
    const ingot_kernels *ref = ingot_kernels_ref();
    const ingot_type types[] = {INGOT_TYPE_F16, INGOT_TYPE_BF16, INGOT_TYPE_Q8_0, INGOT_TYPE_Q8_1,
                                INGOT_TYPE_Q8_K};
    const int64_t n = 4096 + 256;
    float *x = malloc((size_t)n * sizeof *x);
    uint8_t *a = malloc(ingot_type_row_size(INGOT_TYPE_F32, n)), *b = malloc(ingot_type_row_size(INGOT_TYPE_F32, n));
    for (int kind = 0; kind < 8; kind++) {
        for (int64_t i = 0; i < n; i++) {
            switch (kind) {
            case 0: /* ties: amax 127 -> scale 1, halves round to even */
                x[i] = (i % 32 == 0) ? 127.0f : (float)((int)(rnd() % 254) - 127) + 0.5f;
                break;
            case 1: /* +amax and -amax in the same block: the first one sets the sign */
                x[i] = (i % 7 == 0) ? ((i / 7) % 2 ? -3.0f : 3.0f) : frand();
                break;
            case 2: x[i] = 0.0f; break;
            case 3: x[i] = frand() * 1e30f; break;
            case 4: x[i] = frand() * 1e-40f; break; /* float subnormals */
            case 5: x[i] = frand() * 7e-5f; break;  /* fp16 subnormals */
            case 6: x[i] = frand() * 70000.0f; break; /* fp16 overflow */
            default: x[i] = (float)((int)(rnd() % 2001) - 1000) / 8.0f; break; /* fp16/bf16 ties */
            }
        }
        for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
            const ingot_type t = types[ti];
            const int64_t bs = ingot_type_traits_get(t)->block_size;
            for (int64_t len = bs; len <= n; len = len * 3 + bs) {
                const int64_t m = len - len % bs;
                const size_t bytes = ingot_type_row_size(t, m);
                memset(a, 0x55, bytes);
                memset(b, 0xaa, bytes);
                ref->quantize_act[t](x, a, m);
                ks->quantize_act[t](x, b, m);
                CHECK(!memcmp(a, b, bytes), "%s quantize_act %s kind %d n %lld differs", ks->isa,
                      ingot_type_name(t), kind, (long long)m);
            }
        }
    }
    /* BF16 keeps NaN quiet the same way */
    for (int64_t i = 0; i < 64; i++) {
        uint32_t bits = 0x7f800001u + (uint32_t)rnd() % 0x7fffff;
        if (i % 3 == 0) bits |= 0x80000000u;
        memcpy(&x[i], &bits, 4);
        if (i % 2) x[i] = frand();
    }
    ref->quantize_act[INGOT_TYPE_BF16](x, a, 64);
    ks->quantize_act[INGOT_TYPE_BF16](x, b, 64);
    CHECK(!memcmp(a, b, 128), "%s BF16 NaN handling differs", ks->isa);
    free(x);
    free(a);
    free(b);
}

int main(void) {
    const ingot_kernels *best = ingot_kernels_get();
    CHECK(best != NULL && best->isa != NULL, "no kernel set");
    printf("kernel set in use: %s\n", best->isa);
    const ingot_kernels *ref = ingot_kernels_ref();
    CHECK_STR_EQ(ref->isa, "ref");
    CHECK(ingot_kernels_for("ref") == ref, "ref set lookup");
    CHECK(ingot_kernels_for("sse9") == NULL, "unknown set");
    for (size_t i = 0; i < N_WEIGHT_TYPES; i++) {
        const ingot_type t = weight_types[i];
        CHECK(ref->vec_dot[t] && ref->vec_dot_n[t] && ref->gemm[t], "ref entry %s", ingot_type_name(t));
        CHECK(best->vec_dot[t] && best->vec_dot_n[t] && best->gemm[t], "entry %s", ingot_type_name(t));
    }
    CHECK(ref->vec_dot[INGOT_TYPE_Q8_K] == NULL, "Q8_K is never a weight type");

    /* The sets the CPU runs must be offered, and a forced set honoured. */
    const ingot_cpu_features *cpu = ingot_cpu();
    (void)cpu;
#if defined(__x86_64__)
    CHECK((ingot_kernels_for("avx2") != NULL) == (cpu->avx2 && cpu->fma && cpu->f16c), "avx2 offered");
    CHECK((ingot_kernels_for("avxvnni") != NULL) == (cpu->avx2 && cpu->fma && cpu->f16c && cpu->avxvnni),
          "avxvnni offered");
    CHECK((ingot_kernels_for("avx512") != NULL) ==
              (cpu->avx2 && cpu->fma && cpu->f16c && cpu->avx512f && cpu->avx512bw &&
               cpu->avx512vl && cpu->avx512dq && cpu->avx512vnni),
          "avx512 offered");
    CHECK((ingot_kernels_for("amx") != NULL) ==
              (ingot_kernels_for("avx512") != NULL && cpu->amx_tile && cpu->amx_int8 && ingot_amx_enable()),
          "amx offered");
    if (ingot_kernels_for("amx")) {
        const ingot_kernels *amx = ingot_kernels_for("amx");
        CHECK(amx->gemm_panel[INGOT_TYPE_Q8_0] && amx->gemm_panel[INGOT_TYPE_Q4_0], "amx panels");
        CHECK(amx->vec_dot[INGOT_TYPE_Q8_0] == ingot_kernels_for("avx512")->vec_dot[INGOT_TYPE_Q8_0],
              "amx inherits avx512's vec_dot");
    }
#endif
    const char *forced = getenv("INGOT_KERNELS");
    if (forced && ingot_kernels_for(forced)) CHECK_STR_EQ(best->isa, forced);

    const char *isas[] = {"ref", "avx2", "avxvnni", "avx512", "neon", "amx"};
    int tested = 0;
    for (int k = 0; k < 6; k++) {
        const ingot_kernels *ks = ingot_kernels_for(isas[k]);
        if (!ks) continue;
        tested++;
        printf("set %s\n", ks->isa);
        /* x86 sets beyond avx2 must reproduce avx2 exactly */
        const ingot_kernels *same = k == 2 || k == 3 || k == 5 ? ingot_kernels_for("avx2") : NULL;
        for (size_t i = 0; i < N_WEIGHT_TYPES; i++) test_type(ks, same, weight_types[i]);
        for (size_t i = 0; i < N_WEIGHT_TYPES; i++) test_panel(ks, weight_types[i]);
        test_quantizers(ks);
    }
#if defined(__x86_64__) || defined(__aarch64__)
    CHECK(tested >= 2, "no SIMD set tested on this architecture (%d sets)", tested);
#endif
    TEST_END();
}
