/* Python methods templates call on values (str.strip/split/startswith/
 * format..., dict.get/items/keys/values, list.index/count, loop.cycle/
 * changed), the global functions HF's environment defines (range with the
 * sandbox's size cap, namespace, dict, raise_exception, strftime_now), and
 * Python's two string-formatting languages (`%` and str.format) for the
 * conversions templates use. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat/strutil.h"

#define METHOD(name) static bool m_##name(jctx *c, jv self, const jargs *a, jv *out)

static bool str_arg(jctx *c, jv v, const char *method, jv *out) {
    if (v.t != JV_STR)
        return jctx_fail(c, "TypeError", "%s() argument must be str, not %s", method, jv_type_name(v));
    *out = v;
    return true;
}

static bool opt_int(jctx *c, jv v, int64_t dflt, int64_t *out) {
    if (v.t == JV_UNDEF || v.t == JV_NONE) { *out = dflt; return true; }
    if (v.t == JV_INT) { *out = v.u.i; return true; }
    if (v.t == JV_BOOL) { *out = v.u.b; return true; }
    return jctx_fail(c, "TypeError", "'%s' object cannot be interpreted as an integer", jv_type_name(v));
}

/* ---------------------------------------------------------------- str -- */
static bool strip_common(jctx *c, jv self, const jargs *a, int which, jv *out) {
    jv ch = jargs_get(a, 0, "chars");
    if (ch.t == JV_UNDEF || ch.t == JV_NONE) *out = js_strip(c, self, NULL, which);
    else {
        if (!str_arg(c, ch, "strip", &ch)) return false;
        *out = js_strip(c, self, &ch, which);
    }
    return true;
}
METHOD(strip) { return strip_common(c, self, a, 3, out); }
METHOD(lstrip) { return strip_common(c, self, a, 1, out); }
METHOD(rstrip) { return strip_common(c, self, a, 2, out); }

static bool split_common(jctx *c, jv self, const jargs *a, bool right, jv *out) {
    jv sep = jargs_get(a, 0, "sep");
    int64_t maxsplit = 0;
    if (!opt_int(c, jargs_get(a, 1, "maxsplit"), -1, &maxsplit)) return false;
    if (sep.t == JV_UNDEF || sep.t == JV_NONE) return js_split(c, self, NULL, maxsplit, right, out);
    if (!str_arg(c, sep, "split", &sep)) return false;
    return js_split(c, self, &sep, maxsplit, right, out);
}
METHOD(split) { return split_common(c, self, a, false, out); }
METHOD(rsplit) { return split_common(c, self, a, true, out); }
METHOD(splitlines) { return js_splitlines(c, self, jv_truthy(jargs_get(a, 0, "keepends")), out); }

/* start/end arguments of startswith/find/count, as byte offsets */
static bool range_args(jctx *c, jv self, const jargs *a, size_t pos, size_t *b0, size_t *b1) {
    int64_t n = (int64_t)ju8_count(self.u.s.p, self.u.s.len), s = 0, e = 0;
    if (!opt_int(c, jargs_get(a, pos, NULL), 0, &s) || !opt_int(c, jargs_get(a, pos + 1, NULL), n, &e)) return false;
    if (s < 0) s = s + n < 0 ? 0 : s + n;
    if (e < 0) e = e + n < 0 ? 0 : e + n;
    if (s > n) s = n;
    if (e > n) e = n;
    *b0 = js_cp_to_byte(self, s);
    *b1 = e < s ? *b0 : js_cp_to_byte(self, e);
    return true;
}

static bool affix_common(jctx *c, jv self, const jargs *a, bool suffix, jv *out) {
    jv x = jargs_get(a, 0, NULL);
    size_t b0, b1;
    if (!range_args(c, self, a, 1, &b0, &b1)) return false;
    const char *p = self.u.s.p + b0;
    size_t n = b1 - b0;
    jlist one = {1, 1, &x, false, 0}, *cands = &one;
    if (x.t == JV_LIST && (x.flags & JVF_TUPLE)) cands = x.u.l;
    else if (x.t != JV_STR)
        return jctx_fail(c, "TypeError", "%s first arg must be str or a tuple of str, not %s",
                         suffix ? "endswith" : "startswith", jv_type_name(x));
    *out = jv_bool(false);
    for (size_t i = 0; i < cands->n; i++) {
        jv s = cands->items[i];
        if (s.t != JV_STR) return jctx_fail(c, "TypeError", "tuple for startswith must only contain str");
        if (s.u.s.len <= n && !memcmp(suffix ? p + n - s.u.s.len : p, s.u.s.p, s.u.s.len)) *out = jv_bool(true);
    }
    return true;
}
METHOD(startswith) { return affix_common(c, self, a, false, out); }
METHOD(endswith) { return affix_common(c, self, a, true, out); }

