/* Python string semantics over UTF-8 for the template interpreter: case
 * mapping (utf8proc tables, Python's and Jinja2's title rules), strip with
 * a character set, split/rsplit/splitlines, replace, join, padding, and
 * conversions between code-point and byte offsets. */
#include <string.h>
#include <utf8proc.h>

#include "chat/strutil.h"

static bool is_cased(uint32_t cp) {
    utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
    return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT;
}

static void put_cp(jbuf *b, uint32_t cp) {
    char u[4];
    jbuf_put(b, u, ju8_encode(cp, u));
}

static uint32_t up(uint32_t cp) { return (uint32_t)utf8proc_toupper((utf8proc_int32_t)cp); }
static uint32_t lo(uint32_t cp) { return (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp); }
static uint32_t ti(uint32_t cp) { return (uint32_t)utf8proc_totitle((utf8proc_int32_t)cp); }

/* Unicode SpecialCasing mappings that expand to several characters (Python
 * applies them; utf8proc's per-code-point tables cannot). */
static const struct { uint32_t cp; const char *upper, *title, *lower; } special[] = {
    {0x00DF, "SS", "Ss", NULL},   {0xFB00, "FF", "Ff", NULL},   {0xFB01, "FI", "Fi", NULL},
    {0xFB02, "FL", "Fl", NULL},   {0xFB03, "FFI", "Ffi", NULL}, {0xFB04, "FFL", "Ffl", NULL},
    {0xFB05, "ST", "St", NULL},   {0xFB06, "ST", "St", NULL},
    {0x0149, "\xCA\xBCN", "\xCA\xBCN", NULL},
    {0x0130, NULL, NULL, "i\xCC\x87"},
};

static const char *special_case(uint32_t cp, int which) {
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        if (special[i].cp == cp) return which == 0 ? special[i].upper : which == 1 ? special[i].title : special[i].lower;
    return NULL;
}

/* Jinja2's title splits before runs of '-', whitespace and opening brackets. */
static bool jinja_title_sep(uint32_t cp) {
    return cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || ju_isspace(cp);
}

jv js_case(jctx *c, jv s, jcase mode) {
    jbuf b;
    jbuf_init(&b, 0);
    bool prev_cased = false, first = true, prev_sep = true;
    for (size_t i = 0; i < s.u.s.len;) {
        uint32_t cp;
        i += ju8_decode(s.u.s.p + i, s.u.s.len - i, &cp);
        uint32_t o = cp;
        int which = -1; /* 0 upper, 1 title, 2 lower: the mapping applied */
        switch (mode) {
        case JCASE_UPPER: which = 0; break;
        case JCASE_LOWER: which = 2; break;
        case JCASE_SWAP: which = is_cased(cp) ? (lo(cp) == cp ? 0 : 2) : -1; break;
        case JCASE_CAPITALIZE: which = first ? 1 : 2; break;
        case JCASE_TITLE_PY:
            which = prev_cased ? 2 : 1;
            prev_cased = is_cased(cp);
            break;
        case JCASE_TITLE_JINJA: {
            /* each piece of re.split(r"([-\s({[<]+)") gets item[0].upper() + item[1:].lower() */
            bool sep = jinja_title_sep(cp);
            bool piece_start = first || sep != prev_sep;
            which = piece_start ? 0 : 2;
            prev_sep = sep;
            break;
        }
        }
        first = false;
        const char *sp = which >= 0 ? special_case(cp, which) : NULL;
        if (sp) {
            jbuf_puts(&b, sp);
            continue;
        }
        o = which == 0 ? up(cp) : which == 1 ? ti(cp) : which == 2 ? lo(cp) : cp;
        put_cp(&b, o);
    }
    jv r = jbuf_to_str(c, &b);
    r.flags = s.flags & JVF_MARKUP;
    jbuf_free(&b);
    return r;
}

static bool in_chars(uint32_t cp, const jv *chars) {
    if (!chars) return ju_isspace(cp);
    for (size_t i = 0; i < chars->u.s.len;) {
        uint32_t x;
        i += ju8_decode(chars->u.s.p + i, chars->u.s.len - i, &x);
        if (x == cp) return true;
    }
    return false;
}

