/* Owns the model step: turning one pre-token into ids by byte-pair merges.
 * Symbols live in an array linked as a list and candidate pairs in a
 * binary heap, so a word of n characters costs O(n log n) whatever its
 * length (a SentencePiece text without spaces is one long word). Two
 * priorities: SPM merges the pair whose concatenation is the vocab token
 * of highest score; BPE merges the pair of lowest rank in the merge list.
 * Ties go to the leftmost pair. Stale heap entries are recognised when
 * popped and skipped. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

typedef struct sym {
    int32_t prev, next;
    uint32_t off, len; /* bytes of the pre-token; len 0 = merged away */
    int32_t id;        /* token of this span, -1 unknown (SPM only) */
} sym;

typedef struct cand {
    float key;     /* lower first: rank (BPE) or -score (SPM) */
    int32_t pos;   /* left symbol */
    int32_t id;    /* merged token */
    uint32_t a, b; /* BPE: left and right ids; SPM: a = merged byte length */
} cand;

struct tok_bpe_scratch {
    sym *syms;
    size_t n_syms, cap_syms;
    cand *heap;
    size_t n_heap, cap_heap;
};

tok_bpe_scratch *tok_bpe_scratch_new(void) {
    return calloc(1, sizeof(tok_bpe_scratch));
}

void tok_bpe_scratch_free(tok_bpe_scratch *s) {
    if (!s) return;
    free(s->syms);
    free(s->heap);
    free(s);
}

static bool cand_less(const cand *x, const cand *y) {
    return x->key < y->key || (x->key == y->key && x->pos < y->pos);
}

static bool heap_push(tok_bpe_scratch *sc, cand c) {
    if (sc->n_heap == sc->cap_heap) {
        size_t cap = sc->cap_heap ? sc->cap_heap * 2 : 256;
        cand *h = realloc(sc->heap, cap * sizeof *h);
        if (!h) return false;
        sc->heap = h;
        sc->cap_heap = cap;
    }
    size_t i = sc->n_heap++;
    cand *h = sc->heap;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!cand_less(&c, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = c;
    return true;
}

static cand heap_pop(tok_bpe_scratch *sc) {
    cand *h = sc->heap;
    cand top = h[0];
    cand last = h[--sc->n_heap];
    size_t n = sc->n_heap, i = 0;
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= n) break;
        size_t m = (l + 1 < n && cand_less(&h[l + 1], &h[l])) ? l + 1 : l;
        if (!cand_less(&h[m], &last)) break;
        h[i] = h[m];
        i = m;
    }
    if (n) h[i] = last;
    return top;
}

static bool sym_push(tok_bpe_scratch *sc, uint32_t off, uint32_t len, int32_t id) {
    if (sc->n_syms == sc->cap_syms) {
        size_t cap = sc->cap_syms ? sc->cap_syms * 2 : 256;
        sym *s = realloc(sc->syms, cap * sizeof *s);
        if (!s) return false;
        sc->syms = s;
        sc->cap_syms = cap;
    }
    int32_t i = (int32_t)sc->n_syms++;
    sc->syms[i] = (sym){i - 1, -1, off, len, id};
    if (i > 0) sc->syms[i - 1].next = i;
    return true;
}

static bool spm_mergeable(uint8_t type) {
    return type == TOK_TYPE_NORMAL || type == TOK_TYPE_USER_DEFINED || type == TOK_TYPE_UNDEFINED;
}

/* Queues the pair (l, l.next) if it can merge. */
static bool try_pair(const ingot_tokenizer *t, tok_bpe_scratch *sc, const char *s, int32_t l) {
    if (l < 0) return true;
    int32_t r = sc->syms[l].next;
    if (r < 0) return true;
    const sym *L = &sc->syms[l], *R = &sc->syms[r];
    cand c;
    c.pos = l;
    if (t->algo == TOK_ALGO_BPE) {
        int32_t rank, id;
        if (L->id < 0 || R->id < 0 || !tok_merges_get(t, L->id, R->id, &rank, &id)) return true;
        c.key = (float)rank;
        c.id = id;
        c.a = (uint32_t)L->id;
        c.b = (uint32_t)R->id;
    } else {
        uint32_t n = L->len + R->len;
        int32_t id = tok_vocab_find(t, s + L->off, n);
        if (id < 0 || !spm_mergeable(t->types[id])) return true;
        c.key = t->scores ? -t->scores[id] : 0.0f;
        c.id = id;
        c.a = n;
        c.b = 0;
    }
    return heap_push(sc, c);
}

