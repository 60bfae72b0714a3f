/* Model quantization against llama-quantize's own output in the fixtures:
 * (1) llama-f32.gguf quantized --pure to every type that has a
 * llama-<TYPE>-pure.gguf: same tensors, shapes and types, per-tensor RMSE
 * (vs the F32 weights) within 1.10x of llama-quantize's, identical blocks
 * where the algorithm is llama.cpp's (all but IQ4), metadata copied and
 * general.file_type / quantization_version set as llama-quantize set them;
 * (2) the Q4_K_M mixture: the type of every tensor equals llama-Q4_K_M.gguf's,
 * and the plan of the qwen2/qwen3/gemma3/phi3 Q4_K_M files equals their
 * types; (3) the quantized files run: logits of the parity prompt within
 * the fixture README's 2e-2 bar of llama.cpp's on its own file; (4) row
 * lengths that do not fit a block fall back as llama.cpp does; (5) errors:
 * unknown type, already-quantized or unreadable input, missing output
 * directory, cancellation — and nothing is left behind; (6) the thread
 * count does not change a byte. */
#include <dirent.h>
#include <jansson.h>
#include <unistd.h>

#include "format/gguf.h"
#include "ingot.h"
#include "model/quantize.h"
#include "tensor/types.h"
#include "test.h"

static const char *tmpdir;

static char *tmp_path(const char *name) {
    static char buf[8][1024];
    static int slot;
    char *b = buf[slot++ & 7];
    snprintf(b, sizeof buf[0], "%s/%s", tmpdir, name);
    return b;
}

static int64_t nelem(const ingot_gguf_tensor *t) {
    int64_t n = 1;
    for (int d = 0; d < INGOT_GGUF_MAX_DIMS; d++) n *= t->ne[d];
    return n;
}

/* Squared error of a tensor's dequantized values against the F32 source. */
static double sq_error(const ingot_gguf_tensor *q, const ingot_gguf_tensor *f32) {
    int64_t n = nelem(q);
    float *y = malloc((size_t)n * sizeof *y);
    ingot_type_traits_get(q->type)->to_float(q->data, y, n);
    const float *x = f32->data;
    double e = 0;
    for (int64_t i = 0; i < n; i++) e += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
    free(y);
    return e;
}

/* Every key of the input but the two quantize sets is in out, byte for byte. */
static void check_metadata(const ingot_gguf *in, const ingot_gguf *out, const char *what) {
    int missing = 0;
    for (int64_t k = 0; k < ingot_gguf_n_kv(in); k++) {
        const char *key = ingot_gguf_key(in, k);
        if (!strcmp(key, "general.file_type") || !strcmp(key, "general.quantization_version")) continue;
        int64_t ko = ingot_gguf_find_key(out, key);
        size_t la = 0, lb = 0;
        const void *a = ingot_gguf_kv_raw(in, k, &la);
        const void *b = ko >= 0 ? ingot_gguf_kv_raw(out, ko, &lb) : NULL;
        if (!b || la != lb || memcmp(a, b, la)) missing++;
    }
    CHECK(missing == 0, "%s: %d metadata keys not copied byte for byte", what, missing);
    uint32_t qv = 0;
    CHECK(ingot_gguf_get_u32(out, "general.quantization_version", &qv) && qv == 2,
          "%s: general.quantization_version = %u", what, qv);
}

typedef struct cmp_stats {
    int tensors, bad_ratio, same_type, identical;
    double worst_ratio;
} cmp_stats;

/* Tensor by tensor: ours (file a) against llama-quantize's (file ref), both
 * made from the F32 source. */
