/* Internal: what every backend implements (a table of functions, the
 * "interface" of DESIGN.md) and the state the dispatch layer keeps for all
 * of them: name, loaded model, last error. backend.c owns the public entry
 * points and calls through the table; cpu.c, mlx.c and remote.c each fill
 * one table. */
#ifndef INGOT_BACKEND_BACKEND_H
#define INGOT_BACKEND_BACKEND_H
#include "ingot.h"

typedef struct ingot_backend_ops {
    bool (*is_available)(ingot_backend *b, char *reason, size_t cap);
    /* Returns the model's canonical name (malloc'ed) in *name. */
    ingot_status (*load)(ingot_backend *b, const char *model, char **name, ingot_error *err);
    ingot_status (*generate)(ingot_backend *b, const ingot_generate_params *p, ingot_piece_fn fn, void *user,
                             ingot_metrics *m, ingot_error *err);
    void (*reset)(ingot_backend *b);
    void (*unload)(ingot_backend *b);
    ingot_status (*list_models)(ingot_backend *b, bool (*fn)(const char *id, void *user), void *user,
                                ingot_error *err);
    void (*destroy)(ingot_backend *b); /* frees impl */
} ingot_backend_ops;

struct ingot_backend {
    const ingot_backend_ops *ops;
    ingot_backend_kind kind;
    char name[64];
    char *model; /* loaded model, or NULL */
    void *impl;
    ingot_error err;
};

/* Allocates the common part; impl is the backend's own state. */
ingot_status ingot_backend_alloc(const ingot_backend_ops *ops, ingot_backend_kind kind, const char *name,
                                 void *impl, ingot_backend **out, ingot_error *err);
/* A metrics record of a generation that did not start. */
void ingot_backend_metrics_none(ingot_metrics *m);

/* Why MLX cannot run on pf, or NULL when it can. */
const char *ingot_mlx_unavailable_reason(const ingot_platform *pf, char *buf, size_t cap);
#endif
