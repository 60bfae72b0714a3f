/* Owns building a tokenizer from Hugging Face files: tokenizer.json (a BPE
 * model with its normalizer, pre-tokenizer, decoder, post-processor and
 * added tokens), vocab.json + merges.txt (GPT-2 / Qwen2 style), and the
 * tokenizer_config.json beside either (special tokens, add_bos_token,
 * added_tokens_decoder). Also the entry point ingot_tokenizer_load, which
 * picks the loader from what the path is. Anything outside what these
 * families use is refused with a message naming the component. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "tokenizer/json_scan.h"
#include "tokenizer/tokenizer.h"

#define QWEN2_REGEX                                                                           \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|" \
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

static const char *jstr(const json_t *o, const char *k) {
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool jbool(const json_t *o, const char *k, bool def) {
    const json_t *v = json_object_get(o, k);
    return json_is_boolean(v) ? json_is_true(v) : def;
}

static json_t *load_json_flags(const char *path, size_t flags, ingot_error *err, ingot_status *st) {
    json_error_t je;
    json_t *j = json_load_file(path, JSON_ALLOW_NUL | flags, &je);
    *st = INGOT_OK;
    if (!j) {
        FILE *f = fopen(path, "rb");
        if (!f) *st = ingot_error_set(err, INGOT_E_IO, "%s: cannot open", path);
        else *st = ingot_error_set(err, INGOT_E_FORMAT, "%s: line %d, column %d: %s", path, je.line, je.column, je.text);
        if (f) fclose(f);
    }
    return j;
}

/* Configs hold numbers like model_max_length = 1e30 written as integers,
 * which do not fit an integer; nothing read from them is a number. */
static json_t *load_config(const char *path, ingot_error *err, ingot_status *st) {
    return load_json_flags(path, JSON_DECODE_INT_AS_REAL, err, st);
}

/* ---- pieces of tokenizer.json ------------------------------------------ */

/* pattern: {"String": s} or {"Regex": r} */
static const char *pattern_of(const json_t *o, bool *regex) {
    const json_t *p = json_object_get(o, "pattern");
    const char *s = jstr(p, "String");
    *regex = false;
    if (s) return s;
    *regex = true;
    return jstr(p, "Regex");
}

static ingot_status parse_normalizer(ingot_tokenizer *t, const json_t *n, const char *path, ingot_error *err) {
    if (!n || json_is_null(n)) return INGOT_OK;
    const char *type = jstr(n, "type");
    if (!type) return ingot_error_set(err, INGOT_E_FORMAT, "%s: normalizer without a type", path);
    if (!strcmp(type, "Sequence")) {
        const json_t *list = json_object_get(n, "normalizers");
        size_t i;
        const json_t *v;
        json_array_foreach(list, i, v) {
            ingot_status st = parse_normalizer(t, v, path, err);
            if (st) return st;
        }
        return INGOT_OK;
    }
    if (!strcmp(type, "NFC")) return tok_norm_add(t, TOK_NORM_NFC, NULL, NULL, false, err);
    if (!strcmp(type, "NFD")) return tok_norm_add(t, TOK_NORM_NFD, NULL, NULL, false, err);
    if (!strcmp(type, "NFKC")) return tok_norm_add(t, TOK_NORM_NFKC, NULL, NULL, false, err);
    if (!strcmp(type, "NFKD")) return tok_norm_add(t, TOK_NORM_NFKD, NULL, NULL, false, err);
    if (!strcmp(type, "Lowercase")) return tok_norm_add(t, TOK_NORM_LOWERCASE, NULL, NULL, false, err);
    if (!strcmp(type, "Prepend")) {
        const char *p = jstr(n, "prepend");
        if (!p) return ingot_error_set(err, INGOT_E_FORMAT, "%s: Prepend normalizer without \"prepend\"", path);
        return tok_norm_add(t, TOK_NORM_PREPEND, p, NULL, false, err);
    }
    if (!strcmp(type, "Replace")) {
        bool re;
        const char *p = pattern_of(n, &re), *c = jstr(n, "content");
        if (!p || !c) return ingot_error_set(err, INGOT_E_FORMAT, "%s: Replace normalizer without pattern/content", path);
        return tok_norm_add(t, TOK_NORM_REPLACE, p, c, re, err);
    }
    if (!strcmp(type, "Strip")) {
        bool l = jbool(n, "strip_left", true), r = jbool(n, "strip_right", true);
        return tok_norm_add(t, TOK_NORM_STRIP, l ? "" : NULL, r ? "" : NULL, false, err);
    }
    return ingot_error_set(err, INGOT_E_UNSUPPORTED, "%s: normalizer '%s' is not supported", path, type);
}

