/* The template parser: turns lexer tokens into the syntax tree that
 * eval.c runs. It follows Jinja2's grammar and operator precedence
 * (condexpr < or < and < not < comparisons < + - < ~ < * / // % < ** <
 * unary, with filters and tests binding to the unary operand), the
 * statements chat templates use (if, for with else/if/recursive, set with
 * namespaces and blocks, macro, call, filter, with, block, print,
 * break/continue) and Jinja2's wording for syntax errors, prefixed with the
 * line and column. Nesting depth is bounded so hostile input cannot
 * exhaust the stack. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "chat/jinja.h"
#include "chat/lexer.h"

#define MAX_NEST 200

typedef struct parser {
    jarena *arena;
    jtokens toks;
    size_t pos;
    ingot_error *err;
    bool failed;
    int depth;
    const char *tag_stack[MAX_NEST + 8];
    int ntags;
    const char *const *end_stack[MAX_NEST + 8];
    int nend;
} parser;

static jtoken *cur(parser *P) { return &P->toks.v[P->pos]; }
static jtoken *peek(parser *P, size_t k) {
    size_t i = P->pos + k;
    return &P->toks.v[i < P->toks.n ? i : P->toks.n - 1];
}
static void advance(parser *P) {
    if (P->pos + 1 < P->toks.n) P->pos++;
}

static void *fail_at(parser *P, const jtoken *t, const char *fmt, ...) INGOT_PRINTF(3, 4);
static void *fail_at(parser *P, const jtoken *t, const char *fmt, ...) {
    if (P->failed) return NULL;
    char m[800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    ingot_error_set(P->err, INGOT_E_TEMPLATE, "template syntax error at line %d, column %d: %s",
                    t->line, t->col, m);
    P->failed = true;
    return NULL;
}

static const char *describe(const jtoken *t, char *buf, size_t n) {
    switch (t->type) {
    case JT_NAME: case JT_INT: case JT_FLOAT:
        snprintf(buf, n, "%.*s", (int)(t->len < 60 ? t->len : 60), t->p);
        return buf;
    case JT_STRING: return "string";
    case JT_OP: snprintf(buf, n, "%.*s", (int)t->len, t->p); return buf;
    case JT_VAR_END: return "end of print statement";
    case JT_BLOCK_END: return "end of statement block";
    case JT_VAR_BEGIN: return "begin of print statement";
    case JT_BLOCK_BEGIN: return "begin of statement block";
    case JT_TEXT: return "template data";
    default: return "end of template";
    }
}

static bool is_name(const jtoken *t, const char *name) {
    return t->type == JT_NAME && t->len == strlen(name) && memcmp(t->p, name, t->len) == 0;
}
static bool is_op(const jtoken *t, char op) { return t->type == JT_OP && t->op == op; }

static bool expect_op(parser *P, char op, const char *what) {
    if (is_op(cur(P), op)) {
        advance(P);
        return true;
    }
    char b[80];
    fail_at(P, cur(P), "expected token '%s', got '%s'", what, describe(cur(P), b, sizeof b));
    return false;
}

static bool expect_end(parser *P, jtok_type t) {
    if (cur(P)->type == t) {
        advance(P);
        return true;
    }
    char b[80];
    fail_at(P, cur(P), "expected token '%s', got '%s'",
            t == JT_BLOCK_END ? "end of statement block" : "end of print statement",
            describe(cur(P), b, sizeof b));
    return false;
}

static const char *tok_str(parser *P, const jtoken *t) {
    char *s = jarena_alloc(P->arena, t->len + 1);
    if (!s) return "";
    memcpy(s, t->p, t->len);
    s[t->len] = 0;
    return s;
}

static jnode *node_new(parser *P, jnode_kind k, const jtoken *at) {
    jnode *n = jarena_alloc(P->arena, sizeof *n);
    if (!n) return fail_at(P, at, "template too large");
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)k;
    n->line = at->line;
    n->col = at->col;
    return n;
}

static bool nodes_push(parser *P, jnodes *v, jnode *n) {
    if (!n) return false;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        jnode **a = jarena_alloc(P->arena, cap * sizeof *a);
        if (!a) return false;
        if (v->n) memcpy(a, v->v, v->n * sizeof *a);
        v->v = a;
        v->cap = cap;
    }
    v->v[v->n++] = n;
    return true;
}

static bool kw_push(parser *P, jkwargs *v, const char *name, jnode *val) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        jkwarg *a = jarena_alloc(P->arena, cap * sizeof *a);
        if (!a) return false;
        if (v->n) memcpy(a, v->v, v->n * sizeof *a);
        v->v = a;
        v->cap = cap;
    }
    v->v[v->n].name = name;
    v->v[v->n].value = val;
    v->n++;
    return true;
}

static bool enter(parser *P) {
    if (++P->depth > MAX_NEST) {
        fail_at(P, cur(P), "template nested too deeply (more than %d levels)", MAX_NEST);
        return false;
    }
    return true;
}
static void leave(parser *P) { P->depth--; }

/* ------------------------------------------------------- expressions -- */
static jnode *parse_expression(parser *P, bool with_condexpr);
static jnode *parse_tuple(parser *P, bool simplified, bool with_condexpr, const char *extra_end,
                          bool explicit_parens);
