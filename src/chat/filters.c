/* Jinja2's builtin filters and tests as HF's environment provides them
 * (tojson replaced by HF's json.dumps wrapper: ensure_ascii off, Python
 * separators, optional indent/sort_keys). Each follows the documented
 * Jinja2 behaviour, including its quirks: map/select/reject/items return
 * one-shot generators, `default` only replaces Undefined unless asked,
 * `int` of "4.2" is 4, `indent` skips blank lines, `title` splits on
 * brackets and dashes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/strutil.h"

#define FILTER(name) static bool f_##name(jctx *c, jv in, const jargs *a, jv *out)
#define TEST(name) static bool t_##name(jctx *c, jv in, const jargs *a, bool *out)

static bool need_str(jctx *c, jv *v) {
    if (v->t == JV_UNDEF) {
        *v = jv_str("", 0);
        return true;
    }
    *v = jv_stringify(c, *v);
    return !c->failed;
}

static bool arg_int(jctx *c, jv v, int64_t dflt, int64_t *out, const char *what) {
    if (v.t == JV_UNDEF || v.t == JV_NONE) { *out = dflt; return true; }
    if (v.t == JV_INT) { *out = v.u.i; return true; }
    if (v.t == JV_BOOL) { *out = v.u.b; return true; }
    return jctx_fail(c, "TypeError", "%s must be an integer, not %s", what, jv_type_name(v));
}

static jv gen_of(jv list) {
    list.flags = JVF_GEN;
    return list;
}

/* Dotted attribute path as map/selectattr/sort use it ("a.b", "items.0"). */
static bool attr_path(jctx *c, jv item, jv attr, jv dflt, jv *out) {
    if (attr.t == JV_INT) {
        if (item.t == JV_UNDEF) return jctx_fail(c, "UndefinedError", "%.*s", (int)item.u.s.len, item.u.s.p);
        *out = jinja_getitem(c, item, attr);
    } else {
        jv as = jv_stringify(c, attr);
        const char *p = as.u.s.p, *end = p + as.u.s.len;
        while (p <= end) {
            const char *dot = memchr(p, '.', (size_t)(end - p));
            if (!dot) dot = end;
            if (item.t == JV_UNDEF)
                return jctx_fail(c, "UndefinedError", "%.*s", (int)item.u.s.len, item.u.s.p);
            bool digits = dot > p;
            for (const char *q = p; q < dot; q++)
                if (*q < '0' || *q > '9') digits = false;
            if (digits) item = jinja_getitem(c, item, jv_int(strtoll(p, NULL, 10)));
            else item = jinja_getitem(c, item, jv_str(p, (size_t)(dot - p)));
            p = dot + 1;
        }
        *out = item;
    }
    if (out->t == JV_UNDEF && dflt.t != JV_UNDEF && dflt.t != JV_NONE) *out = dflt;
    return !c->failed;
}

static jargs sub_args(const jargs *a, size_t from) {
    jargs r = *a;
    if (from >= a->n) {
        r.n = 0;
        r.pos = NULL;
    } else {
        r.n = a->n - from;
        r.pos = a->pos + from;
    }
    return r;
}

/* ------------------------------------------------------------ filters -- */
FILTER(abs) {
    (void)a;
    if (in.t == JV_INT) { *out = jv_int(in.u.i < 0 ? -in.u.i : in.u.i); return true; }
    if (in.t == JV_BOOL) { *out = jv_int(in.u.b); return true; }
    if (in.t == JV_FLOAT) { *out = jv_float(fabs(in.u.f)); return true; }
    return jctx_fail(c, "TypeError", "bad operand type for abs(): '%s'", jv_type_name(in));
}

FILTER(attr) {
    jv name = jargs_get(a, 0, "name");
    if (in.t == JV_UNDEF) return jctx_fail(c, "UndefinedError", "%.*s", (int)in.u.s.len, in.u.s.p);
    name = jv_stringify(c, name);
    /* getattr only: unlike obj.name in a template, no fallback to obj[name] */
    if (in.t == JV_DICT && !(in.flags & JVF_NS) && !jinja_method_lookup(c, in, name.u.s.p, name.u.s.len, out)) {
        *out = jv_undef_msg(c, "'dict object' has no attribute '%.*s'", (int)name.u.s.len, name.u.s.p);
        return !c->failed;
    }
    *out = jinja_getattr(c, in, name.u.s.p, name.u.s.len);
    return !c->failed;
}

FILTER(batch) {
    int64_t n = 0;
    if (!arg_int(c, jargs_get(a, 0, "linecount"), 1, &n, "linecount")) return false;
    if (n <= 0) return jctx_fail(c, "ValueError", "batch size must be positive");
    jv fill = jargs_get(a, 1, "fill_with");
    jlist *items;
    if (!jv_iterate(c, in, &items)) return false;
    jv res = jv_list_new(c, 0), cur = jv_list_new(c, 0);
    for (size_t i = 0; i < items->n && !c->failed; i++) {
        if ((int64_t)cur.u.l->n == n) {
            jlist_push(c, res.u.l, cur);
            cur = jv_list_new(c, 0);
        }
        jlist_push(c, cur.u.l, items->items[i]);
    }
    if (cur.t == JV_LIST && cur.u.l->n) {
        if (fill.t != JV_UNDEF && fill.t != JV_NONE)
            while ((int64_t)cur.u.l->n < n && !c->failed) jlist_push(c, cur.u.l, fill);
        jlist_push(c, res.u.l, cur);
    }
    *out = gen_of(res);
    return !c->failed;
}

FILTER(capitalize) {
    (void)a;
    if (!need_str(c, &in)) return false;
    *out = js_case(c, in, JCASE_CAPITALIZE);
    return !c->failed;
}

FILTER(center) {
    int64_t w = 0;
    if (!arg_int(c, jargs_get(a, 0, "width"), 80, &w, "width") || !need_str(c, &in)) return false;
    *out = js_pad(c, in, w, 'C', jv_str(" ", 1));
    return !c->failed;
}

