/* Owns text -> ids: UTF-8 sanitizing, splitting out added/special tokens
 * (leftmost-longest, raw text first, then normalized text for tokens
 * marked "normalized"), running normalizers, pre-tokenizer and model over
 * each remaining segment, and BOS/EOS. Scratch memory is per call, so a
 * tokenizer can be shared between threads. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

typedef struct seg {
    size_t off, len;
    int32_t added; /* index into t->added, -1 = text */
} seg;

typedef struct segs {
    seg *v;
    size_t n, cap;
} segs;

static bool segs_push(segs *s, size_t off, size_t len, int32_t added) {
    if (len == 0 && added < 0) return true;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        seg *v = realloc(s->v, cap * sizeof *v);
        if (!v) return false;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (seg){off, len, added};
    return true;
}

typedef struct enc_ctx {
    tok_buf clean, norm, pre, scratch;
    tok_spans spans, spans2;
    segs outer, inner;
    void *md;
    tok_bpe_scratch *bpe;
    tok_ids ids;
} enc_ctx;

static void enc_ctx_free(enc_ctx *c) {
    tok_buf_free(&c->clean);
    tok_buf_free(&c->norm);
    tok_buf_free(&c->pre);
    tok_buf_free(&c->scratch);
    free(c->spans.v);
    free(c->spans2.v);
    free(c->outer.v);
    free(c->inner.v);
    tok_match_data_free(c->md);
    tok_bpe_scratch_free(c->bpe);
    free(c->ids.v);
}

static bool is_space_at(const char *s, size_t n, size_t *len) {
    uint32_t cp;
    int l = tok_utf8_next((const unsigned char *)s, n, &cp);
    if (l <= 0 || !tok_is_white(cp)) return false;
    *len = (size_t)l;
    return true;
}

/* Longest added token (allowed by parse_special) starting at s. */
static int32_t trie_match(const ingot_tokenizer *t, const tok_trie *tr, const unsigned char *s, size_t n,
                          bool parse_special, size_t *mlen) {
    int32_t node = tr->root_child[s[0]], best = -1;
    size_t i = 1;
    while (node >= 0) {
        int32_t a = tr->nodes[node].added;
        if (a >= 0 && (parse_special || !t->added[a].special)) {
            best = a;
            *mlen = i;
        }
        if (i >= n) break;
        int32_t c = tr->nodes[node].child;
        while (c >= 0 && tr->nodes[c].byte != s[i]) c = tr->nodes[c].sibling;
        node = c;
        i++;
    }
    return best;
}

/* Splits s[0..n) (offsets relative to base) into text and added-token
 * segments. */
static bool split_added(const ingot_tokenizer *t, const tok_trie *tr, const char *s, size_t base, size_t n,
                        bool parse_special, segs *out) {
    if (tr->n == 0) return segs_push(out, base, n, -1);
    const unsigned char *u = (const unsigned char *)s;
    size_t text_start = 0, i = 0;
    while (i < n) {
        if (tr->root_child[u[i]] < 0) {
            i++;
            continue;
        }
        size_t mlen = 0;
        int32_t a = trie_match(t, tr, u + i, n - i, parse_special, &mlen);
        if (a < 0) {
            i++;
            continue;
        }
        size_t text_end = i, after = i + mlen;
        if (t->added[a].lstrip) {
            /* the token swallows the whitespace before it */
            while (text_end > text_start) {
                size_t p = text_end - 1, l;
                while (p > text_start && (u[p] & 0xC0) == 0x80) p--;
                if (!is_space_at(s + p, text_end - p, &l) || p + l != text_end) break;
                text_end = p;
            }
        }
        if (t->added[a].rstrip) {
            size_t l;
            while (after < n && is_space_at(s + after, n - after, &l)) after += l;
        }
        if (!segs_push(out, base + text_start, text_end - text_start, -1) || !segs_push(out, base + i, mlen, a))
            return false;
        i = text_start = after;
    }
    return segs_push(out, base + text_start, n - text_start, -1);
}

