/* Owns the fast path for the two big members of a tokenizer.json,
 * model.vocab (an object of up to 262k "token": id pairs) and model.merges
 * (up to 515k strings or pairs). Building a jansson tree for them costs
 * more than the whole 200 ms load budget (tree, hash tables, one
 * allocation per string, and freeing it all), so they are located and
 * decoded here in one pass straight into the tokenizer's tables; the rest
 * of the document (small) still goes through jansson with these two
 * values blanked out. Strict RFC 8259 syntax inside the two values;
 * errors give the byte offset. */
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/error.h"
#include "tokenizer/json_scan.h"

static const char *ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

/* The scans below look at 16 bytes at a time where SSE2 is there (any
 * x86-64): these values are tens of megabytes of short strings and
 * indentation. */

/* First '"' or '\\' at or after p, e when none. */
static const char *find_quote_or_bs(const char *p, const char *e) {
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    for (; e - p >= 16; p += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)p);
        int m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bs)));
        if (m) return p + __builtin_ctz((unsigned)m);
    }
#endif
    while (p < e && *p != '"' && *p != '\\') p++;
    return p;
}

/* Skips a string starting at the opening quote; returns past the closing
 * quote or NULL. */
static const char *skip_string(const char *p, const char *e) {
    for (p++;;) {
        p = find_quote_or_bs(p, e);
        if (p >= e) return NULL;
        if (*p == '"') return p + 1;
        p += 2; /* an escape: the next byte is not a closing quote */
        if (p > e) return NULL;
    }
}

/* Bytes that matter when skipping over a container. */
static const bool special_char[256] = {['"'] = true, ['{'] = true, ['}'] = true, ['['] = true, [']'] = true};

/* First of " [ ] { } at or after p, e when none. */
static const char *find_special(const char *p, const char *e) {
#ifdef __SSE2__
    /* '[' 0x5B and '{' 0x7B, ']' 0x5D and '}' 0x7D differ only in bit 5 */
    const __m128i quote = _mm_set1_epi8('"'), b5 = _mm_set1_epi8(0x20), open = _mm_set1_epi8('{'),
                  close = _mm_set1_epi8('}');
    for (; e - p >= 16; p += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)p), l = _mm_or_si128(v, b5);
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                   _mm_or_si128(_mm_cmpeq_epi8(l, open), _mm_cmpeq_epi8(l, close)));
        int m = _mm_movemask_epi8(hit);
        if (m) return p + __builtin_ctz((unsigned)m);
    }
#endif
    while (p < e && !special_char[(unsigned char)*p]) p++;
    return p;
}

/* Skips any JSON value; NULL if malformed or truncated. *elems (when not
 * NULL) receives the number of elements of a container (the values met
 * right inside it: strings and containers; other scalars not counted). */
static const char *skip_value_count(const char *p, const char *e, size_t *elems) {
    size_t n = 0;
    p = ws(p, e);
    if (p >= e) return NULL;
    if (*p == '"') return skip_string(p, e);
    if (*p == '{' || *p == '[') {
        /* brackets balance once strings are skipped */
        int depth = 0;
        while (p < e) {
            p = find_special(p, e);
            if (p >= e) break;
            char c = *p;
            if (c == '"') {
                n += depth == 1;
                p = skip_string(p, e);
                if (!p) return NULL;
                continue;
            }
            if (c == '{' || c == '[') n += depth++ == 1;
            else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    if (elems) *elems = n;
                    return p + 1;
                }
            }
            p++;
        }
        return NULL;
    }
    const char *s = p;
    while (p < e && !strchr(",}] \t\r\n", *p)) p++;
    return p > s ? p : NULL;
}

static const char *skip_value(const char *p, const char *e) { return skip_value_count(p, e, NULL); }

/* Walks the members of the object at p, calling fn for each with its key
 * (raw, between the quotes) and value start; fn returns where the value
 * ends (NULL: malformed), or sets *stop. False if malformed. */
typedef const char *(*member_fn)(void *user, const char *k, size_t kl, const char *v, const char *e, bool *stop);

static bool walk_members(const char *p, const char *e, member_fn fn, void *user) {
    p = ws(p, e);
    if (p >= e || *p != '{') return false;
    p++;
    for (;;) {
        p = ws(p, e);
        if (p >= e || *p != '"') return false;
        const char *ks = p + 1, *kend = skip_string(p, e);
        if (!kend) return false;
        p = ws(kend, e);
        if (p >= e || *p != ':') return false;
        bool stop = false;
        const char *after = fn(user, ks, (size_t)(kend - 1 - ks), ws(p + 1, e), e, &stop);
        if (stop) return true;
        if (!after) return false;
        p = ws(after, e);
        if (p < e && *p == ',') {
            p++;
            continue;
        }
        return p < e && *p == '}';
    }
}

