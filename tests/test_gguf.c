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
    float sc = 1;
    CHECK(ingot_gguf_arr_get_f32(g, sk, 0, &sc) && sc == 0.0f, "score of <unk> %g", sc);
    CHECK(ingot_gguf_arr_get_f32(g, sk, 511, &sc) && sc < 0, "score of the last token %g", sc);
    CHECK(!ingot_gguf_arr_get_f32(g, sk, 512, &sc), "score 512 out of range");
    int64_t tt = 0;
    int64_t ttk = ingot_gguf_find_key(g, "tokenizer.ggml.token_type");
    CHECK(ingot_gguf_arr_get_i64(g, ttk, 0, &tt) && tt == 2, "<unk> is type 2 (unknown), got %lld",
          (long long)tt);
    CHECK(ingot_gguf_arr_get_i64(g, ttk, 1, &tt) && tt == 3, "<s> is type 3 (control)");
    CHECK(!ingot_gguf_arr_get_f32(g, ttk, 0, &sc), "token types are not floats");
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
    /* ingot_gguf_read (pread on a mapping, memcpy otherwise) gives the same
     * bytes, at any offset and length, including the file's last byte */
    if (t && bin && blen >= 28 + t->nbytes) {
        uint8_t row[300];
        const size_t offs[] = {0, 1, 255, t->nbytes - sizeof row};
        for (size_t i = 0; i < sizeof offs / sizeof *offs; i++) {
            memset(row, 0xA5, sizeof row);
            ingot_gguf_read(g, (const uint8_t *)t->data + offs[i], sizeof row, row);
            CHECK(memcmp(row, bin + 28 + offs[i], sizeof row) == 0, "ingot_gguf_read at %zu (mmap %d)", offs[i],
                  (int)use_mmap);
        }
        const uint8_t *base = (const uint8_t *)t->data - t->offset - ingot_gguf_data_offset(g);
        uint8_t last = 0;
        ingot_gguf_read(g, base + ingot_gguf_file_size(g) - 1, 1, &last);
        CHECK(last == base[ingot_gguf_file_size(g) - 1], "ingot_gguf_read of the last byte");
        CHECK(ingot_gguf_is_mapped(g) == use_mmap, "mapped as asked");
    }
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

/* ---- hand-built files ---------------------------------------------------- */

typedef struct tb {
    uint8_t *p;
    size_t n, cap;
} tb;

static size_t tb_raw(tb *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p) { fprintf(stderr, "out of memory\n"); exit(2); }
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
    return b->n - n;
}
static size_t tb_u32(tb *b, uint32_t v) { return tb_raw(b, &v, 4); }
static size_t tb_u64(tb *b, uint64_t v) { return tb_raw(b, &v, 8); }
static size_t tb_str(tb *b, const char *s) {
    size_t at = tb_u64(b, strlen(s));
    tb_raw(b, s, strlen(s));
    return at;
}
static void tb_pad(tb *b, size_t a) {
    while (b->n % a) tb_raw(b, "", 1);
}
static void put_u32_at(tb *b, size_t at, uint32_t v) { memcpy(b->p + at, &v, 4); }
static void put_u64_at(tb *b, size_t at, uint64_t v) { memcpy(b->p + at, &v, 8); }
static uint64_t le_u64_at(const uint8_t *p, size_t at) {
    uint64_t v;
    memcpy(&v, p + at, 8);
    return v;
}

/* Where each field of the base file is, for precise corruption. */
typedef struct layout {
    size_t kv_at[5], kv_type_at[5], kv_val_at[5];
    size_t tok_elem_at, tok_count_at, tok_str_at[3];
    size_t t_at[2], t_ndims_at[2], t_ne_at[2][2], t_type_at[2], t_off_at[2];
    size_t data_at;
} layout;

/* A valid v3 file: 4 keys (+ general.alignment when align_key), tensors
 * t0 F32 [32,2] and t1 Q8_0 [64]. */
static void build_base(tb *b, layout *L, uint32_t align_key) {
    size_t a = align_key ? align_key : 32;
    memset(b, 0, sizeof *b);
    tb_raw(b, "GGUF", 4);
    tb_u32(b, 3);
    tb_u64(b, 2);
    tb_u64(b, align_key ? 5 : 4);
    L->kv_at[0] = tb_str(b, "general.architecture");
    L->kv_type_at[0] = tb_u32(b, INGOT_GGUF_STRING);
    L->kv_val_at[0] = tb_str(b, "llama");
    L->kv_at[1] = tb_str(b, "general.name");
    L->kv_type_at[1] = tb_u32(b, INGOT_GGUF_STRING);
    L->kv_val_at[1] = tb_str(b, "tiny");
    L->kv_at[2] = tb_str(b, "tokenizer.ggml.tokens");
    L->kv_type_at[2] = tb_u32(b, INGOT_GGUF_ARRAY);
    L->kv_val_at[2] = L->tok_elem_at = tb_u32(b, INGOT_GGUF_STRING);
    L->tok_count_at = tb_u64(b, 3);
    L->tok_str_at[0] = tb_str(b, "a");
    L->tok_str_at[1] = tb_str(b, "bc");
    L->tok_str_at[2] = tb_str(b, "def");
    L->kv_at[3] = tb_str(b, "general.size");
    L->kv_type_at[3] = tb_u32(b, INGOT_GGUF_UINT32);
    L->kv_val_at[3] = tb_u32(b, 7);
    if (align_key) {
        L->kv_at[4] = tb_str(b, "general.alignment");
        L->kv_type_at[4] = tb_u32(b, INGOT_GGUF_UINT32);
        L->kv_val_at[4] = tb_u32(b, align_key);
    }
    const char *names[2] = {"t0.weight", "t1.weight"};
    uint64_t ne[2][2] = {{32, 2}, {64, 1}};
    uint32_t nd[2] = {2, 1}, ty[2] = {INGOT_TYPE_F32, INGOT_TYPE_Q8_0};
    uint64_t off[2] = {0, (256 + a - 1) / a * a};
    for (int t = 0; t < 2; t++) {
        L->t_at[t] = tb_str(b, names[t]);
        L->t_ndims_at[t] = tb_u32(b, nd[t]);
        for (uint32_t d = 0; d < nd[t]; d++) L->t_ne_at[t][d] = tb_u64(b, ne[t][d]);
        L->t_type_at[t] = tb_u32(b, ty[t]);
        L->t_off_at[t] = tb_u64(b, off[t]);
    }
    tb_pad(b, a);
    L->data_at = b->n;
    for (int i = 0; i < 256; i++) tb_raw(b, &(uint8_t){(uint8_t)i}, 1);
    tb_pad(b, a);
    for (int i = 0; i < 68; i++) tb_raw(b, &(uint8_t){(uint8_t)(i * 7)}, 1);
    tb_pad(b, a);
}

static const char *tmpdir_;

static const char *tmp_path(const char *name) {
    static char buf[4][512];
    static int slot;
    char *p = buf[slot++ & 3];
    snprintf(p, sizeof buf[0], "%s/%s", tmpdir_, name);
    return p;
}

static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) { fprintf(stderr, "cannot write %s\n", path); exit(2); }
    fclose(f);
}

/* Opens bytes written to a temp file (mmap and read) and expects a
 * rejection with status want whose message names the path, the field and
 * "at byte <at>". */
static void expect_reject(const char *what, const void *p, size_t n, ingot_status want,
                          const char *field, long long at) {
    const char *path = tmp_path("broken.gguf");
    write_bytes(path, p, n);
    for (int m = 0; m < 2; m++) {
        ingot_gguf *g = NULL;
        ingot_error e = {0};
        ingot_status s = ingot_gguf_open(path, m == 0, &g, &e);
        CHECK(s == want, "%s: status %d (%s), expected %d", what, (int)s, e.message, (int)want);
        CHECK(g == NULL, "%s: no handle on failure", what);
        ingot_gguf_close(g);
        CHECK(strstr(e.message, path) != NULL, "%s: message names the file: %s", what, e.message);
        CHECK(strstr(e.message, field) != NULL, "%s: message names field \"%s\": %s", what, field,
              e.message);
        if (at >= 0) {
            char b[64];
            snprintf(b, sizeof b, "at byte %lld:", at);
            CHECK(strstr(e.message, b) != NULL, "%s: message says \"%s\": %s", what, b, e.message);
        }
    }
    unlink(path);
}

