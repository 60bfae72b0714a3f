/* Owns the forward pass's element-wise ops and the weight x activations
 * product. Activations are converted to the weight type's vec_dot_type
 * first (as llama.cpp does, so quantized models see the same rounding),
 * then each thread computes whole output rows for every token: an even
 * contiguous share of them, or (packed weights, batches, a pool) units of
 * row groups taken from the pool's counter as threads come free. */
#include "tensor/ops.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "tensor/kernels.h"
#include "tensor/pack.h"

ingot_type ingot_weight_act_type(const ingot_weight *w) {
    return ingot_type_traits_get(w->type)->vec_dot_type;
}

size_t ingot_act_row_bytes(const ingot_weight *w) {
    ingot_type t = ingot_weight_act_type(w);
    if (t == INGOT_TYPE_F32) return 0;
    return (ingot_type_row_size(t, w->ne0) + 63) & ~(size_t)63;
}

void ingot_act_convert(int ith, int nth, ingot_type type, const float *x, int64_t n, int64_t ne0,
                       void *dst, size_t row_bytes) {
    ingot_act_convert_packed(ith, nth, type, x, n, ne0, dst, row_bytes, NULL);
}

int ingot_act_wants_packed(const ingot_weight *w) {
    const ingot_kernels *k = ingot_kernels_get();
    return w->packed && k->packed_act_row && k->packed_gemm_act[w->type] &&
           ingot_weight_act_type(w) == INGOT_TYPE_Q8_0;
}

void ingot_act_convert_packed(int ith, int nth, ingot_type type, const float *x, int64_t n, int64_t ne0,
                              void *dst, size_t row_bytes, const ingot_packed_act *pa) {
    if (type == INGOT_TYPE_F32) return;
    long long lo, hi;
    ingot_split(n, ith, nth, &lo, &hi);
    for (long long i = lo; i < hi; i++)
        ingot_act_convert_row(type, x + i * ne0, ne0, (char *)dst + (size_t)i * row_bytes, i, pa);
}

void ingot_act_convert_row(ingot_type type, const float *x, int64_t ne0, void *row, int64_t i,
                           const ingot_packed_act *pa) {
    const ingot_kernels *k = ingot_kernels_get();
    k->quantize_act[type](x, row, ne0);
    if (pa) k->packed_act_row(row, i, pa);
}

/* Activation rows per tile: a tile of converted rows (<= ~64 KiB for
 * typical widths) stays in L2 while every weight row of the thread's range
 * streams past it once. */
#define MM_TILE 64

size_t ingot_weight_pack_size(const ingot_weight *w) {
    if (!w->data || w->ne1 % INGOT_PACK_ROWS || !ingot_kernels_get()->packed_gemm[w->type]) return 0;
    return (size_t)(w->ne1 / INGOT_PACK_ROWS) * ingot_pack_group_bytes(w->type, w->ne0);
}

/* Output rows are handed to threads in units of 16 (a packed group). */
#define MM_UNIT INGOT_PACK_ROWS
/* Bytes of packed weights kept in L2 across the activation tiles. */
#ifndef MM_L2_BYTES
#define MM_L2_BYTES (384u * 1024u)
#endif

/* Packed groups [g0, g0 + ng) of job jb against every tile of the n
 * activation rows: the groups (~MM_L2_BYTES at most) stay in L2 while
 * every tile passes them, so each weight byte comes from memory once. */
static void mm_packed(const ingot_kernels *k, const ingot_mm_job *jb, int64_t g0, int64_t ng, int64_t n) {
    const ingot_weight *w = jb->w;
    if (jb->pact && k->packed_gemm_act[w->type]) {
        /* the kernel walks the tiles of the layout itself, in this order */
        k->packed_gemm_act[w->type](w->ne0, (const char *)w->packed + (size_t)g0 * w->group_bytes, ng, jb->pact,
                                    jb->y + g0 * MM_UNIT, (size_t)jb->ldy);
        return;
    }
    for (int64_t t0 = 0; t0 < n; t0 += MM_TILE) {
        const int64_t t1 = t0 + MM_TILE < n ? t0 + MM_TILE : n;
        k->packed_gemm[w->type](w->ne0, (const char *)w->packed + (size_t)g0 * w->group_bytes, ng,
                                (const char *)jb->act + (size_t)t0 * jb->act_row, jb->act_row, t1 - t0,
                                jb->y + t0 * jb->ldy + g0 * MM_UNIT, (size_t)jb->ldy);
    }
}

/* Fewest activation rows for which packed units are handed out at run
 * time (below it, each thread takes its even share of rows). */
#define MM_DYN_MIN 16

