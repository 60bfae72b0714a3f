/* Sampler chain against hand-computed distributions: each stage alone
 * (temperature, top-k, top-p, min-p, penalties, bias), their order, greedy,
 * the seeded draw's frequencies and reproducibility, and bad parameters. */
#include <math.h>

#include "generate/sampler.h"
#include "test.h"

static ingot_sampler_params plain(void) {
    /* every stage off, temperature 1 */
    ingot_sampler_params p = ingot_sampler_default_params();
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.repeat_penalty = 1.0f;
    p.seed = 1234;
    return p;
}

static ingot_sampler *mk(const ingot_sampler_params *p, int32_t n_vocab) {
    ingot_sampler *s = NULL;
    ingot_error err;
    ingot_status st = ingot_sampler_new(p, n_vocab, &s, &err);
    CHECK(st == INGOT_OK, "sampler_new: %s", err.message);
    return s;
}

/* Expects the candidates to be exactly ids[i] with probabilities p[i]. */
static void expect(ingot_sampler *s, const float *logits, int32_t n, const int32_t *ids, const double *p,
                   const char *what) {
    const ingot_candidate *c;
    int32_t got = ingot_sampler_candidates(s, logits, &c);
    CHECK(got == n, "%s: %d candidates, expected %d", what, got, n);
    if (got != n) return;
    for (int32_t i = 0; i < n; i++) {
        CHECK(c[i].id == ids[i], "%s: candidate %d is token %d, expected %d", what, i, c[i].id, ids[i]);
        CHECK(fabs(c[i].p - p[i]) < 1e-5, "%s: p[%d] = %.6f, expected %.6f", what, i, c[i].p, p[i]);
    }
}

static const float L4[4] = {1, 2, 3, 4};

static void test_stages(void) {
    ingot_sampler_params p = plain();
    /* T=1: softmax of 1..4 = e^(x-4) / (1 + e^-1 + e^-2 + e^-3) */
    {
        ingot_sampler *s = mk(&p, 4);
        expect(s, L4, 4, (const int32_t[]){3, 2, 1, 0},
               (const double[]){0.643914, 0.236883, 0.087144, 0.032059}, "T=1");
        ingot_sampler_free(s);
    }
    /* T=2: softmax of 0.5,1,1.5,2 */
    {
        p.temperature = 2.0f;
        ingot_sampler *s = mk(&p, 4);
        expect(s, L4, 4, (const int32_t[]){3, 2, 1, 0},
               (const double[]){0.455054, 0.276004, 0.167405, 0.101536}, "T=2");
        ingot_sampler_free(s);
        p.temperature = 1.0f;
    }
    /* top-k 2: softmax of 3,4 = 1/(1+e^-1) */
    {
        p.top_k = 2;
        ingot_sampler *s = mk(&p, 4);
        expect(s, L4, 2, (const int32_t[]){3, 2}, (const double[]){0.731059, 0.268941}, "top-k 2");
        ingot_sampler_free(s);
        p.top_k = 0;
    }
    /* top-p 0.8: 0.6439 < 0.8 <= 0.6439 + 0.2369, so two survive */
    {
        p.top_p = 0.8f;
        ingot_sampler *s = mk(&p, 4);
        expect(s, L4, 2, (const int32_t[]){3, 2}, (const double[]){0.731059, 0.268941}, "top-p 0.8");
        ingot_sampler_free(s);
        p.top_p = 0.6f; /* the first alone already reaches 0.6 */
        s = mk(&p, 4);
        expect(s, L4, 1, (const int32_t[]){3}, (const double[]){1.0}, "top-p 0.6");
        ingot_sampler_free(s);
        p.top_p = 0.0f; /* keeps at least one */
        s = mk(&p, 4);
        expect(s, L4, 1, (const int32_t[]){3}, (const double[]){1.0}, "top-p 0");
        ingot_sampler_free(s);
        p.top_p = 1.0f;
    }
    /* min-p 0.1: threshold 0.0644 drops only 0.0321 -> softmax of 2,3,4 */
    {
        p.min_p = 0.1f;
        ingot_sampler *s = mk(&p, 4);
        expect(s, L4, 3, (const int32_t[]){3, 2, 1}, (const double[]){0.665241, 0.244728, 0.090031},
               "min-p 0.1");
        ingot_sampler_free(s);
        p.min_p = 0.0f;
    }
    /* order: top-p decides on T=1 probabilities, then T=0.5 sharpens the
     * two survivors: logits 8 and 6 -> 1/(1+e^-2) */
    {
        p.top_p = 0.8f;
        p.temperature = 0.5f;
        ingot_sampler *s = mk(&p, 4);
        expect(s, L4, 2, (const int32_t[]){3, 2}, (const double[]){0.880797, 0.119203}, "top-p then T");
        ingot_sampler_free(s);
        p.top_p = 1.0f;
        p.temperature = 1.0f;
    }
}

