/* Internal: turns the bytes of generated tokens into the pieces the user's
 * callback receives. Holds back (a) the tail of an incomplete UTF-8
 * character and (b) any tail that could be the start of a stop string, so
 * that a callback never sees half a character nor any part of a stop
 * string, even when tokens split them. */
#ifndef INGOT_GENERATE_STREAM_H
#define INGOT_GENERATE_STREAM_H
#include "ingot.h"

typedef struct ingot_textstream {
    char *pend; /* bytes received but not yet emitted */
    size_t len, cap;
    char *out;  /* scratch for one emitted piece */
    size_t out_cap;
    const char *const *stop;
    size_t *stop_len;
    int32_t n_stop;
    ingot_piece_fn fn;
    void *user;
    bool stopped;   /* a stop string matched: everything after it is dropped */
    bool cancelled; /* the callback returned false */
    size_t emitted; /* bytes handed to the callback so far */
} ingot_textstream;

/* stop (n_stop strings, empty ones ignored) must outlive the stream. */
ingot_status ingot_textstream_init(ingot_textstream *ts, const char *const *stop, int32_t n_stop,
                                   ingot_piece_fn fn, void *user, ingot_error *err);
void ingot_textstream_free(ingot_textstream *ts);
/* Adds the bytes of one token and emits what is safe. Returns
 * INGOT_E_CANCELLED once the callback refuses, INGOT_E_NOMEM; ts->stopped
 * tells that a stop string was found (the text before it was emitted). */
ingot_status ingot_textstream_push(ingot_textstream *ts, const char *bytes, size_t n, ingot_error *err);
/* End of generation: emits everything still held (a stop-string prefix
 * that never completed is ordinary text; a cut character becomes U+FFFD). */
ingot_status ingot_textstream_finish(ingot_textstream *ts, ingot_error *err);

/* Validates one UTF-8 sequence at s[0..n): returns 1 (valid, *len bytes),
 * 0 (a valid but incomplete start: more bytes needed) or -1 (invalid; *len
 * = the maximal ill-formed subpart, to be replaced by one U+FFFD). */
int ingot_utf8_check(const unsigned char *s, size_t n, size_t *len);
#endif