static jnode *parse_unary(parser *P, bool with_filter);
static jnode *parse_primary(parser *P);
static jnode *parse_postfix(parser *P, jnode *node);
static jnode *parse_filter_expr(parser *P, jnode *node);

static bool parse_call_args(parser *P, jnode *call) {
    if (!expect_op(P, '(', "(")) return false;
    bool first = true;
    while (!is_op(cur(P), ')')) {
        if (P->failed) return false;
        if (!first && !expect_op(P, ',', ",")) return false;
        first = false;
        if (is_op(cur(P), ')')) break;
        if (is_op(cur(P), '*')) {
            advance(P);
            call->dyn_args = parse_expression(P, true);
            if (!call->dyn_args) return false;
        } else if (is_op(cur(P), 'P')) {
            advance(P);
            call->dyn_kwargs = parse_expression(P, true);
            if (!call->dyn_kwargs) return false;
        } else if (cur(P)->type == JT_NAME && is_op(peek(P, 1), '=')) {
            const char *name = tok_str(P, cur(P));
            advance(P);
            advance(P);
            jnode *v = parse_expression(P, true);
            if (!v || !kw_push(P, &call->kwargs, name, v)) return false;
        } else {
            if (call->kwargs.n)
                return fail_at(P, cur(P), "positional argument follows keyword argument"), false;
            if (!nodes_push(P, &call->items, parse_expression(P, true))) return false;
        }
    }
    advance(P);
    return true;
}

static const char *parse_dotted_name(parser *P) {
    if (cur(P)->type != JT_NAME) {
        char b[80];
        fail_at(P, cur(P), "expected token 'name', got '%s'", describe(cur(P), b, sizeof b));
        return NULL;
    }
    const char *name = tok_str(P, cur(P));
    advance(P);
    while (is_op(cur(P), '.') && peek(P, 1)->type == JT_NAME) {
        advance(P);
        const char *part = tok_str(P, cur(P));
        size_t l = strlen(name) + strlen(part) + 2;
        char *j = jarena_alloc(P->arena, l);
        if (!j) return NULL;
        snprintf(j, l, "%s.%s", name, part);
        name = j;
        advance(P);
    }
    return name;
}

static jnode *parse_filter(parser *P, jnode *node, bool start_inline) {
    while (is_op(cur(P), '|') || start_inline) {
        jtoken *at = cur(P);
        if (!start_inline) advance(P);
        start_inline = false;
        jnode *f = node_new(P, JN_FILTER, at);
        if (!f) return NULL;
        f->name = parse_dotted_name(P);
        if (!f->name) return NULL;
        f->a = node;
        if (is_op(cur(P), '(') && !parse_call_args(P, f)) return NULL;
        node = f;
    }
    return node;
}

static jnode *parse_test(parser *P, jnode *node) {
    jtoken *at = cur(P);
    advance(P); /* is */
    bool negated = false;
    if (is_name(cur(P), "not")) {
        advance(P);
        negated = true;
    }
    jnode *t = node_new(P, JN_TEST, at);
    if (!t) return NULL;
    t->name = parse_dotted_name(P);
    if (!t->name) return NULL;
    t->a = node;
    jtoken *c = cur(P);
    if (is_op(c, '(')) {
        if (!parse_call_args(P, t)) return NULL;
    } else if ((c->type == JT_NAME || c->type == JT_STRING || c->type == JT_INT || c->type == JT_FLOAT ||
                is_op(c, '(') || is_op(c, '[') || is_op(c, '{')) &&
               !is_name(c, "else") && !is_name(c, "or") && !is_name(c, "and")) {
        if (is_name(c, "is")) return fail_at(P, c, "You cannot chain multiple tests with is");
        jnode *arg = parse_primary(P);
        arg = arg ? parse_postfix(P, arg) : NULL;
        if (!nodes_push(P, &t->items, arg)) return NULL;
    }
    if (negated) {
        jnode *n = node_new(P, JN_NOT, at);
        if (!n) return NULL;
        n->a = t;
        return n;
    }
    return t;
}

static jnode *parse_filter_expr(parser *P, jnode *node) {
    while (node && !P->failed) {
        if (is_op(cur(P), '|')) node = parse_filter(P, node, false);
        else if (is_name(cur(P), "is")) node = parse_test(P, node);
        else if (is_op(cur(P), '(')) {
            jnode *call = node_new(P, JN_CALL, cur(P));
            if (!call) return NULL;
            call->a = node;
            if (!parse_call_args(P, call)) return NULL;
            node = call;
        } else break;
    }
    return node;
}

