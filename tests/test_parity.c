/* Model parity: every fixture in fixtures/parity, teacher-forced with its
 * reference ids, against llama.cpp's logits. Relative RMS error per file
 * within the fixture README's bars (1e-4 F32, 2e-3 F16/BF16, 2e-2
 * quantized), same argmax on >= 95% of rows, exact greedy ids for
 * llama-f32 and stories260K; plus batch == token-by-token for F32. */
#include <dirent.h>
#include <jansson.h>

#include "ingot.h"
#include "test.h"

static int32_t *json_ids(json_t *a, int32_t *n) {
    *n = (int32_t)json_array_size(a);
    int32_t *ids = malloc(((size_t)*n + 1) * sizeof *ids);
    for (int32_t i = 0; i < *n; i++) ids[i] = (int32_t)json_integer_value(json_array_get(a, (size_t)i));
    return ids;
}

static int32_t argmax(const float *x, int32_t n) {
    int32_t b = 0;
    for (int32_t i = 1; i < n; i++)
        if (x[i] > x[b]) b = i;
    return b;
}

typedef struct cmp {
    double err2, ref2;
    int rows, argmax_ok;
} cmp;

static void cmp_rows(cmp *c, const float *ours, const float *ref, int32_t rows, int32_t nv) {
    for (int32_t r = 0; r < rows; r++) {
        const float *a = ours + (size_t)r * nv, *b = ref + (size_t)r * nv;
        for (int32_t i = 0; i < nv; i++) {
            double d = (double)a[i] - b[i];
            c->err2 += d * d;
            c->ref2 += (double)b[i] * b[i];
        }
        c->rows++;
        c->argmax_ok += argmax(a, nv) == argmax(b, nv);
    }
}

static double tolerance(const char *name) {
    if (strstr(name, "f32") || strstr(name, "stories260K")) return 1e-4;
    if (strstr(name, "F16") || strstr(name, "BF16")) return 2e-3;
    return 2e-2;
}

static void check_file(const char *json_name) {
    char rel[512], name[256];
    snprintf(name, sizeof name, "%.*s", (int)(strlen(json_name) - strlen(".json") - 4), json_name + 4);
    snprintf(rel, sizeof rel, "parity/%s", json_name);
    json_error_t je;
    json_t *j = json_load_file(test_fixture(rel), 0, &je);
    CHECK(j != NULL, "%s: %s", rel, je.text);
    if (!j) return;
    const char *model_file = json_string_value(json_object_get(j, "model"));
    int32_t nv = (int32_t)json_integer_value(json_object_get(j, "n_vocab"));
    int32_t np, ng;
    int32_t *prompt = json_ids(json_object_get(j, "prompt"), &np);
    int32_t *greedy = json_ids(json_object_get(j, "greedy"), &ng);
    snprintf(rel, sizeof rel, "models/%s/%s", strstr(model_file, "stories") ? "real" : "synthetic", model_file);
    ingot_error err = {0};
    ingot_model *m = NULL;
    ingot_context *ctx = NULL;
    CHECK(ingot_model_load(test_fixture(rel), NULL, &m, &err) == INGOT_OK, "%s: %s", rel, err.message);
    ingot_context_params cp = ingot_context_default_params();
    cp.n_ctx = np + ng + 1;
    cp.n_threads = 2;
    if (m) CHECK(ingot_context_new(m, &cp, &ctx, &err) == INGOT_OK, "%s", err.message);
    snprintf(rel, sizeof rel, "parity/ref-%s.prompt.f32", name);
    size_t lp = 0, lg = 0;
    float *ref_p = test_read_file(test_fixture(rel), &lp);
    snprintf(rel, sizeof rel, "parity/ref-%s.gen.f32", name);
    float *ref_g = test_read_file(test_fixture(rel), &lg);
    CHECK(ref_p && lp == (size_t)np * nv * 4, "%s prompt logits size", name);
    CHECK(ref_g && lg == (size_t)ng * nv * 4, "%s gen logits size", name);
    if (ctx && ref_p && ref_g && lp == (size_t)np * nv * 4 && lg == (size_t)ng * nv * 4) {
        cmp c = {0};
        CHECK(ingot_context_decode(ctx, prompt, np, true) == INGOT_OK, "%s", ingot_context_errmsg(ctx));
        int32_t rows = 0;
        const float *lgt = ingot_context_logits(ctx, &rows);
        CHECK_INT_EQ(rows, np);
        cmp_rows(&c, lgt, ref_p, np, nv);
        cmp cp0 = c;
        int32_t first_greedy = argmax(lgt + (size_t)(np - 1) * nv, nv);
        int greedy_ok = first_greedy == greedy[0];
        for (int32_t k = 0; k < ng; k++) {
            if (ingot_context_decode(ctx, &greedy[k], 1, false)) break;
            const float *row = ingot_context_logits(ctx, NULL);
            cmp_rows(&c, row, ref_g + (size_t)k * nv, 1, nv);
            if (k + 1 < ng) greedy_ok += argmax(row, nv) == greedy[k + 1];
        }
        double rel_err = sqrt(c.err2 / c.ref2);
        double tol = tolerance(name);
        printf("%-22s rel_rms %.2e (bar %.0e)  argmax %d/%d  greedy %d/%d  [prompt %.1e, gen %.1e]\n", name,
               rel_err, tol, c.argmax_ok, c.rows, greedy_ok, ng, sqrt(cp0.err2 / cp0.ref2),
               sqrt((c.err2 - cp0.err2) / (c.ref2 - cp0.ref2)));
        CHECK(rel_err <= tol, "%s: relative RMS error %.3e > %.0e", name, rel_err, tol);
        CHECK(c.argmax_ok >= 0.95 * c.rows, "%s: argmax agrees on %d of %d rows", name, c.argmax_ok, c.rows);
        if (!strcmp(name, "llama-f32") || !strcmp(name, "stories260K"))
            CHECK(greedy_ok == ng, "%s: greedy ids match %d of %d", name, greedy_ok, ng);
    }
    free(ref_p);
    free(ref_g);
    free(prompt);
    free(greedy);
    ingot_context_free(ctx);
    ingot_model_free(m);
    json_decref(j);
}

