/* Owns the sampler chain: logit bias, repeat/presence/frequency penalties,
 * top-k, top-p, min-p, temperature and the seeded draw, plus the PRNG
 * (xoshiro256** seeded through splitmix64) that makes a seed mean the same
 * tokens everywhere. The chain order and the penalty arithmetic follow
 * llama.cpp so that users moving from it see the same behaviour; the one
 * deliberate difference is that temperature <= 0 is pure argmax (no
 * penalties), which keeps greedy output equal to the reference decoders'. */
#include "generate/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "base/platform.h"

struct ingot_sampler {
    ingot_sampler_params p;
    float *bias; /* [n_vocab] summed logit bias, NULL when there is none */
    int32_t n_vocab;
    uint64_t seed;
    uint64_t rng[4];
    int32_t *hist; /* accepted tokens, oldest first; only the tail is used */
    size_t hist_len, hist_cap;
    int32_t *counts;        /* [n_vocab] occurrences in the window, scratch */
    ingot_candidate *cand;  /* [n_vocab] scratch */
};

ingot_sampler_params ingot_sampler_default_params(void) {
    ingot_sampler_params p;
    memset(&p, 0, sizeof p);
    p.temperature = 0.7f;
    p.top_k = 40;
    p.top_p = 0.9f;
    p.min_p = 0.0f;
    p.repeat_penalty = 1.1f;
    p.repeat_last_n = 64;
    p.seed = INGOT_SEED_RANDOM;
    return p;
}

/* ---- PRNG ---- */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(uint64_t s[4]) {
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1) with 53 random bits. */
static double rng_uniform(uint64_t s[4]) { return (double)(rng_next(s) >> 11) * 0x1.0p-53; }

static void rng_seed(ingot_sampler *s) {
    uint64_t x = s->seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix64(&x);
}

/* ---- lifetime ---- */

ingot_status ingot_sampler_new(const ingot_sampler_params *params, int32_t n_vocab,
                               ingot_sampler **out, ingot_error *err) {
    if (!out) return ingot_error_set(err, INGOT_E_INVALID_ARG, "sampler: out is NULL");
    *out = NULL;
    ingot_sampler_params p = params ? *params : ingot_sampler_default_params();
    if (n_vocab <= 0)
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "sampler: vocabulary size %d", (int)n_vocab);
    if (isnan(p.temperature) || isinf(p.temperature))
        return ingot_error_set(err, INGOT_E_RANGE, "sampler: temperature must be a finite number");
    if (!(p.top_p >= 0.0f && p.top_p <= 1.0f))
        return ingot_error_set(err, INGOT_E_RANGE, "sampler: top_p must be in [0, 1], got %g", (double)p.top_p);
    if (!(p.min_p >= 0.0f && p.min_p <= 1.0f))
        return ingot_error_set(err, INGOT_E_RANGE, "sampler: min_p must be in [0, 1], got %g", (double)p.min_p);
    if (!(p.repeat_penalty > 0.0f) || isinf(p.repeat_penalty))
        return ingot_error_set(err, INGOT_E_RANGE, "sampler: repeat_penalty must be > 0, got %g",
                               (double)p.repeat_penalty);
    if (p.repeat_last_n < -1)
        return ingot_error_set(err, INGOT_E_RANGE, "sampler: repeat_last_n must be >= -1, got %d",
                               (int)p.repeat_last_n);
    if (!isfinite(p.presence_penalty) || !isfinite(p.frequency_penalty))
        return ingot_error_set(err, INGOT_E_RANGE, "sampler: presence/frequency penalties must be finite");
    if (p.n_logit_bias < 0 || (p.n_logit_bias > 0 && !p.logit_bias))
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "sampler: %d logit biases but no array",
                               (int)p.n_logit_bias);
    for (int32_t i = 0; i < p.n_logit_bias; i++) {
        const ingot_logit_bias *b = &p.logit_bias[i];
        if (b->token < 0 || b->token >= n_vocab)
            return ingot_error_set(err, INGOT_E_RANGE, "sampler: logit bias for token %d, vocabulary has %d",
                                   (int)b->token, (int)n_vocab);
        if (isnan(b->bias) || b->bias == INFINITY)
            return ingot_error_set(err, INGOT_E_RANGE, "sampler: logit bias for token %d must be a number "
                                   "or -inf", (int)b->token);
    }

    ingot_sampler *s = calloc(1, sizeof *s);
    if (!s) return ingot_error_set(err, INGOT_E_NOMEM, "sampler: out of memory");
    s->p = p;
    s->n_vocab = n_vocab;
    s->counts = calloc((size_t)n_vocab, sizeof *s->counts);
    s->cand = malloc((size_t)n_vocab * sizeof *s->cand);
    if (p.n_logit_bias > 0) {
        s->bias = calloc((size_t)n_vocab, sizeof *s->bias);
        if (s->bias)
            for (int32_t i = 0; i < p.n_logit_bias; i++) s->bias[p.logit_bias[i].token] += p.logit_bias[i].bias;
    }
    /* The caller's array need not outlive the sampler. */
    s->p.logit_bias = NULL;
    if (!s->counts || !s->cand || (p.n_logit_bias > 0 && !s->bias)) {
        ingot_sampler_free(s);
        return ingot_error_set(err, INGOT_E_NOMEM, "sampler: out of memory (vocabulary %d)", (int)n_vocab);
    }
    if (p.seed == INGOT_SEED_RANDOM) {
        /* Any value that differs between runs will do; mix clock sources. */
        struct timespec ts;
        timespec_get(&ts, TIME_UTC);
        uint64_t x = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^
                     (uint64_t)(uintptr_t)s ^ (uint64_t)(ingot_time_ms() * 1000.0);
        s->seed = splitmix64(&x);
        if (s->seed == INGOT_SEED_RANDOM) s->seed = 0;
    } else {
        s->seed = p.seed;
    }
    rng_seed(s);
    *out = s;
    return INGOT_OK;
}

