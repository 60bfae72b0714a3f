/* ingot-synth: writes a GGUF model of the exact shape of a popular model,
 * with seeded random weights and the real tokenizer, for benchmarks (speed
 * does not depend on the weights' values; see docs/BENCHMARKS.md of the
 * shared folder). 2-D weights are F16 drawn from N(0, sigma) (default
 * 0.02), norms are 1.0, biases N(0, sigma), all 1-D tensors F32, as the
 * Hugging Face converters lay them out. The vocabulary comes from a Hugging
 * Face tokenizer.json (byte-level BPE) and is written as tokenizer.ggml.*
 * (tokens, token_type, merges, special ids, chat template from a
 * tokenizer_config.json beside it), padded up to the shape's vocabulary
 * size with "[PAD<id>]" tokens of type unused, as real Qwen GGUFs are.
 * The result is quantized with `ingot quantize` (bench/make-models.sh). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/pool.h"
#include "format/gguf.h"
#include "tensor/types.h"

typedef struct shape {
    const char *name, *arch;
    int n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab;
    bool qkv_bias;
    const char *tokenizer; /* directory under the fixtures' tokenizers/hf */
    const char *pre;       /* tokenizer.ggml.pre */
    uint32_t ctx_len;
    float rope_base, eps;
    bool add_bos;
} shape;

static const shape shapes[] = {
    {"qwen2.5-0.5b", "qwen2", 896, 24, 14, 2, 4864, 151936, true, "qwen3", "qwen2", 32768, 1000000.0f, 1e-6f,
     false},
    {"llama3.2-1b", "llama", 2048, 16, 32, 8, 8192, 128256, false, "llama3", "llama-bpe", 131072, 500000.0f,
     1e-5f, true},
};

static void usage(FILE *f) {
    fprintf(f,
            "usage: ingot-synth --shape NAME -o OUT.gguf [--tokenizer DIR] [--seed N] [--sigma S] [-t THREADS]\n"
            "                   [--layers N] [--embd N] [--ff N] [--heads N] [--kv-heads N]\n"
            "\n"
            "Writes an F16 GGUF model of a known shape with random weights and a real\n"
            "tokenizer. Shapes:\n");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        fprintf(f, "  %-14s %s, embedding %d, %d layers, %d/%d heads, FFN %d, vocab %d%s (tokenizer %s)\n",
                shapes[i].name, shapes[i].arch, shapes[i].n_embd, shapes[i].n_layer, shapes[i].n_head,
                shapes[i].n_head_kv, shapes[i].n_ff, shapes[i].n_vocab, shapes[i].qkv_bias ? ", QKV bias" : "",
                shapes[i].tokenizer);
    fprintf(f, "\n--tokenizer DIR: the folder holding tokenizer.json (default: the shape's\n"
               "tokenizer in $INGOT_FIXTURES/tokenizers/hf, else ../shared/fixtures/...).\n"
               "--layers/--embd/--ff/--heads/--kv-heads shrink the shape (tests).\n");
}

/* ---- deterministic random numbers: splitmix64 per row ---- */

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform01(uint64_t *s) { return ((double)(splitmix(s) >> 11) + 0.5) / 9007199254740992.0; }

/* ---- tensors ---- */

typedef enum { FILL_GAUSS, FILL_ONES } fill_kind;

typedef struct tensor_spec {
    char name[64];
    int n_dims;
    int64_t ne[2];
    ingot_type type;
    fill_kind fill;
    size_t offset, nbytes;
} tensor_spec;

typedef struct fill_job {
    const tensor_spec *t;
    void *dst;
    uint64_t seed;
    float sigma;
} fill_job;

static void fill_task(void *arg, int ith, int nth) {
    fill_job *j = arg;
    int64_t cols = j->t->ne[0], rows = j->t->n_dims > 1 ? j->t->ne[1] : 1;
    long long lo, hi;
    ingot_split(rows, ith, nth, &lo, &hi);
    for (long long r = lo; r < hi; r++) {
        uint64_t s = j->seed ^ ((uint64_t)r * 0xd1b54a32d192ed03ull);
        for (int64_t c = 0; c < cols; c++) {
            float v = 1.0f;
            if (j->t->fill == FILL_GAUSS) {
                /* Box-Muller; one value per pair keeps rows independent of each other. */
                double u1 = uniform01(&s), u2 = uniform01(&s);
                v = (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2)) * j->sigma;
            }
            if (j->t->type == INGOT_TYPE_F16) ((uint16_t *)j->dst)[r * cols + c] = ingot_fp32_to_fp16(v);
            else ((float *)j->dst)[r * cols + c] = v;
        }
    }
}

