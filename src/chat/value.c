/* The value model of the template interpreter: the render arena, the
 * Python-like values templates compute with (constructors, lists, ordered
 * dicts), their truthiness, equality and ordering, and their conversion to
 * text exactly as Python prints them: str() and repr() (quotes, escapes,
 * `True`/`None`, shortest round-trip floats), json.dumps (HF's tojson:
 * separators, indent, key order, ensure_ascii) and markupsafe's escape.
 * Also the UTF-8 helpers, since Python strings count code points. */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "chat/jinja.h"

/* ------------------------------------------------------------ arena -- */
typedef struct jchunk {
    struct jchunk *next;
    size_t used, cap;
    max_align_t data[];
} jchunk;

struct jarena {
    jchunk *head;
    size_t total, limit;
    bool exhausted;
};

jarena *jarena_new(size_t limit_bytes) {
    jarena *a = calloc(1, sizeof *a);
    if (a) a->limit = limit_bytes ? limit_bytes : (size_t)1 << 30;
    return a;
}

void jarena_free(jarena *a) {
    if (!a) return;
    jchunk *c = a->head;
    while (c) {
        jchunk *n = c->next;
        free(c);
        c = n;
    }
    free(a);
}

void *jarena_alloc(jarena *a, size_t n) {
    if (a->exhausted) return NULL;
    size_t al = sizeof(max_align_t);
    n = (n + al - 1) / al * al;
    if (n == 0) n = al;
    jchunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        if (a->total + cap > a->limit) {
            a->exhausted = true;
            return NULL;
        }
        c = malloc(sizeof *c + cap);
        if (!c) {
            a->exhausted = true;
            return NULL;
        }
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
        a->total += cap;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

bool jarena_exhausted(const jarena *a) { return a->exhausted; }
size_t jarena_used(const jarena *a) { return a->total; }

/* ----------------------------------------------------------- values -- */
jv jv_undef(void) { jv v = {0}; v.t = JV_UNDEF; return v; }
jv jv_none(void) { jv v = {0}; v.t = JV_NONE; return v; }
jv jv_bool(bool b) { jv v = {0}; v.t = JV_BOOL; v.u.b = b; return v; }
jv jv_int(int64_t i) { jv v = {0}; v.t = JV_INT; v.u.i = i; return v; }
jv jv_float(double f) { jv v = {0}; v.t = JV_FLOAT; v.u.f = f; return v; }
jv jv_str(const char *p, size_t len) {
    jv v = {0};
    v.t = JV_STR;
    v.u.s.p = p ? p : "";
    v.u.s.len = len;
    return v;
}
jv jv_cstr(const char *s) { return jv_str(s, strlen(s)); }

jv jv_str_copy(jctx *c, const char *p, size_t len) {
    if (len == 0) return jv_str("", 0);
    char *d = jctx_alloc(c, len + 1);
    if (!d) return jv_str("", 0);
    memcpy(d, p, len);
    d[len] = 0;
    return jv_str(d, len);
}

jv jv_undef_msg(jctx *c, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof tmp) n = sizeof tmp - 1;
    jv v = jv_str_copy(c, tmp, (size_t)n);
    v.t = JV_UNDEF;
    return v;
}

jv jv_list_new(jctx *c, size_t cap) {
    jv v = {0};
    v.t = JV_LIST;
    jlist *l = jctx_alloc(c, sizeof *l);
    if (!l) { v.t = JV_NONE; return v; }
    memset(l, 0, sizeof *l);
    if (cap) {
        l->items = jctx_alloc(c, cap * sizeof(jv));
        if (l->items) l->cap = cap;
    }
    v.u.l = l;
    return v;
}

jv jv_dict_new(jctx *c, size_t cap) {
    jv v = {0};
    v.t = JV_DICT;
    jdict *d = jctx_alloc(c, sizeof *d);
    if (!d) { v.t = JV_NONE; return v; }
    memset(d, 0, sizeof *d);
    if (cap) {
        d->keys = jctx_alloc(c, cap * sizeof(jv));
        d->vals = jctx_alloc(c, cap * sizeof(jv));
        if (d->keys && d->vals) d->cap = cap;
    }
    v.u.d = d;
    return v;
}

