/* String helpers shared by the filters and the Python str methods
 * (src/chat/filters.c, methods.c): Unicode case mapping, Python's strip and
 * split rules, code-point indexing and a few value-building shortcuts. */
#ifndef INGOT_CHAT_STRUTIL_H
#define INGOT_CHAT_STRUTIL_H
#include "chat/jinja.h"

typedef enum { JCASE_UPPER, JCASE_LOWER, JCASE_TITLE_PY, JCASE_TITLE_JINJA, JCASE_CAPITALIZE,
               JCASE_SWAP } jcase;
jv js_case(jctx *c, jv s, jcase mode);
/* Python str.strip/lstrip/rstrip: chars NULL = whitespace. which: 1 left, 2 right, 3 both. */
jv js_strip(jctx *c, jv s, const jv *chars, int which);
/* Python str.split/rsplit (sep NULL = whitespace runs); maxsplit < 0 = all. */
bool js_split(jctx *c, jv s, const jv *sep, int64_t maxsplit, bool from_right, jv *out);
bool js_splitlines(jctx *c, jv s, bool keepends, jv *out);
/* Python str.replace; count < 0 = all. */
jv js_replace(jctx *c, jv s, jv old, jv rep, int64_t count);
/* Byte offset of the code point index cp (clamped to the string). */
size_t js_cp_to_byte(jv s, int64_t cp);
int64_t js_byte_to_cp(jv s, size_t byte);
/* Concatenation of the str() of each item with sep in between. */
bool js_join(jctx *c, jlist *items, jv sep, jv *out);
bool js_is_word_cp(uint32_t cp);
jv js_tuple2(jctx *c, jv a, jv b);
/* Python's str.center / ljust / rjust with a fill character. */
jv js_pad(jctx *c, jv s, int64_t width, char align, jv fill);
#endif
