/* Tokenizer tests against references ingot did not write: every .inp/.out
 * pair of llama.cpp's vocab tests (ids from Hugging Face tokenizers), the
 * transformers.js ids of hf/{qwen3,llama3,gemma3}/expected.json, and
 * stories260K's documented prompt ids. Plus decode(encode(s)) == s, the
 * streaming decoder on split characters, and bad input. */
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>
#include <utf8proc.h>

#include "format/gguf.h"
#include "ingot.h"
#include "test.h"
#include "tokenizer/tokenizer.h"

static ingot_tokenizer *load(const char *rel) {
    ingot_error err = {0};
    ingot_tokenizer *t = NULL;
    ingot_status st = ingot_tokenizer_load(test_fixture(rel), &t, &err);
    CHECK(st == INGOT_OK && t, "load %s: %s", rel, err.message);
    return t;
}

static void print_ids(const char *label, const int32_t *v, int32_t n) {
    fprintf(stderr, "  %s:", label);
    for (int32_t i = 0; i < n && i < 64; i++) fprintf(stderr, " %d", v[i]);
    fprintf(stderr, "\n");
}

/* Encodes text (no BOS) and compares with want; reports the first
 * mismatches with context. Returns true on equality. */
static bool expect_ids(const ingot_tokenizer *t, const char *name, const char *text, size_t len, const int32_t *want,
                       int32_t n_want, bool parse_special) {
    int32_t *ids = NULL, n = 0;
    ingot_error err = {0};
    ingot_status st = ingot_tokenize(t, text, len, false, parse_special, &ids, &n, &err);
    bool ok = st == INGOT_OK && n == n_want && (n == 0 || !memcmp(ids, want, (size_t)n * sizeof *ids));
    CHECK(ok, "%s: ids differ for \"%.*s\" (%s)", name, (int)(len > 80 ? 80 : len), text, err.message);
    if (!ok) {
        print_ids("got ", ids, n);
        print_ids("want", want, n_want);
    }
    free(ids);
    return ok;
}

/* ---- llama.cpp .inp/.out pairs ------------------------------------------ */

static int32_t parse_line(const char *s, size_t n, int32_t *out, int32_t cap) {
    int32_t k = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && s[i] == ' ') i++;
        if (i >= n) break;
        long v = strtol(s + i, NULL, 10);
        if (k < cap) out[k] = (int32_t)v;
        k++;
        while (i < n && s[i] != ' ') i++;
    }
    return k;
}

static void check_pairs(const ingot_tokenizer *t, const char *label, const char *stem) {
    if (!t) return;
    char inp_rel[256], out_rel[256];
    snprintf(inp_rel, sizeof inp_rel, "tokenizers/gguf-vocab/ggml-vocab-%s.gguf.inp", stem);
    snprintf(out_rel, sizeof out_rel, "tokenizers/gguf-vocab/ggml-vocab-%s.gguf.out", stem);
    size_t ni = 0, no = 0;
    char *inp = test_read_file(test_fixture(inp_rel), &ni);
    char *out = test_read_file(test_fixture(out_rel), &no);
    CHECK(inp && out, "%s: cannot read the pair files", label);
    if (!inp || !out) {
        free(inp);
        free(out);
        return;
    }
    const char *sep = "\n__ggml_vocab_test__\n";
    size_t sl = strlen(sep);
    const char *p = inp, *end = inp + ni, *o = out, *oend = out + no;
    int cases = 0, good = 0;
    int32_t want[4096];
    while (p < end) {
        const char *q = memmem(p, (size_t)(end - p), sep, sl);
        if (!q) break;
        const char *ol = memchr(o, '\n', (size_t)(oend - o));
        if (!ol) ol = oend;
        int32_t nw = parse_line(o, (size_t)(ol - o), want, 4096);
        cases++;
        good += expect_ids(t, label, p, (size_t)(q - p), want, nw, true);
        p = q + sl;
        o = ol < oend ? ol + 1 : oend;
    }
    CHECK(cases >= 40, "%s: only %d cases read", label, cases);
    fprintf(stderr, "%s: %d/%d\n", label, good, cases);
    free(inp);
    free(out);
}

