/* Internal interface of the chat-template interpreter (src/chat/): the value
 * model that mirrors the Python objects Jinja2 templates see (str, int,
 * float, bool, None, list, tuple, dict, Markup, Undefined, namespace,
 * macros), the render arena every value lives in, the abstract syntax tree
 * produced by the parser, and the entry points shared between the lexer,
 * parser, evaluator and the builtin filters/tests/methods. Nothing here is
 * public; include/ingot.h exposes only the template handle. */
#ifndef INGOT_CHAT_JINJA_H
#define INGOT_CHAT_JINJA_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* ------------------------------------------------------------ arena -- */
/* Every value of one render (and every node of one parse) is carved out of
 * an arena and released at once: the object graph may be cyclic
 * (a namespace can hold itself) and nothing needs freeing one by one. The
 * arena counts its bytes so a hostile template cannot exhaust memory. */
typedef struct jarena jarena;
jarena *jarena_new(size_t limit_bytes);
void jarena_free(jarena *a);
/* NULL when the limit is reached or malloc fails (the arena remembers). */
void *jarena_alloc(jarena *a, size_t n);
bool jarena_exhausted(const jarena *a);
size_t jarena_used(const jarena *a);

/* ----------------------------------------------------------- values -- */
typedef enum jv_type {
    JV_UNDEF, JV_NONE, JV_BOOL, JV_INT, JV_FLOAT, JV_STR,
    JV_LIST,  /* list, tuple (JVF_TUPLE) or exhausted-once generator (JVF_GEN) */
    JV_DICT,  /* dict or namespace (JVF_NS) */
    JV_FUNC,  /* macro, builtin function or bound method */
    JV_LOOP   /* the `loop` object of a for loop */
} jv_type;

enum { JVF_MARKUP = 1, JVF_TUPLE = 2, JVF_GEN = 4, JVF_NS = 8, JVF_RANGE = 16,
       JVF_ITEMS = 32, JVF_KEYS = 64, JVF_VALUES = 128 };

typedef struct jlist jlist;
typedef struct jdict jdict;
typedef struct jfunc jfunc;
typedef struct jloop jloop;

typedef struct jv {
    uint8_t t;      /* jv_type */
    uint8_t flags;  /* JVF_* */
    union {
        bool b;
        int64_t i;
        double f;
        struct { const char *p; size_t len; } s; /* JV_STR; JV_UNDEF: error hint */
        jlist *l;
        jdict *d;
        jfunc *fn;
        jloop *loop;
    } u;
} jv;

struct jlist {
    size_t n, cap;
    jv *items;
    bool consumed;     /* JVF_GEN: iterated once already */
    int64_t range_stop; /* JVF_RANGE: the stop argument, for repr */
};
struct jdict {
    size_t n, cap;
    jv *keys, *vals;
    uint32_t *index; /* open-addressing hash of positions+1, built past a few keys */
    size_t index_cap;
};

/* Render limits. */
typedef struct jrender_opts {
    int64_t now;            /* epoch seconds for strftime_now; 0 = the clock */
    size_t max_output;      /* bytes */
    size_t max_memory;      /* arena bytes */
    uint64_t max_steps;     /* loop iterations + calls */
} jrender_opts;

/* A render in progress: its arena, limits, position and the first error. */
typedef struct jctx {
    jarena *arena;
    jrender_opts opt;
    uint64_t steps;
    int depth;         /* macro call depth */
    bool failed;
    char kind[40];     /* Python exception class name */
    char msg[900];
    int line, col;     /* of the node being evaluated, for messages */
    void *root;        /* the global scope */
} jctx;

jv jv_undef(void);
jv jv_undef_msg(jctx *c, const char *fmt, ...) INGOT_PRINTF(2, 3);
jv jv_none(void);
jv jv_bool(bool b);
jv jv_int(int64_t i);
jv jv_float(double f);
jv jv_str(const char *p, size_t len); /* borrows p: it must outlive the render */
jv jv_str_copy(jctx *c, const char *p, size_t len);
jv jv_cstr(const char *s);            /* borrows a static/long-lived string */
jv jv_list_new(jctx *c, size_t cap);
jv jv_dict_new(jctx *c, size_t cap);

bool jlist_push(jctx *c, jlist *l, jv v);
/* Inserts or replaces (keeping the first position, as Python dicts do). */
bool jdict_set(jctx *c, jdict *d, jv key, jv val);
/* Value for key, or NULL. */
jv *jdict_get(const jdict *d, jv key);
jv *jdict_get_str(const jdict *d, const char *key, size_t len);