static void test_penalties(void) {
    ingot_sampler_params p = plain();
    const float L[4] = {-1, 2, 3, 4};
    /* repeat penalty 2 on tokens 3 (positive: 4/2) and 0 (negative: -1*2):
     * logits become -2, 2, 3, 2 */
    {
        p.repeat_penalty = 2.0f;
        ingot_sampler *s = mk(&p, 4);
        ingot_sampler_accept(s, 3);
        ingot_sampler_accept(s, 0);
        ingot_sampler_accept(s, 3); /* counted once by the repeat penalty */
        double e3 = exp(3.0), e2 = exp(2.0), em2 = exp(-2.0), z = e3 + 2 * e2 + em2;
        expect(s, L, 4, (const int32_t[]){2, 1, 3, 0}, (const double[]){e3 / z, e2 / z, e2 / z, em2 / z},
               "repeat penalty");
        ingot_sampler_free(s);
        p.repeat_penalty = 1.0f;
    }
    /* frequency 0.5 per occurrence + presence 0.25 once:
     * token 3 seen twice: 4 - 1 - 0.25 = 2.75; token 1 once: 2 - 0.5 - 0.25 = 1.25 */
    {
        p.frequency_penalty = 0.5f;
        p.presence_penalty = 0.25f;
        ingot_sampler *s = mk(&p, 4);
        ingot_sampler_accept(s, 3);
        ingot_sampler_accept(s, 3);
        ingot_sampler_accept(s, 1);
        double a = exp(3.0), b = exp(2.75), c = exp(1.25), d = exp(-1.0), z = a + b + c + d;
        expect(s, L, 4, (const int32_t[]){2, 3, 1, 0}, (const double[]){a / z, b / z, c / z, d / z},
               "frequency+presence");
        ingot_sampler_free(s);
        p.frequency_penalty = p.presence_penalty = 0.0f;
    }
    /* window of 1: only the last accepted token (2) is penalized: 3/3 = 1 */
    {
        p.repeat_penalty = 3.0f;
        p.repeat_last_n = 1;
        ingot_sampler *s = mk(&p, 4);
        ingot_sampler_accept(s, 3);
        ingot_sampler_accept(s, 2);
        double a = exp(4.0), b = exp(2.0), c = exp(1.0), d = exp(-1.0), z = a + b + c + d;
        expect(s, L, 4, (const int32_t[]){3, 1, 2, 0}, (const double[]){a / z, b / z, c / z, d / z},
               "window 1");
        /* a long history keeps working past the trimming point */
        for (int i = 0; i < 1000; i++) ingot_sampler_accept(s, i % 4);
        ingot_sampler_accept(s, 1); /* now only token 1: 2/3 */
        a = exp(4.0), b = exp(3.0), c = exp(2.0 / 3.0), z = a + b + c + d;
        expect(s, L, 4, (const int32_t[]){3, 2, 1, 0}, (const double[]){a / z, b / z, c / z, d / z},
               "window 1 after 1000");
        /* reset forgets the history */
        ingot_sampler_reset(s);
        a = exp(4.0), b = exp(3.0), c = exp(2.0), z = a + b + c + d;
        expect(s, L, 4, (const int32_t[]){3, 2, 1, 0}, (const double[]){a / z, b / z, c / z, d / z},
               "after reset");
        ingot_sampler_free(s);
        p.repeat_last_n = 64;
    }
    /* repeat_last_n 0 turns the penalties off */
    {
        p.repeat_last_n = 0;
        ingot_sampler *s = mk(&p, 4);
        ingot_sampler_accept(s, 3);
        expect(s, L4, 4, (const int32_t[]){3, 2, 1, 0},
               (const double[]){0.643914, 0.236883, 0.087144, 0.032059}, "window 0");
        ingot_sampler_free(s);
    }
}

