/* Tokenizer benchmark (not a test): for each Hugging Face tokenizer in the
 * fixtures, the time to load it and the single-thread encoding speed on
 * 1 MiB of mixed text (the strings of tokenizers/corpus.json — English,
 * code, CJK, other scripts, emoji — repeated), plus decoding speed.
 * Usage: tokenizer_bench [FIXTURES_DIR] [MIB] */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingot.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *mixed_text(const char *fixtures, size_t want, size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizers/corpus.json", fixtures);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) {
        fprintf(stderr, "%s: %s\n", path, je.text);
        return NULL;
    }
    char *buf = malloc(want + 4096);
    size_t n = 0;
    while (buf && n < want) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) {
            size_t l = json_string_length(v);
            if (n + l + 1 > want) break;
            memcpy(buf + n, json_string_value(v), l);
            n += l;
            buf[n++] = '\n';
        }
        if (n + 1 >= want || json_array_size(j) == 0) break;
    }
    json_decref(j);
    if (buf) buf[n] = 0;
    *len = n;
    return buf;
}

int main(int argc, char **argv) {
    const char *fx = argc > 1 ? argv[1] : INGOT_FIXTURES;
    size_t mib = argc > 2 ? (size_t)atoi(argv[2]) : 1;
    size_t len = 0;
    char *text = mixed_text(fx, (mib ? mib : 1) << 20, &len);
    if (!text) return 1;
    static const char *const names[] = {"qwen3/tokenizer.json", "llama3/tokenizer.json", "gemma3/tokenizer.json",
                                        "llama2/tokenizer.json", "qwen2.5"};
    printf("%-24s %10s %12s %12s %10s\n", "tokenizer", "load ms", "encode MB/s", "decode MB/s", "tokens");
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/tokenizers/hf/%s", fx, names[k]);
        double best_load = 1e30;
        ingot_tokenizer *t = NULL;
        for (int rep = 0; rep < 3; rep++) {
            ingot_error err = {0};
            ingot_tokenizer_free(t);
            t = NULL;
            double t0 = now_ms();
            if (ingot_tokenizer_load(path, &t, &err) != INGOT_OK) {
                fprintf(stderr, "%s: %s\n", path, err.message);
                break;
            }
            double dt = now_ms() - t0;
            if (dt < best_load) best_load = dt;
        }
        if (!t) continue;
        double best_enc = 1e30, best_dec = 1e30;
        int32_t n = 0;
        for (int rep = 0; rep < 3; rep++) {
            int32_t *ids = NULL;
            double t0 = now_ms();
            if (ingot_tokenize(t, text, len, false, true, &ids, &n, NULL) != INGOT_OK) break;
            double dt = now_ms() - t0;
            if (dt < best_enc) best_enc = dt;
            char *out = NULL;
            t0 = now_ms();
            ingot_detokenize(t, ids, (size_t)n, true, &out, NULL, NULL);
            dt = now_ms() - t0;
            if (dt < best_dec) best_dec = dt;
            free(out);
            free(ids);
        }
        double mb = (double)len / 1e6;
        printf("%-24s %10.1f %12.1f %12.1f %10d\n", names[k], best_load, mb / (best_enc / 1e3), mb / (best_dec / 1e3), n);
        ingot_tokenizer_free(t);
    }
    printf("(text: %.2f MB of tokenizers/corpus.json strings; best of 3; one thread)\n", (double)len / 1e6);
    free(text);
    return 0;
}
