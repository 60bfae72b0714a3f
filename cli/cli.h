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
int cmd_run(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_config(int argc, char **argv);
/* `ingot bench --backends LIST ...` (cli/bench_backends.c): cmd_bench hands
 * it the whole argv (argv[0] = "bench") when --backends is given. */
int cli_bench_backends(int argc, char **argv);
/* Settings for a command (cli/cmd_config.c): the config file (path, or the
 * default one when NULL) and the environment; also points the library's log
 * at stderr at log.level. Returns the exit code (0 ok; the message, which
 * names key, value and file:line or variable, is printed). */
int cli_config_load(const char *cmd, const char *path, ingot_config **out);
void cli_log_stderr(ingot_log_level level, const char *msg, void *user);
/* For -m REF: the local path of a hub reference or catalog alias, pulled on
 * first use with a progress bar when stderr is a terminal (cli/cmd_pull.c).
 * Returns the exit code (0 ok; the message is printed); *path_out is
 * malloc'ed. Use it when ingot_hub_is_reference(arg). */
int cli_hub_resolve(const char *cmd, const char *ref, char **path_out);
/* "1.19 MB" (decimal units, as the hub shows sizes). */
void cli_human_size(uint64_t bytes, char *buf, size_t n);

/* Generation flags shared by `run` and `chat` (cli/cmd_run.c). */
typedef struct cli_gen_opts {
    const char *model;
    ingot_session_params sp;
    ingot_generate_params gp; /* stop and logit_bias point into the arrays below */
    const char **stop;
    int32_t n_stop;
    ingot_logit_bias *bias;
    int32_t n_bias;
    const char *template_file;
    char *template_src;
    ingot_config *cfg;      /* settings: defaults < file < environment < flags */
    char *resolved;         /* local path of a hub reference */
    ingot_backend_report report;
    bool verbose;           /* report each backend attempt on stderr */
} cli_gen_opts;
extern const char *CLI_GEN_USAGE; /* the help lines of those flags */
void cli_gen_opts_init(cli_gen_opts *o);
/* Loads the configuration (--config FILE if argv has one, else the default
 * file, then the environment) and applies it to the options, so that the
 * flags parsed afterwards win. Returns the exit code (0 ok). */
int cli_gen_opts_config(cli_gen_opts *o, const char *cmd, int argc, char **argv);
/* Start of `run` and `chat`: prints the help (usage is a format with one
 * %s for CLI_GEN_USAGE) and sets *exit_now when argv asks for it, else
 * loads the configuration. Returns the exit code (0: go on). */
int cli_gen_start(cli_gen_opts *o, const char *cmd, const char *usage, int argc, char **argv, bool *exit_now);
void cli_gen_opts_free(cli_gen_opts *o);
/* 1: argv[*i] was a generation flag (consumed), 0: not one, -1: bad value
 * (reported on stderr; exit 2). */
int cli_gen_opts_parse(cli_gen_opts *o, const char *cmd, int argc, char **argv, int *i);
/* Reads --chat-template, resolves a hub reference (pulling it with a
 * progress bar), then picks a backend and loads the model through the
 * configured fallback chain; returns the exit code (0 ok; the message,
 * with every attempt, is printed). */
int cli_gen_open(cli_gen_opts *o, const char *cmd, ingot_backend **out);
void cli_print_metrics(FILE *f, const ingot_metrics *m);
void cli_json_metrics(FILE *f, const ingot_metrics *m);

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
/* Reads a whole stream (NUL-terminated, malloc'ed; *len may be NULL);
 * NULL on a read error or out of memory. cli_read_path: "-" is stdin;
 * NULL (errno set) when the file cannot be opened. */
char *cli_read_all(FILE *f, size_t *len);
char *cli_read_path(const char *path, size_t *len);
/* Writes a JSON string literal (quoted, escaped) of s[0..len). */
void cli_json_str(FILE *f, const char *s, size_t len);
#endif
