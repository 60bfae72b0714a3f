/* Owns the tokenizer's tables: token texts with a text->id hash, the merge
 * table keyed by id pairs, added tokens with their matching tries, the
 * end-of-generation list, and the handle's lifetime (alloc/free). Every
 * loader fills these through the tok_vocab_* / tok_merges_* / tok_added_*
 * calls and ends with tok_finish. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/platform.h"
#include "tokenizer/tokenizer.h"

/* ---- small buffers ---------------------------------------------------- */

bool tok_buf_reserve(tok_buf *b, size_t extra) {
    if (b->n + extra <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + extra) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return false;
    b->p = p;
    b->cap = cap;
    return true;
}

bool tok_buf_put(tok_buf *b, const void *s, size_t n) {
    if (!tok_buf_reserve(b, n + 1)) return false;
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return true;
}

void tok_buf_free(tok_buf *b) {
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

bool tok_ids_push(tok_ids *ids, int32_t id) {
    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? ids->cap * 2 : 64;
        int32_t *v = realloc(ids->v, cap * sizeof *v);
        if (!v) return false;
        ids->v = v;
        ids->cap = cap;
    }
    ids->v[ids->n++] = id;
    return true;
}

/* ---- hashing ---------------------------------------------------------- */

static uint64_t tok_hash(const char *s, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    if (n) memcpy(&w, s, n);
    h ^= w;
    /* full avalanche (murmur3's finalizer): the table uses the low bits,
     * which a bare multiply leaves depending on the first bytes only */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static uint64_t tok_hash_pair(uint64_t key) {
    key *= 0x9E3779B97F4A7C15ull;
    return key ^ (key >> 31);
}

static bool hash_insert(ingot_tokenizer *t, int32_t id);

/* ---- handle ----------------------------------------------------------- */

ingot_tokenizer *tok_alloc(void) {
    ingot_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->bos = t->eos = t->eot = t->pad = t->unk = t->sep = -1;
    for (int i = 0; i < 256; i++) t->byte_tok[i] = -1;
    return t;
}

static void tok_trie_free(tok_trie *tr) {
    free(tr->nodes);
    memset(tr, 0, sizeof *tr);
}

void ingot_tokenizer_free(ingot_tokenizer *t) {
    if (!t) return;
    tok_buf_free(&t->strs);
    free(t->off);
    free(t->len);
    free(t->scores);
    free(t->types);
    free(t->hash);
    free(t->merges);
    tok_buf_free(&t->mq_text);
    free(t->cp_tok);
    for (int i = 0; i < t->n_norm; i++) {
        free(t->norm[i].a);
        free(t->norm[i].b);
        tok_regex_free(t->norm[i].re);
    }
    free(t->norm);
    for (int i = 0; i < t->n_pre; i++) tok_regex_free(t->pre[i].re);
    free(t->pre);
    free(t->added);
    free(t->added_of);
    free(t->added_bits);
    tok_trie_free(&t->trie_raw);
    tok_trie_free(&t->trie_norm);
    free(t->eog);
    free(t);
}

/* ---- vocabulary ------------------------------------------------------- */

ingot_status tok_vocab_init(ingot_tokenizer *t, int32_t n, ingot_error *err) {
    if (n <= 0 || n > (1 << 26))
        return ingot_error_set(err, INGOT_E_FORMAT, "vocabulary size %d is out of range", (int)n);
    t->n_vocab = n;
    t->off = calloc((size_t)n, sizeof *t->off);
    t->len = calloc((size_t)n, sizeof *t->len);
    t->types = calloc((size_t)n, sizeof *t->types);
    if (!t->off || !t->len || !t->types || !tok_buf_reserve(&t->strs, (size_t)n * 8))
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory for a vocabulary of %d tokens", (int)n);
    ingot_prefault(t->off, (size_t)n * sizeof *t->off);
    ingot_prefault(t->len, (size_t)n * sizeof *t->len);
    ingot_prefault(t->strs.p, (size_t)n * 8);
    return INGOT_OK;
}

ingot_status tok_vocab_grow(ingot_tokenizer *t, int32_t n, ingot_error *err) {
    if (n <= t->n_vocab) return INGOT_OK;
    if (n > (1 << 26)) return ingot_error_set(err, INGOT_E_FORMAT, "token id %d is out of range", (int)n - 1);
    uint32_t *off = realloc(t->off, (size_t)n * sizeof *off);
    if (off) t->off = off;
    uint32_t *len = realloc(t->len, (size_t)n * sizeof *len);
    if (len) t->len = len;
    uint8_t *ty = realloc(t->types, (size_t)n);
    if (ty) t->types = ty;
    float *sc = t->scores ? realloc(t->scores, (size_t)n * sizeof *sc) : NULL;
    if (sc) t->scores = sc;
    if (!off || !len || !ty || (t->scores && !sc))
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory growing the vocabulary");
    for (int32_t i = t->n_vocab; i < n; i++) {
        t->off[i] = 0;
        t->len[i] = 0;
        t->types[i] = TOK_TYPE_UNUSED;
        if (t->scores) t->scores[i] = 0;
    }
    t->n_vocab = n;
    return INGOT_OK;
}

ingot_status tok_vocab_set(ingot_tokenizer *t, int32_t id, const char *s, size_t n, ingot_error *err) {
    if (id < 0 || id >= t->n_vocab)
        return ingot_error_set(err, INGOT_E_FORMAT, "token id %d is out of range (vocabulary of %d)", (int)id,
                               (int)t->n_vocab);
    if (n > 0xFFFFFF) return ingot_error_set(err, INGOT_E_FORMAT, "token %d is %zu bytes long", (int)id, n);
    if (t->strs.n + n + 1 > UINT32_MAX)
        return ingot_error_set(err, INGOT_E_FORMAT, "token texts exceed 4 GiB");
    uint32_t off = (uint32_t)t->strs.n;
    if (!tok_buf_put(&t->strs, s, n) || !tok_buf_put(&t->strs, "", 1))
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory for token texts");
    bool was_empty = t->len[id] == 0;
    t->off[id] = off;
    t->len[id] = (uint32_t)n;
    /* a new text joins the index in place (added tokens after the
     * vocabulary); a replaced one leaves a stale slot: rebuild later */
    bool room = (uint64_t)(t->hash_count + 1) * 4 <= (uint64_t)(t->hash_mask + 1) * 3;
    if (!t->hash || t->hash_stale || !was_empty || !room || !hash_insert(t, id))
        t->hash_stale = true;
    return INGOT_OK;
}

/* Inserts id (text set, non-empty); a text already present keeps the
 * lower id. False only when id lost to a lower duplicate (harmless). */
static bool hash_insert_hv(ingot_tokenizer *t, int32_t id, uint64_t hv) {
    const char *s = t->strs.p + t->off[id];
    uint32_t h = (uint32_t)hv & t->hash_mask, fp = (uint32_t)(hv >> 32);
    for (;;) {
        tok_hash_slot *sl = &t->hash[h];
        if (sl->id < 0) {
            *sl = (tok_hash_slot){id, fp, t->off[id], t->len[id]};
            t->hash_count++;
            return true;
        }
        if (sl->fp == fp && sl->len == t->len[id] && !memcmp(t->strs.p + sl->off, s, t->len[id])) {
            if (id < sl->id) *sl = (tok_hash_slot){id, fp, t->off[id], t->len[id]};
            return true;
        }
        h = (h + 1) & t->hash_mask;
    }
}

static bool hash_insert(ingot_tokenizer *t, int32_t id) {
    return hash_insert_hv(t, id, tok_hash(t->strs.p + t->off[id], t->len[id]));
}

ingot_status tok_vocab_index(ingot_tokenizer *t, ingot_error *err) {
    uint32_t cap = 16;
    /* load factor <= 2/3 (linear probing stays short with this hash), with
     * room for the added tokens that usually follow */
    while (cap < (uint32_t)t->n_vocab / 2u * 3u + 1024u) cap *= 2;
    free(t->hash);
    t->hash = malloc((size_t)cap * sizeof *t->hash);
    if (!t->hash) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory for the vocabulary index");
    ingot_prefault(t->hash, (size_t)cap * sizeof *t->hash);
    for (uint32_t i = 0; i < cap; i++) t->hash[i] = (tok_hash_slot){-1, 0, 0, 0};
    t->hash_mask = cap - 1;
    t->hash_count = 0;
    t->hash_stale = false;
    /* each insertion lands in a random slot of a table of megabytes: the
     * hashes are computed IX_AHEAD ids early and their slots prefetched */
    enum { IX_AHEAD = 16 };
    uint64_t ring[IX_AHEAD];
    int32_t n = t->n_vocab;
    for (int32_t id = 0; id < n + IX_AHEAD; id++) {
        int32_t j = id - IX_AHEAD; /* same ring entry: insert it first */
        if (j >= 0 && t->len[j]) hash_insert_hv(t, j, ring[j % IX_AHEAD]);
        if (id < n && t->len[id]) {
            uint64_t hv = tok_hash(t->strs.p + t->off[id], t->len[id]);
            __builtin_prefetch(&t->hash[(uint32_t)hv & t->hash_mask], 1);
            ring[id % IX_AHEAD] = hv;
        }
    }
    return INGOT_OK;
}

/* Probes on from slot h for text s[0..n) with fingerprint fp. */
static int32_t probe_from(const ingot_tokenizer *t, const char *s, size_t n, uint32_t h, uint32_t fp) {
    for (;;) {
        const tok_hash_slot *sl = &t->hash[h];
        if (sl->id < 0) return -1;
        /* the fingerprint and the slot's copy of the length spare the text
         * comparison (a cache miss) on almost every slot that is not it */
        if (sl->fp == fp && sl->len == n && !memcmp(t->strs.p + sl->off, s, n)) return sl->id;
        h = (h + 1) & t->hash_mask;
    }
}

int32_t tok_vocab_find(const ingot_tokenizer *t, const char *s, size_t n) {
    if (!t->hash || n == 0) return -1;
    uint64_t hv = tok_hash(s, n);
    return probe_from(t, s, n, (uint32_t)hv & t->hash_mask, (uint32_t)(hv >> 32));
}

/* ---- merges ----------------------------------------------------------- */

ingot_status tok_merges_init(ingot_tokenizer *t, int32_t n, ingot_error *err) {
    uint64_t cap = 16;
    while (cap < (uint64_t)(n > 0 ? n : 1) * 2) cap *= 2;
    free(t->merges);
    t->merges = malloc(cap * sizeof *t->merges);
    if (!t->merges) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory for %d merges", (int)n);
    ingot_prefault(t->merges, cap * sizeof *t->merges);
    for (uint64_t i = 0; i < cap; i++) t->merges[i].key = UINT64_MAX;
    t->merges_mask = cap - 1;
    t->n_merges = 0;
    t->mq_n = 0;
    t->mq_text.n = 0;
    return INGOT_OK;
}

/* Resolves the queued merges. Each needs three text lookups (a, b and
 * a+b) in a table of megabytes, each a cache miss or two (the slot, then
 * the text it points to); one merge at a time they run one after the
 * other. Here the lookups of a whole batch go in stages, each stage
 * prefetching what the next reads, so the misses overlap. */
static ingot_status merges_resolve(ingot_tokenizer *t, ingot_error *err) {
    int n = t->mq_n;
    t->mq_n = 0;
    const char *base = t->mq_text.p;
    const uint32_t mask = t->hash_mask;
    uint64_t hv[3 * TOK_MQ];
    uint32_t slot[3 * TOK_MQ];
    int32_t id[3 * TOK_MQ];
    const char *txt[3 * TOK_MQ];
    uint32_t len[3 * TOK_MQ];
    /* 1: hash a, b and a+b; prefetch their first slots */
    for (int i = 0; i < n; i++) {
        const tok_merge_q *q = &t->mq[i];
        const char *s = base + q->off;
        txt[3 * i] = s;
        len[3 * i] = q->na;
        txt[3 * i + 1] = s + q->na;
        len[3 * i + 1] = q->nb;
        txt[3 * i + 2] = s;
        len[3 * i + 2] = q->na + q->nb;
        for (int k = 3 * i; k < 3 * i + 3; k++) {
            hv[k] = tok_hash(txt[k], len[k]);
            __builtin_prefetch(&t->hash[(uint32_t)hv[k] & mask]);
        }
    }
    /* 2: the first slot that may hold each text; prefetch its text */
    for (int k = 0; k < 3 * n; k++) {
        uint32_t h = (uint32_t)hv[k] & mask, fp = (uint32_t)(hv[k] >> 32);
        id[k] = -1;
        slot[k] = UINT32_MAX;
        for (;;) {
            const tok_hash_slot *sl = &t->hash[h];
            if (sl->id < 0) break;
            if (sl->fp == fp && sl->len == len[k]) {
                slot[k] = h;
                __builtin_prefetch(t->strs.p + sl->off);
                break;
            }
            h = (h + 1) & mask;
        }
    }
    /* 3: compare the texts (a mismatch, very rare, probes on) */
    for (int k = 0; k < 3 * n; k++) {
        if (slot[k] == UINT32_MAX) continue;
        const tok_hash_slot *sl = &t->hash[slot[k]];
        if (!memcmp(t->strs.p + sl->off, txt[k], len[k])) id[k] = sl->id;
        else id[k] = probe_from(t, txt[k], len[k], (slot[k] + 1) & mask, sl->fp);
    }
    /* 4: prefetch the merge slots, then insert in rank order (the first
     * of duplicated pairs wins) */
    uint64_t mh[TOK_MQ];
    for (int i = 0; i < n; i++) {
        if (id[3 * i] < 0 || id[3 * i + 1] < 0 || id[3 * i + 2] < 0) continue;
        uint64_t key = ((uint64_t)(uint32_t)id[3 * i] << 32) | (uint32_t)id[3 * i + 1];
        mh[i] = tok_hash_pair(key) & t->merges_mask;
        __builtin_prefetch(&t->merges[mh[i]], 1);
    }
    for (int i = 0; i < n; i++) {
        if (id[3 * i] < 0 || id[3 * i + 1] < 0 || id[3 * i + 2] < 0) continue;
        if ((uint64_t)(t->n_merges + 1) * 2 > t->merges_mask + 1)
            return ingot_error_set(err, INGOT_E_INTERNAL, "merge table sized too small");
        uint64_t key = ((uint64_t)(uint32_t)id[3 * i] << 32) | (uint32_t)id[3 * i + 1], h = mh[i];
        bool dup = false;
        while (t->merges[h].key != UINT64_MAX) {
            if (t->merges[h].key == key) {
                dup = true; /* first (best) rank wins */
                break;
            }
            h = (h + 1) & t->merges_mask;
        }
        if (dup) continue;
        t->merges[h].key = key;
        t->merges[h].rank = t->mq[i].rank;
        t->merges[h].id = id[3 * i + 2];
        t->n_merges++;
    }
    t->mq_text.n = 0;
    return INGOT_OK;
}

ingot_status tok_merges_add(ingot_tokenizer *t, const char *a, size_t na, const char *b, size_t nb,
                            int32_t rank, ingot_error *err) {
    /* an empty or over-long part is no token: the merge cannot apply */
    if (!t->hash || na == 0 || nb == 0 || na > 0xFFFFFF || nb > 0xFFFFFF) return INGOT_OK;
    if (!t->merges) return ingot_error_set(err, INGOT_E_INTERNAL, "merge table not initialized");
    if (!tok_buf_reserve(&t->mq_text, na + nb))
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory reading merges");
    uint32_t off = (uint32_t)t->mq_text.n;
    memcpy(t->mq_text.p + off, a, na);
    memcpy(t->mq_text.p + off + na, b, nb);
    t->mq_text.n += na + nb;
    t->mq[t->mq_n++] = (tok_merge_q){off, (uint32_t)na, (uint32_t)nb, rank};
    return t->mq_n == TOK_MQ ? merges_resolve(t, err) : INGOT_OK;
}

ingot_status tok_merges_flush(ingot_tokenizer *t, ingot_error *err) {
    ingot_status st = t->mq_n ? merges_resolve(t, err) : INGOT_OK;
    t->mq_n = 0;
    tok_buf_free(&t->mq_text);
    return st;
}

bool tok_merges_get(const ingot_tokenizer *t, int32_t a, int32_t b, int32_t *rank, int32_t *id) {
    if (!t->merges) return false;
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    uint64_t h = tok_hash_pair(key) & t->merges_mask;
    for (;;) {
        const tok_merge_slot *s = &t->merges[h];
        if (s->key == key) {
            *rank = s->rank;
            *id = s->id;
            return true;
        }
        if (s->key == UINT64_MAX) return false;
        h = (h + 1) & t->merges_mask;
    }
}

/* ---- added tokens ----------------------------------------------------- */

ingot_status tok_added_add(ingot_tokenizer *t, int32_t id, bool special, bool normalized, bool lstrip,
                           bool rstrip, ingot_error *err) {
    if (id < 0 || id >= t->n_vocab)
        return ingot_error_set(err, INGOT_E_FORMAT, "added token id %d is out of range", (int)id);
    if (t->len[id] == 0) return INGOT_OK; /* nothing to match */
    size_t w = (size_t)id / 64;
    if (w >= t->added_bits_n) {
        size_t nw = ((size_t)t->n_vocab + 63) / 64;
        if (nw <= w) nw = w + 1;
        uint64_t *bits = realloc(t->added_bits, nw * sizeof *bits);
        if (!bits) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory for added tokens");
        memset(bits + t->added_bits_n, 0, (nw - t->added_bits_n) * sizeof *bits);
        t->added_bits = bits;
        t->added_bits_n = nw;
    }
    if (t->added_bits[w] >> (id % 64) & 1) return INGOT_OK; /* already there */
    if ((t->n_added & (t->n_added - 1)) == 0) {
        size_t cap = t->n_added ? (size_t)t->n_added * 2 : 16;
        tok_added *a = realloc(t->added, cap * sizeof *a);
        if (!a) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory for added tokens");
        t->added = a;
    }
    t->added[t->n_added++] = (tok_added){id, special, normalized, lstrip, rstrip};
    t->added_bits[w] |= 1ull << (id % 64);
    return INGOT_OK;
}

static int32_t trie_new_node(tok_trie *tr, uint8_t byte) {
    if (tr->n == tr->cap) {
        int32_t cap = tr->cap ? tr->cap * 2 : 256;
        tok_trie_node *nn = realloc(tr->nodes, (size_t)cap * sizeof *nn);
        if (!nn) return -1;
        tr->nodes = nn;
        tr->cap = cap;
    }
    tr->nodes[tr->n] = (tok_trie_node){-1, -1, -1, byte};
    return tr->n++;
}

static bool trie_insert(tok_trie *tr, const char *s, size_t n, int32_t added) {
    if (n == 0) return true;
    const uint8_t *u = (const uint8_t *)s;
    int32_t node = tr->root_child[u[0]];
    if (node < 0) {
        node = trie_new_node(tr, u[0]);
        if (node < 0) return false;
        tr->root_child[u[0]] = node;
    }
    for (size_t i = 1; i < n; i++) {
        int32_t c = tr->nodes[node].child, prev = -1;
        while (c >= 0 && tr->nodes[c].byte != u[i]) {
            prev = c;
            c = tr->nodes[c].sibling;
        }
        if (c < 0) {
            c = trie_new_node(tr, u[i]);
            if (c < 0) return false;
            if (prev < 0) tr->nodes[node].child = c;
            else tr->nodes[prev].sibling = c;
        }
        node = c;
    }
    if (tr->nodes[node].added < 0) tr->nodes[node].added = added;
    return true;
}

static void trie_init(tok_trie *tr) {
    memset(tr, 0, sizeof *tr);
    for (int i = 0; i < 256; i++) tr->root_child[i] = -1;
}

/* Texts that end a turn in the chat formats of common model families. */
static const char *const tok_eog_names[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
    "<|end_of_text|>", "<EOT>", "<|END_OF_TURN_TOKEN|>", "<｜end▁of▁sentence｜>", NULL};

static void eog_add(ingot_tokenizer *t, int32_t id) {
    if (id < 0 || id >= t->n_vocab) return;
    for (int32_t i = 0; i < t->n_eog; i++)
        if (t->eog[i] == id) return;
    int32_t *e = realloc(t->eog, (size_t)(t->n_eog + 1) * sizeof *e);
    if (!e) return;
    t->eog = e;
    t->eog[t->n_eog++] = id;
}

ingot_status tok_finish(ingot_tokenizer *t, ingot_error *err) {
    ingot_status st = tok_merges_flush(t, err); /* the loaders flush already */
    if (st) return st;
    st = (t->hash && !t->hash_stale) ? INGOT_OK : tok_vocab_index(t, err);
    if (st) return st;
    /* special ids out of range are dropped rather than trusted */
    int32_t *sp[] = {&t->bos, &t->eos, &t->eot, &t->pad, &t->unk, &t->sep};
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++)
        if (*sp[i] >= t->n_vocab) *sp[i] = -1;
    if (t->bos < 0) t->add_bos = false;
    if (t->eos < 0) t->add_eos = false;

    char name[8];
    for (int b = 0; b < 256; b++) {
        snprintf(name, sizeof name, "<0x%02X>", b);
        t->byte_tok[b] = tok_vocab_find(t, name, 6);
    }
    /* single code point tokens, looked up on every character */
    t->cp_tok = malloc(TOK_CP_TABLE * sizeof *t->cp_tok);
    if (!t->cp_tok) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    for (uint32_t cp = 0; cp < TOK_CP_TABLE; cp++) t->cp_tok[cp] = -1;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        /* the lowest id of a text is the one the hash answers with */
        uint32_t cp;
        const unsigned char *s = (const unsigned char *)t->strs.p + t->off[id];
        if (t->len[id] && (uint32_t)tok_utf8_next(s, t->len[id], &cp) == t->len[id] && cp < TOK_CP_TABLE &&
            t->cp_tok[cp] < 0)
            t->cp_tok[cp] = id;
    }

    t->added_of = malloc((size_t)t->n_vocab * sizeof *t->added_of);
    if (!t->added_of) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    for (int32_t i = 0; i < t->n_vocab; i++) t->added_of[i] = -1;
    trie_init(&t->trie_raw);
    trie_init(&t->trie_norm);
    tok_buf nb = {0};
    for (int32_t i = 0; i < t->n_added; i++) {
        const tok_added *a = &t->added[i];
        t->added_of[a->id] = i;
        const char *s = t->strs.p + t->off[a->id];
        size_t n = t->len[a->id];
        bool ok;
        if (a->normalized && t->n_norm > 0) {
            /* matched against normalized text, so its own text is
             * normalized the same way first */
            st = tok_normalize(t, s, n, &nb, err);
            if (st) {
                tok_buf_free(&nb);
                return st;
            }
            ok = trie_insert(&t->trie_norm, nb.p, nb.n, i);
        } else {
            ok = trie_insert(&t->trie_raw, s, n, i);
        }
        if (!ok) {
            tok_buf_free(&nb);
            return ingot_error_set(err, INGOT_E_NOMEM, "out of memory for added tokens");
        }
    }
    tok_buf_free(&nb);

    /* SentencePiece vocabularies trained with split_by_whitespace have
     * U+2581 only in leading runs; then a text is a sequence of
     * independent words (exactly the same result, much less work) */
    t->meta_words = strcmp(t->dec_space, "\xE2\x96\x81") == 0 && !t->dec_byte_level;
    for (int32_t id = 0; t->meta_words && id < t->n_vocab; id++) {
        const char *s = t->strs.p + t->off[id];
        size_t n = t->len[id], i = 0;
        while (i + 3 <= n && !memcmp(s + i, "\xE2\x96\x81", 3)) i += 3;
        if (i < n && memmem(s + i, n - i, "\xE2\x96\x81", 3)) t->meta_words = false;
    }

    eog_add(t, t->eos);
    eog_add(t, t->eot);
    for (int i = 0; tok_eog_names[i]; i++) {
        int32_t id = tok_vocab_find(t, tok_eog_names[i], strlen(tok_eog_names[i]));
        if (id >= 0 && (t->types[id] == TOK_TYPE_CONTROL || t->types[id] == TOK_TYPE_USER_DEFINED)) {
            eog_add(t, id);
            if (t->eot < 0 && strcmp(tok_eog_names[i], "<|endoftext|>") &&
                strcmp(tok_eog_names[i], "<|end_of_text|>") && strcmp(tok_eog_names[i], "<|eom_id|>"))
                t->eot = id;
        }
    }
    return INGOT_OK;
}