bool jlist_push(jctx *c, jlist *l, jv v) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        jv *n = jctx_alloc(c, cap * sizeof(jv));
        if (!n) return false;
        if (l->n) memcpy(n, l->items, l->n * sizeof(jv));
        l->items = n;
        l->cap = cap;
    }
    l->items[l->n++] = v;
    return true;
}

static uint64_t hash_bytes(const char *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* Equal keys must hash equal: 1, 1.0 and True are the same dict key. */
static uint64_t jv_hash(jv k) {
    switch (k.t) {
    case JV_STR: return hash_bytes(k.u.s.p, k.u.s.len);
    case JV_BOOL: return (uint64_t)k.u.b * 0x9e3779b97f4a7c15ull;
    case JV_INT: return (uint64_t)k.u.i * 0x9e3779b97f4a7c15ull;
    case JV_FLOAT:
        if (k.u.f == floor(k.u.f) && fabs(k.u.f) < 9e18) return (uint64_t)(int64_t)k.u.f * 0x9e3779b97f4a7c15ull;
        return hash_bytes((const char *)&k.u.f, sizeof k.u.f);
    case JV_NONE: return 77;
    default: return 99;
    }
}

static void dict_index_rebuild(jctx *c, jdict *d) {
    size_t cap = 16;
    while (cap < d->n * 2 + 2) cap *= 2;
    uint32_t *ix = jctx_alloc(c, cap * sizeof *ix);
    if (!ix) { d->index = NULL; d->index_cap = 0; return; }
    memset(ix, 0, cap * sizeof *ix);
    for (size_t i = 0; i < d->n; i++) {
        size_t h = (size_t)jv_hash(d->keys[i]) & (cap - 1);
        while (ix[h]) h = (h + 1) & (cap - 1);
        ix[h] = (uint32_t)(i + 1);
    }
    d->index = ix;
    d->index_cap = cap;
}

static long dict_find(const jdict *d, jv key) {
    if (d->index) {
        size_t h = (size_t)jv_hash(key) & (d->index_cap - 1);
        while (d->index[h]) {
            size_t i = d->index[h] - 1;
            if (jv_equal(d->keys[i], key)) return (long)i;
            h = (h + 1) & (d->index_cap - 1);
        }
        return -1;
    }
    for (size_t i = 0; i < d->n; i++)
        if (jv_equal(d->keys[i], key)) return (long)i;
    return -1;
}

jv *jdict_get(const jdict *d, jv key) {
    long i = dict_find(d, key);
    return i < 0 ? NULL : &d->vals[i];
}

jv *jdict_get_str(const jdict *d, const char *key, size_t len) {
    return jdict_get(d, jv_str(key, len));
}

bool jdict_set(jctx *c, jdict *d, jv key, jv val) {
    long i = dict_find(d, key);
    if (i >= 0) {
        d->vals[i] = val;
        return true;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        jv *k = jctx_alloc(c, cap * sizeof(jv)), *v = jctx_alloc(c, cap * sizeof(jv));
        if (!k || !v) return false;
        if (d->n) {
            memcpy(k, d->keys, d->n * sizeof(jv));
            memcpy(v, d->vals, d->n * sizeof(jv));
        }
        d->keys = k;
        d->vals = v;
        d->cap = cap;
    }
    d->keys[d->n] = key;
    d->vals[d->n] = val;
    d->n++;
    if (d->n > 8) {
        if (!d->index || d->n * 2 + 2 > d->index_cap) dict_index_rebuild(c, d);
        else {
            size_t h = (size_t)jv_hash(key) & (d->index_cap - 1);
            while (d->index[h]) h = (h + 1) & (d->index_cap - 1);
            d->index[h] = (uint32_t)d->n;
        }
    }
    return true;
}

bool jv_is_str(jv v) { return v.t == JV_STR; }

bool jv_truthy(jv v) {
    switch (v.t) {
    case JV_UNDEF: case JV_NONE: return false;
    case JV_BOOL: return v.u.b;
    case JV_INT: return v.u.i != 0;
    case JV_FLOAT: return v.u.f != 0.0;
    case JV_STR: return v.u.s.len != 0;
    case JV_LIST: return (v.flags & JVF_GEN) || v.u.l->n != 0;
    case JV_DICT: return (v.flags & JVF_NS) || v.u.d->n != 0;
    default: return true;
    }
}

static bool is_num(jv v) { return v.t == JV_BOOL || v.t == JV_INT || v.t == JV_FLOAT; }
static double num_f(jv v) {
    return v.t == JV_FLOAT ? v.u.f : v.t == JV_INT ? (double)v.u.i : (double)v.u.b;
}
static int64_t num_i(jv v) { return v.t == JV_INT ? v.u.i : (int64_t)v.u.b; }

bool jv_equal(jv a, jv b) {
    if (is_num(a) && is_num(b)) {
        if (a.t == JV_FLOAT || b.t == JV_FLOAT) return num_f(a) == num_f(b);
        return num_i(a) == num_i(b);
    }
    if (a.t != b.t) return false;
    switch (a.t) {
    case JV_UNDEF: case JV_NONE: return true;
    case JV_STR: return a.u.s.len == b.u.s.len && memcmp(a.u.s.p, b.u.s.p, a.u.s.len) == 0;
    case JV_LIST:
        if ((a.flags & JVF_TUPLE) != (b.flags & JVF_TUPLE)) return false;
        if ((a.flags & JVF_GEN) || (b.flags & JVF_GEN)) return a.u.l == b.u.l;
        if (a.u.l->n != b.u.l->n) return false;
        for (size_t i = 0; i < a.u.l->n; i++)
            if (!jv_equal(a.u.l->items[i], b.u.l->items[i])) return false;
        return true;
    case JV_DICT:
        if ((a.flags & JVF_NS) || (b.flags & JVF_NS)) return a.u.d == b.u.d;
        if (a.u.d->n != b.u.d->n) return false;
        for (size_t i = 0; i < a.u.d->n; i++) {
            jv *o = jdict_get(b.u.d, a.u.d->keys[i]);
            if (!o || !jv_equal(a.u.d->vals[i], *o)) return false;
        }
        return true;
    case JV_FUNC: return a.u.fn == b.u.fn;
    case JV_LOOP: return a.u.loop == b.u.loop;
    default: return false;
    }
}

const char *jv_type_name(jv v) {
    switch (v.t) {
    case JV_UNDEF: return "Undefined";
    case JV_NONE: return "NoneType";
    case JV_BOOL: return "bool";
    case JV_INT: return "int";
    case JV_FLOAT: return "float";
    case JV_STR: return (v.flags & JVF_MARKUP) ? "Markup" : "str";
    case JV_LIST:
        if (v.flags & JVF_GEN) return "generator";
        if (v.flags & JVF_TUPLE) return "tuple";
        if (v.flags & JVF_RANGE) return "range";
        if (v.flags & JVF_ITEMS) return "dict_items";
        if (v.flags & JVF_KEYS) return "dict_keys";
        if (v.flags & JVF_VALUES) return "dict_values";
        return "list";
    case JV_DICT: return (v.flags & JVF_NS) ? "Namespace" : "dict";
    case JV_FUNC: return v.u.fn->kind == JF_MACRO ? "Macro" : "builtin_function_or_method";
    case JV_LOOP: return "LoopContext";
    default: return "object";
    }
}

int jv_compare(jctx *c, jv a, jv b, bool *ok) {
    *ok = true;
    if (is_num(a) && is_num(b)) {
        if (a.t == JV_FLOAT || b.t == JV_FLOAT) {
            double x = num_f(a), y = num_f(b);
            return x < y ? -1 : x > y ? 1 : 0;
        }
        int64_t x = num_i(a), y = num_i(b);
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.t == JV_STR && b.t == JV_STR) {
        size_t n = a.u.s.len < b.u.s.len ? a.u.s.len : b.u.s.len;
        int r = memcmp(a.u.s.p, b.u.s.p, n);
        if (r) return r < 0 ? -1 : 1;
        return a.u.s.len < b.u.s.len ? -1 : a.u.s.len > b.u.s.len ? 1 : 0;
    }
    if (a.t == JV_LIST && b.t == JV_LIST && !((a.flags | b.flags) & JVF_GEN) &&
        (a.flags & JVF_TUPLE) == (b.flags & JVF_TUPLE)) {
        size_t n = a.u.l->n < b.u.l->n ? a.u.l->n : b.u.l->n;
        for (size_t i = 0; i < n; i++) {
            if (jv_equal(a.u.l->items[i], b.u.l->items[i])) continue;
            return jv_compare(c, a.u.l->items[i], b.u.l->items[i], ok);
        }
        return a.u.l->n < b.u.l->n ? -1 : a.u.l->n > b.u.l->n ? 1 : 0;
    }
    *ok = false;
    return 0;
}

/* ----------------------------------------------------- string builder -- */
void jbuf_init(jbuf *b, size_t limit) {
    memset(b, 0, sizeof *b);
    b->limit = limit ? limit : (size_t)1 << 30;
}
void jbuf_free(jbuf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
bool jbuf_put(jbuf *b, const char *p, size_t n) {
    if (b->overflow || b->nomem) return false;
    if (n > b->limit - b->len) {
        b->overflow = true;
        return false;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->nomem = true;
            return false;
        }
        b->p = q;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
    return true;
}
bool jbuf_puts(jbuf *b, const char *s) { return jbuf_put(b, s, strlen(s)); }
bool jbuf_putc(jbuf *b, char ch) { return jbuf_put(b, &ch, 1); }
bool jbuf_printf(jbuf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return false;
    if ((size_t)n < sizeof tmp) return jbuf_put(b, tmp, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big) { b->nomem = true; return false; }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    bool ok = jbuf_put(b, big, (size_t)n);
    free(big);
    return ok;
}
jv jbuf_to_str(jctx *c, const jbuf *b) { return jv_str_copy(c, b->p, b->len); }

/* --------------------------------------------------------- utf-8 -- */
size_t ju8_decode(const char *s, size_t n, uint32_t *cp) {
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0) { *cp = 0; return 0; }
    unsigned c0 = p[0];
    size_t len;
    uint32_t v;
    if (c0 < 0x80) { *cp = c0; return 1; }
    else if ((c0 & 0xE0) == 0xC0) { len = 2; v = c0 & 0x1F; }
    else if ((c0 & 0xF0) == 0xE0) { len = 3; v = c0 & 0x0F; }
    else if ((c0 & 0xF8) == 0xF0) { len = 4; v = c0 & 0x07; }
    else { *cp = c0; return 1; }
    if (len > n) { *cp = c0; return 1; }
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) { *cp = c0; return 1; }
        v = (v << 6) | (p[i] & 0x3F);
    }
    *cp = v;
    return len;
}