static void test_base_is_valid(void) {
    tb b;
    layout L;
    for (int v = 2; v <= 3; v++) {
        for (uint32_t al = 0; al <= 64; al += 64) {
            build_base(&b, &L, al);
            put_u32_at(&b, 4, (uint32_t)v);
            const char *path = tmp_path("base.gguf");
            write_bytes(path, b.p, b.n);
            ingot_gguf *g = NULL;
            ingot_error e = {0};
            CHECK(ingot_gguf_open(path, v == 3, &g, &e) == INGOT_OK, "base v%d: %s", v, e.message);
            if (g) {
                CHECK_INT_EQ(ingot_gguf_version(g), v);
                CHECK_INT_EQ(ingot_gguf_alignment(g), al ? al : 32);
                CHECK_INT_EQ(ingot_gguf_data_offset(g), L.data_at);
                CHECK_STR_EQ(ingot_gguf_get_str(g, "general.name"), "tiny");
                int64_t k = ingot_gguf_find_key(g, "tokenizer.ggml.tokens");
                uint64_t len = 0;
                const char *s = ingot_gguf_arr_str(g, k, 2, &len);
                CHECK(s && len == 3 && !memcmp(s, "def", 3), "token 2");
                const ingot_gguf_tensor *t = ingot_gguf_find_tensor(g, "t1.weight");
                CHECK(t && t->nbytes == 68 && ((const uint8_t *)t->data)[1] == 7, "t1");
                CHECK(t && t->data == (const uint8_t *)ingot_gguf_tensor_at(g, 0)->data + 256,
                      "t1 follows t0");
            }
            ingot_gguf_close(g);
            unlink(path);
            free(b.p);
        }
    }
}

static void build_nested(tb *b);

