/* The template evaluator: walks the syntax tree with Jinja2's runtime
 * semantics. It owns scopes (a for-loop body gets a fresh scope per
 * iteration, macros close over the scope they were defined in, `if` adds
 * none), Undefined (falsy, prints empty, raises when used further),
 * Python's operators (floor division and modulo signs, `+` on Markup
 * escaping the other side, list and string repetition), attribute versus
 * item lookup under HF's immutable sandbox, loops with `loop.*`, macros
 * with defaults/varargs/kwargs/caller, call and filter blocks, and the
 * render limits: output bytes, arena bytes, steps and call depth. */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat/jinja.h"

#define MAX_CALL_DEPTH 100

typedef struct jscope {
    struct jscope *parent;
    jdict vars;
} jscope;

typedef enum { X_OK, X_BREAK, X_CONTINUE, X_ERR } xstatus;

/* ------------------------------------------------------------ context -- */
bool jctx_fail(jctx *c, const char *kind, const char *fmt, ...) {
    if (c->failed) return false;
    c->failed = true;
    snprintf(c->kind, sizeof c->kind, "%s", kind);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    return false;
}

bool jctx_failed(const jctx *c) { return c->failed; }

void *jctx_alloc(jctx *c, size_t n) {
    void *p = jarena_alloc(c->arena, n);
    if (!p) jctx_fail(c, "MemoryError", "template used more than %zu bytes of memory", c->opt.max_memory);
    return p;
}

int64_t jctx_now(const jctx *c) { return c->opt.now; }

bool jctx_step(jctx *c) {
    if (++c->steps > c->opt.max_steps)
        return jctx_fail(c, "RuntimeError", "template exceeded %llu steps (loop iterations and calls)",
                         (unsigned long long)c->opt.max_steps);
    return true;
}

/* -------------------------------------------------------------- scope -- */
static jscope *scope_new(jctx *c, jscope *parent) {
    jscope *s = jctx_alloc(c, sizeof *s);
    if (!s) return NULL;
    memset(s, 0, sizeof *s);
    s->parent = parent;
    return s;
}

static bool scope_set(jctx *c, jscope *s, const char *name, jv v) {
    return jdict_set(c, &s->vars, jv_cstr(name), v);
}

