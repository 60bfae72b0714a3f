/* Hub layer without a network: reference parsing and validation, the
 * local-path-or-reference predicate, quantization names, split parts, the
 * choice of files for a reference, the catalog's RAM rule, where the cache
 * is (HF_HUB_CACHE > HF_HOME > XDG_CACHE_HOME > HOME), the token file, and
 * the relative snapshot symlinks huggingface_hub writes. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hub/hub.h"
#include "test.h"

static void test_parse(void) {
    hub_ref r;
    ingot_error e = {0};
    CHECK_INT_EQ(hub_ref_parse("org/repo", &r, &e), INGOT_OK);
    CHECK_STR_EQ(r.repo, "org/repo");
    CHECK_STR_EQ(r.revision, "main");
    CHECK_STR_EQ(r.file, "");
    CHECK_STR_EQ(r.tag, "");

    CHECK_INT_EQ(hub_ref_parse("bartowski/Llama-3.2-1B-Instruct-GGUF:q4_k_m", &r, &e), INGOT_OK);
    CHECK_STR_EQ(r.repo, "bartowski/Llama-3.2-1B-Instruct-GGUF");
    CHECK_STR_EQ(r.tag, "q4_k_m");

    CHECK_INT_EQ(hub_ref_parse("org/repo:stories260K.gguf", &r, &e), INGOT_OK);
    CHECK_STR_EQ(r.file, "stories260K.gguf");
    CHECK_STR_EQ(r.tag, "");

    CHECK_INT_EQ(hub_ref_parse("hf://ggml-org/models/tinyllamas/stories260K.gguf", &r, &e), INGOT_OK);
    CHECK_STR_EQ(r.repo, "ggml-org/models");
    CHECK_STR_EQ(r.file, "tinyllamas/stories260K.gguf");

    CHECK_INT_EQ(hub_ref_parse("org/repo@v1.0/sub/file.gguf", &r, &e), INGOT_OK);
    CHECK_STR_EQ(r.revision, "v1.0");
    CHECK(r.explicit_revision, "explicit revision");
    CHECK_STR_EQ(r.file, "sub/file.gguf");

    CHECK_INT_EQ(hub_ref_parse("org/repo@0123456789abcdef0123456789abcdef01234567:Q8_0", &r, &e), INGOT_OK);
    CHECK_STR_EQ(r.revision, "0123456789abcdef0123456789abcdef01234567");
    CHECK_STR_EQ(r.tag, "Q8_0");

    CHECK_INT_EQ(hub_ref_parse("qwen2.5:0.5b", &r, &e), INGOT_OK);
    CHECK_STR_EQ(r.repo, "Qwen/Qwen2.5-0.5B-Instruct-GGUF");
    CHECK_STR_EQ(r.file, "qwen2.5-0.5b-instruct-q4_k_m.gguf");
    CHECK(r.alias != NULL, "alias recorded");
    CHECK_INT_EQ(hub_ref_parse("gemma3n:e2b-mlx", &r, &e), INGOT_OK);
    CHECK_STR_EQ(r.repo, "mlx-community/gemma-3n-E2B-it-4bit");
    CHECK_STR_EQ(r.file, "");

    /* Nothing from a reference may leave the cache folder. */
    static const char *bad[] = {"org/repo/../../../etc/passwd", "org/repo/a//b.gguf", "org/../x",
                                "a--b/c", "org/", "/org/repo", "org/repo:", "org/repo@", "o rg/repo",
                                "org/repo/./x.gguf", "org/repo@../x", "nonsense-alias", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ingot_status s = hub_ref_parse(bad[i], &r, &e);
        CHECK(s != INGOT_OK, "'%s' accepted", bad[i]);
        CHECK(e.message[0] != 0, "no message for '%s'", bad[i]);
    }
    CHECK_INT_EQ(hub_ref_parse("nonsense-alias", &r, &e), INGOT_E_NOT_FOUND);
    CHECK(strstr(e.message, "--catalog") != NULL, "alias error points to the catalog: %s", e.message);
}