/* ---- expected.json --------------------------------------------------------- */

static void check_expected(const ingot_tokenizer *t, const char *name) {
    if (!t) return;
    char rel[256];
    snprintf(rel, sizeof rel, "tokenizers/hf/%s/expected.json", name);
    json_error_t je;
    json_t *j = json_load_file(test_fixture(rel), 0, &je);
    CHECK(j != NULL, "%s: %s", rel, je.text);
    if (!j) return;
    json_t *cases = json_object_get(j, "cases");
    size_t i;
    json_t *c;
    int good = 0;
    json_array_foreach(cases, i, c) {
        json_t *ids = json_object_get(c, "ids");
        int32_t want[4096];
        int32_t n = 0;
        size_t k;
        json_t *v;
        json_array_foreach(ids, k, v) if (n < 4096) want[n++] = (int32_t)json_integer_value(v);
        json_t *text = json_object_get(c, "text");
        good += expect_ids(t, name, json_string_value(text), json_string_length(text), want, n, true);
    }
    CHECK(json_array_size(cases) >= 20, "%s: only %zu cases", name, json_array_size(cases));
    fprintf(stderr, "%s expected.json: %d/%zu\n", name, good, json_array_size(cases));
    json_decref(j);
}

/* ---- round trips and streaming ---------------------------------------------- */

static bool is_nfc(const char *s, size_t n) {
    utf8proc_uint8_t *d = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &d,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    bool same = r == (utf8proc_ssize_t)n && !memcmp(d, s, n);
    free(d);
    return same;
}

static bool valid_utf8(const char *s, size_t n) {
    utf8proc_int32_t cp;
    size_t i = 0;
    while (i < n) {
        utf8proc_ssize_t l = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (l <= 0) return false;
        i += (size_t)l;
    }
    return true;
}

/* decode(encode(s)) == s, and the stream yields the same text in valid
 * UTF-8 pieces. */
static void check_roundtrip(const ingot_tokenizer *t, const char *name, const char *s, size_t n, bool nfc_only,
                            bool parse_special) {
    if (nfc_only && !is_nfc(s, n)) return;
    int32_t *ids = NULL, nids = 0;
    char *back = NULL;
    size_t blen = 0;
    ingot_error err = {0};
    CHECK_INT_EQ(ingot_tokenize(t, s, n, false, parse_special, &ids, &nids, &err), INGOT_OK);
    CHECK_INT_EQ(ingot_detokenize(t, ids, (size_t)nids, true, &back, &blen, &err), INGOT_OK);
    CHECK(back && blen == n && !memcmp(back, s, n), "%s: round trip of \"%.*s\" gave \"%s\"", name,
          (int)(n > 60 ? 60 : n), s, back ? back : "(null)");
    ingot_detok_stream *ds = NULL;
    CHECK_INT_EQ(ingot_detok_stream_new(t, true, &ds, &err), INGOT_OK);
    char *acc = malloc(blen + 64);
    size_t alen = 0;
    bool pieces_valid = true;
    for (int32_t i = 0; i < nids && ds; i++) {
        const char *piece;
        size_t pl;
        if (ingot_detok_stream_push(ds, ids[i], &piece, &pl, &err) != INGOT_OK) break;
        pieces_valid = pieces_valid && valid_utf8(piece, pl);
        if (alen + pl <= blen + 32) memcpy(acc + alen, piece, pl);
        alen += pl;
    }
    const char *piece;
    size_t pl;
    if (ds) ingot_detok_stream_flush(ds, &piece, &pl);
    else pl = 0, piece = "";
    if (alen + pl <= blen + 32) memcpy(acc + alen, piece, pl);
    alen += pl;
    CHECK(pieces_valid, "%s: the stream emitted broken UTF-8", name);
    CHECK(alen == blen && !memcmp(acc, back, blen), "%s: the stream differs from ingot_detokenize for \"%.*s\"", name,
          (int)(n > 60 ? 60 : n), s);
    free(acc);
    ingot_detok_stream_free(ds);
    free(ids);
    free(back);
}

/* parse_special=false where special tokens written in the text would
 * break the round trip: a SentencePiece model from GGUF prefixes a space
 * to the text after each special token, as llama.cpp does. */