static void add_spec(tensor_spec *list, int *n, const char *name, int n_dims, int64_t ne0, int64_t ne1,
                     fill_kind fill) {
    tensor_spec *t = &list[(*n)++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->n_dims = n_dims;
    t->ne[0] = ne0;
    t->ne[1] = n_dims > 1 ? ne1 : 1;
    t->type = n_dims > 1 ? INGOT_TYPE_F16 : INGOT_TYPE_F32;
    t->fill = fill;
    t->nbytes = (size_t)(t->ne[0] * t->ne[1]) * (t->type == INGOT_TYPE_F16 ? 2 : 4);
}

/* ---- tokenizer ---- */

typedef struct vocab {
    char **tokens;
    int32_t *types;
    int64_t n;
    char **merges;
    int64_t n_merges;
} vocab;

static void vocab_free(vocab *v) {
    for (int64_t i = 0; i < v->n; i++) free(v->tokens[i]);
    for (int64_t i = 0; i < v->n_merges; i++) free(v->merges[i]);
    free(v->tokens);
    free(v->types);
    free(v->merges);
}

static int32_t find_token(const vocab *v, const char *s) {
    if (!s) return -1;
    for (int64_t i = 0; i < v->n; i++)
        if (v->tokens[i] && !strcmp(v->tokens[i], s)) return (int32_t)i;
    return -1;
}

/* A tokenizer_config.json token entry: a string or {"content": ...}. */
static const char *config_token(json_t *cfg, const char *key) {
    json_t *t = json_object_get(cfg, key);
    if (json_is_string(t)) return json_string_value(t);
    if (json_is_object(t)) return json_string_value(json_object_get(t, "content"));
    return NULL;
}

static int load_vocab(const char *path, int64_t min_vocab, vocab *v) {
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        fprintf(stderr, "ingot-synth: %s: %s (line %d)\n", path, je.text, je.line);
        return 1;
    }
    json_t *model = json_object_get(root, "model");
    json_t *jv = json_object_get(model, "vocab"), *jm = json_object_get(model, "merges");
    const char *type = json_string_value(json_object_get(model, "type"));
    if (!json_is_object(jv) || !json_is_array(jm) || !type || strcmp(type, "BPE")) {
        fprintf(stderr, "ingot-synth: %s: not a BPE tokenizer.json (model.vocab / model.merges)\n", path);
        json_decref(root);
        return 1;
    }
    int64_t n = min_vocab;
    const char *key;
    json_t *val;
    json_object_foreach(jv, key, val) if (json_integer_value(val) + 1 > n) n = json_integer_value(val) + 1;
    json_t *added = json_object_get(root, "added_tokens");
    size_t ai;
    json_array_foreach(added, ai, val) {
        int64_t id = json_integer_value(json_object_get(val, "id"));
        if (id + 1 > n) n = id + 1;
    }
    if (n > 4000000) {
        fprintf(stderr, "ingot-synth: %s: vocabulary of %lld tokens is implausible\n", path, (long long)n);
        json_decref(root);
        return 1;
    }
    v->n = n;
    v->tokens = calloc((size_t)n, sizeof *v->tokens);
    v->types = calloc((size_t)n, sizeof *v->types);
    json_object_foreach(jv, key, val) {
        int64_t id = json_integer_value(val);
        if (id < 0 || v->tokens[id]) continue;
        v->tokens[id] = strdup(key);
        v->types[id] = 1; /* normal */
    }
    json_array_foreach(added, ai, val) {
        int64_t id = json_integer_value(json_object_get(val, "id"));
        const char *content = json_string_value(json_object_get(val, "content"));
        if (id < 0 || !content) continue;
        free(v->tokens[id]);
        v->tokens[id] = strdup(content);
        v->types[id] = json_is_true(json_object_get(val, "special")) ? 3 /* control */ : 4 /* user defined */;
    }
    for (int64_t i = 0; i < n; i++) {
        if (v->tokens[i]) continue;
        char pad[32];
        snprintf(pad, sizeof pad, "[PAD%lld]", (long long)i);
        v->tokens[i] = strdup(pad);
        v->types[i] = 5; /* unused */
    }
    v->n_merges = (int64_t)json_array_size(jm);
    v->merges = calloc((size_t)v->n_merges + 1, sizeof *v->merges);
    json_array_foreach(jm, ai, val) {
        /* Either "a b" or ["a", "b"]. */
        if (json_is_string(val)) {
            v->merges[ai] = strdup(json_string_value(val));
        } else {
            const char *a = json_string_value(json_array_get(val, 0)), *b = json_string_value(json_array_get(val, 1));
            if (!a || !b) {
                fprintf(stderr, "ingot-synth: %s: merge %zu is malformed\n", path, ai);
                json_decref(root);
                return 1;
            }
            size_t la = strlen(a), lb = strlen(b);
            v->merges[ai] = malloc(la + lb + 2);
            memcpy(v->merges[ai], a, la);
            v->merges[ai][la] = ' ';
            memcpy(v->merges[ai] + la + 1, b, lb + 1);
        }
    }
    json_decref(root);
    return 0;
}