static void test_broken_catalogue(void) {
    tb b;
    layout L;
#define FRESH(al) do { free(b.p); build_base(&b, &L, al); } while (0)
    b.p = NULL;
    FRESH(0);
    expect_reject("empty file", b.p, 0, INGOT_E_FORMAT, "magic", 0);
    FRESH(0);
    b.p[0] = 'X';
    expect_reject("bad magic", b.p, b.n, INGOT_E_FORMAT, "magic", 0);
    expect_reject("3-byte file", "GGU", 3, INGOT_E_FORMAT, "magic", 0);
    FRESH(0);
    put_u32_at(&b, 4, 1);
    expect_reject("version 1", b.p, b.n, INGOT_E_UNSUPPORTED, "v1 is not supported", 4);
    put_u32_at(&b, 4, 4);
    expect_reject("version 4", b.p, b.n, INGOT_E_FORMAT, "version", 4);
    put_u32_at(&b, 4, 0x7fffffff);
    expect_reject("version garbage", b.p, b.n, INGOT_E_FORMAT, "unknown GGUF version", 4);
    put_u32_at(&b, 4, 0x03000000u);
    expect_reject("big-endian", b.p, b.n, INGOT_E_UNSUPPORTED, "big-endian", 4);
    FRESH(0);
    expect_reject("truncated in version", b.p, 6, INGOT_E_FORMAT, "version", 4);
    expect_reject("truncated in tensor count", b.p, 10, INGOT_E_FORMAT, "tensor count", 8);
    expect_reject("truncated in kv count", b.p, 20, INGOT_E_FORMAT, "kv count", 16);
    expect_reject("truncated after header", b.p, 24, INGOT_E_FORMAT, "kv count", 16);
    /* Counts small enough to pass the size bound, so the parse runs out. */
    put_u64_at(&b, 8, 0);
    put_u64_at(&b, 16, 2);
    expect_reject("truncated in key 1 type", b.p, L.kv_type_at[1] + 2, INGOT_E_FORMAT,
                  "key #1 'general.name' type", (long long)L.kv_type_at[1]);
    expect_reject("truncated in key 1 value", b.p, L.kv_val_at[1] + 10, INGOT_E_FORMAT,
                  "key #1 'general.name' value string length", (long long)L.kv_val_at[1]);
    FRESH(0);
    expect_reject("truncated in tensor 1 ne", b.p, L.t_ne_at[1][0] + 3, INGOT_E_FORMAT,
                  "tensor 't1.weight' ne[0]", (long long)L.t_ne_at[1][0]);
    expect_reject("truncated in tensor data", b.p, b.n - 40, INGOT_E_FORMAT,
                  "tensor 't1.weight' offset", (long long)L.t_off_at[1]);
    expect_reject("truncated in the data of t0", b.p, L.data_at + 100, INGOT_E_FORMAT,
                  "tensor 't0.weight' offset", (long long)L.t_off_at[0]);

    FRESH(0);
    put_u64_at(&b, 16, (uint64_t)1 << 50);
    expect_reject("huge kv count", b.p, b.n, INGOT_E_FORMAT, "kv count", 16);
    FRESH(0);
    put_u64_at(&b, 8, UINT64_MAX);
    expect_reject("huge tensor count", b.p, b.n, INGOT_E_FORMAT, "tensor count", 8);
    FRESH(0);
    put_u64_at(&b, 16, 40); /* plausible by size, but runs into the tensor infos */
    {
        const char *path = tmp_path("kv40.gguf");
        write_bytes(path, b.p, b.n);
        ingot_gguf *g = NULL;
        ingot_error e = {0};
        CHECK(ingot_gguf_open(path, true, &g, &e) == INGOT_E_FORMAT && strstr(e.message, "key #"),
              "kv count too large: %s", e.message);
        unlink(path);
    }

    FRESH(0);
    put_u64_at(&b, L.kv_at[0], (uint64_t)1 << 40);
    expect_reject("key length past EOF", b.p, b.n, INGOT_E_FORMAT, "key #0 key length", 24);
    FRESH(0);
    b.p[L.kv_at[1] + 8 + 3] = 0;
    expect_reject("NUL in key", b.p, b.n, INGOT_E_FORMAT, "key #1", (long long)L.kv_at[1]);
    FRESH(0);
    put_u64_at(&b, L.kv_val_at[1], UINT64_MAX - 3);
    expect_reject("string length past EOF", b.p, b.n, INGOT_E_FORMAT,
                  "key #1 'general.name' value string length", (long long)L.kv_val_at[1]);
    FRESH(0);
    put_u32_at(&b, L.kv_type_at[1], 13);
    expect_reject("invalid value type", b.p, b.n, INGOT_E_FORMAT, "key #1 'general.name' type",
                  (long long)L.kv_type_at[1]);
    FRESH(0);
    put_u32_at(&b, L.kv_type_at[3], 0x80000000u);
    expect_reject("invalid value type (high bit)", b.p, b.n, INGOT_E_FORMAT,
                  "key #3 'general.size' type", (long long)L.kv_type_at[3]);
    FRESH(0);
    put_u32_at(&b, L.tok_elem_at, 99);
    expect_reject("invalid array element type", b.p, b.n, INGOT_E_FORMAT,
                  "key #2 'tokenizer.ggml.tokens' value array type", (long long)L.tok_elem_at);
    FRESH(0);
    put_u64_at(&b, L.tok_count_at, (uint64_t)1 << 61);
    expect_reject("array count absurd", b.p, b.n, INGOT_E_FORMAT,
                  "key #2 'tokenizer.ggml.tokens' value array count", (long long)L.tok_count_at);
    FRESH(0);
    put_u64_at(&b, L.tok_count_at, 40); /* fits by size, strings run out */
    expect_reject("array count past EOF", b.p, b.n, INGOT_E_FORMAT,
                  "key #2 'tokenizer.ggml.tokens' value array element #", -1);
    FRESH(0);
    put_u64_at(&b, L.tok_str_at[1], 1u << 20);
    expect_reject("array string length past EOF", b.p, b.n, INGOT_E_FORMAT,
                  "key #2 'tokenizer.ggml.tokens' value array element #1 string length",
                  (long long)L.tok_str_at[1]);
    FRESH(0);
    memcpy(b.p + L.kv_at[3] + 8, "general.name", 12); /* general.size -> general.name */
    expect_reject("duplicate key", b.p, b.n, INGOT_E_FORMAT, "key #3 'general.name' name",
                  (long long)L.kv_at[3]);
    FRESH(0);
    b.p[L.kv_at[1] + 8] = 'X'; /* so the error is about the alignment key only */
    put_u32_at(&b, L.kv_type_at[3], INGOT_GGUF_UINT32);
    free(b.p);
    build_base(&b, &L, 48);
    expect_reject("alignment not a power of two", b.p, b.n, INGOT_E_FORMAT,
                  "key #4 'general.alignment' value", (long long)L.kv_val_at[4]);
    FRESH(64);
    put_u32_at(&b, L.kv_val_at[4], 0);
    expect_reject("alignment zero", b.p, b.n, INGOT_E_FORMAT, "key #4 'general.alignment' value",
                  (long long)L.kv_val_at[4]);
    FRESH(64);
    put_u32_at(&b, L.kv_type_at[4], INGOT_GGUF_FLOAT32);
    expect_reject("alignment not an integer", b.p, b.n, INGOT_E_FORMAT,
                  "key #4 'general.alignment' value", (long long)L.kv_val_at[4]);

    FRESH(0);
    put_u64_at(&b, L.t_at[1], (uint64_t)1 << 62);
    expect_reject("tensor name length past EOF", b.p, b.n, INGOT_E_FORMAT,
                  "tensor #1 name length", (long long)L.t_at[1]);
    FRESH(0);
    memcpy(b.p + L.t_at[1] + 8, "t0.weight", 9);
    expect_reject("duplicate tensor name", b.p, b.n, INGOT_E_FORMAT, "tensor 't0.weight' name",
                  (long long)L.t_at[1]);
    FRESH(0);
    put_u32_at(&b, L.t_ndims_at[0], 5);
    expect_reject("n_dims 5", b.p, b.n, INGOT_E_FORMAT, "tensor 't0.weight' n_dims",
                  (long long)L.t_ndims_at[0]);
    FRESH(0);
    put_u32_at(&b, L.t_ndims_at[0], 0xffffffffu);
    expect_reject("n_dims huge", b.p, b.n, INGOT_E_FORMAT, "tensor 't0.weight' n_dims",
                  (long long)L.t_ndims_at[0]);
    FRESH(0);
    put_u64_at(&b, L.t_ne_at[0][1], 0);
    expect_reject("dimension 0", b.p, b.n, INGOT_E_FORMAT, "tensor 't0.weight' ne[1]",
                  (long long)L.t_ne_at[0][1]);
    FRESH(0);
    put_u64_at(&b, L.t_ne_at[0][0], (uint64_t)1 << 63);
    expect_reject("dimension negative as int64", b.p, b.n, INGOT_E_FORMAT,
                  "tensor 't0.weight' ne[0]", (long long)L.t_ne_at[0][0]);
    FRESH(0);
    put_u64_at(&b, L.t_ne_at[0][1], (uint64_t)1 << 60);
    expect_reject("element count overflow", b.p, b.n, INGOT_E_FORMAT, "tensor 't0.weight' ne[1]",
                  (long long)L.t_ne_at[0][1]);
    FRESH(0);
    put_u64_at(&b, L.t_ne_at[0][1], (uint64_t)1 << 40);
    expect_reject("tensor bigger than the file", b.p, b.n, INGOT_E_FORMAT, "tensor 't0.weight' ne",
                  (long long)L.t_ne_at[0][0]);
    FRESH(0);
    put_u32_at(&b, L.t_type_at[1], 99);
    expect_reject("unknown tensor type", b.p, b.n, INGOT_E_UNSUPPORTED, "tensor 't1.weight' type",
                  (long long)L.t_type_at[1]);
    put_u32_at(&b, L.t_type_at[1], 16); /* IQ2_XXS: real, not supported here */
    expect_reject("unsupported tensor type", b.p, b.n, INGOT_E_UNSUPPORTED,
                  "tensor 't1.weight' type", (long long)L.t_type_at[1]);
    FRESH(0);
    put_u64_at(&b, L.t_ne_at[1][0], 48);
    expect_reject("row not a multiple of the block", b.p, b.n, INGOT_E_FORMAT,
                  "tensor 't1.weight' ne[0]", (long long)L.t_ne_at[1][0]);
    FRESH(0);
    put_u64_at(&b, L.t_off_at[1], (uint64_t)1 << 40);
    expect_reject("tensor offset past EOF", b.p, b.n, INGOT_E_FORMAT, "tensor 't1.weight' offset",
                  (long long)L.t_off_at[1]);
    put_u64_at(&b, L.t_off_at[1], UINT64_MAX - 31);
    expect_reject("tensor offset wraps", b.p, b.n, INGOT_E_FORMAT, "tensor 't1.weight' offset",
                  (long long)L.t_off_at[1]);
    FRESH(0);
    put_u64_at(&b, L.t_ne_at[1][0], 64 * 4); /* 272 bytes: within the file, past its end */
    expect_reject("tensor size past EOF", b.p, b.n, INGOT_E_FORMAT, "tensor 't1.weight' offset",
                  (long long)L.t_off_at[1]);
    FRESH(0);
    put_u64_at(&b, L.t_off_at[1], 224);
    expect_reject("overlapping tensors", b.p, b.n, INGOT_E_FORMAT, "overlaps tensor 't0.weight'",
                  (long long)L.t_off_at[1]);
    put_u64_at(&b, L.t_off_at[1], 0);
    expect_reject("same offset", b.p, b.n, INGOT_E_FORMAT, "tensor 't1.weight' offset",
                  (long long)L.t_off_at[1]);
    FRESH(0);
    put_u64_at(&b, L.t_off_at[1], 260);
    expect_reject("misaligned offset", b.p, b.n, INGOT_E_FORMAT, "tensor 't1.weight' offset",
                  (long long)L.t_off_at[1]);
    FRESH(64);
    put_u64_at(&b, L.t_off_at[1], 288); /* aligned to 32, not to the file's 64 */
    expect_reject("misaligned offset (alignment 64)", b.p, b.n, INGOT_E_FORMAT,
                  "not a multiple of the alignment 64", (long long)L.t_off_at[1]);
    free(b.p);
#undef FRESH

    /* Arrays nested 20 deep. */
    tb d = {0};
    tb_raw(&d, "GGUF", 4);
    tb_u32(&d, 3);
    tb_u64(&d, 0);
    tb_u64(&d, 1);
    tb_str(&d, "deep");
    tb_u32(&d, INGOT_GGUF_ARRAY);
    for (int i = 0; i < 20; i++) {
        tb_u32(&d, INGOT_GGUF_ARRAY);
        tb_u64(&d, 1);
    }
    tb_u32(&d, INGOT_GGUF_UINT8);
    tb_u64(&d, 0);
    expect_reject("arrays nested 20 deep", d.p, d.n, INGOT_E_FORMAT, "nested deeper", -1);
    free(d.p);

    /* A broken element inside an array of arrays: nest.u32[2]'s count
     * (header 24 + key 16 + type 4 + elem type/count 12 + [0] 24 + [1] 12
     * + [2] type 4 = byte 96). */
    build_nested(&d);
    CHECK(le_u64_at(d.p, 96) == 1, "layout of the nested file");
    put_u64_at(&d, 96, (uint64_t)1 << 40);
    expect_reject("nested array count past EOF", d.p, d.n, INGOT_E_FORMAT,
                  "key #0 'nest.u32' value[2] array count", 96);
    put_u64_at(&d, 96, 1);
    put_u32_at(&d, 92, 77);
    expect_reject("nested array invalid type", d.p, d.n, INGOT_E_FORMAT,
                  "key #0 'nest.u32' value[2] array type", 92);
    free(d.p);

    ingot_gguf *g = (ingot_gguf *)1;
    ingot_error e = {0};
    CHECK_INT_EQ(ingot_gguf_open(tmp_path("does-not-exist.gguf"), true, &g, &e), INGOT_E_NOT_FOUND);
    CHECK(g == NULL && strstr(e.message, "does-not-exist.gguf"), "missing file: %s", e.message);
    CHECK_INT_EQ(ingot_gguf_open(tmpdir_, true, &g, &e), INGOT_E_IO);
}