size_t ju8_encode(uint32_t cp, char out[4]) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t ju8_count(const char *p, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += ju8_decode(p + i, n - i, &cp);
        count++;
    }
    return count;
}

/* Python's str.isspace(): Unicode White_Space plus the ASCII separators. */
bool ju_isspace(uint32_t cp) {
    if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F)) return true;
    if (cp < 0x80) return false;
    switch (cp) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F:
    case 0x205F: case 0x3000:
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

/* ------------------------------------------------------ str / repr -- */
void jv_float_repr(double f, jbuf *b) {
    if (isnan(f)) { jbuf_puts(b, "nan"); return; }
    if (isinf(f)) { jbuf_puts(b, f < 0 ? "-inf" : "inf"); return; }
    if (f == 0) { jbuf_puts(b, signbit(f) ? "-0.0" : "0.0"); return; }
    char tmp[64];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, f);
        if (strtod(tmp, NULL) == f) break;
    }
    /* tmp = [-]d[.ddd]e[+-]XX: pull the digits and the exponent apart. */
    char digits[32];
    size_t nd = 0;
    const char *p = tmp;
    bool neg = false;
    if (*p == '-') { neg = true; p++; }
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[nd++] = *p;
    int exp = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    digits[nd] = 0;
    if (neg) jbuf_putc(b, '-');
    if (exp < -4 || exp >= 16) {
        jbuf_putc(b, digits[0]);
        if (nd > 1) {
            jbuf_putc(b, '.');
            jbuf_put(b, digits + 1, nd - 1);
        }
        jbuf_printf(b, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    } else if (exp < 0) {
        jbuf_puts(b, "0.");
        for (int i = 0; i < -exp - 1; i++) jbuf_putc(b, '0');
        jbuf_put(b, digits, nd);
    } else {
        size_t ip = (size_t)exp + 1;
        for (size_t i = 0; i < ip; i++) jbuf_putc(b, i < nd ? digits[i] : '0');
        jbuf_putc(b, '.');
        if (nd > ip) jbuf_put(b, digits + ip, nd - ip);
        else jbuf_putc(b, '0');
    }
}