static cmp_stats compare_files(const ingot_gguf *ours, const ingot_gguf *ref, const ingot_gguf *f32,
                               const char *what, bool require_identical) {
    cmp_stats cs = {0};
    CHECK_INT_EQ(ingot_gguf_n_tensors(ours), ingot_gguf_n_tensors(ref));
    for (int64_t i = 0; i < ingot_gguf_n_tensors(ref); i++) {
        const ingot_gguf_tensor *r = ingot_gguf_tensor_at(ref, i);
        const ingot_gguf_tensor *o = ingot_gguf_find_tensor(ours, r->name);
        const ingot_gguf_tensor *x = ingot_gguf_find_tensor(f32, r->name);
        CHECK(o != NULL, "%s: %s missing", what, r->name);
        if (!o || !x) continue;
        cs.tensors++;
        bool shape = o->n_dims == r->n_dims && !memcmp(o->ne, r->ne, sizeof o->ne);
        CHECK(shape, "%s: %s shape differs", what, r->name);
        CHECK(o->type == r->type, "%s: %s is %s, llama-quantize made %s", what, r->name,
              ingot_type_name(o->type), ingot_type_name(r->type));
        if (o->type != r->type || !shape) continue;
        cs.same_type++;
        bool same = o->nbytes == r->nbytes && !memcmp(o->data, r->data, o->nbytes);
        cs.identical += same;
        if (require_identical)
            CHECK(same, "%s: %s (%s) differs from llama-quantize's bytes", what, r->name, ingot_type_name(o->type));
        if (x->type != INGOT_TYPE_F32 || o->type == INGOT_TYPE_F32) continue;
        double eo = sq_error(o, x), er = sq_error(r, x);
        double ratio = er > 0 ? sqrt(eo / er) : (eo > 0 ? INFINITY : 1.0);
        if (ratio > cs.worst_ratio) cs.worst_ratio = ratio;
        if (ratio > 1.10) {
            cs.bad_ratio++;
            CHECK(0, "%s: %s RMSE %.4fx llama-quantize's", what, r->name, ratio);
        }
    }
    return cs;
}

static bool progress_count(const ingot_quantize_progress *p, void *user) {
    int *calls = user;
    (*calls)++;
    return p->index >= 0 && p->index < p->n_tensors && p->name && p->from_type && p->to_type;
}

/* ---- (1) pure types ---- */

static void test_pure_types(const ingot_gguf *f32) {
    static const char *const types[] = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q4_K_S",
                                        "Q5_K_S", "Q6_K", "F16", "BF16", "IQ4_NL", "IQ4_XS"};
    printf("pure quantization of llama-f32.gguf vs llama-quantize --pure:\n");
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        char rel[256];
        snprintf(rel, sizeof rel, "models/synthetic/llama-%s-pure.gguf", types[t]);
        ingot_error err = {0};
        ingot_quantize_params qp = ingot_quantize_default_params();
        qp.pure = true;
        qp.n_threads = 2;
        int calls = 0;
        ingot_quantize_result res = {0};
        const char *out = tmp_path("pure.gguf");
        ingot_status s = ingot_quantize_file(test_fixture("models/synthetic/llama-f32.gguf"), out, types[t], &qp,
                                             progress_count, &calls, &res, &err);
        CHECK(s == INGOT_OK, "%s: %s", types[t], err.message);
        if (s) continue;
        CHECK_INT_EQ(calls, 2 * res.n_tensors);
        CHECK_STR_EQ(res.file_type, types[t]);
        ingot_gguf *ours = NULL, *ref = NULL;
        CHECK(ingot_gguf_open(out, true, &ours, &err) == INGOT_OK, "%s: output does not open: %s", types[t],
              err.message);
        CHECK(ingot_gguf_open(test_fixture(rel), true, &ref, &err) == INGOT_OK, "%s", err.message);
        if (ours && ref) {
            uint32_t fo = 99, fr = 98;
            ingot_gguf_get_u32(ours, "general.file_type", &fo);
            ingot_gguf_get_u32(ref, "general.file_type", &fr);
            CHECK(fo == fr, "%s: general.file_type %u, llama-quantize wrote %u", types[t], fo, fr);
            check_metadata(f32, ours, types[t]);
            bool iq = !strncmp(types[t], "IQ", 2);
            cmp_stats cs = compare_files(ours, ref, f32, types[t], !iq);
            printf("  %-7s %2d tensors, %2d same type, %2d byte-identical, worst RMSE ratio %.4f\n", types[t],
                   cs.tensors, cs.same_type, cs.identical, cs.worst_ratio);
            CHECK(cs.tensors == 21, "%s: %d tensors compared", types[t], cs.tensors);
        }
        ingot_gguf_close(ours);
        ingot_gguf_close(ref);
        unlink(out);
    }
}

