/* The `ingot` command: dispatches to one subcommand per file (cli/cmd_*.c). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const cli_command commands[] = {
    /* Keep sorted by workflow, one line per subcommand. */
    {"run", "generate text from a prompt, streamed to stdout", cmd_run},
    {"chat", "chat with a model in the terminal", cmd_chat},
    {"show", "describe a model: architecture, size, types, tokenizer", cmd_show},
    {"eval", "evaluate token ids and write logits (parity/debugging)", cmd_eval},
    {"tokenize", "text to token ids and back, with a model's tokenizer", cmd_tokenize},
    {"template", "render a chat template with a JSON context (try or debug a template)", cmd_template},
    {"quantize", "convert an F32/F16/BF16 model to Q8_0, Q4_K_M, ... (llama.cpp's mixtures)", cmd_quantize},
    {"bench", "measure prompt and generation speed, time to first token, memory", cmd_bench},
    {"pull", "download a model from the Hugging Face hub into the shared cache", cmd_pull},
    {"list", "list downloaded models (--catalog: models known to run well)", cmd_list},
    {"rm", "remove a downloaded model from the cache", cmd_rm},
    {"doctor", "what this machine can run, which backend auto picks and why", cmd_doctor},
    {"config", "show the effective settings and where each comes from; write a default file", cmd_config},
};

static void usage(FILE *f) {
    fprintf(f,
            "ingot %s — run language models on your own machine\n\n"
            "usage: ingot <command> [options]\n\n"
            "commands:\n",
            ingot_version());
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun `ingot <command> --help` for the options of one command.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("ingot %s\n", ingot_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(name, commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "ingot: unknown command '%s' (run `ingot --help` for the list)\n", name);
    return 2;
}
