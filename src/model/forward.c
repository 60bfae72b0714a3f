/* Owns the transformer forward pass shared by every supported family:
 * embeddings -> n_layer x (attention + gated FFN) -> final norm -> logits.
 * Family differences come from the hparams (rope style, norms present,
 * scales, sliding windows), so one readable loop serves all of them.
 *
 * The whole pass is one task on the thread pool: every thread walks the
 * same stages and takes its share of each (tokens, heads or weight rows),
 * with a barrier between dependent stages — nine or ten per layer (none
 * where two stages split the tokens the same way), and no thread hand-off
 * or allocation per token. */
#include <math.h>
#include <string.h>

#include "base/error.h"
#include "model/context.h"
#include "tensor/attn.h"
#include "tensor/kernels.h"

typedef struct fwd {
    ingot_context *c;
    const int32_t *tokens;
    int32_t n, pos0, first_logit;
    float *out;
} fwd;

static inline float kv_load(const ingot_context *c, const char *base, int64_t i) {
    if (c->kv_elt == 2) {
        uint16_t h;
        memcpy(&h, base + i * 2, 2);
        return ingot_fp16_to_fp32(h);
    }
    float f;
    memcpy(&f, base + i * 4, 4);
    return f;
}

static inline float round_like_kv(const ingot_context *c, float x) {
    /* With an F16 cache llama.cpp rounds the other operand of each
     * attention product to F16 too; doing the same keeps logits aligned. */
    return c->kv_elt == 2 ? ingot_fp16_to_fp32(ingot_fp32_to_fp16(x)) : x;
}

static void store_kv_row(ingot_context *c, int il, int32_t pos, int64_t off, const float *src, int64_t n,
                         char *cache) {
    size_t idx = ((size_t)il * (size_t)c->n_ctx + (size_t)pos) * (size_t)c->kv_dim + (size_t)off;
    if (c->kv_elt == 2) {
        uint16_t *d = (uint16_t *)cache + idx;
        ingot_kernels_get()->quantize_act[INGOT_TYPE_F16](src, d, n); /* F16C where there is one */
    } else {
        memcpy((float *)cache + idx, src, (size_t)n * 4);
    }
}

static bool layer_swa(const ingot_hparams *hp, int il) { return hp->n_swa > 0 && hp->swa_layer[il]; }

/* Per (token, head): biases, q/k norms, rope, and the new keys/values into
 * the cache. Items are the n_head query heads then the n_head_kv kv heads
 * of every token. */
static void qkv_post(const fwd *f, int il, int ith, int nth) {
    ingot_context *c = f->c;
    const ingot_hparams *hp = &c->model->hp;
    const ingot_layer *L = &c->model->layers[il];
    const int hd = hp->head_dim, nh = hp->n_head, nkv = hp->n_head_kv;
    const int64_t Q = (int64_t)nh * hd, KV = c->kv_dim, W = Q + 2 * KV;
    const bool swa = layer_swa(hp, il);
    const bool prescale = hp->arch == INGOT_ARCH_GEMMA3;
    long long lo, hi;
    ingot_split((long long)f->n * (nh + nkv), ith, nth, &lo, &hi);
    for (long long item = lo; item < hi; item++) {
        int32_t t = (int32_t)(item / (nh + nkv));
        int h = (int)(item % (nh + nkv));
        float *row = c->qkv + t * W;
        const float *cs = c->rope_cs + ((size_t)t * 2 + (swa ? 1 : 0)) * (size_t)hp->n_rot;
        if (h < nh) {
            float *q = row + (int64_t)h * hd;
            if (L->bq)
                for (int d = 0; d < hd; d++) q[d] += L->bq[(int64_t)h * hd + d];
            if (L->q_norm) ingot_rmsnorm(q, q, L->q_norm, hd, hp->norm_eps);
            ingot_rope_apply(q, 1, hd, hp->n_rot, cs, hp->rope_style);
            /* Gemma scales queries before the product (kq scale 1); the
             * others scale the scores. Same maths, but it decides where
             * F16 rounding happens, as in llama.cpp. */
            if (prescale)
                for (int d = 0; d < hd; d++) q[d] *= hp->attn_scale;
        } else {
            int hk = h - nh;
            float *k = row + Q + (int64_t)hk * hd, *v = row + Q + KV + (int64_t)hk * hd;
            if (L->bk)
                for (int d = 0; d < hd; d++) k[d] += L->bk[(int64_t)hk * hd + d];
            if (L->bv)
                for (int d = 0; d < hd; d++) v[d] += L->bv[(int64_t)hk * hd + d];
            if (L->k_norm) ingot_rmsnorm(k, k, L->k_norm, hd, hp->norm_eps);
            ingot_rope_apply(k, 1, hd, hp->n_rot, cs, hp->rope_style);
            store_kv_row(c, il, f->pos0 + t, (int64_t)hk * hd, k, hd, c->kv_k);
            store_kv_row(c, il, f->pos0 + t, (int64_t)hk * hd, v, hd, c->kv_v);
        }
    }
}