static void check_corpus_roundtrips(const ingot_tokenizer *t, const char *name, bool nfc_only, bool parse_special) {
    if (!t) return;
    json_error_t je;
    json_t *j = json_load_file(test_fixture("tokenizers/corpus.json"), 0, &je);
    CHECK(j != NULL, "corpus.json: %s", je.text);
    size_t i;
    json_t *v;
    json_array_foreach(j, i, v) check_roundtrip(t, name, json_string_value(v), json_string_length(v), nfc_only, parse_special);
    json_decref(j);
}

/* A small but complete tokenizer.json, cut at every byte: each prefix is
 * refused with a format error, never a crash; the whole file loads. */
static void check_truncations(void) {
    const char *doc =
        "{\"version\":\"1.0\",\"added_tokens\":[{\"id\":6,\"content\":\"<|end|>\",\"special\":true,"
        "\"normalized\":false}],\"normalizer\":{\"type\":\"NFC\"},"
        "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":"
        "{\"Regex\":\" ?\\\\p{L}+|\\\\s+\"},\"behavior\":\"Isolated\",\"invert\":false},"
        "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":false}]},"
        "\"decoder\":{\"type\":\"ByteLevel\"},"
        "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,\"\\u0120\":3,\"\\u0120ab\":4,\"c\\\"\":5},"
        "\"merges\":[\"a b\",[\"\\u0120\",\"ab\"]]}}";
    const char *dir = test_tmpdir();
    char p[512];
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    size_t n = strlen(doc);
    int refused = 0;
    for (size_t cut = 0; cut <= n; cut++) {
        FILE *f = fopen(p, "wb");
        fwrite(doc, 1, cut, f);
        fclose(f);
        ingot_tokenizer *t = NULL;
        ingot_error err = {0};
        ingot_status st = ingot_tokenizer_load(p, &t, &err);
        if (cut < n) {
            refused += st == INGOT_E_FORMAT && t == NULL;
        } else {
            CHECK(st == INGOT_OK, "whole mini tokenizer.json: %s", err.message);
            if (t) {
                int32_t want[] = {2, 4, 6};
                expect_ids(t, "mini", "ab ab<|end|>", 12, want, 3, true);
            }
        }
        ingot_tokenizer_free(t);
    }
    CHECK(refused == (int)n, "%d of %zu truncations refused with a format error", refused, n);
    remove(p);
    rmdir(dir);
}

/* GGUF vocabularies written here to reach the loader's error paths. */
static ingot_status write_vocab_gguf(const char *path, const char *model, const char *pre, int n_tokens,
                                     int n_scores) {
    ingot_gguf_writer *w = ingot_gguf_writer_new();
    const char *toks[] = {"<unk>", "<s>", "</s>", "a", "b", "ab"};
    float scores[6] = {0, 0, 0, -1, -2, -0.5f};
    int32_t types[6] = {2, 3, 3, 1, 1, 1};
    if (model) ingot_gguf_writer_set_str(w, "tokenizer.ggml.model", model);
    if (pre) ingot_gguf_writer_set_str(w, "tokenizer.ggml.pre", pre);
    if (n_tokens) ingot_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, (uint64_t)n_tokens);
    if (n_scores) ingot_gguf_writer_set_arr(w, "tokenizer.ggml.scores", INGOT_GGUF_FLOAT32, scores, (uint64_t)n_scores);
    ingot_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", INGOT_GGUF_INT32, types, (uint64_t)(n_tokens ? n_tokens : 6));
    const char *merges[] = {"a b"};
    if (model && !strcmp(model, "gpt2")) ingot_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", merges, 1);
    ingot_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    ingot_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
    ingot_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    ingot_status st = ingot_gguf_writer_write(w, path, NULL);
    ingot_gguf_writer_free(w);
    return st;
}

