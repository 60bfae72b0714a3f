/* Owns the table of tensor types: names, block sizes and bytes per block
 * (the GGUF on-disk facts), plus the function pointers of each type's
 * reference kernels, and half-precision conversions. */
#include "tensor/types.h"
#include "tensor/quants.h"

#include <string.h>
#include <strings.h>

/* Ids not listed are unsupported (NULL name). Activation-only types
 * (Q8_1, Q8_K) have no vec_dot: they are only ever the y side of one. */
#define T(id, name, bs, ts, q, pre, dot_type, dot)                                  \
    [INGOT_TYPE_##id] = {name, bs, ts, q, ingot_##pre##_to_float, ingot_##pre##_from_float, \
                         INGOT_TYPE_##dot_type, dot}
static const ingot_type_traits traits[INGOT_TYPE_COUNT] = {
    T(F32, "F32", 1, 4, false, f32, F32, ingot_f32_vec_dot),
    T(F16, "F16", 1, 2, false, f16, F16, ingot_f16_vec_dot),
    T(BF16, "BF16", 1, 2, false, bf16, BF16, ingot_bf16_vec_dot),
    T(Q4_0, "Q4_0", 32, 18, true, q4_0, Q8_0, ingot_q4_0_vec_dot),
    T(Q4_1, "Q4_1", 32, 20, true, q4_1, Q8_1, ingot_q4_1_vec_dot),
    T(Q5_0, "Q5_0", 32, 22, true, q5_0, Q8_0, ingot_q5_0_vec_dot),
    T(Q5_1, "Q5_1", 32, 24, true, q5_1, Q8_1, ingot_q5_1_vec_dot),
    T(Q8_0, "Q8_0", 32, 34, true, q8_0, Q8_0, ingot_q8_0_vec_dot),
    T(Q8_1, "Q8_1", 32, 36, true, q8_1, Q8_1, NULL),
    T(Q2_K, "Q2_K", 256, 84, true, q2_k, Q8_K, ingot_q2_k_vec_dot),
    T(Q3_K, "Q3_K", 256, 110, true, q3_k, Q8_K, ingot_q3_k_vec_dot),
    T(Q4_K, "Q4_K", 256, 144, true, q4_k, Q8_K, ingot_q4_k_vec_dot),
    T(Q5_K, "Q5_K", 256, 176, true, q5_k, Q8_K, ingot_q5_k_vec_dot),
    T(Q6_K, "Q6_K", 256, 210, true, q6_k, Q8_K, ingot_q6_k_vec_dot),
    T(Q8_K, "Q8_K", 256, 292, true, q8_k, Q8_K, NULL),
    T(IQ4_NL, "IQ4_NL", 32, 18, true, iq4_nl, Q8_0, ingot_iq4_nl_vec_dot),
    T(IQ4_XS, "IQ4_XS", 256, 136, true, iq4_xs, Q8_K, ingot_iq4_xs_vec_dot),
};
#undef T

const ingot_type_traits *ingot_type_traits_get(ingot_type t) {
    if ((unsigned)t >= INGOT_TYPE_COUNT || !traits[t].name) return NULL;
    return &traits[t];
}

const char *ingot_type_name(ingot_type t) {
    const ingot_type_traits *tr = ingot_type_traits_get(t);
    return tr ? tr->name : NULL;
}

int ingot_type_from_name(const char *name) {
    if (!name) return -1;
    for (int i = 0; i < INGOT_TYPE_COUNT; i++)
        if (traits[i].name && !strcasecmp(traits[i].name, name)) return i;
    return -1;
}

size_t ingot_type_row_size(ingot_type t, int64_t n) {
    const ingot_type_traits *tr = ingot_type_traits_get(t);
    return tr ? (size_t)(n / tr->block_size) * tr->type_size : 0;
}

float ingot_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do { man <<= 1; e++; } while (!(man & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t ingot_fp32_to_fp16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) /* inf or nan */
        return (uint16_t)(sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); /* overflow -> inf */
    if (ax < 0x38800000u) { /* subnormal or zero in half */
        if (ax < 0x33000000u) return (uint16_t)sign;
        uint32_t e = ax >> 23, m = (ax & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - e; /* 14 + (113 - e) */
        uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = ((ax >> 13) - (112u << 10));
    uint32_t rem = ax & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++;
    return (uint16_t)(sign | r);
}

float ingot_bf16_to_fp32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t ingot_fp32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 64); /* quiet nan */
    return (uint16_t)((x + (0x7fff + ((x >> 16) & 1))) >> 16);
}