jv js_strip(jctx *c, jv s, const jv *chars, int which) {
    (void)c;
    const char *p = s.u.s.p;
    size_t a = 0, b = s.u.s.len;
    if (which & 1) {
        while (a < b) {
            uint32_t cp;
            size_t k = ju8_decode(p + a, b - a, &cp);
            if (!in_chars(cp, chars)) break;
            a += k;
        }
    }
    if (which & 2) {
        while (b > a) {
            size_t st = b - 1;
            while (st > a && ((unsigned char)p[st] & 0xC0) == 0x80) st--;
            uint32_t cp;
            ju8_decode(p + st, b - st, &cp);
            if (!in_chars(cp, chars)) break;
            b = st;
        }
    }
    jv r = jv_str(p + a, b - a);
    r.flags = s.flags & JVF_MARKUP;
    return r;
}

static jv piece(jv s, size_t a, size_t b) {
    jv r = jv_str(s.u.s.p + a, b - a);
    r.flags = s.flags & JVF_MARKUP;
    return r;
}

static size_t ws_len_at(const char *p, size_t n, size_t i) {
    uint32_t cp;
    size_t k = ju8_decode(p + i, n - i, &cp);
    return ju_isspace(cp) ? k : 0;
}

static size_t ws_len_before(const char *p, size_t i) {
    size_t st = i - 1;
    while (st > 0 && ((unsigned char)p[st] & 0xC0) == 0x80) st--;
    uint32_t cp;
    ju8_decode(p + st, i - st, &cp);
    return ju_isspace(cp) ? i - st : 0;
}

bool js_split(jctx *c, jv s, const jv *sep, int64_t maxsplit, bool from_right, jv *out) {
    jv l = jv_list_new(c, 0);
    if (l.t != JV_LIST) return false;
    const char *p = s.u.s.p;
    size_t n = s.u.s.len;
    if (sep && sep->u.s.len == 0) return jctx_fail(c, "ValueError", "empty separator");
    /* collect pieces in order; rsplit collects from the right, then reverses */
    jv tmp = jv_list_new(c, 0);
    if (tmp.t != JV_LIST) return false;
    int64_t splits = 0;
    if (!sep) {
        if (!from_right) {
            size_t i = 0;
            for (;;) {
                size_t k;
                while (i < n && (k = ws_len_at(p, n, i))) i += k;
                if (i >= n) break;
                if (maxsplit >= 0 && splits >= maxsplit) { /* the rest, as is */
                    jlist_push(c, tmp.u.l, piece(s, i, n));
                    break;
                }
                size_t st = i;
                while (i < n && !ws_len_at(p, n, i)) {
                    uint32_t cp;
                    i += ju8_decode(p + i, n - i, &cp);
                }
                jlist_push(c, tmp.u.l, piece(s, st, i));
                splits++;
            }
        } else {
            size_t i = n;
            for (;;) {
                size_t k;
                while (i > 0 && (k = ws_len_before(p, i))) i -= k;
                if (i == 0) break;
                if (maxsplit >= 0 && splits >= maxsplit) { /* the rest, as is */
                    jlist_push(c, tmp.u.l, piece(s, 0, i));
                    break;
                }
                size_t e = i;
                while (i > 0 && !ws_len_before(p, i)) {
                    i--;
                    while (i > 0 && ((unsigned char)p[i] & 0xC0) == 0x80) i--;
                }
                jlist_push(c, tmp.u.l, piece(s, i, e));
                splits++;
            }
        }
    } else {
        const char *q = sep->u.s.p;
        size_t m = sep->u.s.len;
        if (!from_right) {
            size_t i = 0;
            for (;;) {
                const char *h = (maxsplit >= 0 && splits >= maxsplit) ? NULL : memmem(p + i, n - i, q, m);
                if (!h) {
                    jlist_push(c, tmp.u.l, piece(s, i, n));
                    break;
                }
                size_t at = (size_t)(h - p);
                jlist_push(c, tmp.u.l, piece(s, i, at));
                i = at + m;
                splits++;
            }
        } else {
            size_t e = n;
            for (;;) {
                size_t at = (size_t)-1;
                if (!(maxsplit >= 0 && splits >= maxsplit) && e >= m)
                    for (size_t k = e - m + 1; k-- > 0;)
                        if (memcmp(p + k, q, m) == 0) { at = k; break; }
                if (at == (size_t)-1) {
                    jlist_push(c, tmp.u.l, piece(s, 0, e));
                    break;
                }
                jlist_push(c, tmp.u.l, piece(s, at + m, e));
                e = at;
                splits++;
            }
        }
    }
    if (from_right)
        for (size_t i = tmp.u.l->n; i-- > 0;) jlist_push(c, l.u.l, tmp.u.l->items[i]);
    else l = tmp;
    *out = l;
    return !c->failed;
}