/* ---- scratch space for the tensor data (a mapping of an unlinked file
 * beside the output, so gigabytes of weights need not stay in RAM) ---- */

static void *scratch_map(const char *out, size_t size) {
    size_t n = strlen(out);
    char *tmp = malloc(n + 32);
    memcpy(tmp, out, n);
    memcpy(tmp + n, ".synth-XXXXXX", 14);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "ingot-synth: cannot create a scratch file beside %s: %s\n", out, strerror(errno));
        free(tmp);
        return NULL;
    }
    unlink(tmp);
    free(tmp);
    int rc = posix_fallocate(fd, 0, (off_t)size);
    if (rc == EINVAL || rc == EOPNOTSUPP) rc = ftruncate(fd, (off_t)size) ? errno : 0;
    void *p = rc ? MAP_FAILED : mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        fprintf(stderr, "ingot-synth: cannot map %.1f MiB of scratch space: %s\n", (double)size / 1048576.0,
                strerror(rc ? rc : errno));
    close(fd);
    return p == MAP_FAILED ? NULL : p;
}

static int parse_int(const char *flag, const char *s, int lo, int hi, int *out) {
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || *end || v < lo || v > hi) {
        fprintf(stderr, "ingot-synth: %s needs an integer in [%d, %d]\n", flag, lo, hi);
        return 1;
    }
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv) {
    const char *shape_name = NULL, *out = NULL, *tok_dir = NULL;
    uint64_t seed = 1234;
    float sigma = 0.02f;
    int threads = 2, o_layers = 0, o_embd = 0, o_ff = 0, o_heads = 0, o_kv = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--shape")) shape_name = v, i++;
        else if (!strcmp(a, "-o")) out = v, i++;
        else if (!strcmp(a, "--tokenizer")) tok_dir = v, i++;
        else if (!strcmp(a, "--seed")) {
            if (!v) bad = 1;
            else seed = strtoull(v, NULL, 10);
            i++;
        } else if (!strcmp(a, "--sigma")) {
            sigma = v ? strtof(v, NULL) : -1;
            bad = !(sigma > 0 && sigma < 10);
            i++;
        } else if (!strcmp(a, "-t")) bad = parse_int(a, v, 1, 256, &threads), i++;
        else if (!strcmp(a, "--layers")) bad = parse_int(a, v, 1, 1000, &o_layers), i++;
        else if (!strcmp(a, "--embd")) bad = parse_int(a, v, 32, 65536, &o_embd), i++;
        else if (!strcmp(a, "--ff")) bad = parse_int(a, v, 32, 1 << 20, &o_ff), i++;
        else if (!strcmp(a, "--heads")) bad = parse_int(a, v, 1, 1024, &o_heads), i++;
        else if (!strcmp(a, "--kv-heads")) bad = parse_int(a, v, 1, 1024, &o_kv), i++;
        else {
            fprintf(stderr, "ingot-synth: unknown argument '%s'\n", a);
            bad = 1;
        }
        if (bad) return 2;
    }
    const shape *sp = NULL;
    for (size_t i = 0; shape_name && i < sizeof shapes / sizeof shapes[0]; i++)
        if (!strcmp(shapes[i].name, shape_name)) sp = &shapes[i];
    if (!sp || !out) {
        if (shape_name && !sp) fprintf(stderr, "ingot-synth: unknown shape '%s'\n", shape_name);
        usage(stderr);
        return 2;
    }
    shape s = *sp;
    if (o_layers) s.n_layer = o_layers;
    if (o_embd) s.n_embd = o_embd;
    if (o_ff) s.n_ff = o_ff;
    if (o_heads) s.n_head = o_heads;
    if (o_kv) s.n_head_kv = o_kv;
    if (s.n_embd % s.n_head || s.n_head % s.n_head_kv || (s.n_embd / s.n_head) % 2) {
        fprintf(stderr, "ingot-synth: embedding %d, %d heads, %d kv heads do not divide evenly\n", s.n_embd,
                s.n_head, s.n_head_kv);
        return 2;
    }
    int head_dim = s.n_embd / s.n_head, kv_dim = head_dim * s.n_head_kv;

    char tok_path[4096], cfg_path[4096];
    if (tok_dir) {
        snprintf(tok_path, sizeof tok_path, "%s/tokenizer.json", tok_dir);
        snprintf(cfg_path, sizeof cfg_path, "%s/tokenizer_config.json", tok_dir);
    } else {
        const char *fx = getenv("INGOT_FIXTURES");
        if (!fx || !*fx) fx = "../shared/fixtures";
        snprintf(tok_path, sizeof tok_path, "%s/tokenizers/hf/%s/tokenizer.json", fx, s.tokenizer);
        snprintf(cfg_path, sizeof cfg_path, "%s/tokenizers/hf/%s/tokenizer_config.json", fx, s.tokenizer);
    }
    vocab v = {0};
    if (load_vocab(tok_path, s.n_vocab, &v)) return 1;
    if (v.n != s.n_vocab)
        fprintf(stderr, "ingot-synth: note: %s has %lld tokens, more than the shape's %d\n", tok_path,
                (long long)v.n, s.n_vocab);
    /* Optional; its integers can exceed 64 bits (model_max_length 1e30). */
    json_error_t cje;
    json_t *cfg = json_load_file(cfg_path, JSON_DECODE_INT_AS_REAL, &cje);
    if (!cfg && access(cfg_path, F_OK) == 0)
        fprintf(stderr, "ingot-synth: warning: %s: %s (no chat template, default special tokens)\n", cfg_path,
                cje.text);

    ingot_gguf_writer *w = ingot_gguf_writer_new();
    char key[128], name[128];