/* Per (tile of tokens, kv head, part of its query heads): the heads that
 * share a kv head go through one attend_f16_tok call for up to
 * attn_tile consecutive tokens (keys and values converted once for all
 * of them); with fewer (token, kv head) items than threads, the query
 * heads of a group are split so that every thread has work. Sliding-window
 * layers take one token per call (each token's window starts elsewhere). */
static void attention_grouped(const fwd *f, int il, int ith, int nth) {
    ingot_context *c = f->c;
    const ingot_hparams *hp = &c->model->hp;
    const int hd = hp->head_dim, nh = hp->n_head, nkv = hp->n_head_kv, group = nh / nkv;
    const int64_t Q = (int64_t)nh * hd, W = Q + 2 * c->kv_dim;
    const size_t layer_off = (size_t)il * (size_t)c->n_ctx * (size_t)c->kv_dim;
    const uint16_t *kbase = (const uint16_t *)c->kv_k + layer_off, *vbase = (const uint16_t *)c->kv_v + layer_off;
    const bool swa = layer_swa(hp, il);
    const float scale = hp->arch == INGOT_ARCH_GEMMA3 ? 1.0f : hp->attn_scale;
    float *scratch = c->scores + (size_t)ith * c->scores_stride;
    const int tile = swa ? 1 : c->attn_tile;
    const long long ntiles = (f->n + tile - 1) / tile;
    int parts = 1;
    if (ntiles * nkv < nth) parts = nth < group ? nth : group;
    /* Items are dealt round-robin: a later token sees more keys, so
     * contiguous ranges would leave the first thread idle. */
    const long long items = ntiles * nkv * parts;
    for (long long item = ith; item < items; item += nth) {
        const int part = (int)(item % parts);
        const int hk = (int)(item / parts % nkv);
        const int32_t t = (int32_t)(item / parts / nkv) * tile;
        const int nt = f->n - t < tile ? f->n - t : tile;
        const int h0 = hk * group + part * group / parts, h1 = hk * group + (part + 1) * group / parts;
        if (h1 <= h0) continue;
        const int32_t p = f->pos0 + t;
        int32_t first = 0;
        if (swa && p - hp->n_swa + 1 > 0) first = p - hp->n_swa + 1;
        const size_t kv_off = (size_t)first * (size_t)c->kv_dim + (size_t)hk * (size_t)hd;
        c->attn_kernels->attend_f16_tok(c->qkv + t * W + (int64_t)h0 * hd, (size_t)W, (size_t)hd, h1 - h0, nt,
                                        kbase + kv_off, vbase + kv_off, (size_t)c->kv_dim, p - first + 1, hd, scale,
                                        hp->attn_softcap, c->attn + t * Q + (int64_t)h0 * hd, (size_t)Q, (size_t)hd,
                                        scratch);
    }
}

/* Per (token, head): scores over the visible keys, softmax, weighted sum
 * of values. */
