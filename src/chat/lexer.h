/* Tokens of a chat template, produced by lexer.c for parser.c. */
#ifndef INGOT_CHAT_LEXER_H
#define INGOT_CHAT_LEXER_H
#include "chat/jinja.h"

typedef enum jtok_type {
    JT_TEXT, JT_VAR_BEGIN, JT_VAR_END, JT_BLOCK_BEGIN, JT_BLOCK_END,
    JT_NAME, JT_STRING, JT_INT, JT_FLOAT, JT_OP, JT_EOF
} jtok_type;

typedef struct jtoken {
    uint8_t type;
    char op;         /* JT_OP: the char, or F(//) P(**) E(==) N(!=) L(<=) G(>=) */
    const char *p;   /* text (JT_STRING: the decoded value) */
    size_t len;
    size_t off;      /* byte offset in the normalized source */
    int line, col;
    int64_t i;
    double f;
} jtoken;

typedef struct jtokens { size_t n, cap; jtoken *v; } jtokens;

/* Tokenizes src; *norm receives the newline-normalized source (arena). */
ingot_status jinja_lex(jarena *arena, const char *src, size_t len, jtokens *out, const char **norm,
                       ingot_error *err);
#endif
