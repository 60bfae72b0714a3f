/* Internal view of the sampler chain: the candidate list that the chain
 * leaves before the final draw, so tests can check each stage's
 * distribution against hand-computed values. */
#ifndef INGOT_GENERATE_SAMPLER_H
#define INGOT_GENERATE_SAMPLER_H
#include "ingot.h"

typedef struct ingot_candidate {
    int32_t id;
    float logit; /* after bias, penalties and temperature */
    float p;     /* normalized over the candidates left */
} ingot_candidate;

/* Runs the chain up to (not including) the draw. Returns how many
 * candidates are left, sorted by descending probability (ties: lower id
 * first); *out points into the sampler and lives until the next call.
 * For temperature <= 0 the single candidate is the greedy choice. */
int32_t ingot_sampler_candidates(ingot_sampler *s, const float *logits,
                                 const ingot_candidate **out);
#endif