static void attention(const fwd *f, int il, int ith, int nth) {
    ingot_context *c = f->c;
    if (c->kv_elt == 2 && c->model->hp.head_dim % 8 == 0) {
        attention_grouped(f, il, ith, nth);
        return;
    }
    const ingot_hparams *hp = &c->model->hp;
    const int hd = hp->head_dim, nh = hp->n_head, group = hp->n_head / hp->n_head_kv;
    const int64_t Q = (int64_t)nh * hd, W = Q + 2 * c->kv_dim;
    const size_t layer_off = (size_t)il * (size_t)c->n_ctx * (size_t)c->kv_dim * c->kv_elt;
    const char *kbase = c->kv_k + layer_off, *vbase = c->kv_v + layer_off;
    const bool swa = layer_swa(hp, il);
    const float scale = hp->arch == INGOT_ARCH_GEMMA3 ? 1.0f : hp->attn_scale;
    float *scores = c->scores + (size_t)ith * c->scores_stride;
    float *qv = c->qtmp + (size_t)ith * (size_t)hd;
    const ingot_attn_kernels *ak = c->kv_elt == 2 ? c->attn_kernels : NULL;
    long long lo, hi;
    ingot_split((long long)f->n * nh, ith, nth, &lo, &hi);
    for (long long item = lo; item < hi; item++) {
        int32_t t = (int32_t)(item / nh);
        int h = (int)(item % nh), hk = h / group;
        int32_t p = f->pos0 + t, first = 0;
        if (swa && p - hp->n_swa + 1 > 0) first = p - hp->n_swa + 1;
        const float *q = c->qkv + t * W + (int64_t)h * hd;
        for (int d = 0; d < hd; d++) qv[d] = round_like_kv(c, q[d]);
        const int32_t nk = p - first + 1;
        float *o = c->attn + t * Q + (int64_t)h * hd;
        if (ak) {
            const uint16_t *kr = (const uint16_t *)kbase + (size_t)first * c->kv_dim + (size_t)hk * hd;
            for (int32_t j = 0; j < nk; j++, kr += c->kv_dim) scores[j] = ak->dot_f16(qv, kr, hd) * scale;
        } else {
            for (int32_t j = 0; j < nk; j++) {
                const char *kr = kbase + ((size_t)(first + j) * c->kv_dim + (size_t)hk * hd) * c->kv_elt;
                float s = 0;
                for (int d = 0; d < hd; d++) s += qv[d] * kv_load(c, kr, d);
                scores[j] = s * scale;
            }
        }
        if (hp->attn_softcap > 0)
            for (int32_t j = 0; j < nk; j++) scores[j] = hp->attn_softcap * tanhf(scores[j] / hp->attn_softcap);
        ingot_softmax(scores, nk);
        for (int d = 0; d < hd; d++) o[d] = 0;
        if (ak) {
            const uint16_t *vr = (const uint16_t *)vbase + (size_t)first * c->kv_dim + (size_t)hk * hd;
            for (int32_t j = 0; j < nk; j++, vr += c->kv_dim) ak->axpy_f16(round_like_kv(c, scores[j]), vr, o, hd);
        } else {
            for (int32_t j = 0; j < nk; j++) {
                const char *vr = vbase + ((size_t)(first + j) * c->kv_dim + (size_t)hk * hd) * c->kv_elt;
                const float w = scores[j];
                for (int d = 0; d < hd; d++) o[d] += w * kv_load(c, vr, d);
            }
        }
    }
}

/* The FFN's gated rows as a source of x: row t is act(gate, up) of row t
 * of ff ([n][2 F]: gate, then up), computed into tmp (F floats) right
 * before its conversion, so the rows never go through memory whole. */
typedef struct {
    void (*act)(float *, const float *, const float *, int64_t);
    const float *ff;
    float *tmp;
} gated_src;

