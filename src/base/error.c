/* Owns status names, error messages and the log sink. */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *ingot_status_str(ingot_status s) {
    switch (s) {
    case INGOT_OK: return "ok";
    case INGOT_E_INVALID_ARG: return "invalid argument";
    case INGOT_E_IO: return "I/O error";
    case INGOT_E_FORMAT: return "format error";
    case INGOT_E_UNSUPPORTED: return "unsupported";
    case INGOT_E_NOMEM: return "out of memory";
    case INGOT_E_NOT_FOUND: return "not found";
    case INGOT_E_RANGE: return "out of range";
    case INGOT_E_CANCELLED: return "cancelled";
    case INGOT_E_CONTEXT_FULL: return "context full";
    case INGOT_E_TEMPLATE: return "template error";
    case INGOT_E_NETWORK: return "network error";
    case INGOT_E_AUTH: return "authorization error";
    case INGOT_E_UNAVAILABLE: return "unavailable";
    case INGOT_E_INTERNAL: return "internal error";
    }
    return "unknown status";
}

const char *ingot_version(void) { return INGOT_VERSION; }

ingot_status ingot_error_set(ingot_error *err, ingot_status s, const char *fmt, ...) {
    if (err) {
        err->status = s;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return s;
}

void ingot_error_prefix(ingot_error *err, const char *fmt, ...) {
    if (!err) return;
    char pre[512], old[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    snprintf(err->message, sizeof err->message, "%s: %s", pre, old);
}

void ingot_error_clear(ingot_error *err) {
    if (err) { err->status = INGOT_OK; err->message[0] = 0; }
}

/* The sink is process-wide configuration set once by the embedding program
 * (like a signal handler), not state that the library mutates. */
static ingot_log_fn log_fn;
static void *log_user;
static ingot_log_level log_max = INGOT_LOG_WARN;

void ingot_log_set(ingot_log_fn fn, void *user, ingot_log_level max_level) {
    log_fn = fn;
    log_user = user;
    log_max = max_level;
}

void ingot_log(ingot_log_level level, const char *fmt, ...) {
    if (!log_fn || level > log_max) return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_fn(level, buf, log_user);
}