/* str.isprintable() per code point: everything but control, format,
 * surrogate, private-use, unassigned and separator characters (except ' '). */
static bool py_printable(uint32_t cp) {
    if (cp == ' ') return true;
    if (cp < 0x20 || cp == 0x7F) return false;
    if (cp < 0x7F) return true;
    utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
    switch (cat) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO: case UTF8PROC_CATEGORY_CN: case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP: case UTF8PROC_CATEGORY_ZS:
        return false;
    default:
        return true;
    }
}

static void repr_str(const char *s, size_t n, jbuf *b) {
    bool has_sq = memchr(s, '\'', n) != NULL, has_dq = memchr(s, '"', n) != NULL;
    char q = (has_sq && !has_dq) ? '"' : '\'';
    jbuf_putc(b, q);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = ju8_decode(s + i, n - i, &cp);
        if (cp == (uint32_t)q || cp == '\\') { jbuf_putc(b, '\\'); jbuf_putc(b, (char)cp); }
        else if (cp == '\n') jbuf_puts(b, "\\n");
        else if (cp == '\r') jbuf_puts(b, "\\r");
        else if (cp == '\t') jbuf_puts(b, "\\t");
        else if (!py_printable(cp)) {
            if (cp < 0x100) jbuf_printf(b, "\\x%02x", (unsigned)cp);
            else if (cp < 0x10000) jbuf_printf(b, "\\u%04x", (unsigned)cp);
            else jbuf_printf(b, "\\U%08x", (unsigned)cp);
        } else jbuf_put(b, s + i, k);
        i += k;
    }
    jbuf_putc(b, q);
}

