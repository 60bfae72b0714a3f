/* `ingot rm`: removes a model from the Hugging Face cache — a file or a
 * whole snapshot, the refs naming it, and the blobs no other snapshot uses
 * — after saying what will go and asking (unless --yes). It refuses to
 * delete unasked when stdin is not a terminal. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char *USAGE =
    "usage: ingot rm [--yes] [--json] REF...\n"
    "\n"
    "Removes a model from the Hugging Face cache. REF is as `ingot list` shows\n"
    "it, or any reference `ingot pull` takes:\n"
    "  org/repo              the snapshot `main` points to, with all its files\n"
    "  org/repo@REV          another snapshot (a branch, tag or commit)\n"
    "  org/repo/FILE.gguf    one file of the snapshot (also org/repo:Q4_K_M)\n"
    "  ALIAS                 a catalog model\n"
    "File contents shared with another snapshot stay; refs that pointed to a\n"
    "removed snapshot go. It says what it will remove and asks first.\n"
    "\n"
    "options:\n"
    "  -y, --yes   do not ask (needed when stdin is not a terminal)\n"
    "  --json      print what was removed as JSON\n"
    "\n"
    "examples:\n"
    "  ingot rm qwen2.5:0.5b\n"
    "  ingot rm --yes bartowski/Llama-3.2-1B-Instruct-GGUF\n";

static bool confirm(void) {
    fprintf(stderr, "remove? [y/N] ");
    fflush(stderr);
    char line[64];
    if (!fgets(line, sizeof line, stdin)) return false;
    return line[0] == 'y' || line[0] == 'Y';
}

int cmd_rm(int argc, char **argv) {
    bool json = false, yes = false;
    const char *refs[64];
    int n_refs = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(USAGE, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "-y") || !strcmp(argv[i], "--yes")) {
            yes = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_fail(2, "rm", "unknown option '%s' (see `ingot rm --help`)", argv[i]);
        } else if (n_refs < 64) {
            refs[n_refs++] = argv[i];
        }
    }
    if (n_refs == 0) {
        fputs(USAGE, stderr);
        return 2;
    }
    if (!yes && !isatty(0))
        return cli_fail(2, "rm", "refusing to delete without confirmation: stdin is not a terminal "
                                 "(pass --yes to remove without asking)");
    ingot_hub_options o = ingot_hub_default_options();
    int rc = 0, n_out = 0;
    if (json) printf("[");
    for (int k = 0; k < n_refs; k++) {
        ingot_hub_removal plan, done;
        ingot_error err = {0};
        ingot_status st = ingot_hub_remove(refs[k], &o, true, &plan, &err);
        if (st) {
            rc = cli_fail(1, "rm", "%s", err.message);
            continue;
        }
        char freed[32];
        cli_human_size(plan.bytes_freed, freed, sizeof freed);
        if (!json || !yes) {
            fprintf(stderr, "%s\n  %d entr%s, %d blob%s to delete (%s)", plan.what, plan.n_links,
                    plan.n_links == 1 ? "y" : "ies", plan.n_blobs, plan.n_blobs == 1 ? "" : "s", freed);
            if (plan.n_blobs_kept)
                fprintf(stderr, ", %d kept: used by another snapshot", plan.n_blobs_kept);
            fputc('\n', stderr);
        }
        if (!yes && !confirm()) {
            fprintf(stderr, "nothing removed\n");
            rc = 1;
            continue;
        }
        st = ingot_hub_remove(refs[k], &o, false, &done, &err);
        if (st) {
            rc = cli_fail(1, "rm", "%s", err.message);
            continue;
        }
        cli_human_size(done.bytes_freed, freed, sizeof freed);
        if (json) {
            printf("%s{\"ref\":", n_out++ ? "," : "");
            cli_json_str(stdout, refs[k], strlen(refs[k]));
            printf(",\"what\":");
            cli_json_str(stdout, done.what, strlen(done.what));
            printf(",\"entries\":%d,\"blobs_deleted\":%d,\"blobs_kept\":%d,\"bytes_freed\":%llu}", done.n_links,
                   done.n_blobs, done.n_blobs_kept, (unsigned long long)done.bytes_freed);
        } else {
            printf("removed %s (%s freed)\n", refs[k], freed);
        }
    }
    if (json) printf("]\n");
    return rc;
}