/* A file with arrays of arrays, built by hand (the writer has no setter
 * for them; it copies them from a reader). */
static void build_nested(tb *b) {
    memset(b, 0, sizeof *b);
    tb_raw(b, "GGUF", 4);
    tb_u32(b, 3);
    tb_u64(b, 0);
    tb_u64(b, 5);
    tb_str(b, "nest.u32"); /* [[1,2,3],[],[4]] */
    tb_u32(b, INGOT_GGUF_ARRAY);
    tb_u32(b, INGOT_GGUF_ARRAY);
    tb_u64(b, 3);
    tb_u32(b, INGOT_GGUF_UINT32); tb_u64(b, 3); tb_u32(b, 1); tb_u32(b, 2); tb_u32(b, 3);
    tb_u32(b, INGOT_GGUF_UINT32); tb_u64(b, 0);
    tb_u32(b, INGOT_GGUF_UINT32); tb_u64(b, 1); tb_u32(b, 4);
    tb_str(b, "nest.str"); /* [["x","yz"],["w"]] */
    tb_u32(b, INGOT_GGUF_ARRAY);
    tb_u32(b, INGOT_GGUF_ARRAY);
    tb_u64(b, 2);
    tb_u32(b, INGOT_GGUF_STRING); tb_u64(b, 2); tb_str(b, "x"); tb_str(b, "yz");
    tb_u32(b, INGOT_GGUF_STRING); tb_u64(b, 1); tb_str(b, "w");
    tb_str(b, "nest.deep"); /* [[[5],[6,7]],[[]]] of int8 */
    tb_u32(b, INGOT_GGUF_ARRAY);
    tb_u32(b, INGOT_GGUF_ARRAY);
    tb_u64(b, 2);
    tb_u32(b, INGOT_GGUF_ARRAY); tb_u64(b, 2);
    tb_u32(b, INGOT_GGUF_INT8); tb_u64(b, 1); tb_raw(b, "\x05", 1);
    tb_u32(b, INGOT_GGUF_INT8); tb_u64(b, 2); tb_raw(b, "\x06\x07", 2);
    tb_u32(b, INGOT_GGUF_ARRAY); tb_u64(b, 1);
    tb_u32(b, INGOT_GGUF_INT8); tb_u64(b, 0);
    tb_str(b, "empty.arr_of_arr");
    tb_u32(b, INGOT_GGUF_ARRAY);
    tb_u32(b, INGOT_GGUF_ARRAY);
    tb_u64(b, 0);
    tb_str(b, "after");
    tb_u32(b, INGOT_GGUF_INT16);
    tb_raw(b, &(int16_t){-300}, 2);
}

static void check_nested(const ingot_gguf *g, const char *what) {
    int64_t k = ingot_gguf_find_key(g, "nest.u32");
    CHECK_INT_EQ(ingot_gguf_arr_type(g, k), INGOT_GGUF_ARRAY);
    CHECK_INT_EQ(ingot_gguf_arr_n(g, k), 3);
    CHECK(ingot_gguf_arr_data(g, k) == NULL, "%s: no raw data for arrays of arrays", what);
    int64_t s0 = ingot_gguf_arr_sub(g, k, 0), s1 = ingot_gguf_arr_sub(g, k, 1),
            s2 = ingot_gguf_arr_sub(g, k, 2);
    CHECK(s0 >= 0 && s1 >= 0 && s2 >= 0, "%s: sub ids", what);
    CHECK_INT_EQ(ingot_gguf_arr_sub(g, k, 3), -1);
    CHECK_INT_EQ(ingot_gguf_kv_type(g, s0), INGOT_GGUF_ARRAY);
    CHECK_INT_EQ(ingot_gguf_arr_type(g, s0), INGOT_GGUF_UINT32);
    CHECK_INT_EQ(ingot_gguf_arr_n(g, s0), 3);
    CHECK_INT_EQ(ingot_gguf_arr_n(g, s1), 0);
    CHECK_INT_EQ(ingot_gguf_arr_n(g, s2), 1);
    uint32_t v0[3] = {0}, v2 = 0;
    const void *p0 = ingot_gguf_arr_data(g, s0), *p2 = ingot_gguf_arr_data(g, s2);
    if (p0) memcpy(v0, p0, sizeof v0); /* array data is unaligned */
    if (p2) memcpy(&v2, p2, 4);
    CHECK(v0[0] == 1 && v0[1] == 2 && v0[2] == 3, "%s: [1,2,3]", what);
    CHECK(v2 == 4, "%s: [4]", what);
    int64_t x64 = 0;
    CHECK(ingot_gguf_arr_get_i64(g, s0, 2, &x64) && x64 == 3, "%s: arr_get_i64", what);
    CHECK(!ingot_gguf_arr_get_i64(g, s0, 3, &x64), "%s: arr_get_i64 out of range", what);
    CHECK(!ingot_gguf_arr_get_i64(g, k, 0, &x64), "%s: arr_get_i64 on arrays", what);
    CHECK(ingot_gguf_key(g, s0) == NULL, "%s: a sub id is not a key", what);

    k = ingot_gguf_find_key(g, "nest.str");
    int64_t t1 = ingot_gguf_arr_sub(g, k, 1);
    uint64_t len = 0;
    const char *s = ingot_gguf_arr_str(g, t1, 0, &len);
    CHECK(s && len == 1 && *s == 'w', "%s: nest.str[1][0]", what);
    s = ingot_gguf_arr_str(g, ingot_gguf_arr_sub(g, k, 0), 1, &len);
    CHECK(s && len == 2 && !memcmp(s, "yz", 2), "%s: nest.str[0][1]", what);

    k = ingot_gguf_find_key(g, "nest.deep");
    int64_t d0 = ingot_gguf_arr_sub(g, k, 0), d1 = ingot_gguf_arr_sub(g, k, 1);
    int64_t d01 = ingot_gguf_arr_sub(g, d0, 1), d10 = ingot_gguf_arr_sub(g, d1, 0);
    int64_t x0 = 0, x1 = 0;
    CHECK(ingot_gguf_arr_n(g, d01) == 2 && ingot_gguf_arr_get_i64(g, d01, 0, &x0) &&
              ingot_gguf_arr_get_i64(g, d01, 1, &x1) && x0 == 6 && x1 == 7, "%s: deep[0][1]", what);
    CHECK(ingot_gguf_arr_n(g, d10) == 0 && ingot_gguf_arr_type(g, d10) == INGOT_GGUF_INT8,
          "%s: deep[1][0]", what);
    k = ingot_gguf_find_key(g, "empty.arr_of_arr");
    CHECK(ingot_gguf_arr_n(g, k) == 0 && ingot_gguf_arr_sub(g, k, 0) == -1, "%s: empty", what);
    int32_t i32 = 0;
    CHECK(ingot_gguf_get_i32(g, "after", &i32) && i32 == -300, "%s: key after nested arrays", what);
    CHECK(ingot_gguf_kv_type(g, 1000000) == (ingot_gguf_vtype)-1, "%s: bad id has no type", what);
    CHECK(ingot_gguf_arr_type(g, -5) == (ingot_gguf_vtype)-1, "%s: bad id is no array", what);
    CHECK(ingot_gguf_arr_type(g, ingot_gguf_find_key(g, "after")) == (ingot_gguf_vtype)-1,
          "%s: a scalar is no array", what);
}

/* ---- writer ------------------------------------------------------------- */

static void fill_random(uint8_t *p, size_t n, uint32_t *seed) {
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        p[i] = (uint8_t)(*seed >> 24);
    }
}