FILTER(default) {
    jv d = jargs_get(a, 0, "default_value");
    if (d.t == JV_UNDEF && !jargs_has(a, 0, "default_value")) d = jv_str("", 0);
    bool boolean = jv_truthy(jargs_get(a, 1, "boolean"));
    if (in.t == JV_UNDEF || (boolean && !jv_truthy(in))) *out = d;
    else *out = in;
    (void)c;
    return true;
}

static int sort_cmp(jctx *c, jv x, jv y, bool *ok) {
    bool cmp_ok;
    int r = jv_compare(c, x, y, &cmp_ok);
    if (!cmp_ok) {
        *ok = false;
        jctx_fail(c, "TypeError", "'<' not supported between instances of '%s' and '%s'", jv_type_name(x),
                  jv_type_name(y));
    }
    return r;
}

/* Stable merge sort of items by keys (both arrays permuted together). */
static bool msort(jctx *c, jv *keys, jv *items, size_t n, bool reverse) {
    if (n < 2) return true;
    jv *tk = jctx_alloc(c, n * sizeof(jv)), *ti = jctx_alloc(c, n * sizeof(jv));
    if (!tk || !ti) return false;
    bool ok = true;
    for (size_t w = 1; w < n && ok; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                int r = sort_cmp(c, keys[j], keys[i], &ok);
                if (!ok) return false;
                bool take_right = reverse ? r > 0 : r < 0;
                if (take_right) { tk[k] = keys[j]; ti[k++] = items[j++]; }
                else { tk[k] = keys[i]; ti[k++] = items[i++]; }
            }
            while (i < mid) { tk[k] = keys[i]; ti[k++] = items[i++]; }
            while (j < hi) { tk[k] = keys[j]; ti[k++] = items[j++]; }
        }
        memcpy(keys, tk, n * sizeof(jv));
        memcpy(items, ti, n * sizeof(jv));
    }
    return ok;
}

static jv fold_key(jctx *c, jv k, bool case_sensitive) {
    if (!case_sensitive && k.t == JV_STR) return js_case(c, k, JCASE_LOWER);
    return k;
}

FILTER(dictsort) {
    bool cs = jv_truthy(jargs_get(a, 0, "case_sensitive"));
    jv by = jargs_get(a, 1, "by");
    bool reverse = jv_truthy(jargs_get(a, 2, "reverse"));
    int pos = 0;
    if (by.t == JV_STR) {
        if (by.u.s.len == 5 && !memcmp(by.u.s.p, "value", 5)) pos = 1;
        else if (!(by.u.s.len == 3 && !memcmp(by.u.s.p, "key", 3)))
            return jctx_fail(c, "FilterArgumentError", "You can only sort by either \"key\" or \"value\"");
    }
    if (in.t != JV_DICT || (in.flags & JVF_NS))
        return jctx_fail(c, "TypeError", "dictsort expects a mapping, got %s", jv_type_name(in));
    size_t n = in.u.d->n;
    jv *keys = jctx_alloc(c, (n + 1) * sizeof(jv)), *items = jctx_alloc(c, (n + 1) * sizeof(jv));
    if (!keys || !items) return false;
    for (size_t i = 0; i < n; i++) {
        items[i] = js_tuple2(c, in.u.d->keys[i], in.u.d->vals[i]);
        keys[i] = fold_key(c, pos ? in.u.d->vals[i] : in.u.d->keys[i], cs);
    }
    if (!msort(c, keys, items, n, reverse)) return false;
    jv l = jv_list_new(c, n);
    for (size_t i = 0; i < n; i++) jlist_push(c, l.u.l, items[i]);
    *out = l;
    return !c->failed;
}

FILTER(escape) {
    (void)a;
    if (in.t == JV_STR && (in.flags & JVF_MARKUP)) { *out = in; return true; }
    if (!need_str(c, &in)) return false;
    jbuf b;
    jbuf_init(&b, 0);
    jv_html_escape(in.u.s.p, in.u.s.len, &b);
    *out = jbuf_to_str(c, &b);
    out->flags = JVF_MARKUP;
    jbuf_free(&b);
    return !c->failed;
}

FILTER(forceescape) {
    if (in.t == JV_STR) in.flags &= (uint8_t)~JVF_MARKUP;
    return f_escape(c, in, a, out);
}

FILTER(first) {
    (void)a;
    jlist *l;
    if (!jv_iterate(c, in, &l)) return false;
    *out = l->n ? l->items[0] : jv_undef_msg(c, "No first item, sequence was empty.");
    return !c->failed;
}

FILTER(last) {
    (void)a;
    if (in.t == JV_LIST && (in.flags & JVF_GEN))
        return jctx_fail(c, "TypeError", "'generator' object is not reversible");
    jlist *l;
    if (!jv_iterate(c, in, &l)) return false;
    *out = l->n ? l->items[l->n - 1] : jv_undef_msg(c, "No last item, sequence was empty.");
    return !c->failed;
}

static bool parse_float_str(jv s, double *out) {
    jv t = js_strip(NULL, s, NULL, 3);
    char buf[128];
    size_t o = 0;
    for (size_t i = 0; i < t.u.s.len; i++) {
        char ch = t.u.s.p[i];
        if (ch == '_') continue;
        if (o + 1 >= sizeof buf) return false;
        buf[o++] = ch;
    }
    buf[o] = 0;
    if (!o) return false;
    char *e;
    double v = strtod(buf, &e);
    if (*e) return false;
    /* strtod accepts hex and "infinity"/"nan" forms; Python accepts the latter too */
    if (strchr(buf, 'x') || strchr(buf, 'X')) return false;
    *out = v;
    return true;
}

