/* Internal: reading the replies of OpenAI-compatible and Ollama servers as
 * they arrive, in pieces cut anywhere (inside a line, a JSON string or a
 * UTF-8 character): server-sent events (OpenAI streaming), newline-
 * delimited JSON (Ollama streaming), or one whole JSON body (a server that
 * ignored "stream": true). Independent of the transport so that tests can
 * feed it any chunking. */
#ifndef INGOT_BACKEND_WIRE_H
#define INGOT_BACKEND_WIRE_H
#include "ingot.h"

typedef enum wire_format { WIRE_SSE, WIRE_NDJSON, WIRE_JSON } wire_format;

/* Receives generated text (whole JSON strings' contents: valid UTF-8). A
 * status other than INGOT_OK stops reading and is returned by wire_feed. */
typedef ingot_status (*wire_text_fn)(const char *s, size_t n, void *user, ingot_error *err);

typedef struct wire_reader {
    wire_format format;
    wire_text_fn on_text;
    void *user;
    char *line; /* bytes of the current line (WIRE_JSON: the whole body) */
    size_t len, cap;
    char *event; /* SSE: data lines of the current event, joined by \n */
    size_t elen, ecap;
    bool has_data;
    bool skip_lf; /* the last line ended with \r: a following \n belongs to it */
    /* what the reply said */
    bool done;               /* [DONE] (SSE) or "done": true (Ollama) */
    bool saw_finish;         /* a finish_reason / done_reason was given */
    ingot_finish_reason finish;
    int64_t prompt_tokens;   /* -1: not given */
    int64_t completion_tokens;
    int32_t n_deltas;        /* non-empty text pieces received */
    bool saw_event;          /* any event or line at all */
} wire_reader;

void wire_init(wire_reader *r, wire_format format, wire_text_fn on_text, void *user);
ingot_status wire_feed(wire_reader *r, const char *data, size_t n, ingot_error *err);
/* The body is complete: handles a last line without its newline (and the
 * whole body in WIRE_JSON). */
ingot_status wire_end(wire_reader *r, ingot_error *err);
void wire_free(wire_reader *r);

/* The message of an error body from either API ({"error": {"message": ...}},
 * {"error": "..."}, {"detail": ...}, {"message": ...}) or the text itself,
 * cut to fit. */
void wire_error_message(const char *body, size_t n, char *out, size_t cap);
#endif