static jnode *parse_subscribed(parser *P) {
    jtoken *at = cur(P);
    jnode *args[3] = {NULL, NULL, NULL};
    if (is_op(cur(P), ':')) {
        advance(P);
    } else {
        jnode *n = parse_expression(P, true);
        if (!n) return NULL;
        if (!is_op(cur(P), ':')) return n;
        advance(P);
        args[0] = n;
    }
    if (!is_op(cur(P), ':') && !is_op(cur(P), ']') && !is_op(cur(P), ',')) {
        args[1] = parse_expression(P, true);
        if (!args[1]) return NULL;
    }
    if (is_op(cur(P), ':')) {
        advance(P);
        if (!is_op(cur(P), ']') && !is_op(cur(P), ',')) {
            args[2] = parse_expression(P, true);
            if (!args[2]) return NULL;
        }
    }
    jnode *s = node_new(P, JN_SLICE, at);
    if (!s) return NULL;
    s->a = args[0];
    s->b = args[1];
    s->c = args[2];
    return s;
}

static jnode *parse_postfix(parser *P, jnode *node) {
    while (node && !P->failed) {
        jtoken *at = cur(P);
        if (is_op(at, '.')) {
            advance(P);
            jtoken *t = cur(P);
            if (t->type == JT_NAME) {
                jnode *g = node_new(P, JN_GETATTR, at);
                if (!g) return NULL;
                g->a = node;
                g->name = tok_str(P, t);
                advance(P);
                node = g;
            } else if (t->type == JT_INT) {
                jnode *g = node_new(P, JN_GETITEM, at);
                jnode *k = node_new(P, JN_CONST, t);
                if (!g || !k) return NULL;
                k->value = jv_int(t->i);
                g->a = node;
                g->b = k;
                advance(P);
                node = g;
            } else return fail_at(P, t, "expected name or number");
        } else if (is_op(at, '[')) {
            advance(P);
            jnodes args = {0};
            while (!is_op(cur(P), ']')) {
                if (P->failed) return NULL;
                if (args.n && !expect_op(P, ',', ",")) return NULL;
                if (is_op(cur(P), ']')) break;
                if (!nodes_push(P, &args, parse_subscribed(P))) return NULL;
            }
            advance(P);
            if (args.n == 0) return fail_at(P, at, "expected an expression, got ']'");
            jnode *g = node_new(P, JN_GETITEM, at);
            if (!g) return NULL;
            g->a = node;
            if (args.n == 1) g->b = args.v[0];
            else {
                jnode *t = node_new(P, JN_TUPLE, at);
                if (!t) return NULL;
                t->items = args;
                g->b = t;
            }
            node = g;
        } else if (is_op(at, '(')) {
            jnode *call = node_new(P, JN_CALL, at);
            if (!call) return NULL;
            call->a = node;
            if (!parse_call_args(P, call)) return NULL;
            node = call;
        } else break;
    }
    return node;
}

static jnode *parse_primary(parser *P) {
    jtoken *t = cur(P);
    jnode *n;
    if (!enter(P)) return NULL;
    switch (t->type) {
    case JT_NAME:
        n = node_new(P, JN_CONST, t);
        if (!n) break;
        if (is_name(t, "true") || is_name(t, "True")) n->value = jv_bool(true);
        else if (is_name(t, "false") || is_name(t, "False")) n->value = jv_bool(false);
        else if (is_name(t, "none") || is_name(t, "None")) n->value = jv_none();
        else {
            n->kind = JN_NAME;
            n->name = tok_str(P, t);
        }
        advance(P);
        break;
    case JT_STRING: {
        n = node_new(P, JN_CONST, t);
        if (!n) break;
        /* adjacent literals concatenate, as in Python */
        size_t total = 0, k = P->pos;
        while (P->toks.v[k].type == JT_STRING) total += P->toks.v[k++].len;
        char *s = jarena_alloc(P->arena, total + 1);
        if (!s) { n = fail_at(P, t, "template too large"); break; }
        size_t o = 0;
        while (cur(P)->type == JT_STRING) {
            memcpy(s + o, cur(P)->p, cur(P)->len);
            o += cur(P)->len;
            advance(P);
        }
        s[o] = 0;
        n->value = jv_str(s, o);
        break;
    }
    case JT_INT: case JT_FLOAT:
        n = node_new(P, JN_CONST, t);
        if (!n) break;
        n->value = t->type == JT_INT ? jv_int(t->i) : jv_float(t->f);
        advance(P);
        break;
    case JT_OP:
        if (t->op == '(') {
            advance(P);
            n = parse_tuple(P, false, true, NULL, true);
            if (n && !expect_op(P, ')', ")")) n = NULL;
            break;
        }
        if (t->op == '[') {
            advance(P);
            n = node_new(P, JN_LIST, t);
            while (n && !is_op(cur(P), ']')) {
                if (n->items.n && !expect_op(P, ',', ",")) { n = NULL; break; }
                if (is_op(cur(P), ']')) break;
                if (!nodes_push(P, &n->items, parse_expression(P, true))) { n = NULL; break; }
            }
            if (n) advance(P);
            break;
        }
        if (t->op == '{') {
            advance(P);
            n = node_new(P, JN_DICT, t);
            while (n && !is_op(cur(P), '}')) {
                if (n->items.n && !expect_op(P, ',', ",")) { n = NULL; break; }
                if (is_op(cur(P), '}')) break;
                jnode *k = parse_expression(P, true);
                if (!k || !expect_op(P, ':', ":")) { n = NULL; break; }
                jnode *v = parse_expression(P, true);
                if (!nodes_push(P, &n->items, k) || !nodes_push(P, &n->items2, v)) { n = NULL; break; }
            }
            if (n) advance(P);
            break;
        }
        /* fallthrough */
    default: {
        char b[80];
        n = fail_at(P, t, "unexpected '%s'", describe(t, b, sizeof b));
    }
    }
    leave(P);
    return n;
}