/* Valid bytes for a tensor of type t: F16/BF16 from floats, quantized
 * blocks random (their scales are whatever; the bytes must round trip). */
typedef struct wt {
    const char *name;
    ingot_type type;
    int n_dims;
    int64_t ne[4];
    uint8_t *data;
    size_t nbytes;
} wt;

static void test_writer_roundtrip(size_t alignment) {
    uint32_t seed = 1234 + (uint32_t)alignment;
    wt ts[] = {
        {"a.f32", INGOT_TYPE_F32, 2, {8, 3, 1, 1}, NULL, 0},
        {"b.f16", INGOT_TYPE_F16, 1, {5, 1, 1, 1}, NULL, 0},
        {"c.bf16", INGOT_TYPE_BF16, 3, {2, 3, 4, 1}, NULL, 0},
        {"d.q8_0", INGOT_TYPE_Q8_0, 2, {64, 3, 1, 1}, NULL, 0},
        {"e.q4_k", INGOT_TYPE_Q4_K, 2, {512, 2, 1, 1}, NULL, 0},
        {"f.q6_k", INGOT_TYPE_Q6_K, 4, {256, 1, 2, 2}, NULL, 0},
        {"g.iq4_xs", INGOT_TYPE_IQ4_XS, 1, {256, 1, 1, 1}, NULL, 0},
    };
    size_t nt = sizeof ts / sizeof ts[0];
    ingot_gguf_writer *w = ingot_gguf_writer_new();
    CHECK(w != NULL, "writer_new");
    if (!w) return;
    if (alignment != 32) ingot_gguf_writer_set_alignment(w, alignment);
    for (size_t i = 0; i < nt; i++) {
        int64_t rows = ts[i].ne[1] * ts[i].ne[2] * ts[i].ne[3];
        ts[i].nbytes = ingot_type_row_size(ts[i].type, ts[i].ne[0]) * (size_t)rows;
        ts[i].data = malloc(ts[i].nbytes);
        fill_random(ts[i].data, ts[i].nbytes, &seed);
        CHECK_INT_EQ(ingot_gguf_writer_add_tensor(w, ts[i].name, ts[i].type, ts[i].n_dims, ts[i].ne,
                                                  ts[i].data), INGOT_OK);
    }
    /* Bad tensors are refused. */
    int64_t bad_ne[2] = {48, 1};
    CHECK_INT_EQ(ingot_gguf_writer_add_tensor(w, "bad", INGOT_TYPE_Q8_0, 2, bad_ne, ts[0].data),
                 INGOT_E_INVALID_ARG);
    CHECK_INT_EQ(ingot_gguf_writer_add_tensor(w, "a.f32", INGOT_TYPE_F32, 2, ts[0].ne, ts[0].data),
                 INGOT_E_INVALID_ARG);
    CHECK_INT_EQ(ingot_gguf_writer_add_tensor(w, "bad", (ingot_type)99, 2, ts[0].ne, ts[0].data),
                 INGOT_E_UNSUPPORTED);
    int64_t zero_ne[2] = {8, 0};
    CHECK_INT_EQ(ingot_gguf_writer_add_tensor(w, "bad", INGOT_TYPE_F32, 2, zero_ne, ts[0].data),
                 INGOT_E_INVALID_ARG);
    CHECK_INT_EQ(ingot_gguf_writer_add_tensor(w, "bad", INGOT_TYPE_F32, 5, ts[0].ne, ts[0].data),
                 INGOT_E_INVALID_ARG);

    /* Every scalar type. */
    uint8_t u8 = 200;
    int8_t i8 = -5;
    uint16_t u16 = 60000;
    int16_t i16 = -30000;
    int64_t i64 = -((int64_t)1 << 40);
    double f64 = 3.25;
    CHECK_INT_EQ(ingot_gguf_writer_set_scalar(w, "s.u8", INGOT_GGUF_UINT8, &u8), INGOT_OK);
    CHECK_INT_EQ(ingot_gguf_writer_set_scalar(w, "s.i8", INGOT_GGUF_INT8, &i8), INGOT_OK);
    CHECK_INT_EQ(ingot_gguf_writer_set_scalar(w, "s.u16", INGOT_GGUF_UINT16, &u16), INGOT_OK);
    CHECK_INT_EQ(ingot_gguf_writer_set_scalar(w, "s.i16", INGOT_GGUF_INT16, &i16), INGOT_OK);
    CHECK_INT_EQ(ingot_gguf_writer_set_u32(w, "s.u32", 0xffffffffu), INGOT_OK);
    CHECK_INT_EQ(ingot_gguf_writer_set_i32(w, "s.i32", -123456), INGOT_OK);
    CHECK_INT_EQ(ingot_gguf_writer_set_f32(w, "s.f32", 0.5f), INGOT_OK);
    CHECK_INT_EQ(ingot_gguf_writer_set_bool(w, "s.bool", true), INGOT_OK);
    CHECK_INT_EQ(ingot_gguf_writer_set_str(w, "s.str", "h\xc3\xa9llo"), INGOT_OK);
    CHECK_INT_EQ(ingot_gguf_writer_set_str(w, "s.empty", ""), INGOT_OK);
    CHECK_INT_EQ(ingot_gguf_writer_set_u64(w, "s.u64", (uint64_t)1 << 40), INGOT_OK);
    CHECK_INT_EQ(ingot_gguf_writer_set_scalar(w, "s.i64", INGOT_GGUF_INT64, &i64), INGOT_OK);
    CHECK_INT_EQ(ingot_gguf_writer_set_scalar(w, "s.f64", INGOT_GGUF_FLOAT64, &f64), INGOT_OK);
    CHECK_INT_EQ(ingot_gguf_writer_set_scalar(w, "s.bad", INGOT_GGUF_STRING, "x"),
                 INGOT_E_INVALID_ARG);
    /* Replacing keeps one key. */
    CHECK_INT_EQ(ingot_gguf_writer_set_str(w, "general.name", "first"), INGOT_OK);
    CHECK_INT_EQ(ingot_gguf_writer_set_str(w, "general.name", "second"), INGOT_OK);

    /* Arrays of every numeric type, bools, strings, empties. */
    uint8_t raw[8 * 7];
    fill_random(raw, sizeof raw, &seed);
    static const ingot_gguf_vtype numeric[] = {
        INGOT_GGUF_UINT8, INGOT_GGUF_INT8, INGOT_GGUF_UINT16, INGOT_GGUF_INT16,
        INGOT_GGUF_UINT32, INGOT_GGUF_INT32, INGOT_GGUF_FLOAT32, INGOT_GGUF_UINT64,
        INGOT_GGUF_INT64, INGOT_GGUF_FLOAT64};
    for (size_t i = 0; i < sizeof numeric / sizeof numeric[0]; i++) {
        char key[32];
        snprintf(key, sizeof key, "a.t%d", (int)numeric[i]);
        CHECK_INT_EQ(ingot_gguf_writer_set_arr(w, key, numeric[i], raw, 7), INGOT_OK);
    }
    bool bools[3] = {true, false, true};
    CHECK_INT_EQ(ingot_gguf_writer_set_arr(w, "a.bool", INGOT_GGUF_BOOL, bools, 3), INGOT_OK);
    CHECK_INT_EQ(ingot_gguf_writer_set_arr(w, "a.empty", INGOT_GGUF_FLOAT32, NULL, 0), INGOT_OK);
    CHECK_INT_EQ(ingot_gguf_writer_set_arr(w, "a.bad", INGOT_GGUF_STRING, raw, 1),
                 INGOT_E_INVALID_ARG);
    const char *strs[] = {"<unk>", "", "\xe2\x96\x81the", "a longer token with spaces"};
    CHECK_INT_EQ(ingot_gguf_writer_set_arr_str(w, "a.str", strs, 4), INGOT_OK);
    CHECK_INT_EQ(ingot_gguf_writer_set_arr_str(w, "a.str_empty", NULL, 0), INGOT_OK);

    /* Arrays of arrays, copied from a hand-built file. */
    tb nb;
    build_nested(&nb);
    const char *npath = tmp_path("nested.gguf");
    write_bytes(npath, nb.p, nb.n);
    free(nb.p);
    ingot_gguf *ng = NULL;
    ingot_error e = {0};
    CHECK(ingot_gguf_open(npath, true, &ng, &e) == INGOT_OK, "nested: %s", e.message);
    if (ng) {
        check_nested(ng, "hand-built");
        for (int64_t k = 0; k < ingot_gguf_n_kv(ng); k++)
            CHECK_INT_EQ(ingot_gguf_writer_copy_kv(w, ng, k), INGOT_OK);
        CHECK_INT_EQ(ingot_gguf_writer_copy_kv(w, ng, ingot_gguf_n_kv(ng)), INGOT_E_INVALID_ARG);
    }

    char name[64];
    snprintf(name, sizeof name, "rt-%zu.gguf", alignment);
    const char *path = tmp_path(name);
    CHECK(ingot_gguf_writer_write(w, path, &e) == INGOT_OK, "write: %s", e.message);
    ingot_gguf_writer_free(w);

    ingot_gguf *g = NULL;
    CHECK(ingot_gguf_open(path, alignment == 32, &g, &e) == INGOT_OK, "reopen: %s", e.message);
    if (g) {
        CHECK_INT_EQ(ingot_gguf_alignment(g), alignment);
        CHECK_INT_EQ(ingot_gguf_data_offset(g) % alignment, 0);
        CHECK_INT_EQ(ingot_gguf_n_kv(g), 13 + 1 + 12 + 2 + 5 + (alignment != 32));
        uint32_t u32;
        int32_t i32;
        uint64_t v64;
        int64_t s64;
        float f32;
        double d;
        bool bv;
        CHECK(ingot_gguf_get_u32(g, "s.u8", &u32) && u32 == 200, "u8 -> u32");
        CHECK(!ingot_gguf_get_u32(g, "s.i8", &u32), "-5 does not fit u32");
        CHECK(ingot_gguf_get_i32(g, "s.i8", &i32) && i32 == -5, "i8 -> i32");
        CHECK(ingot_gguf_get_u32(g, "s.u16", &u32) && u32 == 60000, "u16");
        CHECK(ingot_gguf_get_i32(g, "s.i16", &i32) && i32 == -30000, "i16");
        CHECK(ingot_gguf_get_u32(g, "s.u32", &u32) && u32 == 0xffffffffu, "u32");
        CHECK(!ingot_gguf_get_i32(g, "s.u32", &i32), "u32 max does not fit i32");
        CHECK(ingot_gguf_get_i64(g, "s.u32", &s64) && s64 == 0xffffffffll, "u32 -> i64");
        CHECK(ingot_gguf_get_i32(g, "s.i32", &i32) && i32 == -123456, "i32");
        CHECK(ingot_gguf_get_f32(g, "s.f32", &f32) && f32 == 0.5f, "f32");
        CHECK(ingot_gguf_get_f64(g, "s.f32", &d) && d == 0.5, "f32 -> f64");
        CHECK(ingot_gguf_get_bool(g, "s.bool", &bv) && bv, "bool");
        CHECK(!ingot_gguf_get_bool(g, "s.u8", &bv), "u8 is not a bool");
        CHECK_STR_EQ(ingot_gguf_get_str(g, "s.str"), "h\xc3\xa9llo");
        CHECK_STR_EQ(ingot_gguf_get_str(g, "s.empty"), "");
        CHECK_STR_EQ(ingot_gguf_get_str(g, "general.name"), "second");
        CHECK(ingot_gguf_get_u64(g, "s.u64", &v64) && v64 == (uint64_t)1 << 40, "u64");
        CHECK(!ingot_gguf_get_u32(g, "s.u64", &u32), "2^40 does not fit u32");
        CHECK(ingot_gguf_get_i64(g, "s.i64", &s64) && s64 == i64, "i64");
        CHECK(!ingot_gguf_get_u64(g, "s.i64", &v64), "negative is not u64");
        CHECK(ingot_gguf_get_f64(g, "s.f64", &d) && d == 3.25, "f64");
        CHECK(ingot_gguf_get_f32(g, "s.f64", &f32) && f32 == 3.25f, "f64 -> f32");
        for (size_t i = 0; i < sizeof numeric / sizeof numeric[0]; i++) {
            char key[32];
            snprintf(key, sizeof key, "a.t%d", (int)numeric[i]);
            int64_t k = ingot_gguf_find_key(g, key);
            size_t esz = numeric[i] <= INGOT_GGUF_INT8 ? 1 : numeric[i] <= INGOT_GGUF_INT16 ? 2
                       : numeric[i] <= INGOT_GGUF_FLOAT32 ? 4 : 8;
            const void *p = ingot_gguf_arr_data(g, k);
            CHECK(ingot_gguf_arr_type(g, k) == numeric[i] && ingot_gguf_arr_n(g, k) == 7 && p &&
                      memcmp(p, raw, 7 * esz) == 0, "array %s", key);
        }
        int64_t k = ingot_gguf_find_key(g, "a.bool");
        const uint8_t *bb = ingot_gguf_arr_data(g, k);
        CHECK(ingot_gguf_arr_n(g, k) == 3 && bb && bb[0] == 1 && bb[1] == 0 && bb[2] == 1, "bools");
        k = ingot_gguf_find_key(g, "a.empty");
        CHECK(ingot_gguf_arr_type(g, k) == INGOT_GGUF_FLOAT32 && ingot_gguf_arr_n(g, k) == 0,
              "empty array");
        k = ingot_gguf_find_key(g, "a.str");
        CHECK_INT_EQ(ingot_gguf_arr_n(g, k), 4);
        for (uint64_t i = 0; i < 4; i++) {
            uint64_t len = 99;
            const char *s = ingot_gguf_arr_str(g, k, i, &len);
            CHECK(s && len == strlen(strs[i]) && memcmp(s, strs[i], len) == 0, "a.str[%d]", (int)i);
        }
        CHECK_INT_EQ(ingot_gguf_arr_n(g, ingot_gguf_find_key(g, "a.str_empty")), 0);
        check_nested(g, "written");
        /* Copied keys are byte-identical to the source. */
        for (int64_t j = 0; ng && j < ingot_gguf_n_kv(ng); j++) {
            size_t l1 = 0, l2 = 0;
            const void *r1 = ingot_gguf_kv_raw(ng, j, &l1);
            const void *r2 = ingot_gguf_kv_raw(g, ingot_gguf_find_key(g, ingot_gguf_key(ng, j)), &l2);
            CHECK(r1 && r2 && l1 == l2 && memcmp(r1, r2, l1) == 0, "copied %s", ingot_gguf_key(ng, j));
        }

        CHECK_INT_EQ(ingot_gguf_n_tensors(g), nt);
        for (size_t i = 0; i < nt; i++) {
            const ingot_gguf_tensor *t = ingot_gguf_tensor_at(g, (int64_t)i);
            CHECK(t && !strcmp(t->name, ts[i].name) && t->type == ts[i].type &&
                      t->n_dims == ts[i].n_dims && !memcmp(t->ne, ts[i].ne, sizeof t->ne) &&
                      t->nbytes == ts[i].nbytes && !memcmp(t->data, ts[i].data, t->nbytes),
                  "tensor %s round trip", ts[i].name);
            CHECK(t && t->offset % alignment == 0, "tensor %s aligned", ts[i].name);
        }
        ingot_gguf_close(g);
    }
    ingot_gguf_close(ng);
    unlink(npath);
    unlink(path);
    for (size_t i = 0; i < nt; i++) free(ts[i].data);
}

