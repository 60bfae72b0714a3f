/* Owns the table of tensor types: names, block sizes and bytes per block
 * (the GGUF on-disk facts), plus the function pointers of each type's
 * reference kernels, and half-precision conversions. */
#include "tensor/types.h"

#include <string.h>
#include <strings.h>

/* Function pointers are filled in by the quantization modules. */
static const ingot_type_traits traits[INGOT_TYPE_COUNT] = {
    [INGOT_TYPE_F32] = {"F32", 1, 4, false, NULL, NULL, INGOT_TYPE_F32, NULL},
    [INGOT_TYPE_F16] = {"F16", 1, 2, false, NULL, NULL, INGOT_TYPE_F16, NULL},
    [INGOT_TYPE_BF16] = {"BF16", 1, 2, false, NULL, NULL, INGOT_TYPE_BF16, NULL},
    [INGOT_TYPE_Q4_0] = {"Q4_0", 32, 18, true, NULL, NULL, INGOT_TYPE_Q8_0, NULL},
    [INGOT_TYPE_Q4_1] = {"Q4_1", 32, 20, true, NULL, NULL, INGOT_TYPE_Q8_1, NULL},
    [INGOT_TYPE_Q5_0] = {"Q5_0", 32, 22, true, NULL, NULL, INGOT_TYPE_Q8_0, NULL},
    [INGOT_TYPE_Q5_1] = {"Q5_1", 32, 24, true, NULL, NULL, INGOT_TYPE_Q8_1, NULL},
    [INGOT_TYPE_Q8_0] = {"Q8_0", 32, 34, true, NULL, NULL, INGOT_TYPE_Q8_0, NULL},
    [INGOT_TYPE_Q8_1] = {"Q8_1", 32, 36, true, NULL, NULL, INGOT_TYPE_Q8_1, NULL},
    [INGOT_TYPE_Q2_K] = {"Q2_K", 256, 84, true, NULL, NULL, INGOT_TYPE_Q8_K, NULL},
    [INGOT_TYPE_Q3_K] = {"Q3_K", 256, 110, true, NULL, NULL, INGOT_TYPE_Q8_K, NULL},
    [INGOT_TYPE_Q4_K] = {"Q4_K", 256, 144, true, NULL, NULL, INGOT_TYPE_Q8_K, NULL},
    [INGOT_TYPE_Q5_K] = {"Q5_K", 256, 176, true, NULL, NULL, INGOT_TYPE_Q8_K, NULL},
    [INGOT_TYPE_Q6_K] = {"Q6_K", 256, 210, true, NULL, NULL, INGOT_TYPE_Q8_K, NULL},
    [INGOT_TYPE_Q8_K] = {"Q8_K", 256, 292, true, NULL, NULL, INGOT_TYPE_Q8_K, NULL},
    [INGOT_TYPE_IQ4_NL] = {"IQ4_NL", 32, 18, true, NULL, NULL, INGOT_TYPE_Q8_0, NULL},
    [INGOT_TYPE_IQ4_XS] = {"IQ4_XS", 256, 136, true, NULL, NULL, INGOT_TYPE_Q8_K, NULL},
};

const ingot_type_traits *ingot_type_traits_get(ingot_type t) {
    if ((unsigned)t >= INGOT_TYPE_COUNT || !traits[t].name) return NULL;
    return &traits[t];
}

const char *ingot_type_name(ingot_type t) {
    const ingot_type_traits *tr = ingot_type_traits_get(t);
    return tr ? tr->name : NULL;
}

int ingot_type_from_name(const char *name) {
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