/* One batch vs one token at a time on the F32 model: same logits. */
static void check_batch_equivalence(void) {
    ingot_error err = {0};
    ingot_model *m = NULL;
    CHECK(ingot_model_load(test_fixture("models/synthetic/llama-f32.gguf"), NULL, &m, &err) == 0, "%s",
          err.message);
    if (!m) return;
    const int32_t ids[] = {1, 5, 9, 23, 44, 61, 100, 200, 300, 400, 17, 260};
    const int32_t n = (int32_t)(sizeof ids / sizeof ids[0]);
    for (int kv = 0; kv < 2; kv++) {
        ingot_context_params cp = ingot_context_default_params();
        cp.n_ctx = 64;
        cp.kv_type = kv ? INGOT_KV_F32 : INGOT_KV_F16;
        ingot_context *a = NULL, *b = NULL;
        CHECK(ingot_context_new(m, &cp, &a, &err) == 0, "%s", err.message);
        cp.n_batch = 5; /* also crosses batch boundaries */
        CHECK(ingot_context_new(m, &cp, &b, &err) == 0, "%s", err.message);
        if (!a || !b) return;
        CHECK(ingot_context_decode(a, ids, n, true) == 0, "%s", ingot_context_errmsg(a));
        const float *la = ingot_context_logits(a, NULL);
        int32_t nv = 512;
        double e2 = 0, r2 = 0;
        for (int32_t i = 0; i < n; i++) {
            CHECK(ingot_context_decode(b, &ids[i], 1, false) == 0, "%s", ingot_context_errmsg(b));
            const float *lb = ingot_context_logits(b, NULL);
            for (int32_t v = 0; v < nv; v++) {
                double d = (double)la[(size_t)i * nv + v] - lb[v];
                e2 += d * d;
                r2 += (double)lb[v] * lb[v];
            }
        }
        printf("batch vs token-by-token (kv %s): rel_rms %.2e\n", kv ? "f32" : "f16", sqrt(e2 / r2));
        CHECK(sqrt(e2 / r2) <= 1e-4, "batch vs sequential relative error %.3e", sqrt(e2 / r2));
        /* Chunked prompt (n_batch 5) equals one batch too. */
        ingot_context_truncate(b, 0);
        CHECK(ingot_context_decode(b, ids, n, true) == 0, "%s", ingot_context_errmsg(b));
        const float *lc = ingot_context_logits(b, NULL);
        e2 = 0;
        for (size_t i = 0; i < (size_t)n * nv; i++) e2 += ((double)la[i] - lc[i]) * ((double)la[i] - lc[i]);
        CHECK(sqrt(e2 / r2) <= 1e-5, "chunked prompt differs: %.3e", sqrt(e2 / r2));
        ingot_context_free(a);
        ingot_context_free(b);
    }
    ingot_model_free(m);
}