/* ---- (2) mixtures ---- */

static void test_q4_k_m(const ingot_gguf *f32) {
    ingot_error err = {0};
    ingot_quantize_params qp = ingot_quantize_default_params();
    qp.n_threads = 2;
    const char *out = tmp_path("llama-Q4_K_M.gguf");
    ingot_quantize_result res = {0};
    ingot_status s = ingot_quantize_file(test_fixture("models/synthetic/llama-f32.gguf"), out, "q4_k_m", &qp, NULL,
                                         NULL, &res, &err);
    CHECK(s == INGOT_OK, "Q4_K_M: %s", err.message);
    if (s) return;
    CHECK_STR_EQ(res.file_type, "Q4_K_M");
    CHECK_INT_EQ(res.ftype, 15);
    CHECK_INT_EQ(res.n_tensors, 21);
    CHECK_INT_EQ(res.n_converted, 16);
    CHECK_INT_EQ(res.n_copied, 5);
    ingot_gguf *ours = NULL, *ref = NULL;
    CHECK(ingot_gguf_open(out, true, &ours, &err) == INGOT_OK, "%s", err.message);
    CHECK(ingot_gguf_open(test_fixture("models/synthetic/llama-Q4_K_M.gguf"), true, &ref, &err) == INGOT_OK, "%s",
          err.message);
    if (ours && ref) {
        cmp_stats cs = compare_files(ours, ref, f32, "Q4_K_M", true);
        printf("Q4_K_M mixture: %d tensors, %d of the same type as llama-quantize's, %d byte-identical\n",
               cs.tensors, cs.same_type, cs.identical);
        CHECK_INT_EQ(cs.same_type, 21);
        check_metadata(f32, ours, "Q4_K_M");
        /* The mixture really is one: layer 1 bumps attn_v and ffn_down. */
        CHECK_INT_EQ(ingot_gguf_find_tensor(ours, "blk.1.attn_v.weight")->type, INGOT_TYPE_Q6_K);
        CHECK_INT_EQ(ingot_gguf_find_tensor(ours, "blk.0.attn_v.weight")->type, INGOT_TYPE_Q4_K);
        CHECK_INT_EQ(ingot_gguf_find_tensor(ours, "output.weight")->type, INGOT_TYPE_Q6_K);
    }
    ingot_gguf_close(ours);
    ingot_gguf_close(ref);
}

/* The plan for other architectures' Q4_K_M files (their F32 sources are
 * not in the fixtures, but the types depend only on names, shapes and
 * hyperparameters). */
static void test_plan_other_archs(void) {
    static const char *const files[] = {"qwen2-Q4_K_M", "qwen3-Q4_K_M", "gemma3-Q4_K_M", "phi3-Q4_K_M",
                                        "llama-Q4_K_M"};
    const ingot_qftype *ft = ingot_qftype_find("Q4_K_M");
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char rel[256];
        snprintf(rel, sizeof rel, "models/synthetic/%s.gguf", files[f]);
        ingot_gguf *g = NULL;
        ingot_error err = {0};
        CHECK(ingot_gguf_open(test_fixture(rel), true, &g, &err) == INGOT_OK, "%s", err.message);
        if (!g) continue;
        int64_t n = ingot_gguf_n_tensors(g);
        ingot_type *plan = malloc((size_t)n * sizeof *plan);
        CHECK(ingot_quantize_plan(g, ft, false, plan, NULL, &err) == INGOT_OK, "%s", err.message);
        int same = 0;
        for (int64_t i = 0; i < n; i++) {
            const ingot_gguf_tensor *t = ingot_gguf_tensor_at(g, i);
            same += plan[i] == t->type;
            CHECK(plan[i] == t->type, "%s: %s planned %s, file has %s", files[f], t->name,
                  ingot_type_name(plan[i]), ingot_type_name(t->type));
        }
        printf("plan of %s: %d/%lld tensor types as llama-quantize chose\n", files[f], same, (long long)n);
        free(plan);
        ingot_gguf_close(g);
    }
}

