/* Times whole matrix products the way the forward pass runs them
 * (ingot_matmul on a thread pool: activation conversion + product), for
 * weights large enough to stream from memory: one token (generation:
 * reported as GB/s of weights read) and a batch (prompt processing:
 * reported as tokens/s through this one matrix). Each weight is timed
 * unpacked and packed (tensor/pack.h) when the chosen kernel set has a
 * packed kernel for its type. Best of several repetitions, which filters
 * out other processes on a shared machine. Reports, never asserts.
 * Usage: matmul_bench [-t threads] [-n batch] [-r reps] [TYPE:ROWSxCOLS ...]
 * (default: matrices of 896 columns, as wide as the qwen2.5-0.5b shape's,
 * and ~150k rows, in Q4_0, Q5_0 and Q8_0). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/platform.h"
#include "base/pool.h"
#include "tensor/kernels.h"
#include "tensor/ops.h"
#include "tensor/pack.h"
#include "tensor/types.h"

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static double best_ms(ingot_pool *pool, const ingot_weight *w, const float *x, int64_t n, float *y, void *scratch,
                      int reps) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = ingot_time_ms();
        ingot_matmul(pool, w, x, n, y, w->ne1, scratch);
        double dt = ingot_time_ms() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

static void run(ingot_pool *pool, ingot_type type, int64_t rows, int64_t cols, int64_t batch, int reps) {
    const ingot_type_traits *tr = ingot_type_traits_get(type);
    if (!tr || !tr->from_float) {
        fprintf(stderr, "matmul_bench: type %d cannot be made here\n", type);
        return;
    }
    const size_t rb = ingot_type_row_size(type, cols);
    uint8_t *data = malloc(rb * (size_t)rows);
    float *f = malloc((size_t)cols * sizeof *f);
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t i = 0; i < cols; i++) f[i] = (float)(int)(rnd() % 2001 - 1000) / 1000.0f;
        tr->from_float(f, data + (size_t)r * rb, cols);
    }
    ingot_weight w = {type, cols, rows, rb, data, NULL, 0};
    float *x = malloc((size_t)batch * (size_t)cols * sizeof *x);
    for (int64_t i = 0; i < batch * cols; i++) x[i] = (float)(int)(rnd() % 2001 - 1000) / 500.0f;
    float *y = malloc((size_t)batch * (size_t)rows * sizeof *y);
    void *scratch = NULL;
    /* enough for either pass (packed products may want their own layout
     * of the activations: ingot_matmul_scratch_bytes) */
    size_t sb = ingot_act_row_bytes(&w) * (size_t)batch + ingot_packed_act_bytes(batch, cols / 32) + 64;
    if (posix_memalign(&scratch, 64, sb)) return;
    void *packed = NULL;
    const size_t psize = ingot_weight_pack_size(&w);
    for (int pass = 0; pass < (psize ? 2 : 1); pass++) {
        if (pass == 1) {
            /* as the model holds packed weights (model/pack_weights.c):
             * 2 MiB aligned, transparent huge pages where allowed */
            if (posix_memalign(&packed, (size_t)2 << 20, psize)) break;
#ifdef MADV_HUGEPAGE
            (void)madvise(packed, psize, MADV_HUGEPAGE);
#endif
            memset(packed, 0, psize); /* fault the pages in first: time the packing alone */
            const double p0 = ingot_time_ms();
            ingot_pack_groups(type, cols, data, rb, 0, rows / INGOT_PACK_ROWS, packed);
            printf("%-6s %6lld x %-6lld packing: %.1f ms on one thread (%.2f GB/s)\n", tr->name, (long long)rows,
                   (long long)cols, ingot_time_ms() - p0, (double)psize / (ingot_time_ms() - p0) / 1e6);
            w.packed = packed;
            w.group_bytes = ingot_pack_group_bytes(type, cols);
        }
        const double t1 = best_ms(pool, &w, x, 1, y, scratch, reps * 4);
        const double tn = best_ms(pool, &w, x, batch, y, scratch, reps);
        printf("%-6s %6lld x %-6lld %-8s  n=1: %7.3f ms %6.2f GB/s   n=%lld: %8.3f ms %8.1f tok/s\n", tr->name,
               (long long)rows, (long long)cols, pass ? "packed" : "unpacked", t1, (double)rb * rows / t1 / 1e6,
               (long long)batch, tn, (double)batch / tn * 1e3);
    }
    free(packed);
    free(scratch);
    free(y);
    free(x);
    free(f);
    free(data);
}

int main(int argc, char **argv) {
    int threads = 2, reps = 5;
    int64_t batch = 128;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first += 2) {
        if (first + 1 >= argc) break;
        if (!strcmp(argv[first], "-t")) threads = atoi(argv[first + 1]);
        else if (!strcmp(argv[first], "-n")) batch = atoll(argv[first + 1]);
        else if (!strcmp(argv[first], "-r")) reps = atoi(argv[first + 1]);
    }
    ingot_pool *pool = ingot_pool_new(threads);
    printf("kernel set %s, %d threads\n", ingot_kernels_get()->isa, threads);
    if (first >= argc) {
        /* ~32 FFN matrices' worth of rows: streams from memory like a
         * whole decode step does */
        run(pool, INGOT_TYPE_Q4_0, 155648, 896, batch, reps);
        run(pool, INGOT_TYPE_Q5_0, 155648, 896, batch, reps);
        run(pool, INGOT_TYPE_Q8_0, 151936, 896, batch, reps);
    }
    for (int i = first; i < argc; i++) {
        char name[16];
        long long rows, cols;
        if (sscanf(argv[i], "%15[^:]:%lldx%lld", name, &rows, &cols) != 3 || ingot_type_from_name(name) < 0) {
            fprintf(stderr, "matmul_bench: expected TYPE:ROWSxCOLS, got '%s'\n", argv[i]);
            return 2;
        }
        run(pool, (ingot_type)ingot_type_from_name(name), rows, cols, batch, reps);
    }
    ingot_pool_free(pool);
    return 0;
}
