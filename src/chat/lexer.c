/* The template lexer: splits template source into text and the tokens
 * inside {{ }}, {% %} (comments {# #} and raw blocks disappear here), and
 * applies Jinja2's whitespace rules as Hugging Face configures them:
 * newlines normalized to "\n" and one trailing newline dropped,
 * `{%-`/`-%}` strip all whitespace, `{%+`/`+%}` opt out, trim_blocks eats
 * the newline after a block or comment tag, lstrip_blocks eats the
 * indentation before one. Inside a tag it produces names, numbers, string
 * literals (Python escapes decoded) and operators; an end delimiter only
 * counts outside brackets, so `{{ {'a': {}}}}` lexes as Jinja2 does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/jinja.h"
#include "chat/lexer.h"

typedef struct lexer {
    jarena *arena;
    const char *s; /* normalized source */
    size_t n;
    jtokens *out;
    ingot_error *err;
    bool failed;
} lexer;

static void pos_of(const char *s, size_t off, int *line, int *col) {
    int l = 1, c = 1;
    for (size_t i = 0; i < off; i++) {
        if (s[i] == '\n') { l++; c = 1; }
        else if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
    }
    *line = l;
    *col = c;
}

static bool lex_fail(lexer *L, size_t off, const char *msg, const char *arg) {
    if (L->failed) return false;
    int line, col;
    pos_of(L->s, off, &line, &col);
    char m[600];
    snprintf(m, sizeof m, msg, arg ? arg : "");
    ingot_error_set(L->err, INGOT_E_TEMPLATE, "template syntax error at line %d, column %d: %s",
                    line, col, m);
    L->failed = true;
    return false;
}

static bool emit(lexer *L, jtok_type t, size_t off, size_t len) {
    jtokens *ts = L->out;
    if (ts->n == ts->cap) {
        size_t cap = ts->cap ? ts->cap * 2 : 256;
        jtoken *v = jarena_alloc(L->arena, cap * sizeof *v);
        if (!v) return lex_fail(L, off, "template too large", NULL);
        if (ts->n) memcpy(v, ts->v, ts->n * sizeof *v);
        ts->v = v;
        ts->cap = cap;
    }
    jtoken *k = &ts->v[ts->n++];
    memset(k, 0, sizeof *k);
    k->type = (uint8_t)t;
    k->p = L->s + off;
    k->len = len;
    k->off = off;
    return true;
}

/* Python whitespace at s[i] (ASCII fast path, else the Unicode set). */
static size_t ws_at(const char *s, size_t n, size_t i) {
    unsigned char ch = (unsigned char)s[i];
    if (ch < 0x80) return ju_isspace(ch) ? 1 : 0;
    uint32_t cp;
    size_t k = ju8_decode(s + i, n - i, &cp);
    return ju_isspace(cp) ? k : 0;
}

static size_t skip_ws(const char *s, size_t n, size_t i) {
    size_t k;
    while (i < n && (k = ws_at(s, n, i)) > 0) i += k;
    return i;
}

/* Length of text[0..len) after Python's str.rstrip(). */
static size_t rstrip_len(const char *t, size_t len) {
    for (;;) {
        if (len == 0) return 0;
        size_t st = len - 1;
        while (st > 0 && ((unsigned char)t[st] & 0xC0) == 0x80) st--;
        if (ws_at(t, len, st) == len - st) len = st;
        else return len;
    }
}

/* Emits data text[a..b) applying the strip rules of the tag that follows. */
static bool emit_text(lexer *L, size_t a, size_t b, char sign, bool lstrip_kind, bool line_starting) {
    if (sign == '-') b = a + rstrip_len(L->s + a, b - a);
    else if (sign != '+' && lstrip_kind) {
        size_t lp = a;
        for (size_t i = b; i > a; i--)
            if (L->s[i - 1] == '\n') { lp = i; break; }
        if (lp > a || line_starting) {
            bool all_ws = lp < b;
            for (size_t i = lp; i < b;) {
                size_t k = ws_at(L->s, b, i);
                if (!k) { all_ws = false; break; }
                i += k;
            }
            if (all_ws) b = lp;
        }
    }
    if (b > a) return emit(L, JT_TEXT, a, b - a);
    return true;
}

static bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Decodes a Python string literal body (unicode-escape semantics). */
static bool lex_string(lexer *L, size_t start, size_t *end, jtoken *tok) {
    const char *s = L->s;
    char q = s[start];
    size_t i = start + 1;
    while (i < L->n && s[i] != q) {
        if (s[i] == '\\' && i + 1 < L->n) i++;
        i++;
    }
    if (i >= L->n) {
        char m[64];
        snprintf(m, sizeof m, "unexpected char \"%c\" at %zu", q, start);
        return lex_fail(L, start, "%s", m);
    }
    *end = i + 1;
    size_t rawlen = i - start - 1;
    char *d = jarena_alloc(L->arena, rawlen + 1);
    if (!d) return lex_fail(L, start, "template too large", NULL);
    size_t o = 0;
    for (size_t k = start + 1; k < i; k++) {
        char ch = s[k];
        if (ch != '\\' || k + 1 >= i) { d[o++] = ch; continue; }
        char e = s[++k];
        uint32_t cp = 0;
        int nhex = 0;
        switch (e) {
        case 'n': d[o++] = '\n'; break;
        case 't': d[o++] = '\t'; break;
        case 'r': d[o++] = '\r'; break;
        case '\\': d[o++] = '\\'; break;
        case '\'': d[o++] = '\''; break;
        case '"': d[o++] = '"'; break;
        case 'a': d[o++] = '\a'; break;
        case 'b': d[o++] = '\b'; break;
        case 'f': d[o++] = '\f'; break;
        case 'v': d[o++] = '\v'; break;
        case '\n': break; /* line continuation */
        case 'x': nhex = 2; break;
        case 'u': nhex = 4; break;
        case 'U': nhex = 8; break;
        default:
            if (e >= '0' && e <= '7') {
                int nd = 0;
                while (nd < 3 && k < i && s[k] >= '0' && s[k] <= '7') {
                    cp = cp * 8 + (uint32_t)(s[k] - '0');
                    k++;
                    nd++;
                }
                k--;
                char u[4];
                size_t ul = ju8_encode(cp, u);
                memcpy(d + o, u, ul); /* octal escapes are at most 3 bytes of UTF-8 <= 4 source chars */
                o += ul;
            } else {
                d[o++] = '\\';
                d[o++] = e;
            }
        }
        if (nhex) {
            if (k + (size_t)nhex >= i) {
                return lex_fail(L, k, "truncated \\%s escape in string literal", e == 'x' ? "x" : e == 'u' ? "u" : "U");
            }
            for (int h = 1; h <= nhex; h++) {
                char c = s[k + (size_t)h];
                int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                        : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
                if (v < 0) return lex_fail(L, k, "invalid hex escape in string literal", NULL);
                cp = cp * 16 + (uint32_t)v;
            }
            if (cp > 0x10FFFF) return lex_fail(L, k, "illegal Unicode character in string literal", NULL);
            k += (size_t)nhex;
            char u[4];
            size_t ul = ju8_encode(cp, u);
            memcpy(d + o, u, ul); /* an escape of >= 4 chars never yields more bytes than it spans */
            o += ul;
        }
    }
    d[o] = 0;
    tok->p = d;
    tok->len = o;
    return true;
}

/* Lexes the inside of a tag from i; returns the offset just after the end
 * delimiter and its sign ('-', '+' or 0) in *sign. */