static void check_gguf_loader(void) {
    const char *dir = test_tmpdir();
    char p[512];
    snprintf(p, sizeof p, "%s/vocab.gguf", dir);
    struct {
        const char *model, *pre;
        int n_tokens, n_scores;
        ingot_status want;
        const char *msg;
    } cases[] = {
        {"llama", NULL, 6, 6, INGOT_OK, ""},
        {"gpt2", "gpt-2", 6, 0, INGOT_OK, ""},
        {NULL, NULL, 6, 6, INGOT_E_NOT_FOUND, "tokenizer.ggml.model"},
        {"bert", NULL, 6, 6, INGOT_E_UNSUPPORTED, "bert"},
        {"gpt2", "made-up-pre", 6, 0, INGOT_E_UNSUPPORTED, "made-up-pre"},
        {"llama", NULL, 0, 6, INGOT_E_NOT_FOUND, "tokenizer.ggml.tokens"},
        {"llama", NULL, 6, 4, INGOT_E_FORMAT, "tokenizer.ggml.scores"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_INT_EQ(write_vocab_gguf(p, cases[i].model, cases[i].pre, cases[i].n_tokens, cases[i].n_scores), INGOT_OK);
        ingot_tokenizer *t = NULL;
        ingot_error err = {0};
        ingot_status st = ingot_tokenizer_load(p, &t, &err);
        CHECK(st == cases[i].want, "gguf case %zu: status %d (%s)", i, (int)st, err.message);
        CHECK(strstr(err.message, cases[i].msg) != NULL, "gguf case %zu: message '%s' lacks '%s'", i, err.message,
              cases[i].msg);
        if (t && i == 0) {
            /* BOS; the space prefix "▁" has no token nor byte tokens: <unk>;
             * then "ab" (a vocab token) merges */
            int32_t want[] = {1, 0, 5};
            int32_t *ids = NULL, n = 0;
            ingot_tokenize(t, "ab", 2, true, true, &ids, &n, NULL);
            CHECK(n == 3 && !memcmp(ids, want, sizeof want), "tiny spm gave %d ids", n);
            free(ids);
        }
        ingot_tokenizer_free(t);
        /* and the internal entry point the model loader uses */
        ingot_gguf *g = NULL;
        if (ingot_gguf_open(p, true, &g, NULL) == INGOT_OK) {
            CHECK_INT_EQ(ingot_tokenizer_from_gguf(g, &t, NULL), cases[i].want);
            ingot_tokenizer_free(t);
            ingot_gguf_close(g);
        }
    }
    remove(p);
    rmdir(dir);
}

/* The synthetic models' small vocabularies (one per family) load and
 * round-trip text. */
static void check_synthetic_models(void) {
    static const char *const files[] = {"llama-f32.gguf", "qwen2-Q8_0.gguf", "qwen3-Q8_0.gguf", "gemma3-Q8_0.gguf",
                                        "phi3-Q8_0.gguf"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "models/synthetic/%s", files[i]);
        ingot_tokenizer *t = load(rel);
        if (!t) continue;
        check_corpus_roundtrips(t, files[i], true, false);
        CHECK(ingot_tokenizer_eos(t) >= 0 && ingot_tokenizer_is_eog(t, ingot_tokenizer_eos(t)), "%s: eos", files[i]);
        ingot_tokenizer_free(t);
    }
}

/* One tokenizer shared by threads: each thread encodes the corpus many
 * times and must get the single-threaded ids every time. */
typedef struct mt_job {
    const ingot_tokenizer *t;
    const char *text;
    size_t len;
    const int32_t *want;
    int32_t n_want;
    int bad;
} mt_job;

static void *mt_run(void *arg) {
    mt_job *j = arg;
    for (int rep = 0; rep < 20; rep++) {
        int32_t *ids = NULL, n = 0;
        if (ingot_tokenize(j->t, j->text, j->len, true, true, &ids, &n, NULL) != INGOT_OK || n != j->n_want ||
            memcmp(ids, j->want, (size_t)n * sizeof *ids))
            j->bad++;
        free(ids);
    }
    return NULL;
}

static void check_threads(const ingot_tokenizer *t, const char *name) {
    if (!t) return;
    size_t len = 0;
    char *text = test_read_file(test_fixture("tokenizers/corpus.json"), &len);
    if (!text) return;
    int32_t *want = NULL, n = 0;
    CHECK_INT_EQ(ingot_tokenize(t, text, len, true, true, &want, &n, NULL), INGOT_OK);
    mt_job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (mt_job){t, text, len, want, n, 0};
        pthread_create(&th[i], NULL, mt_run, &jobs[i]);
    }
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        bad += jobs[i].bad;
    }
    CHECK(bad == 0, "%s: %d concurrent encodings differ", name, bad);
    free(want);
    free(text);
}

