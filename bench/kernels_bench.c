/* Times the kernel sets on this machine: for each weight type, ns per dot
 * of a 4096-element row (vec_dot; vec_dot_n with 4 activation rows, per
 * row; gemm tiles of 4 weight rows x 4 activation rows, per pair), for
 * the reference set and each SIMD set the CPU runs, plus the activation
 * quantizers per row. Data small enough to stay in L2, so
 * this measures computation, not memory bandwidth; each figure is the
 * best of several short windows. Reports, never asserts. Usage: kernels_bench [n] [ms per measurement] [TYPE,TYPE,...]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "tensor/kernels.h"
#include "tensor/types.h"

static const ingot_type types[] = {
    INGOT_TYPE_F32,  INGOT_TYPE_F16,  INGOT_TYPE_BF16, INGOT_TYPE_Q4_0,   INGOT_TYPE_Q4_1,
    INGOT_TYPE_Q5_0, INGOT_TYPE_Q5_1, INGOT_TYPE_Q8_0, INGOT_TYPE_Q2_K,   INGOT_TYPE_Q3_K,
    INGOT_TYPE_Q4_K, INGOT_TYPE_Q5_K, INGOT_TYPE_Q6_K, INGOT_TYPE_IQ4_NL, INGOT_TYPE_IQ4_XS,
};
#define ROWS 16
#define NY INGOT_KERNELS_MAX_NY
#define NX INGOT_KERNELS_MAX_NX

static volatile float sink;

/* ns per row-dot of vec_dot (ny = 0), vec_dot_n with ny rows, or (gemm)
 * 4-row gemm tiles with ny rows: the best of TRIALS short windows, which
 * filters out other processes on a shared machine better than a mean
 * does. */
#define TRIALS 15
static double time_dot(const ingot_kernels *k, ingot_type t, int64_t n, const uint8_t *w,
                       size_t wrow, const uint8_t *a, size_t arow, int ny, int gemm, double ms) {
    float s[NX * NY];
    double best = 1e30;
    for (int trial = 0; trial < TRIALS; trial++) {
        long long dots = 0;
        double t0 = ingot_time_ms(), t1;
        do {
            for (int r = 0; r < ROWS; r++) {
                if (gemm) {
                    if (r % NX) continue;
                    k->gemm[t](n, s, NY, w + (size_t)r * wrow, wrow, NX, a, arow, ny);
                    dots += NX * ny;
                } else if (ny == 0) {
                    k->vec_dot[t](n, s, w + (size_t)r * wrow, a);
                    dots++;
                } else {
                    k->vec_dot_n[t](n, s, w + (size_t)r * wrow, a, arow, ny);
                    dots += ny;
                }
                sink += s[0];
            }
            t1 = ingot_time_ms();
        } while (t1 - t0 < ms / TRIALS);
        const double per = (t1 - t0) * 1e6 / (double)dots;
        if (per < best) best = per;
    }
    return best;
}

static double time_quant(const ingot_kernels *k, ingot_type vt, int64_t n, const float *x,
                         uint8_t *out, double ms) {
    double best = 1e30;
    for (int trial = 0; trial < TRIALS; trial++) {
        long long rows = 0;
        double t0 = ingot_time_ms(), t1;
        do {
            k->quantize_act[vt](x, out, n);
            rows++;
            sink += out[1];
            t1 = ingot_time_ms();
        } while (t1 - t0 < ms / TRIALS);
        const double per = (t1 - t0) * 1e6 / (double)rows;
        if (per < best) best = per;
    }
    return best;
}

/* Whether name is one of the comma-separated names in list. */
static int listed(const char *list, const char *name) {
    const size_t len = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        const size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == len && !strncmp(p, name, len)) return 1;
        p += l + (e != NULL);
    }
    return 0;
}

/* ns per pair of a gemm_panel call of PX weight rows x ny activation rows
 * (panel = 1), or of the same pairs through gemm tiles of NX x NY (the
 * way the matmul calls gemm); best of TRIALS windows. */
#define PX 64
#define PY 64
static double time_panel(const ingot_kernels *k, ingot_type t, int64_t n, const uint8_t *w, size_t wrow,
                         const uint8_t *a, size_t arow, int ny, int panel, double ms) {
    static float s[PX * PY];
    double best = 1e30;
    for (int trial = 0; trial < TRIALS; trial++) {
        long long pairs = 0;
        double t0 = ingot_time_ms(), t1;
        do {
            if (panel) {
                k->gemm_panel[t](n, s, PY, 1, w, wrow, PX, a, arow, ny);
            } else {
                for (int i = 0; i < PX; i += NX)
                    for (int j = 0; j < ny; j += NY)
                        k->gemm[t](n, s + i * PY + j, PY, w + (size_t)i * wrow, wrow, NX,
                                   a + (size_t)j * arow, arow, ny - j < NY ? ny - j : NY);
            }
            pairs += (long long)PX * ny;
            sink += s[0];
            t1 = ingot_time_ms();
        } while (t1 - t0 < ms / TRIALS);
        const double per = (t1 - t0) * 1e6 / (double)pairs;
        if (per < best) best = per;
    }
    return best;
}

/* The panel kernels of every set that has them, against the same set's
 * gemm tiles over the same pairs. */