/* ---- (3) the quantized files run ---- */

static void check_logits(const char *model_path, const char *ref_name) {
    char rel[256];
    snprintf(rel, sizeof rel, "parity/ref-%s.json", ref_name);
    json_error_t je;
    json_t *j = json_load_file(test_fixture(rel), 0, &je);
    CHECK(j != NULL, "%s: %s", rel, je.text);
    if (!j) return;
    int32_t nv = (int32_t)json_integer_value(json_object_get(j, "n_vocab"));
    json_t *pa = json_object_get(j, "prompt");
    int32_t np = (int32_t)json_array_size(pa);
    int32_t *prompt = malloc((size_t)np * sizeof *prompt);
    for (int32_t i = 0; i < np; i++) prompt[i] = (int32_t)json_integer_value(json_array_get(pa, (size_t)i));
    snprintf(rel, sizeof rel, "parity/ref-%s.prompt.f32", ref_name);
    size_t len = 0;
    float *ref = test_read_file(test_fixture(rel), &len);
    ingot_error err = {0};
    ingot_model *m = NULL;
    ingot_context *ctx = NULL;
    CHECK(ingot_model_load(model_path, NULL, &m, &err) == INGOT_OK, "%s: %s", model_path, err.message);
    ingot_context_params cp = ingot_context_default_params();
    cp.n_ctx = np + 8;
    cp.n_threads = 2;
    if (m) CHECK(ingot_context_new(m, &cp, &ctx, &err) == INGOT_OK, "%s", err.message);
    if (ctx && ref && len == (size_t)np * (size_t)nv * 4) {
        CHECK(ingot_context_decode(ctx, prompt, np, true) == INGOT_OK, "%s", ingot_context_errmsg(ctx));
        int32_t rows = 0;
        const float *lg = ingot_context_logits(ctx, &rows);
        CHECK_INT_EQ(rows, np);
        double e2 = 0, r2 = 0;
        int argmax_ok = 0;
        for (int32_t r = 0; lg && r < rows && r < np; r++) {
            const float *a = lg + (size_t)r * nv, *b = ref + (size_t)r * nv;
            int32_t ia = 0, ib = 0;
            for (int32_t i = 0; i < nv; i++) {
                e2 += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
                r2 += (double)b[i] * b[i];
                if (a[i] > a[ia]) ia = i;
                if (b[i] > b[ib]) ib = i;
            }
            argmax_ok += ia == ib;
        }
        double rel_err = sqrt(e2 / r2);
        printf("logits of our %s file vs llama.cpp on its own: rel. RMS %.2e, argmax %d/%d\n", ref_name, rel_err,
               argmax_ok, np);
        CHECK(rel_err <= 2e-2, "%s: relative RMS error %.3e", ref_name, rel_err);
        CHECK(argmax_ok * 100 >= np * 95, "%s: argmax agrees on %d/%d rows", ref_name, argmax_ok, np);
    } else {
        CHECK(0, "%s: no context or reference logits", ref_name);
    }
    ingot_context_free(ctx);
    ingot_model_free(m);
    free(ref);
    free(prompt);
    json_decref(j);
}