static bool parse_int_str(jv s, int base, int64_t *out) {
    jv t = js_strip(NULL, s, NULL, 3);
    char buf[128];
    size_t o = 0;
    for (size_t i = 0; i < t.u.s.len; i++) {
        char ch = t.u.s.p[i];
        if (ch == '_' && i > 0) continue;
        if (o + 1 >= sizeof buf) return false;
        buf[o++] = ch;
    }
    buf[o] = 0;
    if (!o) return false;
    char *p = buf;
    if (*p == '+' || *p == '-') p++;
    if (!*p) return false;
    /* Python's int(s, base): a 0x/0o/0b prefix matching the base (or base 0) */
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X' || p[1] == 'o' || p[1] == 'O' || p[1] == 'b' || p[1] == 'B')) {
        int pb = (p[1] == 'x' || p[1] == 'X') ? 16 : (p[1] == 'o' || p[1] == 'O') ? 8 : 2;
        if (base == 0 || base == pb) {
            base = pb;
            memmove(p, p + 2, strlen(p + 2) + 1);
            if (!*p) return false;
        }
    }
    if (base == 0) {
        if (p[0] == '0' && p[1]) return false; /* "012" is invalid with base 0 */
        base = 10;
    }
    if (base < 2 || base > 36) return false;
    for (const char *q = p; *q; q++) {
        int d = (*q >= '0' && *q <= '9') ? *q - '0' : (*q >= 'a' && *q <= 'z') ? *q - 'a' + 10
                : (*q >= 'A' && *q <= 'Z') ? *q - 'A' + 10 : 99;
        if (d >= base) return false;
    }
    char *e;
    long long v = strtoll(buf, &e, base);
    if (*e) return false;
    *out = v;
    return true;
}

FILTER(float) {
    jv d = jargs_get(a, 0, "default");
    if (in.t == JV_UNDEF) return jctx_fail(c, "UndefinedError", "%.*s", (int)in.u.s.len, in.u.s.p);
    double f;
    if (in.t == JV_FLOAT) f = in.u.f;
    else if (in.t == JV_INT) f = (double)in.u.i;
    else if (in.t == JV_BOOL) f = in.u.b;
    else if (in.t == JV_STR && parse_float_str(in, &f)) {
    } else {
        *out = d.t == JV_UNDEF ? jv_float(0.0) : d;
        return true;
    }
    (void)c;
    *out = jv_float(f);
    return true;
}

FILTER(int) {
    jv d = jargs_get(a, 0, "default");
    if (in.t == JV_UNDEF) return jctx_fail(c, "UndefinedError", "%.*s", (int)in.u.s.len, in.u.s.p);
    int64_t base = 0;
    if (!arg_int(c, jargs_get(a, 1, "base"), 10, &base, "base")) return false;
    int64_t v = 0;
    double f;
    if (in.t == JV_INT) v = in.u.i;
    else if (in.t == JV_BOOL) v = in.u.b;
    else if (in.t == JV_FLOAT && isfinite(in.u.f) && fabs(in.u.f) < 9.2e18) v = (int64_t)in.u.f;
    else if (in.t == JV_STR && parse_int_str(in, (int)base, &v)) {
    } else if (in.t == JV_STR && parse_float_str(in, &f) && isfinite(f) && fabs(f) < 9.2e18) v = (int64_t)f;
    else {
        *out = d.t == JV_UNDEF ? jv_int(0) : d;
        return true;
    }
    *out = jv_int(v);
    return true;
}

FILTER(indent) {
    jv w = jargs_get(a, 0, "width");
    bool first = jv_truthy(jargs_get(a, 1, "first"));
    bool blank = jv_truthy(jargs_get(a, 2, "blank"));
    jv ind = {0};
    if (w.t == JV_STR) ind = w;
    else {
        int64_t n = 0;
        if (!arg_int(c, w, 4, &n, "width")) return false;
        if (n < 0) n = 0;
        if (n > 4096) return jctx_fail(c, "ValueError", "indent width too large");
        char *sp = jctx_alloc(c, (size_t)n + 1);
        if (!sp) return false;
        memset(sp, ' ', (size_t)n);
        ind = jv_str(sp, (size_t)n);
    }
    /* Jinja2 does `s += "\n"` on the value itself: only strings work */
    if (in.t == JV_UNDEF) return jctx_fail(c, "UndefinedError", "%.*s", (int)in.u.s.len, in.u.s.p);
    if (in.t != JV_STR)
        return jctx_fail(c, "TypeError", "unsupported operand type(s) for +=: '%s' and 'str'", jv_type_name(in));
    /* Jinja appends "\n" before splitlines so a trailing newline is kept */
    jbuf t;
    jbuf_init(&t, 0);
    jbuf_put(&t, in.u.s.p, in.u.s.len);
    jbuf_putc(&t, '\n');
    jv s2 = jbuf_to_str(c, &t);
    jbuf_free(&t);
    jv lines = {0};
    if (!js_splitlines(c, s2, false, &lines)) return false;
    jbuf b;
    jbuf_init(&b, c->opt.max_output);
    if (first) jbuf_put(&b, ind.u.s.p, ind.u.s.len);
    for (size_t i = 0; i < lines.u.l->n; i++) {
        jv ln = lines.u.l->items[i];
        if (i) {
            jbuf_putc(&b, '\n');
            if (blank || ln.u.s.len) jbuf_put(&b, ind.u.s.p, ind.u.s.len);
        }
        jbuf_put(&b, ln.u.s.p, ln.u.s.len);
    }
    *out = jbuf_to_str(c, &b);
    out->flags = in.flags & JVF_MARKUP;
    jbuf_free(&b);
    return !c->failed;
}

FILTER(items) {
    (void)a;
    if (in.t == JV_UNDEF) {
        *out = gen_of(jv_list_new(c, 0));
        return !c->failed;
    }
    if (in.t != JV_DICT || (in.flags & JVF_NS))
        return jctx_fail(c, "TypeError", "Can only get item pairs from a mapping.");
    jv l = jv_list_new(c, in.u.d->n);
    for (size_t i = 0; i < in.u.d->n && !c->failed; i++)
        jlist_push(c, l.u.l, js_tuple2(c, in.u.d->keys[i], in.u.d->vals[i]));
    *out = gen_of(l);
    return !c->failed;
}

FILTER(join) {
    jv sep = jargs_get(a, 0, "d");
    if (sep.t == JV_UNDEF) sep = jv_str("", 0);
    else if (!need_str(c, &sep)) return false;
    jv attr = jargs_get(a, 1, "attribute");
    jlist *l;
    if (!jv_iterate(c, in, &l)) return false;
    if (attr.t != JV_UNDEF && attr.t != JV_NONE) {
        jv m = jv_list_new(c, l->n);
        for (size_t i = 0; i < l->n; i++) {
            jv v = {0};
            if (!attr_path(c, l->items[i], attr, jv_undef(), &v)) return false;
            jlist_push(c, m.u.l, v);
        }
        l = m.u.l;
    }
    return js_join(c, l, sep, out);
}