/* Normalizes, pre-tokenizes and encodes one text segment. */
static ingot_status encode_text(const ingot_tokenizer *t, enc_ctx *c, const char *s, size_t n, bool first,
                                bool parse_special, ingot_error *err) {
    ingot_status st = tok_normalize(t, s, n, &c->norm, err);
    if (st) return st;
    c->inner.n = 0;
    if (!split_added(t, &t->trie_norm, c->norm.p, 0, c->norm.n, parse_special, &c->inner))
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    for (size_t k = 0; k < c->inner.n; k++) {
        const seg *g = &c->inner.v[k];
        if (g->added >= 0) {
            if (!tok_ids_push(&c->ids, t->added[g->added].id)) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
            continue;
        }
        st = tok_pretokenize(t, c->norm.p + g->off, g->len, first && g->off == 0, &c->pre, &c->spans, &c->scratch,
                             &c->spans2, c->md, err);
        if (st) return st;
        for (size_t j = 0; j < c->spans.n; j++) {
            const char *w = c->pre.p + c->spans.v[j].off;
            size_t wn = c->spans.v[j].len;
            if (t->meta_words) {
                /* cut before each "▁" that follows another character */
                size_t a = 0;
                for (size_t i = 3; i + 3 <= wn; i++) {
                    if (memcmp(w + i, "\xE2\x96\x81", 3) || !memcmp(w + i - 3, "\xE2\x96\x81", 3)) continue;
                    if ((st = tok_bpe_encode(t, w + a, i - a, c->bpe, &c->ids, err))) return st;
                    a = i;
                    i += 2;
                }
                w += a;
                wn -= a;
            }
            if ((st = tok_bpe_encode(t, w, wn, c->bpe, &c->ids, err))) return st;
        }
    }
    return INGOT_OK;
}

ingot_status ingot_tokenize(const ingot_tokenizer *t, const char *text, size_t len, bool add_bos, bool parse_special,
                            int32_t **ids_out, int32_t *n_out, ingot_error *err) {
    if (ids_out) *ids_out = NULL;
    if (n_out) *n_out = 0;
    if (!t || !ids_out || !n_out || (!text && len))
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_tokenize: NULL argument");
    if (len > (size_t)INT32_MAX / 4)
        return ingot_error_set(err, INGOT_E_RANGE, "text of %zu bytes is too long to tokenize", len);
    enc_ctx c;
    memset(&c, 0, sizeof c);
    ingot_status st = INGOT_OK;
    c.md = tok_match_data_new();
    c.bpe = tok_bpe_scratch_new();
    if (!c.md || !c.bpe) {
        st = ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        goto done;
    }
    if (add_bos && t->add_bos && t->bos >= 0 && !tok_ids_push(&c.ids, t->bos)) {
        st = ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        goto done;
    }
    bool changed = false;
    if (len && !tok_utf8_sanitize(text, len, &c.clean, &changed)) {
        st = ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        goto done;
    }
    const char *s = changed ? c.clean.p : text;
    size_t n = changed ? c.clean.n : len;
    if (n && !split_added(t, &t->trie_raw, s, 0, n, parse_special, &c.outer)) {
        st = ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < c.outer.n && !st; k++) {
        const seg *g = &c.outer.v[k];
        if (g->added >= 0) {
            if (!tok_ids_push(&c.ids, t->added[g->added].id)) st = ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
            continue;
        }
        st = encode_text(t, &c, s + g->off, g->len, g->off == 0, parse_special, err);
    }
    if (!st && add_bos && t->add_eos && t->eos >= 0 && !tok_ids_push(&c.ids, t->eos))
        st = ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    if (!st) {
        size_t count = c.ids.n;
        /* never hand back NULL: an empty result is a 1-slot array, n = 0 */
        if (count == 0 && !tok_ids_push(&c.ids, -1)) {
            st = ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        } else {
            *n_out = (int32_t)count;
            *ids_out = c.ids.v;
            c.ids.v = NULL;
        }
    }
done:
    enc_ctx_free(&c);
    return st;
}