static bool key_is(const char *k, size_t kl, const char *key) { return kl == strlen(key) && !memcmp(k, key, kl); }

/* top level: stops at "model" (its value is not skipped) */
typedef struct {
    const char *model;
} top_walk;

static const char *top_member(void *user, const char *k, size_t kl, const char *v, const char *e, bool *stop) {
    top_walk *w = user;
    if (key_is(k, kl, "model")) {
        w->model = v;
        *stop = true;
        return v;
    }
    return skip_value(v, e);
}

/* model's members: one pass, each value skipped once */
typedef struct {
    const char *ts, *te, *vs, *ve, *ms, *me;
    size_t n_merges;
} model_walk;

static const char *model_member(void *user, const char *k, size_t kl, const char *v, const char *e, bool *stop) {
    model_walk *w = user;
    (void)stop;
    /* a repeated key: the first one counts */
    if (key_is(k, kl, "merges") && !w->ms) {
        w->ms = v;
        return w->me = skip_value_count(v, e, &w->n_merges);
    }
    const char *after = skip_value(v, e);
    if (key_is(k, kl, "type") && !w->ts) w->ts = v, w->te = after;
    else if (key_is(k, kl, "vocab") && !w->vs) w->vs = v, w->ve = after;
    return after;
}

typedef struct {
    const char *key, *vs, *ve;
} find_walk;

static const char *find_member_fn(void *user, const char *k, size_t kl, const char *v, const char *e, bool *stop) {
    find_walk *w = user;
    const char *after = skip_value(v, e);
    if (after && key_is(k, kl, w->key)) {
        w->vs = v;
        w->ve = after;
        *stop = true;
    }
    return after;
}

bool tok_json_member(const char *doc, size_t n, const char *key, tok_jspan *sp) {
    find_walk w = {key, NULL, NULL};
    if (!walk_members(doc, doc + n, find_member_fn, &w) || !w.vs) return false;
    sp->off = (size_t)(w.vs - doc);
    sp->len = (size_t)(w.ve - w.vs);
    return true;
}

bool tok_json_locate(const char *doc, size_t n, tok_jspan *vocab, tok_jspan *merges, size_t *n_merges) {
    const char *e = doc + n;
    top_walk tw = {0};
    if (!walk_members(doc, e, top_member, &tw) || !tw.model) return false;
    model_walk mw = {0};
    if (!walk_members(tw.model, e, model_member, &mw)) return false;
    /* only a BPE model has the shapes decoded here */
    if (!mw.ts || mw.te - mw.ts != 5 || memcmp(mw.ts, "\"BPE\"", 5)) return false;
    if (!mw.vs || !mw.ve) return false;
    vocab->off = (size_t)(mw.vs - doc);
    vocab->len = (size_t)(mw.ve - mw.vs);
    if (mw.ms && mw.me) {
        merges->off = (size_t)(mw.ms - doc);
        merges->len = (size_t)(mw.me - mw.ms);
        *n_merges = mw.n_merges;
    } else {
        merges->off = merges->len = 0;
        *n_merges = 0;
    }
    return true;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool hex4(const char *p, const char *e, uint32_t *v) {
    if (e - p < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0) return false;
        *v = (*v << 4) | (uint32_t)h;
    }
    return true;
}

/* Decodes the string at p (opening quote) into out (appended, then a NUL
 * not counted). Returns past the closing quote, NULL if malformed. */
static const char *decode_string(const char *p, const char *e, tok_buf *out, size_t *len) {
    size_t start = out->n;
    p++;
    {
        /* the usual string: no escape, one copy */
        const char *q = find_quote_or_bs(p, e);
        if (q < e && *q == '"') {
            size_t l = (size_t)(q - p);
            bool ctl = false;
            for (size_t i = 0; i < l; i++) ctl |= (unsigned char)p[i] < 0x20;
            if (!ctl) {
                if (!tok_buf_reserve(out, l + 2)) return NULL;
                memcpy(out->p + out->n, p, l);
                out->n += l;
                out->p[out->n++] = 0; /* as tok_buf_put: counted, then one more */
                out->p[out->n] = 0;
                *len = l;
                return q + 1;
            }
        }
    }
    for (;;) {
        const char *q = p;
        while (q < e && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20) q++;
        if (q > p && !tok_buf_put(out, p, (size_t)(q - p))) return NULL;
        if (q >= e || (unsigned char)*q < 0x20) return NULL;
        if (*q == '"') {
            *len = out->n - start;
            return tok_buf_put(out, "", 1) ? q + 1 : NULL;
        }
        q++; /* backslash */
        if (q >= e) return NULL;
        char c = *q++, u[4];
        int ul = 1;
        switch (c) {
        case '"': case '\\': case '/': u[0] = c; break;
        case 'b': u[0] = '\b'; break;
        case 'f': u[0] = '\f'; break;
        case 'n': u[0] = '\n'; break;
        case 'r': u[0] = '\r'; break;
        case 't': u[0] = '\t'; break;
        case 'u': {
            uint32_t cp, lo;
            if (!hex4(q, e, &cp)) return NULL;
            q += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && e - q >= 6 && q[0] == '\\' && q[1] == 'u' && hex4(q + 2, e, &lo) &&
                lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                q += 6;
            } else if (cp >= 0xD800 && cp < 0xE000) {
                cp = 0xFFFD; /* lone surrogate */
            }
            ul = tok_utf8_put(u, cp);
            break;
        }
        default: return NULL;
        }
        if (!tok_buf_put(out, u, (size_t)ul)) return NULL;
        p = q;
    }
}