static void test_quantized_models_run(void) {
    ingot_error err = {0};
    ingot_quantize_params qp = ingot_quantize_default_params();
    qp.n_threads = 2;
    qp.pure = true;
    const char *q8 = tmp_path("run-Q8_0.gguf");
    CHECK(ingot_quantize_file(test_fixture("models/synthetic/llama-f32.gguf"), q8, "Q8_0", &qp, NULL, NULL, NULL,
                              &err) == INGOT_OK, "%s", err.message);
    check_logits(q8, "llama-Q8_0-pure");
    unlink(q8);
    check_logits(tmp_path("llama-Q4_K_M.gguf"), "llama-Q4_K_M");
}

/* ---- (4) fallbacks for rows that do not fit ---- */

/* A qwen2.5-0.5b-like header (embedding 896, tied output) with tiny
 * tensors: only row lengths matter to the plan. */
static const char *write_odd_model(void) {
    ingot_gguf_writer *w = ingot_gguf_writer_new();
    ingot_gguf_writer_set_str(w, "general.architecture", "qwen2");
    ingot_gguf_writer_set_u32(w, "qwen2.block_count", 24);
    ingot_gguf_writer_set_u32(w, "qwen2.attention.head_count", 14);
    ingot_gguf_writer_set_u32(w, "qwen2.attention.head_count_kv", 2);
    static float data[4864 * 2];
    for (size_t i = 0; i < sizeof data / sizeof data[0]; i++) data[i] = (float)((int)(i * 7919 % 200) - 100) / 1000.0f;
    int64_t emb[2] = {896, 3}, odd[2] = {100, 2}, vec[1] = {896};
    ingot_gguf_writer_add_tensor(w, "token_embd.weight", INGOT_TYPE_F32, 2, emb, data);
    ingot_gguf_writer_add_tensor(w, "output_norm.weight", INGOT_TYPE_F32, 1, vec, data);
    ingot_gguf_writer_add_tensor(w, "blk.0.odd.weight", INGOT_TYPE_F32, 2, odd, data);
    static char names[24][4][64];
    for (int l = 0; l < 24; l++) {
        int64_t sq[2] = {896, 2}, down[2] = {4864, 2};
        snprintf(names[l][0], 64, "blk.%d.attn_q.weight", l);
        snprintf(names[l][1], 64, "blk.%d.attn_v.weight", l);
        snprintf(names[l][2], 64, "blk.%d.ffn_down.weight", l);
        snprintf(names[l][3], 64, "blk.%d.attn_q.bias", l);
        ingot_gguf_writer_add_tensor(w, names[l][0], INGOT_TYPE_F32, 2, sq, data);
        ingot_gguf_writer_add_tensor(w, names[l][1], INGOT_TYPE_F32, 2, sq, data);
        ingot_gguf_writer_add_tensor(w, names[l][2], INGOT_TYPE_F32, 2, down, data);
        ingot_gguf_writer_add_tensor(w, names[l][3], INGOT_TYPE_F32, 1, vec, data);
    }
    const char *path = tmp_path("odd.gguf");
    ingot_error err = {0};
    CHECK(ingot_gguf_writer_write(w, path, &err) == INGOT_OK, "%s", err.message);
    ingot_gguf_writer_free(w);
    return path;
}