static void seq_repr(jctx *c, jv v, jbuf *b, int depth);

static void repr_d(jctx *c, jv v, jbuf *b, int depth) {
    if (depth > 200) { jbuf_puts(b, "..."); return; }
    switch (v.t) {
    case JV_STR:
        if (v.flags & JVF_MARKUP) {
            jbuf_puts(b, "Markup(");
            repr_str(v.u.s.p, v.u.s.len, b);
            jbuf_putc(b, ')');
        } else repr_str(v.u.s.p, v.u.s.len, b);
        return;
    case JV_LIST: case JV_DICT:
        seq_repr(c, v, b, depth);
        return;
    case JV_UNDEF:
        jbuf_puts(b, "Undefined");
        return;
    default:
        jv_to_str(c, v, b);
    }
}

static void seq_repr(jctx *c, jv v, jbuf *b, int depth) {
    if (v.t == JV_DICT) {
        if (v.flags & JVF_NS) jbuf_puts(b, "<Namespace ");
        jbuf_putc(b, '{');
        for (size_t i = 0; i < v.u.d->n; i++) {
            if (i) jbuf_puts(b, ", ");
            repr_d(c, v.u.d->keys[i], b, depth + 1);
            jbuf_puts(b, ": ");
            repr_d(c, v.u.d->vals[i], b, depth + 1);
        }
        jbuf_putc(b, '}');
        if (v.flags & JVF_NS) jbuf_putc(b, '>');
        return;
    }
    jlist *l = v.u.l;
    if (v.flags & JVF_GEN) { jbuf_puts(b, "<generator object at 0x0>"); return; }
    if (v.flags & JVF_RANGE) {
        if (l->n == 0) { jbuf_printf(b, "range(%lld, %lld)", 0LL, (long long)l->range_stop); return; }
        int64_t start = l->items[0].u.i;
        int64_t step = l->n > 1 ? l->items[1].u.i - start : 1;
        int64_t stop = l->range_stop;
        if (step == 1) jbuf_printf(b, "range(%lld, %lld)", (long long)start, (long long)stop);
        else jbuf_printf(b, "range(%lld, %lld, %lld)", (long long)start, (long long)stop, (long long)step);
        return;
    }
    const char *open = "[", *close = "]";
    if (v.flags & JVF_TUPLE) { open = "("; close = l->n == 1 ? ",)" : ")"; }
    if (v.flags & JVF_ITEMS) { jbuf_puts(b, "dict_items("); close = "])"; }
    if (v.flags & JVF_KEYS) { jbuf_puts(b, "dict_keys("); close = "])"; }
    if (v.flags & JVF_VALUES) { jbuf_puts(b, "dict_values("); close = "])"; }
    jbuf_puts(b, open);
    for (size_t i = 0; i < l->n; i++) {
        if (i) jbuf_puts(b, ", ");
        repr_d(c, l->items[i], b, depth + 1);
    }
    jbuf_puts(b, close);
}