static tok_split_behavior behavior_of(const char *b) {
    if (!b) return TOK_SPLIT_ISOLATED;
    if (!strcmp(b, "Removed")) return TOK_SPLIT_REMOVED;
    if (!strcmp(b, "MergedWithPrevious")) return TOK_SPLIT_MERGED_PREV;
    if (!strcmp(b, "MergedWithNext")) return TOK_SPLIT_MERGED_NEXT;
    if (!strcmp(b, "Contiguous")) return TOK_SPLIT_CONTIGUOUS;
    return TOK_SPLIT_ISOLATED;
}

static tok_prepend prepend_of(const json_t *o) {
    const char *s = jstr(o, "prepend_scheme");
    if (s) return !strcmp(s, "always") ? TOK_PREPEND_ALWAYS : !strcmp(s, "first") ? TOK_PREPEND_FIRST : TOK_PREPEND_NEVER;
    return jbool(o, "add_prefix_space", true) ? TOK_PREPEND_ALWAYS : TOK_PREPEND_NEVER;
}

static ingot_status parse_pre(ingot_tokenizer *t, const json_t *p, const char *path, bool *byte_level,
                              ingot_error *err) {
    if (!p || json_is_null(p)) return INGOT_OK;
    const char *type = jstr(p, "type");
    if (!type) return ingot_error_set(err, INGOT_E_FORMAT, "%s: pre_tokenizer without a type", path);
    if (!strcmp(type, "Sequence")) {
        const json_t *list = json_object_get(p, "pretokenizers");
        size_t i;
        const json_t *v;
        json_array_foreach(list, i, v) {
            ingot_status st = parse_pre(t, v, path, byte_level, err);
            if (st) return st;
        }
        return INGOT_OK;
    }
    if (!strcmp(type, "Split")) {
        bool re;
        const char *pat = pattern_of(p, &re);
        if (!pat) return ingot_error_set(err, INGOT_E_FORMAT, "%s: Split pre-tokenizer without a pattern", path);
        return tok_pre_add_split(t, pat, strlen(pat), !re, behavior_of(jstr(p, "behavior")), jbool(p, "invert", false),
                                 err);
    }
    if (!strcmp(type, "ByteLevel")) {
        *byte_level = true;
        return tok_pre_add_byte_level(t, jbool(p, "add_prefix_space", true), jbool(p, "use_regex", true), err);
    }
    if (!strcmp(type, "Metaspace")) {
        const char *r = jstr(p, "replacement");
        return tok_pre_add_metaspace(t, r ? r : "\xE2\x96\x81", prepend_of(p), jbool(p, "split", true), err);
    }
    if (!strcmp(type, "Digits")) {
        const char *re = jbool(p, "individual_digits", false) ? "\\p{N}" : "\\p{N}+";
        return tok_pre_add_split(t, re, strlen(re), false, TOK_SPLIT_ISOLATED, false, err);
    }
    if (!strcmp(type, "Punctuation")) {
        /* Rust's char::is_ascii_punctuation plus Unicode P* categories */
        const char *re = "[\\p{P}!-/:-@\\[-`{-~]";
        const char *b = jstr(p, "behavior");
        return tok_pre_add_split(t, re, strlen(re), false, b ? behavior_of(b) : TOK_SPLIT_ISOLATED, false, err);
    }
    if (!strcmp(type, "Whitespace")) {
        const char *re = "\\w+|[^\\w\\s]+";
        return tok_pre_add_split(t, re, strlen(re), false, TOK_SPLIT_REMOVED, true, err);
    }
    if (!strcmp(type, "WhitespaceSplit")) {
        const char *re = "\\s+";
        return tok_pre_add_split(t, re, strlen(re), false, TOK_SPLIT_REMOVED, false, err);
    }
    return ingot_error_set(err, INGOT_E_UNSUPPORTED, "%s: pre-tokenizer '%s' is not supported", path, type);
}

