/* `ingot tokenize`: text -> token ids (or ids -> text with --detok) with a
 * model's tokenizer, loaded straight from a GGUF's vocabulary or from
 * Hugging Face tokenizer files; --batch works on JSON arrays so that many
 * strings go through one load. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *const CMD = "tokenize";

static void help(FILE *f) {
    fprintf(f,
            "usage: ingot tokenize (-m MODEL.gguf | --tokenizer PATH) [--text TEXT] [options]\n"
            "\n"
            "Turns text into the token ids a model sees (or ids back into text).\n"
            "The text comes from --text, or else from standard input (read whole).\n"
            "\n"
            "Where the tokenizer comes from (one of):\n"
            "  -m, --model FILE.gguf   the vocabulary stored in a GGUF model file\n"
            "  --tokenizer PATH        a Hugging Face tokenizer.json, a directory holding\n"
            "                          tokenizer.json or vocab.json + merges.txt, or a .gguf\n"
            "\n"
            "Options:\n"
            "  --text TEXT     the text to encode (default: standard input)\n"
            "  --batch         input is a JSON array of strings; prints a JSON array with\n"
            "                  one array of ids per string (with --detok: arrays of ids in,\n"
            "                  strings out)\n"
            "  --no-bos        do not add the BOS/EOS tokens the tokenizer normally adds\n"
            "  --no-special    treat control tokens written in the text (\"<|im_end|>\") as\n"
            "                  plain text instead of their ids\n"
            "  --pieces        one line per token: the id and the text it stands for\n"
            "  --detok         input is ids (\"1 2 3\", \"1,2,3\" or \"[1,2,3]\"); prints text\n"
            "  -h, --help      this help\n"
            "\n"
            "Output: a JSON array of ids, e.g. [1, 403, 407, 261, 378].\n"
            "\n"
            "Examples:\n"
            "  ingot tokenize -m stories260K.gguf --text \"Once upon a time\"\n"
            "  ingot tokenize --tokenizer qwen3/tokenizer.json --pieces --text \"Hello world\"\n"
            "  echo '[\"Hello\", \"world\"]' | ingot tokenize --tokenizer qwen3 --batch --no-bos\n"
            "  ingot tokenize -m model.gguf --detok --text \"9707, 1879\"\n"
            "\n"
            "Exit status: 0 ok, 1 the tokenizer or the input could not be used, 2 bad usage.\n");
}

static void print_ids(FILE *f, const int32_t *ids, int32_t n) {
    fputc('[', f);
    for (int32_t i = 0; i < n; i++) fprintf(f, i ? ", %d" : "%d", ids[i]);
    fputc(']', f);
}

/* Whether s[0..n) is valid UTF-8 (a piece can be a fragment of a char). */
static bool utf8_ok(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t l = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!l || i + l > n) return false;
        for (size_t k = 1; k < l; k++)
            if ((s[i + k] & 0xC0) != 0x80) return false;
        i += l;
    }
    return true;
}

static void print_pieces(const ingot_tokenizer *tok, const int32_t *ids, int32_t n) {
    for (int32_t i = 0; i < n; i++) {
        char buf[256];
        int32_t len = ingot_token_to_bytes(tok, ids[i], true, buf, sizeof buf);
        size_t shown = len < 0 ? 0 : (size_t)len > sizeof buf ? sizeof buf : (size_t)len;
        printf("%8d  ", ids[i]);
        if (utf8_ok((const unsigned char *)buf, shown)) {
            cli_json_str(stdout, buf, shown);
        } else {
            /* a fragment of a multi-byte character: show its bytes */
            for (size_t k = 0; k < shown; k++) printf(k ? " 0x%02X" : "0x%02X", (unsigned char)buf[k]);
        }
        if (ingot_token_is_control(tok, ids[i])) printf("  (control)");
        putchar('\n');
    }
}

/* Parses "1 2 3", "1,2,3" or "[1, 2, 3]". */
static bool parse_ids(const char *s, int32_t n_vocab, int32_t **out, int32_t *n) {
    size_t cap = 64, k = 0;
    int32_t *v = malloc(cap * sizeof *v);
    if (!v) return false;
    const char *p = s;
    while (*p) {
        if (strchr(" \t\r\n,[]", *p)) {
            p++;
            continue;
        }
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || x < 0 || x >= n_vocab) {
            if (end == p) cli_fail(1, CMD, "--detok: expected token ids, found '%.20s'", p);
            else cli_fail(1, CMD, "--detok: id %ld is outside the vocabulary (0..%d)", x, n_vocab - 1);
            free(v);
            return false;
        }
        if (k == cap) {
            int32_t *nv = realloc(v, (cap *= 2) * sizeof *v);
            if (!nv) {
                free(v);
                return false;
            }
            v = nv;
        }
        v[k++] = (int32_t)x;
        p = end;
    }
    *out = v;
    *n = (int32_t)k;
    return true;
}

static int encode_one(const ingot_tokenizer *tok, const char *text, size_t len, bool bos, bool special, bool pieces) {
    int32_t *ids = NULL, n = 0;
    ingot_error err = {0};
    if (ingot_tokenize(tok, text, len, bos, special, &ids, &n, &err) != INGOT_OK)
        return cli_fail(1, CMD, "%s", err.message);
    if (pieces) {
        print_pieces(tok, ids, n);
    } else {
        print_ids(stdout, ids, n);
        putchar('\n');
    }
    free(ids);
    return 0;
}