/* Copies every key and tensor of a fixture; the copy must read back the
 * same (and, both being written the gguf-py way, be the same bytes). */
static void test_copy_fixture(const char *rel) {
    ingot_gguf *src = NULL, *cp = NULL;
    ingot_error e = {0};
    CHECK(ingot_gguf_open(test_fixture(rel), true, &src, &e) == INGOT_OK, "%s", e.message);
    if (!src) return;
    ingot_gguf_writer *w = ingot_gguf_writer_new();
    for (int64_t k = 0; k < ingot_gguf_n_kv(src); k++)
        CHECK_INT_EQ(ingot_gguf_writer_copy_kv(w, src, k), INGOT_OK);
    for (int64_t i = 0; i < ingot_gguf_n_tensors(src); i++) {
        const ingot_gguf_tensor *t = ingot_gguf_tensor_at(src, i);
        CHECK_INT_EQ(ingot_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data),
                     INGOT_OK);
    }
    const char *path = tmp_path("copy.gguf");
    CHECK(ingot_gguf_writer_write(w, path, &e) == INGOT_OK, "write copy: %s", e.message);
    ingot_gguf_writer_free(w);
    CHECK(ingot_gguf_open(path, false, &cp, &e) == INGOT_OK, "open copy: %s", e.message);
    if (cp) {
        CHECK_INT_EQ(ingot_gguf_n_kv(cp), ingot_gguf_n_kv(src));
        CHECK_INT_EQ(ingot_gguf_n_tensors(cp), ingot_gguf_n_tensors(src));
        for (int64_t k = 0; k < ingot_gguf_n_kv(src); k++) {
            size_t l1 = 0, l2 = 0;
            const void *r1 = ingot_gguf_kv_raw(src, k, &l1), *r2 = ingot_gguf_kv_raw(cp, k, &l2);
            CHECK(!strcmp(ingot_gguf_key(src, k), ingot_gguf_key(cp, k)) && l1 == l2 &&
                      !memcmp(r1, r2, l1), "%s: key %s", rel, ingot_gguf_key(src, k));
        }
        for (int64_t i = 0; i < ingot_gguf_n_tensors(src); i++) {
            const ingot_gguf_tensor *a = ingot_gguf_tensor_at(src, i), *b = ingot_gguf_tensor_at(cp, i);
            CHECK(!strcmp(a->name, b->name) && a->type == b->type && a->n_dims == b->n_dims &&
                      !memcmp(a->ne, b->ne, sizeof a->ne) && a->nbytes == b->nbytes &&
                      a->offset == b->offset && !memcmp(a->data, b->data, a->nbytes),
                  "%s: tensor %s", rel, a->name);
        }
        size_t n1 = 0, n2 = 0;
        uint8_t *f1 = test_read_file(test_fixture(rel), &n1), *f2 = test_read_file(path, &n2);
        CHECK(f1 && f2 && n1 == n2 && !memcmp(f1, f2, n1), "%s: copy is byte-identical (%zu vs %zu)",
              rel, n1, n2);
        free(f1);
        free(f2);
        ingot_gguf_close(cp);
    }
    ingot_gguf_close(src);
    unlink(path);
}