static bool find_common(jctx *c, jv self, const jargs *a, bool right, bool raise, jv *out) {
    jv sub = {0};
    if (!str_arg(c, jargs_get(a, 0, "sub"), "find", &sub)) return false;
    size_t b0, b1;
    if (!range_args(c, self, a, 1, &b0, &b1)) return false;
    int64_t idx = -1;
    if (sub.u.s.len <= b1 - b0) {
        if (!right) {
            const char *h = sub.u.s.len ? memmem(self.u.s.p + b0, b1 - b0, sub.u.s.p, sub.u.s.len) : self.u.s.p + b0;
            if (h) idx = js_byte_to_cp(self, (size_t)(h - self.u.s.p));
        } else {
            for (size_t k = b1 - sub.u.s.len + 1; k-- > b0;)
                if (!memcmp(self.u.s.p + k, sub.u.s.p, sub.u.s.len)) {
                    idx = js_byte_to_cp(self, k);
                    break;
                }
        }
    }
    if (idx < 0 && raise) return jctx_fail(c, "ValueError", "substring not found");
    *out = jv_int(idx);
    return true;
}
METHOD(find) { return find_common(c, self, a, false, false, out); }
METHOD(rfind) { return find_common(c, self, a, true, false, out); }
METHOD(index) { return find_common(c, self, a, false, true, out); }
METHOD(rindex) { return find_common(c, self, a, true, true, out); }

METHOD(count) {
    if (self.t == JV_LIST) {
        jv x = jargs_get(a, 0, NULL);
        int64_t n = 0;
        for (size_t i = 0; i < self.u.l->n; i++) n += jv_equal(self.u.l->items[i], x);
        *out = jv_int(n);
        return true;
    }
    jv sub = {0};
    if (!str_arg(c, jargs_get(a, 0, NULL), "count", &sub)) return false;
    size_t b0, b1;
    if (!range_args(c, self, a, 1, &b0, &b1)) return false;
    int64_t n = 0;
    if (!sub.u.s.len) n = js_byte_to_cp(self, b1) - js_byte_to_cp(self, b0) + 1;
    else
        for (size_t i = b0; i + sub.u.s.len <= b1;) {
            const char *h = memmem(self.u.s.p + i, b1 - i, sub.u.s.p, sub.u.s.len);
            if (!h) break;
            n++;
            i = (size_t)(h - self.u.s.p) + sub.u.s.len;
        }
    *out = jv_int(n);
    return true;
}

METHOD(replace) {
    jv old = {0}, rep = {0};
    if (!str_arg(c, jargs_get(a, 0, "old"), "replace", &old) || !str_arg(c, jargs_get(a, 1, "new"), "replace", &rep))
        return false;
    int64_t count = 0;
    if (!opt_int(c, jargs_get(a, 2, "count"), -1, &count)) return false;
    *out = js_replace(c, self, old, rep, count);
    out->flags = self.flags & JVF_MARKUP;
    return !c->failed;
}

METHOD(upper) { (void)a; *out = js_case(c, self, JCASE_UPPER); return !c->failed; }
METHOD(lower) { (void)a; *out = js_case(c, self, JCASE_LOWER); return !c->failed; }
METHOD(title) { (void)a; *out = js_case(c, self, JCASE_TITLE_PY); return !c->failed; }
METHOD(capitalize) { (void)a; *out = js_case(c, self, JCASE_CAPITALIZE); return !c->failed; }
METHOD(swapcase) { (void)a; *out = js_case(c, self, JCASE_SWAP); return !c->failed; }

METHOD(join) {
    jlist *l;
    if (!jv_iterate(c, jargs_get(a, 0, NULL), &l)) return false;
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].t != JV_STR)
            return jctx_fail(c, "TypeError", "sequence item %zu: expected str instance, %s found", i,
                             jv_type_name(l->items[i]));
    return js_join(c, l, self, out);
}

static bool str_class(jctx *c, jv self, int kind, jv *out) {
    (void)c;
    if (!self.u.s.len) { *out = jv_bool(false); return true; }
    bool r = true;
    for (size_t i = 0; i < self.u.s.len && r;) {
        uint32_t cp;
        i += ju8_decode(self.u.s.p + i, self.u.s.len - i, &cp);
        switch (kind) {
        case 0: r = cp < 0x80 ? (cp >= '0' && cp <= '9') : js_is_word_cp(cp) && !(cp >= 'A'); break;
        case 1: r = js_is_word_cp(cp) && cp != '_' && !(cp >= '0' && cp <= '9'); break;
        case 2: r = js_is_word_cp(cp) && cp != '_'; break;
        case 3: r = ju_isspace(cp); break;
        }
    }
    *out = jv_bool(r);
    return true;
}
METHOD(isdigit) { (void)a; return str_class(c, self, 0, out); }
METHOD(isalpha) { (void)a; return str_class(c, self, 1, out); }
METHOD(isalnum) { (void)a; return str_class(c, self, 2, out); }
METHOD(isspace) { (void)a; return str_class(c, self, 3, out); }
METHOD(isupper) {
    (void)a;
    jv lo = js_case(c, self, JCASE_LOWER), up = js_case(c, self, JCASE_UPPER);
    *out = jv_bool(!jv_equal(lo, up) && jv_equal(self, up));
    return true;
}
METHOD(islower) {
    (void)a;
    jv lo = js_case(c, self, JCASE_LOWER), up = js_case(c, self, JCASE_UPPER);
    *out = jv_bool(!jv_equal(lo, up) && jv_equal(self, lo));
    return true;
}