FILTER(length) {
    (void)a;
    int64_t n = 0;
    if (!jv_length(c, in, &n)) return false;
    *out = jv_int(n);
    return true;
}

FILTER(list) {
    (void)a;
    jlist *l;
    if (!jv_iterate(c, in, &l)) return false;
    jv r = jv_list_new(c, l->n);
    for (size_t i = 0; i < l->n; i++) jlist_push(c, r.u.l, l->items[i]);
    *out = r;
    return !c->failed;
}

FILTER(lower) {
    (void)a;
    if (!need_str(c, &in)) return false;
    *out = js_case(c, in, JCASE_LOWER);
    return !c->failed;
}

FILTER(upper) {
    (void)a;
    if (!need_str(c, &in)) return false;
    *out = js_case(c, in, JCASE_UPPER);
    return !c->failed;
}

FILTER(title) {
    (void)a;
    if (!need_str(c, &in)) return false;
    *out = js_case(c, in, JCASE_TITLE_JINJA);
    return !c->failed;
}

FILTER(map) {
    jlist *l;
    if (!jv_truthy(in)) { /* Jinja2 maps nothing over a falsy value (even None) */
        *out = gen_of(jv_list_new(c, 0));
        return !c->failed;
    }
    if (!jv_iterate(c, in, &l)) return false;
    jv r = jv_list_new(c, l->n);
    if (a->n == 0) {
        jv attr = jargs_get(a, 99, "attribute");
        if (attr.t == JV_UNDEF) return jctx_fail(c, "FilterArgumentError", "map requires a filter argument");
        jv dflt = jargs_get(a, 99, "default");
        for (size_t i = 0; i < a->nkw; i++)
            if (strcmp(a->kwnames[i], "attribute") && strcmp(a->kwnames[i], "default"))
                return jctx_fail(c, "FilterArgumentError", "Unexpected keyword argument '%s'", a->kwnames[i]);
        for (size_t i = 0; i < l->n; i++) {
            jv v = {0};
            if (!attr_path(c, l->items[i], attr, dflt, &v)) return false;
            jlist_push(c, r.u.l, v);
        }
    } else {
        jv name = jv_stringify(c, a->pos[0]);
        char nm[64];
        snprintf(nm, sizeof nm, "%.*s", (int)name.u.s.len, name.u.s.p);
        jargs rest = sub_args(a, 1);
        for (size_t i = 0; i < l->n; i++) {
            jv v = {0};
            if (!jinja_apply_filter(c, nm, l->items[i], &rest, &v)) return false;
            jlist_push(c, r.u.l, v);
        }
    }
    *out = gen_of(r);
    return !c->failed;
}

static bool select_common(jctx *c, jv in, const jargs *a, bool attr_mode, bool keep, jv *out) {
    jlist *l;
    if (!jv_truthy(in)) { /* Jinja2 selects nothing from a falsy value (even None) */
        *out = gen_of(jv_list_new(c, 0));
        return !c->failed;
    }
    if (!jv_iterate(c, in, &l)) return false;
    size_t off = attr_mode ? 1 : 0;
    jv attr = attr_mode ? jargs_get(a, 0, NULL) : jv_undef();
    bool has_test = a->n > off;
    char nm[64] = "";
    if (has_test) {
        jv name = jv_stringify(c, a->pos[off]);
        snprintf(nm, sizeof nm, "%.*s", (int)name.u.s.len, name.u.s.p);
    }
    jargs rest = sub_args(a, off + 1);
    jv r = jv_list_new(c, 0);
    for (size_t i = 0; i < l->n; i++) {
        jv v = l->items[i];
        if (attr_mode && !attr_path(c, v, attr, jv_undef(), &v)) return false;
        bool t;
        if (has_test) {
            if (!jinja_apply_test(c, nm, v, &rest, &t)) return false;
        } else t = jv_truthy(v);
        if (t == keep) jlist_push(c, r.u.l, l->items[i]);
    }
    *out = gen_of(r);
    return !c->failed;
}

FILTER(select) { return select_common(c, in, a, false, true, out); }
FILTER(reject) { return select_common(c, in, a, false, false, out); }
FILTER(selectattr) { return select_common(c, in, a, true, true, out); }
FILTER(rejectattr) { return select_common(c, in, a, true, false, out); }

static bool minmax(jctx *c, jv in, const jargs *a, bool want_max, jv *out) {
    bool cs = jv_truthy(jargs_get(a, 0, "case_sensitive"));
    jv attr = jargs_get(a, 1, "attribute");
    jlist *l;
    if (!jv_iterate(c, in, &l)) return false;
    if (!l->n) {
        *out = jv_undef_msg(c, "No aggregated item, sequence was empty.");
        return true;
    }
    jv best = l->items[0], bk = best;
    if (attr.t != JV_UNDEF && attr.t != JV_NONE && !attr_path(c, best, attr, jv_undef(), &bk)) return false;
    bk = fold_key(c, bk, cs);
    for (size_t i = 1; i < l->n; i++) {
        jv k = l->items[i];
        if (attr.t != JV_UNDEF && attr.t != JV_NONE && !attr_path(c, k, attr, jv_undef(), &k)) return false;
        k = fold_key(c, k, cs);
        bool ok = true;
        int r = sort_cmp(c, k, bk, &ok);
        if (!ok) return false;
        if (want_max ? r > 0 : r < 0) {
            best = l->items[i];
            bk = k;
        }
    }
    *out = best;
    return true;
}

FILTER(max) { return minmax(c, in, a, true, out); }
FILTER(min) { return minmax(c, in, a, false, out); }

FILTER(replace) {
    jv old = jargs_get(a, 0, "old"), rep = jargs_get(a, 1, "new");
    int64_t count = 0;
    if (!arg_int(c, jargs_get(a, 2, "count"), -1, &count, "count")) return false;
    if (!need_str(c, &in) || !need_str(c, &old) || !need_str(c, &rep)) return false;
    *out = js_replace(c, in, old, rep, count);
    return !c->failed;
}