static void parse_decoder(ingot_tokenizer *t, const json_t *d) {
    if (!d || json_is_null(d)) return;
    const char *type = jstr(d, "type");
    if (!type) return;
    if (!strcmp(type, "Sequence")) {
        const json_t *list = json_object_get(d, "decoders");
        size_t i;
        const json_t *v;
        json_array_foreach(list, i, v) parse_decoder(t, v);
    } else if (!strcmp(type, "ByteLevel")) {
        t->dec_byte_level = true;
    } else if (!strcmp(type, "ByteFallback")) {
        t->dec_byte_fallback = true;
    } else if (!strcmp(type, "Replace")) {
        bool re;
        const char *p = pattern_of(d, &re), *c = jstr(d, "content");
        if (p && c && !re && !strcmp(c, " ") && strlen(p) < sizeof t->dec_space) strcpy(t->dec_space, p);
    } else if (!strcmp(type, "Strip")) {
        const char *c = jstr(d, "content");
        json_int_t start = json_integer_value(json_object_get(d, "start"));
        if (c && !strcmp(c, " ") && start > 0 && start < 8) t->dec_strip = (int)start;
    } else if (!strcmp(type, "Metaspace")) {
        const char *r = jstr(d, "replacement");
        if (!r) r = "\xE2\x96\x81";
        if (strlen(r) < sizeof t->dec_space) strcpy(t->dec_space, r);
        if (prepend_of(d) != TOK_PREPEND_NEVER) t->dec_strip = 1;
    }
    /* Fuse and unknown decoders change nothing here: pieces are always
     * concatenated */
}

static int32_t special_id(const json_t *tok, const json_t *specials) {
    /* {"SpecialToken": {"id": "<s>"}} -> ids of specials["<s>"] */
    const json_t *st = json_object_get(tok, "SpecialToken");
    const char *name = jstr(st, "id");
    if (!name) return -1;
    const json_t *ids = json_object_get(json_object_get(specials, name), "ids");
    const json_t *first = json_array_get(ids, 0);
    return json_is_integer(first) ? (int32_t)json_integer_value(first) : -1;
}

static void parse_post(ingot_tokenizer *t, const json_t *p) {
    if (!p || json_is_null(p)) return;
    const char *type = jstr(p, "type");
    if (!type) return;
    if (!strcmp(type, "Sequence")) {
        const json_t *list = json_object_get(p, "processors");
        size_t i;
        const json_t *v;
        json_array_foreach(list, i, v) parse_post(t, v);
        return;
    }
    if (strcmp(type, "TemplateProcessing")) return;
    const json_t *single = json_object_get(p, "single"), *specials = json_object_get(p, "special_tokens");
    size_t n = json_array_size(single);
    if (n == 0) return;
    int32_t first = special_id(json_array_get(single, 0), specials);
    int32_t last = n > 1 ? special_id(json_array_get(single, n - 1), specials) : -1;
    if (first >= 0) {
        t->bos = first;
        t->add_bos = true;
    }
    if (last >= 0) {
        t->eos = last;
        t->add_eos = true;
    }
}

/* bos_token etc. in tokenizer_config.json: a string or {"content": ...} */
static int32_t config_token(const ingot_tokenizer *t, const json_t *cfg, const char *key) {
    const json_t *v = json_object_get(cfg, key);
    const char *s = json_is_string(v) ? json_string_value(v) : jstr(v, "content");
    return s ? tok_vocab_find(t, s, strlen(s)) : -1;
}

static char *sibling(const char *path, const char *name) {
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
    char *p = malloc(dl + strlen(name) + 1);
    if (!p) return NULL;
    memcpy(p, path, dl);
    strcpy(p + dl, name);
    return p;
}

