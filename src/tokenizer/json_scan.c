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

#include "base/error.h"
#include "tokenizer/json_scan.h"

static const char *ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

/* Skips a string starting at the opening quote; returns past the closing
 * quote or NULL. */
static const char *skip_string(const char *p, const char *e) {
    for (p++; p < e;) {
        const char *q = memchr(p, '"', (size_t)(e - p));
        if (!q) return NULL;
        /* the quote is escaped when an odd number of backslashes precede it */
        const char *b = q;
        while (b > p && b[-1] == '\\') b--;
        if (((q - b) & 1) == 0) return q + 1;
        p = q + 1;
    }
    return NULL;
}

/* Bytes that matter when skipping over a container. */
static const bool special_char[256] = {['"'] = true, ['{'] = true, ['}'] = true, ['['] = true, [']'] = true};

/* Skips any JSON value; NULL if malformed or truncated. */
static const char *skip_value(const char *p, const char *e) {
    p = ws(p, e);
    if (p >= e) return NULL;
    if (*p == '"') return skip_string(p, e);
    if (*p == '{' || *p == '[') {
        /* brackets balance once strings are skipped */
        int depth = 0;
        while (p < e) {
            while (p < e && !special_char[(unsigned char)*p]) p++;
            if (p >= e) break;
            char c = *p;
            if (c == '"') {
                p = skip_string(p, e);
                if (!p) return NULL;
                continue;
            }
            if (c == '{' || c == '[') depth++;
            else if (c == '}' || c == ']') {
                if (--depth == 0) return p + 1;
            }
            p++;
        }
        return NULL;
    }
    const char *s = p;
    while (p < e && !strchr(",}] \t\r\n", *p)) p++;
    return p > s ? p : NULL;
}

/* Finds member `key` (no escapes in it) of the object at p; on success
 * *vs,*ve delimit its value. */
static bool find_member(const char *p, const char *e, const char *key, const char **vs, const char **ve) {
    size_t kl = strlen(key);
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
        const char *v = ws(p + 1, e), *after = skip_value(v, e);
        if (!after) return false;
        if ((size_t)(kend - 1 - ks) == kl && !memcmp(ks, key, kl)) {
            *vs = v;
            *ve = after;
            return true;
        }
        p = ws(after, e);
        if (p < e && *p == ',') {
            p++;
            continue;
        }
        return false;
    }
}

bool tok_json_locate(const char *doc, size_t n, tok_jspan *vocab, tok_jspan *merges) {
    const char *e = doc + n, *ms, *me;
    if (!find_member(doc, e, "model", &ms, &me)) return false;
    const char *vs, *ve, *ts, *te;
    /* only a BPE model has the shapes decoded here */
    if (!find_member(ms, me, "type", &ts, &te) || te - ts != 5 || memcmp(ts, "\"BPE\"", 5)) return false;
    if (!find_member(ms, me, "vocab", &vs, &ve)) return false;
    vocab->off = (size_t)(vs - doc);
    vocab->len = (size_t)(ve - vs);
    const char *rs, *re;
    if (find_member(ms, me, "merges", &rs, &re)) {
        merges->off = (size_t)(rs - doc);
        merges->len = (size_t)(re - rs);
    } else {
        merges->off = merges->len = 0;
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

size_t tok_json_count_merges(const char *doc, tok_jspan sp) {
    /* an upper bound: each merge holds at least one string */
    size_t n = 0;
    const char *p = doc + sp.off, *e = p + sp.len;
    while (p < e) {
        if (*p == '"') {
            n++;
            p = skip_string(p, e);
            if (!p) break;
        } else {
            p++;
        }
    }
    return n;
}