FILTER(reverse) {
    (void)a;
    if (in.t == JV_STR) {
        jlist *chars;
        if (!jv_iterate(c, in, &chars)) return false;
        jbuf b;
        jbuf_init(&b, 0);
        for (size_t i = chars->n; i-- > 0;) jbuf_put(&b, chars->items[i].u.s.p, chars->items[i].u.s.len);
        *out = jbuf_to_str(c, &b);
        jbuf_free(&b);
        return !c->failed;
    }
    jlist *l;
    if (!jv_iterate(c, in, &l)) return false;
    jv r = jv_list_new(c, l->n);
    for (size_t i = l->n; i-- > 0;) jlist_push(c, r.u.l, l->items[i]);
    /* reversed() gives an iterator; a generator input gives a list */
    if (in.t == JV_LIST && (in.flags & JVF_GEN)) *out = r;
    else *out = gen_of(r);
    return !c->failed;
}

FILTER(round) {
    int64_t prec = 0;
    if (!arg_int(c, jargs_get(a, 0, "precision"), 0, &prec, "precision")) return false;
    jv m = jargs_get(a, 1, "method");
    const char *method = "common";
    if (m.t == JV_STR) {
        if (m.u.s.len == 4 && !memcmp(m.u.s.p, "ceil", 4)) method = "ceil";
        else if (m.u.s.len == 5 && !memcmp(m.u.s.p, "floor", 5)) method = "floor";
        else if (!(m.u.s.len == 6 && !memcmp(m.u.s.p, "common", 6)))
            return jctx_fail(c, "FilterArgumentError", "method must be common, ceil or floor");
    }
    if (prec > 300) prec = 300;
    if (prec < -300) prec = -300;
    if (in.t != JV_INT && in.t != JV_FLOAT && in.t != JV_BOOL)
        return jctx_fail(c, "TypeError", "type %s doesn't define __round__ method", jv_type_name(in));
    double x = in.t == JV_FLOAT ? in.u.f : in.t == JV_INT ? (double)in.u.i : in.u.b;
    if (method[0] == 'c' && method[1] == 'o') {
        if (in.t != JV_FLOAT && prec >= 0) { *out = in.t == JV_BOOL ? jv_int(in.u.b) : in; return true; }
        if (!isfinite(x)) { *out = jv_float(x); return true; }
        if (prec >= 0) {
            char buf[400];
            snprintf(buf, sizeof buf, "%.*f", (int)prec, x); /* correctly rounded, ties to even */
            *out = jv_float(strtod(buf, NULL));
        } else {
            double p = pow(10.0, (double)-prec);
            *out = jv_float(nearbyint(x / p) * p);
        }
        if (in.t != JV_FLOAT) *out = jv_int((int64_t)out->u.f);
        return true;
    }
    double p = pow(10.0, (double)prec);
    double r = method[0] == 'c' ? ceil(x * p) : floor(x * p);
    *out = jv_float(r / p);
    return true;
}

FILTER(safe) {
    (void)a;
    if (!need_str(c, &in)) return false;
    in.flags |= JVF_MARKUP;
    *out = in;
    return true;
}

FILTER(slice) {
    int64_t slices = 0;
    if (!arg_int(c, jargs_get(a, 0, "slices"), 1, &slices, "slices")) return false;
    if (slices <= 0) return jctx_fail(c, "ValueError", "slices must be positive");
    jv fill = jargs_get(a, 1, "fill_with");
    jlist *l;
    if (!jv_iterate(c, in, &l)) return false;
    int64_t len = (int64_t)l->n, per = len / slices, extra = len % slices, offset = 0;
    jv r = jv_list_new(c, 0);
    for (int64_t k = 0; k < slices && !c->failed; k++) {
        int64_t start = offset + k * per;
        if (k < extra) offset++;
        int64_t end = offset + (k + 1) * per;
        jv tmp = jv_list_new(c, 0);
        for (int64_t i = start; i < end && i < len; i++) jlist_push(c, tmp.u.l, l->items[i]);
        if (fill.t != JV_UNDEF && fill.t != JV_NONE && k >= extra) jlist_push(c, tmp.u.l, fill);
        jlist_push(c, r.u.l, tmp);
    }
    *out = gen_of(r);
    return !c->failed;
}

FILTER(sort) {
    bool reverse = jv_truthy(jargs_get(a, 0, "reverse"));
    bool cs = jv_truthy(jargs_get(a, 1, "case_sensitive"));
    jv attr = jargs_get(a, 2, "attribute");
    jlist *l;
    if (!jv_iterate(c, in, &l)) return false;
    size_t n = l->n;
    jv *keys = jctx_alloc(c, (n + 1) * sizeof(jv)), *items = jctx_alloc(c, (n + 1) * sizeof(jv));
    if (!keys || !items) return false;
    for (size_t i = 0; i < n; i++) {
        items[i] = l->items[i];
        jv k = items[i];
        if (attr.t != JV_UNDEF && attr.t != JV_NONE) {
            /* "a,b" sorts by a tuple of attributes */
            jv as = jv_stringify(c, attr);
            if (memchr(as.u.s.p, ',', as.u.s.len)) {
                jv parts = {0};
                jv comma = jv_str(",", 1);
                if (!js_split(c, as, &comma, -1, false, &parts)) return false;
                jv t = jv_list_new(c, parts.u.l->n);
                for (size_t p = 0; p < parts.u.l->n; p++) {
                    jv pv = {0};
                    if (!attr_path(c, items[i], js_strip(c, parts.u.l->items[p], NULL, 3), jv_undef(), &pv))
                        return false;
                    jlist_push(c, t.u.l, fold_key(c, pv, cs));
                }
                t.flags = JVF_TUPLE;
                k = t;
            } else {
                if (!attr_path(c, items[i], attr, jv_undef(), &k)) return false;
                k = fold_key(c, k, cs);
            }
        } else k = fold_key(c, k, cs);
        keys[i] = k;
    }
    if (!msort(c, keys, items, n, reverse)) return false;
    jv r = jv_list_new(c, n);
    for (size_t i = 0; i < n; i++) jlist_push(c, r.u.l, items[i]);
    *out = r;
    return !c->failed;
}