static void test_fallbacks(void) {
    const char *in = write_odd_model();
    const char *out = tmp_path("odd-q4km.gguf");
    ingot_error err = {0};
    ingot_quantize_result res = {0};
    CHECK(ingot_quantize_file(in, out, "Q4_K_M", NULL, NULL, NULL, &res, &err) == INGOT_OK, "%s", err.message);
    ingot_gguf *g = NULL;
    CHECK(ingot_gguf_open(out, true, &g, &err) == INGOT_OK, "%s", err.message);
    if (g) {
        /* Tied embedding -> output rules, 896 % 256 != 0 -> Q8_0. */
        CHECK_INT_EQ(ingot_gguf_find_tensor(g, "token_embd.weight")->type, INGOT_TYPE_Q8_0);
        CHECK_INT_EQ(ingot_gguf_find_tensor(g, "blk.0.odd.weight")->type, INGOT_TYPE_F16);
        CHECK_INT_EQ(ingot_gguf_find_tensor(g, "output_norm.weight")->type, INGOT_TYPE_F32);
        CHECK_INT_EQ(ingot_gguf_find_tensor(g, "blk.3.attn_q.bias")->type, INGOT_TYPE_F32);
        int q6 = 0;
        for (int l = 0; l < 24; l++) {
            char name[64];
            snprintf(name, sizeof name, "blk.%d.attn_q.weight", l);
            CHECK_INT_EQ(ingot_gguf_find_tensor(g, name)->type, INGOT_TYPE_Q5_0); /* Q4_K -> Q5_0 */
            /* use_more_bits(l, 24): layers 0-2, 21-23 and every third between. */
            bool more = l < 3 || l >= 21 || (l - 3) % 3 == 2;
            snprintf(name, sizeof name, "blk.%d.attn_v.weight", l);
            CHECK(ingot_gguf_find_tensor(g, name)->type == (more ? INGOT_TYPE_Q8_0 : INGOT_TYPE_Q5_0), "%s", name);
            snprintf(name, sizeof name, "blk.%d.ffn_down.weight", l);
            CHECK(ingot_gguf_find_tensor(g, name)->type == (more ? INGOT_TYPE_Q6_K : INGOT_TYPE_Q4_K), "%s", name);
            q6 += more;
        }
        CHECK_INT_EQ(q6, 12);
        CHECK(res.n_fallback == 1 + 24 + 24, "n_fallback = %d", res.n_fallback);
    }
    ingot_gguf_close(g);
    /* Q2_K: the K-quant falls back to Q4_0; Q8_0 output stays Q8_0. */
    CHECK(ingot_quantize_file(in, out, "Q2_K", NULL, NULL, NULL, NULL, &err) == INGOT_OK, "%s", err.message);
    g = NULL;
    CHECK(ingot_gguf_open(out, true, &g, &err) == INGOT_OK, "%s", err.message);
    if (g) {
        CHECK_INT_EQ(ingot_gguf_find_tensor(g, "blk.5.attn_q.weight")->type, INGOT_TYPE_Q4_0);
        CHECK_INT_EQ(ingot_gguf_find_tensor(g, "blk.5.ffn_down.weight")->type, INGOT_TYPE_Q3_K);
        CHECK_INT_EQ(ingot_gguf_find_tensor(g, "token_embd.weight")->type, INGOT_TYPE_Q8_0);
    }
    ingot_gguf_close(g);
    unlink(out);
    unlink(in);
}

/* ---- (5) errors ---- */

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    return n;
}

static bool cancel_at_3(const ingot_quantize_progress *p, void *user) {
    (void)user;
    return p->index < 3;
}

