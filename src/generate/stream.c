/* Owns streaming of generated text: UTF-8 validation with U+FFFD
 * replacement (maximal-subpart rule of the Unicode standard), the
 * holdback that keeps a callback from seeing a split character, and the
 * stop-string matcher that works across token boundaries. */
#include "generate/stream.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"

int ingot_utf8_check(const unsigned char *s, size_t n, size_t *len) {
    unsigned char b = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */
    if (b < 0x80) { *len = 1; return 1; }
    if (b >= 0xC2 && b <= 0xDF) need = 2;
    else if (b >= 0xE0 && b <= 0xEF) {
        need = 3;
        if (b == 0xE0) lo = 0xA0;      /* no overlongs */
        else if (b == 0xED) hi = 0x9F; /* no surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 4;
        if (b == 0xF0) lo = 0x90;
        else if (b == 0xF4) hi = 0x8F; /* <= U+10FFFF */
    } else {
        *len = 1;
        return -1;
    }
    for (size_t i = 1; i < need; i++) {
        if (i >= n) { *len = i; return 0; }
        unsigned char c = s[i];
        unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
        if (c < l || c > h) { *len = i; return -1; }
    }
    *len = need;
    return 1;
}

ingot_status ingot_textstream_init(ingot_textstream *ts, const char *const *stop, int32_t n_stop,
                                   ingot_piece_fn fn, void *user, ingot_error *err) {
    memset(ts, 0, sizeof *ts);
    ts->fn = fn;
    ts->user = user;
    if (n_stop < 0 || (n_stop > 0 && !stop))
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "%d stop strings but no array", (int)n_stop);
    if (n_stop > 0) {
        ts->stop_len = malloc((size_t)n_stop * sizeof *ts->stop_len);
        if (!ts->stop_len) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        for (int32_t i = 0; i < n_stop; i++) ts->stop_len[i] = stop[i] ? strlen(stop[i]) : 0;
    }
    ts->stop = stop;
    ts->n_stop = n_stop;
    return INGOT_OK;
}

void ingot_textstream_free(ingot_textstream *ts) {
    if (!ts) return;
    free(ts->pend);
    free(ts->out);
    free(ts->stop_len);
    memset(ts, 0, sizeof *ts);
}

static bool reserve(char **p, size_t *cap, size_t need) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    char *q = realloc(*p, c);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

/* Sends pend[0..n) to the callback as valid UTF-8 and drops it from pend.
 * Invalid subparts (and, when final, a cut character) become U+FFFD. */
static ingot_status emit(ingot_textstream *ts, size_t n, ingot_error *err) {
    if (n == 0) return INGOT_OK;
    /* U+FFFD is 3 bytes and replaces at least 1: 3n bounds the output */
    if (!reserve(&ts->out, &ts->out_cap, 3 * n))
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    size_t o = 0, i = 0;
    const unsigned char *s = (const unsigned char *)ts->pend;
    while (i < n) {
        size_t l;
        int r = ingot_utf8_check(s + i, n - i, &l);
        if (r == 1) {
            memcpy(ts->out + o, s + i, l);
            o += l;
        } else {
            memcpy(ts->out + o, "\xEF\xBF\xBD", 3);
            o += 3;
        }
        i += l;
    }
    memmove(ts->pend, ts->pend + n, ts->len - n);
    ts->len -= n;
    ts->emitted += o;
    if (ts->fn && !ts->fn(ts->out, o, ts->user)) {
        ts->cancelled = true;
        return ingot_error_set(err, INGOT_E_CANCELLED, "cancelled by the callback");
    }
    return INGOT_OK;
}

/* Length of the longest tail of pend that is a proper prefix of a stop
 * string (a full match was ruled out before). */
static size_t stop_prefix_tail(const ingot_textstream *ts) {
    size_t best = 0;
    for (int32_t k = 0; k < ts->n_stop; k++) {
        size_t sl = ts->stop_len[k];
        size_t max = sl - (sl > 0);
        if (max > ts->len) max = ts->len;
        for (size_t t = max; t > best; t--)
            if (memcmp(ts->pend + ts->len - t, ts->stop[k], t) == 0) {
                best = t;
                break;
            }
    }
    return best;
}

ingot_status ingot_textstream_push(ingot_textstream *ts, const char *bytes, size_t n, ingot_error *err) {
    if (ts->cancelled) return ingot_error_set(err, INGOT_E_CANCELLED, "cancelled by the callback");
    if (ts->stopped || n == 0) return INGOT_OK;
    if (!reserve(&ts->pend, &ts->cap, ts->len + n))
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    memcpy(ts->pend + ts->len, bytes, n);
    ts->len += n;

    /* The earliest complete stop string ends the text. Only the held tail
     * plus the new bytes can contain it: everything emitted before was
     * checked not to start one. */
    size_t at = SIZE_MAX;
    for (int32_t k = 0; k < ts->n_stop; k++) {
        size_t sl = ts->stop_len[k];
        if (sl == 0 || sl > ts->len) continue;
        for (size_t i = 0; i + sl <= ts->len && i < at; i++)
            if (memcmp(ts->pend + i, ts->stop[k], sl) == 0) {
                at = i;
                break;
            }
    }
    if (at != SIZE_MAX) {
        ts->stopped = true;
        ts->len = at; /* drop the stop string and what follows */
        return emit(ts, at, err);
    }

    size_t safe = ts->len - stop_prefix_tail(ts);
    /* Do not cut a character that is still arriving. */
    size_t i = 0;
    const unsigned char *s = (const unsigned char *)ts->pend;
    while (i < safe) {
        size_t l;
        int r = ingot_utf8_check(s + i, ts->len - i, &l);
        if (r == 0 || i + l > safe) break;
        i += l;
    }
    return emit(ts, i, err);
}

ingot_status ingot_textstream_finish(ingot_textstream *ts, ingot_error *err) {
    if (ts->cancelled) return ingot_error_set(err, INGOT_E_CANCELLED, "cancelled by the callback");
    if (ts->stopped) return INGOT_OK;
    return emit(ts, ts->len, err);
}