static bool pad_common(jctx *c, jv self, const jargs *a, char align, jv *out) {
    int64_t w = 0;
    if (!opt_int(c, jargs_get(a, 0, "width"), 0, &w)) return false;
    jv fill = jargs_get(a, 1, "fillchar");
    if (fill.t == JV_UNDEF) fill = jv_str(" ", 1);
    else if (fill.t != JV_STR || ju8_count(fill.u.s.p, fill.u.s.len) != 1)
        return jctx_fail(c, "TypeError", "The fill character must be exactly one character long");
    *out = js_pad(c, self, w, align, fill);
    return !c->failed;
}
METHOD(center) { return pad_common(c, self, a, 'C', out); }
METHOD(ljust) { return pad_common(c, self, a, '<', out); }
METHOD(rjust) { return pad_common(c, self, a, '>', out); }
METHOD(zfill) {
    int64_t w = 0;
    if (!opt_int(c, jargs_get(a, 0, "width"), 0, &w)) return false;
    int64_t len = (int64_t)ju8_count(self.u.s.p, self.u.s.len);
    if (w <= len) { *out = self; return true; }
    if (w > (int64_t)c->opt.max_output) return jctx_fail(c, "MemoryError", "width too large");
    jbuf b;
    jbuf_init(&b, 0);
    size_t skip = 0;
    if (self.u.s.len && (self.u.s.p[0] == '+' || self.u.s.p[0] == '-')) {
        jbuf_putc(&b, self.u.s.p[0]);
        skip = 1;
    }
    for (int64_t i = 0; i < w - len; i++) jbuf_putc(&b, '0');
    jbuf_put(&b, self.u.s.p + skip, self.u.s.len - skip);
    *out = jbuf_to_str(c, &b);
    jbuf_free(&b);
    return !c->failed;
}

static bool partition_common(jctx *c, jv self, const jargs *a, bool right, jv *out) {
    jv sep = {0};
    if (!str_arg(c, jargs_get(a, 0, NULL), "partition", &sep)) return false;
    if (!sep.u.s.len) return jctx_fail(c, "ValueError", "empty separator");
    jv parts = {0};
    if (!js_split(c, self, &sep, 1, right, &parts)) return false;
    jv t = jv_list_new(c, 3);
    t.flags = JVF_TUPLE;
    if (parts.u.l->n == 2) {
        jlist_push(c, t.u.l, parts.u.l->items[0]);
        jlist_push(c, t.u.l, sep);
        jlist_push(c, t.u.l, parts.u.l->items[1]);
    } else if (right) {
        jlist_push(c, t.u.l, jv_str("", 0));
        jlist_push(c, t.u.l, jv_str("", 0));
        jlist_push(c, t.u.l, self);
    } else {
        jlist_push(c, t.u.l, self);
        jlist_push(c, t.u.l, jv_str("", 0));
        jlist_push(c, t.u.l, jv_str("", 0));
    }
    *out = t;
    return !c->failed;
}
METHOD(partition) { return partition_common(c, self, a, false, out); }
METHOD(rpartition) { return partition_common(c, self, a, true, out); }

METHOD(removeprefix) {
    jv x = {0};
    if (!str_arg(c, jargs_get(a, 0, NULL), "removeprefix", &x)) return false;
    *out = self;
    if (x.u.s.len <= self.u.s.len && !memcmp(self.u.s.p, x.u.s.p, x.u.s.len))
        *out = jv_str(self.u.s.p + x.u.s.len, self.u.s.len - x.u.s.len);
    return true;
}
METHOD(removesuffix) {
    jv x = {0};
    if (!str_arg(c, jargs_get(a, 0, NULL), "removesuffix", &x)) return false;
    *out = self;
    if (x.u.s.len && x.u.s.len <= self.u.s.len && !memcmp(self.u.s.p + self.u.s.len - x.u.s.len, x.u.s.p, x.u.s.len))
        *out = jv_str(self.u.s.p, self.u.s.len - x.u.s.len);
    return true;
}

METHOD(format) { return jinja_str_format(c, self, a, out); }

/* ------------------------------------------------------- dict / list -- */
METHOD(get) {
    jv *v = jdict_get(self.u.d, jargs_get(a, 0, "key"));
    *out = v ? *v : (jargs_has(a, 1, "default") ? jargs_get(a, 1, "default") : jv_none());
    (void)c;
    return true;
}

static bool dict_view(jctx *c, jv self, int which, jv *out) {
    jv l = jv_list_new(c, self.u.d->n);
    for (size_t i = 0; i < self.u.d->n && !c->failed; i++) {
        jv x = which == 0 ? self.u.d->keys[i] : which == 1 ? self.u.d->vals[i]
                                                           : js_tuple2(c, self.u.d->keys[i], self.u.d->vals[i]);
        jlist_push(c, l.u.l, x);
    }
    l.flags = which == 0 ? JVF_KEYS : which == 1 ? JVF_VALUES : JVF_ITEMS;
    *out = l;
    return !c->failed;
}
METHOD(keys) { (void)a; return dict_view(c, self, 0, out); }
METHOD(values) { (void)a; return dict_view(c, self, 1, out); }
METHOD(items) { (void)a; return dict_view(c, self, 2, out); }

METHOD(copy) {
    (void)a;
    if (self.t == JV_DICT) {
        jv d = jv_dict_new(c, self.u.d->n);
        for (size_t i = 0; i < self.u.d->n; i++) jdict_set(c, d.u.d, self.u.d->keys[i], self.u.d->vals[i]);
        *out = d;
    } else {
        jv l = jv_list_new(c, self.u.l->n);
        for (size_t i = 0; i < self.u.l->n; i++) jlist_push(c, l.u.l, self.u.l->items[i]);
        *out = l;
    }
    return !c->failed;
}

METHOD(list_index) {
    jv x = jargs_get(a, 0, NULL);
    for (size_t i = 0; i < self.u.l->n; i++)
        if (jv_equal(self.u.l->items[i], x)) {
            *out = jv_int((int64_t)i);
            return true;
        }
    return jctx_fail(c, "ValueError", "value is not in list");
}