static int64_t mm_chunk(const ingot_weight *w) {
    const int64_t chunk = (int64_t)(MM_L2_BYTES / w->group_bytes);
    return chunk < 1 ? 1 : chunk;
}

/* Groups per unit handed out by the pool's counter: at most a chunk, and
 * small enough that each thread takes several units of every matrix (the
 * last unit decides when the product ends). */
static int64_t mm_unit_groups(const ingot_weight *w, int nth) {
    const int64_t ng = w->ne1 / MM_UNIT, chunk = mm_chunk(w);
    int64_t u = ng / (8 * (int64_t)nth);
    if (u < 1) u = 1;
    return u < chunk ? u : chunk;
}

/* Bytes of packed weights per unit of ingot_pool_claim (a few
 * microseconds of streaming: small enough to even out the threads, large
 * enough that a unit's claim and prefetch ramp cost little). */
#ifndef MM_STEAL_BYTES
#define MM_STEAL_BYTES (64u * 1024u)
#endif

/* Groups per claimed unit for each packed job, and the units in all;
 * false when there is no packed job. Units are made larger where a
 * product would have more than INGOT_POOL_CLAIM_MAX of them. */
static bool mm_steal_units(const ingot_mm_job *jobs, int n_jobs, int64_t per[3], long long *total) {
    for (int64_t scale = 1;; scale *= 2) {
        long long t = 0;
        for (int j = 0; j < n_jobs; j++) {
            const ingot_weight *w = jobs[j].w;
            if (!w->packed) continue;
            int64_t g = (int64_t)(MM_STEAL_BYTES / w->group_bytes);
            per[j] = (g < 1 ? 1 : g) * scale;
            t += (w->ne1 / MM_UNIT + per[j] - 1) / per[j];
        }
        *total = t;
        if (t <= INGOT_POOL_CLAIM_MAX) return t > 0;
    }
}

void ingot_mm_run(int ith, int nth, const ingot_mm_job *jobs, int n_jobs, int64_t n) {
    ingot_mm_run_pool(NULL, ith, nth, jobs, n_jobs, n);
}