static bool file_exists(const char *p) {
    struct stat st;
    return p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static char *read_all(const char *path, size_t *n, ingot_error *err, ingot_status *st);

/* Applies tokenizer_config.json (if present beside path). Only a few
 * top-level keys are read here, so added_tokens_decoder (thousands of
 * entries for some models, then most of the parse) is blanked out first
 * (spaces keep the positions); the whole file is parsed when that fails. */
static ingot_status apply_config(ingot_tokenizer *t, const char *cfg_path, ingot_error *err) {
    if (!file_exists(cfg_path)) return INGOT_OK;
    ingot_status st;
    size_t n = 0;
    char *doc = read_all(cfg_path, &n, err, &st);
    if (!doc) return st;
    tok_jspan sp;
    if (tok_json_member(doc, n, "added_tokens_decoder", &sp) && sp.len >= 2 && doc[sp.off] == '{') {
        memset(doc + sp.off + 1, ' ', sp.len - 1);
        doc[sp.off + sp.len - 1] = '}';
    }
    json_error_t je;
    json_t *cfg = json_loadb(doc, n, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je);
    free(doc);
    if (!cfg && !(cfg = load_config(cfg_path, err, &st))) return st;
    int32_t id;
    if ((id = config_token(t, cfg, "bos_token")) >= 0) t->bos = id;
    if ((id = config_token(t, cfg, "eos_token")) >= 0) t->eos = id;
    if ((id = config_token(t, cfg, "pad_token")) >= 0) t->pad = id;
    if ((id = config_token(t, cfg, "unk_token")) >= 0) t->unk = id;
    const json_t *v = json_object_get(cfg, "add_bos_token");
    if (json_is_boolean(v)) t->add_bos = json_is_true(v);
    v = json_object_get(cfg, "add_eos_token");
    if (json_is_boolean(v)) t->add_eos = json_is_true(v);
    json_decref(cfg);
    return INGOT_OK;
}

static ingot_status add_added(ingot_tokenizer *t, int32_t id, const char *content, size_t clen, const json_t *o,
                              ingot_error *err) {
    ingot_status st;
    if (id < 0) return ingot_error_set(err, INGOT_E_FORMAT, "added token with a negative id");
    if (id >= t->n_vocab && (st = tok_vocab_grow(t, id + 1, err))) return st;
    if (t->len[id] != clen || memcmp(t->strs.p + t->off[id], content, clen))
        if ((st = tok_vocab_set(t, id, content, clen, err))) return st;
    bool special = jbool(o, "special", false);
    t->types[id] = special ? TOK_TYPE_CONTROL : TOK_TYPE_USER_DEFINED;
    return tok_added_add(t, id, special, jbool(o, "normalized", !special), jbool(o, "lstrip", false),
                         jbool(o, "rstrip", false), err);
}

/* Loads a {token: id} object into a fresh vocabulary. */
static ingot_status load_vocab(ingot_tokenizer *t, const json_t *vocab, const char *path, ingot_error *err) {
    if (!json_is_object(vocab)) return ingot_error_set(err, INGOT_E_FORMAT, "%s: \"vocab\" is not an object", path);
    json_int_t max = -1;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)vocab, k, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= (1 << 26))
            return ingot_error_set(err, INGOT_E_FORMAT, "%s: vocab entry \"%.40s\" has a bad id", path, k);
        if (json_integer_value(v) > max) max = json_integer_value(v);
    }
    ingot_status st = tok_vocab_init(t, (int32_t)(max + 1), err);
    if (st) return st;
    for (int32_t i = 0; i < t->n_vocab; i++) t->types[i] = TOK_TYPE_UNUSED;
    json_object_foreach((json_t *)vocab, k, v) {
        int32_t id = (int32_t)json_integer_value(v);
        /* keys may hold NUL bytes (JSON "\u0000"): take jansson's length */
        size_t klen = json_object_iter_key_len(json_object_key_to_iter(k));
        if ((st = tok_vocab_set(t, id, k, klen, err))) return st;
        t->types[id] = TOK_TYPE_NORMAL;
    }
    return tok_vocab_index(t, err);
}

