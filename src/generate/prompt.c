/* Owns the model-independent part of prompt building: effective messages,
 * plain concatenation, the chat template's JSON context (built with
 * jansson so escaping is exact), and the prefix-reuse rule. */
#include "generate/prompt.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "generate/stream.h"

ingot_status ingot_prompt_messages(const ingot_generate_params *p, ingot_message **out, int32_t *n,
                                   ingot_error *err) {
    *out = NULL;
    *n = 0;
    if (p->n_messages < 0 || (p->n_messages > 0 && !p->messages))
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "%d messages but no array", (int)p->n_messages);
    if (p->n_messages == 0 && !p->prompt)
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "the request has neither a prompt nor messages");
    for (int32_t i = 0; i < p->n_messages; i++)
        if (!p->messages[i].role || !p->messages[i].content)
            return ingot_error_set(err, INGOT_E_INVALID_ARG, "message %d has no %s", (int)i,
                                   p->messages[i].role ? "content" : "role");
    int32_t n_in = p->n_messages ? p->n_messages : 1;
    bool add_system = p->system && !(p->n_messages > 0 && !strcmp(p->messages[0].role, "system"));
    ingot_message *m = malloc((size_t)(n_in + 1) * sizeof *m);
    if (!m) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    int32_t k = 0;
    if (add_system) m[k++] = (ingot_message){"system", p->system};
    if (p->n_messages) {
        memcpy(m + k, p->messages, (size_t)p->n_messages * sizeof *m);
        k += p->n_messages;
    } else {
        m[k++] = (ingot_message){"user", p->prompt};
    }
    *out = m;
    *n = k;
    return INGOT_OK;
}

ingot_status ingot_prompt_concat(const ingot_message *m, int32_t n, char **out, size_t *len, ingot_error *err) {
    size_t total = 1;
    for (int32_t i = 0; i < n; i++) total += strlen(m[i].content) + 1;
    char *s = malloc(total);
    if (!s) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    size_t o = 0;
    for (int32_t i = 0; i < n; i++) {
        if (i) s[o++] = '\n';
        size_t l = strlen(m[i].content);
        memcpy(s + o, m[i].content, l);
        o += l;
    }
    s[o] = 0;
    *out = s;
    if (len) *len = o;
    return INGOT_OK;
}

/* json_dumps' result goes back to jansson's deallocator. */
static void jsonp_free_str(char *s) {
    json_malloc_t m;
    json_free_t f;
    json_get_alloc_funcs(&m, &f);
    f(s);
}

static bool valid_utf8(const char *s) {
    size_t n = strlen(s), i = 0, l;
    while (i < n) {
        if (ingot_utf8_check((const unsigned char *)s + i, n - i, &l) != 1) return false;
        i += l;
    }
    return true;
}

ingot_status ingot_prompt_context_json(const ingot_message *m, int32_t n, const char *bos, const char *eos,
                                       char **out, size_t *len, ingot_error *err) {
    *out = NULL;
    for (int32_t i = 0; i < n; i++) {
        if (!valid_utf8(m[i].role) || !valid_utf8(m[i].content))
            return ingot_error_set(err, INGOT_E_INVALID_ARG, "message %d is not valid UTF-8", (int)i);
    }
    if (!valid_utf8(bos ? bos : "") || !valid_utf8(eos ? eos : ""))
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "the BOS/EOS token text is not valid UTF-8");
    json_t *root = json_object(), *msgs = json_array();
    bool ok = root && msgs && json_object_set_new(root, "messages", msgs) == 0;
    if (!ok) json_decref(msgs);
    for (int32_t i = 0; ok && i < n; i++) {
        json_t *o = json_object();
        ok = o && json_object_set_new(o, "role", json_string(m[i].role)) == 0 &&
             json_object_set_new(o, "content", json_string(m[i].content)) == 0 && json_array_append_new(msgs, o) == 0;
        if (!ok) json_decref(o);
    }
    ok = ok && json_object_set_new(root, "add_generation_prompt", json_true()) == 0 &&
         json_object_set_new(root, "bos_token", json_string(bos ? bos : "")) == 0 &&
         json_object_set_new(root, "eos_token", json_string(eos ? eos : "")) == 0;
    /* Copied so that the caller frees with free() whatever allocator
     * jansson was configured with. */
    char *js = ok ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    size_t n_js = js ? strlen(js) : 0;
    char *s = js ? malloc(n_js + 1) : NULL;
    if (s) memcpy(s, js, n_js + 1);
    if (js) jsonp_free_str(js);
    if (!s) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory building the template context");
    *out = s;
    if (len) *len = n_js;
    return INGOT_OK;
}

int32_t ingot_prompt_reuse(const int32_t *cache, int32_t n_cache, const int32_t *prompt, int32_t n_prompt) {
    int32_t k = 0;
    while (k < n_cache && k < n_prompt && cache[k] == prompt[k]) k++;
    if (k == n_prompt && k > 0) k--;
    return k;
}