/* A 48-token batch (big enough for the panel kernels) gives exactly the
 * logits of feeding the same tokens one at a time, for the types whose
 * products have batch kernels of their own, with 1, 2 or 3 threads. */
static void check_big_batch(const char *file) {
    ingot_error err = {0};
    ingot_model *m = NULL;
    char rel[256];
    snprintf(rel, sizeof rel, "models/synthetic/%s", file);
    CHECK(ingot_model_load(test_fixture(rel), NULL, &m, &err) == 0, "%s", err.message);
    if (!m) return;
    enum { N = 48, NV = 512 };
    int32_t ids[N];
    for (int i = 0; i < N; i++) ids[i] = (i * 37 + 11) % NV;
    ingot_context_params cp = ingot_context_default_params();
    cp.n_ctx = 64;
    cp.n_threads = 2;
    ingot_context *a = NULL, *b = NULL;
    CHECK(ingot_context_new(m, &cp, &a, &err) == 0, "%s", err.message);
    CHECK(ingot_context_new(m, &cp, &b, &err) == 0, "%s", err.message);
    if (a && b) {
        CHECK(ingot_context_decode(a, ids, N, true) == 0, "%s", ingot_context_errmsg(a));
        const float *la = ingot_context_logits(a, NULL);
        int same = 0;
        for (int i = 0; i < N; i++) {
            CHECK(ingot_context_decode(b, &ids[i], 1, false) == 0, "%s", ingot_context_errmsg(b));
            same += memcmp(la + (size_t)i * NV, ingot_context_logits(b, NULL), NV * sizeof(float)) == 0;
        }
        printf("%-22s one batch of %d == one at a time on %d rows\n", file, N, same);
        CHECK(same == N, "%s: batch and sequential logits differ on %d rows", file, N - same);
        /* Thread counts: 1 (static rows), 2 and 3 (packed units handed
         * out at run time for the batch, static rows for the single
         * token) give the same bits. */
        for (int nt = 1; nt <= 3; nt += 2) {
            cp.n_threads = nt;
            ingot_context *t = NULL;
            CHECK(ingot_context_new(m, &cp, &t, &err) == 0, "%s", err.message);
            if (!t) continue;
            CHECK(ingot_context_decode(t, ids, N, true) == 0, "%s", ingot_context_errmsg(t));
            CHECK(memcmp(la, ingot_context_logits(t, NULL), (size_t)N * NV * sizeof(float)) == 0,
                  "%s: %d threads give other batch logits than 2", file, nt);
            CHECK(ingot_context_decode(t, &ids[0], 1, false) == 0, "%s", ingot_context_errmsg(t));
            CHECK(ingot_context_decode(b, &ids[0], 1, false) == 0, "%s", ingot_context_errmsg(b));
            CHECK(memcmp(ingot_context_logits(b, NULL), ingot_context_logits(t, NULL), NV * sizeof(float)) == 0,
                  "%s: %d threads give other single-token logits than 2", file, nt);
            ingot_context_truncate(b, N);
            ingot_context_free(t);
        }
    }
    ingot_context_free(a);
    ingot_context_free(b);
    ingot_model_free(m);
}

int main(void) {
    DIR *d = opendir(test_fixture("parity"));
    CHECK(d != NULL, "cannot list parity fixtures");
    if (!d) TEST_END();
    char names[64][256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".json")) snprintf(names[n++], 256, "%s", e->d_name);
    }
    closedir(d);
    CHECK(n >= 25, "expected the 25 parity fixtures, found %d", n);
    for (int i = 0; i < n; i++) check_file(names[i]);
    check_batch_equivalence();
    const char *big[] = {"llama-Q8_0-pure.gguf", "llama-Q4_0-pure.gguf", "llama-Q5_0-pure.gguf",
                         "llama-Q4_K_M.gguf", "qwen2-Q8_0.gguf", "llama-IQ4_NL-pure.gguf"};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) check_big_batch(big[i]);
    TEST_END();
}