FILTER(string) {
    (void)a;
    if (in.t == JV_UNDEF) { *out = jv_str("", 0); return true; }
    *out = jv_stringify(c, in);
    return !c->failed;
}

FILTER(sum) {
    jv attr = jargs_get(a, 0, "attribute");
    jv total = jargs_get(a, 1, "start");
    if (total.t == JV_UNDEF) total = jv_int(0);
    jlist *l;
    if (!jv_iterate(c, in, &l)) return false;
    for (size_t i = 0; i < l->n; i++) {
        jv v = l->items[i];
        if (attr.t != JV_UNDEF && attr.t != JV_NONE && !attr_path(c, v, attr, jv_undef(), &v)) return false;
        bool fa = total.t == JV_FLOAT || v.t == JV_FLOAT;
        bool na = total.t == JV_INT || total.t == JV_FLOAT || total.t == JV_BOOL;
        bool nb = v.t == JV_INT || v.t == JV_FLOAT || v.t == JV_BOOL;
        if (!na || !nb)
            return jctx_fail(c, "TypeError", "unsupported operand type(s) for +: '%s' and '%s'",
                             jv_type_name(total), jv_type_name(v));
        if (fa) {
            double x = total.t == JV_FLOAT ? total.u.f : total.t == JV_INT ? (double)total.u.i : total.u.b;
            double y = v.t == JV_FLOAT ? v.u.f : v.t == JV_INT ? (double)v.u.i : v.u.b;
            total = jv_float(x + y);
        } else {
            int64_t x = total.t == JV_INT ? total.u.i : total.u.b, y = v.t == JV_INT ? v.u.i : v.u.b, z;
            if (__builtin_add_overflow(x, y, &z)) return jctx_fail(c, "OverflowError", "integer overflow");
            total = jv_int(z);
        }
    }
    *out = total;
    return true;
}

FILTER(tojson) {
    /* HF: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False) */
    bool ascii = jv_truthy(jargs_get(a, 0, "ensure_ascii"));
    jv ind = jargs_get(a, 1, "indent");
    jv seps = jargs_get(a, 2, "separators");
    bool sort_keys = jv_truthy(jargs_get(a, 3, "sort_keys"));
    int indent = -1;
    if (ind.t == JV_INT) indent = ind.u.i < 0 ? 0 : ind.u.i > 64 ? 64 : (int)ind.u.i;
    else if (ind.t != JV_UNDEF && ind.t != JV_NONE)
        return jctx_fail(c, "TypeError", "tojson indent must be an integer");
    const char *item_sep = NULL, *key_sep = NULL;
    if (seps.t == JV_LIST && seps.u.l->n == 2 && seps.u.l->items[0].t == JV_STR && seps.u.l->items[1].t == JV_STR) {
        item_sep = jv_str_copy(c, seps.u.l->items[0].u.s.p, seps.u.l->items[0].u.s.len).u.s.p;
        key_sep = jv_str_copy(c, seps.u.l->items[1].u.s.p, seps.u.l->items[1].u.s.len).u.s.p;
    } else if (seps.t != JV_UNDEF && seps.t != JV_NONE)
        return jctx_fail(c, "ValueError", "separators must be a pair of strings");
    jbuf b;
    jbuf_init(&b, c->opt.max_output);
    if (!jv_to_json(c, in, &b, indent, item_sep, key_sep, sort_keys, ascii)) {
        jbuf_free(&b);
        return false;
    }
    if (b.overflow) {
        jbuf_free(&b);
        return jctx_fail(c, "MemoryError", "tojson output too large");
    }
    *out = jbuf_to_str(c, &b);
    jbuf_free(&b);
    return !c->failed;
}

FILTER(trim) {
    jv chars = jargs_get(a, 0, "chars");
    if (!need_str(c, &in)) return false;
    if (chars.t == JV_STR) *out = js_strip(c, in, &chars, 3);
    else *out = js_strip(c, in, NULL, 3);
    return true;
}

FILTER(truncate) {
    int64_t length = 0, leeway = 0;
    if (!arg_int(c, jargs_get(a, 0, "length"), 255, &length, "length")) return false;
    bool killwords = jv_truthy(jargs_get(a, 1, "killwords"));
    jv end = jargs_get(a, 2, "end");
    if (end.t == JV_UNDEF) end = jv_str("...", 3);
    if (!arg_int(c, jargs_get(a, 3, "leeway"), 5, &leeway, "leeway")) return false;
    if (!need_str(c, &in) || !need_str(c, &end)) return false;
    int64_t endlen = (int64_t)ju8_count(end.u.s.p, end.u.s.len);
    if (length < endlen) return jctx_fail(c, "AssertionError", "expected length >= %lld, got %lld", (long long)endlen, (long long)length);
    int64_t len = (int64_t)ju8_count(in.u.s.p, in.u.s.len);
    if (len <= length + leeway) { *out = in; return true; }
    jv head = jv_str(in.u.s.p, js_cp_to_byte(in, length - endlen));
    if (!killwords) {
        jv sp = jv_str(" ", 1), parts;
        if (!js_split(c, head, &sp, 1, true, &parts)) return false;
        head = parts.u.l->items[0];
    }
    jbuf b;
    jbuf_init(&b, 0);
    jbuf_put(&b, head.u.s.p, head.u.s.len);
    jbuf_put(&b, end.u.s.p, end.u.s.len);
    *out = jbuf_to_str(c, &b);
    jbuf_free(&b);
    return !c->failed;
}

FILTER(unique) {
    bool cs = jv_truthy(jargs_get(a, 0, "case_sensitive"));
    jv attr = jargs_get(a, 1, "attribute");
    jlist *l;
    if (!jv_iterate(c, in, &l)) return false;
    jv seen = jv_dict_new(c, 0), r = jv_list_new(c, 0);
    for (size_t i = 0; i < l->n && !c->failed; i++) {
        jv k = l->items[i];
        if (attr.t != JV_UNDEF && attr.t != JV_NONE && !attr_path(c, k, attr, jv_undef(), &k)) return false;
        k = fold_key(c, k, cs);
        if ((k.t == JV_LIST && !(k.flags & JVF_TUPLE)) || k.t == JV_DICT)
            return jctx_fail(c, "TypeError", "unhashable type: '%s'", jv_type_name(k));
        if (jdict_get(seen.u.d, k)) continue;
        jdict_set(c, seen.u.d, k, jv_none());
        jlist_push(c, r.u.l, l->items[i]);
    }
    *out = gen_of(r);
    return !c->failed;
}