/* A character spread over byte tokens is held back until complete. */
static void check_stream_split(const ingot_tokenizer *spm) {
    if (!spm) return;
    const char *emoji = "\xF0\x9F\x98\x80"; /* U+1F600, byte fallback in Llama 2 */
    int32_t *ids = NULL, n = 0;
    ingot_error err = {0};
    CHECK_INT_EQ(ingot_tokenize(spm, emoji, 4, false, false, &ids, &n, &err), INGOT_OK);
    /* "▁" then four <0xXX> tokens */
    CHECK(n == 5, "emoji gave %d ids", n);
    ingot_detok_stream *ds = NULL;
    ingot_detok_stream_new(spm, false, &ds, &err);
    const char *out;
    size_t len;
    for (int32_t i = 0; i < n && ds; i++) {
        CHECK_INT_EQ(ingot_detok_stream_push(ds, ids[i], &out, &len, &err), INGOT_OK);
        if (i < n - 1) CHECK(len == 0, "piece %d emitted %zu bytes before the character was complete", i, len);
        else CHECK(len == 4 && !memcmp(out, emoji, 4), "last piece gave %zu bytes", len);
    }
    /* a truncated character is flushed as U+FFFD, never as broken bytes */
    ingot_detok_stream_push(ds, ids[1], &out, &len, &err);
    CHECK_INT_EQ(len, 0);
    ingot_detok_stream_push(ds, ids[2], &out, &len, &err);
    CHECK_INT_EQ(len, 0);
    ingot_detok_stream_flush(ds, &out, &len);
    CHECK(len == 3 && !memcmp(out, "\xEF\xBF\xBD", 3), "flush gave %zu bytes", len);
    /* a lone continuation byte is not held */
    ingot_detok_stream_push(ds, ids[4], &out, &len, &err);
    CHECK(len == 3 && !memcmp(out, "\xEF\xBF\xBD", 3), "stray continuation gave %zu bytes", len);
    CHECK_INT_EQ(ingot_detok_stream_push(ds, 1 << 30, &out, &len, &err), INGOT_E_RANGE);
    ingot_detok_stream_free(ds);
    free(ids);
}

/* ---- bad and large input ----------------------------------------------------- */

