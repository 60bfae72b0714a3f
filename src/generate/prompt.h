/* Internal: the model-independent half of turning a request into prompt
 * text and into work for the KV cache: the effective message list (system
 * prompt included), plain concatenation, the JSON context a chat template
 * is rendered with, and how much of a cached token sequence a new prompt
 * can reuse. */
#ifndef INGOT_GENERATE_PROMPT_H
#define INGOT_GENERATE_PROMPT_H
#include "ingot.h"

/* The messages a request stands for: its messages, or its prompt as one
 * user message, after its system prompt unless the messages start with a
 * "system" one. *out is malloc'ed (the strings are borrowed from p). */
ingot_status ingot_prompt_messages(const ingot_generate_params *p, ingot_message **out, int32_t *n,
                                   ingot_error *err);
/* Contents joined with "\n": the prompt of --raw and of template-less
 * models. *out is malloc'ed and NUL-terminated. */
ingot_status ingot_prompt_concat(const ingot_message *m, int32_t n, char **out, size_t *len, ingot_error *err);
/* {"messages": [{"role", "content"}...], "add_generation_prompt": true,
 * "bos_token", "eos_token"} as compact JSON; *out is malloc'ed. Fails with
 * INGOT_E_INVALID_ARG on text that is not valid UTF-8. */
ingot_status ingot_prompt_context_json(const ingot_message *m, int32_t n, const char *bos, const char *eos,
                                       char **out, size_t *len, ingot_error *err);
/* How many leading tokens of prompt are already in the cache: their
 * common prefix, minus one when it covers the whole prompt (the last
 * prompt token must be evaluated again to get its logits). */
int32_t ingot_prompt_reuse(const int32_t *cache, int32_t n_cache, const int32_t *prompt, int32_t n_prompt);
#endif