/* --------------------------------------------------------------- loop -- */
METHOD(cycle) {
    if (!a->n) return jctx_fail(c, "TypeError", "no items for cycling given");
    *out = a->pos[self.u.loop->index0 % a->n];
    return true;
}

METHOD(changed) {
    jloop *L = self.u.loop;
    jv t = jv_list_new(c, a->n);
    for (size_t i = 0; i < a->n; i++) jlist_push(c, t.u.l, a->pos[i]);
    if (!L->changed_init || !jv_equal(L->changed_last, t)) {
        L->changed_init = true;
        L->changed_last = t;
        *out = jv_bool(true);
    } else *out = jv_bool(false);
    return !c->failed;
}

typedef struct { const char *name; jbuiltin_fn fn; } method_entry;
static const method_entry str_methods[] = {
    {"strip", m_strip}, {"lstrip", m_lstrip}, {"rstrip", m_rstrip}, {"split", m_split},
    {"rsplit", m_rsplit}, {"splitlines", m_splitlines}, {"startswith", m_startswith},
    {"endswith", m_endswith}, {"find", m_find}, {"rfind", m_rfind}, {"index", m_index},
    {"rindex", m_rindex}, {"count", m_count}, {"replace", m_replace}, {"upper", m_upper},
    {"lower", m_lower}, {"title", m_title}, {"capitalize", m_capitalize}, {"swapcase", m_swapcase},
    {"join", m_join}, {"isdigit", m_isdigit}, {"isnumeric", m_isdigit}, {"isdecimal", m_isdigit},
    {"isalpha", m_isalpha}, {"isalnum", m_isalnum}, {"isspace", m_isspace}, {"isupper", m_isupper},
    {"islower", m_islower}, {"center", m_center}, {"ljust", m_ljust}, {"rjust", m_rjust},
    {"zfill", m_zfill}, {"partition", m_partition}, {"rpartition", m_rpartition},
    {"removeprefix", m_removeprefix}, {"removesuffix", m_removesuffix}, {"format", m_format},
    {NULL, NULL}};
static const method_entry dict_methods[] = {
    {"get", m_get}, {"keys", m_keys}, {"values", m_values}, {"items", m_items}, {"copy", m_copy},
    {NULL, NULL}};
static const method_entry list_methods[] = {
    {"index", m_list_index}, {"count", m_count}, {"copy", m_copy}, {NULL, NULL}};
static const method_entry loop_methods[] = {{"cycle", m_cycle}, {"changed", m_changed}, {NULL, NULL}};

bool jinja_method_lookup(jctx *c, jv self, const char *name, size_t len, jv *out) {
    const method_entry *t = NULL;
    if (self.t == JV_STR) t = str_methods;
    else if (self.t == JV_DICT && !(self.flags & JVF_NS)) t = dict_methods;
    else if (self.t == JV_LIST && !(self.flags & JVF_GEN)) t = list_methods;
    else if (self.t == JV_LOOP) t = loop_methods;
    for (; t && t->name; t++)
        if (strlen(t->name) == len && !memcmp(t->name, name, len)) {
            *out = jfunc_builtin(c, t->name, t->fn, self);
            return out->t == JV_FUNC;
        }
    return false;
}

/* ------------------------------------------------------------ globals -- */
#define MAX_RANGE 100000