static void test_is_reference(void) {
    CHECK(ingot_hub_is_reference("org/repo"), "org/repo");
    CHECK(ingot_hub_is_reference("org/repo:Q4_K_M"), "quant");
    CHECK(ingot_hub_is_reference("org/repo/dir/file.gguf"), "file in repo");
    CHECK(ingot_hub_is_reference("hf://org/repo/file.gguf"), "hf://");
    CHECK(ingot_hub_is_reference("llama3.2:1b"), "alias");
    CHECK(!ingot_hub_is_reference("model.gguf"), "bare file name");
    CHECK(!ingot_hub_is_reference("models/model.gguf"), "dir/file.gguf is local");
    CHECK(!ingot_hub_is_reference("./org/repo"), "./ is local");
    CHECK(!ingot_hub_is_reference("/abs/path.gguf"), "absolute");
    CHECK(!ingot_hub_is_reference(test_fixture("models/real/stories260K.gguf")), "existing file");
    CHECK(!ingot_hub_is_reference(""), "empty");
    CHECK(!ingot_hub_is_reference(NULL), "NULL");
}

static void test_names(void) {
    CHECK_STR_EQ(hub_quant_from_name("Llama-3.2-1B-Instruct-Q4_K_M.gguf"), "Q4_K_M");
    CHECK_STR_EQ(hub_quant_from_name("qwen2.5-0.5b-instruct-q4_k_m.gguf"), "Q4_K_M");
    CHECK_STR_EQ(hub_quant_from_name("dir/model.Q8_0.gguf"), "Q8_0");
    CHECK_STR_EQ(hub_quant_from_name("gemma-2-2b-it-IQ4_XS.gguf"), "IQ4_XS");
    CHECK_STR_EQ(hub_quant_from_name("x-Q4_K.gguf"), "Q4_K");
    CHECK_STR_EQ(hub_quant_from_name("x-bf16.gguf"), "BF16");
    CHECK_STR_EQ(hub_quant_from_name("big-Q4_K_M-00001-of-00002.gguf"), "Q4_K_M");
    CHECK(hub_quant_from_name("stories260K.gguf") == NULL, "no quant in stories260K");
    CHECK(hub_quant_from_name("XQ4_0.gguf") == NULL, "Q4_0 inside a word");
    int part, count;
    size_t stem;
    CHECK(hub_split_part("a/big-00002-of-00003.gguf", &part, &count, &stem), "split");
    CHECK_INT_EQ(part, 2);
    CHECK_INT_EQ(count, 3);
    CHECK_INT_EQ(stem, strlen("a/big"));
    CHECK(!hub_split_part("big-00004-of-00003.gguf", &part, &count, &stem), "part > count");
    CHECK(!hub_split_part("big.gguf", &part, &count, &stem), "not split");
    char buf[32];
    hub_format_size(999, buf, sizeof buf);
    CHECK_STR_EQ(buf, "999 B");
    hub_format_size(1185376, buf, sizeof buf);
    CHECK_STR_EQ(buf, "1.19 MB");
    hub_format_size(4680000000ull, buf, sizeof buf);
    CHECK_STR_EQ(buf, "4.68 GB");
}

static hub_file mk(const char *path, uint64_t size) {
    hub_file f;
    memset(&f, 0, sizeof f);
    snprintf(f.path, sizeof f.path, "%s", path);
    f.size = size;
    f.size_known = true;
    return f;
}

static const char *select_path(const char *refstr, const hub_file *files, int n, uint64_t ram,
                               hub_selection *sel, ingot_error *e) {
    hub_ref r;
    if (hub_ref_parse(refstr, &r, e) != INGOT_OK) return NULL;
    if (hub_select(&r, files, n, ram, sel, e) != INGOT_OK) return NULL;
    return sel->main_idx >= 0 ? files[sel->main_idx].path : "(snapshot)";
}