static jnode *parse_unary(parser *P, bool with_filter) {
    jtoken *t = cur(P);
    jnode *node;
    if (!enter(P)) return NULL;
    if (is_op(t, '-') || is_op(t, '+')) {
        advance(P);
        node = node_new(P, JN_UNARY, t);
        if (node) {
            node->op = (uint8_t)t->op;
            node->a = parse_unary(P, false);
            if (!node->a) node = NULL;
        }
    } else node = parse_primary(P);
    node = parse_postfix(P, node);
    if (with_filter) node = parse_filter_expr(P, node);
    leave(P);
    return node;
}

static jnode *binary(parser *P, jtoken *at, char op, jnode *l, jnode *r) {
    if (!l || !r) return NULL;
    jnode *n = node_new(P, JN_BINARY, at);
    if (!n) return NULL;
    n->op = (uint8_t)op;
    n->a = l;
    n->b = r;
    return n;
}

static jnode *parse_pow(parser *P) {
    jnode *l = parse_unary(P, true);
    while (l && is_op(cur(P), 'P')) {
        jtoken *at = cur(P);
        advance(P);
        l = binary(P, at, 'P', l, parse_unary(P, true));
    }
    return l;
}

static jnode *parse_math2(parser *P) {
    jnode *l = parse_pow(P);
    while (l && (is_op(cur(P), '*') || is_op(cur(P), '/') || is_op(cur(P), 'F') || is_op(cur(P), '%'))) {
        jtoken *at = cur(P);
        advance(P);
        l = binary(P, at, at->op, l, parse_pow(P));
    }
    return l;
}

static jnode *parse_concat(parser *P) {
    jtoken *at = cur(P);
    jnode *first = parse_math2(P);
    if (!first || !is_op(cur(P), '~')) return first;
    jnode *n = node_new(P, JN_CONCAT, at);
    if (!n || !nodes_push(P, &n->items, first)) return NULL;
    while (is_op(cur(P), '~')) {
        advance(P);
        if (!nodes_push(P, &n->items, parse_math2(P))) return NULL;
    }
    return n;
}

static jnode *parse_math1(parser *P) {
    jnode *l = parse_concat(P);
    while (l && (is_op(cur(P), '+') || is_op(cur(P), '-'))) {
        jtoken *at = cur(P);
        advance(P);
        l = binary(P, at, at->op, l, parse_concat(P));
    }
    return l;
}

static jnode *parse_compare(parser *P) {
    jtoken *at = cur(P);
    jnode *first = parse_math1(P);
    if (!first) return NULL;
    jnode *cmp = NULL;
    for (;;) {
        jtoken *t = cur(P);
        char op = 0;
        if (t->type == JT_OP && strchr("ENLG<>", t->op) && t->op) {
            op = t->op;
            advance(P);
        } else if (is_name(t, "in")) {
            op = 'i';
            advance(P);
        } else if (is_name(t, "not") && is_name(peek(P, 1), "in")) {
            op = 'n';
            advance(P);
            advance(P);
        } else break;
        if (!cmp) {
            cmp = node_new(P, JN_COMPARE, at);
            if (!cmp || !nodes_push(P, &cmp->items, first)) return NULL;
        }
        jnode *opn = node_new(P, JN_CONST, t);
        if (!opn) return NULL;
        opn->value = jv_int(op);
        if (!nodes_push(P, &cmp->items2, opn) || !nodes_push(P, &cmp->items, parse_math1(P))) return NULL;
    }
    return cmp ? cmp : first;
}

static jnode *parse_not(parser *P) {
    if (is_name(cur(P), "not")) {
        jtoken *at = cur(P);
        advance(P);
        if (!enter(P)) return NULL;
        jnode *n = node_new(P, JN_NOT, at);
        if (n) n->a = parse_not(P);
        leave(P);
        return n && n->a ? n : NULL;
    }
    return parse_compare(P);
}

/* Left-associative chain of one keyword operator: operand (kw operand)*. */
static jnode *parse_keyword_chain(parser *P, const char *kw, jnode_kind kind, jnode *(*operand)(parser *)) {
    jnode *l = operand(P);
    while (l && is_name(cur(P), kw)) {
        jtoken *at = cur(P);
        advance(P);
        jnode *r = operand(P);
        if (!r) return NULL;
        jnode *n = node_new(P, kind, at);
        if (!n) return NULL;
        n->a = l;
        n->b = r;
        l = n;
    }
    return l;
}

