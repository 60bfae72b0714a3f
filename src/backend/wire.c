/* Owns the wire formats of remote replies (see wire.h): line splitting for
 * SSE and NDJSON with any chunking, SSE event assembly (data lines, comments,
 * [DONE]), and decoding each JSON event of either API into text, finish
 * reason and token counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "backend/wire.h"
#include "base/error.h"

/* A line or event longer than this is not a sane reply. */
#define WIRE_MAX_LINE (8u << 20)

void wire_init(wire_reader *r, wire_format format, wire_text_fn on_text, void *user) {
    memset(r, 0, sizeof *r);
    r->format = format;
    r->on_text = on_text;
    r->user = user;
    r->prompt_tokens = r->completion_tokens = -1;
}

void wire_free(wire_reader *r) {
    free(r->line);
    free(r->event);
    r->line = r->event = NULL;
}

static bool grow(char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    char *p = realloc(*buf, c);
    if (!p) return false;
    *buf = p;
    *cap = c;
    return true;
}

static void snippet(const char *s, size_t n, char *out, size_t cap) {
    size_t k = n < 80 ? n : 80;
    snprintf(out, cap, "%.*s%s", (int)k, s, n > k ? "..." : "");
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20) *p = ' ';
}

static ingot_finish_reason finish_of(const char *s) {
    if (!strcmp(s, "length")) return INGOT_FINISH_LENGTH;
    return INGOT_FINISH_STOP; /* "stop", "eos", "content_filter", "tool_calls"... */
}

static const char *error_text(json_t *e, char *buf, size_t cap) {
    if (json_is_string(e)) return json_string_value(e);
    json_t *m = json_object_get(e, "message");
    if (json_is_string(m)) return json_string_value(m);
    char *d = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(buf, cap, "%s", d ? d : "(unreadable error)");
    free(d);
    return buf;
}

static ingot_status emit(wire_reader *r, json_t *s, ingot_error *err) {
    if (!json_is_string(s)) return INGOT_OK;
    size_t n = json_string_length(s);
    if (n == 0) return INGOT_OK;
    r->n_deltas++;
    return r->on_text(json_string_value(s), n, r->user, err);
}

static void count(json_t *o, const char *key, int64_t *out) {
    json_t *v = json_object_get(o, key);
    if (json_is_integer(v) && json_integer_value(v) >= 0) *out = (int64_t)json_integer_value(v);
}

/* One JSON object of either API, streamed or whole. */
static ingot_status on_object(wire_reader *r, const char *text, size_t n, ingot_error *err) {
    json_error_t je;
    json_t *o = json_loadb(text, n, 0, &je);
    char snip[128];
    if (!o || !json_is_object(o)) {
        snippet(text, n, snip, sizeof snip);
        json_decref(o);
        return ingot_error_set(err, INGOT_E_FORMAT, "the server sent something that is not a JSON object (%s): %s",
                               o ? "not an object" : je.text, snip);
    }
    r->saw_event = true;
    ingot_status st = INGOT_OK;
    json_t *e = json_object_get(o, "error");
    if (e && !json_is_null(e)) {
        char buf[512];
        st = ingot_error_set(err, INGOT_E_UNAVAILABLE, "the server reported an error: %s", error_text(e, buf, sizeof buf));
        json_decref(o);
        return st;
    }
    /* OpenAI: choices[0].{delta.content | message.content | text, finish_reason} */
    json_t *choices = json_object_get(o, "choices");
    json_t *c0 = json_is_array(choices) ? json_array_get(choices, 0) : NULL;
    if (c0) {
        json_t *delta = json_object_get(c0, "delta"), *msg = json_object_get(c0, "message");
        if (delta) st = emit(r, json_object_get(delta, "content"), err);
        else if (msg) st = emit(r, json_object_get(msg, "content"), err);
        else st = emit(r, json_object_get(c0, "text"), err);
        json_t *fr = json_object_get(c0, "finish_reason");
        if (!st && json_is_string(fr)) {
            r->saw_finish = true;
            r->finish = finish_of(json_string_value(fr));
        }
    }
    json_t *usage = json_object_get(o, "usage");
    if (json_is_object(usage)) {
        count(usage, "prompt_tokens", &r->prompt_tokens);
        count(usage, "completion_tokens", &r->completion_tokens);
    }
    /* Ollama: message.content (chat) or response (generate), done, counts */
    if (!st && !choices) {
        json_t *msg = json_object_get(o, "message");
        if (json_is_object(msg)) st = emit(r, json_object_get(msg, "content"), err);
        else st = emit(r, json_object_get(o, "response"), err);
    }
    json_t *done = json_object_get(o, "done");
    if (!st && json_is_true(done)) {
        r->done = true;
        json_t *dr = json_object_get(o, "done_reason");
        r->saw_finish = true;
        r->finish = json_is_string(dr) ? finish_of(json_string_value(dr)) : INGOT_FINISH_STOP;
        count(o, "prompt_eval_count", &r->prompt_tokens);
        count(o, "eval_count", &r->completion_tokens);
    }
    if (!st && !choices && !json_object_get(o, "message") && !json_object_get(o, "response") && !done) {
        snippet(text, n, snip, sizeof snip);
        st = ingot_error_set(err, INGOT_E_FORMAT, "the server's reply has neither choices nor message nor response: %s",
                             snip);
    }
    json_decref(o);
    return st;
}

