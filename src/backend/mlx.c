/* Owns the `mlx` backend's place in the registry. Apple's MLX runs only on
 * macOS on Apple Silicon, and no build of ingot contains an MLX engine yet,
 * so this backend always reports itself unavailable, with the reason that
 * applies to the platform it is asked about; it never pretends to run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "base/error.h"

typedef struct mlx_state {
    ingot_platform pf;
} mlx_state;

const char *ingot_mlx_unavailable_reason(const ingot_platform *pf, char *buf, size_t cap) {
    if (!strcmp(pf->os, "macos") && pf->apple_silicon) {
        if (pf->mlx_engine) return NULL;
        snprintf(buf, cap, "this build of ingot has no MLX engine (MLX-format models run on the cpu backend "
                           "once it reads them)");
    } else if (!strcmp(pf->os, "macos")) {
        snprintf(buf, cap, "MLX needs Apple Silicon; this Mac is %s", pf->arch);
    } else {
        snprintf(buf, cap, "MLX runs only on macOS on Apple Silicon; this is %s %s", pf->os, pf->arch);
    }
    return buf;
}

static bool mlx_is_available(ingot_backend *b, char *reason, size_t cap) {
    mlx_state *s = b->impl;
    if (!ingot_mlx_unavailable_reason(&s->pf, reason, cap)) {
        snprintf(reason, cap, "Apple MLX on %s %s", s->pf.os, s->pf.arch);
        return true;
    }
    return false;
}

static ingot_status mlx_refuse(ingot_backend *b, ingot_error *err) {
    mlx_state *s = b->impl;
    char why[256];
    if (!ingot_mlx_unavailable_reason(&s->pf, why, sizeof why))
        snprintf(why, sizeof why, "this build of ingot has no MLX engine");
    return ingot_error_set(err, INGOT_E_UNAVAILABLE, "mlx backend unavailable: %s", why);
}

static ingot_status mlx_load(ingot_backend *b, const char *model, char **name, ingot_error *err) {
    (void)model;
    (void)name;
    return mlx_refuse(b, err);
}

static ingot_status mlx_generate(ingot_backend *b, const ingot_generate_params *p, ingot_piece_fn fn, void *user,
                                 ingot_metrics *m, ingot_error *err) {
    (void)p, (void)fn, (void)user, (void)m;
    return mlx_refuse(b, err);
}

static void mlx_noop(ingot_backend *b) { (void)b; }

static ingot_status mlx_list(ingot_backend *b, bool (*fn)(const char *, void *), void *user, ingot_error *err) {
    (void)b, (void)fn, (void)user, (void)err;
    return INGOT_OK;
}

static void mlx_destroy(ingot_backend *b) { free(b->impl); }

static const ingot_backend_ops MLX_OPS = {mlx_is_available, mlx_load, mlx_generate, mlx_noop,
                                          mlx_noop,         mlx_list, mlx_destroy};

ingot_status ingot_backend_new_mlx(const ingot_platform *pf, ingot_backend **out, ingot_error *err) {
    *out = NULL;
    mlx_state *s = calloc(1, sizeof *s);
    if (!s) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    if (pf) s->pf = *pf;
    else ingot_platform_detect(&s->pf);
    ingot_status st = ingot_backend_alloc(&MLX_OPS, INGOT_BACKEND_MLX, "mlx", s, out, err);
    if (st) free(s);
    return st;
}