static bool g_range(jctx *c, jv self, const jargs *a, jv *out) {
    (void)self;
    int64_t start = 0, stop, step = 1;
    if (a->n == 0 || a->n > 3) return jctx_fail(c, "TypeError", "range expected 1 to 3 arguments, got %zu", a->n);
    for (size_t i = 0; i < a->n; i++)
        if (a->pos[i].t != JV_INT && a->pos[i].t != JV_BOOL)
            return jctx_fail(c, "TypeError", "'%s' object cannot be interpreted as an integer", jv_type_name(a->pos[i]));
#define IV(v) ((v).t == JV_INT ? (v).u.i : (int64_t)(v).u.b)
    if (a->n == 1) stop = IV(a->pos[0]);
    else {
        start = IV(a->pos[0]);
        stop = IV(a->pos[1]);
        if (a->n == 3) step = IV(a->pos[2]);
    }
#undef IV
    if (step == 0) return jctx_fail(c, "ValueError", "range() arg 3 must not be zero");
    double count = step > 0 ? ceil(((double)stop - (double)start) / (double)step)
                            : ceil(((double)start - (double)stop) / (double)-step);
    if (count < 0) count = 0;
    if (count > MAX_RANGE)
        return jctx_fail(c, "OverflowError", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (%d).", MAX_RANGE);
    jv l = jv_list_new(c, (size_t)count);
    for (int64_t i = 0; i < (int64_t)count; i++) jlist_push(c, l.u.l, jv_int(start + i * step));
    l.flags = JVF_RANGE;
    l.u.l->range_stop = stop;
    *out = l;
    return !c->failed;
}

static bool dict_from_args(jctx *c, const jargs *a, jv *out) {
    jv d = jv_dict_new(c, a->nkw);
    if (a->n > 1) return jctx_fail(c, "TypeError", "dict expected at most 1 argument, got %zu", a->n);
    if (a->n == 1) {
        jv src = a->pos[0];
        if (src.t == JV_DICT) {
            for (size_t i = 0; i < src.u.d->n; i++) jdict_set(c, d.u.d, src.u.d->keys[i], src.u.d->vals[i]);
        } else {
            jlist *l;
            if (!jv_iterate(c, src, &l)) return false;
            for (size_t i = 0; i < l->n; i++) {
                jlist *pair;
                if (!jv_iterate(c, l->items[i], &pair)) return false;
                if (pair->n != 2)
                    return jctx_fail(c, "ValueError", "dictionary update sequence element #%zu has length %zu; 2 is required", i, pair->n);
                jdict_set(c, d.u.d, pair->items[0], pair->items[1]);
            }
        }
    }
    for (size_t i = 0; i < a->nkw; i++) jdict_set(c, d.u.d, jv_cstr(a->kwnames[i]), a->kwvals[i]);
    *out = d;
    return !c->failed;
}

static bool g_dict(jctx *c, jv self, const jargs *a, jv *out) {
    (void)self;
    return dict_from_args(c, a, out);
}

static bool g_namespace(jctx *c, jv self, const jargs *a, jv *out) {
    (void)self;
    if (!dict_from_args(c, a, out)) return false;
    out->flags = JVF_NS;
    return true;
}

static bool g_raise(jctx *c, jv self, const jargs *a, jv *out) {
    (void)self;
    (void)out;
    jv m = jv_stringify(c, jargs_get(a, 0, "message"));
    return jctx_fail(c, "TemplateError", "%.*s", (int)m.u.s.len, m.u.s.p);
}

static bool g_strftime_now(jctx *c, jv self, const jargs *a, jv *out) {
    (void)self;
    jv f = jargs_get(a, 0, "format");
    if (f.t != JV_STR) return jctx_fail(c, "TypeError", "strftime() argument 1 must be str, not %s", jv_type_name(f));
    struct tm tm;
    time_t t;
    if (jctx_now(c)) {
        t = (time_t)jctx_now(c);
        gmtime_r(&t, &tm); /* a pinned time is a naive wall-clock time */
    } else {
        t = time(NULL);
        localtime_r(&t, &tm); /* datetime.now(): local time */
    }
    char fmt[512];
    if (f.u.s.len >= sizeof fmt) return jctx_fail(c, "ValueError", "strftime format too long");
    memcpy(fmt, f.u.s.p, f.u.s.len);
    fmt[f.u.s.len] = 0;
    char buf[2048];
    size_t n = fmt[0] ? strftime(buf, sizeof buf, fmt, &tm) : 0;
    *out = jv_str_copy(c, buf, n);
    return !c->failed;
}

static const jfunc G_RANGE = {JF_BUILTIN, "range", g_range, {0}, NULL, NULL, NULL};
static const jfunc G_DICT = {JF_BUILTIN, "dict", g_dict, {0}, NULL, NULL, NULL};
static const jfunc G_NAMESPACE = {JF_BUILTIN, "namespace", g_namespace, {0}, NULL, NULL, NULL};
static const jfunc G_RAISE = {JF_BUILTIN, "raise_exception", g_raise, {0}, NULL, NULL, NULL};
static const jfunc G_STRFTIME = {JF_BUILTIN, "strftime_now", g_strftime_now, {0}, NULL, NULL, NULL};

bool jinja_global_lookup(const char *name, jv *out) {
    static const struct { const char *name; const jfunc *f; } g[] = {
        {"range", &G_RANGE}, {"dict", &G_DICT}, {"namespace", &G_NAMESPACE},
        {"raise_exception", &G_RAISE}, {"strftime_now", &G_STRFTIME}};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        if (!strcmp(g[i].name, name)) {
            memset(out, 0, sizeof *out);
            out->t = JV_FUNC;
            out->u.fn = (jfunc *)g[i].f; /* read-only: builtins never write their jfunc */
            return true;
        }
    return false;
}

/* --------------------------------------------------------- formatting -- */
typedef struct fspec {
    char fill[5];
    size_t fill_len;
    char align;  /* < > ^ = or 0 */
    char sign;   /* + - space or 0 */
    bool alt, zero;
    int64_t width, prec; /* -1 = none */
    char group;  /* , _ or 0 */
    char type;   /* 0 = default */
} fspec;

static void fmt_int(jbuf *b, int64_t v, const fspec *s) {
    char digits[80];
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int base = s->type == 'x' || s->type == 'X' ? 16 : s->type == 'o' ? 8 : s->type == 'b' ? 2 : 10;
    size_t n = 0;
    do {
        int d = (int)(u % (uint64_t)base);
        digits[n++] = (char)(d < 10 ? '0' + d : (s->type == 'X' ? 'A' : 'a') + d - 10);
        u /= (uint64_t)base;
    } while (u);
    char tmp[128];
    size_t o = 0;
    size_t group_every = base == 10 ? 3 : 4;
    for (size_t i = 0; i < n; i++) {
        if (s->group && i && i % group_every == 0) tmp[o++] = s->group;
        tmp[o++] = digits[i];
    }
    if (s->alt && base != 10) {
        tmp[o++] = s->type == 'X' ? 'X' : s->type == 'o' ? 'o' : s->type == 'b' ? 'b' : 'x';
        tmp[o++] = '0';
    }
    if (v < 0) tmp[o++] = '-';
    else if (s->sign == '+') tmp[o++] = '+';
    else if (s->sign == ' ') tmp[o++] = ' ';
    for (size_t i = 0; i < o; i++) jbuf_putc(b, tmp[o - 1 - i]);
}

static void fmt_float(jbuf *b, double v, const fspec *s) {
    char t = s->type;
    int prec = s->prec >= 0 ? (int)(s->prec > 100 ? 100 : s->prec) : 6;
    char tmp[512];
    bool pct = t == '%';
    if (pct) { v *= 100; t = 'f'; }
    if (t == 0 && s->prec < 0) {
        jbuf r;
        jbuf_init(&r, 0);
        jv_float_repr(v, &r);
        snprintf(tmp, sizeof tmp, "%s", r.p ? r.p : "");
        jbuf_free(&r);
    } else {
        char conv = t == 0 ? 'g' : t;
        if (conv == 'n') conv = 'g';
        char f[16];
        snprintf(f, sizeof f, "%%%s.%d%c", s->alt ? "#" : "", prec, conv);
        snprintf(tmp, sizeof tmp, f, v);
        if (t == 0 && !strpbrk(tmp, ".enai")) strncat(tmp, ".0", sizeof tmp - strlen(tmp) - 1);
    }
    if (s->sign == '+' && v >= 0 && tmp[0] != '-') jbuf_putc(b, '+');
    else if (s->sign == ' ' && v >= 0 && tmp[0] != '-') jbuf_putc(b, ' ');
    if (s->group) {
        const char *p = tmp;
        if (*p == '-') jbuf_putc(b, *p++);
        size_t intlen = strspn(p, "0123456789");
        for (size_t i = 0; i < intlen; i++) {
            if (i && (intlen - i) % 3 == 0) jbuf_putc(b, s->group);
            jbuf_putc(b, p[i]);
        }
        jbuf_puts(b, p + intlen);
    } else jbuf_puts(b, tmp);
    if (pct) jbuf_putc(b, '%');
}

/* Applies width/fill/alignment to an already formatted body. */
static void fmt_pad(jbuf *out, const char *body, size_t len, const fspec *s, char default_align) {
    int64_t w = (int64_t)ju8_count(body, len);
    char align = s->align ? s->align : (s->zero ? '=' : default_align);
    const char *fill = s->fill_len ? s->fill : (s->zero ? "0" : " ");
    size_t fl = s->fill_len ? s->fill_len : 1;
    int64_t pad = s->width > w ? s->width - w : 0;
    if (pad > 1 << 20) pad = 1 << 20;
    int64_t left = align == '>' ? pad : align == '^' ? pad / 2 : 0;
    if (align == '=') {
        size_t signlen = (len && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
        jbuf_put(out, body, signlen);
        for (int64_t i = 0; i < pad; i++) jbuf_put(out, fill, fl);
        jbuf_put(out, body + signlen, len - signlen);
        return;
    }
    for (int64_t i = 0; i < left; i++) jbuf_put(out, fill, fl);
    jbuf_put(out, body, len);
    for (int64_t i = 0; i < pad - left; i++) jbuf_put(out, fill, fl);
}

static bool parse_spec(jctx *c, const char *p, size_t n, fspec *s) {
    memset(s, 0, sizeof *s);
    s->width = s->prec = -1;
    size_t i = 0;
    if (n) {
        uint32_t cp;
        size_t k = ju8_decode(p, n, &cp);
        if (k < n && strchr("<>^=", p[k]) && p[k]) {
            memcpy(s->fill, p, k);
            s->fill_len = k;
            s->align = p[k];
            i = k + 1;
        } else if (strchr("<>^=", p[0]) && p[0]) {
            s->align = p[0];
            i = 1;
        }
    }
    if (i < n && (p[i] == '+' || p[i] == '-' || p[i] == ' ')) s->sign = p[i++];
    if (i < n && p[i] == '#') { s->alt = true; i++; }
    if (i < n && p[i] == '0') { s->zero = true; i++; }
    if (i < n && p[i] >= '0' && p[i] <= '9') {
        s->width = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9' && s->width < 100000) s->width = s->width * 10 + (p[i++] - '0');
    }
    if (i < n && (p[i] == ',' || p[i] == '_')) s->group = p[i++];
    if (i < n && p[i] == '.') {
        i++;
        s->prec = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9' && s->prec < 100000) s->prec = s->prec * 10 + (p[i++] - '0');
    }
    if (i < n) s->type = p[i++];
    if (i != n) return jctx_fail(c, "ValueError", "Invalid format specifier '%.*s'", (int)n, p);
    return true;
}

static bool format_value(jctx *c, jv v, const fspec *s, jbuf *out) {
    jbuf body;
    jbuf_init(&body, c->opt.max_output);
    char def_align = '<';
    if ((v.t == JV_INT || v.t == JV_BOOL) && (s->type == 0 || strchr("dxXobnc", s->type))) {
        if (v.t == JV_BOOL && s->type == 0) jv_to_str(c, v, &body);
        else if (s->type == 'c') {
            char u[4];
            jbuf_put(&body, u, ju8_encode((uint32_t)(v.t == JV_INT ? v.u.i : v.u.b), u));
        } else fmt_int(&body, v.t == JV_INT ? v.u.i : v.u.b, s);
        def_align = '>';
    } else if ((v.t == JV_INT || v.t == JV_FLOAT || v.t == JV_BOOL) &&
               (s->type == 0 || strchr("eEfFgG%n", s->type))) {
        fmt_float(&body, v.t == JV_FLOAT ? v.u.f : v.t == JV_INT ? (double)v.u.i : v.u.b, s);
        def_align = '>';
    } else if (s->type == 0 || s->type == 's') {
        jv sv = jv_stringify(c, v);
        size_t len = sv.u.s.len;
        if (s->prec >= 0) len = js_cp_to_byte(sv, s->prec);
        jbuf_put(&body, sv.u.s.p, len);
    } else {
        jbuf_free(&body);
        return jctx_fail(c, "ValueError", "Unknown format code '%c' for object of type '%s'", s->type, jv_type_name(v));
    }
    fmt_pad(out, body.p ? body.p : "", body.len, s, def_align);
    jbuf_free(&body);
    return !c->failed;
}

bool jinja_str_format(jctx *c, jv fmt, const jargs *a, jv *out) {
    jbuf b;
    jbuf_init(&b, c->opt.max_output);
    const char *p = fmt.u.s.p;
    size_t n = fmt.u.s.len, auto_idx = 0;
    for (size_t i = 0; i < n && !c->failed;) {
        char ch = p[i];
        if (ch == '{' && i + 1 < n && p[i + 1] == '{') { jbuf_putc(&b, '{'); i += 2; continue; }
        if (ch == '}' && i + 1 < n && p[i + 1] == '}') { jbuf_putc(&b, '}'); i += 2; continue; }
        if (ch == '}') { jctx_fail(c, "ValueError", "Single '}' encountered in format string"); break; }
        if (ch != '{') { jbuf_putc(&b, ch); i++; continue; }
        size_t j = i + 1;
        while (j < n && p[j] != '}') j++;
        if (j >= n) { jctx_fail(c, "ValueError", "Single '{' encountered in format string"); break; }
        const char *field = p + i + 1;
        size_t flen = j - i - 1;
        const char *colon = memchr(field, ':', flen);
        size_t namelen = colon ? (size_t)(colon - field) : flen;
        const char *bang = memchr(field, '!', namelen);
        char conv = 0;
        if (bang) {
            conv = bang + 1 < field + namelen ? bang[1] : 0;
            namelen = (size_t)(bang - field);
        }
        /* field name: index or keyword, then .attr / [key] parts */
        size_t k = 0;
        while (k < namelen && field[k] != '.' && field[k] != '[') k++;
        jv v = {0};
        if (k == 0) v = jargs_get(a, auto_idx++, NULL);
        else if (field[0] >= '0' && field[0] <= '9') v = jargs_get(a, (size_t)strtoul(field, NULL, 10), NULL);
        else {
            char nm[128];
            snprintf(nm, sizeof nm, "%.*s", (int)k, field);
            v = jargs_get(a, (size_t)-1, nm);
            if (v.t == JV_UNDEF) { jctx_fail(c, "KeyError", "'%s'", nm); break; }
        }
        if (v.t == JV_UNDEF && k == 0) { jctx_fail(c, "IndexError", "Replacement index %zu out of range for positional args tuple", auto_idx - 1); break; }
        while (k < namelen && !c->failed) {
            if (field[k] == '.') {
                size_t e = k + 1;
                while (e < namelen && field[e] != '.' && field[e] != '[') e++;
                v = jinja_getattr(c, v, field + k + 1, e - k - 1);
                k = e;
            } else {
                size_t e = k + 1;
                while (e < namelen && field[e] != ']') e++;
                jv key = (field[k + 1] >= '0' && field[k + 1] <= '9') ? jv_int(strtoll(field + k + 1, NULL, 10))
                                                                      : jv_str(field + k + 1, e - k - 1);
                v = jinja_getitem(c, v, key);
                k = e + 1;
            }
        }
        if (conv == 'r' || conv == 'a') {
            jbuf r;
            jbuf_init(&r, 0);
            jv_repr(c, v, &r);
            v = jbuf_to_str(c, &r);
            jbuf_free(&r);
        } else if (conv == 's') v = jv_stringify(c, v);
        fspec s;
        if (!parse_spec(c, colon ? colon + 1 : "", colon ? (size_t)(field + flen - colon - 1) : 0, &s)) break;
        if (!format_value(c, v, &s, &b)) break;
        i = j + 1;
    }
    if (!c->failed && b.overflow) jctx_fail(c, "MemoryError", "formatted string too long");
    if (c->failed) {
        jbuf_free(&b);
        return false;
    }
    *out = jbuf_to_str(c, &b);
    out->flags = fmt.flags & JVF_MARKUP;
    jbuf_free(&b);
    return !c->failed;
}

bool jinja_percent_format(jctx *c, jv fmt, jv args, jv *out) {
    jbuf b;
    jbuf_init(&b, c->opt.max_output);
    jlist one = {1, 1, &args, false, 0}, *list = &one;
    bool is_tuple = args.t == JV_LIST && (args.flags & JVF_TUPLE);
    if (is_tuple) list = args.u.l;
    bool mapping = args.t == JV_DICT;
    size_t ai = 0;
    const char *p = fmt.u.s.p;
    size_t n = fmt.u.s.len;
    bool markup = fmt.flags & JVF_MARKUP;
    for (size_t i = 0; i < n && !c->failed;) {
        if (p[i] != '%') { jbuf_putc(&b, p[i++]); continue; }
        i++;
        if (i < n && p[i] == '%') { jbuf_putc(&b, '%'); i++; continue; }
        jv v = jv_undef();
        bool have = false;
        if (i < n && p[i] == '(') {
            size_t e = i + 1;
            while (e < n && p[e] != ')') e++;
            if (!mapping) { jctx_fail(c, "TypeError", "format requires a mapping"); break; }
            jv *x = jdict_get_str(args.u.d, p + i + 1, e - i - 1);
            if (!x) { jctx_fail(c, "KeyError", "'%.*s'", (int)(e - i - 1), p + i + 1); break; }
            v = *x;
            have = true;
            i = e + 1;
        }
        fspec s;
        memset(&s, 0, sizeof s);
        s.width = s.prec = -1;
        while (i < n && strchr("-+ #0", p[i]) && p[i]) {
            if (p[i] == '-') s.align = '<';
            else if (p[i] == '+') s.sign = '+';
            else if (p[i] == ' ') s.sign = s.sign ? s.sign : ' ';
            else if (p[i] == '#') s.alt = true;
            else s.zero = true;
            i++;
        }
        if (i < n && p[i] >= '0' && p[i] <= '9') {
            s.width = 0;
            while (i < n && p[i] >= '0' && p[i] <= '9' && s.width < 100000) s.width = s.width * 10 + (p[i++] - '0');
        }
        if (i < n && p[i] == '.') {
            i++;
            s.prec = 0;
            while (i < n && p[i] >= '0' && p[i] <= '9' && s.prec < 100000) s.prec = s.prec * 10 + (p[i++] - '0');
        }
        if (i >= n) { jctx_fail(c, "ValueError", "incomplete format"); break; }
        char t = p[i++];
        if (!have) {
            if (ai >= list->n) { jctx_fail(c, "TypeError", "not enough arguments for format string"); break; }
            v = list->items[ai++];
        }
        if (s.align == '<') s.zero = false;
        if (!s.align) s.align = s.zero ? '=' : '>';
        jv sv = v;
        switch (t) {
        case 's': case 'r': case 'a': {
            jbuf r;
            jbuf_init(&r, 0);
            if (t == 's') jv_to_str(c, v, &r);
            else jv_repr(c, v, &r);
            sv = jbuf_to_str(c, &r);
            jbuf_free(&r);
            if (markup && t == 's' && v.t == JV_STR && !(v.flags & JVF_MARKUP)) {
                jbuf e;
                jbuf_init(&e, 0);
                jv_html_escape(sv.u.s.p, sv.u.s.len, &e);
                sv = jbuf_to_str(c, &e);
                jbuf_free(&e);
            }
            size_t len = s.prec >= 0 ? js_cp_to_byte(sv, s.prec) : sv.u.s.len;
            s.zero = false;
            if (s.align == '=') s.align = '>';
            fmt_pad(&b, sv.u.s.p, len, &s, '>');
            break;
        }
        case 'd': case 'i': case 'u': case 'x': case 'X': case 'o': {
            int64_t iv = 0;
            if (v.t == JV_INT) iv = v.u.i;
            else if (v.t == JV_BOOL) iv = v.u.b;
            else if (v.t == JV_FLOAT && isfinite(v.u.f)) iv = (int64_t)v.u.f;
            else { jctx_fail(c, "TypeError", "%%%c format: a real number is required, not %s", t, jv_type_name(v)); break; }
            fspec is = s;
            is.type = (t == 'd' || t == 'i' || t == 'u') ? 'd' : t;
            jbuf body;
            jbuf_init(&body, 0);
            fmt_int(&body, iv, &is);
            if (s.prec > 0) {
                /* precision = minimum digits */
                size_t neg = body.len && body.p[0] == '-';
                size_t dl = body.len - neg;
                jbuf z;
                jbuf_init(&z, 0);
                jbuf_put(&z, body.p, neg);
                for (int64_t k = (int64_t)dl; k < s.prec && k < 1000; k++) jbuf_putc(&z, '0');
                jbuf_put(&z, body.p + neg, dl);
                jbuf_free(&body);
                body = z;
            }
            fmt_pad(&b, body.p ? body.p : "", body.len, &s, '>');
            jbuf_free(&body);
            break;
        }
        case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': {
            double f;
            if (v.t == JV_FLOAT) f = v.u.f;
            else if (v.t == JV_INT) f = (double)v.u.i;
            else if (v.t == JV_BOOL) f = v.u.b;
            else { jctx_fail(c, "TypeError", "must be real number, not %s", jv_type_name(v)); break; }
            fspec fs = s;
            fs.type = t;
            if (fs.prec < 0) fs.prec = 6;
            jbuf body;
            jbuf_init(&body, 0);
            fmt_float(&body, f, &fs);
            fmt_pad(&b, body.p ? body.p : "", body.len, &s, '>');
            jbuf_free(&body);
            break;
        }
        case 'c': {
            char u[4];
            if (v.t == JV_INT) jbuf_put(&b, u, ju8_encode((uint32_t)v.u.i, u));
            else if (v.t == JV_STR) jbuf_put(&b, v.u.s.p, v.u.s.len);
            break;
        }
        default:
            jctx_fail(c, "ValueError", "unsupported format character '%c'", t);
        }
        (void)sv;
    }
    /* Python only complains about unused arguments that are a tuple or a
     * scalar: anything with __getitem__ (list, Undefined) counts as a mapping */
    bool scalar = args.t == JV_NONE || args.t == JV_BOOL || args.t == JV_INT || args.t == JV_FLOAT || args.t == JV_STR;
    if (!c->failed && !mapping && (is_tuple || scalar) && ai < list->n)
        jctx_fail(c, "TypeError", "not all arguments converted during string formatting");
    if (!c->failed && b.overflow) jctx_fail(c, "MemoryError", "formatted string too long");
    if (c->failed) {
        jbuf_free(&b);
        return false;
    }
    *out = jbuf_to_str(c, &b);
    out->flags = fmt.flags & JVF_MARKUP;
    jbuf_free(&b);
    return !c->failed;
}
