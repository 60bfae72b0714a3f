/* Fast decoding of tokenizer.json's model.vocab and model.merges (see
 * json_scan.c for why these two members bypass jansson). */
#ifndef INGOT_TOKENIZER_JSON_SCAN_H
#define INGOT_TOKENIZER_JSON_SCAN_H
#include "tokenizer/tokenizer.h"

typedef struct tok_jspan {
    size_t off, len; /* bytes of a JSON value inside the document */
} tok_jspan;

typedef struct tok_vocab_entry {
    uint32_t off, len; /* decoded text in the strings buffer (NUL after) */
    int32_t id;
} tok_vocab_entry;

typedef struct tok_vocab_entries {
    tok_vocab_entry *v;
    size_t n, cap;
} tok_vocab_entries;

/* Finds the values of model.vocab and model.merges (merges->len 0 when
 * absent) in one pass, and counts the merges (*n_merges: the elements of
 * the merges array). False when the document is not shaped like a
 * tokenizer.json. */
bool tok_json_locate(const char *doc, size_t n, tok_jspan *vocab, tok_jspan *merges, size_t *n_merges);
/* Finds the value of member key (no escapes in it) of the top-level
 * object; false when absent or the document is malformed before it. */
bool tok_json_member(const char *doc, size_t n, const char *key, tok_jspan *sp);
/* Decodes the vocab object: texts appended to strs, one entry per pair. */
ingot_status tok_json_vocab(const char *doc, tok_jspan sp, tok_buf *strs, tok_vocab_entries *ents, const char *path,
                            ingot_error *err);
typedef ingot_status (*tok_merge_fn)(void *user, const char *a, size_t na, const char *b, size_t nb, int32_t rank,
                                     ingot_error *err);
/* Decodes the merges array ("a b" strings or [a, b] pairs), calling fn for
 * each in order. */
ingot_status tok_json_merges(const char *doc, tok_jspan sp, tok_merge_fn fn, void *user, const char *path,
                             ingot_error *err);
#endif
