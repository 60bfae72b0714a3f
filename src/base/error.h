/* Error reporting inside the library: every fallible internal function takes
 * an ingot_error* (may be NULL) and returns the status it set. */
#ifndef INGOT_BASE_ERROR_H
#define INGOT_BASE_ERROR_H
#include "ingot.h"

#if defined(__GNUC__)
#define INGOT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define INGOT_PRINTF(a, b)
#endif

/* Sets err (if non-NULL) to status s with a printf-style message; returns s. */
ingot_status ingot_error_set(ingot_error *err, ingot_status s, const char *fmt, ...)
    INGOT_PRINTF(3, 4);
/* Prefixes the existing message with "prefix: " (keeps the status). */
void ingot_error_prefix(ingot_error *err, const char *fmt, ...) INGOT_PRINTF(2, 3);
void ingot_error_clear(ingot_error *err);

/* Logging through the user's sink (see ingot_log_set). */
void ingot_log(ingot_log_level level, const char *fmt, ...) INGOT_PRINTF(2, 3);
#endif