void jv_repr(jctx *c, jv v, jbuf *b) { repr_d(c, v, b, 0); }

void jv_to_str(jctx *c, jv v, jbuf *b) {
    switch (v.t) {
    case JV_UNDEF: return;
    case JV_NONE: jbuf_puts(b, "None"); return;
    case JV_BOOL: jbuf_puts(b, v.u.b ? "True" : "False"); return;
    case JV_INT: jbuf_printf(b, "%lld", (long long)v.u.i); return;
    case JV_FLOAT: jv_float_repr(v.u.f, b); return;
    case JV_STR: jbuf_put(b, v.u.s.p, v.u.s.len); return;
    case JV_LIST: case JV_DICT: seq_repr(c, v, b, 0); return;
    case JV_FUNC:
        if (v.u.fn->kind == JF_MACRO) jbuf_printf(b, "<Macro '%s'>", v.u.fn->name);
        else jbuf_printf(b, "<built-in method %s>", v.u.fn->name);
        return;
    case JV_LOOP: jbuf_puts(b, "<LoopContext>"); return;
    }
}

jv jv_stringify(jctx *c, jv v) {
    if (v.t == JV_STR) return v;
    if (v.t == JV_UNDEF) return jv_str("", 0);
    jbuf b;
    jbuf_init(&b, 0);
    jv_to_str(c, v, &b);
    jv r = jbuf_to_str(c, &b);
    jbuf_free(&b);
    return r;
}

void jv_html_escape(const char *p, size_t n, jbuf *b) {
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (p[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '\'': rep = "&#39;"; break;
        case '"': rep = "&#34;"; break;
        default: continue;
        }
        jbuf_put(b, p + start, i - start);
        jbuf_puts(b, rep);
        start = i + 1;
    }
    jbuf_put(b, p + start, n - start);
}