static void check_bad_input(const ingot_tokenizer *t, const char *name) {
    if (!t) return;
    ingot_error err = {0};
    int32_t *a = NULL, *b = NULL, na = 0, nb = 0;
    /* empty text: no ids, a valid (freeable) array */
    CHECK_INT_EQ(ingot_tokenize(t, "", 0, false, true, &a, &na, &err), INGOT_OK);
    CHECK(a != NULL && na == 0, "%s: empty input gave %d ids", name, na);
    free(a);
    CHECK_INT_EQ(ingot_tokenize(t, NULL, 0, false, true, &a, &na, &err), INGOT_OK);
    free(a);
    /* invalid UTF-8 is encoded as U+FFFD per ill-formed sequence */
    const char bad[] = "ab\xFF" "c\xE4\xB8" "d\xED\xA0\x80" "e\xC0";
    const char fixed[] = "ab\xEF\xBF\xBD" "c\xEF\xBF\xBD" "d\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "e\xEF\xBF\xBD";
    CHECK_INT_EQ(ingot_tokenize(t, bad, sizeof bad - 1, false, true, &a, &na, &err), INGOT_OK);
    CHECK_INT_EQ(ingot_tokenize(t, fixed, sizeof fixed - 1, false, true, &b, &nb, &err), INGOT_OK);
    CHECK(na == nb && na > 0 && !memcmp(a, b, (size_t)na * sizeof *a), "%s: invalid UTF-8 not encoded as U+FFFD", name);
    free(a);
    free(b);
    /* NUL bytes inside text are text */
    CHECK_INT_EQ(ingot_tokenize(t, "a\0b", 3, false, true, &a, &na, &err), INGOT_OK);
    CHECK(na >= 2, "%s: NUL inside text gave %d ids", name, na);
    free(a);
    /* 1 MB of mixed text encodes and decodes back */
    const char *unit = "The quick brown fox — 快速的棕色狐狸 jumps; int x = 42;\n\tこんにちは 123456 ";
    size_t ul = strlen(unit), total = 0, cap = (1u << 20) + ul;
    char *big = malloc(cap + 1);
    while (total + ul <= (1u << 20)) {
        memcpy(big + total, unit, ul);
        total += ul;
    }
    big[total] = 0;
    CHECK_INT_EQ(ingot_tokenize(t, big, total, false, true, &a, &na, &err), INGOT_OK);
    CHECK(na > 100000, "%s: 1 MB gave only %d ids", name, na);
    char *back = NULL;
    size_t bl = 0;
    CHECK_INT_EQ(ingot_detokenize(t, a, (size_t)na, true, &back, &bl, &err), INGOT_OK);
    CHECK(back && bl == total && !memcmp(back, big, total), "%s: 1 MB round trip differs", name);
    free(back);
    free(a);
    free(big);
    /* long runs of one character class (one pre-token or regex match of
     * 256 KiB) encode without error and decode back */
    static const char *const fills[] = {"a", " ", "1", "\n", "!", "\xE4\xB8\xAD", "\xF0\x9F\x98\x80", " \n", "\t"};
    for (size_t f = 0; f < sizeof fills / sizeof fills[0]; f++) {
        size_t fl = strlen(fills[f]), n = 0, cap2 = 256u << 10;
        char *run = malloc(cap2);
        while (n + fl <= cap2) {
            memcpy(run + n, fills[f], fl);
            n += fl;
        }
        int32_t *ids = NULL, nid = 0;
        ingot_status st = ingot_tokenize(t, run, n, false, true, &ids, &nid, &err);
        CHECK(st == INGOT_OK && nid > 0, "%s: run of '%s' failed: %s", name, fills[f], err.message);
        char *txt = NULL;
        size_t tl = 0;
        if (st == INGOT_OK) ingot_detokenize(t, ids, (size_t)nid, true, &txt, &tl, &err);
        CHECK(txt && tl == n && !memcmp(txt, run, n), "%s: run of '%s' does not round-trip", name, fills[f]);
        free(txt);
        free(ids);
        free(run);
    }
    /* out-of-range ids are refused, not read */
    int32_t badids[] = {1, -5};
    CHECK_INT_EQ(ingot_detokenize(t, badids, 2, true, &back, &bl, &err), INGOT_E_RANGE);
    CHECK(back == NULL, "%s: text returned on error", name);
    CHECK(ingot_token_piece(t, ingot_tokenizer_n_vocab(t), NULL) == NULL, "%s: piece past the end", name);
    CHECK_INT_EQ(ingot_token_to_bytes(t, -1, true, NULL, 0), -1);
}

static void check_load_errors(void) {
    ingot_error err = {0};
    ingot_tokenizer *t = NULL;
    CHECK_INT_EQ(ingot_tokenizer_load("/nonexistent/tokenizer.json", &t, &err), INGOT_E_NOT_FOUND);
    CHECK(t == NULL && strstr(err.message, "/nonexistent"), "message: %s", err.message);
    const char *dir = test_tmpdir();
    char p[512];
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    FILE *f = fopen(p, "w");
    fputs("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0,", f);
    fclose(f);
    CHECK_INT_EQ(ingot_tokenizer_load(p, &t, &err), INGOT_E_FORMAT);
    CHECK(strstr(err.message, "tokenizer.json") != NULL, "message: %s", err.message);
    f = fopen(p, "w");
    fputs("{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\", 0.0]]}}", f);
    fclose(f);
    CHECK_INT_EQ(ingot_tokenizer_load(p, &t, &err), INGOT_E_UNSUPPORTED);
    CHECK(strstr(err.message, "Unigram") != NULL, "message: %s", err.message);
    /* a tiny valid one, built by hand: merges and byte-level decoding */
    f = fopen(p, "w");
    fputs("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,\"\xC4\xA0\":3,\"\xC4\xA0" "ab\":4},"
          "\"merges\":[\"a b\",\"\xC4\xA0 ab\"]},"
          "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true},"
          "\"decoder\":{\"type\":\"ByteLevel\"},"
          "\"added_tokens\":[{\"id\":5,\"content\":\"<|end|>\",\"special\":true}]}",
          f);
    fclose(f);
    CHECK_INT_EQ(ingot_tokenizer_load(dir, &t, &err), INGOT_OK);
    if (t) {
        int32_t want[] = {2, 4, 5, 0};
        expect_ids(t, "tiny", "ab ab<|end|>a", 13, want, 4, true);
        int32_t want2[] = {2, 3, 0};
        expect_ids(t, "tiny no-special", "ab a", 4, want2, 3, false);
        CHECK(ingot_tokenizer_is_eog(t, 5), "<|end|> is end of generation");
        CHECK_INT_EQ(ingot_tokenizer_n_vocab(t), 6);
        ingot_tokenizer_free(t);
    }
    remove(p);
    rmdir(dir);
    ingot_tokenizer_free(NULL);
}