static bool lex_tag(lexer *L, size_t i, bool block, size_t *end, char *sign, size_t tag_off) {
    const char *s = L->s;
    size_t n = L->n;
    int depth = 0;
    for (;;) {
        i = skip_ws(s, n, i);
        if (i >= n)
            return lex_fail(L, tag_off, block ? "unexpected end of template, expected 'end of statement block'."
                                              : "unexpected end of template, expected 'end of print statement'.", NULL);
        char ch = s[i];
        if (depth == 0) {
            if (block) {
                if ((ch == '-' || ch == '+') && i + 2 < n && s[i + 1] == '%' && s[i + 2] == '}') {
                    *sign = ch;
                    *end = i + 3;
                    return emit(L, JT_BLOCK_END, i, 3);
                }
                if (ch == '%' && i + 1 < n && s[i + 1] == '}') {
                    *sign = 0;
                    *end = i + 2;
                    return emit(L, JT_BLOCK_END, i, 2);
                }
            } else {
                if (ch == '-' && i + 2 < n && s[i + 1] == '}' && s[i + 2] == '}') {
                    *sign = '-';
                    *end = i + 3;
                    return emit(L, JT_VAR_END, i, 3);
                }
                if (ch == '}' && i + 1 < n && s[i + 1] == '}') {
                    *sign = 0;
                    *end = i + 2;
                    return emit(L, JT_VAR_END, i, 2);
                }
            }
        }
        if (is_name_start(ch)) {
            size_t j = i + 1;
            while (j < n && (is_name_start(s[j]) || is_digit(s[j]))) j++;
            if (!emit(L, JT_NAME, i, j - i)) return false;
            i = j;
            continue;
        }
        if (is_digit(ch)) {
            size_t j = i;
            while (j < n && (is_digit(s[j]) || (s[j] == '_' && j + 1 < n && is_digit(s[j + 1])))) j++;
            bool is_float = false;
            if (j + 1 < n && s[j] == '.' && is_digit(s[j + 1])) {
                is_float = true;
                j++;
                while (j < n && (is_digit(s[j]) || (s[j] == '_' && j + 1 < n && is_digit(s[j + 1])))) j++;
            }
            if (j < n && (s[j] == 'e' || s[j] == 'E')) {
                size_t k = j + 1;
                if (k < n && (s[k] == '+' || s[k] == '-')) k++;
                if (k < n && is_digit(s[k])) {
                    is_float = true;
                    while (k < n && is_digit(s[k])) k++;
                    j = k;
                }
            }
            char buf[128];
            size_t bl = 0;
            for (size_t k = i; k < j && bl < sizeof buf - 1; k++)
                if (s[k] != '_') buf[bl++] = s[k];
            buf[bl] = 0;
            if (!emit(L, is_float ? JT_FLOAT : JT_INT, i, j - i)) return false;
            jtoken *t = &L->out->v[L->out->n - 1];
            if (is_float) t->f = strtod(buf, NULL);
            else {
                char *e;
                unsigned long long v = strtoull(buf, &e, 10);
                if (v > (unsigned long long)INT64_MAX) return lex_fail(L, i, "integer literal too large", NULL);
                t->i = (int64_t)v;
            }
            i = j;
            continue;
        }
        if (ch == '\'' || ch == '"') {
            size_t j;
            if (!emit(L, JT_STRING, i, 0)) return false;
            jtoken *t = &L->out->v[L->out->n - 1];
            if (!lex_string(L, i, &j, t)) return false;
            i = j;
            continue;
        }
        /* operators */
        static const struct { const char *s; char code; } ops2[] = {
            {"//", 'F'}, {"**", 'P'}, {"==", 'E'}, {"!=", 'N'}, {"<=", 'L'}, {">=", 'G'}};
        bool two = false;
        for (size_t k = 0; k < sizeof ops2 / sizeof ops2[0]; k++) {
            if (i + 1 < n && s[i] == ops2[k].s[0] && s[i + 1] == ops2[k].s[1]) {
                if (!emit(L, JT_OP, i, 2)) return false;
                L->out->v[L->out->n - 1].op = ops2[k].code;
                i += 2;
                two = true;
                break;
            }
        }
        if (two) continue;
        if (strchr("+-*/%~<>=.,:|()[]{}", ch) && ch) {
            if (ch == '(' || ch == '[' || ch == '{') depth++;
            else if (ch == ')' || ch == ']' || ch == '}') {
                if (depth == 0) return lex_fail(L, i, "unexpected '%s'", ch == ')' ? ")" : ch == ']' ? "]" : "}");
                depth--;
            }
            if (!emit(L, JT_OP, i, 1)) return false;
            L->out->v[L->out->n - 1].op = ch;
            i++;
            continue;
        }
        char bad[8] = {0};
        uint32_t cp;
        size_t k = ju8_decode(s + i, n - i, &cp);
        memcpy(bad, s + i, k < 7 ? k : 7);
        return lex_fail(L, i, "unexpected char '%s'", bad);
    }
}

/* Matches `{%[-+]?\s*NAME\s*[-+]?%}` at i; returns its end or 0. */
static size_t match_simple_tag(const char *s, size_t n, size_t i, const char *name, char *open_sign,
                               char *close_sign) {
    if (i + 2 > n || s[i] != '{' || s[i + 1] != '%') return 0;
    size_t j = i + 2;
    *open_sign = 0;
    if (j < n && (s[j] == '-' || s[j] == '+')) *open_sign = s[j++];
    j = skip_ws(s, n, j);
    size_t nl = strlen(name);
    if (j + nl > n || memcmp(s + j, name, nl) != 0) return 0;
    j += nl;
    if (j < n && (is_name_start(s[j]) || is_digit(s[j]))) return 0;
    j = skip_ws(s, n, j);
    *close_sign = 0;
    if (j < n && (s[j] == '-' || s[j] == '+')) *close_sign = s[j++];
    if (j + 2 > n || s[j] != '%' || s[j + 1] != '}') return 0;
    return j + 2;
}

/* After an end delimiter: `-` strips following whitespace, a plain block
 * end (trim_blocks) eats one newline. Returns the new offset. */
static size_t after_end(const char *s, size_t n, size_t i, char sign, bool trim, bool *line_starting) {
    if (sign == '-') {
        size_t j = skip_ws(s, n, i);
        *line_starting = j > i && s[j - 1] == '\n';
        return j;
    }
    if (sign != '+' && trim && i < n && s[i] == '\n') {
        *line_starting = true;
        return i + 1;
    }
    *line_starting = false;
    return i;
}