void ingot_mm_run_pool(ingot_pool *pool, int ith, int nth, const ingot_mm_job *jobs, int n_jobs, int64_t n) {
    const ingot_kernels *k = ingot_kernels_get();
    /* Batches with a pool of several threads: packed weights go out in
     * units from the pool's counter to whichever thread is free (the two
     * cores of a shared machine seldom run at the same speed: in a
     * llama3.2-1b Q4_K_M pp512 profile the barrier's waiting fell from
     * ~2.0% to ~0.75% of the samples); the rest is split evenly by rows.
     * Not for a few tokens: a unit is then a microsecond of work, and the
     * counter's cache line moving between the cores cost qwen2.5-0.5b
     * tg64 ~6%. Every output element is computed once, by the same kernel
     * with the same operands, whoever takes it: same bits. */
    const bool dynamic = pool && nth > 1 && n >= MM_DYN_MIN;
    /* A few tokens with several threads: packed weights in units of
     * ~MM_STEAL_BYTES, each thread through its own share in order, then
     * stealing the far end of the other's (ingot_pool_claim). In a
     * llama3.2-1b Q8_0 tg64 the even split of rows left the faster
     * thread waiting ~5% of the product time (per-call times of the two
     * threads: sum of the slower 3.69 s against a mean of 3.51 s). */
    int64_t steal_per[3] = {0, 0, 0};
    long long steal_total = 0;
    const bool steal = pool && nth > 1 && !dynamic && n_jobs <= 3 && mm_steal_units(jobs, n_jobs, steal_per, &steal_total);
    int64_t total = 0;
    for (int j = 0; j < n_jobs; j++)
        if (!((dynamic || steal) && jobs[j].w->packed)) total += (jobs[j].w->ne1 + MM_UNIT - 1) / MM_UNIT;
    long long lo, hi;
    ingot_split(total, ith, nth, &lo, &hi);
    lo *= MM_UNIT;
    hi *= MM_UNIT;
    if (dynamic) {
        for (long long u = ingot_pool_take(pool);; u = ingot_pool_take(pool)) {
            long long first = 0;
            int j = 0;
            int64_t per = 0, units = 0;
            for (; j < n_jobs; j++) {
                if (!jobs[j].w->packed) continue;
                per = mm_unit_groups(jobs[j].w, nth);
                units = (jobs[j].w->ne1 / MM_UNIT + per - 1) / per;
                if (u < first + units) break;
                first += units;
            }
            if (j == n_jobs) break;
            const int64_t ng = jobs[j].w->ne1 / MM_UNIT, g0 = (u - first) * per;
            mm_packed(k, &jobs[j], g0, ng - g0 < per ? ng - g0 : per, n);
        }
    } else if (steal) {
        long long u = -1, left = 0;
        for (;;) {
            if (!left && (u = ingot_pool_claim(pool, ith, steal_total, &left)) < 0) break;
            int j = 0;
            long long first = 0, units = 0;
            for (; j < n_jobs; j++) {
                if (!jobs[j].w->packed) continue;
                units = (jobs[j].w->ne1 / MM_UNIT + steal_per[j] - 1) / steal_per[j];
                if (u < first + units) break;
                first += units;
            }
            /* the claimed units that fall in this job, as one run */
            const int64_t ng = jobs[j].w->ne1 / MM_UNIT;
            const long long here = u + left < first + units ? left : first + units - u;
            const int64_t g0 = (u - first) * steal_per[j], g1 = (u - first + here) * steal_per[j];
            mm_packed(k, &jobs[j], g0, (g1 < ng ? g1 : ng) - g0, n);
            u += here;
            left -= here;
        }
    } else {
        int64_t base = 0;
        for (int j = 0; j < n_jobs; j++) {
            const ingot_mm_job *jb = &jobs[j];
            const ingot_weight *w = jb->w;
            const int64_t span = (w->ne1 + MM_UNIT - 1) / MM_UNIT * MM_UNIT;
            int64_t r0 = lo - base > 0 ? lo - base : 0, r1 = hi - base < w->ne1 ? hi - base : w->ne1;
            base += span;
            if (r0 >= r1 || !w->packed) continue;
            const int64_t chunk = mm_chunk(w);
            /* whole groups: ne1 is a multiple of 16 for a packed weight */
            for (int64_t g0 = r0 / MM_UNIT; g0 < r1 / MM_UNIT; g0 += chunk)
                mm_packed(k, jb, g0, r1 / MM_UNIT - g0 < chunk ? r1 / MM_UNIT - g0 : chunk, n);
        }
    }
    for (int64_t t0 = 0; t0 < n; t0 += MM_TILE) {
        const int64_t t1 = t0 + MM_TILE < n ? t0 + MM_TILE : n;
        int64_t base = 0;
        for (int j = 0; j < n_jobs; j++) {
            const ingot_mm_job *jb = &jobs[j];
            const ingot_weight *w = jb->w;
            if ((dynamic || steal) && w->packed) continue; /* not in the row split */
            const int64_t span = (w->ne1 + MM_UNIT - 1) / MM_UNIT * MM_UNIT;
            int64_t r0 = lo - base > 0 ? lo - base : 0, r1 = hi - base < w->ne1 ? hi - base : w->ne1;
            base += span;
            if (r0 >= r1) continue;
            const char *act = jb->act;
            if (w->packed) continue; /* done above */
            ingot_gemm_fn gemm = k->gemm[w->type];
            const char *wd = w->data;
            /* Panel kernels (AMX) pay their set-up over many tokens; they
             * give the same bits as the tiles below. */
            ingot_gemm_panel_fn panel = k->gemm_panel[w->type];
            if (panel && t1 - t0 >= 32) {
                panel(w->ne0, jb->y + t0 * jb->ldy + r0, 1, (size_t)jb->ldy, wd + (size_t)r0 * w->row_bytes,
                      w->row_bytes, r1 - r0, act + (size_t)t0 * jb->act_row, jb->act_row, t1 - t0);
                continue;
            }
            for (int64_t r = r0; r < r1; r += INGOT_KERNELS_MAX_NX) {
                const int nx = (int)(r1 - r < INGOT_KERNELS_MAX_NX ? r1 - r : INGOT_KERNELS_MAX_NX);
                const void *rows = wd + (size_t)r * w->row_bytes;
                for (int64_t t = t0; t < t1; t += INGOT_KERNELS_MAX_NY) {
                    float s[INGOT_KERNELS_MAX_NX * INGOT_KERNELS_MAX_NY];
                    const int ny = (int)(t1 - t < INGOT_KERNELS_MAX_NY ? t1 - t : INGOT_KERNELS_MAX_NY);
                    gemm(w->ne0, s, INGOT_KERNELS_MAX_NY, rows, w->row_bytes, nx, act + (size_t)t * jb->act_row,
                         jb->act_row, ny);
                    for (int i = 0; i < nx; i++)
                        for (int q = 0; q < ny; q++) jb->y[(t + q) * jb->ldy + r + i] = s[i * INGOT_KERNELS_MAX_NY + q];
                }
            }
        }
    }
}