static ingot_status merge_cb(void *user, const char *a, size_t na, const char *b, size_t nb, int32_t rank,
                             ingot_error *err) {
    return tok_merges_add(user, a, na, b, nb, rank, err);
}

static char *read_all(const char *path, size_t *n, ingot_error *err, ingot_status *st) {
    FILE *f = fopen(path, "rb");
    *st = INGOT_OK;
    if (!f) {
        *st = ingot_error_set(err, INGOT_E_IO, "%s: cannot open", path);
        return NULL;
    }
    char *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size >= 0 && fseek(f, 0, SEEK_SET) == 0) buf = malloc((size_t)size + 1);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
        *st = size < 0 ? ingot_error_set(err, INGOT_E_IO, "%s: cannot read", path)
                       : ingot_error_set(err, INGOT_E_NOMEM, "%s: cannot read %ld bytes", path, size);
    } else {
        buf[size] = 0;
        *n = (size_t)size;
    }
    fclose(f);
    return buf;
}

/* The fast path: a {token: id} object decoded from the raw text. */
static ingot_status fast_vocab(ingot_tokenizer *t, const char *doc, tok_jspan vs, const char *path, ingot_error *err) {
    tok_vocab_entries ents = {0};
    ingot_status st = tok_json_vocab(doc, vs, &t->strs, &ents, path, err);
    int32_t max = -1;
    for (size_t i = 0; !st && i < ents.n; i++)
        if (ents.v[i].id > max) max = ents.v[i].id;
    if (!st) st = tok_vocab_init(t, max + 1, err);
    if (!st) {
        for (int32_t i = 0; i < t->n_vocab; i++) t->types[i] = TOK_TYPE_UNUSED;
        for (size_t i = 0; i < ents.n; i++) {
            const tok_vocab_entry *e = &ents.v[i];
            t->off[e->id] = e->off;
            t->len[e->id] = e->len;
            t->types[e->id] = TOK_TYPE_NORMAL;
        }
        st = tok_vocab_index(t, err);
    }
    free(ents.v);
    return st;
}

static ingot_status fast_vocab_merges(ingot_tokenizer *t, const char *doc, tok_jspan vs, tok_jspan ms, size_t nm,
                                      const char *path, ingot_error *err) {
    ingot_status st = fast_vocab(t, doc, vs, path, err);
    if (st) return st;
    if (nm > (1u << 27)) return ingot_error_set(err, INGOT_E_FORMAT, "%s: too many merges", path);
    if ((st = tok_merges_init(t, (int32_t)nm, err))) return st;
    st = ms.len ? tok_json_merges(doc, ms, merge_cb, t, path, err) : INGOT_OK;
    return st ? st : tok_merges_flush(t, err);
}

static ingot_status slow_merges(ingot_tokenizer *t, const json_t *merges, const char *path, ingot_error *err) {
    size_t nm = json_array_size(merges);
    ingot_status st = tok_merges_init(t, (int32_t)nm, err);
    for (size_t i = 0; !st && i < nm; i++) {
        const json_t *m = json_array_get(merges, i);
        if (json_is_string(m)) {
            const char *s = json_string_value(m);
            size_t len = json_string_length(m);
            const char *sp = len > 1 ? memchr(s + 1, ' ', len - 1) : NULL;
            if (!sp) return ingot_error_set(err, INGOT_E_FORMAT, "%s: merges[%zu] is not \"a b\"", path, i);
            st = tok_merges_add(t, s, (size_t)(sp - s), sp + 1, len - (size_t)(sp - s) - 1, (int32_t)i, err);
        } else if (json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
                   json_is_string(json_array_get(m, 1))) {
            const json_t *a = json_array_get(m, 0), *b = json_array_get(m, 1);
            st = tok_merges_add(t, json_string_value(a), json_string_length(a), json_string_value(b),
                                json_string_length(b), (int32_t)i, err);
        } else {
            st = ingot_error_set(err, INGOT_E_FORMAT, "%s: merges[%zu] is neither \"a b\" nor [a, b]", path, i);
        }
    }
    return st ? st : tok_merges_flush(t, err);
}