static int detok_one(const ingot_tokenizer *tok, const int32_t *ids, int32_t n, bool json) {
    char *text = NULL;
    size_t len = 0;
    ingot_error err = {0};
    if (ingot_detokenize(tok, ids, (size_t)n, true, &text, &len, &err) != INGOT_OK)
        return cli_fail(1, CMD, "%s", err.message);
    if (json) {
        cli_json_str(stdout, text, len);
    } else {
        fwrite(text, 1, len, stdout);
        putchar('\n');
    }
    free(text);
    return 0;
}

static int run_batch(const ingot_tokenizer *tok, const char *input, size_t len, bool detok, bool bos, bool special) {
    json_error_t je;
    json_t *arr = json_loadb(input, len, JSON_ALLOW_NUL, &je);
    if (!json_is_array(arr)) {
        json_decref(arr);
        if (!arr) return cli_fail(1, CMD, "--batch: input is not JSON (line %d, column %d: %s)", je.line, je.column, je.text);
        return cli_fail(1, CMD, "--batch: input must be a JSON array of %s", detok ? "id arrays" : "strings");
    }
    size_t i;
    json_t *v;
    /* check everything first, so that a bad element prints no partial output */
    json_array_foreach(arr, i, v) {
        bool ok = detok ? json_is_array(v) : json_is_string(v);
        if (detok && ok) {
            size_t k;
            json_t *x;
            json_array_foreach(v, k, x) ok = ok && json_is_integer(x) && json_integer_value(x) >= 0 &&
                                              json_integer_value(x) < ingot_tokenizer_n_vocab(tok);
        }
        if (!ok) {
            json_decref(arr);
            return cli_fail(1, CMD, "--batch: element %zu is not %s", i,
                            detok ? "an array of ids within the vocabulary" : "a string");
        }
    }
    int rc = 0;
    putchar('[');
    json_array_foreach(arr, i, v) {
        if (i) fputs(", ", stdout);
        if (detok) {
            size_t n = json_array_size(v), k;
            int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
            json_t *x;
            json_array_foreach(v, k, x) ids[k] = (int32_t)json_integer_value(x);
            rc = detok_one(tok, ids, (int32_t)n, true);
            free(ids);
        } else {
            int32_t *ids = NULL, n = 0;
            ingot_error err = {0};
            if (ingot_tokenize(tok, json_string_value(v), json_string_length(v), bos, special, &ids, &n, &err)) {
                rc = cli_fail(1, CMD, "%s", err.message);
            } else {
                print_ids(stdout, ids, n);
            }
            free(ids);
        }
        if (rc) break;
    }
    puts("]");
    json_decref(arr);
    return rc;
}

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *tokpath = NULL, *text = NULL;
    bool batch = false, bos = true, special = true, pieces = false, detok = false, bad = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            return 0;
        } else if (cli_flag_value(argc, argv, &i, "-m", &val, &bad, CMD) ||
                   cli_flag_value(argc, argv, &i, "--model", &val, &bad, CMD)) {
            model = val;
        } else if (cli_flag_value(argc, argv, &i, "--tokenizer", &val, &bad, CMD)) {
            tokpath = val;
        } else if (cli_flag_value(argc, argv, &i, "--text", &val, &bad, CMD)) {
            text = val;
        } else if (!strcmp(a, "--batch")) {
            batch = true;
        } else if (!strcmp(a, "--no-bos")) {
            bos = false;
        } else if (!strcmp(a, "--no-special")) {
            special = false;
        } else if (!strcmp(a, "--pieces")) {
            pieces = true;
        } else if (!strcmp(a, "--detok")) {
            detok = true;
        } else {
            return cli_fail(2, CMD, "unknown option '%s' (see `ingot tokenize --help`)", a);
        }
        if (bad) return 2;
    }
    if (!model && !tokpath)
        return cli_fail(2, CMD, "say which tokenizer to use: -m MODEL.gguf or --tokenizer PATH (see --help)");
    if (model && tokpath) return cli_fail(2, CMD, "give either -m or --tokenizer, not both");
    if (pieces && (batch || detok)) return cli_fail(2, CMD, "--pieces cannot be combined with --batch or --detok");

    ingot_tokenizer *tok = NULL;
    ingot_error err = {0};
    if (ingot_tokenizer_load(model ? model : tokpath, &tok, &err) != INGOT_OK)
        return cli_fail(1, CMD, "cannot load the tokenizer: %s", err.message);

    char *input = NULL;
    size_t len = 0;
    if (text) {
        len = strlen(text);
    } else {
        input = cli_read_all(stdin, &len);
        if (!input) {
            ingot_tokenizer_free(tok);
            return cli_fail(1, CMD, "cannot read standard input");
        }
        text = input;
    }
    int rc;
    if (batch) {
        rc = run_batch(tok, text, len, detok, bos, special);
    } else if (detok) {
        int32_t *ids = NULL, n = 0;
        rc = parse_ids(text, ingot_tokenizer_n_vocab(tok), &ids, &n) ? detok_one(tok, ids, n, false) : 1;
        free(ids);
    } else {
        rc = encode_one(tok, text, len, bos, special, pieces);
    }
    free(input);
    ingot_tokenizer_free(tok);
    return rc;
}