bool jv_is_str(jv v);
bool jv_truthy(jv v);
bool jv_equal(jv a, jv b);
/* Python ordering for <, >: -1/0/1; sets an error for unorderable types. */
int jv_compare(jctx *c, jv a, jv b, bool *ok);
/* Python's type name ("str", "int", "dict", "NoneType", ...). */
const char *jv_type_name(jv v);

/* ----------------------------------------------------- string builder -- */
typedef struct jbuf {
    char *p;
    size_t len, cap;
    size_t limit; /* bytes; past it the buffer refuses to grow */
    bool overflow, nomem;
} jbuf;
void jbuf_init(jbuf *b, size_t limit);
void jbuf_free(jbuf *b);
bool jbuf_put(jbuf *b, const char *p, size_t n);
bool jbuf_puts(jbuf *b, const char *s);
bool jbuf_putc(jbuf *b, char ch);
bool jbuf_printf(jbuf *b, const char *fmt, ...) INGOT_PRINTF(2, 3);
/* Copies the contents into the arena as a string value. */
jv jbuf_to_str(jctx *c, const jbuf *b);

/* Python str(v) and repr(v), appended to b. */
void jv_to_str(jctx *c, jv v, jbuf *b);
void jv_repr(jctx *c, jv v, jbuf *b);
jv jv_stringify(jctx *c, jv v); /* str(v) as a value (strings are returned as is) */
void jv_float_repr(double f, jbuf *b);
/* json.dumps(v, ensure_ascii, indent (<0: none), separators, sort_keys). */
bool jv_to_json(jctx *c, jv v, jbuf *b, int indent, const char *item_sep,
                const char *key_sep, bool sort_keys, bool ensure_ascii);
/* Appends markupsafe.escape(s). */
void jv_html_escape(const char *p, size_t n, jbuf *b);

/* --------------------------------------------------------- utf-8 -- */
/* Decodes one code point at p (n bytes left); returns bytes used (>= 1;
 * an invalid byte decodes as itself, U+FFFD-free, so nothing is lost). */
size_t ju8_decode(const char *p, size_t n, uint32_t *cp);
size_t ju8_encode(uint32_t cp, char out[4]);
size_t ju8_count(const char *p, size_t n);
bool ju_isspace(uint32_t cp);

/* ------------------------------------------------------------- ast -- */
typedef enum jnode_kind {
    /* expressions */
    JN_CONST, JN_NAME, JN_LIST, JN_TUPLE, JN_DICT, JN_GETATTR, JN_GETITEM, JN_SLICE,
    JN_CALL, JN_FILTER, JN_TEST, JN_UNARY, JN_BINARY, JN_COMPARE, JN_AND, JN_OR,
    JN_NOT, JN_CONCAT, JN_CONDEXPR,
    /* statements */
    JN_OUTPUT, JN_TEXT, JN_IF, JN_FOR, JN_SET, JN_SET_BLOCK, JN_MACRO, JN_CALL_BLOCK,
    JN_FILTER_BLOCK, JN_BREAK, JN_CONTINUE, JN_WITH, JN_BODY, JN_DO
} jnode_kind;

enum { JUSES_VARARGS = 1, JUSES_KWARGS = 2, JUSES_CALLER = 4 };
typedef struct jnode jnode;
typedef struct jnodes { size_t n, cap; jnode **v; } jnodes;

/* Keyword argument of a call/filter/test, or a macro parameter. */
typedef struct jkwarg { const char *name; jnode *value; } jkwarg;
typedef struct jkwargs { size_t n, cap; jkwarg *v; } jkwargs;

struct jnode {
    uint8_t kind;
    uint8_t op;       /* operator token for unary/binary; compare ops in ops[] */
    int line, col;
    const char *name; /* NAME, GETATTR attr, FILTER/TEST name, MACRO name, SET attr */
    jv value;         /* CONST, TEXT */
    jnode *a, *b, *c; /* operands / target / condition / slice parts */
    jnodes items;     /* list/tuple/dict keys, call args, body, compare operands */
    jnodes items2;    /* dict values, else body, compare ops as CONST ints */
    jkwargs kwargs;   /* call kwargs / macro params with defaults */
    jnode *dyn_args, *dyn_kwargs; /* *args, **kwargs in calls */
    bool flag;        /* FOR: recursive */
    uint8_t uses;     /* MACRO/CALL_BLOCK: JUSES_* names its body reads */
};

typedef struct jtemplate_ast {
    jarena *arena;
    jnode *root;
} jtemplate_ast;

