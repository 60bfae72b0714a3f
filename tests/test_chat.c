/* Every case of fixtures/chat/golden.json (renderings by Python Jinja2 under
 * Hugging Face's apply_chat_template setup) through the library: byte for
 * byte where Jinja2 rendered, INGOT_E_TEMPLATE with the same message where
 * it raised. Prints the count passed per template and lists failures. */
#include <jansson.h>

#include "ingot.h"
#include "test.h"

/* 2026-01-15 09:30:00, the time the goldens pinned strftime_now to. */
#define GOLDEN_NOW 1768469400LL

/* Jinja2's message without its "ExceptionClass: " or "compile: " prefix. */
static const char *jinja_msg(const char *e) {
    const char *colon = strstr(e, ": ");
    return colon ? colon + 2 : e;
}

static char *read_template(const char *name, size_t *len) {
    char rel[512];
    snprintf(rel, sizeof rel, "chat/templates/%s", name);
    return test_read_file(test_fixture(rel), len);
}

int main(void) {
    size_t glen;
    char *gsrc = test_read_file(test_fixture("chat/golden.json"), &glen);
    CHECK(gsrc != NULL, "golden.json readable");
    if (!gsrc) TEST_END();
    json_error_t je;
    json_t *golden = json_loadb(gsrc, glen, 0, &je);
    CHECK(json_is_array(golden), "golden.json parses: %s", je.text);
    if (!golden) TEST_END();
    const char *verbose = getenv("INGOT_TEST_VERBOSE");

    const char *cur_tpl = "";
    int tpl_pass = 0, tpl_total = 0, all_pass = 0, all_total = 0;
    size_t i;
    json_t *cs;
    json_array_foreach(golden, i, cs) {
        const char *tname = json_string_value(json_object_get(cs, "template"));
        const char *cname = json_string_value(json_object_get(cs, "case"));
        if (strcmp(tname, cur_tpl) != 0) {
            if (tpl_total) printf("%-55s %d/%d\n", cur_tpl, tpl_pass, tpl_total);
            cur_tpl = tname;
            tpl_pass = tpl_total = 0;
        }
        tpl_total++;
        all_total++;
        size_t tlen;
        char *tsrc = read_template(tname, &tlen);
        CHECK(tsrc != NULL, "template %s readable", tname);
        if (!tsrc) continue;
        json_t *expected = json_object_get(cs, "expected");
        const char *want_err = json_string_value(json_object_get(cs, "error"));

        ingot_template *t = NULL;
        ingot_error err = {0};
        ingot_status st = ingot_template_new(tsrc, tlen, &t, &err);
        bool ok = false;
        char detail[600] = "";
        if (st != INGOT_OK) {
            if (want_err && !strncmp(want_err, "compile: ", 9)) {
                ok = st == INGOT_E_TEMPLATE && strstr(err.message, jinja_msg(want_err)) != NULL;
                if (!ok) snprintf(detail, sizeof detail, "parse error '%s', want '%s'", err.message, want_err);
            } else snprintf(detail, sizeof detail, "parse failed: %s", err.message);
        } else {
            json_t *ctx = json_object();
            json_object_set(ctx, "messages", json_object_get(cs, "messages"));
            json_object_set(ctx, "add_generation_prompt", json_object_get(cs, "add_generation_prompt"));
            json_object_set(ctx, "bos_token", json_object_get(cs, "bos_token"));
            json_object_set(ctx, "eos_token", json_object_get(cs, "eos_token"));
            if (json_object_get(cs, "tools")) json_object_set(ctx, "tools", json_object_get(cs, "tools"));
            char *ctx_s = json_dumps(ctx, JSON_COMPACT);
            ingot_template_options o = ingot_template_default_options();
            o.now = GOLDEN_NOW;
            char *out = NULL;
            size_t out_len = 0;
            st = ingot_template_render(t, ctx_s, &o, &out, &out_len, &err);
            if (expected) {
                const char *exp = json_string_value(expected);
                size_t exp_len = json_string_length(expected);
                ok = st == INGOT_OK && out_len == exp_len && memcmp(out, exp, exp_len) == 0;
                if (!ok && st != INGOT_OK) snprintf(detail, sizeof detail, "render failed: %s", err.message);
                else if (!ok) {
                    size_t k = 0;
                    while (k < out_len && k < exp_len && out[k] == exp[k]) k++;
                    snprintf(detail, sizeof detail, "differs at byte %zu: got \"%.40s\" want \"%.40s\"", k,
                             out + k, exp + k);
                    if (verbose) fprintf(stderr, "--- got\n%s\n--- want\n%s\n", out, exp);
                }
            } else {
                ok = st == INGOT_E_TEMPLATE && strstr(err.message, jinja_msg(want_err)) != NULL;
                if (!ok) snprintf(detail, sizeof detail, "want error '%s', got status %d '%s'", want_err, st,
                                  st ? err.message : "(rendered)");
            }
            free(out);
            free(ctx_s);
            json_decref(ctx);
        }
        ingot_template_free(t);
        free(tsrc);
        CHECK(ok, "%s [%s]: %s", tname, cname, detail);
        if (ok) {
            tpl_pass++;
            all_pass++;
        }
    }
    if (tpl_total) printf("%-55s %d/%d\n", cur_tpl, tpl_pass, tpl_total);
    printf("golden cases: %d/%d\n", all_pass, all_total);
    CHECK_INT_EQ(all_total, 370);
    json_decref(golden);
    free(gsrc);
    TEST_END();
}