static bool emit_bytes(const ingot_tokenizer *t, const char *s, uint32_t n, tok_ids *out) {
    for (uint32_t k = 0; k < n; k++) {
        int32_t b = t->byte_tok[(unsigned char)s[k]];
        if (b < 0) {
            /* no byte token: the whole span is unknown */
            return t->unk < 0 || tok_ids_push(out, t->unk);
        }
    }
    for (uint32_t k = 0; k < n; k++)
        if (!tok_ids_push(out, t->byte_tok[(unsigned char)s[k]])) return false;
    return true;
}

ingot_status tok_bpe_encode(const ingot_tokenizer *t, const char *s, size_t n, tok_bpe_scratch *sc, tok_ids *out,
                            ingot_error *err) {
    if (n == 0) return INGOT_OK;
    if (t->ignore_merges) {
        /* a pre-token that is itself a token is kept whole */
        int32_t id = tok_vocab_find(t, s, n);
        if (id >= 0) return tok_ids_push(out, id) ? INGOT_OK : ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    sc->n_syms = 0;
    sc->n_heap = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int l = tok_utf8_next(u + i, n - i, &cp);
        if (l <= 0) { /* cannot happen after input sanitizing; stay safe */
            cp = 0xFFFD;
            l = 1;
        }
        int32_t id = cp < TOK_CP_TABLE ? t->cp_tok[cp] : tok_vocab_find(t, s + i, (size_t)l);
        bool ok = true;
        if (t->algo == TOK_ALGO_SPM || id >= 0) {
            ok = sym_push(sc, (uint32_t)i, (uint32_t)l, id);
        } else {
            bool done = false;
            if (t->byte_fallback) {
                bool all = true;
                for (int k = 0; k < l; k++) all = all && t->byte_tok[u[i + k]] >= 0;
                if (all) {
                    for (int k = 0; k < l && ok; k++) ok = sym_push(sc, (uint32_t)(i + k), 1, t->byte_tok[u[i + k]]);
                    done = true;
                }
            }
            if (!done && t->unk >= 0) {
                sym *last = sc->n_syms ? &sc->syms[sc->n_syms - 1] : NULL;
                if (t->fuse_unk && last && last->id == t->unk) last->len += (uint32_t)l;
                else ok = sym_push(sc, (uint32_t)i, (uint32_t)l, t->unk);
            }
            /* no unknown token: the character is dropped, as HF does */
        }
        if (!ok) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        i += (size_t)l;
    }
    for (int32_t i = 0; i + 1 < (int32_t)sc->n_syms; i++)
        if (!try_pair(t, sc, s, i)) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    while (sc->n_heap) {
        cand c = heap_pop(sc);
        sym *L = &sc->syms[c.pos];
        if (L->len == 0 || L->next < 0) continue;
        sym *R = &sc->syms[L->next];
        if (t->algo == TOK_ALGO_BPE) {
            if ((uint32_t)L->id != c.a || (uint32_t)R->id != c.b) continue;
        } else if (L->len + R->len != c.a) {
            continue;
        }
        L->len += R->len;
        L->id = c.id;
        R->len = 0;
        L->next = R->next;
        if (L->next >= 0) sc->syms[L->next].prev = c.pos;
        if (!try_pair(t, sc, s, L->prev) || !try_pair(t, sc, s, c.pos))
            return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    for (int32_t i = sc->n_syms ? 0 : -1; i >= 0; i = sc->syms[i].next) {
        const sym *y = &sc->syms[i];
        bool ok;
        if (y->id >= 0) ok = tok_ids_push(out, y->id);
        else ok = emit_bytes(t, s + y->off, y->len, out);
        if (!ok) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    return INGOT_OK;
}