static void test_errors(void) {
    const char *f32 = test_fixture("models/synthetic/llama-f32.gguf");
    const char *out = tmp_path("err.gguf");
    ingot_error err = {0};
    int before = count_entries(tmpdir);
    CHECK(ingot_quantize_file(f32, out, "Q4_K_X", NULL, NULL, NULL, NULL, &err) == INGOT_E_INVALID_ARG, "unknown type");
    CHECK(strstr(err.message, "Q4_K_X") && strstr(err.message, "Q4_K_M"), "message: %s", err.message);
    CHECK(ingot_quantize_file(test_fixture("models/synthetic/llama-Q4_0-pure.gguf"), out, "Q4_K_M", NULL, NULL, NULL,
                              NULL, &err) == INGOT_E_UNSUPPORTED, "quantized input");
    CHECK(strstr(err.message, "already quantized") != NULL, "message: %s", err.message);
    CHECK(ingot_quantize_file(tmp_path("does-not-exist.gguf"), out, "Q8_0", NULL, NULL, NULL, NULL, &err) != INGOT_OK &&
              strstr(err.message, "does-not-exist.gguf"),
          "missing input: %s", err.message);
    FILE *f = fopen(tmp_path("garbage.gguf"), "wb");
    fputs("GGUF but not really", f);
    fclose(f);
    CHECK(ingot_quantize_file(tmp_path("garbage.gguf"), out, "Q8_0", NULL, NULL, NULL, NULL, &err) == INGOT_E_FORMAT,
          "garbage input: %s", err.message);
    unlink(tmp_path("garbage.gguf"));
    CHECK(ingot_quantize_file(f32, tmp_path("no/such/dir/out.gguf"), "Q8_0", NULL, NULL, NULL, NULL, &err) == INGOT_E_IO,
          "missing output dir");
    CHECK(strstr(err.message, "does not exist") != NULL, "message: %s", err.message);
    CHECK(ingot_quantize_file(f32, out, "Q8_0", NULL, cancel_at_3, NULL, NULL, &err) == INGOT_E_CANCELLED, "cancel");
    ingot_quantize_params bad = ingot_quantize_default_params();
    bad.n_threads = -1;
    CHECK(ingot_quantize_file(f32, out, "Q8_0", &bad, NULL, NULL, NULL, &err) == INGOT_E_RANGE, "threads");
    CHECK(access(out, F_OK) != 0, "a failed quantization left %s", out);
    CHECK_INT_EQ(count_entries(tmpdir), before);
    /* The type table round-trips through the public names. */
    int n = 0;
    for (const char *name; (name = ingot_quantize_type_name(n, NULL)); n++) {
        const ingot_qftype *q = ingot_qftype_find(name);
        CHECK(q && ingot_file_type_name(q->ftype) && !strcmp(ingot_file_type_name(q->ftype), name), "%s", name);
    }
    CHECK(n >= 17, "only %d types", n);
    CHECK(ingot_qftype_find("q4_k") == ingot_qftype_find("Q4_K_M"), "Q4_K alias");
    uint32_t ftv = 0;
    CHECK(ingot_file_type_read(test_fixture("models/synthetic/llama-Q4_K_M.gguf"), &ftv, &err) == INGOT_OK && ftv == 15,
          "file type read: %u", ftv);
}

/* ---- (6) threads ---- */

static void test_threads_identical(void) {
    const char *f32 = test_fixture("models/synthetic/llama-f32.gguf");
    ingot_error err = {0};
    ingot_quantize_params a = ingot_quantize_default_params(), b = a;
    a.n_threads = 1;
    b.n_threads = 3;
    const char *pa = tmp_path("t1.gguf"), *pb = tmp_path("t3.gguf");
    CHECK(ingot_quantize_file(f32, pa, "Q3_K_M", &a, NULL, NULL, NULL, &err) == INGOT_OK, "%s", err.message);
    CHECK(ingot_quantize_file(f32, pb, "Q3_K_M", &b, NULL, NULL, NULL, &err) == INGOT_OK, "%s", err.message);
    size_t la = 0, lb = 0;
    char *da = test_read_file(pa, &la), *db = test_read_file(pb, &lb);
    CHECK(da && db && la == lb && !memcmp(da, db, la), "1 and 3 threads wrote different files");
    free(da);
    free(db);
    unlink(pa);
    unlink(pb);
}

int main(void) {
    const char *f32_path = test_fixture("models/synthetic/llama-f32.gguf");
    tmpdir = test_tmpdir();
    if (!tmpdir) {
        fprintf(stderr, "cannot create a temporary directory\n");
        return 1;
    }
    ingot_gguf *f32 = NULL;
    ingot_error err = {0};
    CHECK(ingot_gguf_open(f32_path, true, &f32, &err) == INGOT_OK, "%s", err.message);
    if (f32) {
        test_pure_types(f32);
        test_q4_k_m(f32);
        test_quantized_models_run();
        unlink(tmp_path("llama-Q4_K_M.gguf"));
    }
    test_plan_other_archs();
    test_fallbacks();
    test_errors();
    test_threads_identical();
    ingot_gguf_close(f32);
    CHECK(count_entries(tmpdir) == 0, "files left in %s", tmpdir);
    rmdir(tmpdir);
    TEST_END();
}