/* general.alignment copied from a reader decides the copy's alignment;
 * set_alignment overrides it and rewrites the key. */
static void test_copy_alignment(void) {
    tb b;
    layout L;
    build_base(&b, &L, 64);
    const char *src_path = tmp_path("al64.gguf");
    write_bytes(src_path, b.p, b.n);
    free(b.p);
    ingot_gguf *src = NULL;
    ingot_error e = {0};
    CHECK(ingot_gguf_open(src_path, true, &src, &e) == INGOT_OK, "%s", e.message);
    if (!src) return;
    for (int pass = 0; pass < 2; pass++) {
        ingot_gguf_writer *w = ingot_gguf_writer_new();
        if (pass == 1) ingot_gguf_writer_set_alignment(w, 128);
        for (int64_t k = 0; k < ingot_gguf_n_kv(src); k++) ingot_gguf_writer_copy_kv(w, src, k);
        for (int64_t i = 0; i < ingot_gguf_n_tensors(src); i++) {
            const ingot_gguf_tensor *t = ingot_gguf_tensor_at(src, i);
            ingot_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data);
        }
        const char *path = tmp_path("al-copy.gguf");
        CHECK(ingot_gguf_writer_write(w, path, &e) == INGOT_OK, "%s", e.message);
        ingot_gguf_writer_free(w);
        ingot_gguf *g = NULL;
        CHECK(ingot_gguf_open(path, true, &g, &e) == INGOT_OK, "%s", e.message);
        if (g) {
            uint32_t a = 0;
            size_t want = pass ? 128 : 64;
            CHECK_INT_EQ(ingot_gguf_alignment(g), want);
            CHECK(ingot_gguf_get_u32(g, "general.alignment", &a) && a == want, "key %u", a);
            CHECK_INT_EQ(ingot_gguf_n_kv(g), ingot_gguf_n_kv(src));
            const ingot_gguf_tensor *t1 = ingot_gguf_find_tensor(g, "t1.weight");
            CHECK(t1 && t1->offset == 256 && t1->offset % want == 0 &&
                      !memcmp(t1->data, ingot_gguf_find_tensor(src, "t1.weight")->data, 68),
                  "t1 at %llu", t1 ? (unsigned long long)t1->offset : 0ull);
            CHECK_INT_EQ(ingot_gguf_data_offset(g) % want, 0);
        }
        ingot_gguf_close(g);
        unlink(path);
    }
    ingot_gguf_close(src);
    unlink(src_path);
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void test_atomic_write(void) {
    ingot_gguf_writer *w = ingot_gguf_writer_new();
    ingot_error e = {0};
    float data[32] = {1, 2, 3};
    int64_t ne[1] = {32};
    ingot_gguf_writer_set_str(w, "general.architecture", "llama");
    ingot_gguf_writer_add_tensor(w, "x", INGOT_TYPE_F32, 1, ne, data);

    int before = count_entries(tmpdir_);
    const char *bad = tmp_path("no/such/dir/out.gguf");
    CHECK_INT_EQ(ingot_gguf_writer_write(w, bad, &e), INGOT_E_IO);
    CHECK(strstr(e.message, "out.gguf") != NULL, "message names the path: %s", e.message);
    CHECK(access(bad, F_OK) != 0, "nothing at the path");
    CHECK_INT_EQ(count_entries(tmpdir_), before);

    /* A directory at the target: the rename fails, the temp file goes. */
    const char *dirpath = tmp_path("target-is-a-dir");
    mkdir(dirpath, 0755);
    before = count_entries(tmpdir_);
    CHECK_INT_EQ(ingot_gguf_writer_write(w, dirpath, &e), INGOT_E_IO);
    CHECK_INT_EQ(count_entries(tmpdir_), before);
    rmdir(dirpath);

    /* A failed write leaves an existing file untouched. */
    const char *path = tmp_path("keep.gguf");
    CHECK_INT_EQ(ingot_gguf_writer_write(w, path, &e), INGOT_OK);
    size_t n1 = 0, n2 = 0;
    uint8_t *f1 = test_read_file(path, &n1);
    before = count_entries(tmpdir_);
    ingot_gguf_writer_set_alignment(w, 48);
    CHECK_INT_EQ(ingot_gguf_writer_write(w, path, &e), INGOT_E_INVALID_ARG);
    CHECK(strstr(e.message, "alignment") != NULL, "%s", e.message);
    uint8_t *f2 = test_read_file(path, &n2);
    CHECK(f1 && f2 && n1 == n2 && !memcmp(f1, f2, n1), "old file kept");
    CHECK_INT_EQ(count_entries(tmpdir_), before);
    free(f1);
    free(f2);
    /* And an alignment set back to the default writes no key. */
    ingot_gguf_writer_set_alignment(w, 32);
    CHECK_INT_EQ(ingot_gguf_writer_write(w, path, &e), INGOT_OK);
    ingot_gguf *g = NULL;
    CHECK_INT_EQ(ingot_gguf_open(path, true, &g, &e), INGOT_OK);
    if (g) CHECK_INT_EQ(ingot_gguf_find_key(g, "general.alignment"), -1);
    ingot_gguf_close(g);
    unlink(path);
    ingot_gguf_writer_free(w);
    ingot_gguf_writer_free(NULL);
    ingot_gguf_close(NULL);
}