static void test_select(void) {
    hub_file gg[] = {mk(".gitattributes", 10), mk("README.md", 100), mk("m-F16.gguf", 3000),
                     mk("m-Q4_K_M.gguf", 1000), mk("m-Q8_0.gguf", 1800), mk("mmproj-m-F16.gguf", 500)};
    int n = 6;
    hub_selection sel;
    ingot_error e = {0};
    const char *p = select_path("o/m", gg, n, 100000, &sel, &e);
    CHECK_STR_EQ(p, "m-Q4_K_M.gguf");
    CHECK(strstr(sel.note, "Q4_K_M") != NULL, "note says why: %s", sel.note);
    CHECK_STR_EQ(sel.quant, "Q4_K_M");
    CHECK_STR_EQ(sel.format, "gguf");
    CHECK_INT_EQ(sel.n, 1);
    hub_selection_free(&sel);
    p = select_path("o/m:q8_0", gg, n, 100000, &sel, &e);
    CHECK_STR_EQ(p, "m-Q8_0.gguf");
    CHECK_STR_EQ(sel.note, "");
    hub_selection_free(&sel);
    p = select_path("o/m:m-F16", gg, n, 100000, &sel, &e);
    CHECK_STR_EQ(p, "m-F16.gguf");
    hub_selection_free(&sel);
    p = select_path("o/m:Q2_K", gg, n, 100000, &sel, &e);
    CHECK(p == NULL, "no Q2_K");
    CHECK_INT_EQ(e.status, INGOT_E_NOT_FOUND);
    CHECK(strstr(e.message, "Q2_K") && strstr(e.message, "m-Q8_0.gguf"), "lists what exists: %s", e.message);
    hub_selection_free(&sel);
    p = select_path("o/m/missing.gguf", gg, n, 100000, &sel, &e);
    CHECK(p == NULL && strstr(e.message, "missing.gguf"), "names the missing file: %s", e.message);
    hub_selection_free(&sel);

    /* No Q4_K_M: the largest that fits 70% of RAM, F32 only when alone. */
    hub_file nq[] = {mk("n-F16.gguf", 3000), mk("n-F32.gguf", 6000), mk("n-Q4_0.gguf", 1000), mk("n-Q8_0.gguf", 1900)};
    p = select_path("o/n", nq, 4, 3000, &sel, &e);
    CHECK_STR_EQ(p, "n-Q8_0.gguf");
    CHECK(strstr(sel.note, "fits") != NULL, "note: %s", sel.note);
    hub_selection_free(&sel);
    p = select_path("o/n", nq, 4, 100000, &sel, &e);
    CHECK_STR_EQ(p, "n-F16.gguf");
    hub_selection_free(&sel);
    p = select_path("o/n", nq, 4, 1000, &sel, &e);
    CHECK_STR_EQ(p, "n-Q4_0.gguf");
    CHECK(strstr(sel.note, "smallest") != NULL, "note: %s", sel.note);
    hub_selection_free(&sel);

    /* Split files come together; the path is part 1. */
    hub_file sp[] = {mk("README.md", 5), mk("b-Q4_K_M-00001-of-00002.gguf", 10), mk("b-Q4_K_M-00002-of-00002.gguf", 20),
                     mk("b-Q8_0.gguf", 25)};
    p = select_path("o/b", sp, 4, 1000, &sel, &e);
    CHECK_STR_EQ(p, "b-Q4_K_M-00001-of-00002.gguf");
    CHECK_INT_EQ(sel.n, 2);
    hub_selection_free(&sel);

    /* A safetensors/MLX repo: the whole snapshot minus docs and other runtimes. */
    hub_file st[] = {mk("README.md", 5), mk("config.json", 5), mk("model.safetensors", 50),
                     mk("model.safetensors.index.json", 5), mk("tokenizer.json", 9), mk("tokenizer.model", 9),
                     mk("original/consolidated.00.pth", 90), mk("chat_template.jinja", 3), mk("image.png", 4)};
    p = select_path("o/s", st, 9, 1000, &sel, &e);
    CHECK_STR_EQ(p, "(snapshot)");
    CHECK_INT_EQ(sel.n, 6);
    for (int k = 0; k < sel.n; k++) {
        const char *f = st[sel.idx[k]].path;
        CHECK(strcmp(f, "README.md") && strcmp(f, "image.png") && !strchr(f, '/'), "unexpected %s", f);
    }
    hub_selection_free(&sel);
    hub_file none[] = {mk("README.md", 5), mk("weights.pt", 5)};
    p = select_path("o/x", none, 2, 1000, &sel, &e);
    CHECK(p == NULL && e.status == INGOT_E_UNSUPPORTED, "no weights: %s", e.message);
    hub_selection_free(&sel);
}

