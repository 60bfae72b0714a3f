/* Owns building a tokenizer from GGUF metadata (tokenizer.ggml.*): the
 * vocabulary, scores, token types, merges, special ids and flags, and the
 * pipeline implied by tokenizer.ggml.model ("llama": SentencePiece-style
 * BPE; "gpt2": byte-level BPE with the pre-tokenizer named by
 * tokenizer.ggml.pre). Array lengths are checked against the vocabulary
 * size; the GGUF reader has already checked them against the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

static int64_t arr_key(const ingot_gguf *g, const char *key, ingot_gguf_vtype want, uint64_t n, bool required,
                       ingot_error *err, ingot_status *st) {
    int64_t kid = ingot_gguf_find_key(g, key);
    *st = INGOT_OK;
    if (kid < 0) {
        if (required) *st = ingot_error_set(err, INGOT_E_NOT_FOUND, "%s: no %s", ingot_gguf_path(g), key);
        return -1;
    }
    if (ingot_gguf_kv_type(g, kid) != INGOT_GGUF_ARRAY || ingot_gguf_arr_type(g, kid) != want) {
        *st = ingot_error_set(err, INGOT_E_FORMAT, "%s: %s has the wrong type", ingot_gguf_path(g), key);
        return -1;
    }
    if (n && ingot_gguf_arr_n(g, kid) != n) {
        *st = ingot_error_set(err, INGOT_E_FORMAT, "%s: %s has %llu entries, expected %llu (one per token)",
                              ingot_gguf_path(g), key, (unsigned long long)ingot_gguf_arr_n(g, kid),
                              (unsigned long long)n);
        return -1;
    }
    return kid;
}

static int32_t get_id(const ingot_gguf *g, const char *key) {
    uint32_t v;
    if (!ingot_gguf_get_u32(g, key, &v) || v > INT32_MAX) return -1;
    return (int32_t)v;
}

static ingot_status from_gguf(const ingot_gguf *g, ingot_tokenizer *t, ingot_error *err) {
    const char *path = ingot_gguf_path(g);
    const char *model = ingot_gguf_get_str(g, "tokenizer.ggml.model");
    if (!model) return ingot_error_set(err, INGOT_E_NOT_FOUND, "%s: no tokenizer (tokenizer.ggml.model is missing)", path);
    bool spm = !strcmp(model, "llama");
    if (!spm && strcmp(model, "gpt2"))
        return ingot_error_set(err, INGOT_E_UNSUPPORTED,
                               "%s: tokenizer model '%s' is not supported (supported: llama, gpt2)", path, model);
    snprintf(t->model_name, sizeof t->model_name, "%s", model);
    ingot_status st;
    int64_t ktok = arr_key(g, "tokenizer.ggml.tokens", INGOT_GGUF_STRING, 0, true, err, &st);
    if (st) return st;
    uint64_t n = ingot_gguf_arr_n(g, ktok);
    if (n == 0 || n > (1u << 26))
        return ingot_error_set(err, INGOT_E_FORMAT, "%s: tokenizer.ggml.tokens has %llu entries", path,
                               (unsigned long long)n);
    if ((st = tok_vocab_init(t, (int32_t)n, err))) return st;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len;
        const char *s = ingot_gguf_arr_str(g, ktok, i, &len);
        if (!s) return ingot_error_set(err, INGOT_E_FORMAT, "%s: tokenizer.ggml.tokens[%llu] is unreadable", path,
                                       (unsigned long long)i);
        if ((st = tok_vocab_set(t, (int32_t)i, s, (size_t)len, err))) return st;
        t->types[i] = TOK_TYPE_NORMAL;
    }
    int64_t ksc = arr_key(g, "tokenizer.ggml.scores", INGOT_GGUF_FLOAT32, n, false, err, &st);
    if (st) return st;
    if (ksc >= 0) {
        t->scores = malloc(n * sizeof *t->scores);
        if (!t->scores) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        memcpy(t->scores, ingot_gguf_arr_data(g, ksc), n * sizeof *t->scores);
    }
    int64_t kty = arr_key(g, "tokenizer.ggml.token_type", INGOT_GGUF_INT32, n, false, err, &st);
    if (st) return st;
    if (kty >= 0) {
        const unsigned char *d = ingot_gguf_arr_data(g, kty);
        for (uint64_t i = 0; i < n; i++) {
            int32_t v;
            memcpy(&v, d + 4 * i, 4);
            t->types[i] = (v >= TOK_TYPE_NORMAL && v <= TOK_TYPE_BYTE) ? (uint8_t)v : TOK_TYPE_NORMAL;
        }
    }
    if ((st = tok_vocab_index(t, err))) return st;

    t->bos = get_id(g, "tokenizer.ggml.bos_token_id");
    t->eos = get_id(g, "tokenizer.ggml.eos_token_id");
    t->eot = get_id(g, "tokenizer.ggml.eot_token_id");
    t->unk = get_id(g, "tokenizer.ggml.unknown_token_id");
    t->pad = get_id(g, "tokenizer.ggml.padding_token_id");
    t->sep = get_id(g, "tokenizer.ggml.seperator_token_id");
    bool add_bos = spm, add_eos = false, space_prefix = spm;
    ingot_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &add_bos);
    ingot_gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &add_eos);
    ingot_gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &space_prefix);
    t->add_bos = add_bos;
    t->add_eos = add_eos;

    if (spm) {
        t->algo = TOK_ALGO_SPM;
        t->byte_fallback = true;
        if (space_prefix && (st = tok_norm_add(t, TOK_NORM_PREPEND, "\xE2\x96\x81", NULL, false, err))) return st;
        if ((st = tok_norm_add(t, TOK_NORM_REPLACE, " ", "\xE2\x96\x81", false, err))) return st;
        strcpy(t->dec_space, "\xE2\x96\x81");
        t->dec_byte_fallback = true;
        t->dec_strip = space_prefix ? 1 : 0;
    } else {
        t->algo = TOK_ALGO_BPE;
        t->dec_byte_level = true;
        const char *pre = ingot_gguf_get_str(g, "tokenizer.ggml.pre");
        if ((st = tok_set_pre_by_name(t, pre, err))) {
            ingot_error_prefix(err, "%s", path);
            return st;
        }
        /* Qwen's tokenizer composes text (NFC) before splitting it */
        if (pre && (!strcmp(pre, "qwen2") || !strcmp(pre, "deepseek-r1-qwen")) &&
            (st = tok_norm_add(t, TOK_NORM_NFC, NULL, NULL, false, err)))
            return st;
        int64_t km = arr_key(g, "tokenizer.ggml.merges", INGOT_GGUF_STRING, 0, true, err, &st);
        if (st) return st;
        uint64_t nm = ingot_gguf_arr_n(g, km);
        if (nm > (1u << 26)) return ingot_error_set(err, INGOT_E_FORMAT, "%s: too many merges", path);
        if ((st = tok_merges_init(t, (int32_t)nm, err))) return st;
        for (uint64_t i = 0; i < nm; i++) {
            uint64_t len;
            const char *s = ingot_gguf_arr_str(g, km, i, &len);
            const char *sp = s ? memchr(s + (len > 0), ' ', len > 0 ? len - 1 : 0) : NULL;
            if (!sp) return ingot_error_set(err, INGOT_E_FORMAT, "%s: tokenizer.ggml.merges[%llu] is not \"a b\"", path,
                                            (unsigned long long)i);
            size_t la = (size_t)(sp - s);
            if ((st = tok_merges_add(t, s, la, sp + 1, (size_t)len - la - 1, (int32_t)i, err))) return st;
        }
        if ((st = tok_merges_flush(t, err))) return st;
    }
    /* control and user-defined tokens are matched in text before the model */
    for (int32_t i = 0; i < t->n_vocab; i++) {
        uint8_t ty = t->types[i];
        if (ty == TOK_TYPE_CONTROL || ty == TOK_TYPE_USER_DEFINED || ty == TOK_TYPE_UNKNOWN)
            if ((st = tok_added_add(t, i, ty != TOK_TYPE_USER_DEFINED, false, false, false, err))) return st;
    }
    return tok_finish(t, err);
}

ingot_status ingot_tokenizer_from_gguf(const ingot_gguf *g, ingot_tokenizer **out, ingot_error *err) {
    if (out) *out = NULL;
    if (!g || !out) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_tokenizer_from_gguf: NULL argument");
    ingot_tokenizer *t = tok_alloc();
    if (!t) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    ingot_status st = from_gguf(g, t, err);
    if (st) {
        ingot_tokenizer_free(t);
        return st;
    }
    *out = t;
    return INGOT_OK;
}
