/* `ingot list`: the models in the Hugging Face cache (reference, format,
 * quantization, size, path, and the total), or with --catalog the curated
 * models and whether each fits this machine's RAM; text or JSON. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *USAGE =
    "usage: ingot list [--catalog] [--json]\n"
    "\n"
    "Lists the models in the Hugging Face cache ($HF_HUB_CACHE, else\n"
    "$HF_HOME/hub, else ~/.cache/huggingface/hub), including those that\n"
    "huggingface-cli, llama.cpp or mlx-lm downloaded: one line per GGUF file\n"
    "or safetensors/MLX snapshot, with the reference to give to -m, pull or\n"
    "rm, its format, quantization, size and path, then the total on disk.\n"
    "\n"
    "options:\n"
    "  --catalog   list the curated models instead, with their download size,\n"
    "              the memory they need, and whether they fit this machine\n"
    "              (8 GB of RAM: 3B-class models; 16 GB: 7-8B; 32 GB+: larger)\n"
    "  --json      one JSON object instead of a table\n"
    "\n"
    "examples:\n"
    "  ingot list\n"
    "  ingot list --catalog\n"
    "  ingot pull qwen2.5:0.5b && ingot run -m qwen2.5:0.5b -p \"Hello\"\n";

typedef struct list_state {
    bool json;
    int n;
    uint64_t sum;
} list_state;

static void json_kv(const char *k, const char *v, bool comma) {
    printf("%s\"%s\":", comma ? "," : "", k);
    cli_json_str(stdout, v ? v : "", v ? strlen(v) : 0);
}

static bool on_model(const ingot_hub_model *m, void *user) {
    list_state *s = user;
    if (s->json) {
        printf("%s{", s->n ? "," : "");
        json_kv("ref", m->ref, false);
        json_kv("repo", m->repo, true);
        json_kv("commit", m->commit, true);
        json_kv("revisions", m->revisions, true);
        json_kv("format", m->format, true);
        json_kv("quant", m->quant, true);
        json_kv("path", m->path, true);
        printf(",\"size\":%llu,\"mtime\":%lld}", (unsigned long long)m->size, (long long)m->mtime);
    } else {
        if (s->n == 0) printf("%-56s %-12s %-8s %9s  %s\n", "MODEL", "FORMAT", "QUANT", "SIZE", "PATH");
        char size[32];
        cli_human_size(m->size, size, sizeof size);
        printf("%-56s %-12s %-8s %9s  %s\n", m->ref, m->format, m->quant[0] ? m->quant : "-", size, m->path);
    }
    s->n++;
    s->sum += m->size;
    return true;
}

static int list_installed(bool json) {
    ingot_hub_options o = ingot_hub_default_options();
    char cache[4096];
    if (!ingot_hub_cache_dir(&o, cache, sizeof cache))
        return cli_fail(1, "list", "cannot tell where the hub cache is: set HF_HUB_CACHE or HF_HOME");
    list_state s = {json, 0, 0};
    uint64_t total = 0;
    ingot_error err = {0};
    if (json) printf("{\"cache\":%s", "");
    if (json) {
        cli_json_str(stdout, cache, strlen(cache));
        printf(",\"models\":[");
    }
    ingot_status st = ingot_hub_list(&o, on_model, &s, &total, &err);
    if (st) {
        if (json) printf("]}\n");
        return cli_fail(1, "list", "%s", err.message);
    }
    if (json) {
        printf("],\"count\":%d,\"total_bytes\":%llu}\n", s.n, (unsigned long long)total);
        return 0;
    }
    char t[32];
    cli_human_size(total, t, sizeof t);
    if (s.n == 0)
        printf("no models in %s\nget one with `ingot pull REF` (see `ingot list --catalog`)\n", cache);
    else
        printf("\n%d model%s, %s on disk in %s\n", s.n, s.n == 1 ? "" : "s", t, cache);
    return 0;
}

static int list_catalog(bool json) {
    size_t n;
    const ingot_hub_catalog_entry *c = ingot_hub_catalog(&n);
    uint64_t ram = ingot_hub_machine_ram();
    char ramh[32];
    cli_human_size(ram, ramh, sizeof ramh);
    ingot_hub_options o = ingot_hub_default_options();
    o.offline = 1; /* whether it is installed: the cache alone says */
    if (json) printf("{\"ram_bytes\":%llu,\"catalog\":[", (unsigned long long)ram);
    else
        printf("this machine has %s of RAM; models marked 'yes' fit\n\n%-20s %-5s %-4s %9s %9s %-9s %s\n", ramh,
               "ALIAS", "FITS", "FMT", "SIZE", "MEMORY", "INSTALLED", "MODEL");
    for (size_t i = 0; i < n; i++) {
        bool fits = ingot_hub_catalog_fits(&c[i], ram);
        char *path = NULL;
        bool installed = ingot_hub_resolve(c[i].alias, &o, &path, NULL) == INGOT_OK;
        free(path);
        if (json) {
            printf("%s{", i ? "," : "");
            json_kv("alias", c[i].alias, false);
            json_kv("repo", c[i].repo, true);
            json_kv("file", c[i].file, true);
            json_kv("format", c[i].format, true);
            json_kv("description", c[i].description, true);
            printf(",\"size_bytes\":%llu,\"mem_bytes\":%llu,\"fits\":%s,\"installed\":%s}",
                   (unsigned long long)c[i].size_bytes, (unsigned long long)c[i].mem_bytes, fits ? "true" : "false",
                   installed ? "true" : "false");
            continue;
        }
        char size[32], mem[32], model[512];
        cli_human_size(c[i].size_bytes, size, sizeof size);
        cli_human_size(c[i].mem_bytes, mem, sizeof mem);
        snprintf(model, sizeof model, "%s%s%s", c[i].repo, c[i].file ? "/" : "", c[i].file ? c[i].file : "");
        printf("%-20s %-5s %-4s %9s %9s %-9s %s\n", c[i].alias, fits ? "yes" : "no",
               strcmp(c[i].format, "mlx") ? "gguf" : "mlx", size, mem, installed ? "yes" : "-", model);
    }
    if (json) printf("]}\n");
    else printf("\nmlx models run on Apple Silicon; get one with `ingot pull ALIAS`\n");
    return 0;
}

int cmd_list(int argc, char **argv) {
    bool json = false, catalog = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(USAGE, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--catalog")) {
            catalog = true;
        } else {
            return cli_fail(2, "list", "unexpected '%s' (see `ingot list --help`)", argv[i]);
        }
    }
    return catalog ? list_catalog(json) : list_installed(json);
}