bool js_splitlines(jctx *c, jv s, bool keepends, jv *out) {
    jv l = jv_list_new(c, 0);
    if (l.t != JV_LIST) return false;
    const char *p = s.u.s.p;
    size_t n = s.u.s.len, st = 0, i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = ju8_decode(p + i, n - i, &cp);
        bool brk = cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || cp == 0x1C || cp == 0x1D ||
                   cp == 0x1E || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
        if (!brk) {
            i += k;
            continue;
        }
        size_t e = i;
        i += k;
        if (cp == '\r' && i < n && p[i] == '\n') i++;
        jlist_push(c, l.u.l, piece(s, st, keepends ? i : e));
        st = i;
    }
    if (st < n) jlist_push(c, l.u.l, piece(s, st, n));
    *out = l;
    return !c->failed;
}

jv js_replace(jctx *c, jv s, jv old, jv rep, int64_t count) {
    jbuf b;
    jbuf_init(&b, c->opt.max_output);
    const char *p = s.u.s.p;
    size_t n = s.u.s.len, i = 0;
    int64_t done = 0;
    if (old.u.s.len == 0) {
        /* Python inserts the replacement around every character */
        while (count < 0 || done < count) {
            jbuf_put(&b, rep.u.s.p, rep.u.s.len);
            done++;
            if (i >= n) break;
            uint32_t cp;
            size_t k = ju8_decode(p + i, n - i, &cp);
            jbuf_put(&b, p + i, k);
            i += k;
        }
        jbuf_put(&b, p + i, n - i);
    } else {
        while (count < 0 || done < count) {
            const char *h = memmem(p + i, n - i, old.u.s.p, old.u.s.len);
            if (!h) break;
            size_t at = (size_t)(h - p);
            jbuf_put(&b, p + i, at - i);
            jbuf_put(&b, rep.u.s.p, rep.u.s.len);
            i = at + old.u.s.len;
            done++;
        }
        jbuf_put(&b, p + i, n - i);
    }
    if (b.overflow) jctx_fail(c, "MemoryError", "string too long");
    jv r = jbuf_to_str(c, &b);
    jbuf_free(&b);
    return r;
}

size_t js_cp_to_byte(jv s, int64_t cp) {
    size_t i = 0;
    for (int64_t k = 0; k < cp && i < s.u.s.len; k++) {
        uint32_t x;
        i += ju8_decode(s.u.s.p + i, s.u.s.len - i, &x);
    }
    return i;
}

int64_t js_byte_to_cp(jv s, size_t byte) { return (int64_t)ju8_count(s.u.s.p, byte); }

bool js_join(jctx *c, jlist *items, jv sep, jv *out) {
    jbuf b;
    jbuf_init(&b, c->opt.max_output);
    for (size_t i = 0; i < items->n; i++) {
        if (i) jbuf_put(&b, sep.u.s.p, sep.u.s.len);
        jv_to_str(c, items->items[i], &b);
    }
    if (b.overflow) {
        jbuf_free(&b);
        return jctx_fail(c, "MemoryError", "string too long");
    }
    *out = jbuf_to_str(c, &b);
    jbuf_free(&b);
    return !c->failed;
}

bool js_is_word_cp(uint32_t cp) {
    if (cp == '_') return true;
    if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
    return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
           (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

jv js_tuple2(jctx *c, jv a, jv b) {
    jv t = jv_list_new(c, 2);
    if (t.t != JV_LIST) return t;
    jlist_push(c, t.u.l, a);
    jlist_push(c, t.u.l, b);
    t.flags = JVF_TUPLE;
    return t;
}

jv js_pad(jctx *c, jv s, int64_t width, char align, jv fill) {
    int64_t len = (int64_t)ju8_count(s.u.s.p, s.u.s.len);
    if (width <= len) return s;
    if (width > (int64_t)c->opt.max_output) {
        jctx_fail(c, "MemoryError", "padding width too large");
        return s;
    }
    int64_t pad = width - len, left;
    if (align == '<') left = 0;
    else if (align == '>') left = pad;
    else if (align == 'C') left = pad / 2 + (pad & width & 1); /* Python str.center */
    else left = pad / 2;                                       /* format spec '^' */
    jbuf b;
    jbuf_init(&b, 0);
    for (int64_t i = 0; i < left; i++) jbuf_put(&b, fill.u.s.p, fill.u.s.len);
    jbuf_put(&b, s.u.s.p, s.u.s.len);
    for (int64_t i = 0; i < pad - left; i++) jbuf_put(&b, fill.u.s.p, fill.u.s.len);
    jv r = jbuf_to_str(c, &b);
    jbuf_free(&b);
    return r;
}
