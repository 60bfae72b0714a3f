/* Owns ids -> text: the bytes of one token under the tokenizer's decoder
 * rules (control/added tokens verbatim, <0xXX> byte fallback, U+2581 ->
 * space, GPT-2 byte unmapping), whole-sequence decoding with the
 * SentencePiece leading-space rule, the streaming decoder that holds back
 * split UTF-8 characters, and the small public accessors. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

/* Appends the decoded bytes of id (id already range-checked). */
static bool piece_bytes(const ingot_tokenizer *t, int32_t id, bool special, tok_buf *out) {
    const char *s = t->strs.p + t->off[id];
    size_t n = t->len[id];
    uint8_t ty = t->types[id];
    if (ty == TOK_TYPE_CONTROL || ty == TOK_TYPE_UNKNOWN) return special ? tok_buf_put(out, s, n) : true;
    /* user-defined (non-special added) tokens go through the decoder like
     * any piece: Gemma's "▁▁" is two spaces */
    if (ty == TOK_TYPE_BYTE && n == 6 && s[0] == '<' && s[1] == '0' && s[2] == 'x' && s[5] == '>') {
        char b = (char)strtol(s + 3, NULL, 16);
        return tok_buf_put(out, &b, 1);
    }
    if (!tok_buf_reserve(out, n + 4)) return false;
    if (t->dec_byte_level) {
        for (size_t i = 0; i < n;) {
            uint32_t cp;
            int l = tok_utf8_next((const unsigned char *)s + i, n - i, &cp);
            if (l <= 0) { /* a stray byte in the vocabulary: pass it on */
                if (!tok_buf_put(out, s + i, 1)) return false;
                i++;
                continue;
            }
            int b = tok_cp_to_byte(cp);
            if (b >= 0) {
                char c = (char)b;
                if (!tok_buf_put(out, &c, 1)) return false;
            } else if (!tok_buf_put(out, s + i, (size_t)l)) {
                return false;
            }
            i += (size_t)l;
        }
        return true;
    }
    size_t sl = strlen(t->dec_space);
    if (sl == 0) return tok_buf_put(out, s, n);
    size_t i = 0;
    while (i < n) {
        const char *hit = memmem(s + i, n - i, t->dec_space, sl);
        size_t end = hit ? (size_t)(hit - s) : n;
        if (!tok_buf_put(out, s + i, end - i)) return false;
        if (!hit) break;
        if (!tok_buf_put(out, " ", 1)) return false;
        i = end + sl;
    }
    return true;
}

ingot_status ingot_detokenize(const ingot_tokenizer *t, const int32_t *ids, size_t n, bool special, char **text,
                              size_t *len, ingot_error *err) {
    if (text) *text = NULL;
    if (len) *len = 0;
    if (!t || !text || (!ids && n)) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_detokenize: NULL argument");
    tok_buf raw = {0}, clean = {0};
    if (!tok_buf_put(&raw, "", 0)) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->n_vocab) {
            tok_buf_free(&raw);
            return ingot_error_set(err, INGOT_E_RANGE, "token id %d at position %zu is out of range (vocabulary of %d)",
                                   (int)ids[i], i, (int)t->n_vocab);
        }
        if (!piece_bytes(t, ids[i], special, &raw)) {
            tok_buf_free(&raw);
            return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        }
    }
    size_t skip = 0;
    while ((int)skip < t->dec_strip && skip < raw.n && raw.p[skip] == ' ') skip++;
    bool changed = false;
    if (!tok_utf8_sanitize(raw.p + skip, raw.n - skip, &clean, &changed)) {
        tok_buf_free(&raw);
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    if (changed) {
        tok_buf_free(&raw);
        raw = clean;
        skip = 0;
    } else {
        tok_buf_free(&clean);
        if (skip) memmove(raw.p, raw.p + skip, raw.n - skip + 1);
        raw.n -= skip;
    }
    *text = raw.p;
    if (len) *len = raw.n;
    return INGOT_OK;
}

const char *ingot_token_piece(const ingot_tokenizer *t, int32_t id, size_t *len) {
    if (!t || id < 0 || id >= t->n_vocab) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = t->len[id];
    return t->strs.p + t->off[id];
}

int32_t ingot_token_to_bytes(const ingot_tokenizer *t, int32_t id, bool special, char *buf, size_t cap) {
    if (!t || id < 0 || id >= t->n_vocab) return -1;
    tok_buf b = {0};
    if (!piece_bytes(t, id, special, &b)) {
        tok_buf_free(&b);
        return -1;
    }
    if (buf && cap) memcpy(buf, b.p ? b.p : "", b.n < cap ? b.n : cap);
    int32_t n = (int32_t)b.n;
    tok_buf_free(&b);
    return n;
}

int32_t ingot_token_find(const ingot_tokenizer *t, const char *s, size_t len) {
    return t && s ? tok_vocab_find(t, s, len) : -1;
}

/* ---- accessors --------------------------------------------------------- */