static jnode *parse_and(parser *P) { return parse_keyword_chain(P, "and", JN_AND, parse_not); }

static jnode *parse_or(parser *P) { return parse_keyword_chain(P, "or", JN_OR, parse_and); }

static jnode *parse_condexpr(parser *P) {
    jnode *e1 = parse_or(P);
    while (e1 && is_name(cur(P), "if")) {
        jtoken *at = cur(P);
        advance(P);
        jnode *e2 = parse_or(P);
        if (!e2) return NULL;
        jnode *e3 = NULL;
        if (is_name(cur(P), "else")) {
            advance(P);
            if (!enter(P)) return NULL;
            e3 = parse_condexpr(P);
            leave(P);
            if (!e3) return NULL;
        }
        jnode *n = node_new(P, JN_CONDEXPR, at);
        if (!n) return NULL;
        n->a = e2; /* test */
        n->b = e1; /* then */
        n->c = e3; /* else (may be NULL: undefined) */
        e1 = n;
    }
    return e1;
}

static jnode *parse_expression(parser *P, bool with_condexpr) {
    if (!enter(P)) return NULL;
    jnode *n = with_condexpr ? parse_condexpr(P) : parse_or(P);
    leave(P);
    return n;
}

static bool is_tuple_end(parser *P, const char *extra_end) {
    jtoken *t = cur(P);
    if (t->type == JT_VAR_END || t->type == JT_BLOCK_END || t->type == JT_EOF || is_op(t, ')')) return true;
    return extra_end && is_name(t, extra_end);
}

static jnode *parse_tuple(parser *P, bool simplified, bool with_condexpr, const char *extra_end,
                          bool explicit_parens) {
    jtoken *at = cur(P);
    jnodes args = {0};
    bool is_tuple = false;
    for (;;) {
        if (args.n && !expect_op(P, ',', ",")) return NULL;
        if (is_tuple_end(P, extra_end)) break;
        jnode *e = simplified ? parse_primary(P) : parse_expression(P, with_condexpr);
        if (!nodes_push(P, &args, e)) return NULL;
        if (is_op(cur(P), ',')) is_tuple = true;
        else break;
    }
    if (!is_tuple) {
        if (args.n) return args.v[0];
        if (!explicit_parens) {
            char b[80];
            return fail_at(P, cur(P), "Expected an expression, got '%s'", describe(cur(P), b, sizeof b));
        }
    }
    jnode *t = node_new(P, JN_TUPLE, at);
    if (t) t->items = args;
    return t;
}

/* ------------------------------------------------------- statements -- */
static bool parse_body(parser *P, jnodes *body, const char *const *end_tags);

static void fail_unknown_tag(parser *P, const jtoken *t, const char *name) {
    char msg[700];
    size_t o = 0;
    if (name) o += (size_t)snprintf(msg + o, sizeof msg - o, "Encountered unknown tag '%s'.", name);
    else o += (size_t)snprintf(msg + o, sizeof msg - o, "Unexpected end of template.");
    if (P->nend > 0) {
        const char *const *looking = P->end_stack[P->nend - 1];
        char list[300];
        size_t lo = 0;
        list[0] = 0;
        for (int i = 0; looking[i] && lo < sizeof list; i++)
            lo += (size_t)snprintf(list + lo, sizeof list - lo, "%s'%s'", i ? " or " : "", looking[i]);
        bool expected = false;
        for (int s = 0; name && s < P->nend; s++)
            for (int i = 0; P->end_stack[s][i]; i++)
                if (!strcmp(P->end_stack[s][i], name)) expected = true;
        if (o < sizeof msg) {
            if (expected)
                o += (size_t)snprintf(msg + o, sizeof msg - o,
                                      " You probably made a nesting mistake. Jinja is expecting this tag, but currently looking for %s.",
                                      list);
            else
                o += (size_t)snprintf(msg + o, sizeof msg - o, " Jinja was looking for the following tags: %s.", list);
        }
    }
    if (P->ntags > 0 && o < sizeof msg)
        snprintf(msg + o, sizeof msg - o, " The innermost block that needs to be closed is '%s'.",
                 P->tag_stack[P->ntags - 1]);
    fail_at(P, t, "%s", msg);
}

/* Parses `%}` body up to one of end_tags; leaves the end tag name current
 * (or consumes it when drop is set). */
static bool parse_statements(parser *P, jnodes *body, const char *const *end_tags, bool drop) {
    if (is_op(cur(P), ':')) advance(P);
    if (!expect_end(P, JT_BLOCK_END)) return false;
    if (!parse_body(P, body, end_tags)) return false;
    if (cur(P)->type == JT_EOF) {
        fail_unknown_tag(P, cur(P), NULL);
        return false;
    }
    if (drop) advance(P);
    return true;
}