static ingot_status sse_dispatch(wire_reader *r, ingot_error *err) {
    if (!r->has_data) return INGOT_OK;
    r->has_data = false;
    size_t n = r->elen;
    r->elen = 0;
    if (n == 6 && !memcmp(r->event, "[DONE]", 6)) {
        r->done = true;
        r->saw_event = true;
        return INGOT_OK;
    }
    return on_object(r, r->event, n, err);
}

static ingot_status sse_line(wire_reader *r, const char *s, size_t n, ingot_error *err) {
    if (n == 0) return sse_dispatch(r, err);
    if (s[0] == ':') return INGOT_OK; /* comment (keep-alive) */
    const char *colon = memchr(s, ':', n);
    size_t flen = colon ? (size_t)(colon - s) : n;
    const char *v = colon ? colon + 1 : s + n;
    size_t vlen = colon ? n - flen - 1 : 0;
    if (vlen && *v == ' ') v++, vlen--;
    if (flen != 4 || memcmp(s, "data", 4)) return INGOT_OK; /* event:, id:, retry: */
    if (!grow(&r->event, &r->ecap, r->elen + vlen + 2))
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    if (r->has_data) r->event[r->elen++] = '\n';
    memcpy(r->event + r->elen, v, vlen);
    r->elen += vlen;
    r->event[r->elen] = 0;
    r->has_data = true;
    if (r->elen > WIRE_MAX_LINE)
        return ingot_error_set(err, INGOT_E_FORMAT, "the server sent an event longer than %u bytes", WIRE_MAX_LINE);
    return INGOT_OK;
}

static ingot_status line_done(wire_reader *r, ingot_error *err) {
    size_t n = r->len;
    r->len = 0;
    if (r->format == WIRE_SSE) return sse_line(r, r->line, n, err);
    /* NDJSON: blank lines are allowed between objects */
    size_t i = 0;
    while (i < n && (r->line[i] == ' ' || r->line[i] == '\t' || r->line[i] == '\r')) i++;
    if (i == n) return INGOT_OK;
    return on_object(r, r->line, n, err);
}

ingot_status wire_feed(wire_reader *r, const char *data, size_t n, ingot_error *err) {
    if (r->format == WIRE_JSON) {
        if (r->len + n > WIRE_MAX_LINE)
            return ingot_error_set(err, INGOT_E_FORMAT, "the server's reply is longer than %u bytes", WIRE_MAX_LINE);
        if (!grow(&r->line, &r->cap, r->len + n + 1)) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        memcpy(r->line + r->len, data, n);
        r->len += n;
        return INGOT_OK;
    }
    for (size_t i = 0; i < n; i++) {
        if (r->done && r->format == WIRE_SSE) return INGOT_OK; /* nothing after [DONE] matters */
        char c = data[i];
        if (r->skip_lf) {
            r->skip_lf = false;
            if (c == '\n') continue;
        }
        /* SSE ends lines with \n, \r\n or \r; NDJSON with \n (a \r before it is trimmed as space) */
        if (c == '\n' || (c == '\r' && r->format == WIRE_SSE)) {
            r->skip_lf = c == '\r';
            ingot_status st = line_done(r, err);
            if (st) return st;
            continue;
        }
        if (r->len >= WIRE_MAX_LINE)
            return ingot_error_set(err, INGOT_E_FORMAT, "the server sent a line longer than %u bytes", WIRE_MAX_LINE);
        if (!grow(&r->line, &r->cap, r->len + 2)) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
        r->line[r->len++] = c;
    }
    return INGOT_OK;
}

ingot_status wire_end(wire_reader *r, ingot_error *err) {
    if (r->format == WIRE_JSON) {
        if (r->len == 0) return ingot_error_set(err, INGOT_E_FORMAT, "the server's reply was empty");
        ingot_status st = on_object(r, r->line, r->len, err);
        r->len = 0;
        if (!st) r->done = true;
        return st;
    }
    ingot_status st = INGOT_OK;
    if (r->len && !(r->done && r->format == WIRE_SSE)) st = line_done(r, err);
    if (!st && r->format == WIRE_SSE) st = sse_dispatch(r, err); /* an event without its blank line */
    return st;
}

void wire_error_message(const char *body, size_t n, char *out, size_t cap) {
    out[0] = 0;
    if (!body || n == 0) return;
    json_t *o = json_loadb(body, n, 0, NULL);
    if (json_is_object(o)) {
        const char *keys[] = {"error", "detail", "message"};
        for (size_t i = 0; i < 3 && !out[0]; i++) {
            json_t *e = json_object_get(o, keys[i]);
            if (!e) continue;
            char buf[512];
            snprintf(out, cap, "%s", error_text(e, buf, sizeof buf));
        }
    }
    json_decref(o);
    if (!out[0]) {
        size_t k = n < 300 ? n : 300;
        snprintf(out, cap, "%.*s", (int)k, body);
        for (char *p = out; *p; p++)
            if ((unsigned char)*p < 0x20) *p = ' ';
    }
}
