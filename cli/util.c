/* Owns argument parsing and output helpers shared by the subcommands. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_fail(int code, const char *cmd, const char *fmt, ...) {
    fprintf(stderr, "ingot %s: ", cmd);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

bool cli_parse_int(const char *cmd, const char *flag, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno) {
        cli_fail(2, cmd, "%s expects an integer, got '%s'", flag, s);
        return false;
    }
    if (v < lo || v > hi) {
        cli_fail(2, cmd, "%s must be between %ld and %ld, got %ld", flag, lo, hi, v);
        return false;
    }
    *out = v;
    return true;
}

bool cli_parse_float(const char *cmd, const char *flag, const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno) {
        cli_fail(2, cmd, "%s expects a number, got '%s'", flag, s);
        return false;
    }
    *out = v;
    return true;
}

bool cli_parse_int_list(const char *cmd, const char *flag, const char *s, int32_t **out, int32_t *n) {
    size_t cap = 16, cnt = 0;
    int32_t *v = malloc(cap * sizeof *v);
    if (!v) return false;
    const char *p = s;
    while (*p) {
        while (*p == ' ') p++;
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno || x < 0 || x > INT32_MAX) {
            cli_fail(2, cmd, "%s expects comma-separated non-negative integers, got '%s'", flag, s);
            free(v);
            return false;
        }
        if (cnt == cap) {
            int32_t *nv = realloc(v, (cap *= 2) * sizeof *v);
            if (!nv) { free(v); return false; }
            v = nv;
        }
        v[cnt++] = (int32_t)x;
        p = end;
        while (*p == ' ') p++;
        if (*p == ',') {
            p++;
            if (!*p) break;
        } else if (*p) {
            cli_fail(2, cmd, "%s: unexpected '%c' in '%s'", flag, *p, s);
            free(v);
            return false;
        }
    }
    if (cnt == 0) {
        cli_fail(2, cmd, "%s needs at least one id", flag);
        free(v);
        return false;
    }
    *out = v;
    *n = (int32_t)cnt;
    return true;
}

bool cli_flag_value(int argc, char **argv, int *i, const char *flag, const char **val, bool *bad,
                    const char *cmd) {
    const char *a = argv[*i];
    size_t fl = strlen(flag);
    if (strncmp(a, flag, fl) != 0) return false;
    if (a[fl] == '=') {
        *val = a + fl + 1;
        return true;
    }
    if (a[fl] != 0) return false;
    if (*i + 1 >= argc) {
        cli_fail(2, cmd, "%s needs a value", flag);
        *bad = true;
        *val = NULL;
        return true;
    }
    *val = argv[++*i];
    return true;
}

void cli_json_str(FILE *f, const char *s, size_t len) {
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (c < 0x20) fprintf(f, "\\u%04x", c);
            else fputc(c, f);
        }
    }
    fputc('"', f);
}

char *cli_read_all(FILE *f, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
        }
    }
    if (!buf) return NULL;
    if (ferror(f)) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

char *cli_read_path(const char *path, size_t *len) {
    if (!strcmp(path, "-")) return cli_read_all(stdin, len);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *s = cli_read_all(f, len);
    fclose(f);
    return s;
}