ingot_status tok_json_vocab(const char *doc, tok_jspan sp, tok_buf *strs, tok_vocab_entries *ents, const char *path,
                            ingot_error *err) {
    const char *p = doc + sp.off, *e = p + sp.len;
    ents->n = 0;
    p = ws(p, e);
    if (p >= e || *p != '{') goto bad;
    p = ws(p + 1, e);
    if (p < e && *p == '}') return INGOT_OK;
    for (;;) {
        if (p >= e || *p != '"') goto bad;
        size_t off = strs->n, len;
        p = decode_string(p, e, strs, &len);
        if (!p) goto bad;
        p = ws(p, e);
        if (p >= e || *p != ':') goto bad;
        p = ws(p + 1, e);
        long long id = 0;
        const char *ds = p;
        while (p < e && *p >= '0' && *p <= '9' && id < (1 << 26)) id = id * 10 + (*p++ - '0');
        if (p == ds || id >= (1 << 26) || (p < e && strchr(".eE", *p))) goto bad;
        if (ents->n == ents->cap) {
            size_t cap = ents->cap ? ents->cap * 2 : 1024;
            tok_vocab_entry *v = realloc(ents->v, cap * sizeof *v);
            if (!v) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
            ents->v = v;
            ents->cap = cap;
        }
        ents->v[ents->n++] = (tok_vocab_entry){(uint32_t)off, (uint32_t)len, (int32_t)id};
        p = ws(p, e);
        if (p < e && *p == ',') {
            p = ws(p + 1, e);
            continue;
        }
        if (p < e && *p == '}') return INGOT_OK;
        goto bad;
    }
bad:
    return ingot_error_set(err, INGOT_E_FORMAT, "%s: model.vocab is malformed at byte %zu", path,
                           (size_t)(p ? p - doc : 0));
}

ingot_status tok_json_merges(const char *doc, tok_jspan sp, tok_merge_fn fn, void *user, const char *path,
                             ingot_error *err) {
    const char *p = doc + sp.off, *e = p + sp.len;
    tok_buf a = {0}, b = {0};
    ingot_status st = INGOT_OK;
    int32_t rank = 0;
    p = ws(p, e);
    if (p >= e || *p != '[') goto bad;
    p = ws(p + 1, e);
    if (p < e && *p == ']') goto done;
    for (;;) {
        size_t la, lb;
        a.n = b.n = 0;
        if (p < e && *p == '"') {
            /* "left right": split at the first space after the first char */
            p = decode_string(p, e, &a, &la);
            if (!p) goto bad;
            char *sp1 = la > 1 ? memchr(a.p + 1, ' ', la - 1) : NULL;
            if (!sp1) {
                st = ingot_error_set(err, INGOT_E_FORMAT, "%s: merges[%d] is not \"a b\"", path, (int)rank);
                goto done;
            }
            size_t l1 = (size_t)(sp1 - a.p);
            st = fn(user, a.p, l1, sp1 + 1, la - l1 - 1, rank, err);
        } else if (p < e && *p == '[') {
            p = ws(p + 1, e);
            if (p >= e || *p != '"' || !(p = decode_string(p, e, &a, &la))) goto bad;
            p = ws(p, e);
            if (p >= e || *p != ',') goto bad;
            p = ws(p + 1, e);
            if (p >= e || *p != '"' || !(p = decode_string(p, e, &b, &lb))) goto bad;
            p = ws(p, e);
            if (p >= e || *p != ']') goto bad;
            p++;
            st = fn(user, a.p, la, b.p, lb, rank, err);
        } else {
            goto bad;
        }
        if (st) goto done;
        rank++;
        p = ws(p, e);
        if (p < e && *p == ',') {
            p = ws(p + 1, e);
            continue;
        }
        if (p < e && *p == ']') goto done;
        goto bad;
    }
bad:
    st = ingot_error_set(err, INGOT_E_FORMAT, "%s: model.merges is malformed at byte %zu", path,
                         (size_t)(p ? p - doc : 0));
done:
    tok_buf_free(&a);
    tok_buf_free(&b);
    return st;
}