FILTER(wordcount) {
    (void)a;
    if (!need_str(c, &in)) return false;
    int64_t n = 0;
    bool inword = false;
    for (size_t i = 0; i < in.u.s.len;) {
        uint32_t cp;
        i += ju8_decode(in.u.s.p + i, in.u.s.len - i, &cp);
        bool w = js_is_word_cp(cp);
        if (w && !inword) n++;
        inword = w;
    }
    *out = jv_int(n);
    return true;
}

FILTER(format) {
    if (!need_str(c, &in)) return false;
    jv args = {0};
    if (a->nkw) {
        args = jv_dict_new(c, a->nkw);
        for (size_t i = 0; i < a->nkw; i++) jdict_set(c, args.u.d, jv_cstr(a->kwnames[i]), a->kwvals[i]);
    } else {
        args = jv_list_new(c, a->n);
        for (size_t i = 0; i < a->n; i++) jlist_push(c, args.u.l, a->pos[i]);
        args.flags = JVF_TUPLE;
    }
    return jinja_percent_format(c, in, args, out);
}

typedef struct { const char *name; jfilter_fn fn; } filter_entry;
static const filter_entry filters[] = {
    {"abs", f_abs}, {"attr", f_attr}, {"batch", f_batch}, {"capitalize", f_capitalize},
    {"center", f_center}, {"count", f_length}, {"d", f_default}, {"default", f_default},
    {"dictsort", f_dictsort}, {"e", f_escape}, {"escape", f_escape}, {"first", f_first},
    {"float", f_float}, {"forceescape", f_forceescape}, {"format", f_format}, {"indent", f_indent},
    {"int", f_int}, {"items", f_items}, {"join", f_join}, {"last", f_last}, {"length", f_length},
    {"list", f_list}, {"lower", f_lower}, {"map", f_map}, {"max", f_max}, {"min", f_min},
    {"reject", f_reject}, {"rejectattr", f_rejectattr}, {"replace", f_replace}, {"reverse", f_reverse},
    {"round", f_round}, {"safe", f_safe}, {"select", f_select}, {"selectattr", f_selectattr},
    {"slice", f_slice}, {"sort", f_sort}, {"string", f_string}, {"sum", f_sum}, {"title", f_title},
    {"tojson", f_tojson}, {"trim", f_trim}, {"truncate", f_truncate}, {"unique", f_unique},
    {"upper", f_upper}, {"wordcount", f_wordcount},
};

jfilter_fn jinja_filter_lookup(const char *name) {
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        if (!strcmp(filters[i].name, name)) return filters[i].fn;
    return NULL;
}

/* -------------------------------------------------------------- tests -- */
TEST(defined) { (void)c; (void)a; *out = in.t != JV_UNDEF; return true; }
TEST(undefined) { (void)c; (void)a; *out = in.t == JV_UNDEF; return true; }
TEST(none) { (void)c; (void)a; *out = in.t == JV_NONE; return true; }
TEST(boolean) { (void)c; (void)a; *out = in.t == JV_BOOL; return true; }
TEST(true) { (void)c; (void)a; *out = in.t == JV_BOOL && in.u.b; return true; }
TEST(false) { (void)c; (void)a; *out = in.t == JV_BOOL && !in.u.b; return true; }
TEST(integer) { (void)c; (void)a; *out = in.t == JV_INT; return true; }
TEST(float) { (void)c; (void)a; *out = in.t == JV_FLOAT; return true; }
TEST(number) { (void)c; (void)a; *out = in.t == JV_INT || in.t == JV_FLOAT || in.t == JV_BOOL; return true; }
TEST(string) { (void)c; (void)a; *out = in.t == JV_STR; return true; }
TEST(mapping) { (void)c; (void)a; *out = in.t == JV_DICT && !(in.flags & JVF_NS); return true; }
TEST(iterable) {
    (void)c; (void)a;
    *out = in.t == JV_STR || in.t == JV_LIST || in.t == JV_UNDEF || in.t == JV_LOOP ||
           (in.t == JV_DICT && !(in.flags & JVF_NS));
    return true;
}
TEST(sequence) {
    (void)c; (void)a;
    *out = in.t == JV_STR || in.t == JV_UNDEF || (in.t == JV_LIST && !(in.flags & JVF_GEN)) ||
           (in.t == JV_DICT && !(in.flags & JVF_NS));
    return true;
}
TEST(callable) { (void)c; (void)a; *out = in.t == JV_FUNC || in.t == JV_LOOP || in.t == JV_UNDEF; return true; }
TEST(escaped) { (void)c; (void)a; *out = in.t == JV_STR && (in.flags & JVF_MARKUP); return true; }

static bool cmp_test(jctx *c, jv in, const jargs *a, int op, bool *out) {
    jv o = jargs_get(a, 0, "b");
    if (op == 'E') { *out = jv_equal(in, o); return true; }
    if (op == 'N') { *out = !jv_equal(in, o); return true; }
    if (in.t == JV_UNDEF || o.t == JV_UNDEF) {
        jv u = in.t == JV_UNDEF ? in : o;
        return jctx_fail(c, "UndefinedError", "%.*s", (int)u.u.s.len, u.u.s.p);
    }
    bool ok;
    int r = jv_compare(c, in, o, &ok);
    if (!ok)
        return jctx_fail(c, "TypeError", "'%s' not supported between instances of '%s' and '%s'",
                         op == '<' ? "<" : op == '>' ? ">" : op == 'L' ? "<=" : ">=", jv_type_name(in),
                         jv_type_name(o));
    *out = op == '<' ? r < 0 : op == '>' ? r > 0 : op == 'L' ? r <= 0 : r >= 0;
    return true;
}
TEST(eq) { return cmp_test(c, in, a, 'E', out); }
TEST(ne) { return cmp_test(c, in, a, 'N', out); }
TEST(lt) { return cmp_test(c, in, a, '<', out); }
TEST(le) { return cmp_test(c, in, a, 'L', out); }
TEST(gt) { return cmp_test(c, in, a, '>', out); }
TEST(ge) { return cmp_test(c, in, a, 'G', out); }