int main(void) {
    check_load_errors();
    check_truncations();
    check_gguf_loader();

    static const char *const gguf_stems[] = {"llama-spm", "phi-3", "gpt-2", "deepseek-coder", "starcoder", "falcon"};
    ingot_tokenizer *spm = NULL;
    for (size_t i = 0; i < sizeof gguf_stems / sizeof gguf_stems[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "tokenizers/gguf-vocab/ggml-vocab-%s.gguf", gguf_stems[i]);
        ingot_tokenizer *t = load(rel);
        check_pairs(t, gguf_stems[i], gguf_stems[i]);
        if (i == 0) spm = t;
        else ingot_tokenizer_free(t);
    }

    ingot_tokenizer *qwen3 = load("tokenizers/hf/qwen3/tokenizer.json");
    ingot_tokenizer *qwen25 = load("tokenizers/hf/qwen2.5");
    ingot_tokenizer *llama3 = load("tokenizers/hf/llama3/tokenizer.json");
    ingot_tokenizer *llama2 = load("tokenizers/hf/llama2");
    ingot_tokenizer *gemma3 = load("tokenizers/hf/gemma3/tokenizer.json");
    check_pairs(qwen3, "qwen2 via qwen3/tokenizer.json", "qwen2");
    check_pairs(qwen25, "qwen2 via qwen2.5 vocab.json+merges.txt", "qwen2");
    check_pairs(llama3, "llama-bpe via llama3/tokenizer.json", "llama-bpe");
    check_pairs(llama2, "llama-spm via llama2/tokenizer.json", "llama-spm");
    check_expected(qwen3, "qwen3");
    check_expected(llama3, "llama3");
    check_expected(gemma3, "gemma3");

    /* stories260K: the documented prompt ids, BOS included */
    ingot_tokenizer *st = load("models/real/stories260K.gguf");
    if (st) {
        int32_t *ids = NULL, n = 0;
        ingot_error err = {0};
        CHECK_INT_EQ(ingot_tokenize(st, "Once upon a time", 16, true, true, &ids, &n, &err), INGOT_OK);
        int32_t want[] = {1, 403, 407, 261, 378};
        CHECK(n == 5 && !memcmp(ids, want, sizeof want), "stories260K gave %d ids", n);
        if (n != 5) print_ids("got", ids, n);
        CHECK_STR_EQ(ingot_tokenizer_model(st), "llama");
        CHECK(ingot_tokenizer_add_bos(st), "stories260K adds BOS");
        free(ids);
        char *text = NULL;
        CHECK_INT_EQ(ingot_detokenize(st, want, 5, false, &text, NULL, &err), INGOT_OK);
        CHECK_STR_EQ(text, "Once upon a time");
        free(text);
        ingot_tokenizer_free(st);
    }

    /* special tokens and their texts */
    if (qwen3) {
        CHECK_INT_EQ(ingot_tokenizer_eos(qwen3), 151645);
        CHECK_INT_EQ(ingot_tokenizer_bos(qwen3), -1);
        CHECK_STR_EQ(ingot_tokenizer_eos_text(qwen3), "<|im_end|>");
        CHECK_STR_EQ(ingot_tokenizer_bos_text(qwen3), "");
        CHECK(ingot_tokenizer_is_eog(qwen3, 151643) && ingot_tokenizer_is_eog(qwen3, 151645), "qwen3 eog");
        CHECK(!ingot_tokenizer_is_eog(qwen3, 9707), "a word is not eog");
        CHECK(!ingot_tokenizer_add_bos(qwen3), "qwen3 adds no BOS");
        CHECK_STR_EQ(ingot_tokenizer_model(qwen3), "gpt2");
        /* parse_special off: the control token is plain text */
        int32_t *ids = NULL, n = 0;
        ingot_tokenize(qwen3, "<|im_end|>", 10, false, false, &ids, &n, NULL);
        CHECK(n > 1, "<|im_end|> as text gave %d ids", n);
        free(ids);
        ingot_tokenize(qwen3, "<|im_end|>", 10, false, true, &ids, &n, NULL);
        CHECK(n == 1 && ids[0] == 151645, "<|im_end|> parsed gave %d ids", n);
        free(ids);
        char buf[16];
        CHECK_INT_EQ(ingot_token_to_bytes(qwen3, 151645, false, buf, sizeof buf), 0);
        CHECK_INT_EQ(ingot_token_to_bytes(qwen3, 151645, true, buf, sizeof buf), 10);
        size_t pl;
        CHECK_STR_EQ(ingot_token_piece(qwen3, 21927, &pl), "\xC4\xA0Hello");
        CHECK_INT_EQ(ingot_token_find(qwen3, "\xC4\xA0Hello", 7), 21927);
    }
    if (llama3) {
        CHECK_INT_EQ(ingot_tokenizer_eot(llama3), 128009);
        CHECK(ingot_tokenizer_is_eog(llama3, 128009) && ingot_tokenizer_is_eog(llama3, 128001), "llama3 eog");
        CHECK_STR_EQ(ingot_tokenizer_bos_text(llama3), "<|begin_of_text|>");
    }
    if (gemma3) {
        CHECK_STR_EQ(ingot_tokenizer_eos_text(gemma3), "<end_of_turn>");
        CHECK_STR_EQ(ingot_tokenizer_bos_text(gemma3), "<bos>");
        CHECK(ingot_tokenizer_add_bos(gemma3), "gemma3 adds BOS");
        CHECK(ingot_tokenizer_is_eog(gemma3, ingot_tokenizer_eos(gemma3)), "gemma3 eog");
    }
    if (llama2) {
        CHECK(ingot_tokenizer_add_bos(llama2), "llama2 adds BOS");
        CHECK_INT_EQ(ingot_tokenizer_bos(llama2), 1);
        CHECK_INT_EQ(ingot_tokenizer_unk(llama2), 0);
        int32_t *ids = NULL, n = 0;
        CHECK_INT_EQ(ingot_tokenize(llama2, "Hello", 5, true, true, &ids, &n, NULL), INGOT_OK);
        CHECK(n == 2 && ids[0] == 1, "BOS first (n=%d)", n);
        free(ids);
    }

    check_corpus_roundtrips(qwen3, "qwen3", true, true);
    check_corpus_roundtrips(qwen25, "qwen2.5", true, true);
    check_corpus_roundtrips(llama3, "llama3", false, true);
    check_corpus_roundtrips(gemma3, "gemma3", false, true);
    check_corpus_roundtrips(llama2, "llama2", false, true);
    check_corpus_roundtrips(spm, "llama-spm gguf", false, false);
    check_synthetic_models();
    check_stream_split(spm);
    check_stream_split(llama2);

    check_threads(qwen3, "qwen3");
    check_threads(llama2, "llama2");
    check_bad_input(qwen3, "qwen3");
    check_bad_input(llama3, "llama3");
    check_bad_input(gemma3, "gemma3");
    check_bad_input(spm, "llama-spm gguf");

    ingot_tokenizer_free(spm);
    ingot_tokenizer_free(qwen3);
    ingot_tokenizer_free(qwen25);
    ingot_tokenizer_free(llama3);
    ingot_tokenizer_free(llama2);
    ingot_tokenizer_free(gemma3);
    TEST_END();
}