static void bench_panels(const ingot_kernels *const *sets, int nsets, int64_t n, const char *only, double ms) {
    const int nys[] = {4, 8, 16, 32, 64};
    const float *f = NULL;
    uint8_t *w = NULL, *a = NULL;
    for (int k = 0; k < nsets; k++) {
        if (!sets[k]) continue;
        for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
            const ingot_type t = types[ti];
            const ingot_type_traits *tr = ingot_type_traits_get(t);
            if (!sets[k]->gemm_panel[t] || (only && !listed(only, tr->name))) continue;
            const ingot_type vt = tr->vec_dot_type;
            const size_t wrow = ingot_type_row_size(t, n), arow = ingot_type_row_size(vt, n);
            if (!w) {
                float *g = malloc((size_t)n * sizeof *g);
                f = g;
                w = malloc((size_t)n * PX * 4);
                a = malloc((size_t)n * PY * 4);
                printf("\ngemm_panel of %d weight rows x ny activation rows, ns per pair (panel | the same set's gemm tiles)\n", PX);
                printf("%-7s %-7s", "set", "type");
                for (size_t q = 0; q < sizeof nys / sizeof nys[0]; q++) printf("   ny=%-2d panel    gemm", nys[q]);
                printf("\n");
            }
            float *g = (float *)f;
            for (int r = 0; r < PX; r++) {
                for (int64_t e = 0; e < n; e++) g[e] = (float)(((r + 1) * e * 7919 + r) % 2001 - 1000) / 1000.0f;
                tr->from_float(g, w + (size_t)r * wrow, n);
            }
            for (int j = 0; j < PY; j++) {
                for (int64_t e = 0; e < n; e++) g[e] = (float)(((j + 5) * e * 104729 + j) % 2001 - 1000) / 1000.0f;
                sets[k]->quantize_act[vt](g, a + (size_t)j * arow, n);
            }
            printf("%-7s %-7s", sets[k]->isa, tr->name);
            for (size_t q = 0; q < sizeof nys / sizeof nys[0]; q++)
                printf(" %12.1f %7.1f", time_panel(sets[k], t, n, w, wrow, a, arow, nys[q], 1, ms),
                       time_panel(sets[k], t, n, w, wrow, a, arow, nys[q], 0, ms));
            printf("\n");
            fflush(stdout);
        }
    }
    free((void *)f);
    free(w);
    free(a);
}

int main(int argc, char **argv) {
    const int64_t n = argc > 1 ? atoll(argv[1]) : 4096;
    const double ms = argc > 2 ? atof(argv[2]) : 150;
    if (n <= 0 || n % 256) {
        fprintf(stderr, "n must be a positive multiple of 256\n");
        return 2;
    }
    const char *names[] = {"ref", "avx2", "avxvnni", "avx512", "neon"};
    enum { NSETS = sizeof names / sizeof names[0] };
    const ingot_kernels *sets[NSETS];
    for (int k = 0; k < NSETS; k++) sets[k] = ingot_kernels_for(names[k]);
    float *f = malloc((size_t)n * ROWS * sizeof *f);
    for (int64_t i = 0; i < n * ROWS; i++) f[i] = (float)((i * 7919) % 2001 - 1000) / 1000.0f;
    uint8_t *w = malloc((size_t)n * ROWS * 4), *a = malloc((size_t)n * NY * 4 + 4096);
    printf("cpu: %s; n = %lld; ns per row dot: vec_dot (1), vec_dot_n per row of %d (xN), gemm per pair of %dx%d tiles (gemm)\n",
           ingot_cpu_model(), (long long)n, NY, NX, NY);
    printf("%-7s", "type");
    for (int k = 0; k < NSETS; k++)
        if (sets[k]) printf(" %8s.1 %9s %9s", sets[k]->isa, "xN", "gemm");
    printf("\n");
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const ingot_type t = types[ti];
        const ingot_type_traits *tr = ingot_type_traits_get(t);
        if (argc > 3 && !listed(argv[3], tr->name)) continue;
        const ingot_type vt = tr->vec_dot_type;
        const size_t wrow = ingot_type_row_size(t, n), arow = ingot_type_row_size(vt, n);
        for (int r = 0; r < ROWS; r++) tr->from_float(f + r * n, w + (size_t)r * wrow, n);
        for (int j = 0; j < NY; j++)
            sets[0]->quantize_act[vt](f + (j + 3) % ROWS * n, a + (size_t)j * arow, n);
        printf("%-7s", tr->name);
        for (int k = 0; k < NSETS; k++) {
            if (!sets[k]) continue;
            /* the reference gemm is its vec_dot in a loop: not worth the time */
            printf(" %10.1f %9.1f", time_dot(sets[k], t, n, w, wrow, a, arow, 0, 0, ms),
                   time_dot(sets[k], t, n, w, wrow, a, arow, NY, 0, ms));
            if (k) printf(" %9.1f", time_dot(sets[k], t, n, w, wrow, a, arow, NY, 1, ms));
            else printf(" %9s", "-");
        }
        printf("\n");
        fflush(stdout);
    }
    {
        const char *pnames[] = {"amx"};
        const ingot_kernels *psets[1] = {ingot_kernels_for(pnames[0])};
        bench_panels(psets, 1, n, argc > 3 ? argv[3] : NULL, ms);
    }
    printf("\nactivation quantizers, ns per row of %lld\n", (long long)n);
    const ingot_type vts[] = {INGOT_TYPE_F16, INGOT_TYPE_BF16, INGOT_TYPE_Q8_0, INGOT_TYPE_Q8_1,
                              INGOT_TYPE_Q8_K};
    for (size_t i = 0; i < sizeof vts / sizeof vts[0]; i++) {
        printf("%-7s", ingot_type_name(vts[i]));
        for (int k = 0; k < NSETS; k++) {
            if (!sets[k]) continue;
            printf(" %s %.1f", sets[k]->isa, time_quant(sets[k], vts[i], n, f, a, ms));
        }
        printf("\n");
    }
    free(f);
    free(w);
    free(a);
    return 0;
}