#define AKEY(suffix) (snprintf(key, sizeof key, "%s.%s", s.arch, suffix), key)
    ingot_gguf_writer_set_str(w, "general.architecture", s.arch);
    snprintf(name, sizeof name, "%s shape (random weights, seed %llu)", s.name, (unsigned long long)seed);
    ingot_gguf_writer_set_str(w, "general.name", name);
    ingot_gguf_writer_set_u32(w, AKEY("context_length"), s.ctx_len);
    ingot_gguf_writer_set_u32(w, AKEY("embedding_length"), (uint32_t)s.n_embd);
    ingot_gguf_writer_set_u32(w, AKEY("block_count"), (uint32_t)s.n_layer);
    ingot_gguf_writer_set_u32(w, AKEY("feed_forward_length"), (uint32_t)s.n_ff);
    ingot_gguf_writer_set_u32(w, AKEY("attention.head_count"), (uint32_t)s.n_head);
    ingot_gguf_writer_set_u32(w, AKEY("attention.head_count_kv"), (uint32_t)s.n_head_kv);
    ingot_gguf_writer_set_f32(w, AKEY("rope.freq_base"), s.rope_base);
    ingot_gguf_writer_set_f32(w, AKEY("attention.layer_norm_rms_epsilon"), s.eps);
    if (!strcmp(s.arch, "llama")) {
        ingot_gguf_writer_set_u32(w, AKEY("rope.dimension_count"), (uint32_t)head_dim);
        ingot_gguf_writer_set_u32(w, AKEY("vocab_size"), (uint32_t)v.n);
    }
    ingot_gguf_writer_set_u32(w, "general.file_type", 1); /* mostly F16 */
    ingot_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2");
    ingot_gguf_writer_set_str(w, "tokenizer.ggml.pre", s.pre);
    ingot_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)v.tokens, (uint64_t)v.n);
    ingot_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", INGOT_GGUF_INT32, v.types, (uint64_t)v.n);
    ingot_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", (const char *const *)v.merges, (uint64_t)v.n_merges);
    int32_t bos = find_token(&v, config_token(cfg, "bos_token")), eos = find_token(&v, config_token(cfg, "eos_token"));
    int32_t pad = find_token(&v, config_token(cfg, "pad_token"));
    if (bos < 0) bos = find_token(&v, "<|endoftext|>"); /* Qwen: no BOS of its own */
    if (bos >= 0) ingot_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)bos);
    if (eos >= 0) ingot_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eos);
    if (pad >= 0) ingot_gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)pad);
    json_t *jab = json_object_get(cfg, "add_bos_token");
    ingot_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", json_is_boolean(jab) ? json_is_true(jab) : s.add_bos);
    const char *tmpl = json_string_value(json_object_get(cfg, "chat_template"));
    if (tmpl) ingot_gguf_writer_set_str(w, "tokenizer.chat_template", tmpl);

    /* Tensors, in the order the converters write them; tied output (no output.weight). */
    int cap = 2 + s.n_layer * 14, nt = 0;
    tensor_spec *ts = calloc((size_t)cap, sizeof *ts);
    add_spec(ts, &nt, "token_embd.weight", 2, s.n_embd, v.n, FILL_GAUSS);
    for (int l = 0; l < s.n_layer; l++) {
        char n[64];
#define T(suffix, nd, a, b, fill) (snprintf(n, sizeof n, "blk.%d.%s", l, suffix), add_spec(ts, &nt, n, nd, a, b, fill))
        T("attn_norm.weight", 1, s.n_embd, 1, FILL_ONES);
        T("attn_q.weight", 2, s.n_embd, s.n_embd, FILL_GAUSS);
        if (s.qkv_bias) T("attn_q.bias", 1, s.n_embd, 1, FILL_GAUSS);
        T("attn_k.weight", 2, s.n_embd, kv_dim, FILL_GAUSS);
        if (s.qkv_bias) T("attn_k.bias", 1, kv_dim, 1, FILL_GAUSS);
        T("attn_v.weight", 2, s.n_embd, kv_dim, FILL_GAUSS);
        if (s.qkv_bias) T("attn_v.bias", 1, kv_dim, 1, FILL_GAUSS);
        T("attn_output.weight", 2, s.n_embd, s.n_embd, FILL_GAUSS);
        T("ffn_norm.weight", 1, s.n_embd, 1, FILL_ONES);
        T("ffn_gate.weight", 2, s.n_embd, s.n_ff, FILL_GAUSS);
        T("ffn_up.weight", 2, s.n_embd, s.n_ff, FILL_GAUSS);
        T("ffn_down.weight", 2, s.n_ff, s.n_embd, FILL_GAUSS);
#undef T
    }
    add_spec(ts, &nt, "output_norm.weight", 1, s.n_embd, 1, FILL_ONES);
    size_t total = 0;
    uint64_t n_params = 0;
    for (int i = 0; i < nt; i++) {
        ts[i].offset = total;
        total += (ts[i].nbytes + 63) & ~(size_t)63;
        n_params += (uint64_t)(ts[i].ne[0] * ts[i].ne[1]);
    }
    fprintf(stderr, "ingot-synth: %s (%s): %d tensors, %.1f M parameters, %.1f MiB of F16/F32 data\n", s.name,
            s.arch, nt, (double)n_params / 1e6, (double)total / 1048576.0);
    char *data = scratch_map(out, total);
    ingot_pool *pool = ingot_pool_new(threads);
    int rc = 0;
    if (!data || !pool) rc = 1;
    for (int i = 0; !rc && i < nt; i++) {
        fill_job job = {&ts[i], data + ts[i].offset, seed * 0x9e3779b97f4a7c15ull + (uint64_t)i * 0x632be59bd9b4e019ull,
                        sigma};
        ingot_pool_run(pool, fill_task, &job);
        if (ingot_gguf_writer_add_tensor(w, ts[i].name, ts[i].type, ts[i].n_dims, ts[i].ne, job.dst)) {
            fprintf(stderr, "ingot-synth: cannot add tensor %s\n", ts[i].name);
            rc = 1;
        }
    }
    ingot_error err = {0};
    if (!rc && ingot_gguf_writer_write(w, out, &err)) {
        fprintf(stderr, "ingot-synth: %s\n", err.message);
        rc = 1;
    }
    if (!rc) fprintf(stderr, "ingot-synth: wrote %s\n", out);
    ingot_pool_free(pool);
    if (data) munmap(data, total);
    ingot_gguf_writer_free(w);
    free(ts);
    json_decref(cfg);
    vocab_free(&v);
    return rc;
}
