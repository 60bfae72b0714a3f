/* Owns the text pipeline before the model: UTF-8 helpers, GPT-2's
 * byte<->code point map, normalizers (NFC/NFD/NFKC/NFKD through utf8proc,
 * lowercase, prepend, replace, strip) and pre-tokenizer steps (regex splits
 * with Hugging Face's five delimiter behaviours through PCRE2, byte-level
 * mapping, Metaspace). The semantics follow the documented behaviour of
 * Hugging Face `tokenizers`, since that is what model vocabularies were
 * trained against. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

/* ---- UTF-8 ------------------------------------------------------------ */

int tok_utf8_put(char *dst, uint32_t cp) {
    unsigned char *d = (unsigned char *)dst;
    if (cp < 0x80) {
        d[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (unsigned char)(0xC0 | (cp >> 6));
        d[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (unsigned char)(0xE0 | (cp >> 12));
        d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (unsigned char)(0xF0 | (cp >> 18));
    d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

int tok_utf8_next(const unsigned char *s, size_t n, uint32_t *cp) {
    if (n == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int len;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) len = 2, v = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, v = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, v = c & 0x07, min = 0x10000;
    else return 0;
    if ((size_t)len > n) return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) return 0;
    *cp = v;
    return len;
}

bool tok_utf8_sanitize(const char *s, size_t n, tok_buf *out, bool *changed) {
    const unsigned char *u = (const unsigned char *)s;
    out->n = 0;
    *changed = false;
    size_t i = 0, start = 0;
    while (i < n) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        int l = tok_utf8_next(u + i, n - i, &cp);
        if (l > 0) {
            i += (size_t)l;
            continue;
        }
        if (!tok_buf_put(out, s + start, i - start)) return false;
        /* one U+FFFD per maximal ill-formed subpart (WHATWG / Unicode
         * "best practice"): a truncated but well-begun sequence counts once */
        unsigned c = u[i];
        int need = (c >= 0xC2 && c <= 0xDF) ? 1 : (c >= 0xE0 && c <= 0xEF) ? 2 : (c >= 0xF0 && c <= 0xF4) ? 3 : 0;
        size_t k = 1;
        for (int j = 0; j < need && i + k < n; j++, k++) {
            unsigned lo = 0x80, hi = 0xBF;
            if (j == 0) {
                if (c == 0xE0) lo = 0xA0;
                if (c == 0xED) hi = 0x9F;
                if (c == 0xF0) lo = 0x90;
                if (c == 0xF4) hi = 0x8F;
            }
            if (u[i + k] < lo || u[i + k] > hi) break;
        }
        if (!tok_buf_put(out, "\xEF\xBF\xBD", 3)) return false;
        *changed = true;
        i += k;
        start = i;
    }
    if (!*changed) return true;
    return tok_buf_put(out, s + start, n - start);
}

/* ---- GPT-2 byte map ---------------------------------------------------- */
/* Printable bytes map to themselves; the 68 others (controls, space, DEL,
 * 0x80-0xA0, soft hyphen) to U+0100 onwards in byte order. */

static bool byte_is_self(unsigned b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
}

uint32_t tok_byte_to_cp(uint8_t b) {
    if (byte_is_self(b)) return b;
    if (b <= 0x20) return 256u + b;
    if (b <= 0xA0) return 256u + 33u + (b - 0x7Fu);
    return 256u + 67u; /* 0xAD */
}

int tok_cp_to_byte(uint32_t cp) {
    if (cp < 256) return byte_is_self(cp) ? (int)cp : -1;
    if (cp >= 256 + 68) return -1;
    uint32_t k = cp - 256;
    if (k < 33) return (int)k;
    if (k < 67) return (int)(0x7F + (k - 33));
    return 0xAD;
}

/* ---- regex ------------------------------------------------------------- */

void *tok_regex_compile(const char *pattern, size_t len, bool literal, ingot_error *err) {
    int ec;
    PCRE2_SIZE eo;
    uint32_t opts = literal ? (PCRE2_UTF | PCRE2_LITERAL) : (PCRE2_UTF | PCRE2_UCP);
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len, opts, &ec, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        ingot_error_set(err, INGOT_E_FORMAT, "pre-tokenizer regex /%.*s/: %s at offset %zu",
                        (int)(len > 200 ? 200 : len), pattern, (const char *)msg, (size_t)eo);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    return re;
}

void tok_regex_free(void *re) {
    if (re) pcre2_code_free(re);
}

void *tok_match_data_new(void) {
    return pcre2_match_data_create(1, NULL);
}

void tok_match_data_free(void *md) {
    if (md) pcre2_match_data_free(md);
}

/* Finds the next non-empty match in s[0..n) from pos: 1 found, 0 none,
 * or a negative PCRE2 error (a resource limit; never a syntax error). */
static int re_next(void *re, void *md, const char *s, size_t n, size_t pos, size_t *ms, size_t *me) {
    while (pos <= n) {
        int rc = pcre2_match(re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) return 0;
        if (rc < 0) return rc;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (ov[1] > ov[0]) {
            *ms = ov[0];
            *me = ov[1];
            return 1;
        }
        /* empty match: step one character and retry */
        pos = ov[0] + 1;
        while (pos < n && ((unsigned char)s[pos] & 0xC0) == 0x80) pos++;
    }
    return 0;
}

static ingot_status re_error(int rc, ingot_error *err) {
    PCRE2_UCHAR msg[128];
    pcre2_get_error_message(rc, msg, sizeof msg);
    return ingot_error_set(err, INGOT_E_RANGE, "pre-tokenizer regex gave up on this text: %s", (const char *)msg);
}

/* ---- normalizers ------------------------------------------------------- */

bool tok_is_white(uint32_t c) {
    return (c >= 9 && c <= 13) || c == 32 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000;
}

static ingot_status norm_unicode(tok_norm_kind k, const char *s, size_t n, tok_buf *out, ingot_error *err) {
    utf8proc_option_t opt = UTF8PROC_STABLE;
    switch (k) {
    case TOK_NORM_NFC: opt |= UTF8PROC_COMPOSE; break;
    case TOK_NORM_NFD: opt |= UTF8PROC_DECOMPOSE; break;
    case TOK_NORM_NFKC: opt |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    default: opt |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
    }
    out->n = 0;
    size_t i = 0;
    while (i < n) {
        /* ASCII characters never combine with their neighbours and are
         * fixed points of every form, so only the runs between them go
         * through utf8proc, and only when they hold a code point at or
         * above U+0300 (below it NFC is the identity). */
        size_t j = i;
        while (j < n && (unsigned char)s[j] < 0x80) j++;
        if (!tok_buf_put(out, s + i, j - i)) goto nomem;
        i = j;
        if (i >= n) break;
        bool needs = k != TOK_NORM_NFC;
        /* the ASCII character before the run may compose with it
         * ("e" + U+0301): take it along */
        if (i > 0) {
            out->n--;
            i--;
        }
        while (j < n && (unsigned char)s[j] >= 0x80) {
            if ((unsigned char)s[j] >= 0xCC) needs = true;
            j++;
        }
        if (!needs) {
            if (!tok_buf_put(out, s + i, j - i)) goto nomem;
        } else {
            utf8proc_uint8_t *dst = NULL;
            utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(j - i), &dst, opt);
            if (r < 0) {
                free(dst);
                return ingot_error_set(err, INGOT_E_INVALID_ARG, "normalization failed: %s",
                                       utf8proc_errmsg(r));
            }
            bool ok = tok_buf_put(out, dst, (size_t)r);
            free(dst);
            if (!ok) goto nomem;
        }
        i = j;
    }
    return tok_buf_put(out, "", 0) ? INGOT_OK : ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
nomem:
    return ingot_error_set(err, INGOT_E_NOMEM, "out of memory normalizing text");
}

static ingot_status norm_one(const tok_norm *nm, const char *s, size_t n, tok_buf *out, ingot_error *err) {
    out->n = 0;
    if (!tok_buf_reserve(out, n + 16)) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    switch (nm->kind) {
    case TOK_NORM_NFC:
    case TOK_NORM_NFD:
    case TOK_NORM_NFKC:
    case TOK_NORM_NFKD: return norm_unicode(nm->kind, s, n, out, err);
    case TOK_NORM_LOWERCASE:
        for (size_t i = 0; i < n;) {
            uint32_t cp;
            int l = tok_utf8_next((const unsigned char *)s + i, n - i, &cp);
            if (l <= 0) return ingot_error_set(err, INGOT_E_INTERNAL, "invalid UTF-8 reached the normalizer");
            char u[4];
            int m = tok_utf8_put(u, (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp));
            if (!tok_buf_put(out, u, (size_t)m)) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
            i += (size_t)l;
        }
        break;
    case TOK_NORM_PREPEND:
        if (n > 0 && !tok_buf_put(out, nm->a, strlen(nm->a)))
            return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        if (!tok_buf_put(out, s, n)) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        break;
    case TOK_NORM_REPLACE: {
        size_t la = strlen(nm->a), lb = strlen(nm->b);
        if (nm->re) {
            void *md = tok_match_data_new();
            if (!md) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
            size_t pos = 0, ms, me;
            int rc;
            while ((rc = re_next(nm->re, md, s, n, pos, &ms, &me)) > 0) {
                if (!tok_buf_put(out, s + pos, ms - pos) || !tok_buf_put(out, nm->b, lb)) {
                    tok_match_data_free(md);
                    return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
                }
                pos = me;
            }
            tok_match_data_free(md);
            if (rc < 0) return re_error(rc, err);
            if (!tok_buf_put(out, s + pos, n - pos)) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
            break;
        }
        if (la == 1 && lb <= 4) {
            /* the common case (' ' -> U+2581): one pass, no searching */
            char c = nm->a[0];
            if (!tok_buf_reserve(out, n * lb + 1)) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
            char *d = out->p;
            for (size_t i = 0; i < n; i++) {
                if (s[i] == c) {
                    memcpy(d, nm->b, lb);
                    d += lb;
                } else {
                    *d++ = s[i];
                }
            }
            out->n = (size_t)(d - out->p);
            out->p[out->n] = 0;
            break;
        }
        size_t i = 0;
        while (i < n) {
            const char *hit = la ? memmem(s + i, n - i, nm->a, la) : NULL;
            size_t end = hit ? (size_t)(hit - s) : n;
            if (!tok_buf_put(out, s + i, end - i)) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
            if (!hit) break;
            if (!tok_buf_put(out, nm->b, lb)) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
            i = end + la;
        }
        break;
    }
    case TOK_NORM_STRIP: {
        size_t a = 0, b = n;
        uint32_t cp;
        int l;
        while (nm->left && a < b && (l = tok_utf8_next((const unsigned char *)s + a, b - a, &cp)) > 0 && tok_is_white(cp))
            a += (size_t)l;
        while (nm->right && b > a) {
            size_t p = b - 1;
            while (p > a && ((unsigned char)s[p] & 0xC0) == 0x80) p--;
            l = tok_utf8_next((const unsigned char *)s + p, b - p, &cp);
            if (l <= 0 || !tok_is_white(cp)) break;
            b = p;
        }
        if (!tok_buf_put(out, s + a, b - a)) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        break;
    }
    }
    if (!tok_buf_put(out, "", 0)) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    return INGOT_OK;
}

ingot_status tok_normalize(const ingot_tokenizer *t, const char *s, size_t n, tok_buf *out, ingot_error *err) {
    out->n = 0;
    if (t->n_norm == 0) return tok_buf_put(out, s, n) ? INGOT_OK : ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    tok_buf tmp = {0};
    const char *cur = s;
    size_t curn = n;
    ingot_status st = INGOT_OK;
    for (int i = 0; i < t->n_norm && !st; i++) {
        /* ping-pong between out and tmp; the input of step i is never the
         * buffer it writes */
        tok_buf *dst = (i % 2 == 0) ? out : &tmp;
        if (i > 0 && cur == dst->p) dst = (dst == out) ? &tmp : out;
        st = norm_one(&t->norm[i], cur, curn, dst, err);
        cur = dst->p;
        curn = dst->n;
    }
    if (!st && cur != out->p) {
        out->n = 0;
        if (!tok_buf_put(out, cur, curn)) st = ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    tok_buf_free(&tmp);
    return st;
}

/* ---- pre-tokenizer ----------------------------------------------------- */

static bool spans_push(tok_spans *sp, uint32_t off, uint32_t len) {
    if (len == 0) return true;
    if (sp->n == sp->cap) {
        size_t cap = sp->cap ? sp->cap * 2 : 64;
        tok_span *v = realloc(sp->v, cap * sizeof *v);
        if (!v) return false;
        sp->v = v;
        sp->cap = cap;
    }
    sp->v[sp->n++] = (tok_span){off, len};
    return true;
}

/* Splits one span by a regex following Hugging Face's delimiter
 * behaviours; pieces go to out. 0 ok, 1 out of memory, <0 PCRE2 error. */
static int split_span(const tok_pre *p, void *md, const char *buf, tok_span sp, tok_spans *out) {
    const char *s = buf + sp.off;
    size_t n = sp.len, pos = 0, ms, me;
    /* pending piece (for the merged behaviours) */
    size_t ps = 0, pe = 0;
    bool have = false, prev_match = false;
#define EMIT(a, b) \
    do { if (!spans_push(out, (uint32_t)(sp.off + (a)), (uint32_t)((b) - (a)))) return 1; } while (0)
    /* Walks alternating (gap, match) segments; is_match after invert. */
    for (;;) {
        int rc = pos < n ? re_next(p->re, md, s, n, pos, &ms, &me) : 0;
        if (rc < 0) return rc;
        bool found = rc > 0;
        if (!found) ms = me = n;
        for (int part = 0; part < 2; part++) {
            size_t a = part == 0 ? pos : ms, b = part == 0 ? ms : me;
            if (a >= b) continue;
            bool is_match = (part == 1) != p->invert;
            switch (p->behavior) {
            case TOK_SPLIT_REMOVED:
                if (!is_match) EMIT(a, b);
                break;
            case TOK_SPLIT_ISOLATED: EMIT(a, b); break;
            case TOK_SPLIT_MERGED_PREV:
                if (is_match && !prev_match && have) {
                    pe = b;
                } else {
                    if (have) EMIT(ps, pe);
                    ps = a, pe = b, have = true;
                }
                break;
            case TOK_SPLIT_MERGED_NEXT:
                if (have && prev_match && !is_match) {
                    pe = b;
                } else {
                    if (have) EMIT(ps, pe);
                    ps = a, pe = b, have = true;
                }
                break;
            case TOK_SPLIT_CONTIGUOUS:
                if (have && is_match == prev_match) {
                    pe = b;
                } else {
                    if (have) EMIT(ps, pe);
                    ps = a, pe = b, have = true;
                }
                break;
            }
            prev_match = is_match;
        }
        if (!found) break;
        pos = me;
    }
    if (have) EMIT(ps, pe);
#undef EMIT
    return 0;
}

static ingot_status step_split(void *re, const tok_pre *p, void *md, const tok_buf *buf, tok_spans *spans,
                               tok_spans *tmp, ingot_error *err) {
    tmp->n = 0;
    tok_pre q = *p;
    q.re = re;
    for (size_t i = 0; i < spans->n; i++) {
        int rc = split_span(&q, md, buf->p, spans->v[i], tmp);
        if (rc > 0) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        if (rc < 0) return re_error(rc, err);
    }
    tok_spans sw = *spans;
    *spans = *tmp;
    *tmp = sw;
    return INGOT_OK;
}

/* Rewrites every span through a per-piece transform into scratch, then
 * swaps buffers. */
static ingot_status step_map(const tok_pre *p, bool first, tok_buf *buf, tok_spans *spans, tok_buf *scratch,
                             ingot_error *err) {
    scratch->n = 0;
    for (size_t i = 0; i < spans->n; i++) {
        const unsigned char *s = (const unsigned char *)buf->p + spans->v[i].off;
        size_t n = spans->v[i].len;
        size_t start = scratch->n;
        if (!tok_buf_reserve(scratch, n * 3 + 8)) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        char *d = scratch->p + scratch->n;
        if (p->kind == TOK_PRE_BYTE_LEVEL) {
            for (size_t k = 0; k < n; k++) {
                unsigned b = s[k];
                if (b >= 0x21 && b <= 0x7E) *d++ = (char)b;
                else d += tok_utf8_put(d, tok_byte_to_cp((uint8_t)b));
            }
        } else { /* METASPACE */
            size_t rl = strlen(p->repl);
            bool starts = n >= rl && !memcmp(s, p->repl, rl);
            bool pre = !starts && ((p->prepend == TOK_PREPEND_ALWAYS && !(n > 0 && s[0] == ' ')) ||
                                   (p->prepend == TOK_PREPEND_FIRST && first && i == 0 && spans->v[0].off == 0 &&
                                    !(n > 0 && s[0] == ' ')));
            if (pre) {
                memcpy(d, p->repl, rl);
                d += rl;
            }
            for (size_t k = 0; k < n; k++) {
                if (s[k] == ' ') {
                    memcpy(d, p->repl, rl);
                    d += rl;
                } else {
                    *d++ = (char)s[k];
                }
            }
        }
        scratch->n = (size_t)(d - scratch->p);
        spans->v[i].off = (uint32_t)start;
        spans->v[i].len = (uint32_t)(scratch->n - start);
    }
    tok_buf sw = *buf;
    *buf = *scratch;
    *scratch = sw;
    return INGOT_OK;
}

ingot_status tok_pretokenize(const ingot_tokenizer *t, const char *s, size_t n, bool first, tok_buf *buf,
                             tok_spans *spans, tok_buf *scratch, tok_spans *scratch2, void *md, ingot_error *err) {
    buf->n = 0;
    spans->n = 0;
    if (n > UINT32_MAX / 4) return ingot_error_set(err, INGOT_E_RANGE, "text segment of %zu bytes is too long", n);
    if (!tok_buf_put(buf, s, n) || !spans_push(spans, 0, (uint32_t)n))
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    for (int i = 0; i < t->n_pre; i++) {
        const tok_pre *p = &t->pre[i];
        ingot_status st = INGOT_OK;
        switch (p->kind) {
        case TOK_PRE_SPLIT: st = step_split(p->re, p, md, buf, spans, scratch2, err); break;
        case TOK_PRE_BYTE_LEVEL:
            if (p->add_prefix_space && spans->n > 0 && buf->p[spans->v[0].off] != ' ') {
                /* a leading space makes the first word look like any other */
                scratch->n = 0;
                if (!tok_buf_put(scratch, " ", 1) || !tok_buf_put(scratch, buf->p, buf->n))
                    return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
                for (size_t k = 0; k < spans->n; k++) spans->v[k].off += 1;
                spans->v[0].off -= 1;
                spans->v[0].len += 1;
                tok_buf sw = *buf;
                *buf = *scratch;
                *scratch = sw;
            }
            if (p->re) st = step_split(p->re, p, md, buf, spans, scratch2, err);
            if (!st) st = step_map(p, first, buf, spans, scratch, err);
            break;
        case TOK_PRE_METASPACE:
            st = step_map(p, first, buf, spans, scratch, err);
            if (!st && p->split) {
                tok_pre q = *p;
                q.behavior = TOK_SPLIT_MERGED_NEXT;
                q.invert = false;
                st = step_split(p->re, &q, md, buf, spans, scratch2, err);
            }
            break;
        }
        if (st) return st;
    }
    return INGOT_OK;
}

/* ---- building pipelines ------------------------------------------------ */

static tok_pre *pre_push(ingot_tokenizer *t, ingot_error *err) {
    tok_pre *p = realloc(t->pre, (size_t)(t->n_pre + 1) * sizeof *p);
    if (!p) {
        ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        return NULL;
    }
    t->pre = p;
    memset(&p[t->n_pre], 0, sizeof *p);
    return &p[t->n_pre++];
}

ingot_status tok_pre_add_split(ingot_tokenizer *t, const char *pattern, size_t len, bool literal,
                               tok_split_behavior b, bool invert, ingot_error *err) {
    void *re = tok_regex_compile(pattern, len, literal, err);
    if (!re) return err ? err->status : INGOT_E_FORMAT;
    tok_pre *p = pre_push(t, err);
    if (!p) {
        tok_regex_free(re);
        return INGOT_E_NOMEM;
    }
    p->kind = TOK_PRE_SPLIT;
    p->re = re;
    p->behavior = b;
    p->invert = invert;
    return INGOT_OK;
}

#define TOK_GPT2_REGEX "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

ingot_status tok_pre_add_byte_level(ingot_tokenizer *t, bool add_prefix_space, bool use_regex, ingot_error *err) {
    void *re = NULL;
    if (use_regex) {
        re = tok_regex_compile(TOK_GPT2_REGEX, strlen(TOK_GPT2_REGEX), false, err);
        if (!re) return err ? err->status : INGOT_E_FORMAT;
    }
    tok_pre *p = pre_push(t, err);
    if (!p) {
        tok_regex_free(re);
        return INGOT_E_NOMEM;
    }
    p->kind = TOK_PRE_BYTE_LEVEL;
    p->re = re;
    p->behavior = TOK_SPLIT_ISOLATED;
    p->add_prefix_space = add_prefix_space;
    return INGOT_OK;
}

ingot_status tok_pre_add_metaspace(ingot_tokenizer *t, const char *repl, tok_prepend prepend, bool split,
                                   ingot_error *err) {
    size_t rl = strlen(repl);
    if (rl == 0 || rl >= sizeof t->pre[0].repl)
        return ingot_error_set(err, INGOT_E_FORMAT, "Metaspace replacement must be one character");
    void *re = NULL;
    if (split) {
        re = tok_regex_compile(repl, rl, true, err);
        if (!re) return err ? err->status : INGOT_E_FORMAT;
    }
    tok_pre *p = pre_push(t, err);
    if (!p) {
        tok_regex_free(re);
        return INGOT_E_NOMEM;
    }
    p->kind = TOK_PRE_METASPACE;
    memcpy(p->repl, repl, rl + 1);
    p->prepend = prepend;
    p->split = split;
    p->re = re;
    return INGOT_OK;
}

ingot_status tok_norm_add(ingot_tokenizer *t, tok_norm_kind k, const char *a, const char *b, bool regex,
                          ingot_error *err) {
    tok_norm *nv = realloc(t->norm, (size_t)(t->n_norm + 1) * sizeof *nv);
    if (!nv) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    t->norm = nv;
    tok_norm *n = &nv[t->n_norm];
    memset(n, 0, sizeof *n);
    n->kind = k;
    if (k == TOK_NORM_STRIP) {
        n->left = a != NULL;
        n->right = b != NULL;
        t->n_norm++;
        return INGOT_OK;
    }
    n->a = strdup(a ? a : "");
    n->b = strdup(b ? b : "");
    if (!n->a || !n->b) {
        free(n->a);
        free(n->b);
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    if (regex) {
        n->re = tok_regex_compile(a, strlen(a), false, err);
        if (!n->re) {
            free(n->a);
            free(n->b);
            return err ? err->status : INGOT_E_FORMAT;
        }
    }
    t->n_norm++;
    return INGOT_OK;
}

/* ---- named pipelines (GGUF tokenizer.ggml.pre) ------------------------- */

#define TOK_LLAMA3_REGEX                                                                          \
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|" \
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define TOK_QWEN2_REGEX                                                                           \
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|" \
    "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

static ingot_status add_iso(ingot_tokenizer *t, const char *re, ingot_error *err) {
    return tok_pre_add_split(t, re, strlen(re), false, TOK_SPLIT_ISOLATED, false, err);
}

ingot_status tok_set_pre_by_name(ingot_tokenizer *t, const char *name, ingot_error *err) {
    ingot_status st;
    if (!name || !*name || !strcmp(name, "default") || !strcmp(name, "gpt-2") || !strcmp(name, "gpt2") ||
        !strcmp(name, "phi-2") || !strcmp(name, "olmo") || !strcmp(name, "mpt") || !strcmp(name, "roberta-bpe")) {
        return tok_pre_add_byte_level(t, false, true, err);
    }
    if (!strcmp(name, "llama-bpe") || !strcmp(name, "llama3") || !strcmp(name, "llama-v3") ||
        !strcmp(name, "dbrx") || !strcmp(name, "smaug-bpe")) {
        if ((st = add_iso(t, TOK_LLAMA3_REGEX, err))) return st;
        t->ignore_merges = true;
        return tok_pre_add_byte_level(t, false, false, err);
    }
    if (!strcmp(name, "qwen2") || !strcmp(name, "deepseek-r1-qwen")) {
        if ((st = add_iso(t, TOK_QWEN2_REGEX, err))) return st;
        return tok_pre_add_byte_level(t, false, false, err);
    }
    if (!strcmp(name, "deepseek-coder")) {
        static const char *const res[] = {
            "[\\r\\n]",
            "\\s?[A-Za-z\\x{00B5}\\x{00C0}-\\x{00D6}\\x{00D8}-\\x{00F6}\\x{00F8}-\\x{01BA}\\x{01BC}-\\x{01BF}"
            "\\x{01C4}-\\x{0293}\\x{0295}-\\x{02AF}\\x{0370}-\\x{0373}\\x{0376}\\x{0377}\\x{037B}-\\x{037D}"
            "\\x{037F}\\x{0386}\\x{0388}-\\x{038A}\\x{038C}\\x{038E}-\\x{03A1}\\x{03A3}-\\x{03F5}"
            "\\x{03F7}-\\x{0481}\\x{048A}-\\x{052F}\\x{0531}-\\x{0556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}"
            "\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}"
            "\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}"
            "\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}"
            "\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}"
            "\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}"
            "\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}"
            "\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}"
            "\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}"
            "\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}"
            "\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}"
            "\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}"
            "\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
            "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
            "\\s+$",
            "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
            "\\p{N}+",
            NULL};
        for (int i = 0; res[i]; i++)
            if ((st = add_iso(t, res[i], err))) return st;
        return tok_pre_add_byte_level(t, false, false, err);
    }
    if (!strcmp(name, "starcoder") || !strcmp(name, "refact") || !strcmp(name, "command-r") ||
        !strcmp(name, "smollm") || !strcmp(name, "codeshell")) {
        if ((st = add_iso(t, "\\p{N}", err))) return st;
        return tok_pre_add_byte_level(t, false, true, err);
    }
    if (!strcmp(name, "falcon")) {
        /* Punctuation (contiguous), byte-level with the GPT-2 regex, then
         * digit runs and groups of three ASCII digits split off, in the
         * byte-mapped domain as the published tokenizer does */
        if ((st = tok_pre_add_split(t, "[\\p{P}!-/:-@\\[-`{-~]", strlen("[\\p{P}!-/:-@\\[-`{-~]"), false,
                                    TOK_SPLIT_CONTIGUOUS, false, err)))
            return st;
        if ((st = tok_pre_add_byte_level(t, false, true, err))) return st;
        if ((st = add_iso(t, "\\p{N}+", err))) return st;
        return add_iso(t, "[0-9][0-9][0-9]", err);
    }
    return ingot_error_set(err, INGOT_E_UNSUPPORTED,
                           "pre-tokenizer '%s' is not supported (known: gpt-2, llama-bpe, qwen2, "
                           "deepseek-coder, starcoder, falcon)",
                           name);
}