/* Parses a whole template with HF's settings (trim_blocks, lstrip_blocks).
 * On failure sets err (INGOT_E_TEMPLATE, naming line and column). */
ingot_status jinja_parse(const char *src, size_t len, jtemplate_ast *out, ingot_error *err);

/* ------------------------------------------------------- evaluation -- */
/* Renders with the variables of ctx_json (a JSON object, may be NULL). */
ingot_status jinja_render(const jtemplate_ast *t, const char *ctx_json, size_t ctx_len,
                          const jrender_opts *opt, char **out, size_t *out_len,
                          ingot_error *err);

/* Raising: sets the render's error (first one wins) and returns false, so
 * callers can `return jctx_fail(...)`. kind is Python's exception class name
 * ("TypeError", "UndefinedError", ...). */
bool jctx_fail(jctx *c, const char *kind, const char *fmt, ...) INGOT_PRINTF(3, 4);
bool jctx_failed(const jctx *c);
void *jctx_alloc(jctx *c, size_t n);
int64_t jctx_now(const jctx *c);
/* Counts one unit of work; false (with an error) past the step limit. */
bool jctx_step(jctx *c);

/* Calls a callable value (macro, builtin, bound method). */
typedef struct jargs {
    size_t n;
    jv *pos;
    size_t nkw;
    const char **kwnames;
    jv *kwvals;
} jargs;
bool jinja_call(jctx *c, jv fn, const jargs *args, jv *out);

/* Materializes anything iterable as a list (strings: characters; dicts:
 * keys). Undefined iterates as empty. False with a TypeError otherwise. */
bool jv_iterate(jctx *c, jv v, jlist **out);
/* Length as Python's len(); false with a TypeError when it has none. */
bool jv_length(jctx *c, jv v, int64_t *out);

/* Attribute lookup (obj.name) and subscription (obj[key]) with Jinja's
 * sandboxed getattr/getitem rules; never fails: missing -> Undefined. */
jv jinja_getattr(jctx *c, jv obj, const char *name, size_t len);
jv jinja_getitem(jctx *c, jv obj, jv key);

/* Builtins (builtins.c). Each returns false after raising. */
typedef bool (*jfilter_fn)(jctx *c, jv in, const jargs *args, jv *out);
jfilter_fn jinja_filter_lookup(const char *name);
typedef bool (*jtest_fn)(jctx *c, jv in, const jargs *args, bool *out);
jtest_fn jinja_test_lookup(const char *name);
/* A method of a str/dict/list value by name, or false when there is none. */
bool jinja_method_lookup(jctx *c, jv self, const char *name, size_t len, jv *out);
/* Global functions: range, namespace, dict, raise_exception, strftime_now,
 * cycler? (not provided), joiner? (not provided). */
bool jinja_global_lookup(const char *name, jv *out);
/* Evaluates a filter/test by name (used by map/select). */
bool jinja_apply_filter(jctx *c, const char *name, jv in, const jargs *args, jv *out);
bool jinja_apply_test(jctx *c, const char *name, jv in, const jargs *args, bool *out);

/* Callable object. */
typedef bool (*jbuiltin_fn)(jctx *c, jv self, const jargs *args, jv *out);
typedef enum { JF_MACRO, JF_BUILTIN } jfunc_kind;
struct jfunc {
    uint8_t kind;
    const char *name;
    jbuiltin_fn fn;        /* JF_BUILTIN */
    jv self;               /* bound object for methods */
    const char *unsafe;    /* non-NULL: calling raises SecurityError naming it */
    const jnode *macro;    /* JF_MACRO: the macro or call-block node */
    void *closure;         /* JF_MACRO: defining scope */
};
jv jfunc_builtin(jctx *c, const char *name, jbuiltin_fn fn, jv self);

struct jloop {
    jlist *items;
    size_t index0;
    int depth0;
    jv changed_last;
    bool changed_init;
    const jnode *node;  /* the for node, for `recursive` loops */
    void *scope;        /* the scope the loop runs in */
};

/* Argument helpers for builtins: the i-th positional or the named kwarg. */
jv jargs_get(const jargs *a, size_t pos, const char *name);
bool jargs_has(const jargs *a, size_t pos, const char *name);

/* Python number formatting helpers used by str.format and `%`. */
bool jinja_percent_format(jctx *c, jv fmt, jv args, jv *out);
bool jinja_str_format(jctx *c, jv fmt, const jargs *args, jv *out);

/* Converts a jansson JSON value (opaque pointer to avoid the include). */
bool jv_from_json(jctx *c, const void *json, jv *out, int depth);
#endif