static jnode *parse_assign_target(parser *P, bool with_namespace, bool name_only, const char *extra_end) {
    jtoken *t = cur(P);
    if (with_namespace && t->type == JT_NAME && is_op(peek(P, 1), '.') && peek(P, 2)->type == JT_NAME) {
        jnode *n = node_new(P, JN_GETATTR, t);
        jnode *base = node_new(P, JN_NAME, t);
        if (!n || !base) return NULL;
        base->name = tok_str(P, t);
        advance(P);
        advance(P);
        n->name = tok_str(P, cur(P));
        n->a = base;
        advance(P);
        return n;
    }
    if (name_only) {
        if (t->type != JT_NAME) {
            char b[80];
            return fail_at(P, t, "expected token 'name', got '%s'", describe(t, b, sizeof b));
        }
        jnode *n = node_new(P, JN_NAME, t);
        if (n) n->name = tok_str(P, t);
        advance(P);
        return n;
    }
    jnode *target = parse_tuple(P, true, true, extra_end, false);
    if (!target) return NULL;
    bool ok = target->kind == JN_NAME;
    if (target->kind == JN_TUPLE) {
        ok = true;
        for (size_t i = 0; i < target->items.n; i++)
            if (target->items.v[i]->kind != JN_NAME && target->items.v[i]->kind != JN_TUPLE) ok = false;
    }
    if (!ok) return fail_at(P, t, "can't assign to '%s'", target->kind == JN_CONST ? "const" : "expression");
    return target;
}

static const char *const END_IF[] = {"elif", "else", "endif", NULL};
static const char *const END_IF2[] = {"endif", NULL};
static const char *const END_FOR[] = {"endfor", "else", NULL};
static const char *const END_FOR2[] = {"endfor", NULL};
static const char *const END_SET[] = {"endset", NULL};
static const char *const END_MACRO[] = {"endmacro", NULL};
static const char *const END_CALL[] = {"endcall", NULL};
static const char *const END_FILTER[] = {"endfilter", NULL};
static const char *const END_WITH[] = {"endwith", NULL};
static const char *const END_BLOCK[] = {"endblock", NULL};

static jnode *parse_if(parser *P, jtoken *at) {
    jnode *result = node_new(P, JN_IF, at), *node = result;
    if (!result) return NULL;
    for (;;) {
        node->a = parse_tuple(P, false, false, NULL, false);
        if (!node->a || !parse_statements(P, &node->items, END_IF, false)) return NULL;
        jtoken *t = cur(P);
        advance(P);
        if (is_name(t, "elif")) {
            jnode *n = node_new(P, JN_IF, t);
            if (!n || !nodes_push(P, &node->items2, n)) return NULL;
            node = n;
            continue;
        }
        if (is_name(t, "else") && !parse_statements(P, &node->items2, END_IF2, true)) return NULL;
        break;
    }
    return result;
}

static jnode *parse_for(parser *P, jtoken *at) {
    jnode *n = node_new(P, JN_FOR, at);
    if (!n) return NULL;
    n->a = parse_assign_target(P, false, false, "in");
    if (!n->a) return NULL;
    if (!is_name(cur(P), "in")) {
        char b[80];
        return fail_at(P, cur(P), "expected token 'in', got '%s'", describe(cur(P), b, sizeof b));
    }
    advance(P);
    n->b = parse_tuple(P, false, false, "recursive", false);
    if (!n->b) return NULL;
    if (is_name(cur(P), "if")) {
        advance(P);
        n->c = parse_expression(P, true);
        if (!n->c) return NULL;
    }
    if (is_name(cur(P), "recursive")) {
        advance(P);
        n->flag = true;
    }
    if (!parse_statements(P, &n->items, END_FOR, false)) return NULL;
    jtoken *t = cur(P);
    advance(P);
    if (is_name(t, "else") && !parse_statements(P, &n->items2, END_FOR2, true)) return NULL;
    return n;
}

static jnode *parse_set(parser *P, jtoken *at) {
    jnode *target = parse_assign_target(P, true, false, NULL);
    if (!target) return NULL;
    if (is_op(cur(P), '=')) {
        advance(P);
        jnode *n = node_new(P, JN_SET, at);
        if (!n) return NULL;
        n->a = target;
        n->b = parse_tuple(P, false, true, NULL, false);
        return n->b ? n : NULL;
    }
    jnode *n = node_new(P, JN_SET_BLOCK, at);
    if (!n) return NULL;
    n->a = target;
    if (is_op(cur(P), '|')) {
        /* filters applied to the block's text: a chain over a NULL input */
        n->b = parse_filter(P, NULL, false);
        if (!n->b) return NULL;
    }
    if (!parse_statements(P, &n->items, END_SET, true)) return NULL;
    return n;
}

static bool parse_signature(parser *P, jnode *n) {
    if (!expect_op(P, '(', "(")) return false;
    bool first = true;
    while (!is_op(cur(P), ')')) {
        if (P->failed) return false;
        if (!first && !expect_op(P, ',', ",")) return false;
        first = false;
        if (is_op(cur(P), ')')) break;
        jnode *arg = parse_assign_target(P, false, true, NULL);
        if (!arg) return false;
        jnode *def = NULL;
        if (is_op(cur(P), '=')) {
            advance(P);
            def = parse_expression(P, true);
            if (!def) return false;
        } else if (n->kwargs.n && n->kwargs.v[n->kwargs.n - 1].value)
            return fail_at(P, cur(P), "non-default argument follows default argument"), false;
        if (!kw_push(P, &n->kwargs, arg->name, def)) return false;
    }
    advance(P);
    return true;
}