TEST(sameas) {
    (void)c;
    jv o = jargs_get(a, 0, "other");
    if (in.t != o.t) { *out = false; return true; }
    switch (in.t) {
    case JV_LIST: *out = in.u.l == o.u.l; break;
    case JV_DICT: *out = in.u.d == o.u.d; break;
    case JV_FUNC: *out = in.u.fn == o.u.fn; break;
    default: *out = jv_equal(in, o);
    }
    return true;
}

TEST(in) {
    jv seq = jargs_get(a, 0, "seq");
    switch (seq.t) {
    case JV_STR:
        if (in.t != JV_STR)
            return jctx_fail(c, "TypeError", "'in <string>' requires string as left operand, not %s", jv_type_name(in));
        *out = in.u.s.len == 0 || memmem(seq.u.s.p, seq.u.s.len, in.u.s.p, in.u.s.len) != NULL;
        return true;
    case JV_DICT: *out = jdict_get(seq.u.d, in) != NULL; return true;
    case JV_UNDEF: *out = false; return true;
    case JV_LIST: {
        jlist *l;
        if (!jv_iterate(c, seq, &l)) return false;
        *out = false;
        for (size_t i = 0; i < l->n; i++)
            if (jv_equal(l->items[i], in)) *out = true;
        return true;
    }
    default:
        return jctx_fail(c, "TypeError", "argument of type '%s' is not iterable", jv_type_name(seq));
    }
}

static bool int_of(jctx *c, jv v, int64_t *i) {
    if (v.t == JV_INT) { *i = v.u.i; return true; }
    if (v.t == JV_BOOL) { *i = v.u.b; return true; }
    return jctx_fail(c, "TypeError", "expected an integer, got %s", jv_type_name(v));
}

/* Jinja2: value % 2 == 1 (or == 0), so floats work too */
static bool parity(jctx *c, jv in, int want, bool *out) {
    if (in.t == JV_FLOAT) {
        double r = fmod(in.u.f, 2.0);
        if (r < 0) r += 2.0;
        *out = r == (double)want;
        return true;
    }
    int64_t i = 0;
    if (!int_of(c, in, &i)) return false;
    *out = ((i % 2) + 2) % 2 == want;
    return true;
}
TEST(odd) { (void)a; return parity(c, in, 1, out); }
TEST(even) { (void)a; return parity(c, in, 0, out); }
TEST(divisibleby) {
    jv d = jargs_get(a, 0, "num");
    if ((in.t == JV_INT || in.t == JV_BOOL) && (d.t == JV_INT || d.t == JV_BOOL)) {
        int64_t x = in.t == JV_INT ? in.u.i : in.u.b, y = d.t == JV_INT ? d.u.i : d.u.b;
        if (y == 0) return jctx_fail(c, "ZeroDivisionError", "integer division or modulo by zero");
        *out = y == -1 || x % y == 0;
        return true;
    }
    if ((in.t == JV_INT || in.t == JV_FLOAT) && (d.t == JV_INT || d.t == JV_FLOAT)) {
        double x = in.t == JV_INT ? (double)in.u.i : in.u.f, y = d.t == JV_INT ? (double)d.u.i : d.u.f;
        if (y == 0) return jctx_fail(c, "ZeroDivisionError", "float modulo");
        *out = fmod(x, y) == 0;
        return true;
    }
    return jctx_fail(c, "TypeError", "unsupported operand type(s) for %%: '%s' and '%s'", jv_type_name(in),
                     jv_type_name(d));
}

static bool cased_test(jctx *c, jv in, bool want_lower, bool *out) {
    if (in.t != JV_STR) {
        in = jv_stringify(c, in);
        if (c->failed) return false;
    }
    jv lo = js_case(c, in, JCASE_LOWER), up = js_case(c, in, JCASE_UPPER);
    bool has_cased = !jv_equal(lo, up);
    *out = has_cased && jv_equal(in, want_lower ? lo : up);
    return true;
}
TEST(lower) { (void)a; return cased_test(c, in, true, out); }
TEST(upper) { (void)a; return cased_test(c, in, false, out); }

TEST(filter) {
    (void)a;
    if (in.t != JV_STR) { *out = false; return true; }
    char nm[64];
    snprintf(nm, sizeof nm, "%.*s", (int)in.u.s.len, in.u.s.p);
    (void)c;
    *out = jinja_filter_lookup(nm) != NULL;
    return true;
}
TEST(test) {
    (void)a;
    if (in.t != JV_STR) { *out = false; return true; }
    char nm[64];
    snprintf(nm, sizeof nm, "%.*s", (int)in.u.s.len, in.u.s.p);
    (void)c;
    *out = jinja_test_lookup(nm) != NULL;
    return true;
}

typedef struct { const char *name; jtest_fn fn; } test_entry;
static const test_entry tests[] = {
    {"boolean", t_boolean}, {"callable", t_callable}, {"defined", t_defined},
    {"divisibleby", t_divisibleby}, {"eq", t_eq}, {"equalto", t_eq}, {"==", t_eq},
    {"escaped", t_escaped}, {"even", t_even}, {"false", t_false}, {"filter", t_filter},
    {"float", t_float}, {"ge", t_ge}, {">=", t_ge}, {"gt", t_gt}, {">", t_gt},
    {"greaterthan", t_gt}, {"in", t_in}, {"integer", t_integer}, {"iterable", t_iterable},
    {"le", t_le}, {"<=", t_le}, {"lessthan", t_lt}, {"lower", t_lower}, {"lt", t_lt}, {"<", t_lt},
    {"mapping", t_mapping}, {"ne", t_ne}, {"!=", t_ne}, {"none", t_none}, {"number", t_number},
    {"odd", t_odd}, {"sameas", t_sameas}, {"sequence", t_sequence}, {"string", t_string},
    {"test", t_test}, {"true", t_true}, {"undefined", t_undefined}, {"upper", t_upper},
};

jtest_fn jinja_test_lookup(const char *name) {
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (!strcmp(tests[i].name, name)) return tests[i].fn;
    return NULL;
}
