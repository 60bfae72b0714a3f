/* Minimal test harness for ingot's C tests: CHECK macros that record a
 * failure and go on, a fixtures locator that fails loudly when
 * ../shared/fixtures is missing, and helpers to read files. Each test
 * program ends with TEST_END(), printing "N passed, N failed". */
#ifndef INGOT_TEST_H
#define INGOT_TEST_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/stat.h>

static int test_passed_, test_failed_;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) { test_passed_++; }                                      \
        else {                                                             \
            test_failed_++;                                                \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__,         \
                    __LINE__, #cond);                                      \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

#define CHECK_INT_EQ(a, b)                                                 \
    do {                                                                   \
        long long a_ = (long long)(a), b_ = (long long)(b);                \
        CHECK(a_ == b_, "%s = %lld, expected %lld", #a, a_, b_);           \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                 \
    do {                                                                   \
        const char *a_ = (a), *b_ = (b);                                   \
        CHECK(a_ && b_ && strcmp(a_, b_) == 0, "%s = \"%s\", expected \"%s\"", \
              #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                 \
    } while (0)

#define TEST_END()                                                         \
    do {                                                                   \
        printf("%d passed, %d failed\n", test_passed_, test_failed_);      \
        return test_failed_ ? 1 : 0;                                       \
    } while (0)

/* Absolute path of a file under the shared fixtures; exits with a clear
 * message when the fixtures folder is not beside the repository. */
static inline const char *test_fixture(const char *rel) {
    static char buf[8][4096];
    static int slot;
    const char *root = getenv("INGOT_FIXTURES");
    if (!root || !*root) root = INGOT_FIXTURES;
    struct stat st;
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "fixtures not found at %s: the shared/ folder must sit "
                        "beside the repository (../shared/fixtures)\n", root);
        exit(2);
    }
    char *b = buf[slot++ & 7];
    snprintf(b, sizeof buf[0], "%s/%s", root, rel);
    return b;
}

/* Reads a whole file; returns NULL (and reports) on failure. Caller frees. */
static inline void *test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); return NULL; }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) { free(p); p = NULL; }
    fclose(f);
    if (p) { p[n] = 0; if (len) *len = (size_t)n; }
    return p;
}

/* A fresh temporary directory (mkdtemp); caller removes what it writes. */
static inline const char *test_tmpdir(void) {
    static char tmpl[64];
    strcpy(tmpl, "/tmp/ingot-test-XXXXXX");
    return mkdtemp(tmpl);
}
#endif