static ingot_status hf_json(ingot_tokenizer *t, const char *path, ingot_error *err) {
    ingot_status st;
    size_t n = 0;
    char *doc = read_all(path, &n, err, &st);
    if (!doc) return st;
    tok_jspan vs, ms;
    size_t nm = 0;
    bool fast = tok_json_locate(doc, n, &vs, &ms, &nm);
    json_t *root = NULL;
    if (fast) {
        if ((st = fast_vocab_merges(t, doc, vs, ms, nm, path, err))) {
            free(doc);
            return st;
        }
    }
    json_error_t je;
    if (fast) {
        /* the rest of the document, with the two values cut out */
        tok_jspan a = vs.off < ms.off || !ms.len ? vs : ms, b = a.off == vs.off ? ms : vs;
        tok_buf rest = {0};
        bool ok = tok_buf_put(&rest, doc, a.off) && tok_buf_put(&rest, a.off == vs.off ? "{}" : "[]", 2);
        if (b.len) {
            ok = ok && tok_buf_put(&rest, doc + a.off + a.len, b.off - a.off - a.len) &&
                 tok_buf_put(&rest, b.off == vs.off ? "{}" : "[]", 2) &&
                 tok_buf_put(&rest, doc + b.off + b.len, n - b.off - b.len);
        } else {
            ok = ok && tok_buf_put(&rest, doc + a.off + a.len, n - a.off - a.len);
        }
        if (!ok) {
            tok_buf_free(&rest);
            free(doc);
            return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        }
        root = json_loadb(rest.p, rest.n, JSON_ALLOW_NUL, &je);
        tok_buf_free(&rest);
    }
    /* a syntax error is reported from the whole file, with its real position */
    if (!root) root = json_loadb(doc, n, JSON_ALLOW_NUL, &je);
    free(doc);
    if (!root) return ingot_error_set(err, INGOT_E_FORMAT, "%s: line %d, column %d: %s", path, je.line, je.column, je.text);
    const json_t *model = json_object_get(root, "model");
    const char *mtype = jstr(model, "type");
    if (!json_is_object(model)) {
        st = ingot_error_set(err, INGOT_E_FORMAT, "%s: no \"model\" object", path);
        goto done;
    }
    if (mtype && strcmp(mtype, "BPE")) {
        st = ingot_error_set(err, INGOT_E_UNSUPPORTED, "%s: model type '%s' is not supported (only BPE)", path, mtype);
        goto done;
    }
    const char *csp = jstr(model, "continuing_subword_prefix"), *eow = jstr(model, "end_of_word_suffix");
    if ((csp && *csp) || (eow && *eow)) {
        st = ingot_error_set(err, INGOT_E_UNSUPPORTED, "%s: BPE with subword prefixes/suffixes is not supported", path);
        goto done;
    }
    if (!fast) {
        if ((st = load_vocab(t, json_object_get(model, "vocab"), path, err))) goto done;
        if ((st = slow_merges(t, json_object_get(model, "merges"), path, err))) goto done;
    }
    t->algo = TOK_ALGO_BPE;
    t->byte_fallback = jbool(model, "byte_fallback", false);
    t->fuse_unk = jbool(model, "fuse_unk", false);
    t->ignore_merges = jbool(model, "ignore_merges", false);
    const char *unk = jstr(model, "unk_token");
    if (unk) {
        t->unk = tok_vocab_find(t, unk, strlen(unk));
        if (t->unk >= 0) t->types[t->unk] = TOK_TYPE_UNKNOWN;
    }
    if (t->byte_fallback) {
        char name[8];
        for (int b = 0; b < 256; b++) {
            snprintf(name, sizeof name, "<0x%02X>", b);
            int32_t id = tok_vocab_find(t, name, 6);
            if (id >= 0) t->types[id] = TOK_TYPE_BYTE;
        }
    }
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(root, "added_tokens"), i, a) {
        const json_t *c = json_object_get(a, "content"), *id = json_object_get(a, "id");
        if (!json_is_string(c) || !json_is_integer(id) || json_integer_value(id) >= (1 << 26)) {
            st = ingot_error_set(err, INGOT_E_FORMAT, "%s: added_tokens[%zu] needs \"id\" and \"content\"", path, i);
            goto done;
        }
        if ((st = add_added(t, (int32_t)json_integer_value(id), json_string_value(c), json_string_length(c), a, err)))
            goto done;
    }
    if (t->hash_stale && (st = tok_vocab_index(t, err))) goto done;
    if ((st = parse_normalizer(t, json_object_get(root, "normalizer"), path, err))) goto done;
    bool byte_level = false;
    if ((st = parse_pre(t, json_object_get(root, "pre_tokenizer"), path, &byte_level, err))) goto done;
    parse_decoder(t, json_object_get(root, "decoder"));
    parse_post(t, json_object_get(root, "post_processor"));
    snprintf(t->model_name, sizeof t->model_name, "%s", byte_level || t->dec_byte_level ? "gpt2" : "llama");
    char *cfg = sibling(path, "tokenizer_config.json");
    st = apply_config(t, cfg, err);
    free(cfg);
    if (!st) st = tok_finish(t, err);
