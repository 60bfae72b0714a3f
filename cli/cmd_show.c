/* `ingot show`: describes a model file — architecture, size, shapes,
 * tensor types, tokenizer, chat template — as text or JSON. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *USAGE =
    "usage: ingot show MODEL [--json]\n"
    "\n"
    "Describes a GGUF model: architecture, parameter count, layers, heads,\n"
    "context length, tensor types (count and bytes of each), tokenizer kind,\n"
    "whether a chat template is present, and the file size.\n"
    "MODEL is a .gguf file or a hub reference (org/repo, org/repo:Q4_K_M,\n"
    "org/repo/file.gguf, hf://..., a catalog alias), pulled on first use.\n"
    "\n"
    "options:\n"
    "  --json   print one JSON object instead of text\n";

typedef struct type_row {
    char name[16];
    int n;
    uint64_t bytes;
} type_row;

typedef struct type_list {
    type_row rows[48];
    int n;
} type_list;

static void collect(const char *name, int n, uint64_t bytes, void *user) {
    type_list *l = user;
    if (l->n >= 48) return;
    snprintf(l->rows[l->n].name, sizeof l->rows[0].name, "%s", name ? name : "?");
    l->rows[l->n].n = n;
    l->rows[l->n].bytes = bytes;
    l->n++;
}

static void human_count(char *buf, size_t n, uint64_t v) {
    if (v >= 1000000000ull) snprintf(buf, n, "%.2fB", (double)v / 1e9);
    else if (v >= 1000000ull) snprintf(buf, n, "%.2fM", (double)v / 1e6);
    else if (v >= 1000ull) snprintf(buf, n, "%.2fK", (double)v / 1e3);
    else snprintf(buf, n, "%llu", (unsigned long long)v);
}

static void human_bytes(char *buf, size_t n, uint64_t v) {
    if (v >= (1ull << 30)) snprintf(buf, n, "%.2f GiB", (double)v / (1ull << 30));
    else if (v >= (1ull << 20)) snprintf(buf, n, "%.2f MiB", (double)v / (1ull << 20));
    else if (v >= (1ull << 10)) snprintf(buf, n, "%.2f KiB", (double)v / (1ull << 10));
    else snprintf(buf, n, "%llu B", (unsigned long long)v);
}

int cmd_show(int argc, char **argv) {
    const char *path = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(USAGE, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_fail(2, "show", "unknown option '%s' (see `ingot show --help`)", argv[i]);
        } else if (!path) {
            path = argv[i];
        } else {
            return cli_fail(2, "show", "one model at a time (got '%s' and '%s')", path, argv[i]);
        }
    }
    if (!path) return cli_fail(2, "show", "missing MODEL (see `ingot show --help`)");
    char *resolved = NULL;
    if (ingot_hub_is_reference(path)) {
        int rc = cli_hub_resolve("show", path, &resolved);
        if (rc) return rc;
        path = resolved;
    }
    ingot_error err = {0};
    ingot_model *m = NULL;
    if (ingot_model_load(path, NULL, &m, &err)) {
        free(resolved);
        return cli_fail(1, "show", "%s", err.message);
    }
    ingot_model_info in;
    ingot_model_get_info(m, &in);
    type_list types = {0};
    ingot_model_foreach_type(m, collect, &types);
    if (json) {
        printf("{\"path\": ");
        cli_json_str(stdout, in.path, strlen(in.path));
        printf(", \"name\": ");
        cli_json_str(stdout, in.name, strlen(in.name));
        printf(", \"architecture\": \"%s\", \"file_size\": %llu, \"n_params\": %llu, "
               "\"file_type\": \"%s\", \"n_vocab\": %d, \"context_length\": %d, \"n_embd\": %d, "
               "\"n_layer\": %d, \"n_head\": %d, \"n_head_kv\": %d, \"head_dim\": %d, \"n_ff\": %d, "
               "\"n_tensors\": %d, \"tokenizer\": ",
               in.arch, (unsigned long long)in.file_size, (unsigned long long)in.n_params, in.file_type,
               in.n_vocab, in.n_ctx_train, in.n_embd, in.n_layer, in.n_head, in.n_head_kv, in.head_dim,
               in.n_ff, in.n_tensors);
        cli_json_str(stdout, in.tokenizer, strlen(in.tokenizer));
        printf(", \"chat_template\": %s, \"types\": [", in.has_chat_template ? "true" : "false");
        for (int i = 0; i < types.n; i++)
            printf("%s{\"type\": \"%s\", \"n_tensors\": %d, \"bytes\": %llu}", i ? ", " : "", types.rows[i].name,
                   types.rows[i].n, (unsigned long long)types.rows[i].bytes);
        printf("]}\n");
    } else {
        char pc[32], fs[32];
        human_count(pc, sizeof pc, in.n_params);
        human_bytes(fs, sizeof fs, in.file_size);
        printf("model         %s\n", in.path);
        if (*in.name) printf("name          %s\n", in.name);
        printf("architecture  %s\n", in.arch);
        printf("parameters    %s (%llu)\n", pc, (unsigned long long)in.n_params);
        printf("file type     %s\n", in.file_type);
        printf("file size     %s (%llu bytes)\n", fs, (unsigned long long)in.file_size);
        printf("context       %d\n", in.n_ctx_train);
        printf("embedding     %d\n", in.n_embd);
        printf("layers        %d\n", in.n_layer);
        printf("heads         %d (kv %d, head dim %d)\n", in.n_head, in.n_head_kv, in.head_dim);
        printf("feed forward  %d\n", in.n_ff);
        printf("vocabulary    %d\n", in.n_vocab);
        printf("tokenizer     %s\n", *in.tokenizer ? in.tokenizer : "(none)");
        printf("chat template %s\n", in.has_chat_template ? "yes" : "no");
        printf("tensors       %d\n", in.n_tensors);
        for (int i = 0; i < types.n; i++) {
            char b[32];
            human_bytes(b, sizeof b, types.rows[i].bytes);
            printf("  %-8s %5d tensors  %s\n", types.rows[i].name, types.rows[i].n, b);
        }
    }
    ingot_model_free(m);
    free(resolved);
    return 0;
}
