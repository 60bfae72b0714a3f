/* Owns the curated catalog: short aliases for models known to run well,
 * each with its hub repository, file (or whole MLX snapshot), download size
 * and the memory it needs, and the rule that says whether one fits this
 * machine. Sizes are the published files' sizes, rounded; memory adds the
 * KV cache for a 4096-token context and the runtime's working buffers. */
#include <strings.h>

#include "base/platform.h"
#include "hub/hub.h"

#define MB (1000ull * 1000ull)

static const ingot_hub_catalog_entry catalog[] = {
    /* GGUF, run by the cpu backend on every machine. */
    {"qwen2.5:0.5b", "Qwen/Qwen2.5-0.5B-Instruct-GGUF", "qwen2.5-0.5b-instruct-q4_k_m.gguf", "gguf",
     "Qwen2.5 0.5B Instruct, Q4_K_M", 491 * MB, 900 * MB},
    {"llama3.2:1b", "bartowski/Llama-3.2-1B-Instruct-GGUF", "Llama-3.2-1B-Instruct-Q4_K_M.gguf", "gguf",
     "Llama 3.2 1B Instruct, Q4_K_M", 808 * MB, 1400 * MB},
    {"qwen2.5-coder:1.5b", "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
     "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "gguf", "Qwen2.5 Coder 1.5B Instruct, Q4_K_M",
     1120 * MB, 1700 * MB},
    {"gemma2:2b", "bartowski/gemma-2-2b-it-GGUF", "gemma-2-2b-it-Q4_K_M.gguf", "gguf",
     "Gemma 2 2B it, Q4_K_M", 1710 * MB, 2600 * MB},
    {"llama3.2:3b", "bartowski/Llama-3.2-3B-Instruct-GGUF", "Llama-3.2-3B-Instruct-Q4_K_M.gguf", "gguf",
     "Llama 3.2 3B Instruct, Q4_K_M", 2020 * MB, 3000 * MB},
    {"qwen2.5:7b", "bartowski/Qwen2.5-7B-Instruct-GGUF", "Qwen2.5-7B-Instruct-Q4_K_M.gguf", "gguf",
     "Qwen2.5 7B Instruct, Q4_K_M", 4680 * MB, 6500 * MB},
    /* MLX 4-bit snapshots, run by the mlx backend on Apple Silicon. */
    {"gemma3n:e2b-mlx", "mlx-community/gemma-3n-E2B-it-4bit", NULL, "mlx",
     "Gemma 3n E2B it, MLX 4-bit", 3600 * MB, 4500 * MB},
    {"gemma3n:e4b-mlx", "mlx-community/gemma-3n-E4B-it-4bit", NULL, "mlx",
     "Gemma 3n E4B it, MLX 4-bit", 5200 * MB, 6500 * MB},
    {"qwen2.5:3b-mlx", "mlx-community/Qwen2.5-3B-Instruct-4bit", NULL, "mlx",
     "Qwen2.5 3B Instruct, MLX 4-bit", 1740 * MB, 2700 * MB},
    {"llama3.2:3b-mlx", "mlx-community/Llama-3.2-3B-Instruct-4bit", NULL, "mlx",
     "Llama 3.2 3B Instruct, MLX 4-bit", 1820 * MB, 2900 * MB},
    {"phi3.5:mini-mlx", "mlx-community/Phi-3.5-mini-instruct-4bit", NULL, "mlx",
     "Phi-3.5 mini instruct, MLX 4-bit", 2150 * MB, 3300 * MB},
    {"mistral:7b-mlx", "mlx-community/Mistral-7B-Instruct-v0.3-4bit", NULL, "mlx",
     "Mistral 7B Instruct v0.3, MLX 4-bit", 4080 * MB, 5800 * MB},
    /* A 260K-parameter story model: a one-second download to try things out. */
    {"stories:260k", "ggml-org/models", "tinyllamas/stories260K.gguf", "gguf",
     "TinyStories 260K (llama2.c), F32, for testing", 1185376, 20 * MB},
};

const ingot_hub_catalog_entry *ingot_hub_catalog(size_t *n) {
    if (n) *n = sizeof catalog / sizeof catalog[0];
    return catalog;
}

const ingot_hub_catalog_entry *ingot_hub_catalog_find(const char *alias) {
    if (!alias) return NULL;
    for (size_t i = 0; i < sizeof catalog / sizeof catalog[0]; i++)
        if (!strcasecmp(alias, catalog[i].alias)) return &catalog[i];
    return NULL;
}

bool ingot_hub_catalog_fits(const ingot_hub_catalog_entry *e, uint64_t ram_bytes) {
    if (!e) return false;
    if (ram_bytes == 0) ram_bytes = ingot_ram_total();
    /* 60% of RAM: an 8 GB machine runs 3B-class models, 16 GB 7-8B ones. */
    return e->mem_bytes <= ram_bytes / 10 * 6;
}

uint64_t ingot_hub_machine_ram(void) { return ingot_ram_total(); }