done:
    json_decref(root);
    return st;
}

ingot_status tok_load_hf_json(const char *path, ingot_tokenizer **out, ingot_error *err) {
    *out = NULL;
    ingot_tokenizer *t = tok_alloc();
    if (!t) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    ingot_status st = hf_json(t, path, err);
    if (st) {
        ingot_tokenizer_free(t);
        return st;
    }
    *out = t;
    return INGOT_OK;
}

/* ---- vocab.json + merges.txt -------------------------------------------- */

static ingot_status vocab_merges(ingot_tokenizer *t, const char *dir, ingot_error *err) {
    size_t dl = strlen(dir);
    char *vp = malloc(dl + 32), *mp = malloc(dl + 32), *cp = malloc(dl + 32);
    ingot_status st = INGOT_OK;
    json_t *cfg = NULL;
    FILE *mf = NULL;
    char *line = NULL;
    if (!vp || !mp || !cp) {
        st = ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        goto done;
    }
    sprintf(vp, "%s/vocab.json", dir);
    sprintf(mp, "%s/merges.txt", dir);
    sprintf(cp, "%s/tokenizer_config.json", dir);
    {
        /* vocab.json is one big {token: id} object: the fast decoder */
        size_t vn = 0;
        char *doc = read_all(vp, &vn, err, &st);
        if (!doc) goto done;
        st = fast_vocab(t, doc, (tok_jspan){0, vn}, vp, err);
        free(doc);
        if (st) goto done;
    }
    t->algo = TOK_ALGO_BPE;
    t->dec_byte_level = true;
    strcpy(t->model_name, "gpt2");
    mf = fopen(mp, "rb");
    if (!mf) {
        st = ingot_error_set(err, INGOT_E_IO, "%s: cannot open", mp);
        goto done;
    }
    size_t cap = 0;
    ssize_t len;
    int32_t rank = 0;
    long lineno = 0;
    /* count lines first to size the table */
    int32_t nlines = 0;
    while ((len = getline(&line, &cap, mf)) >= 0) nlines++;
    rewind(mf);
    if ((st = tok_merges_init(t, nlines, err))) goto done;
    while ((len = getline(&line, &cap, mf)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0 || (lineno == 1 && !strncmp(line, "#version", 8))) continue;
        char *sp = len > 1 ? memchr(line + 1, ' ', (size_t)len - 1) : NULL;
        if (!sp) {
            st = ingot_error_set(err, INGOT_E_FORMAT, "%s: line %ld is not \"a b\"", mp, lineno);
            goto done;
        }
        if ((st = tok_merges_add(t, line, (size_t)(sp - line), sp + 1, (size_t)(line + len - sp - 1), rank++, err)))
            goto done;
    }
    if ((st = tok_merges_flush(t, err))) goto done;
    bool qwen = false;
    if (file_exists(cp)) {
        if (!(cfg = load_config(cp, err, &st))) goto done;
        const char *k;
        const json_t *v;
        json_object_foreach(json_object_get(cfg, "added_tokens_decoder"), k, v) {
            char *end;
            long id = strtol(k, &end, 10);
            const json_t *c = json_object_get(v, "content");
            if (*end || id < 0 || id >= (1 << 26) || !json_is_string(c)) {
                st = ingot_error_set(err, INGOT_E_FORMAT, "%s: added_tokens_decoder entry \"%.40s\" is malformed", cp, k);
                goto done;
            }
            if ((st = add_added(t, (int32_t)id, json_string_value(c), json_string_length(c), v, err))) goto done;
        }
        const char *cls = jstr(cfg, "tokenizer_class");
        qwen = cls && !strncmp(cls, "Qwen2", 5);
    }
    if (t->hash_stale && (st = tok_vocab_index(t, err))) goto done;
    if (qwen) {
        if ((st = tok_norm_add(t, TOK_NORM_NFC, NULL, NULL, false, err))) goto done;
        if ((st = tok_pre_add_split(t, QWEN2_REGEX, strlen(QWEN2_REGEX), false, TOK_SPLIT_ISOLATED, false, err)))
            goto done;
        if ((st = tok_pre_add_byte_level(t, false, false, err))) goto done;
    } else if ((st = tok_pre_add_byte_level(t, false, true, err))) {
        goto done;
    }
    if ((st = apply_config(t, cp, err))) goto done;
    st = tok_finish(t, err);
done:
    free(line);
    if (mf) fclose(mf);
    json_decref(cfg);
    free(vp);
    free(mp);
    free(cp);
    return st;
}