static void test_catalog(void) {
    size_t n;
    const ingot_hub_catalog_entry *c = ingot_hub_catalog(&n);
    CHECK(n >= 12, "catalog has %zu entries", n);
    static const char *need[] = {"mlx-community/gemma-3n-E2B-it-4bit", "mlx-community/gemma-3n-E4B-it-4bit",
                                 "mlx-community/Qwen2.5-3B-Instruct-4bit", "mlx-community/Llama-3.2-3B-Instruct-4bit",
                                 "mlx-community/Mistral-7B-Instruct-v0.3-4bit", "mlx-community/Phi-3.5-mini-instruct-4bit"};
    for (size_t k = 0; k < sizeof need / sizeof need[0]; k++) {
        bool found = false;
        for (size_t i = 0; i < n; i++) found |= !strcmp(c[i].repo, need[k]);
        CHECK(found, "catalog lacks %s", need[k]);
    }
    for (size_t i = 0; i < n; i++) {
        hub_ref r;
        CHECK_INT_EQ(hub_ref_parse(c[i].alias, &r, NULL), INGOT_OK);
        CHECK(hub_repo_id_valid(c[i].repo), "bad repo %s", c[i].repo);
        CHECK(!c[i].file || hub_repo_path_valid(c[i].file), "bad file for %s", c[i].alias);
        CHECK(c[i].mem_bytes > c[i].size_bytes, "%s needs more memory than its size", c[i].alias);
    }
    const uint64_t GB = 1000ull * 1000 * 1000;
    CHECK(ingot_hub_catalog_fits(ingot_hub_catalog_find("llama3.2:3b"), 8 * GB), "3B on 8 GB");
    CHECK(!ingot_hub_catalog_fits(ingot_hub_catalog_find("qwen2.5:7b"), 8 * GB), "7B not on 8 GB");
    CHECK(ingot_hub_catalog_fits(ingot_hub_catalog_find("qwen2.5:7b"), 16 * GB), "7B on 16 GB");
    CHECK(ingot_hub_catalog_fits(ingot_hub_catalog_find("mistral:7b-mlx"), 16 * GB), "Mistral 7B on 16 GB");
    CHECK(ingot_hub_catalog_find("LLAMA3.2:1B") != NULL, "case-insensitive alias");
    CHECK(!ingot_hub_catalog_fits(NULL, 8 * GB), "NULL entry");
}

