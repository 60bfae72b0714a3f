/* Shared helpers for the `ingot` subcommands (one file per subcommand,
 * cli/cmd_NAME.c, each using only the public header). Exit codes: 0 ok,
 * 1 the work failed (bad model file, template error...), 2 bad usage. */
#ifndef INGOT_CLI_H
#define INGOT_CLI_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ingot.h"

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
} cli_command;

/* Subcommands (cli/cmd_*.c). */
int cmd_eval(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_template(int argc, char **argv);

/* Prints "ingot CMD: message" to stderr; returns the exit code given. */
int cli_fail(int code, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Parses a comma-separated list of integers. *out is malloc'ed (caller frees).
 * Returns false with a message on stderr if malformed. */
bool cli_parse_int_list(const char *cmd, const char *flag, const char *s, int32_t **out, int32_t *n);
/* Parses an integer flag value in [lo, hi]; false (with message) otherwise. */
bool cli_parse_int(const char *cmd, const char *flag, const char *s, long lo, long hi, long *out);
bool cli_parse_float(const char *cmd, const char *flag, const char *s, double *out);
/* True if argv[*i] is `flag` (then *val = next arg, *i advanced; a missing
 * value is reported and sets *bad) or `flag=VALUE`. */
bool cli_flag_value(int argc, char **argv, int *i, const char *flag, const char **val, bool *bad,
                    const char *cmd);
/* Writes a JSON string literal (quoted, escaped) of s[0..len). */
void cli_json_str(FILE *f, const char *s, size_t len);
#endif