/* Converts rows of x for each weight (once per distinct activation type)
 * and sets up the product jobs. Returns the number of jobs. The Q8_0 rows
 * also go into the packed kernels' own layout when one of the weights
 * wants it (pa: this thread's description of it, which the jobs keep).
 * With gx the rows come from gx instead of x (then NULL; not for weights
 * whose activations are F32, which read x itself). */
static int prepare_jobs_from(ingot_context *c, const ingot_weight *const *ws, float *const *ys,
                             const int64_t *ldy, int nw, const float *x, const gated_src *gx, int64_t n,
                             int64_t ne0, ingot_mm_job *jobs, int ith, int nth, ingot_packed_act *pa) {
    ingot_type done[INGOT_ACT_SLOTS];
    int n_done = 0;
    bool want_pa = false;
    for (int i = 0; i < nw; i++) want_pa |= c->act_pk && ingot_act_wants_packed(ws[i]);
    if (want_pa) ingot_packed_act_init(pa, c->act_pk, n, ne0 / 32);
    for (int i = 0; i < nw; i++) {
        ingot_type at = ingot_weight_act_type(ws[i]);
        int slot = -1;
        for (int j = 0; j < n_done; j++)
            if (done[j] == at) slot = j;
        const bool q8 = want_pa && at == INGOT_TYPE_Q8_0;
        if (slot < 0) {
            slot = n_done;
            done[n_done++] = at;
            if (gx) {
                long long lo, hi;
                ingot_split(n, ith, nth, &lo, &hi);
                for (long long t = lo; t < hi; t++) {
                    gx->act(gx->tmp, gx->ff + t * 2 * ne0, gx->ff + t * 2 * ne0 + ne0, ne0);
                    ingot_act_convert_row(at, gx->tmp, ne0, c->act[slot] + (size_t)t * c->act_row, t,
                                          q8 ? pa : NULL);
                }
            } else {
                ingot_act_convert_packed(ith, nth, at, x, n, ne0, c->act[slot], c->act_row, q8 ? pa : NULL);
            }
        }
        bool f32 = at == INGOT_TYPE_F32;
        jobs[i] = (ingot_mm_job){ws[i], f32 ? (const void *)x : c->act[slot], f32 ? (size_t)ne0 * 4 : c->act_row,
                                 ys[i], ldy[i], q8 && ingot_act_wants_packed(ws[i]) ? pa : NULL};
    }
    return nw;
}

static int prepare_jobs(ingot_context *c, const ingot_weight *const *ws, float *const *ys, const int64_t *ldy,
                        int nw, const float *x, int64_t n, int64_t ne0, ingot_mm_job *jobs, int ith,
                        int nth, ingot_packed_act *pa) {
    return prepare_jobs_from(c, ws, ys, ldy, nw, x, NULL, n, ne0, jobs, ith, nth, pa);
}

