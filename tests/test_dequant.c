/* Tests of the tensor type kernels against llama.cpp's own outputs:
 * (1) every fixtures/dequant/llama-*-pure.json: the named tensors of the
 * matching GGUF, dequantized by us, equal gguf-py's numpy dequantization
 * bit for bit (at most 1 ulp allowed); (2) quantizer parity: the F32
 * weights of llama-f32.gguf, quantized by our reference quantizers, are
 * compared block by block with what llama-quantize wrote into the
 * llama-<TYPE>-pure files: the bytes must be identical (IQ4 types: our
 * own search) and our RMSE within 1.10x of theirs. */
#include "format/gguf.h"
#include "tensor/types.h"
#include "test.h"

#include <dirent.h>
#include <jansson.h>
#include <stdint.h>

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Distance in units in the last place (same-sign floats; else huge). */
static int64_t ulp_diff(float a, float b) {
    uint32_t ua = f32_bits(a), ub = f32_bits(b);
    if (ua == ub) return 0;
    if ((ua ^ ub) & 0x80000000u) return (a == 0 && b == 0) ? 0 : INT64_MAX;
    return ua > ub ? (int64_t)(ua - ub) : (int64_t)(ub - ua);
}

static int64_t tensor_nelem(const ingot_gguf_tensor *t) {
    int64_t n = 1;
    for (int d = 0; d < INGOT_GGUF_MAX_DIMS; d++) n *= t->ne[d];
    return n;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of fixtures/dequant/llama-*-pure.json, without ".json". */
static int list_dequant_cases(char ***out) {
    DIR *d = opendir(test_fixture("dequant"));
    int n = 0;
    char **names = NULL;
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 16 || strncmp(e->d_name, "llama-", 6) || strcmp(e->d_name + len - 10, "-pure.json"))
            continue;
        names = realloc(names, (size_t)(n + 1) * sizeof *names);
        names[n] = strdup(e->d_name);
        names[n][len - 5] = 0;
        n++;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    *out = names;
    return n;
}

static void check_one_tensor(const char *file, const ingot_gguf *g, const char *tname, json_t *spec) {
    const char *want_type = json_string_value(json_object_get(spec, "type"));
    const char *f32file = json_string_value(json_object_get(spec, "file"));
    json_t *ne = json_object_get(spec, "ne");
    CHECK(want_type && f32file && json_is_array(ne), "%s: malformed entry %s", file, tname);
    if (!want_type || !f32file || !json_is_array(ne)) return;

    const ingot_gguf_tensor *t = ingot_gguf_find_tensor(g, tname);
    CHECK(t != NULL, "%s: no tensor %s", file, tname);
    if (!t) return;
    CHECK_STR_EQ(ingot_type_name(t->type), want_type);
    for (size_t d = 0; d < json_array_size(ne); d++)
        CHECK_INT_EQ(t->ne[d], json_integer_value(json_array_get(ne, d)));

    const ingot_type_traits *tr = ingot_type_traits_get(t->type);
    if (!tr) return;
    int64_t n = tensor_nelem(t);
    CHECK_INT_EQ(t->nbytes, ingot_type_row_size(t->type, t->ne[0]) * (size_t)(n / t->ne[0]));

    char rel[512];
    snprintf(rel, sizeof rel, "dequant/%s", f32file);
    size_t len = 0;
    float *want = test_read_file(test_fixture(rel), &len);
    CHECK(want && len == (size_t)n * 4, "%s: %zu bytes, expected %lld", rel, len, (long long)n * 4);
    if (!want || len != (size_t)n * 4) {
        free(want);
        return;
    }
    float *got = malloc((size_t)n * sizeof *got);
    /* Row by row, as the forward pass will call it. */
    size_t row_bytes = ingot_type_row_size(t->type, t->ne[0]);
    for (int64_t r = 0; r < n / t->ne[0]; r++)
        tr->to_float((const char *)t->data + (size_t)r * row_bytes, got + r * t->ne[0], t->ne[0]);
    int64_t exact = 0, one_ulp = 0, worse = 0, first_bad = -1;
    for (int64_t i = 0; i < n; i++) {
        int64_t u = ulp_diff(got[i], want[i]);
        if (u == 0) exact++;
        else if (u == 1) one_ulp++;
        else if (worse++ == 0) first_bad = i;
    }
    printf("  %-28s %-24s %-6s %8lld values: %lld exact, %lld at 1 ulp, %lld worse\n", file, tname,
           tr->name, (long long)n, (long long)exact, (long long)one_ulp, (long long)worse);
    CHECK(worse == 0, "%s %s: %lld values off by more than 1 ulp, first at %lld: %.9g vs %.9g", file,
          tname, (long long)worse, (long long)first_bad, first_bad >= 0 ? got[first_bad] : 0.0,
          first_bad >= 0 ? want[first_bad] : 0.0);
    free(got);
    free(want);
}

static void test_dequant_fixtures(void) {
    char **cases = NULL;
    int ncases = list_dequant_cases(&cases);
    /* F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL IQ4_XS */
    CHECK(ncases >= 14, "only %d dequant fixtures found", ncases);
    printf("dequantization vs gguf-py (fixtures/dequant):\n");
    for (int c = 0; c < ncases; c++) {
        char rel[512];
        snprintf(rel, sizeof rel, "dequant/%s.json", cases[c]);
        json_error_t jerr;
        json_t *root = json_load_file(test_fixture(rel), 0, &jerr);
        CHECK(json_is_object(root), "%s: %s", rel, jerr.text);
        snprintf(rel, sizeof rel, "models/synthetic/%s.gguf", cases[c]);
        ingot_gguf *g = NULL;
        ingot_error err = {0};
        ingot_status st = ingot_gguf_open(test_fixture(rel), true, &g, &err);
        CHECK(st == INGOT_OK, "%s: %s", rel, err.message);
        if (root && g) {
            const char *tname;
            json_t *spec;
            int ntensors = 0;
            json_object_foreach(root, tname, spec) {
                check_one_tensor(cases[c], g, tname, spec);
                ntensors++;
            }
            CHECK(ntensors >= 2, "%s: %d tensors listed", cases[c], ntensors);
        }
        ingot_gguf_close(g);
        json_decref(root);
        free(cases[c]);
    }
    free(cases);
}