static void test_bias_and_greedy(void) {
    ingot_sampler_params p = plain();
    /* bias: +3 on token 0 (1 -> 4, ties with token 3, lower id first),
     * -inf on token 2 (banned) */
    ingot_logit_bias b[2] = {{0, 3.0f}, {2, -INFINITY}};
    p.logit_bias = b;
    p.n_logit_bias = 2;
    {
        ingot_sampler *s = mk(&p, 4);
        b[0].bias = 100.0f; /* the sampler keeps its own copy */
        double z = 2 * exp(4.0) + exp(2.0);
        expect(s, L4, 3, (const int32_t[]){0, 3, 1}, (const double[]){exp(4.0) / z, exp(4.0) / z, exp(2.0) / z},
               "bias");
        for (int i = 0; i < 200; i++) CHECK(ingot_sampler_sample(s, L4) != 2, "banned token drawn");
        ingot_sampler_free(s);
        b[0].bias = 3.0f;
    }
    /* greedy: argmax, ties to the lowest id, bias applies, penalties do not */
    {
        p.temperature = 0.0f;
        p.repeat_penalty = 100.0f;
        p.n_logit_bias = 0;
        ingot_sampler *s = mk(&p, 4);
        ingot_sampler_accept(s, 3);
        CHECK_INT_EQ(ingot_sampler_sample(s, L4), 3);
        const float tie[4] = {0, 5, 5, 1};
        CHECK_INT_EQ(ingot_sampler_sample(s, tie), 1);
        ingot_sampler_free(s);
        ingot_logit_bias ban = {3, -INFINITY};
        p.logit_bias = &ban;
        p.n_logit_bias = 1;
        s = mk(&p, 4);
        CHECK_INT_EQ(ingot_sampler_sample(s, L4), 2);
        ingot_sampler_free(s);
    }
    /* NaN logits count as -inf; all banned falls back to raw greedy */
    {
        p = plain();
        ingot_sampler *s = mk(&p, 4);
        const float nan4[4] = {NAN, 1.0f, NAN, 0.0f};
        double z = exp(1.0) + 1.0;
        expect(s, nan4, 2, (const int32_t[]){1, 3}, (const double[]){exp(1.0) / z, 1.0 / z}, "NaN");
        ingot_sampler_free(s);
        ingot_logit_bias all[4] = {{0, -INFINITY}, {1, -INFINITY}, {2, -INFINITY}, {3, -INFINITY}};
        p.logit_bias = all;
        p.n_logit_bias = 4;
        s = mk(&p, 4);
        int32_t t = ingot_sampler_sample(s, L4);
        CHECK(t >= 0 && t < 4, "all banned: token %d", t);
        ingot_sampler_free(s);
        /* +inf logits share the mass equally */
        p = plain();
        s = mk(&p, 4);
        const float inf4[4] = {INFINITY, 1.0f, INFINITY, 0.0f};
        expect(s, inf4, 2, (const int32_t[]){0, 2}, (const double[]){0.5, 0.5}, "+inf");
        ingot_sampler_free(s);
    }
}

/* top-k by heap selection must equal a full sort's first k, ties included. */
static void test_top_k_large(void) {
    enum { V = 5000, K = 37 };
    float *l = malloc(V * sizeof *l);
    uint32_t x = 12345;
    for (int i = 0; i < V; i++) {
        x = x * 1664525u + 1013904223u;
        l[i] = (float)((x >> 8) % 200) / 10.0f; /* many ties */
    }
    ingot_sampler_params p = plain();
    ingot_sampler *full = mk(&p, V);
    p.top_k = K;
    ingot_sampler *top = mk(&p, V);
    const ingot_candidate *cf, *ct;
    int32_t nf = ingot_sampler_candidates(full, l, &cf);
    CHECK_INT_EQ(nf, V);
    int32_t ids[K];
    for (int i = 0; i < K; i++) ids[i] = cf[i].id;
    int32_t nt = ingot_sampler_candidates(top, l, &ct);
    CHECK_INT_EQ(nt, K);
    int same = 1;
    for (int i = 0; i < K && i < nt; i++) same &= ct[i].id == ids[i];
    CHECK(same, "top-k selection differs from the sorted order");
    for (int i = 1; i < nt; i++)
        CHECK(ct[i - 1].logit > ct[i].logit || (ct[i - 1].logit == ct[i].logit && ct[i - 1].id < ct[i].id),
              "top-k not in order at %d", i);
    ingot_sampler_free(full);
    ingot_sampler_free(top);
    free(l);
}