static void forward_task(void *arg, int ith, int nth) {
    const fwd *f = arg;
    ingot_context *c = f->c;
    ingot_pool *pool = c->pool;
    const ingot_model *m = c->model;
    const ingot_hparams *hp = &m->hp;
    const int64_t E = hp->n_embd, hd = hp->head_dim, Q = (int64_t)hp->n_head * hd, KV = c->kv_dim,
                  W = Q + 2 * KV, F = hp->n_ff;
    const int32_t n = f->n;
    long long t0, t1;
    ingot_split(n, ith, nth, &t0, &t1);
    ingot_mm_job jobs[3];
    ingot_packed_act pact;

    /* Embeddings, rope tables for this batch's positions, first norm. */
    for (long long t = t0; t < t1; t++) {
        float *x = c->x + t * E;
        ingot_model_embed_row(m, f->tokens[t], c->embd_row + (size_t)ith * c->embd_row_stride, x);
        if (hp->embd_scale != 1.0f)
            for (int64_t i = 0; i < E; i++) x[i] *= hp->embd_scale;
        float *cs = c->rope_cs + (size_t)t * 2 * (size_t)hp->n_rot;
        ingot_rope_cache(cs, hp->n_rot, f->pos0 + (int32_t)t, hp->rope_base, hp->rope_freq_scale,
                         c->rope_factors, 1.0f);
        ingot_rope_cache(cs + hp->n_rot, hp->n_rot, f->pos0 + (int32_t)t, hp->rope_base_swa,
                         hp->rope_freq_scale_swa, c->rope_factors, 1.0f);
        ingot_rmsnorm(c->xb + t * E, x, m->layers[0].attn_norm, E, hp->norm_eps);
    }
    /* no barrier: the first conversion below takes the same token range
     * (ingot_act_convert splits rows as ingot_split does here) */

    for (int il = 0; il < hp->n_layer; il++) {
        const ingot_layer *L = &m->layers[il];
        /* q, k, v (one fused product when the file has attn_qkv) */
        int nj;
        if (L->wqkv.data) {
            const ingot_weight *ws[] = {&L->wqkv};
            float *ys[] = {c->qkv};
            int64_t ld[] = {W};
            nj = prepare_jobs(c, ws, ys, ld, 1, c->xb, n, E, jobs, ith, nth, &pact);
        } else {
            const ingot_weight *ws[] = {&L->wq, &L->wk, &L->wv};
            float *ys[] = {c->qkv, c->qkv + Q, c->qkv + Q + KV};
            int64_t ld[] = {W, W, W};
            nj = prepare_jobs(c, ws, ys, ld, 3, c->xb, n, E, jobs, ith, nth, &pact);
        }
        ingot_pool_barrier(pool);
        ingot_mm_run_pool(pool, ith, nth, jobs, nj, n);
        ingot_pool_barrier(pool);
        qkv_post(f, il, ith, nth);
        ingot_pool_barrier(pool);
        attention(f, il, ith, nth);
        ingot_pool_barrier(pool);
        {
            const ingot_weight *ws[] = {&L->wo};
            float *ys[] = {c->out};
            int64_t ld[] = {E};
            nj = prepare_jobs(c, ws, ys, ld, 1, c->attn, n, Q, jobs, ith, nth, &pact);
        }
        ingot_pool_barrier(pool);
        ingot_mm_run_pool(pool, ith, nth, jobs, nj, n);
        ingot_pool_barrier(pool);
        for (long long t = t0; t < t1; t++) {
            float *o = c->out + t * E, *x = c->x + t * E;
            if (L->post_attn_norm) ingot_rmsnorm(o, o, L->post_attn_norm, E, hp->norm_eps);
            for (int64_t i = 0; i < E; i++) x[i] += o[i];
            ingot_rmsnorm(c->xb + t * E, x, L->ffn_norm, E, hp->norm_eps);
        }
        /* same token range as the conversion below: no barrier */
        /* gate and up into one [2F] row per token: gate, then up */
        if (L->w_gate_up.data) {
            const ingot_weight *ws[] = {&L->w_gate_up};
            float *ys[] = {c->ff};
            int64_t ld[] = {2 * F};
            nj = prepare_jobs(c, ws, ys, ld, 1, c->xb, n, E, jobs, ith, nth, &pact);
        } else {
            const ingot_weight *ws[] = {&L->w_gate, &L->w_up};
            float *ys[] = {c->ff, c->ff + F};
            int64_t ld[] = {2 * F, 2 * F};
            nj = prepare_jobs(c, ws, ys, ld, 2, c->xb, n, E, jobs, ith, nth, &pact);
        }
        ingot_pool_barrier(pool);
        ingot_mm_run_pool(pool, ith, nth, jobs, nj, n);
        ingot_pool_barrier(pool);
        {
            void (*act)(float *, const float *, const float *, int64_t) =
                hp->act == INGOT_ACT_GELU_TANH ? c->attn_kernels->gelu_mul : c->attn_kernels->silu_mul;
            const ingot_weight *ws[] = {&L->w_down};
            float *ys[] = {c->out};
            int64_t ld[] = {E};
            if (n >= nth && ingot_weight_act_type(&L->w_down) != INGOT_TYPE_F32) {
                /* by tokens, each gated row converted as it is made (in
                 * the thread's first row of ffh) */
                const gated_src gx = {act, c->ff, c->ffh + t0 * F};
                nj = prepare_jobs_from(c, ws, ys, ld, 1, NULL, &gx, n, F, jobs, ith, nth, &pact);
            } else {
                /* whole rows first (F32 activations read them), or slices
                 * of each row when there are fewer tokens than threads
                 * (generation) */
                if (n >= nth) {
                    for (long long t = t0; t < t1; t++)
                        act(c->ffh + t * F, c->ff + t * 2 * F, c->ff + t * 2 * F + F, F);
                } else {
                    long long e0, e1;
                    ingot_split(F / 8, ith, nth, &e0, &e1);
                    e0 *= 8;
                    e1 = ith == nth - 1 ? F : e1 * 8;
                    for (int32_t t = 0; t < n; t++)
                        act(c->ffh + t * F + e0, c->ff + t * 2 * F + e0, c->ff + t * 2 * F + F + e0, e1 - e0);
                    ingot_pool_barrier(pool); /* rows were split: the conversion needs them whole */
                }
                nj = prepare_jobs(c, ws, ys, ld, 1, c->ffh, n, F, jobs, ith, nth, &pact);
            }
        }
        ingot_pool_barrier(pool);
        ingot_mm_run_pool(pool, ith, nth, jobs, nj, n);
        ingot_pool_barrier(pool);
        const float *next_norm = il + 1 < hp->n_layer ? m->layers[il + 1].attn_norm : NULL;
        for (long long t = t0; t < t1; t++) {
            float *o = c->out + t * E, *x = c->x + t * E;
            if (L->post_ffn_norm) ingot_rmsnorm(o, o, L->post_ffn_norm, E, hp->norm_eps);
            for (int64_t i = 0; i < E; i++) x[i] += o[i];
            if (next_norm) ingot_rmsnorm(c->xb + t * E, x, next_norm, E, hp->norm_eps);
        }
        /* the next layer's conversion takes the same token range; the
         * final norm below reads other rows, so it waits */
        if (il + 1 == hp->n_layer) ingot_pool_barrier(pool);
    }

    const int32_t rows = n - f->first_logit;
    if (rows <= 0) return;
    long long r0, r1;
    ingot_split(rows, ith, nth, &r0, &r1);
    for (long long r = r0; r < r1; r++)
        ingot_rmsnorm(c->xb + r * E, c->x + (f->first_logit + r) * E, m->output_norm, E, hp->norm_eps);
    ingot_pool_barrier(pool);
    {
        const ingot_weight *ws[] = {&m->output};
        float *ys[] = {f->out};
        int64_t ld[] = {hp->n_vocab};
        prepare_jobs(c, ws, ys, ld, 1, c->xb, rows, E, jobs, ith, nth, &pact);
    }
    ingot_pool_barrier(pool);
    ingot_mm_run_pool(pool, ith, nth, jobs, 1, rows);
    if (hp->final_softcap > 0) {
        ingot_pool_barrier(pool);
        const float cap = hp->final_softcap;
        for (long long r = r0; r < r1; r++) {
            float *lr = f->out + r * hp->n_vocab;
            for (int32_t i = 0; i < hp->n_vocab; i++) lr[i] = cap * tanhf(lr[i] / cap);
        }
    }
}

ingot_status ingot_forward(ingot_context *c, const int32_t *tokens, int32_t n, int32_t first_logit, float *out) {
    if (n <= 0 || n > c->n_batch || c->n_past + n > c->n_ctx)
        return ingot_error_set(&c->err, INGOT_E_INTERNAL, "forward: bad batch of %d tokens", n);
    fwd f = {c, tokens, n, c->n_past, first_logit, out};
    ingot_pool_run(c->pool, forward_task, &f);
    return INGOT_OK;
}
