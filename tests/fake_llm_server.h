/* A fake OpenAI + Ollama server on 127.0.0.1 for the remote backend tests
 * (see fake_llm_server.c for what it serves and which faults the model name
 * asks for). */
#ifndef FAKE_LLM_SERVER_H
#define FAKE_LLM_SERVER_H
#include <stdbool.h>
#include <stddef.h>

typedef struct fake_server_opts {
    const char *api_key; /* require "Authorization: Bearer KEY" (NULL: none) */
    int chunk_size;      /* bytes per body write (0: 5) */
} fake_server_opts;

typedef struct fake_server fake_server;

/* The reply text every generation streams, and how many events it is cut into. */
extern const char FAKE_REPLY[];
int fake_reply_tokens(void);

fake_server *fake_server_start(const fake_server_opts *opts);
int fake_server_port(const fake_server *s);
/* The last request's path, body (malloc'ed; free it) and Authorization header. */
void fake_server_last(fake_server *s, char *path, size_t np, char **body, char *auth, size_t na);
int fake_server_requests(fake_server *s);
/* Wakes stalled replies and stops. */
void fake_server_stop(fake_server *s);
#endif