static jnode *parse_macro(parser *P, jtoken *at) {
    jnode *n = node_new(P, JN_MACRO, at);
    if (!n) return NULL;
    jnode *name = parse_assign_target(P, false, true, NULL);
    if (!name) return NULL;
    n->name = name->name;
    if (!parse_signature(P, n)) return NULL;
    if (!parse_statements(P, &n->items, END_MACRO, true)) return NULL;
    return n;
}

static jnode *parse_call_block(parser *P, jtoken *at) {
    jnode *n = node_new(P, JN_CALL_BLOCK, at);
    if (!n) return NULL;
    n->name = "caller";
    if (is_op(cur(P), '(') && !parse_signature(P, n)) return NULL;
    jnode *call = parse_expression(P, true);
    if (!call) return NULL;
    if (call->kind != JN_CALL) return fail_at(P, at, "expected call");
    n->a = call;
    if (!parse_statements(P, &n->items, END_CALL, true)) return NULL;
    return n;
}

static jnode *parse_filter_block(parser *P, jtoken *at) {
    jnode *n = node_new(P, JN_FILTER_BLOCK, at);
    if (!n) return NULL;
    n->b = parse_filter(P, NULL, true);
    if (!n->b) return NULL;
    if (!parse_statements(P, &n->items, END_FILTER, true)) return NULL;
    return n;
}

static jnode *parse_with(parser *P, jtoken *at) {
    jnode *n = node_new(P, JN_WITH, at);
    if (!n) return NULL;
    while (cur(P)->type != JT_BLOCK_END) {
        if (P->failed) return NULL;
        if (n->kwargs.n && !expect_op(P, ',', ",")) return NULL;
        jnode *t = parse_assign_target(P, false, true, NULL);
        if (!t || !expect_op(P, '=', "=")) return NULL;
        jnode *v = parse_expression(P, true);
        if (!v || !kw_push(P, &n->kwargs, t->name, v)) return NULL;
    }
    if (!parse_statements(P, &n->items, END_WITH, true)) return NULL;
    return n;
}

static jnode *parse_block(parser *P, jtoken *at) {
    jnode *n = node_new(P, JN_WITH, at); /* a block in a lone template renders in place */
    if (!n) return NULL;
    if (cur(P)->type != JT_NAME) return fail_at(P, cur(P), "expected token 'name'");
    advance(P);
    while (is_name(cur(P), "scoped") || is_name(cur(P), "required")) advance(P);
    if (!parse_statements(P, &n->items, END_BLOCK, true)) return NULL;
    if (cur(P)->type == JT_NAME) advance(P);
    return n;
}

static jnode *parse_statement(parser *P) {
    jtoken *t = cur(P);
    if (t->type != JT_NAME) return fail_at(P, t, "tag name expected");
    if (P->ntags >= MAX_NEST) return fail_at(P, t, "template nested too deeply");
    const char *name = tok_str(P, t);
    P->tag_stack[P->ntags++] = name;
    advance(P);
    jnode *n = NULL;
    bool known = true;
    if (!enter(P)) return NULL;
    if (!strcmp(name, "if")) n = parse_if(P, t);
    else if (!strcmp(name, "for")) n = parse_for(P, t);
    else if (!strcmp(name, "set")) n = parse_set(P, t);
    else if (!strcmp(name, "macro")) n = parse_macro(P, t);
    else if (!strcmp(name, "call")) n = parse_call_block(P, t);
    else if (!strcmp(name, "filter")) n = parse_filter_block(P, t);
    else if (!strcmp(name, "with")) n = parse_with(P, t);
    else if (!strcmp(name, "block")) n = parse_block(P, t);
    else if (!strcmp(name, "print")) {
        n = node_new(P, JN_OUTPUT, t);
        if (n) {
            n->a = parse_tuple(P, false, true, NULL, false);
            if (!n->a) n = NULL;
        }
    } else if (!strcmp(name, "break") || !strcmp(name, "continue")) {
        n = node_new(P, name[0] == 'b' ? JN_BREAK : JN_CONTINUE, t);
    } else if (!strcmp(name, "extends") || !strcmp(name, "include") || !strcmp(name, "import") ||
               !strcmp(name, "from") || !strcmp(name, "autoescape")) {
        n = fail_at(P, t, "the '%s' tag is not supported in chat templates (no template loader)", name);
    } else known = false;
    leave(P);
    P->ntags--;
    if (!known) {
        fail_unknown_tag(P, t, name);
        return NULL;
    }
    if (!n) return NULL;
    if (!expect_end(P, JT_BLOCK_END)) return NULL;
    return n;
}

