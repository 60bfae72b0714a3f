/* Model loading errors and context behaviour: an unknown architecture, a
 * missing or misshapen tensor, a missing hyperparameter each fail with a
 * message naming it; decode rejects out-of-vocabulary ids and a full
 * context; truncate and re-decode reproduce the same logits. Broken
 * models are written from stories260K with the GGUF writer into a temp dir. */
#include <unistd.h>

#include "format/gguf.h"
#include "ingot.h"
#include "test.h"

typedef enum { MUT_ARCH, MUT_DROP_TENSOR, MUT_SHAPE, MUT_DROP_KEY } mutation;

/* Copies stories260K to path with one mutation applied. */
static int write_mutant(const char *path, mutation mut) {
    ingot_gguf *g = NULL;
    if (ingot_gguf_open(test_fixture("models/real/stories260K.gguf"), true, &g, NULL)) return -1;
    ingot_gguf_writer *w = ingot_gguf_writer_new();
    for (int64_t k = 0; k < ingot_gguf_n_kv(g); k++) {
        const char *key = ingot_gguf_key(g, k);
        if (mut == MUT_DROP_KEY && !strcmp(key, "llama.block_count")) continue;
        if (mut == MUT_ARCH && !strcmp(key, "general.architecture"))
            ingot_gguf_writer_set_str(w, key, "mamba");
        else
            ingot_gguf_writer_copy_kv(w, g, k);
    }
    for (int64_t i = 0; i < ingot_gguf_n_tensors(g); i++) {
        const ingot_gguf_tensor *t = ingot_gguf_tensor_at(g, i);
        if (mut == MUT_DROP_TENSOR && !strcmp(t->name, "blk.3.ffn_up.weight")) continue;
        int64_t ne[4] = {t->ne[0], t->ne[1], t->ne[2], t->ne[3]};
        if (mut == MUT_SHAPE && !strcmp(t->name, "blk.1.attn_q.weight")) {
            ne[0] = 32; /* half the rows' length, twice the rows: same bytes, wrong shape */
            ne[1] = 128;
        }
        ingot_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, ne, t->data);
    }
    ingot_status s = ingot_gguf_writer_write(w, path, NULL);
    ingot_gguf_writer_free(w);
    ingot_gguf_close(g);
    return s ? -1 : 0;
}

static void expect_load_error(const char *dir, const char *name, mutation mut, ingot_status want,
                              const char *needle) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.gguf", dir, name);
    CHECK(write_mutant(path, mut) == 0, "cannot write %s", path);
    ingot_error err = {0};
    ingot_model *m = (ingot_model *)1;
    ingot_status s = ingot_model_load(path, NULL, &m, &err);
    CHECK_INT_EQ(s, want);
    CHECK(m == NULL, "%s: model handle set on failure", name);
    CHECK(strstr(err.message, needle) != NULL, "%s: message '%s' lacks '%s'", name, err.message, needle);
    CHECK(strstr(err.message, path) != NULL, "%s: message '%s' does not name the file", name, err.message);
    unlink(path);
}

static void check_context(void) {
    ingot_error err = {0};
    ingot_model *m = NULL;
    CHECK(ingot_model_load(test_fixture("models/real/stories260K.gguf"), NULL, &m, &err) == 0, "%s",
          err.message);
    if (!m) return;
    ingot_model_info info;
    ingot_model_get_info(m, &info);
    CHECK_STR_EQ(info.arch, "llama");
    CHECK_INT_EQ(info.n_layer, 5);
    CHECK_INT_EQ(info.n_vocab, 512);
    CHECK_INT_EQ(info.n_params, 292800);
    ingot_context_params cp = ingot_context_default_params();
    cp.n_ctx = 8;
    cp.n_threads = 2;
    ingot_context *c = NULL;
    CHECK(ingot_context_new(m, &cp, &c, &err) == 0, "%s", err.message);
    if (!c) { ingot_model_free(m); return; }
    CHECK_INT_EQ(ingot_context_n_ctx(c), 8);
    const int32_t bad_ids[] = {1, 512};
    CHECK_INT_EQ(ingot_context_decode(c, bad_ids, 2, false), INGOT_E_RANGE);
    CHECK(strstr(ingot_context_errmsg(c), "512") != NULL, "%s", ingot_context_errmsg(c));
    CHECK_INT_EQ(ingot_context_n_past(c), 0);
    const int32_t ids[] = {1, 403, 407, 261, 378, 432};
    CHECK_INT_EQ(ingot_context_decode(c, ids, 6, false), INGOT_OK);
    float first[512];
    memcpy(first, ingot_context_logits(c, NULL), sizeof first);
    CHECK_INT_EQ(ingot_context_decode(c, ids, 3, false), INGOT_E_CONTEXT_FULL);
    CHECK(strstr(ingot_context_errmsg(c), "context") != NULL, "%s", ingot_context_errmsg(c));
    CHECK_INT_EQ(ingot_context_n_past(c), 6);
    /* Drop the last two tokens and feed them again: same last logits. */
    CHECK_INT_EQ(ingot_context_truncate(c, 4), INGOT_OK);
    CHECK_INT_EQ(ingot_context_truncate(c, 5), INGOT_E_RANGE);
    CHECK_INT_EQ(ingot_context_decode(c, ids + 4, 2, false), INGOT_OK);
    CHECK(memcmp(first, ingot_context_logits(c, NULL), sizeof first) == 0, "logits differ after truncate");
    CHECK_INT_EQ(ingot_context_decode(c, ids, 0, false), INGOT_E_INVALID_ARG);
    ingot_context_free(c);
    cp.n_ctx = -1;
    CHECK_INT_EQ(ingot_context_new(m, &cp, &c, &err), INGOT_E_INVALID_ARG);
    ingot_model_free(m);
    ingot_model_free(NULL);
    ingot_context_free(NULL);
}

int main(void) {
    const char *dir = test_tmpdir();
    CHECK(dir != NULL, "mkdtemp");
    if (!dir) TEST_END();
    expect_load_error(dir, "arch", MUT_ARCH, INGOT_E_UNSUPPORTED, "unknown architecture 'mamba'");
    expect_load_error(dir, "drop", MUT_DROP_TENSOR, INGOT_E_FORMAT, "missing tensor 'blk.3.ffn_up.weight'");
    expect_load_error(dir, "shape", MUT_SHAPE, INGOT_E_FORMAT, "'blk.1.attn_q.weight' has shape [32, 128]");
    expect_load_error(dir, "key", MUT_DROP_KEY, INGOT_E_FORMAT, "missing metadata key llama.block_count");
    ingot_error err = {0};
    ingot_model *m = NULL;
    CHECK_INT_EQ(ingot_model_load("/nonexistent/model.gguf", NULL, &m, &err), INGOT_E_NOT_FOUND);
    CHECK(strstr(err.message, "/nonexistent/model.gguf") != NULL, "%s", err.message);
    check_context();
    rmdir(dir);
    TEST_END();
}