int32_t ingot_tokenizer_n_vocab(const ingot_tokenizer *t) { return t ? t->n_vocab : 0; }
int32_t ingot_tokenizer_bos(const ingot_tokenizer *t) { return t ? t->bos : -1; }
int32_t ingot_tokenizer_eos(const ingot_tokenizer *t) { return t ? t->eos : -1; }
int32_t ingot_tokenizer_eot(const ingot_tokenizer *t) { return t ? t->eot : -1; }
int32_t ingot_tokenizer_pad(const ingot_tokenizer *t) { return t ? t->pad : -1; }
int32_t ingot_tokenizer_unk(const ingot_tokenizer *t) { return t ? t->unk : -1; }
bool ingot_tokenizer_add_bos(const ingot_tokenizer *t) { return t && t->add_bos; }
bool ingot_tokenizer_add_eos(const ingot_tokenizer *t) { return t && t->add_eos; }
const char *ingot_tokenizer_model(const ingot_tokenizer *t) { return t ? t->model_name : ""; }

const char *ingot_tokenizer_bos_text(const ingot_tokenizer *t) {
    return t && t->bos >= 0 ? t->strs.p + t->off[t->bos] : "";
}

const char *ingot_tokenizer_eos_text(const ingot_tokenizer *t) {
    return t && t->eos >= 0 ? t->strs.p + t->off[t->eos] : "";
}

bool ingot_tokenizer_is_eog(const ingot_tokenizer *t, int32_t id) {
    if (!t || id < 0) return false;
    for (int32_t i = 0; i < t->n_eog; i++)
        if (t->eog[i] == id) return true;
    return false;
}

bool ingot_token_is_control(const ingot_tokenizer *t, int32_t id) {
    return t && id >= 0 && id < t->n_vocab && (t->types[id] == TOK_TYPE_CONTROL);
}

/* ---- streaming ---------------------------------------------------------- */

struct ingot_detok_stream {
    const ingot_tokenizer *t;
    bool special;
    bool started; /* some text has been produced (leading-space rule done) */
    tok_buf pending, out;
};

ingot_status ingot_detok_stream_new(const ingot_tokenizer *t, bool special, ingot_detok_stream **out,
                                    ingot_error *err) {
    if (out) *out = NULL;
    if (!t || !out) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_detok_stream_new: NULL argument");
    ingot_detok_stream *s = calloc(1, sizeof *s);
    if (!s || !tok_buf_put(&s->out, "", 0)) {
        free(s);
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    s->t = t;
    s->special = special;
    *out = s;
    return INGOT_OK;
}

void ingot_detok_stream_free(ingot_detok_stream *s) {
    if (!s) return;
    tok_buf_free(&s->pending);
    tok_buf_free(&s->out);
    free(s);
}

/* Length of the prefix of p that can be emitted now: everything but a
 * trailing well-begun, incomplete UTF-8 sequence. */
static size_t complete_prefix(const unsigned char *p, size_t n) {
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        size_t i = n - back;
        unsigned c = p[i];
        if ((c & 0xC0) == 0x80) continue; /* continuation: keep looking */
        int need = (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 1;
        if ((size_t)need <= back) return n; /* complete (or invalid: emit) */
        if (back >= 2) {
            unsigned d = p[i + 1], lo = 0x80, hi = 0xBF;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
            if (d < lo || d > hi) return n;
        }
        return i;
    }
    return n;
}

static ingot_status stream_emit(ingot_detok_stream *s, size_t upto, const char **text, size_t *len) {
    tok_buf clean = {0};
    bool changed = false;
    s->out.n = 0;
    if (!tok_utf8_sanitize(s->pending.p, upto, &clean, &changed)) return INGOT_E_NOMEM;
    bool ok = changed ? tok_buf_put(&s->out, clean.p, clean.n) : tok_buf_put(&s->out, s->pending.p, upto);
    tok_buf_free(&clean);
    if (!ok) return INGOT_E_NOMEM;
    if (upto) {
        memmove(s->pending.p, s->pending.p + upto, s->pending.n - upto);
        s->pending.n -= upto;
    }
    if (text) *text = s->out.p;
    if (len) *len = s->out.n;
    return INGOT_OK;
}

ingot_status ingot_detok_stream_push(ingot_detok_stream *s, int32_t id, const char **text, size_t *len,
                                     ingot_error *err) {
    if (text) *text = "";
    if (len) *len = 0;
    if (!s) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_detok_stream_push: NULL stream");
    const ingot_tokenizer *t = s->t;
    if (id < 0 || id >= t->n_vocab)
        return ingot_error_set(err, INGOT_E_RANGE, "token id %d is out of range (vocabulary of %d)", (int)id,
                               (int)t->n_vocab);
    size_t before = s->pending.n;
    if (!piece_bytes(t, id, s->special, &s->pending)) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    if (!s->started && s->pending.n > before) {
        size_t skip = 0;
        while ((int)skip < t->dec_strip && skip < s->pending.n && s->pending.p[skip] == ' ') skip++;
        if (skip) {
            memmove(s->pending.p, s->pending.p + skip, s->pending.n - skip);
            s->pending.n -= skip;
        }
        s->started = true;
    }
    size_t upto = complete_prefix((const unsigned char *)s->pending.p, s->pending.n);
    if (stream_emit(s, upto, text, len)) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    return INGOT_OK;
}

ingot_status ingot_detok_stream_flush(ingot_detok_stream *s, const char **text, size_t *len) {
    if (text) *text = "";
    if (len) *len = 0;
    if (!s) return INGOT_E_INVALID_ARG;
    ingot_status st = stream_emit(s, s->pending.n, text, len);
    s->started = false;
    return st;
}