/* ---- quantizer parity with llama-quantize ---- */

typedef struct {
    double err_ours, err_theirs, energy;
    int64_t blocks, same_blocks;
} parity_stats;

static void parity_tensor(const ingot_gguf_tensor *src, const ingot_gguf_tensor *ref, parity_stats *ps) {
    const ingot_type_traits *tr = ingot_type_traits_get(ref->type);
    int64_t n = tensor_nelem(src);
    const float *x = src->data;
    void *q = malloc(ref->nbytes);
    float *ours = malloc((size_t)n * sizeof *ours), *theirs = malloc((size_t)n * sizeof *theirs);
    int64_t row = src->ne[0];
    size_t row_bytes = ingot_type_row_size(ref->type, row);
    for (int64_t r = 0; r < n / row; r++) {
        tr->from_float(x + r * row, (char *)q + (size_t)r * row_bytes, row);
        tr->to_float((char *)q + (size_t)r * row_bytes, ours + r * row, row);
        tr->to_float((const char *)ref->data + (size_t)r * row_bytes, theirs + r * row, row);
    }
    int64_t nb = (int64_t)(ref->nbytes / tr->type_size);
    for (int64_t b = 0; b < nb; b++) {
        ps->blocks++;
        ps->same_blocks += !memcmp((char *)q + b * tr->type_size, (const char *)ref->data + b * tr->type_size,
                                   tr->type_size);
    }
    for (int64_t i = 0; i < n; i++) {
        ps->err_ours += ((double)ours[i] - x[i]) * ((double)ours[i] - x[i]);
        ps->err_theirs += ((double)theirs[i] - x[i]) * ((double)theirs[i] - x[i]);
        ps->energy += (double)x[i] * x[i];
    }
    free(q);
    free(ours);
    free(theirs);
}

static void test_quantizer_parity(void) {
    ingot_gguf *f32 = NULL;
    ingot_error err = {0};
    ingot_status st = ingot_gguf_open(test_fixture("models/synthetic/llama-f32.gguf"), true, &f32, &err);
    CHECK(st == INGOT_OK, "llama-f32.gguf: %s", err.message);
    if (st != INGOT_OK) return;
    char **cases = NULL;
    int ncases = list_dequant_cases(&cases);
    printf("quantizer vs llama-quantize on llama-f32.gguf's 2-D tensors:\n");
    int compared_types = 0;
    for (int c = 0; c < ncases; c++) {
        char rel[512];
        snprintf(rel, sizeof rel, "models/synthetic/%s.gguf", cases[c]);
        ingot_gguf *g = NULL;
        if (ingot_gguf_open(test_fixture(rel), true, &g, &err) != INGOT_OK) {
            CHECK(0, "%s: %s", rel, err.message);
            free(cases[c]);
            continue;
        }
        parity_stats ps = {0};
        ingot_type type = INGOT_TYPE_COUNT;
        for (int64_t i = 0; i < ingot_gguf_n_tensors(g); i++) {
            const ingot_gguf_tensor *ref = ingot_gguf_tensor_at(g, i);
            const ingot_gguf_tensor *src = ingot_gguf_find_tensor(f32, ref->name);
            /* Only the tensors --pure put in the file's type. */
            if (!src || src->type != INGOT_TYPE_F32 || ref->n_dims != 2 || !strstr(ref->name, "blk.")) continue;
            if (type == INGOT_TYPE_COUNT) type = ref->type;
            if (ref->type != type || tensor_nelem(src) != tensor_nelem(ref)) continue;
            parity_tensor(src, ref, &ps);
        }
        const ingot_type_traits *tr = ingot_type_traits_get(type);
        if (tr && ps.blocks > 0) {
            double ours = sqrt(ps.err_ours / ps.energy), theirs = sqrt(ps.err_theirs / ps.energy);
            double ratio = theirs > 0 ? ours / theirs : (ours > 0 ? INFINITY : 1.0);
            printf("  %-7s rel. RMSE ours %.6f, llama-quantize %.6f, ratio %.4f; identical blocks %lld/%lld\n",
                   tr->name, ours, theirs, ratio, (long long)ps.same_blocks, (long long)ps.blocks);
            CHECK(ratio <= 1.10, "%s: our RMSE is %.4fx llama-quantize's", tr->name, ratio);
            /* Same algorithm, same arithmetic order: the same bytes. The
             * IQ4 quantizers are our own search, judged by error alone. */
            if (type != INGOT_TYPE_IQ4_NL && type != INGOT_TYPE_IQ4_XS)
                CHECK(ps.same_blocks == ps.blocks, "%s: %lld of %lld blocks differ from llama-quantize's",
                      tr->name, (long long)(ps.blocks - ps.same_blocks), (long long)ps.blocks);
            compared_types++;
        }
        ingot_gguf_close(g);
        free(cases[c]);
    }
    free(cases);
    CHECK(compared_types >= 14, "only %d types compared", compared_types);
    ingot_gguf_close(f32);
}

int main(void) {
    test_dequant_fixtures();
    test_quantizer_parity();
    TEST_END();
}
