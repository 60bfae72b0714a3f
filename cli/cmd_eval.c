/* `ingot eval`: evaluates exact token ids and writes logits in the format
 * of the parity fixtures, for checking ingot against other engines. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *USAGE =
    "usage: ingot eval -m MODEL.gguf --tokens IDS [--feed IDS | --greedy N] --logits-out PREFIX\n"
    "                  [-t THREADS] [-c CONTEXT] [-b BATCH] [--kv-type f16|f32]\n"
    "\n"
    "Evaluates the --tokens ids in one batch (no BOS is added: the ids are exact),\n"
    "then feeds --feed ids one at a time, or generates N greedy (argmax) tokens,\n"
    "and writes, in the format of llama.cpp parity fixtures:\n"
    "  PREFIX.prompt.f32  float32 logits [n_tokens][n_vocab], row i after tokens[0..i]\n"
    "  PREFIX.gen.f32     float32 logits [n_gen][n_vocab], row k after feeding token k\n"
    "  PREFIX.json        {\"model\", \"n_vocab\", \"prompt\": [...], \"greedy\": [...]}\n"
    "                     (\"greedy\" lists the generated ids, or the --feed ids)\n"
    "\n"
    "options:\n"
    "  -m, --model PATH      GGUF model file\n"
    "  --tokens 1,5,9        prompt token ids, comma-separated\n"
    "  --feed 4,8,2          ids to feed one at a time after the prompt\n"
    "  --greedy N            generate N tokens by argmax instead\n"
    "  --logits-out PREFIX   where to write the three files\n"
    "  -t, --threads N       threads (default: all cores)\n"
    "  -c, --ctx-size N      context length (default: the model's, at most 4096)\n"
    "  -b, --batch-size N    max tokens per forward pass (default 512)\n"
    "  --kv-type f16|f32     KV cache precision (default f16, as llama.cpp)\n"
    "\n"
    "example:\n"
    "  ingot eval -m stories260K.gguf --tokens 1,403,407,261,378 --greedy 16 --logits-out /tmp/s\n";

static int write_f32(const char *path, const float *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return cli_fail(1, "eval", "cannot write %s: %s", path, strerror(errno));
    size_t w = fwrite(data, sizeof(float), n, f);
    if (fclose(f) != 0 || w != n) return cli_fail(1, "eval", "error writing %s", path);
    return 0;
}

static int32_t argmax(const float *x, int32_t n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static void json_ids(FILE *f, const int32_t *ids, int32_t n) {
    fputc('[', f);
    for (int32_t i = 0; i < n; i++) fprintf(f, "%s%d", i ? ", " : "", ids[i]);
    fputc(']', f);
}

int cmd_eval(int argc, char **argv) {
    const char *model_path = NULL, *tokens_s = NULL, *feed_s = NULL, *out = NULL, *v;
    long greedy = -1, threads = 0, n_ctx = 0, n_batch = 512;
    bool kv_f32 = false, bad = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(USAGE, stdout);
            return 0;
        } else if (cli_flag_value(argc, argv, &i, "-m", &v, &bad, "eval") ||
                   cli_flag_value(argc, argv, &i, "--model", &v, &bad, "eval")) {
            model_path = v;
        } else if (cli_flag_value(argc, argv, &i, "--tokens", &v, &bad, "eval")) {
            tokens_s = v;
        } else if (cli_flag_value(argc, argv, &i, "--feed", &v, &bad, "eval")) {
            feed_s = v;
        } else if (cli_flag_value(argc, argv, &i, "--greedy", &v, &bad, "eval")) {
            if (v && !cli_parse_int("eval", "--greedy", v, 0, 1 << 20, &greedy)) return 2;
        } else if (cli_flag_value(argc, argv, &i, "--logits-out", &v, &bad, "eval")) {
            out = v;
        } else if (cli_flag_value(argc, argv, &i, "-t", &v, &bad, "eval") ||
                   cli_flag_value(argc, argv, &i, "--threads", &v, &bad, "eval")) {
            if (v && !cli_parse_int("eval", "--threads", v, 1, 256, &threads)) return 2;
        } else if (cli_flag_value(argc, argv, &i, "-c", &v, &bad, "eval") ||
                   cli_flag_value(argc, argv, &i, "--ctx-size", &v, &bad, "eval")) {
            if (v && !cli_parse_int("eval", "--ctx-size", v, 1, 1 << 22, &n_ctx)) return 2;
        } else if (cli_flag_value(argc, argv, &i, "-b", &v, &bad, "eval") ||
                   cli_flag_value(argc, argv, &i, "--batch-size", &v, &bad, "eval")) {
            if (v && !cli_parse_int("eval", "--batch-size", v, 1, 1 << 16, &n_batch)) return 2;
        } else if (cli_flag_value(argc, argv, &i, "--kv-type", &v, &bad, "eval")) {
            if (v && !strcmp(v, "f32")) kv_f32 = true;
            else if (v && strcmp(v, "f16"))
                return cli_fail(2, "eval", "--kv-type must be f16 or f32, got '%s'", v);
        } else {
            return cli_fail(2, "eval", "unknown option '%s' (see `ingot eval --help`)", a);
        }
        if (bad) return 2;
    }
    if (!model_path) return cli_fail(2, "eval", "missing -m MODEL (see `ingot eval --help`)");
    if (!tokens_s) return cli_fail(2, "eval", "missing --tokens IDS");
    if (!out) return cli_fail(2, "eval", "missing --logits-out PREFIX");
    if (feed_s && greedy >= 0) return cli_fail(2, "eval", "--feed and --greedy cannot be used together");

    int32_t *prompt = NULL, *gen = NULL, n_prompt = 0, n_gen = 0;
    if (!cli_parse_int_list("eval", "--tokens", tokens_s, &prompt, &n_prompt)) return 2;
    if (feed_s && !cli_parse_int_list("eval", "--feed", feed_s, &gen, &n_gen)) {
        free(prompt);
        return 2;
    }
    if (greedy > 0) {
        n_gen = (int32_t)greedy;
        gen = calloc((size_t)n_gen, sizeof *gen);
    }

    int rc = 1;
    ingot_error err = {0};
    ingot_model *model = NULL;
    ingot_context *ctx = NULL;
    float *gen_logits = NULL;
    if (ingot_model_load(model_path, NULL, &model, &err)) {
        cli_fail(1, "eval", "%s", err.message);
        goto done;
    }
    ingot_model_info info;
    ingot_model_get_info(model, &info);
    ingot_context_params cp = ingot_context_default_params();
    cp.n_threads = (int32_t)threads;
    cp.n_batch = (int32_t)n_batch;
    cp.kv_type = kv_f32 ? INGOT_KV_F32 : INGOT_KV_F16;
    int32_t need = n_prompt + n_gen;
    cp.n_ctx = (int32_t)n_ctx;
    if (!cp.n_ctx) cp.n_ctx = info.n_ctx_train < 4096 ? info.n_ctx_train : 4096;
    if (cp.n_ctx < need) {
        if (n_ctx) {
            cli_fail(1, "eval", "%d tokens do not fit in the context of %ld", need, n_ctx);
            goto done;
        }
        cp.n_ctx = need;
    }
    if (ingot_context_new(model, &cp, &ctx, &err)) {
        cli_fail(1, "eval", "%s", err.message);
        goto done;
    }
    if (ingot_context_decode(ctx, prompt, n_prompt, true)) {
        cli_fail(1, "eval", "%s", ingot_context_errmsg(ctx));
        goto done;
    }
    int32_t rows;
    const float *lg = ingot_context_logits(ctx, &rows);
    size_t nv = (size_t)info.n_vocab;
    char path[4096];
    snprintf(path, sizeof path, "%s.prompt.f32", out);
    if (write_f32(path, lg, (size_t)rows * nv)) goto done;
    int32_t next = argmax(lg + (size_t)(rows - 1) * nv, info.n_vocab);
    gen_logits = malloc((n_gen ? (size_t)n_gen : 1) * nv * sizeof(float));
    if (!gen_logits || (n_gen && !gen)) {
        cli_fail(1, "eval", "out of memory");
        goto done;
    }
    for (int32_t k = 0; k < n_gen; k++) {
        if (!feed_s) gen[k] = next;
        if (ingot_context_decode(ctx, &gen[k], 1, false)) {
            cli_fail(1, "eval", "%s", ingot_context_errmsg(ctx));
            goto done;
        }
        lg = ingot_context_logits(ctx, NULL);
        memcpy(gen_logits + (size_t)k * nv, lg, nv * sizeof(float));
        next = argmax(lg, info.n_vocab);
    }
    snprintf(path, sizeof path, "%s.gen.f32", out);
    if (write_f32(path, gen_logits, (size_t)n_gen * nv)) goto done;
    snprintf(path, sizeof path, "%s.json", out);
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_fail(1, "eval", "cannot write %s: %s", path, strerror(errno));
        goto done;
    }
    const char *base = strrchr(model_path, '/');
    base = base ? base + 1 : model_path;
    fputs("{\"model\": ", f);
    cli_json_str(f, base, strlen(base));
    fprintf(f, ", \"n_vocab\": %d, \"prompt\": ", info.n_vocab);
    json_ids(f, prompt, n_prompt);
    fputs(", \"greedy\": ", f);
    json_ids(f, gen, n_gen);
    fputs("}\n", f);
    if (fclose(f) != 0) {
        cli_fail(1, "eval", "error writing %s", path);
        goto done;
    }
    printf("%s: %d prompt rows, %d generated rows, n_vocab %d -> %s.{prompt.f32,gen.f32,json}\n", base,
           n_prompt, n_gen, info.n_vocab, out);
    rc = 0;
done:
    free(gen_logits);
    ingot_context_free(ctx);
    ingot_model_free(model);
    free(prompt);
    free(gen);
    return rc;
}
