/* The public face of the chat layer (include/ingot.h, "chat" section): a
 * parsed template handle, rendering it with a JSON context under limits,
 * and the messages -> prompt helper that sets the context up the way
 * Hugging Face's apply_chat_template does (messages, tools only when
 * given, add_generation_prompt, bos/eos tokens, extra variables). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "chat/jinja.h"

struct ingot_template {
    jtemplate_ast ast;
};

ingot_template_options ingot_template_default_options(void) {
    ingot_template_options o;
    memset(&o, 0, sizeof o);
    o.now = 0;
    o.max_output = (size_t)16 << 20;
    o.max_memory = (size_t)256 << 20;
    o.max_steps = 10000000;
    return o;
}

ingot_status ingot_template_new(const char *source, size_t len, ingot_template **out, ingot_error *err) {
    if (!out) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_template_new: out is NULL");
    *out = NULL;
    if (!source && len) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_template_new: source is NULL");
    ingot_template *t = calloc(1, sizeof *t);
    if (!t) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    ingot_status st = jinja_parse(source ? source : "", len, &t->ast, err);
    if (st != INGOT_OK) {
        free(t);
        return st;
    }
    *out = t;
    return INGOT_OK;
}

void ingot_template_free(ingot_template *t) {
    if (!t) return;
    jarena_free(t->ast.arena);
    free(t);
}

ingot_status ingot_template_render(const ingot_template *t, const char *context_json,
                                   const ingot_template_options *opt, char **out, size_t *out_len,
                                   ingot_error *err) {
    if (!t || !out) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_template_render: NULL argument");
    *out = NULL;
    if (out_len) *out_len = 0;
    ingot_template_options d = ingot_template_default_options();
    jrender_opts o;
    o.now = opt ? opt->now : 0;
    o.max_output = opt && opt->max_output ? opt->max_output : d.max_output;
    o.max_memory = opt && opt->max_memory ? opt->max_memory : d.max_memory;
    o.max_steps = opt && opt->max_steps ? opt->max_steps : d.max_steps;
    return jinja_render(&t->ast, context_json, context_json ? strlen(context_json) : 0, &o, out, out_len, err);
}

static ingot_status parse_json_arg(const char *what, const char *s, json_t **out, ingot_error *err) {
    json_error_t je;
    *out = json_loads(s, JSON_ALLOW_NUL | JSON_DECODE_ANY, &je);
    if (!*out)
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "%s: invalid JSON at line %d, column %d: %s", what,
                               je.line, je.column, je.text);
    return INGOT_OK;
}

/* Without a template: the contents, one after another, each followed by a
 * newline (what `--raw`-style plain prompting expects). */
static ingot_status plain_concat(json_t *messages, char **out, size_t *out_len, ingot_error *err) {
    size_t total = 1;
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m) {
        json_t *content = json_object_get(m, "content");
        if (json_is_string(content)) total += json_string_length(content) + 1;
    }
    char *s = malloc(total);
    if (!s) return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    size_t o = 0;
    json_array_foreach(messages, i, m) {
        json_t *content = json_object_get(m, "content");
        if (!json_is_string(content)) continue;
        memcpy(s + o, json_string_value(content), json_string_length(content));
        o += json_string_length(content);
        s[o++] = '\n';
    }
    s[o] = 0;
    *out = s;
    if (out_len) *out_len = o;
    return INGOT_OK;
}

ingot_status ingot_chat_apply(const ingot_template *t, const char *messages_json, const ingot_chat_params *p,
                              char **out, size_t *out_len, ingot_error *err) {
    if (!out || !messages_json) return ingot_error_set(err, INGOT_E_INVALID_ARG, "ingot_chat_apply: NULL argument");
    *out = NULL;
    if (out_len) *out_len = 0;
    json_t *messages = NULL, *ctx = NULL;
    ingot_status st = parse_json_arg("messages", messages_json, &messages, err);
    if (st != INGOT_OK) return st;
    if (!json_is_array(messages)) {
        json_decref(messages);
        return ingot_error_set(err, INGOT_E_INVALID_ARG, "messages: expected a JSON array of {role, content} objects");
    }
    if (!t) {
        st = plain_concat(messages, out, out_len, err);
        json_decref(messages);
        return st;
    }
    ctx = json_object();
    if (!ctx) {
        json_decref(messages);
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    if (p && p->extra_json && *p->extra_json) {
        json_t *extra;
        st = parse_json_arg("extra variables", p->extra_json, &extra, err);
        if (st != INGOT_OK) goto done;
        if (!json_is_object(extra)) {
            json_decref(extra);
            st = ingot_error_set(err, INGOT_E_INVALID_ARG, "extra variables: expected a JSON object");
            goto done;
        }
        json_object_update(ctx, extra);
        json_decref(extra);
    }
    json_object_set_new(ctx, "messages", messages);
    messages = NULL;
    if (p && p->tools_json && *p->tools_json) {
        json_t *tools;
        st = parse_json_arg("tools", p->tools_json, &tools, err);
        if (st != INGOT_OK) goto done;
        json_object_set_new(ctx, "tools", tools);
    }
    json_object_set_new(ctx, "add_generation_prompt", json_boolean(p ? p->add_generation_prompt : true));
    json_object_set_new(ctx, "bos_token", json_string(p && p->bos_token ? p->bos_token : ""));
    json_object_set_new(ctx, "eos_token", json_string(p && p->eos_token ? p->eos_token : ""));
    {
        char *ctx_s = json_dumps(ctx, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!ctx_s) {
            st = ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
            goto done;
        }
        ingot_template_options o = ingot_template_default_options();
        if (p) o.now = p->now;
        st = ingot_template_render(t, ctx_s, &o, out, out_len, err);
        free(ctx_s);
    }
done:
    json_decref(messages);
    json_decref(ctx);
    return st;
}