static bool parse_body(parser *P, jnodes *body, const char *const *end_tags) {
    if (end_tags) {
        /* an unclosed block: report it while its end tags are still known */
        if (P->nend >= MAX_NEST) return fail_at(P, cur(P), "template nested too deeply"), false;
        P->end_stack[P->nend++] = end_tags;
    }
    bool ok = true;
    while (!P->failed) {
        jtoken *t = cur(P);
        if (t->type == JT_EOF) {
            if (end_tags) {
                fail_unknown_tag(P, t, NULL);
                ok = false;
            }
            break;
        }
        if (t->type == JT_TEXT) {
            jnode *n = node_new(P, JN_TEXT, t);
            if (!n) { ok = false; break; }
            n->value = jv_str(t->p, t->len);
            if (!nodes_push(P, body, n)) { ok = false; break; }
            advance(P);
            continue;
        }
        if (t->type == JT_VAR_BEGIN) {
            advance(P);
            jnode *n = node_new(P, JN_OUTPUT, t);
            if (!n) { ok = false; break; }
            n->a = parse_tuple(P, false, true, NULL, false);
            if (!n->a || !expect_end(P, JT_VAR_END) || !nodes_push(P, body, n)) { ok = false; break; }
            continue;
        }
        if (t->type == JT_BLOCK_BEGIN) {
            jtoken *name = peek(P, 1);
            bool is_end = false;
            for (int i = 0; end_tags && end_tags[i]; i++)
                if (is_name(name, end_tags[i])) is_end = true;
            advance(P);
            if (is_end) goto done;
            jnode *n = parse_statement(P);
            if (!n || !nodes_push(P, body, n)) { ok = false; break; }
            continue;
        }
        char b[80];
        fail_at(P, t, "unexpected '%s'", describe(t, b, sizeof b));
        ok = false;
        break;
    }
done:
    if (end_tags) P->nend--;
    return ok && !P->failed;
}

/* After parsing: unknown filters and tests are compile errors, except
 * under an `if` (statement or expression), where Jinja2 defers them to run
 * time; and macros learn whether they read varargs/kwargs/caller. */
static uint8_t walk(parser *P, const jnode *n, bool soft) {
    if (!n || P->failed) return 0;
    uint8_t uses = 0;
    if (n->kind == JN_NAME) {
        if (!strcmp(n->name, "varargs")) uses |= JUSES_VARARGS;
        else if (!strcmp(n->name, "kwargs")) uses |= JUSES_KWARGS;
        else if (!strcmp(n->name, "caller")) uses |= JUSES_CALLER;
    }
    if (n->kind == JN_FILTER && !soft && !jinja_filter_lookup(n->name)) {
        jtoken t = {0};
        t.line = n->line;
        t.col = n->col;
        fail_at(P, &t, "No filter named '%s'.", n->name);
        return 0;
    }
    if (n->kind == JN_TEST && !soft && !jinja_test_lookup(n->name)) {
        jtoken t = {0};
        t.line = n->line;
        t.col = n->col;
        fail_at(P, &t, "No test named '%s'.", n->name);
        return 0;
    }
    bool child_soft = soft;
    if (n->kind == JN_IF || n->kind == JN_CONDEXPR) child_soft = true;
    if (n->kind == JN_FOR || n->kind == JN_MACRO || n->kind == JN_CALL_BLOCK || n->kind == JN_WITH ||
        n->kind == JN_FILTER_BLOCK)
        child_soft = false;
    uses |= walk(P, n->a, child_soft) | walk(P, n->b, child_soft) | walk(P, n->c, child_soft);
    uses |= walk(P, n->dyn_args, child_soft) | walk(P, n->dyn_kwargs, child_soft);
    for (size_t i = 0; i < n->items.n; i++) uses |= walk(P, n->items.v[i], child_soft);
    for (size_t i = 0; i < n->items2.n; i++) uses |= walk(P, n->items2.v[i], child_soft);
    for (size_t i = 0; i < n->kwargs.n; i++) uses |= walk(P, n->kwargs.v[i].value, child_soft);
    if (n->kind == JN_MACRO || n->kind == JN_CALL_BLOCK) {
        ((jnode *)n)->uses = uses;
        return 0;
    }
    return uses;
}

ingot_status jinja_parse(const char *src, size_t len, jtemplate_ast *out, ingot_error *err) {
    memset(out, 0, sizeof *out);
    jarena *a = jarena_new((size_t)256 << 20);
    if (!a) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    parser P;
    memset(&P, 0, sizeof P);
    P.arena = a;
    P.err = err;
    const char *norm;
    ingot_status st = jinja_lex(a, src, len, &P.toks, &norm, err);
    if (st != INGOT_OK) {
        jarena_free(a);
        return st;
    }
    jtoken start = {0};
    start.line = start.col = 1;
    jnode *root = node_new(&P, JN_BODY, &start);
    if (root && parse_body(&P, &root->items, NULL) && !P.failed && (walk(&P, root, false), !P.failed)) {
        out->arena = a;
        out->root = root;
        return INGOT_OK;
    }
    if (!P.failed) ingot_error_set(err, INGOT_E_TEMPLATE, "template syntax error");
    jarena_free(a);
    return INGOT_E_TEMPLATE;
}