/* ---- mutation fuzz ------------------------------------------------------ */

static uint32_t rng(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Reads everything an opened file offers, so that the sanitizer sees any
 * pointer that escaped the validation. */
static unsigned touch_all(const ingot_gguf *g) {
    unsigned acc = 0;
    for (int64_t k = 0; k < ingot_gguf_n_kv(g); k++) {
        const char *key = ingot_gguf_key(g, k);
        acc += (unsigned)strlen(key);
        uint64_t u; double d; bool b;
        acc += ingot_gguf_get_u64(g, key, &u) + ingot_gguf_get_f64(g, key, &d) +
               ingot_gguf_get_bool(g, key, &b);
        const char *s = ingot_gguf_get_str(g, key);
        if (s) acc += (unsigned)strlen(s);
        /* Walk arrays, nested ones included, with an explicit stack. */
        int64_t stack[64];
        int sp = 0;
        stack[sp++] = k;
        while (sp) {
            int64_t id = stack[--sp];
            uint64_t n = ingot_gguf_arr_n(g, id);
            ingot_gguf_vtype et = ingot_gguf_arr_type(g, id);
            const uint8_t *p = ingot_gguf_arr_data(g, id);
            for (uint64_t i = 0; i < n; i++) {
                if (et == INGOT_GGUF_STRING) {
                    uint64_t len = 0;
                    const char *str = ingot_gguf_arr_str(g, id, i, &len);
                    if (str && len) acc += (uint8_t)str[len - 1];
                } else if (et == INGOT_GGUF_ARRAY) {
                    if (sp < 64) stack[sp++] = ingot_gguf_arr_sub(g, id, i);
                } else if (p) {
                    acc += p[i];
                }
            }
        }
    }
    for (int64_t i = 0; i < ingot_gguf_n_tensors(g); i++) {
        const ingot_gguf_tensor *t = ingot_gguf_tensor_at(g, i);
        const uint8_t *p = t->data;
        acc += p[0] + p[t->nbytes - 1] + (unsigned)strlen(t->name);
        acc += ingot_gguf_find_tensor(g, t->name) == t;
    }
    return acc;
}

static void test_fuzz(int iterations) {
    /* The seed file: the hand-built keys, nested arrays and three tensors. */
    tb nb;
    build_nested(&nb);
    const char *npath = tmp_path("fuzz-nested.gguf");
    write_bytes(npath, nb.p, nb.n);
    free(nb.p);
    ingot_gguf *ng = NULL;
    ingot_error e = {0};
    ingot_gguf_open(npath, true, &ng, &e);
    ingot_gguf_writer *w = ingot_gguf_writer_new();
    for (int64_t k = 0; ng && k < ingot_gguf_n_kv(ng); k++) ingot_gguf_writer_copy_kv(w, ng, k);
    const char *strs[] = {"a", "bb", "ccc"};
    ingot_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", strs, 3);
    ingot_gguf_writer_set_str(w, "general.architecture", "llama");
    ingot_gguf_writer_set_u32(w, "general.alignment", 32);
    uint8_t data[34 * 2 + 64 * 4];
    uint32_t seed = 99;
    fill_random(data, sizeof data, &seed);
    int64_t ne1[2] = {32, 2}, ne2[1] = {64}, ne3[2] = {16, 2};
    ingot_gguf_writer_add_tensor(w, "q", INGOT_TYPE_Q8_0, 2, ne1, data);
    ingot_gguf_writer_add_tensor(w, "f", INGOT_TYPE_F32, 1, ne2, data);
    ingot_gguf_writer_add_tensor(w, "h", INGOT_TYPE_F16, 2, ne3, data);
    const char *seedpath = tmp_path("fuzz-seed.gguf");
    CHECK(ingot_gguf_writer_write(w, seedpath, &e) == INGOT_OK, "fuzz seed: %s", e.message);
    ingot_gguf_writer_free(w);
    ingot_gguf_close(ng);
    unlink(npath);
    size_t n = 0;
    uint8_t *orig = test_read_file(seedpath, &n);
    unlink(seedpath);
    if (!orig) return;
    ingot_gguf *g = NULL;
    const char *path = tmp_path("fuzz.gguf");
    write_bytes(path, orig, n);
    CHECK(ingot_gguf_open(path, true, &g, &e) == INGOT_OK, "fuzz seed opens: %s", e.message);
    size_t header = g ? (size_t)ingot_gguf_data_offset(g) : n;
    ingot_gguf_close(g);

    uint8_t *m = malloc(n);
    const char *fs = getenv("INGOT_GGUF_FUZZ_SEED");
    uint32_t r = fs && strtoul(fs, NULL, 0) ? (uint32_t)strtoul(fs, NULL, 0) : 0x2545f491u;
    int opened = 0, rejected = 0, bad_messages = 0;
    static const uint64_t interesting[] = {0, 1, 2, 3, 4, 31, 32, 33, 255, 256, 0x7fffffff,
                                           0xffffffff, 0x100000000ull, (uint64_t)1 << 62,
                                           UINT64_MAX, UINT64_MAX - 7};
    for (int it = 0; it < iterations; it++) {
        memcpy(m, orig, n);
        size_t len = n;
        uint32_t kind = rng(&r) % 10;
        if (kind < 5) { /* flip 1-4 bytes, mostly in the header */
            int k = 1 + (int)(rng(&r) % 4);
            for (int j = 0; j < k; j++) {
                size_t at = rng(&r) % 8 ? rng(&r) % header : rng(&r) % n;
                m[at] ^= (uint8_t)(1u << (rng(&r) % 8));
            }
        } else if (kind < 8) { /* an interesting number at a random place */
            size_t at = rng(&r) % (header - 8);
            uint64_t v = interesting[rng(&r) % (sizeof interesting / sizeof interesting[0])];
            memcpy(m + at, &v, rng(&r) % 2 ? 8 : 4);
        } else { /* truncate */
            len = rng(&r) % n;
        }
        write_bytes(path, m, len);
        g = NULL;
        e.message[0] = 0;
        ingot_status s = ingot_gguf_open(path, it % 2 == 0, &g, &e);
        if (s == INGOT_OK) {
            opened++;
            (void)touch_all(g);
            ingot_gguf_close(g);
        } else {
            rejected++;
            if (!strstr(e.message, path) || (s != INGOT_E_FORMAT && s != INGOT_E_UNSUPPORTED))
                bad_messages++, fprintf(stderr, "fuzz %d: status %d: %s\n", it, (int)s, e.message);
        }
    }
    printf("fuzz: %d iterations, %d opened, %d rejected\n", iterations, opened, rejected);
    CHECK_INT_EQ(opened + rejected, iterations);
    CHECK(rejected > iterations / 4, "most mutations are caught (%d)", rejected);
    CHECK_INT_EQ(bad_messages, 0);
    free(m);
    free(orig);
    unlink(path);
}

int main(void) {
    (void)test_fixture("models"); /* exits before creating anything if missing */
    tmpdir_ = test_tmpdir();
    if (!tmpdir_) { fprintf(stderr, "cannot create a temp dir\n"); return 2; }
    test_base_is_valid();
    test_broken_catalogue();
    test_writer_roundtrip(32);
    test_writer_roundtrip(64);
    test_copy_fixture("models/real/stories260K.gguf");
    test_copy_fixture("models/synthetic/llama-Q4_K_M.gguf");
    test_copy_alignment();
    test_atomic_write();
    /* INGOT_GGUF_FUZZ=N runs a longer fuzz (by hand, under the sanitizers). */
    const char *fz = getenv("INGOT_GGUF_FUZZ");
    test_fuzz(fz && atoi(fz) > 0 ? atoi(fz) : 2000);
    test_stories260k(true);
    test_stories260k(false);
    int n = 0;
    test_fixture_dir("models/synthetic", &n);
    CHECK_INT_EQ(n, 2 * 24);
    n = 0;
    test_fixture_dir("tokenizers/gguf-vocab", &n);
    CHECK_INT_EQ(n, 2 * 6);
    rmdir(tmpdir_);
    TEST_END();
}
