/* Prompt building without a model: effective messages (system prompt
 * placement), plain concatenation, the template's JSON context (escaping,
 * invalid UTF-8), and the prefix-reuse rule. */
#include <jansson.h>

#include "generate/prompt.h"
#include "test.h"

static void test_messages(void) {
    ingot_generate_params p = ingot_generate_default_params();
    ingot_message *m;
    int32_t n;
    ingot_error err;
    CHECK_INT_EQ(ingot_prompt_messages(&p, &m, &n, &err), INGOT_E_INVALID_ARG);
    p.prompt = "hi";
    CHECK_INT_EQ(ingot_prompt_messages(&p, &m, &n, &err), INGOT_OK);
    CHECK(n == 1 && !strcmp(m[0].role, "user") && !strcmp(m[0].content, "hi"), "prompt as user message");
    free(m);
    p.system = "be brief";
    CHECK_INT_EQ(ingot_prompt_messages(&p, &m, &n, &err), INGOT_OK);
    CHECK(n == 2 && !strcmp(m[0].role, "system") && !strcmp(m[0].content, "be brief") && !strcmp(m[1].role, "user"),
          "system first");
    free(m);
    /* messages win over prompt; a leading system message wins over .system */
    ingot_message conv[3] = {{"system", "S"}, {"user", "u1"}, {"assistant", "a1"}};
    p.messages = conv;
    p.n_messages = 3;
    CHECK_INT_EQ(ingot_prompt_messages(&p, &m, &n, &err), INGOT_OK);
    CHECK(n == 3 && !strcmp(m[0].content, "S") && !strcmp(m[2].content, "a1"), "own system message kept");
    free(m);
    p.messages = conv + 1;
    p.n_messages = 2;
    CHECK_INT_EQ(ingot_prompt_messages(&p, &m, &n, &err), INGOT_OK);
    CHECK(n == 3 && !strcmp(m[0].content, "be brief") && !strcmp(m[1].content, "u1"), "system added");
    /* plain concatenation */
    char *s;
    size_t len;
    CHECK_INT_EQ(ingot_prompt_concat(m, n, &s, &len, &err), INGOT_OK);
    CHECK_STR_EQ(s, "be brief\nu1\na1");
    CHECK_INT_EQ(len, strlen("be brief\nu1\na1"));
    free(s);
    free(m);
    /* a message without content is an error, not a crash */
    ingot_message bad[1] = {{"user", NULL}};
    p.messages = bad;
    p.n_messages = 1;
    CHECK_INT_EQ(ingot_prompt_messages(&p, &m, &n, &err), INGOT_E_INVALID_ARG);
    CHECK(strstr(err.message, "message 0") != NULL, "%s", err.message);
    p.messages = NULL;
    CHECK_INT_EQ(ingot_prompt_messages(&p, &m, &n, &err), INGOT_E_INVALID_ARG);
}

static void test_json(void) {
    ingot_message m[2] = {{"user", "say \"hi\"\n\\ \xC3\xA9 <|im_end|>"}, {"assistant", ""}};
    char *s;
    size_t len;
    ingot_error err;
    CHECK_INT_EQ(ingot_prompt_context_json(m, 2, "<s>", "</s>", &s, &len, &err), INGOT_OK);
    json_error_t je;
    json_t *root = json_loads(s, 0, &je);
    CHECK(root != NULL, "context is not JSON: %s", s);
    if (root) {
        json_t *msgs = json_object_get(root, "messages");
        CHECK_INT_EQ(json_array_size(msgs), 2);
        CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(msgs, 0), "content")), m[0].content);
        CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(msgs, 1), "role")), "assistant");
        CHECK(json_is_true(json_object_get(root, "add_generation_prompt")), "add_generation_prompt");
        CHECK_STR_EQ(json_string_value(json_object_get(root, "bos_token")), "<s>");
        CHECK_STR_EQ(json_string_value(json_object_get(root, "eos_token")), "</s>");
        json_decref(root);
    }
    CHECK_INT_EQ(len, strlen(s));
    free(s);
    ingot_message inv[1] = {{"user", "bad \xFF byte"}};
    CHECK_INT_EQ(ingot_prompt_context_json(inv, 1, "", "", &s, &len, &err), INGOT_E_INVALID_ARG);
    CHECK(strstr(err.message, "UTF-8") != NULL, "%s", err.message);
}

static void test_reuse(void) {
    const int32_t cache[6] = {1, 5, 6, 7, 8, 9};
    const int32_t same[6] = {1, 5, 6, 7, 8, 9};
    const int32_t longer[8] = {1, 5, 6, 7, 8, 9, 10, 11};
    const int32_t diverge[5] = {1, 5, 6, 3, 3};
    const int32_t shorter[3] = {1, 5, 6};
    CHECK_INT_EQ(ingot_prompt_reuse(cache, 6, longer, 8), 6);  /* a next turn */
    CHECK_INT_EQ(ingot_prompt_reuse(cache, 6, diverge, 5), 3); /* an edited history */
    CHECK_INT_EQ(ingot_prompt_reuse(cache, 6, same, 6), 5);    /* last token re-run for logits */
    CHECK_INT_EQ(ingot_prompt_reuse(cache, 6, shorter, 3), 2); /* a prefix of the cache */
    CHECK_INT_EQ(ingot_prompt_reuse(cache, 0, longer, 8), 0);  /* empty cache */
    CHECK_INT_EQ(ingot_prompt_reuse(cache, 6, longer + 1, 7), 0);
    CHECK_INT_EQ(ingot_prompt_reuse(cache, 6, same, 0), 0);
}

int main(void) {
    test_messages();
    test_json();
    test_reuse();
    TEST_END();
}
