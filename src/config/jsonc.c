/* Owns the comment stripping and the key-to-line index of config files (see
 * jsonc.h). Parsing proper is jansson's job; this only scans tokens far
 * enough to know strings, nesting and which string is a key. */
#include "config/jsonc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int ingot_jsonc_strip(char *t, size_t len) {
    int line = 1;
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '\n') {
            line++;
        } else if (t[i] == '"') {
            for (i++; i < len && t[i] != '"'; i++) {
                if (t[i] == '\\' && i + 1 < len) i++;
                else if (t[i] == '\n') line++; /* invalid JSON; the parser says so */
            }
        } else if (t[i] == '/' && i + 1 < len && t[i + 1] == '/') {
            while (i < len && t[i] != '\n') t[i++] = ' ';
            i--; /* let the loop see the newline */
        } else if (t[i] == '/' && i + 1 < len && t[i + 1] == '*') {
            int start = line;
            t[i++] = ' ';
            t[i++] = ' ';
            while (i < len && !(t[i] == '*' && i + 1 < len && t[i + 1] == '/')) {
                if (t[i] == '\n') line++;
                else t[i] = ' ';
                i++;
            }
            if (i >= len) return start;
            t[i++] = ' ';
            t[i] = ' ';
        }
    }
    return 0;
}

static bool keys_add(ingot_jsonc_keys *k, const char *path, size_t n, int line) {
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 32;
        void *v = realloc(k->v, cap * sizeof *k->v);
        if (!v) return false;
        k->v = v;
        k->cap = cap;
    }
    char *p = malloc(n + 1);
    if (!p) return false;
    memcpy(p, path, n);
    p[n] = 0;
    k->v[k->n].path = p;
    k->v[k->n].line = line;
    k->n++;
    return true;
}

/* Frames of the nesting stack: whether it is an object, and where the
 * path stood before the frame's current key was appended. */
#define JSONC_MAX_DEPTH 64

int ingot_jsonc_index(const char *t, size_t len, ingot_jsonc_keys *out) {
    memset(out, 0, sizeof *out);
    char path[1024];
    size_t plen = 0;
    bool is_obj[JSONC_MAX_DEPTH];
    size_t base[JSONC_MAX_DEPTH];
    int depth = 0, line = 1;
    bool expect_key = false;
    for (size_t i = 0; i < len; i++) {
        char c = t[i];
        if (c == '\n') {
            line++;
        } else if (c == '{' || c == '[') {
            if (depth == JSONC_MAX_DEPTH) return 1; /* deeper than any config; the parser decides */
            is_obj[depth] = c == '{';
            base[depth] = plen;
            depth++;
            expect_key = c == '{';
        } else if (c == '}' || c == ']') {
            if (depth == 0) return 1;
            depth--;
            plen = base[depth];
            /* the key that held this value ends with it */
            if (depth > 0 && is_obj[depth - 1]) plen = base[depth - 1];
            expect_key = false;
        } else if (c == ',') {
            if (depth > 0 && is_obj[depth - 1]) {
                plen = base[depth - 1];
                expect_key = true;
            }
        } else if (c == '"') {
            size_t start = ++i;
            while (i < len && t[i] != '"') {
                if (t[i] == '\\' && i + 1 < len) i++;
                i++;
            }
            if (expect_key && depth > 0 && is_obj[depth - 1]) {
                size_t n = i - start, need = plen + (plen ? 1 : 0) + n;
                if (need < sizeof path) {
                    /* escapes are kept as written: config keys never need them */
                    if (plen) path[plen++] = '.';
                    memcpy(path + plen, t + start, n);
                    plen += n;
                    if (!keys_add(out, path, plen, line)) return 0;
                }
                expect_key = false;
            }
        }
    }
    return 1;
}

int ingot_jsonc_line(const ingot_jsonc_keys *k, const char *path) {
    for (size_t i = 0; i < k->n; i++)
        if (!strcmp(k->v[i].path, path)) return k->v[i].line;
    return 0;
}

void ingot_jsonc_keys_free(ingot_jsonc_keys *k) {
    for (size_t i = 0; i < k->n; i++) free(k->v[i].path);
    free(k->v);
    memset(k, 0, sizeof *k);
}