/* The draw follows the distribution, and a seed fixes the sequence. */
static void test_draw(void) {
    ingot_sampler_params p = plain();
    p.seed = 42;
    ingot_sampler *s = mk(&p, 4);
    enum { N = 100000 };
    int counts[4] = {0};
    int32_t *seq = malloc(N * sizeof *seq);
    for (int i = 0; i < N; i++) {
        seq[i] = ingot_sampler_sample(s, L4);
        counts[seq[i]]++;
    }
    const double expected[4] = {0.032059, 0.087144, 0.236883, 0.643914};
    for (int t = 0; t < 4; t++) {
        double f = (double)counts[t] / N;
        /* 5 standard deviations of a binomial frequency at N=1e5 is < 0.008 */
        CHECK(fabs(f - expected[t]) < 0.008, "token %d drawn %.4f of the time, expected %.4f", t, f,
              expected[t]);
    }
    CHECK(ingot_sampler_seed(s) == 42, "seed");
    /* the same seed again, and a reset, replay the same tokens */
    ingot_sampler *s2 = mk(&p, 4);
    ingot_sampler_reset(s);
    int same2 = 1, same_reset = 1;
    for (int i = 0; i < 2000; i++) {
        same2 &= ingot_sampler_sample(s2, L4) == seq[i];
        same_reset &= ingot_sampler_sample(s, L4) == seq[i];
    }
    CHECK(same2, "same seed, different tokens");
    CHECK(same_reset, "reset did not restart the PRNG");
    ingot_sampler_free(s2);
    /* another seed gives another sequence */
    p.seed = 43;
    s2 = mk(&p, 4);
    int diff = 0;
    for (int i = 0; i < 2000; i++) diff += ingot_sampler_sample(s2, L4) != seq[i];
    CHECK(diff > 100, "seed 43 matches seed 42 on all but %d of 2000 draws", diff);
    ingot_sampler_free(s2);
    /* a random seed is reported and replayable */
    p.seed = INGOT_SEED_RANDOM;
    s2 = mk(&p, 4);
    p.seed = ingot_sampler_seed(s2);
    CHECK(p.seed != INGOT_SEED_RANDOM, "random seed not drawn");
    ingot_sampler *s3 = mk(&p, 4);
    int same3 = 1;
    for (int i = 0; i < 500; i++) same3 &= ingot_sampler_sample(s2, L4) == ingot_sampler_sample(s3, L4);
    CHECK(same3, "replaying the reported seed differs");
    ingot_sampler_free(s2);
    ingot_sampler_free(s3);
    ingot_sampler_free(s);
    free(seq);
}

static void test_bad_params(void) {
    ingot_sampler *s = (ingot_sampler *)1;
    ingot_error err;
    ingot_sampler_params p = plain();
    CHECK(ingot_sampler_new(&p, 0, &s, &err) == INGOT_E_INVALID_ARG && s == NULL, "n_vocab 0");
    p.top_p = 1.5f;
    CHECK(ingot_sampler_new(&p, 4, &s, &err) == INGOT_E_RANGE, "top_p 1.5");
    CHECK(strstr(err.message, "top_p") != NULL, "message names top_p: %s", err.message);
    p = plain();
    p.temperature = NAN;
    CHECK(ingot_sampler_new(&p, 4, &s, &err) == INGOT_E_RANGE, "NaN temperature");
    p = plain();
    p.repeat_penalty = 0.0f;
    CHECK(ingot_sampler_new(&p, 4, &s, &err) == INGOT_E_RANGE, "repeat_penalty 0");
    p = plain();
    p.min_p = -0.1f;
    CHECK(ingot_sampler_new(&p, 4, &s, &err) == INGOT_E_RANGE, "min_p < 0");
    p = plain();
    ingot_logit_bias b = {4, 1.0f};
    p.logit_bias = &b;
    p.n_logit_bias = 1;
    CHECK(ingot_sampler_new(&p, 4, &s, &err) == INGOT_E_RANGE, "bias token out of range");
    p.n_logit_bias = 1;
    p.logit_bias = NULL;
    CHECK(ingot_sampler_new(&p, 4, &s, NULL) == INGOT_E_INVALID_ARG, "bias count without array");
    /* defaults as documented */
    p = ingot_sampler_default_params();
    CHECK(p.temperature == 0.7f && p.top_p == 0.9f && p.repeat_penalty == 1.1f && p.top_k == 40 &&
              p.min_p == 0.0f && p.repeat_last_n == 64 && p.seed == INGOT_SEED_RANDOM,
          "defaults");
    ingot_sampler_free(NULL);
    /* accepting out-of-vocabulary ids is ignored, not a crash */
    p = plain();
    p.repeat_penalty = 2.0f;
    s = mk(&p, 4);
    ingot_sampler_accept(s, -1);
    ingot_sampler_accept(s, 99);
    expect(s, L4, 4, (const int32_t[]){3, 2, 1, 0}, (const double[]){0.643914, 0.236883, 0.087144, 0.032059},
           "bad accepts ignored");
    ingot_sampler_free(s);
}

int main(void) {
    test_stages();
    test_penalties();
    test_bias_and_greedy();
    test_top_k_large();
    test_draw();
    test_bad_params();
    TEST_END();
}