void ingot_sampler_free(ingot_sampler *s) {
    if (!s) return;
    free(s->bias);
    free(s->hist);
    free(s->counts);
    free(s->cand);
    free(s);
}

void ingot_sampler_reset(ingot_sampler *s) {
    if (!s) return;
    s->hist_len = 0;
    rng_seed(s);
}

uint64_t ingot_sampler_seed(const ingot_sampler *s) { return s ? s->seed : 0; }

void ingot_sampler_accept(ingot_sampler *s, int32_t token) {
    if (!s || token < 0 || token >= s->n_vocab) return;
    int32_t win = s->p.repeat_last_n;
    if (win == 0) return;
    /* Keep at most 2*window entries so a long generation does not grow the
     * history; trimming happens once per window, not per token. */
    if (win > 0 && s->hist_len >= 2 * (size_t)win) {
        memmove(s->hist, s->hist + (s->hist_len - (size_t)win), (size_t)win * sizeof *s->hist);
        s->hist_len = (size_t)win;
    }
    if (s->hist_len == s->hist_cap) {
        size_t cap = s->hist_cap ? s->hist_cap * 2 : 256;
        int32_t *h = realloc(s->hist, cap * sizeof *h);
        if (!h) return; /* out of memory: the penalty forgets this token */
        s->hist = h;
        s->hist_cap = cap;
    }
    s->hist[s->hist_len++] = token;
}

/* ---- the chain ---- */

static float clean_logit(float x) { return isnan(x) ? -INFINITY : x; }

static int32_t greedy(const ingot_sampler *s, const float *logits) {
    /* The bias is applied on the fly: the logits stay untouched. */
    int32_t best = 0;
    float bv = -INFINITY;
    bool any = false;
    for (int32_t i = 0; i < s->n_vocab; i++) {
        float v = clean_logit(logits[i]);
        if (s->bias) v += s->bias[i];
        if (!any || v > bv) {
            best = i;
            bv = v;
            any = true;
        }
    }
    return best;
}

/* Descending logit, then ascending id: a total order, so qsort's
 * instability cannot change which token wins a tie. */