ingot_status tok_load_vocab_merges(const char *dir, ingot_tokenizer **out, ingot_error *err) {
    *out = NULL;
    ingot_tokenizer *t = tok_alloc();
    if (!t) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    ingot_status st = vocab_merges(t, dir, err);
    if (st) {
        ingot_tokenizer_free(t);
        return st;
    }
    *out = t;
    return INGOT_OK;
}

/* ---- entry point ---------------------------------------------------------- */

static bool has_gguf_magic(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char m[4] = {0};
    bool yes = fread(m, 1, 4, f) == 4 && !memcmp(m, "GGUF", 4);
    fclose(f);
    return yes;
}

ingot_status ingot_tokenizer_load(const char *path, ingot_tokenizer **out, ingot_error *err) {
    if (out) *out = NULL;
    if (!path || !out) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_tokenizer_load: NULL argument");
    struct stat sb;
    if (stat(path, &sb) != 0) return ingot_error_set(err, INGOT_E_NOT_FOUND, "%s: no such file or directory", path);
    if (S_ISDIR(sb.st_mode)) {
        size_t dl = strlen(path);
        char *tj = malloc(dl + 32), *vj = malloc(dl + 32);
        if (!tj || !vj) {
            free(tj);
            free(vj);
            return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        }
        sprintf(tj, "%s/tokenizer.json", path);
        sprintf(vj, "%s/vocab.json", path);
        ingot_status st;
        if (file_exists(tj)) st = tok_load_hf_json(tj, out, err);
        else if (file_exists(vj)) st = tok_load_vocab_merges(path, out, err);
        else st = ingot_error_set(err, INGOT_E_NOT_FOUND, "%s: holds neither tokenizer.json nor vocab.json + merges.txt",
                                  path);
        free(tj);
        free(vj);
        return st;
    }
    if (has_gguf_magic(path)) {
        ingot_gguf *g = NULL;
        ingot_status st = ingot_gguf_open(path, true, &g, err);
        if (st) return st;
        st = ingot_tokenizer_from_gguf(g, out, err);
        ingot_gguf_close(g);
        return st;
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!strcmp(base, "vocab.json") || !strcmp(base, "merges.txt")) {
        char *dir = sibling(path, ".");
        if (!dir) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        ingot_status st = tok_load_vocab_merges(dir, out, err);
        free(dir);
        return st;
    }
    return tok_load_hf_json(path, out, err);
}