static void test_env(const char *tmp) {
    char buf[4096];
    unsetenv("HF_HUB_CACHE");
    unsetenv("HUGGINGFACE_HUB_CACHE");
    unsetenv("HF_HOME");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/u", 1);
    CHECK(ingot_hub_cache_dir(NULL, buf, sizeof buf), "home");
    CHECK_STR_EQ(buf, "/home/u/.cache/huggingface/hub");
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    ingot_hub_cache_dir(NULL, buf, sizeof buf);
    CHECK_STR_EQ(buf, "/xdg/huggingface/hub");
    setenv("HF_HOME", tmp, 1);
    ingot_hub_cache_dir(NULL, buf, sizeof buf);
    char want[4096];
    snprintf(want, sizeof want, "%s/hub", tmp);
    CHECK_STR_EQ(buf, want);
    setenv("HF_HUB_CACHE", "/hubcache/", 1);
    ingot_hub_cache_dir(NULL, buf, sizeof buf);
    CHECK_STR_EQ(buf, "/hubcache");
    ingot_hub_options o = ingot_hub_default_options();
    o.cache_dir = "/opt/c";
    ingot_hub_cache_dir(&o, buf, sizeof buf);
    CHECK_STR_EQ(buf, "/opt/c");

    /* Token: HF_TOKEN, else $HF_HOME/token; endpoint: HF_ENDPOINT; offline. */
    char tokpath[4096];
    snprintf(tokpath, sizeof tokpath, "%s/token", tmp);
    FILE *f = fopen(tokpath, "w");
    fputs("hf_fromfile\n", f);
    fclose(f);
    unsetenv("HF_TOKEN");
    unsetenv("HUGGING_FACE_HUB_TOKEN");
    unsetenv("HF_TOKEN_PATH");
    setenv("HF_ENDPOINT", "http://mirror.example/", 1);
    setenv("HF_HUB_OFFLINE", "1", 1);
    hub_env env;
    CHECK_INT_EQ(hub_env_init(&env, NULL, NULL), INGOT_OK);
    CHECK_STR_EQ(env.token, "hf_fromfile");
    CHECK_STR_EQ(env.endpoint, "http://mirror.example");
    CHECK(env.offline, "HF_HUB_OFFLINE=1");
    setenv("HF_TOKEN", "hf_env", 1);
    setenv("HF_HUB_OFFLINE", "0", 1);
    hub_env_init(&env, NULL, NULL);
    CHECK_STR_EQ(env.token, "hf_env");
    CHECK(!env.offline, "HF_HUB_OFFLINE=0");
    o = ingot_hub_default_options();
    o.token = "";
    hub_env_init(&env, &o, NULL);
    CHECK_STR_EQ(env.token, "");
    setenv("HF_TOKEN", "bad token", 1);
    ingot_error e = {0};
    CHECK_INT_EQ(hub_env_init(&env, NULL, &e), INGOT_E_INVALID_ARG);
    unlink(tokpath);
    unsetenv("HF_TOKEN");
    unsetenv("HF_ENDPOINT");
    unsetenv("HF_HUB_OFFLINE");
    unsetenv("HF_HUB_CACHE");
}

static void test_links(const char *tmp) {
    char repo[4096], link[4096 + 64], target[4096];
    snprintf(repo, sizeof repo, "%s/models--o--r", tmp);
    const char *commit = "0123456789abcdef0123456789abcdef01234567";
    CHECK_INT_EQ(hub_snapshot_link(repo, commit, "a.gguf", "e1", NULL), INGOT_OK);
    CHECK_INT_EQ(hub_snapshot_link(repo, commit, "d/e/b.gguf", "e2", NULL), INGOT_OK);
    snprintf(link, sizeof link, "%s/snapshots/%s/a.gguf", repo, commit);
    ssize_t n = readlink(link, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    CHECK_STR_EQ(target, "../../blobs/e1");
    snprintf(link, sizeof link, "%s/snapshots/%s/d/e/b.gguf", repo, commit);
    n = readlink(link, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    CHECK_STR_EQ(target, "../../../../blobs/e2");
    /* Replacing a link is atomic and leaves no temporary behind. */
    CHECK_INT_EQ(hub_snapshot_link(repo, commit, "a.gguf", "e3", NULL), INGOT_OK);
    snprintf(link, sizeof link, "%s/snapshots/%s/a.gguf", repo, commit);
    n = readlink(link, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    CHECK_STR_EQ(target, "../../blobs/e3");
    CHECK_INT_EQ(hub_ref_write(repo, "main", commit, NULL), INGOT_OK);
    char got[64];
    CHECK(hub_ref_read(repo, "main", got), "ref read");
    CHECK_STR_EQ(got, commit);
    CHECK(!hub_ref_read(repo, "other", got), "missing ref");
    CHECK(hub_ref_read(repo, commit, got), "a commit is its own ref");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", repo);
    CHECK_INT_EQ(system(cmd), 0);
}

int main(void) {
    const char *tmp = test_tmpdir();
    if (!tmp) return 1;
    test_parse();
    test_is_reference();
    test_names();
    test_select();
    test_catalog();
    test_env(tmp);
    test_links(tmp);
    rmdir(tmp);
    TEST_END();
}