ingot_status jinja_lex(jarena *arena, const char *src, size_t len, jtokens *out, const char **norm,
                       ingot_error *err) {
    /* Normalize newlines and drop one trailing newline (keep_trailing_newline=False). */
    char *s = jarena_alloc(arena, len + 1);
    if (!s) return ingot_error_set(err, INGOT_E_NOMEM, "template too large");
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '\r') {
            s[n++] = '\n';
            if (i + 1 < len && src[i + 1] == '\n') i++;
        } else s[n++] = src[i];
    }
    if (n && s[n - 1] == '\n') n--;
    s[n] = 0;
    *norm = s;
    lexer L = {arena, s, n, out, err, false};
    memset(out, 0, sizeof *out);
    size_t i = 0;
    bool line_starting = true;
    while (i < n) {
        /* next tag opener */
        size_t j = i;
        const char *hit = NULL;
        while (j + 1 < n) {
            hit = memchr(s + j, '{', n - j - 1);
            if (!hit) break;
            j = (size_t)(hit - s);
            char c2 = s[j + 1];
            if (c2 == '{' || c2 == '%' || c2 == '#') break;
            j++;
            hit = NULL;
        }
        if (!hit) {
            if (!emit(&L, JT_TEXT, i, n - i)) return err ? err->status : INGOT_E_TEMPLATE;
            break;
        }
        char kind = s[j + 1];
        char sign = (j + 2 < n && (s[j + 2] == '-' || s[j + 2] == '+')) ? s[j + 2] : 0;
        bool lstrip_kind = kind != '{';
        if (!emit_text(&L, i, j, sign, lstrip_kind, line_starting)) return err ? err->status : INGOT_E_TEMPLATE;
        size_t body = j + 2 + (sign ? 1 : 0);
        if (kind == '#') {
            size_t k = body;
            const char *e = NULL;
            while (k + 1 < n) {
                e = memchr(s + k, '#', n - k - 1);
                if (!e) break;
                k = (size_t)(e - s);
                if (s[k + 1] == '}') break;
                k++;
                e = NULL;
            }
            if (!e) {
                lex_fail(&L, j, "Missing end of comment tag", NULL);
                return INGOT_E_TEMPLATE;
            }
            char esign = 0;
            if (k > body && (s[k - 1] == '-' || s[k - 1] == '+')) esign = s[k - 1];
            i = after_end(s, n, k + 2, esign, true, &line_starting);
            continue;
        }
        if (kind == '%') {
            char os, cs;
            size_t e = match_simple_tag(s, n, j, "raw", &os, &cs);
            if (e) {
                size_t start = after_end(s, n, e, cs, true, &line_starting);
                /* find endraw */
                size_t k = start;
                size_t rend = 0, rk = 0;
                char eos = 0, ecs = 0;
                while (k + 1 < n) {
                    const char *h = memchr(s + k, '{', n - k - 1);
                    if (!h) break;
                    k = (size_t)(h - s);
                    rend = match_simple_tag(s, n, k, "endraw", &eos, &ecs);
                    if (rend) { rk = k; break; }
                    k++;
                }
                if (!rend) {
                    lex_fail(&L, j, "Missing end of raw directive", NULL);
                    return INGOT_E_TEMPLATE;
                }
                if (!emit_text(&L, start, rk, eos, true, line_starting)) return INGOT_E_TEMPLATE;
                i = after_end(s, n, rend, ecs, true, &line_starting);
                continue;
            }
        }
        bool block = kind == '%';
        if (!emit(&L, block ? JT_BLOCK_BEGIN : JT_VAR_BEGIN, j, body - j)) return INGOT_E_TEMPLATE;
        size_t end = n;
        char esign = 0;
        if (!lex_tag(&L, body, block, &end, &esign, j)) return err ? err->status : INGOT_E_TEMPLATE;
        i = after_end(s, n, end, esign, block, &line_starting);
    }
    if (!emit(&L, JT_EOF, n, 0)) return INGOT_E_TEMPLATE;
    /* line/column of every token, in one pass */
    {
        int line = 1, col = 1;
        size_t at = 0;
        for (size_t k = 0; k < out->n; k++) {
            size_t off = out->v[k].off;
            for (; at < off && at < n; at++) {
                if (s[at] == '\n') { line++; col = 1; }
                else if (((unsigned char)s[at] & 0xC0) != 0x80) col++;
            }
            out->v[k].line = line;
            out->v[k].col = col;
        }
    }
    return INGOT_OK;
}