/* ------------------------------------------------------------- json -- */
static void json_str(const char *s, size_t n, jbuf *b, bool ensure_ascii) {
    jbuf_putc(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x80) {
            switch (ch) {
            case '"': jbuf_puts(b, "\\\""); break;
            case '\\': jbuf_puts(b, "\\\\"); break;
            case '\n': jbuf_puts(b, "\\n"); break;
            case '\r': jbuf_puts(b, "\\r"); break;
            case '\t': jbuf_puts(b, "\\t"); break;
            case '\b': jbuf_puts(b, "\\b"); break;
            case '\f': jbuf_puts(b, "\\f"); break;
            default:
                if (ch < 0x20) jbuf_printf(b, "\\u%04x", ch);
                else jbuf_putc(b, (char)ch);
            }
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = ju8_decode(s + i, n - i, &cp);
        if (ensure_ascii) {
            if (cp >= 0x10000) {
                uint32_t v = cp - 0x10000;
                jbuf_printf(b, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
            } else jbuf_printf(b, "\\u%04x", cp);
        } else jbuf_put(b, s + i, k);
        i += k;
    }
    jbuf_putc(b, '"');
}

static void json_nl(jbuf *b, int indent, int level) {
    jbuf_putc(b, '\n');
    for (int i = 0; i < indent * level; i++) jbuf_putc(b, ' ');
}

typedef struct json_opts {
    int indent;
    const char *item_sep, *key_sep;
    bool sort_keys, ensure_ascii;
} json_opts;

static bool json_key(jctx *c, jv k, jbuf *b, const json_opts *o) {
    switch (k.t) {
    case JV_STR: json_str(k.u.s.p, k.u.s.len, b, o->ensure_ascii); return true;
    case JV_INT: jbuf_printf(b, "\"%lld\"", (long long)k.u.i); return true;
    case JV_FLOAT: jbuf_putc(b, '"'); jv_float_repr(k.u.f, b); jbuf_putc(b, '"'); return true;
    case JV_BOOL: jbuf_puts(b, k.u.b ? "\"true\"" : "\"false\""); return true;
    case JV_NONE: jbuf_puts(b, "\"null\""); return true;
    default:
        return jctx_fail(c, "TypeError", "keys must be str, int, float, bool or None, not %s",
                         jv_type_name(k));
    }
}

static bool json_val(jctx *c, jv v, jbuf *b, const json_opts *o, int level) {
    if (level > 512) return jctx_fail(c, "ValueError", "Circular reference detected");
    switch (v.t) {
    case JV_NONE: jbuf_puts(b, "null"); return true;
    case JV_BOOL: jbuf_puts(b, v.u.b ? "true" : "false"); return true;
    case JV_INT: jbuf_printf(b, "%lld", (long long)v.u.i); return true;
    case JV_FLOAT:
        if (isnan(v.u.f)) jbuf_puts(b, "NaN");
        else if (isinf(v.u.f)) jbuf_puts(b, v.u.f < 0 ? "-Infinity" : "Infinity");
        else jv_float_repr(v.u.f, b);
        return true;
    case JV_STR: json_str(v.u.s.p, v.u.s.len, b, o->ensure_ascii); return true;
    case JV_LIST: {
        if (v.flags & (JVF_GEN | JVF_RANGE | JVF_ITEMS | JVF_KEYS | JVF_VALUES)) break;
        jlist *l = v.u.l;
        if (l->n == 0) { jbuf_puts(b, "[]"); return true; }
        jbuf_putc(b, '[');
        for (size_t i = 0; i < l->n; i++) {
            if (i) jbuf_puts(b, o->item_sep);
            if (o->indent >= 0) json_nl(b, o->indent, level + 1);
            if (!json_val(c, l->items[i], b, o, level + 1)) return false;
        }
        if (o->indent >= 0) json_nl(b, o->indent, level);
        jbuf_putc(b, ']');
        return true;
    }
    case JV_DICT: {
        if (v.flags & JVF_NS) break;
        jdict *d = v.u.d;
        if (d->n == 0) { jbuf_puts(b, "{}"); return true; }
        size_t *order = jctx_alloc(c, d->n * sizeof *order);
        if (!order) return false;
        for (size_t i = 0; i < d->n; i++) order[i] = i;
        if (o->sort_keys) {
            for (size_t i = 1; i < d->n; i++) { /* insertion sort: stable, small n */
                size_t x = order[i], j = i;
                while (j > 0) {
                    bool ok;
                    int r = jv_compare(c, d->keys[order[j - 1]], d->keys[x], &ok);
                    if (!ok) return jctx_fail(c, "TypeError", "'<' not supported between instances of '%s' and '%s'",
                                              jv_type_name(d->keys[x]), jv_type_name(d->keys[order[j - 1]]));
                    if (r <= 0) break;
                    order[j] = order[j - 1];
                    j--;
                }
                order[j] = x;
            }
        }
        jbuf_putc(b, '{');
        for (size_t k = 0; k < d->n; k++) {
            size_t i = order[k];
            if (k) jbuf_puts(b, o->item_sep);
            if (o->indent >= 0) json_nl(b, o->indent, level + 1);
            if (!json_key(c, d->keys[i], b, o)) return false;
            jbuf_puts(b, o->key_sep);
            if (!json_val(c, d->vals[i], b, o, level + 1)) return false;
        }
        if (o->indent >= 0) json_nl(b, o->indent, level);
        jbuf_putc(b, '}');
        return true;
    }
    default: break;
    }
    return jctx_fail(c, "TypeError", "Object of type %s is not JSON serializable", jv_type_name(v));
}

bool jv_to_json(jctx *c, jv v, jbuf *b, int indent, const char *item_sep, const char *key_sep,
                bool sort_keys, bool ensure_ascii) {
    json_opts o = {indent, item_sep, key_sep, sort_keys, ensure_ascii};
    if (!o.item_sep) o.item_sep = indent >= 0 ? "," : ", ";
    if (!o.key_sep) o.key_sep = ": ";
    return json_val(c, v, b, &o, 0);
}

bool jv_from_json(jctx *c, const void *jp, jv *out, int depth) {
    const json_t *j = jp;
    if (depth > 1000) return jctx_fail(c, "ValueError", "JSON context nested too deeply");
    switch (json_typeof(j)) {
    case JSON_NULL: *out = jv_none(); return true;
    case JSON_TRUE: *out = jv_bool(true); return true;
    case JSON_FALSE: *out = jv_bool(false); return true;
    case JSON_INTEGER: *out = jv_int((int64_t)json_integer_value(j)); return true;
    case JSON_REAL: *out = jv_float(json_real_value(j)); return true;
    case JSON_STRING: *out = jv_str(json_string_value(j), json_string_length(j)); return true;
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        jv l = jv_list_new(c, n);
        if (l.t != JV_LIST) return false;
        for (size_t i = 0; i < n; i++) {
            jv item;
            if (!jv_from_json(c, json_array_get(j, i), &item, depth + 1)) return false;
            if (!jlist_push(c, l.u.l, item)) return false;
        }
        *out = l;
        return true;
    }
    case JSON_OBJECT: {
        jv d = jv_dict_new(c, json_object_size(j));
        if (d.t != JV_DICT) return false;
        const char *key;
        json_t *val;
        void *it = json_object_iter((json_t *)j);
        while (it) {
            key = json_object_iter_key(it);
            val = json_object_iter_value(it);
            jv item;
            if (!jv_from_json(c, val, &item, depth + 1)) return false;
            size_t klen = json_object_iter_key_len(it);
            if (!jdict_set(c, d.u.d, jv_str(key, klen), item)) return false;
            it = json_object_iter_next((json_t *)j, it);
        }
        *out = d;
        return true;
    }
    }
    return false;
}