static bool scope_lookup(jscope *s, const char *name, jv *out) {
    size_t len = strlen(name);
    for (; s; s = s->parent) {
        jv *v = jdict_get_str(&s->vars, name, len);
        if (v) {
            *out = *v;
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------ helpers -- */
jv jargs_get(const jargs *a, size_t pos, const char *name) {
    if (pos < a->n) return a->pos[pos];
    for (size_t i = 0; name && i < a->nkw; i++)
        if (!strcmp(a->kwnames[i], name)) return a->kwvals[i];
    return jv_undef();
}

bool jargs_has(const jargs *a, size_t pos, const char *name) {
    if (pos < a->n) return true;
    for (size_t i = 0; name && i < a->nkw; i++)
        if (!strcmp(a->kwnames[i], name)) return true;
    return false;
}

jv jfunc_builtin(jctx *c, const char *name, jbuiltin_fn fn, jv self) {
    jv v = jv_none();
    jfunc *f = jctx_alloc(c, sizeof *f);
    if (!f) return v;
    memset(f, 0, sizeof *f);
    f->kind = JF_BUILTIN;
    f->name = name;
    f->fn = fn;
    f->self = self;
    v.t = JV_FUNC;
    v.u.fn = f;
    return v;
}

/* Raises the UndefinedError an Undefined carries. */
static bool undef_fail(jctx *c, jv u) {
    if (u.u.s.len) return jctx_fail(c, "UndefinedError", "%.*s", (int)u.u.s.len, u.u.s.p);
    return jctx_fail(c, "UndefinedError", "value is undefined");
}

/* Jinja2's object_type_repr. */
static const char *obj_repr(jv v, char *buf, size_t n) {
    if (v.t == JV_NONE) return "None";
    snprintf(buf, n, "%s object", v.t == JV_DICT && (v.flags & JVF_NS) ? "jinja2.utils.Namespace"
                                  : v.t == JV_LOOP ? "jinja2.runtime.LoopContext"
                                                   : jv_type_name(v));
    return buf;
}

static jv undef_attr(jctx *c, jv obj, const char *name, size_t len) {
    char b[64];
    return jv_undef_msg(c, "'%s' has no attribute '%.*s'", obj_repr(obj, b, sizeof b), (int)len, name);
}

bool jv_length(jctx *c, jv v, int64_t *out) {
    switch (v.t) {
    case JV_UNDEF: *out = 0; return true;
    case JV_STR: *out = (int64_t)ju8_count(v.u.s.p, v.u.s.len); return true;
    case JV_LIST:
        if (v.flags & JVF_GEN) break;
        *out = (int64_t)v.u.l->n;
        return true;
    case JV_DICT:
        if (v.flags & JVF_NS) break;
        *out = (int64_t)v.u.d->n;
        return true;
    default: break;
    }
    return jctx_fail(c, "TypeError", "object of type '%s' has no len()", jv_type_name(v));
}

bool jv_iterate(jctx *c, jv v, jlist **out) {
    static jlist empty;
    switch (v.t) {
    case JV_UNDEF: *out = &empty; return true;
    case JV_LIST:
        if (v.flags & JVF_GEN) {
            if (v.u.l->consumed) { *out = &empty; return true; }
            v.u.l->consumed = true;
        }
        *out = v.u.l;
        return true;
    case JV_DICT: {
        if (v.flags & JVF_NS) break;
        jv l = jv_list_new(c, v.u.d->n);
        if (l.t != JV_LIST) return false;
        for (size_t i = 0; i < v.u.d->n; i++) jlist_push(c, l.u.l, v.u.d->keys[i]);
        *out = l.u.l;
        return !c->failed;
    }
    case JV_STR: {
        jv l = jv_list_new(c, v.u.s.len);
        if (l.t != JV_LIST) return false;
        for (size_t i = 0; i < v.u.s.len;) {
            uint32_t cp;
            size_t k = ju8_decode(v.u.s.p + i, v.u.s.len - i, &cp);
            jlist_push(c, l.u.l, jv_str(v.u.s.p + i, k)); /* iterating a Markup yields plain str */
            i += k;
        }
        *out = l.u.l;
        return !c->failed;
    }
    default: break;
    }
    return jctx_fail(c, "TypeError", "'%s' object is not iterable", jv_type_name(v));
}

/* ----------------------------------------------------- attribute/item -- */
static jv loop_attr(jctx *c, jv lv, const char *name, size_t len);

static bool is_unsafe_method(jv obj, const char *name) {
    static const char *const list_mut[] = {"append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear", NULL};
    static const char *const dict_mut[] = {"clear", "pop", "popitem", "setdefault", "update", NULL};
    const char *const *m = obj.t == JV_LIST ? list_mut : obj.t == JV_DICT ? dict_mut : NULL;
    for (int i = 0; m && m[i]; i++)
        if (!strcmp(m[i], name)) return true;
    return false;
}

jv jinja_getattr(jctx *c, jv obj, const char *name, size_t len) {
    char nm[128];
    if (len >= sizeof nm) return undef_attr(c, obj, name, len);
    memcpy(nm, name, len);
    nm[len] = 0;
    if (obj.t == JV_LOOP) return loop_attr(c, obj, nm, len);
    if (obj.t == JV_DICT && (obj.flags & JVF_NS)) {
        jv *v = jdict_get_str(obj.u.d, name, len);
        return v ? *v : undef_attr(c, obj, name, len);
    }
    if (nm[0] == '_') return undef_attr(c, obj, name, len); /* the sandbox hides private attributes */
    if (obj.t == JV_LIST || obj.t == JV_DICT) {
        if (is_unsafe_method(obj, nm)) {
            jv f = jfunc_builtin(c, jv_str_copy(c, nm, len).u.s.p, NULL, obj);
            if (f.t == JV_FUNC) {
                char msg[200];
                snprintf(msg, sizeof msg, "access to attribute '%s' of '%s' object is unsafe.", nm,
                         jv_type_name(obj));
                f.u.fn->unsafe = jv_str_copy(c, msg, strlen(msg)).u.s.p;
            }
            return f;
        }
    }
    jv m = {0};
    if (obj.t != JV_UNDEF && jinja_method_lookup(c, obj, nm, len, &m)) return m;
    if (obj.t == JV_DICT) {
        jv *v = jdict_get_str(obj.u.d, name, len);
        if (v) return *v;
    }
    return undef_attr(c, obj, name, len);
}

static bool slice_indices(int64_t len, jv start, jv stop, jv step, int64_t *s0, int64_t *s1, int64_t *st,
                          jctx *c) {
    int64_t k = 1;
    if (step.t != JV_NONE && step.t != JV_UNDEF) {
        if (step.t != JV_INT && step.t != JV_BOOL)
            return jctx_fail(c, "TypeError", "slice indices must be integers or None");
        k = step.t == JV_INT ? step.u.i : step.u.b;
        if (k == 0) return jctx_fail(c, "ValueError", "slice step cannot be zero");
    }
    int64_t a, b;
    for (int which = 0; which < 2; which++) {
        jv x = which ? stop : start;
        int64_t *dst = which ? &b : &a;
        if (x.t == JV_NONE || x.t == JV_UNDEF) {
            *dst = k > 0 ? (which ? len : 0) : (which ? -1 : len - 1);
            continue;
        }
        if (x.t != JV_INT && x.t != JV_BOOL) return jctx_fail(c, "TypeError", "slice indices must be integers or None");
        int64_t v = x.t == JV_INT ? x.u.i : x.u.b;
        if (v < 0) {
            v += len;
            if (v < 0) v = k > 0 ? 0 : -1;
        } else if (v >= len) v = k > 0 ? len : len - 1;
        *dst = v;
    }
    *s0 = a;
    *s1 = b;
    *st = k;
    return true;
}

static bool do_slice(jctx *c, jv obj, jv start, jv stop, jv step, jv *out) {
    if (obj.t == JV_STR) {
        /* code point offsets */
        size_t n = ju8_count(obj.u.s.p, obj.u.s.len);
        size_t *offs = jctx_alloc(c, (n + 1) * sizeof *offs);
        if (!offs) return false;
        size_t i = 0, k = 0;
        while (i < obj.u.s.len) {
            uint32_t cp;
            offs[k++] = i;
            i += ju8_decode(obj.u.s.p + i, obj.u.s.len - i, &cp);
        }
        offs[n] = obj.u.s.len;
        int64_t a, b, st;
        if (!slice_indices((int64_t)n, start, stop, step, &a, &b, &st, c)) return false;
        jbuf buf;
        jbuf_init(&buf, 0);
        if (st == 1 && a < b) jbuf_put(&buf, obj.u.s.p + offs[a], offs[b] - offs[a]);
        else
            for (int64_t x = a; st > 0 ? x < b : x > b; x += st)
                jbuf_put(&buf, obj.u.s.p + offs[x], offs[x + 1] - offs[x]);
        *out = jbuf_to_str(c, &buf);
        out->flags = obj.flags & JVF_MARKUP;
        jbuf_free(&buf);
        return !c->failed;
    }
    if (obj.t == JV_LIST && !(obj.flags & JVF_GEN)) {
        int64_t a, b, st;
        if (!slice_indices((int64_t)obj.u.l->n, start, stop, step, &a, &b, &st, c)) return false;
        jv l = jv_list_new(c, 0);
        if (l.t != JV_LIST) return false;
        for (int64_t x = a; st > 0 ? x < b : x > b; x += st) jlist_push(c, l.u.l, obj.u.l->items[x]);
        l.flags = obj.flags & JVF_TUPLE;
        *out = l;
        return !c->failed;
    }
    if (obj.t == JV_UNDEF) return undef_fail(c, obj);
    /* Jinja2 compiles a slice to a plain Python subscript: no Undefined here */
    return jctx_fail(c, "TypeError", "'%s' object is not subscriptable", jv_type_name(obj));
}

jv jinja_getitem(jctx *c, jv obj, jv key) {
    char b[64];
    if (obj.t == JV_DICT && !(obj.flags & JVF_NS)) {
        jv *v = jdict_get(obj.u.d, key);
        if (v) return *v;
    } else if ((obj.t == JV_LIST && !(obj.flags & JVF_GEN)) || obj.t == JV_STR) {
        if (key.t == JV_INT || key.t == JV_BOOL) {
            int64_t i = key.t == JV_INT ? key.u.i : key.u.b;
            if (obj.t == JV_LIST) {
                int64_t n = (int64_t)obj.u.l->n;
                if (i < 0) i += n;
                if (i >= 0 && i < n) return obj.u.l->items[i];
            } else {
                jlist *chars;
                if (jv_iterate(c, obj, &chars)) {
                    int64_t n = (int64_t)chars->n;
                    if (i < 0) i += n;
                    if (i >= 0 && i < n) return chars->items[i];
                }
            }
            jbuf kb;
            jbuf_init(&kb, 0);
            jv_repr(c, key, &kb);
            jv u = jv_undef_msg(c, "%s has no element %s", obj_repr(obj, b, sizeof b), kb.p ? kb.p : "");
            jbuf_free(&kb);
            return u;
        }
    }
    if (key.t == JV_STR) return jinja_getattr(c, obj, key.u.s.p, key.u.s.len);
    jbuf kb;
    jbuf_init(&kb, 0);
    jv_repr(c, key, &kb);
    jv u = jv_undef_msg(c, "%s has no element %s", obj_repr(obj, b, sizeof b), kb.p ? kb.p : "");
    jbuf_free(&kb);
    return u;
}

/* --------------------------------------------------------------- loop -- */
static jv loop_attr(jctx *c, jv lv, const char *name, size_t len) {
    jloop *L = lv.u.loop;
    int64_t n = (int64_t)L->items->n, i = (int64_t)L->index0;
    if (!strcmp(name, "index")) return jv_int(i + 1);
    if (!strcmp(name, "index0")) return jv_int(i);
    if (!strcmp(name, "revindex")) return jv_int(n - i);
    if (!strcmp(name, "revindex0")) return jv_int(n - i - 1);
    if (!strcmp(name, "first")) return jv_bool(i == 0);
    if (!strcmp(name, "last")) return jv_bool(i == n - 1);
    if (!strcmp(name, "length")) return jv_int(n);
    if (!strcmp(name, "depth")) return jv_int(L->depth0 + 1);
    if (!strcmp(name, "depth0")) return jv_int(L->depth0);
    if (!strcmp(name, "previtem"))
        return i > 0 ? L->items->items[i - 1] : jv_undef_msg(c, "there is no previous item");
    if (!strcmp(name, "nextitem"))
        return i + 1 < n ? L->items->items[i + 1] : jv_undef_msg(c, "there is no next item");
    jv m = {0};
    if (jinja_method_lookup(c, lv, name, len, &m)) return m;
    return undef_attr(c, lv, name, len);
}

/* ------------------------------------------------------------ evaluate -- */
static bool eval(jctx *c, jscope *s, const jnode *n, jv *out);
static xstatus exec_body(jctx *c, jscope *s, const jnodes *body, jbuf *out);

static bool eval_args(jctx *c, jscope *s, const jnode *call, jargs *a, size_t extra_kw) {
    memset(a, 0, sizeof *a);
    size_t np = call->items.n, nk = call->kwargs.n;
    jlist *dyn = NULL;
    jv dynk = jv_undef();
    if (call->dyn_args) {
        jv v = {0};
        if (!eval(c, s, call->dyn_args, &v) || !jv_iterate(c, v, &dyn)) return false;
        np += dyn->n;
    }
    if (call->dyn_kwargs) {
        if (!eval(c, s, call->dyn_kwargs, &dynk)) return false;
        if (dynk.t != JV_DICT) return jctx_fail(c, "TypeError", "argument after ** must be a mapping");
        nk += dynk.u.d->n;
    }
    a->pos = jctx_alloc(c, (np + 1) * sizeof(jv));
    a->kwnames = jctx_alloc(c, (nk + extra_kw + 1) * sizeof(char *));
    a->kwvals = jctx_alloc(c, (nk + extra_kw + 1) * sizeof(jv));
    if (!a->pos || !a->kwnames || !a->kwvals) return false;
    for (size_t i = 0; i < call->items.n; i++)
        if (!eval(c, s, call->items.v[i], &a->pos[a->n++])) return false;
    for (size_t i = 0; dyn && i < dyn->n; i++) a->pos[a->n++] = dyn->items[i];
    for (size_t i = 0; i < call->kwargs.n; i++) {
        a->kwnames[a->nkw] = call->kwargs.v[i].name;
        if (!eval(c, s, call->kwargs.v[i].value, &a->kwvals[a->nkw++])) return false;
    }
    if (dynk.t == JV_DICT)
        for (size_t i = 0; i < dynk.u.d->n; i++) {
            jv k = jv_stringify(c, dynk.u.d->keys[i]);
            a->kwnames[a->nkw] = jv_str_copy(c, k.u.s.p, k.u.s.len).u.s.p;
            a->kwvals[a->nkw++] = dynk.u.d->vals[i];
        }
    return !c->failed;
}

static bool call_macro(jctx *c, jfunc *f, const jargs *a, jv *out) {
    const jnode *m = f->macro;
    if (c->depth >= MAX_CALL_DEPTH)
        return jctx_fail(c, "RecursionError", "maximum macro call depth (%d) exceeded", MAX_CALL_DEPTH);
    if (!jctx_step(c)) return false;
    jscope *s = scope_new(c, f->closure);
    if (!s) return false;
    size_t np = m->kwargs.n;
    jv varargs = jv_list_new(c, 0), kwargs = jv_dict_new(c, 0);
    if (varargs.t != JV_LIST || kwargs.t != JV_DICT) return false;
    varargs.flags = JVF_TUPLE;
    bool *bound = jctx_alloc(c, (np + 1) * sizeof *bound);
    if (!bound) return false;
    memset(bound, 0, (np + 1) * sizeof *bound);
    for (size_t i = 0; i < a->n; i++) {
        if (i < np) {
            scope_set(c, s, m->kwargs.v[i].name, a->pos[i]);
            bound[i] = true;
        } else if (m->uses & JUSES_VARARGS) jlist_push(c, varargs.u.l, a->pos[i]);
        else
            return jctx_fail(c, "TypeError", "macro '%s' takes not more than %zu argument(s)", f->name, np);
    }
    jv caller = jv_undef();
    for (size_t k = 0; k < a->nkw; k++) {
        const char *kn = a->kwnames[k];
        size_t i;
        for (i = 0; i < np; i++)
            if (!strcmp(m->kwargs.v[i].name, kn)) break;
        if (i < np) {
            if (bound[i]) return jctx_fail(c, "TypeError", "macro '%s' got multiple values for argument '%s'", f->name, kn);
            scope_set(c, s, kn, a->kwvals[k]);
            bound[i] = true;
        } else if (!strcmp(kn, "caller")) caller = a->kwvals[k];
        else if (m->uses & JUSES_KWARGS) jdict_set(c, kwargs.u.d, jv_cstr(kn), a->kwvals[k]);
        else return jctx_fail(c, "TypeError", "macro '%s' takes no keyword argument '%s'", f->name, kn);
    }
    for (size_t i = 0; i < np; i++) {
        if (bound[i]) continue;
        jv v = {0};
        if (m->kwargs.v[i].value) {
            if (!eval(c, s, m->kwargs.v[i].value, &v)) return false;
        } else v = jv_undef_msg(c, "parameter '%s' was not provided", m->kwargs.v[i].name);
        scope_set(c, s, m->kwargs.v[i].name, v);
    }
    scope_set(c, s, "varargs", varargs);
    scope_set(c, s, "kwargs", kwargs);
    if (caller.t != JV_UNDEF) scope_set(c, s, "caller", caller);
    jbuf b;
    jbuf_init(&b, c->opt.max_output);
    c->depth++;
    xstatus st = exec_body(c, s, &m->items, &b);
    c->depth--;
    if (st == X_ERR || c->failed) {
        jbuf_free(&b);
        return false;
    }
    *out = jbuf_to_str(c, &b);
    jbuf_free(&b);
    return !c->failed;
}

static xstatus run_loop(jctx *c, jscope *s, const jnode *n, jv iterable, int depth0, jbuf *out);

bool jinja_call(jctx *c, jv fn, const jargs *a, jv *out) {
    if (fn.t == JV_UNDEF) return undef_fail(c, fn);
    if (fn.t == JV_LOOP) {
        jloop *L = fn.u.loop;
        if (!L->node || !L->node->flag)
            return jctx_fail(c, "TypeError", "Tried to call non recursive loop.  Maybe you forgot the 'recursive' modifier.");
        if (a->n != 1) return jctx_fail(c, "TypeError", "loop() takes exactly one argument");
        if (c->depth >= MAX_CALL_DEPTH) return jctx_fail(c, "RecursionError", "maximum recursion depth exceeded");
        jbuf b;
        jbuf_init(&b, c->opt.max_output);
        c->depth++;
        xstatus st = run_loop(c, L->scope, L->node, a->pos[0], L->depth0 + 1, &b);
        c->depth--;
        if (st == X_ERR) {
            jbuf_free(&b);
            return false;
        }
        *out = jbuf_to_str(c, &b);
        jbuf_free(&b);
        return !c->failed;
    }
    if (fn.t != JV_FUNC) return jctx_fail(c, "TypeError", "'%s' object is not callable", jv_type_name(fn));
    jfunc *f = fn.u.fn;
    if (f->unsafe) return jctx_fail(c, "SecurityError", "%s", f->unsafe);
    if (f->kind == JF_MACRO) return call_macro(c, f, a, out);
    if (!jctx_step(c)) return false;
    return f->fn(c, f->self, a, out);
}

static bool num_of(jv v, double *f, int64_t *i, bool *is_int) {
    if (v.t == JV_INT) { *i = v.u.i; *f = (double)v.u.i; *is_int = true; return true; }
    if (v.t == JV_BOOL) { *i = v.u.b; *f = v.u.b; *is_int = true; return true; }
    if (v.t == JV_FLOAT) { *f = v.u.f; *is_int = false; return true; }
    return false;
}

static bool binop_type_error(jctx *c, const char *op, jv a, jv b) {
    return jctx_fail(c, "TypeError", "unsupported operand type(s) for %s: '%s' and '%s'", op, jv_type_name(a),
                     jv_type_name(b));
}

static bool repeat(jctx *c, jv seq, int64_t times, jv *out) {
    if (times < 0) times = 0;
    if (seq.t == JV_STR) {
        if (seq.u.s.len && (uint64_t)times > c->opt.max_output / seq.u.s.len)
            return jctx_fail(c, "MemoryError", "string repetition result is too large");
        jbuf b;
        jbuf_init(&b, c->opt.max_output);
        for (int64_t i = 0; i < times; i++) jbuf_put(&b, seq.u.s.p, seq.u.s.len);
        *out = jbuf_to_str(c, &b);
        out->flags = seq.flags & JVF_MARKUP;
        jbuf_free(&b);
        return !c->failed;
    }
    if (seq.u.l->n && (uint64_t)times > (c->opt.max_memory / sizeof(jv)) / seq.u.l->n)
        return jctx_fail(c, "MemoryError", "list repetition result is too large");
    jv l = jv_list_new(c, (size_t)times * seq.u.l->n);
    if (l.t != JV_LIST) return false;
    for (int64_t i = 0; i < times; i++)
        for (size_t k = 0; k < seq.u.l->n; k++) jlist_push(c, l.u.l, seq.u.l->items[k]);
    l.flags = seq.flags & JVF_TUPLE;
    *out = l;
    return !c->failed;
}

static bool str_add(jctx *c, jv a, jv b, jv *out) {
    bool markup = (a.flags | b.flags) & JVF_MARKUP;
    jbuf buf;
    jbuf_init(&buf, c->opt.max_output);
    /* Markup + str escapes the plain side (markupsafe) */
    if (markup && !(a.flags & JVF_MARKUP)) jv_html_escape(a.u.s.p, a.u.s.len, &buf);
    else jbuf_put(&buf, a.u.s.p, a.u.s.len);
    if (markup && !(b.flags & JVF_MARKUP)) jv_html_escape(b.u.s.p, b.u.s.len, &buf);
    else jbuf_put(&buf, b.u.s.p, b.u.s.len);
    if (buf.overflow) {
        jbuf_free(&buf);
        return jctx_fail(c, "MemoryError", "string too long");
    }
    *out = jbuf_to_str(c, &buf);
    if (markup) out->flags = JVF_MARKUP;
    jbuf_free(&buf);
    return !c->failed;
}

static bool binary(jctx *c, int op, jv a, jv b, jv *out) {
    if (a.t == JV_UNDEF) return undef_fail(c, a);
    if (b.t == JV_UNDEF) return undef_fail(c, b);
    double fa = 0, fb = 0;
    int64_t ia = 0, ib = 0;
    bool inta = false, intb = false;
    bool na = num_of(a, &fa, &ia, &inta), nb = num_of(b, &fb, &ib, &intb);
    static const char *names[] = {['+'] = "+", ['-'] = "-", ['*'] = "*", ['/'] = "/", ['F'] = "//",
                                  ['%'] = "%", ['P'] = "** or pow()"};
    const char *opname = names[op];
    if (na && nb) {
        bool ints = inta && intb;
        switch (op) {
        case '+':
            if (ints) {
                if (__builtin_add_overflow(ia, ib, &ia)) return jctx_fail(c, "OverflowError", "integer overflow");
                *out = jv_int(ia);
            } else *out = jv_float(fa + fb);
            return true;
        case '-':
            if (ints) {
                if (__builtin_sub_overflow(ia, ib, &ia)) return jctx_fail(c, "OverflowError", "integer overflow");
                *out = jv_int(ia);
            } else *out = jv_float(fa - fb);
            return true;
        case '*':
            if (ints) {
                if (__builtin_mul_overflow(ia, ib, &ia)) return jctx_fail(c, "OverflowError", "integer overflow");
                *out = jv_int(ia);
            } else *out = jv_float(fa * fb);
            return true;
        case '/':
            if (fb == 0) return jctx_fail(c, "ZeroDivisionError", "division by zero");
            *out = jv_float(fa / fb);
            return true;
        case 'F':
            if (ints) {
                if (ib == 0) return jctx_fail(c, "ZeroDivisionError", "integer division or modulo by zero");
                if (ia == INT64_MIN && ib == -1) return jctx_fail(c, "OverflowError", "integer overflow");
                int64_t q = ia / ib;
                if ((ia % ib != 0) && ((ia < 0) != (ib < 0))) q--;
                *out = jv_int(q);
            } else {
                if (fb == 0) return jctx_fail(c, "ZeroDivisionError", "float floor division by zero");
                *out = jv_float(floor(fa / fb));
            }
            return true;
        case '%':
            if (ints) {
                if (ib == 0) return jctx_fail(c, "ZeroDivisionError", "integer modulo by zero");
                if (ib == -1) { *out = jv_int(0); return true; }
                int64_t r = ia % ib;
                if (r != 0 && ((r < 0) != (ib < 0))) r += ib;
                *out = jv_int(r);
            } else {
                if (fb == 0) return jctx_fail(c, "ZeroDivisionError", "float modulo");
                double r = fmod(fa, fb);
                if (r != 0 && ((r < 0) != (fb < 0))) r += fb;
                *out = jv_float(r);
            }
            return true;
        case 'P':
            if (ints && ib >= 0) {
                int64_t r = 1, base = ia, e = ib;
                while (e > 0) {
                    if (e & 1) {
                        if (__builtin_mul_overflow(r, base, &r)) return jctx_fail(c, "OverflowError", "integer overflow");
                    }
                    e >>= 1;
                    if (e && __builtin_mul_overflow(base, base, &base))
                        return jctx_fail(c, "OverflowError", "integer overflow");
                }
                *out = jv_int(r);
            } else {
                if (fa == 0 && fb < 0) return jctx_fail(c, "ZeroDivisionError", "0.0 cannot be raised to a negative power");
                *out = jv_float(pow(fa, fb));
            }
            return true;
        }
    }
    if (op == '+') {
        if (a.t == JV_STR && b.t == JV_STR) return str_add(c, a, b, out);
        if (a.t == JV_LIST && b.t == JV_LIST && !((a.flags | b.flags) & (JVF_GEN | JVF_RANGE | JVF_ITEMS | JVF_KEYS | JVF_VALUES))) {
            if ((a.flags & JVF_TUPLE) != (b.flags & JVF_TUPLE))
                return jctx_fail(c, "TypeError", "can only concatenate %s (not \"%s\") to %s", jv_type_name(a),
                                 jv_type_name(b), jv_type_name(a));
            jv l = jv_list_new(c, a.u.l->n + b.u.l->n);
            if (l.t != JV_LIST) return false;
            for (size_t i = 0; i < a.u.l->n; i++) jlist_push(c, l.u.l, a.u.l->items[i]);
            for (size_t i = 0; i < b.u.l->n; i++) jlist_push(c, l.u.l, b.u.l->items[i]);
            l.flags = a.flags & JVF_TUPLE;
            *out = l;
            return !c->failed;
        }
        if (a.t == JV_STR)
            return jctx_fail(c, "TypeError", "can only concatenate str (not \"%s\") to str", jv_type_name(b));
        if (a.t == JV_LIST && !(a.flags & JVF_GEN))
            return jctx_fail(c, "TypeError", "can only concatenate %s (not \"%s\") to %s", jv_type_name(a),
                             jv_type_name(b), jv_type_name(a));
    }
    if (op == '*') {
        bool seq_a = a.t == JV_STR || (a.t == JV_LIST && !(a.flags & JVF_GEN));
        bool seq_b = b.t == JV_STR || (b.t == JV_LIST && !(b.flags & JVF_GEN));
        if (seq_a && nb && intb) return repeat(c, a, ib, out);
        if (seq_b && na && inta) return repeat(c, b, ia, out);
        if (seq_a || seq_b)
            return jctx_fail(c, "TypeError", "can't multiply sequence by non-int of type '%s'",
                             jv_type_name(seq_a ? b : a));
    }
    if (op == '%' && a.t == JV_STR) return jinja_percent_format(c, a, b, out);
    return binop_type_error(c, opname ? opname : "?", a, b);
}

static bool contains(jctx *c, jv hay, jv needle, bool *res) {
    switch (hay.t) {
    case JV_UNDEF: *res = false; return true;
    case JV_STR:
        if (needle.t == JV_UNDEF) return undef_fail(c, needle);
        if (needle.t != JV_STR)
            return jctx_fail(c, "TypeError", "'in <string>' requires string as left operand, not %s",
                             jv_type_name(needle));
        if (needle.u.s.len == 0) { *res = true; return true; }
        *res = needle.u.s.len <= hay.u.s.len &&
               memmem(hay.u.s.p, hay.u.s.len, needle.u.s.p, needle.u.s.len) != NULL;
        return true;
    case JV_DICT:
        if (hay.flags & JVF_NS) break;
        if ((needle.t == JV_LIST && !(needle.flags & JVF_TUPLE)) || needle.t == JV_DICT)
            return jctx_fail(c, "TypeError", "unhashable type: '%s'", jv_type_name(needle));
        *res = jdict_get(hay.u.d, needle) != NULL;
        return true;
    case JV_LIST: {
        jlist *l;
        if (!jv_iterate(c, hay, &l)) return false;
        *res = false;
        for (size_t i = 0; i < l->n; i++)
            if (jv_equal(l->items[i], needle)) { *res = true; break; }
        return true;
    }
    default: break;
    }
    return jctx_fail(c, "TypeError", "argument of type '%s' is not iterable", jv_type_name(hay));
}

static bool compare(jctx *c, int op, jv a, jv b, bool *res) {
    switch (op) {
    case 'E': *res = jv_equal(a, b); return true;
    case 'N': *res = !jv_equal(a, b); return true;
    case 'i': return contains(c, b, a, res);
    case 'n':
        if (!contains(c, b, a, res)) return false;
        *res = !*res;
        return true;
    }
    if (a.t == JV_UNDEF) return undef_fail(c, a);
    if (b.t == JV_UNDEF) return undef_fail(c, b);
    bool ok;
    int r = jv_compare(c, a, b, &ok);
    const char *sym = op == '<' ? "<" : op == '>' ? ">" : op == 'L' ? "<=" : ">=";
    if (!ok)
        return jctx_fail(c, "TypeError", "'%s' not supported between instances of '%s' and '%s'", sym,
                         jv_type_name(a), jv_type_name(b));
    switch (op) {
    case '<': *res = r < 0; break;
    case '>': *res = r > 0; break;
    case 'L': *res = r <= 0; break;
    default: *res = r >= 0; break;
    }
    return true;
}

bool jinja_apply_filter(jctx *c, const char *name, jv in, const jargs *a, jv *out) {
    jfilter_fn f = jinja_filter_lookup(name);
    if (!f) return jctx_fail(c, "TemplateRuntimeError", "No filter named '%s' found.", name);
    if (!jctx_step(c)) return false;
    return f(c, in, a, out);
}

bool jinja_apply_test(jctx *c, const char *name, jv in, const jargs *a, bool *out) {
    jtest_fn f = jinja_test_lookup(name);
    if (!f) return jctx_fail(c, "TemplateRuntimeError", "No test named '%s' found.", name);
    return f(c, in, a, out);
}

/* Applies a filter node chain (innermost first) to an input value. */
static bool eval_filter(jctx *c, jscope *s, const jnode *n, const jv *input, jv *out) {
    jv in = {0};
    if (n->a) {
        if (n->a->kind == JN_FILTER) {
            if (!eval_filter(c, s, n->a, input, &in)) return false;
        } else if (!eval(c, s, n->a, &in)) return false;
    } else if (input) in = *input;
    else in = jv_undef();
    jargs a;
    if (!eval_args(c, s, n, &a, 0)) return false;
    c->line = n->line;
    return jinja_apply_filter(c, n->name, in, &a, out);
}

static bool assign(jctx *c, jscope *s, const jnode *target, jv v) {
    if (target->kind == JN_NAME) return scope_set(c, s, target->name, v);
    if (target->kind == JN_GETATTR) {
        jv ns = {0};
        if (!scope_lookup(s, target->a->name, &ns) || ns.t != JV_DICT || !(ns.flags & JVF_NS))
            return jctx_fail(c, "TemplateRuntimeError", "cannot assign attribute on non-namespace object");
        return jdict_set(c, ns.u.d, jv_cstr(target->name), v);
    }
    /* tuple unpacking */
    jlist *l;
    if (!jv_iterate(c, v, &l)) return false;
    size_t want = target->items.n;
    if (l->n > want) return jctx_fail(c, "ValueError", "too many values to unpack (expected %zu)", want);
    if (l->n < want)
        return jctx_fail(c, "ValueError", "not enough values to unpack (expected %zu, got %zu)", want, l->n);
    for (size_t i = 0; i < want; i++)
        if (!assign(c, s, target->items.v[i], l->items[i])) return false;
    return true;
}

static bool eval(jctx *c, jscope *s, const jnode *n, jv *out) {
    if (c->failed) return false;
    c->line = n->line;
    c->col = n->col;
    switch (n->kind) {
    case JN_CONST: *out = n->value; return true;
    case JN_NAME:
        if (scope_lookup(s, n->name, out)) return true;
        if (jinja_global_lookup(n->name, out)) return true;
        *out = jv_undef_msg(c, "'%s' is undefined", n->name);
        return !c->failed;
    case JN_LIST: case JN_TUPLE: {
        jv l = jv_list_new(c, n->items.n);
        if (l.t != JV_LIST) return false;
        for (size_t i = 0; i < n->items.n; i++) {
            jv v = {0};
            if (!eval(c, s, n->items.v[i], &v) || !jlist_push(c, l.u.l, v)) return false;
        }
        if (n->kind == JN_TUPLE) l.flags = JVF_TUPLE;
        *out = l;
        return true;
    }
    case JN_DICT: {
        jv d = jv_dict_new(c, n->items.n);
        if (d.t != JV_DICT) return false;
        for (size_t i = 0; i < n->items.n; i++) {
            jv k = {0}, v = {0};
            if (!eval(c, s, n->items.v[i], &k) || !eval(c, s, n->items2.v[i], &v)) return false;
            if (k.t == JV_LIST && !(k.flags & JVF_TUPLE))
                return jctx_fail(c, "TypeError", "unhashable type: 'list'");
            if (k.t == JV_DICT) return jctx_fail(c, "TypeError", "unhashable type: 'dict'");
            if (!jdict_set(c, d.u.d, k, v)) return false;
        }
        *out = d;
        return true;
    }
    case JN_GETATTR: {
        jv obj = {0};
        if (!eval(c, s, n->a, &obj)) return false;
        if (obj.t == JV_UNDEF) return undef_fail(c, obj);
        *out = jinja_getattr(c, obj, n->name, strlen(n->name));
        return !c->failed;
    }
    case JN_GETITEM: {
        jv obj = {0};
        if (!eval(c, s, n->a, &obj)) return false;
        if (n->b->kind == JN_SLICE) {
            jv parts[3];
            const jnode *pn[3] = {n->b->a, n->b->b, n->b->c};
            for (int i = 0; i < 3; i++) {
                parts[i] = jv_none();
                if (pn[i] && !eval(c, s, pn[i], &parts[i])) return false;
            }
            return do_slice(c, obj, parts[0], parts[1], parts[2], out);
        }
        jv key = {0};
        if (!eval(c, s, n->b, &key)) return false;
        if (obj.t == JV_UNDEF) return undef_fail(c, obj);
        *out = jinja_getitem(c, obj, key);
        return !c->failed;
    }
    case JN_CALL: {
        jv fn = {0};
        if (!eval(c, s, n->a, &fn)) return false;
        jargs a;
        if (!eval_args(c, s, n, &a, 0)) return false;
        c->line = n->line;
        return jinja_call(c, fn, &a, out);
    }
    case JN_FILTER: return eval_filter(c, s, n, NULL, out);
    case JN_TEST: {
        jv in = {0};
        if (!eval(c, s, n->a, &in)) return false;
        jargs a;
        if (!eval_args(c, s, n, &a, 0)) return false;
        bool r;
        if (!jinja_apply_test(c, n->name, in, &a, &r)) return false;
        *out = jv_bool(r);
        return true;
    }
    case JN_UNARY: {
        jv v = {0};
        if (!eval(c, s, n->a, &v)) return false;
        if (v.t == JV_UNDEF) return undef_fail(c, v);
        if (v.t == JV_INT || v.t == JV_BOOL) {
            int64_t i = v.t == JV_INT ? v.u.i : v.u.b;
            if (n->op == '-' && i == INT64_MIN) return jctx_fail(c, "OverflowError", "integer overflow");
            *out = jv_int(n->op == '-' ? -i : i);
            return true;
        }
        if (v.t == JV_FLOAT) {
            *out = jv_float(n->op == '-' ? -v.u.f : v.u.f);
            return true;
        }
        return jctx_fail(c, "TypeError", "bad operand type for unary %c: '%s'", n->op, jv_type_name(v));
    }
    case JN_BINARY: {
        jv a = {0}, b = {0};
        if (!eval(c, s, n->a, &a) || !eval(c, s, n->b, &b)) return false;
        c->line = n->line;
        return binary(c, n->op, a, b, out);
    }
    case JN_CONCAT: {
        jbuf b;
        jbuf_init(&b, c->opt.max_output);
        for (size_t i = 0; i < n->items.n; i++) {
            jv v = {0};
            if (!eval(c, s, n->items.v[i], &v)) {
                jbuf_free(&b);
                return false;
            }
            jv_to_str(c, v, &b);
        }
        if (b.overflow || b.nomem) {
            jbuf_free(&b);
            return jctx_fail(c, "MemoryError", "string too long");
        }
        *out = jbuf_to_str(c, &b);
        jbuf_free(&b);
        return !c->failed;
    }
    case JN_COMPARE: {
        jv left = {0};
        if (!eval(c, s, n->items.v[0], &left)) return false;
        for (size_t i = 0; i < n->items2.n; i++) {
            jv right = {0};
            if (!eval(c, s, n->items.v[i + 1], &right)) return false;
            bool r;
            if (!compare(c, (int)n->items2.v[i]->value.u.i, left, right, &r)) return false;
            if (!r) {
                *out = jv_bool(false);
                return true;
            }
            left = right;
        }
        *out = jv_bool(true);
        return true;
    }
    case JN_AND: case JN_OR: {
        jv a = {0};
        if (!eval(c, s, n->a, &a)) return false;
        bool t = jv_truthy(a);
        if ((n->kind == JN_AND) ? !t : t) {
            *out = a;
            return true;
        }
        return eval(c, s, n->b, out);
    }
    case JN_NOT: {
        jv a = {0};
        if (!eval(c, s, n->a, &a)) return false;
        *out = jv_bool(!jv_truthy(a));
        return true;
    }
    case JN_CONDEXPR: {
        jv t = {0};
        if (!eval(c, s, n->a, &t)) return false;
        if (jv_truthy(t)) return eval(c, s, n->b, out);
        if (n->c) return eval(c, s, n->c, out);
        *out = jv_undef_msg(c, "the inline if-expression on line %d evaluated to false and no else section was defined.", n->line);
        return !c->failed;
    }
    default:
        return jctx_fail(c, "RuntimeError", "unexpected node in expression");
    }
}

/* ---------------------------------------------------------- statements -- */
static bool emit_value(jctx *c, jv v, jbuf *out) {
    if (v.t != JV_UNDEF) jv_to_str(c, v, out);
    if (out->overflow) return jctx_fail(c, "MemoryError", "template output exceeded %zu bytes", c->opt.max_output);
    if (out->nomem) return jctx_fail(c, "MemoryError", "out of memory");
    return true;
}

static xstatus run_loop(jctx *c, jscope *s, const jnode *n, jv iterable, int depth0, jbuf *out) {
    jlist *items;
    if (!jv_iterate(c, iterable, &items)) return X_ERR;
    if (n->c) { /* `for x in y if cond`: filter before counting */
        jv l = jv_list_new(c, items->n);
        if (l.t != JV_LIST) return X_ERR;
        for (size_t i = 0; i < items->n; i++) {
            jscope *fs = scope_new(c, s);
            if (!fs || !assign(c, fs, n->a, items->items[i])) return X_ERR;
            jv t = {0};
            if (!eval(c, fs, n->c, &t)) return X_ERR;
            if (jv_truthy(t)) jlist_push(c, l.u.l, items->items[i]);
        }
        items = l.u.l;
    }
    if (items->n == 0) {
        if (!n->items2.n) return c->failed ? X_ERR : X_OK;
        jscope *es = scope_new(c, s);
        if (!es) return X_ERR;
        xstatus st = exec_body(c, es, &n->items2, out);
        return st == X_ERR ? X_ERR : X_OK;
    }
    jloop *L = jctx_alloc(c, sizeof *L);
    if (!L) return X_ERR;
    memset(L, 0, sizeof *L);
    L->items = items;
    L->depth0 = depth0;
    L->node = n;
    L->scope = s;
    jv lv = {0};
    lv.t = JV_LOOP;
    lv.u.loop = L;
    for (size_t i = 0; i < items->n; i++) {
        if (!jctx_step(c)) return X_ERR;
        L->index0 = i;
        jscope *is = scope_new(c, s);
        if (!is || !assign(c, is, n->a, items->items[i]) || !scope_set(c, is, "loop", lv)) return X_ERR;
        xstatus st = exec_body(c, is, &n->items, out);
        if (st == X_ERR) return X_ERR;
        if (st == X_BREAK) break;
    }
    return X_OK;
}

static xstatus exec_node(jctx *c, jscope *s, const jnode *n, jbuf *out) {
    if (c->failed) return X_ERR;
    c->line = n->line;
    c->col = n->col;
    switch (n->kind) {
    case JN_TEXT:
        jbuf_put(out, n->value.u.s.p, n->value.u.s.len);
        if (out->overflow || out->nomem)
            return jctx_fail(c, "MemoryError", "template output exceeded %zu bytes", c->opt.max_output), X_ERR;
        return X_OK;
    case JN_OUTPUT: {
        jv v = {0};
        if (!eval(c, s, n->a, &v) || !emit_value(c, v, out)) return X_ERR;
        return X_OK;
    }
    case JN_IF: {
        /* an else holding only an if is an elif: loop instead of recursing,
         * so a long elif chain cannot exhaust the stack */
        const jnode *br = n;
        for (;;) {
            jv t = {0};
            if (!eval(c, s, br->a, &t)) return X_ERR;
            if (jv_truthy(t)) return exec_body(c, s, &br->items, out);
            if (br->items2.n == 1 && br->items2.v[0]->kind == JN_IF) {
                br = br->items2.v[0];
                c->line = br->line;
                continue;
            }
            return exec_body(c, s, &br->items2, out);
        }
    }
    case JN_FOR: {
        jv it = {0};
        if (!eval(c, s, n->b, &it)) return X_ERR;
        return run_loop(c, s, n, it, 0, out);
    }
    case JN_SET: {
        jv v = {0};
        if (!eval(c, s, n->b, &v) || !assign(c, s, n->a, v)) return X_ERR;
        return X_OK;
    }
    case JN_SET_BLOCK: {
        jbuf b;
        jbuf_init(&b, c->opt.max_output);
        xstatus st = exec_body(c, s, &n->items, &b);
        jv v = jbuf_to_str(c, &b);
        jbuf_free(&b);
        if (st == X_ERR || c->failed) return X_ERR;
        if (n->b && !eval_filter(c, s, n->b, &v, &v)) return X_ERR;
        return assign(c, s, n->a, v) ? X_OK : X_ERR;
    }
    case JN_MACRO: case JN_CALL_BLOCK: {
        jfunc *f = jctx_alloc(c, sizeof *f);
        if (!f) return X_ERR;
        memset(f, 0, sizeof *f);
        f->kind = JF_MACRO;
        f->name = n->name;
        f->macro = n;
        f->closure = s;
        jv fv = {0};
        fv.t = JV_FUNC;
        fv.u.fn = f;
        if (n->kind == JN_MACRO) return scope_set(c, s, n->name, fv) ? X_OK : X_ERR;
        /* call block: the macro call gets `caller` */
        const jnode *call = n->a;
        jv fn = {0};
        if (!eval(c, s, call->a, &fn)) return X_ERR;
        jargs a;
        if (!eval_args(c, s, call, &a, 1)) return X_ERR;
        a.kwnames[a.nkw] = "caller";
        a.kwvals[a.nkw++] = fv;
        jv r = {0};
        if (!jinja_call(c, fn, &a, &r) || !emit_value(c, r, out)) return X_ERR;
        return X_OK;
    }
    case JN_FILTER_BLOCK: {
        jbuf b;
        jbuf_init(&b, c->opt.max_output);
        jscope *fs = scope_new(c, s);
        xstatus st = fs ? exec_body(c, fs, &n->items, &b) : X_ERR;
        jv v = jbuf_to_str(c, &b);
        jbuf_free(&b);
        if (st == X_ERR || c->failed) return X_ERR;
        if (!eval_filter(c, s, n->b, &v, &v) || !emit_value(c, v, out)) return X_ERR;
        return X_OK;
    }
    case JN_WITH: {
        jscope *ws = scope_new(c, s);
        if (!ws) return X_ERR;
        for (size_t i = 0; i < n->kwargs.n; i++) {
            jv v = {0};
            if (!eval(c, s, n->kwargs.v[i].value, &v) || !scope_set(c, ws, n->kwargs.v[i].name, v)) return X_ERR;
        }
        return exec_body(c, ws, &n->items, out);
    }
    case JN_BREAK: return X_BREAK;
    case JN_CONTINUE: return X_CONTINUE;
    default:
        jctx_fail(c, "RuntimeError", "unexpected node in template body");
        return X_ERR;
    }
}

static xstatus exec_body(jctx *c, jscope *s, const jnodes *body, jbuf *out) {
    for (size_t i = 0; i < body->n; i++) {
        xstatus st = exec_node(c, s, body->v[i], out);
        if (st != X_OK) return st;
    }
    return c->failed ? X_ERR : X_OK;
}

ingot_status jinja_render(const jtemplate_ast *t, const char *ctx_json, size_t ctx_len,
                          const jrender_opts *opt, char **out, size_t *out_len, ingot_error *err) {
    *out = NULL;
    if (out_len) *out_len = 0;
    jctx c;
    memset(&c, 0, sizeof c);
    c.opt = *opt;
    c.arena = jarena_new(opt->max_memory);
    if (!c.arena) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    json_t *root = NULL;
    if (ctx_json && ctx_len) {
        json_error_t je;
        root = json_loadb(ctx_json, ctx_len, JSON_ALLOW_NUL, &je);
        if (!root) {
            jarena_free(c.arena);
            return ingot_error_set(err, INGOT_E_INVALID_ARG, "template context: invalid JSON at line %d, column %d: %s",
                                   je.line, je.column, je.text);
        }
        if (!json_is_object(root)) {
            json_decref(root);
            jarena_free(c.arena);
            return ingot_error_set(err, INGOT_E_INVALID_ARG, "template context must be a JSON object");
        }
    }
    ingot_status st = INGOT_OK;
    jscope *g = scope_new(&c, NULL);
    if (g && root) {
        const char *key;
        json_t *val;
        void *it = json_object_iter(root);
        while (it && !c.failed) {
            key = json_object_iter_key(it);
            val = json_object_iter_value(it);
            jv v = {0};
            if (jv_from_json(&c, val, &v, 0)) scope_set(&c, g, key, v);
            it = json_object_iter_next(root, it);
        }
    }
    jbuf b;
    jbuf_init(&b, opt->max_output);
    if (g && !c.failed) {
        c.root = g;
        xstatus x = exec_body(&c, g, &t->root->items, &b);
        if (x == X_BREAK || x == X_CONTINUE) x = X_OK; /* stray loop control at top level: ignored */
        (void)x;
    }
    if (c.failed || !g) {
        if (!c.failed) jctx_fail(&c, "MemoryError", "out of memory");
        st = ingot_error_set(err, INGOT_E_TEMPLATE, "%s: %s (template line %d)", c.kind, c.msg, c.line);
        jbuf_free(&b);
    } else {
        if (!b.p) jbuf_put(&b, "", 0);
        if (!b.p) st = ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        else {
            *out = b.p;
            if (out_len) *out_len = b.len;
        }
    }
    json_decref(root);
    jarena_free(c.arena);
    return st;
}
