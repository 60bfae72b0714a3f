/* Internal: the settings table and the config object, shared by the files
 * of the config layer (config.c: layers and reads; config_text.c: the
 * documented default file). */
#ifndef INGOT_CONFIG_INTERNAL_H
#define INGOT_CONFIG_INTERNAL_H
#include "ingot.h"

typedef enum cfg_type { CFG_STR, CFG_INT, CFG_FLOAT, CFG_BOOL, CFG_LIST } cfg_type;

enum {
    CFG_SECRET = 1,          /* never shown */
    CFG_CHECK_BACKEND = 2,   /* a strategy or a remote's name (checked once all remotes are known) */
    CFG_CHECK_FALLBACK = 4,  /* backend names */
    CFG_CHECK_POSITIVE = 8,  /* > lo rather than >= lo */
    CFG_CHECK_URL = 16       /* http:// or https:// with a host */
};

typedef struct cfg_spec {
    const char *key;   /* full key, or the field name for remotes.NAME.* */
    cfg_type type;
    const char *def;   /* default, as text */
    const char *env;   /* environment variable, or NULL */
    double lo, hi;     /* range of INT and FLOAT */
    const char *const *choices; /* allowed strings, NULL-terminated, or NULL */
    int flags;
    const char *help;
} cfg_spec;

typedef struct cfg_entry {
    char *key;
    const cfg_spec *spec;
    char *text; /* canonical text of the value */
    int64_t i;
    double f;
    bool b;
    char **list;
    int32_t n_list;
    ingot_config_source source;
    char *origin;
    char *env;
} cfg_entry;

struct ingot_config {
    cfg_entry *e;
    size_t n, cap;
    char *file;     /* the file loaded, or NULL */
    char **remotes; /* names, sorted */
    int32_t n_remotes;
};

/* A parsed value before it replaces an entry's. */
typedef struct cfg_value {
    char *text;
    int64_t i;
    double f;
    bool b;
    char **list;
    int32_t n_list;
} cfg_value;

/* Where a value came from, for messages. */
typedef struct cfg_where {
    ingot_config_source source;
    const char *origin; /* as stored: "FILE:LINE", "VAR", "--flag" */
} cfg_where;

char *cfg_strdup(const char *s);
void cfg_value_free(cfg_value *v);
/* "FILE:LINE", "environment variable X" or the flag. */
void cfg_where_text(const cfg_where *w, char *buf, size_t n);
/* "WHERE: KEY = SHOWN: WHY" as an INGOT_E_RANGE. */
ingot_status cfg_bad_value(ingot_error *err, const cfg_where *w, const char *key, const char *shown,
                           const char *why);
const char *cfg_type_name(cfg_type t);
bool cfg_remote_name_ok(const char *s, size_t n);
/* Parse as the spec's type and check range and choices. */
ingot_status cfg_parse_text(const cfg_spec *sp, const char *key, const char *s, const cfg_where *w,
                            cfg_value *v, ingot_error *err);
struct json_t;
ingot_status cfg_parse_json(const cfg_spec *sp, const char *key, struct json_t *j, const cfg_where *w,
                            cfg_value *v, ingot_error *err);
/* Moves v into e with its origin. */
ingot_status cfg_entry_assign(cfg_entry *e, cfg_value *v, const cfg_where *w, ingot_error *err);
void cfg_entry_clear_value(cfg_entry *e);

cfg_entry *ingot_config_find(const ingot_config *cfg, const char *key);
bool ingot_config_has_remote(const ingot_config *cfg, const char *name);
ingot_config *ingot_config_clone(const ingot_config *cfg);
void ingot_config_swap(ingot_config *a, ingot_config *b);
/* name's value in envp ("NAME=value" strings; NULL: getenv), or NULL. */
const char *ingot_config_env(const char *const *envp, const char *name);
/* The table, for the default file's text. */
const cfg_spec *ingot_config_specs(size_t *n);
#endif