static int cand_cmp(const void *a, const void *b) {
    const ingot_candidate *x = a, *y = b;
    if (x->logit > y->logit) return -1;
    if (x->logit < y->logit) return 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Moves the k best candidates (by cand_cmp) to the front, sorted, using a
 * min-heap so large vocabularies cost O(n log k) instead of a full sort. */
static void select_top_k(ingot_candidate *c, int32_t n, int32_t k) {
    /* heap over c[0..k): root is the worst of the kept ones */
    for (int32_t i = k / 2 - 1; i >= 0; i--) {
        int32_t j = i;
        for (;;) {
            int32_t l = 2 * j + 1, r = l + 1, w = j;
            if (l < k && cand_cmp(&c[l], &c[w]) > 0) w = l;
            if (r < k && cand_cmp(&c[r], &c[w]) > 0) w = r;
            if (w == j) break;
            ingot_candidate t = c[j]; c[j] = c[w]; c[w] = t;
            j = w;
        }
    }
    for (int32_t i = k; i < n; i++) {
        if (cand_cmp(&c[i], &c[0]) >= 0) continue;
        ingot_candidate t = c[0]; c[0] = c[i]; c[i] = t;
        int32_t j = 0;
        for (;;) {
            int32_t l = 2 * j + 1, r = l + 1, w = j;
            if (l < k && cand_cmp(&c[l], &c[w]) > 0) w = l;
            if (r < k && cand_cmp(&c[r], &c[w]) > 0) w = r;
            if (w == j) break;
            ingot_candidate u = c[j]; c[j] = c[w]; c[w] = u;
            j = w;
        }
    }
    qsort(c, (size_t)k, sizeof *c, cand_cmp);
}

/* Softmax of the (sorted, finite-first) candidates into .p. */
static void softmax(ingot_candidate *c, int32_t n) {
    float mx = c[0].logit;
    double sum = 0.0;
    for (int32_t i = 0; i < n; i++) {
        double e = exp((double)c[i].logit - (double)mx);
        c[i].p = (float)e;
        sum += e;
    }
    for (int32_t i = 0; i < n; i++) c[i].p = (float)(c[i].p / sum);
}

static void apply_penalties(ingot_sampler *s) {
    const ingot_sampler_params *p = &s->p;
    if (p->repeat_last_n == 0 || s->hist_len == 0) return;
    if (p->repeat_penalty == 1.0f && p->presence_penalty == 0.0f && p->frequency_penalty == 0.0f) return;
    size_t n = s->hist_len;
    if (p->repeat_last_n > 0 && n > (size_t)p->repeat_last_n) n = (size_t)p->repeat_last_n;
    const int32_t *w = s->hist + (s->hist_len - n);
    for (size_t i = 0; i < n; i++) s->counts[w[i]]++;
    for (size_t i = 0; i < n; i++) {
        int32_t t = w[i];
        int32_t cnt = s->counts[t];
        if (cnt == 0) continue; /* already handled */
        float *l = &s->cand[t].logit; /* candidates are still indexed by id */
        if (*l <= 0.0f) *l *= p->repeat_penalty;
        else *l /= p->repeat_penalty;
        *l -= (float)cnt * p->frequency_penalty + p->presence_penalty;
        s->counts[t] = 0;
    }
}

int32_t ingot_sampler_candidates(ingot_sampler *s, const float *logits, const ingot_candidate **out) {
    const ingot_sampler_params *p = &s->p;
    ingot_candidate *c = s->cand;
    *out = c;
    if (p->temperature <= 0.0f) {
        c[0].id = greedy(s, logits);
        c[0].logit = clean_logit(logits[c[0].id]);
        c[0].p = 1.0f;
        return 1;
    }
    for (int32_t i = 0; i < s->n_vocab; i++) {
        c[i].id = i;
        c[i].logit = clean_logit(logits[i]);
    }
    if (s->bias)
        for (int32_t i = 0; i < s->n_vocab; i++) c[i].logit += s->bias[i];
    apply_penalties(s);

    /* Drop banned (-inf) tokens; if all are banned, fall back to greedy
     * over the raw logits rather than return nothing. */
    int32_t n = 0;
    for (int32_t i = 0; i < s->n_vocab; i++)
        if (c[i].logit > -INFINITY) c[n++] = c[i];
    if (n == 0) {
        c[0].id = greedy(s, logits);
        c[0].logit = clean_logit(logits[c[0].id]);
        c[0].p = 1.0f;
        return 1;
    }
    /* +inf logits would make the softmax NaN: they win outright, equally. */
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++)
        if (c[i].logit == INFINITY) c[m++] = c[i];
    if (m > 0) {
        for (int32_t i = 0; i < m; i++) c[i].logit = 0.0f;
        n = m;
    }

    if (p->top_k > 0 && p->top_k < n) {
        select_top_k(c, n, p->top_k);
        n = p->top_k;
    } else {
        qsort(c, (size_t)n, sizeof *c, cand_cmp);
    }
    softmax(c, n);

    if (p->top_p < 1.0f) {
        double cum = 0.0;
        int32_t keep = n;
        for (int32_t i = 0; i < n; i++) {
            cum += c[i].p;
            if (cum >= p->top_p) {
                keep = i + 1;
                break;
            }
        }
        n = keep;
    }
    if (p->min_p > 0.0f) {
        float thr = p->min_p * c[0].p;
        int32_t keep = 1;
        while (keep < n && c[keep].p >= thr) keep++;
        n = keep;
    }
    for (int32_t i = 0; i < n; i++) c[i].logit /= p->temperature;
    softmax(c, n);
    return n;
}

int32_t ingot_sampler_sample(ingot_sampler *s, const float *logits) {
    if (s->p.temperature <= 0.0f) return greedy(s, logits);
    const ingot_candidate *c;
    int32_t n = ingot_sampler_candidates(s, logits, &c);
    if (n == 1) {
        /* Still consume one draw so the PRNG stream does not depend on how
         * many candidates a step happened to keep. */
        (void)rng_uniform(s->rng);
        return c[0].id;
    }
    double u = rng_uniform(s->rng), cum = 0.0;
    for (int32_t i = 0; i < n; i++) {
        cum += c[i].p;
        if (u < cum) return c[i].id;
    }
    return c[n - 1].id; /* rounding left u just above the total */
}
