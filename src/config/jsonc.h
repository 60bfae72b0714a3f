/* Internal: the two things the config layer needs from JSON text that a JSON
 * library does not give: comments (// and block comments, as in JSONC) and
 * the line on which each key stands, so that an error can name file:line. */
#ifndef INGOT_CONFIG_JSONC_H
#define INGOT_CONFIG_JSONC_H
#include <stddef.h>

/* Blanks out comments in place (newlines are kept, so line numbers stay
 * true). Returns 0, or the line of an unterminated block comment. */
int ingot_jsonc_strip(char *text, size_t len);

/* Line of every object key, by dotted path ("inference.top_p"). */
typedef struct ingot_jsonc_keys {
    struct ingot_jsonc_key { char *path; int line; } *v;
    size_t n, cap;
} ingot_jsonc_keys;

/* Indexes text (already stripped of comments). Malformed text just gives a
 * shorter index; the JSON parser reports the syntax error. Returns false
 * when out of memory. */
int ingot_jsonc_index(const char *text, size_t len, ingot_jsonc_keys *out);
/* Line of path, or 0 when unknown. */
int ingot_jsonc_line(const ingot_jsonc_keys *keys, const char *path);
void ingot_jsonc_keys_free(ingot_jsonc_keys *keys);
#endif