typedef struct matmul_task {
    const ingot_weight *w;
    const float *x;
    int64_t n;
    float *y;
    int64_t ldy;
    void *scratch;
    ingot_pool *pool;
} matmul_task;

size_t ingot_matmul_scratch_bytes(const ingot_weight *w, int64_t n) {
    const size_t rb = (size_t)n * ingot_act_row_bytes(w);
    return ingot_act_wants_packed(w) ? rb + ingot_packed_act_bytes(n, w->ne0 / 32) : rb;
}

static void matmul_worker(void *arg, int ith, int nth) {
    matmul_task *t = arg;
    size_t rb = ingot_act_row_bytes(t->w);
    ingot_packed_act pa;
    const bool packed = ingot_act_wants_packed(t->w);
    if (packed) ingot_packed_act_init(&pa, (char *)t->scratch + (size_t)t->n * rb, t->n, t->w->ne0 / 32);
    ingot_mm_job job = {t->w, rb ? t->scratch : (const void *)t->x, rb ? rb : (size_t)t->w->ne0 * 4, t->y,
                        t->ldy, packed ? &pa : NULL};
    if (rb) {
        ingot_act_convert_packed(ith, nth, ingot_weight_act_type(t->w), t->x, t->n, t->w->ne0, t->scratch, rb,
                                 packed ? &pa : NULL);
        ingot_pool_barrier(t->pool);
    }
    ingot_mm_run_pool(t->pool, ith, nth, &job, 1, t->n);
}

void ingot_matmul(ingot_pool *pool, const ingot_weight *w, const float *x, int64_t n, float *y,
                  int64_t ldy, void *scratch) {
    matmul_task t = {w, x, n, y, ldy, scratch, pool};
    ingot_pool_run(pool, matmul_worker, &t);
}

void ingot_weight_row(const ingot_weight *w, int64_t row, float *out) {
    const ingot_type_traits *tr = ingot_type_traits_get(w->type);
    tr->to_float((const char *)w->data + (size_t)row * w->row_bytes, out, w->ne0);
}

void ingot_rmsnorm(float *out, const float *x, const float *weight, int64_t n, float eps) {
    /* Sum of squares and scale in double: a few thousand squares lose
     * digits in float. */
    double s4[4] = {0, 0, 0, 0}; /* four running sums (vectorizable), then added in a fixed order */
    int64_t i0 = 0;
    for (; i0 + 4 <= n; i0 += 4)
        for (int l = 0; l < 4; l++) s4[l] += (double)x[i0 + l] * x[i0 + l];
    double ss = (s4[0] + s4[1]) + (s4[2] + s4[3]);
    for (; i0 < n; i0++) ss += (double)x[i0] * x[i0];
    const float scale = (float)(1.0 / sqrt(ss / (double)n + eps));
    if (weight)
        for (int64_t i = 0; i < n; i++) out[i] = (x[i] * scale) * weight[i];
    else
        for (int64_t i = 0; i < n; i++) out[i] = x[i] * scale;
}

void ingot_rope_cache(float *cs, int n_rot, int32_t pos, float base, float freq_scale,
                      const float *factors, float attn_factor) {
    const float theta_scale = powf(base, -2.0f / (float)n_rot);
    float theta = (float)pos * freq_scale;
    for (int i = 0; i < n_rot / 2; i++) {
        float th = factors ? theta / factors[i] : theta;
        cs[2 * i] = cosf(th) * attn_factor;
        cs[2 * i + 1] = sinf(th) * attn_factor;
        theta *= theta_scale;
    }
}

void ingot_rope_apply(float *x, int n_head, int head_dim, int n_rot, const float *cs,
                      ingot_rope_style style) {
    const int half = n_rot / 2;
    for (int h = 0; h < n_head; h++) {
        float *v = x + (size_t)h * head_dim;
        for (int i = 0; i < half; i++) {
            const float c = cs[2 * i], s = cs[2 * i + 1];
            const int a = style == INGOT_ROPE_NORM ? 2 * i : i;
            const int b = style == INGOT_ROPE_NORM ? 2 * i + 1 : i + half;
            const float x0 = v[a], x1 = v[b];
            v[a] = x0 * c - x1 * s;
            v[b] = x0 * s + x1 * c;
        }
    }
}

void ingot_softmax(float *x, int64_t n) {
    float mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) if (x[i] > mx) mx = x[i];
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        float e = (x[i] == -INFINITY) ? 0.0f : expf(x[i] - mx);
        x[i] = e;
        sum += e;
    }
    float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

float ingot_silu(float x) { return x / (1.0f + expf(-x)); }

float ingot_gelu_tanh(float x) {
    const float c = 0.7978845608028654f; /* sqrt(2/pi) */
    return 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x)));
}
