/* Attention over an F16 KV cache and the FFN's gated activations: a
 * scalar reference and per-ISA versions chosen at run time. */
#ifndef INGOT_TENSOR_ATTN_H
#define INGOT_TENSOR_ATTN_H
#include <stddef.h>
#include <stdint.h>

typedef struct ingot_attn_kernels {
    /* sum_i q[i] * fp16(k[i]) */
    float (*dot_f16)(const float *q, const uint16_t *k, int n);
    /* o[i] += w * fp16(v[i]) */
    void (*axpy_f16)(float w, const uint16_t *v, float *o, int n);
    /* Attention of nh query heads that share one kv head, for one token:
     *   s[h][j] = dot(fp16(q[h]), k[j]) * scale   (j < nk; q rows ldq apart,
     *             rounded to F16 as llama.cpp does against an F16 cache)
     *   p[h]    = softmax(s[h]), each weight then rounded to F16
     *   out[h]  = sum_j p[h][j] * v[j]            (in order of j)
     * k and v point at the first visible position, rows kv_stride
     * elements apart; hd % 8 == 0. scratch: ingot_attend_scratch(nh,
     * nk, hd) floats. Each key's score and each output's sum are computed in the
     * same order whatever nh, nk and the thread are, so a batch and one
     * token at a time agree bit for bit. softcap > 0: s = softcap *
     * tanh(s / softcap) before the softmax. */
    void (*attend_f16)(const float *q, size_t ldq, int nh, const uint16_t *k, const uint16_t *v,
                       size_t kv_stride, int nk, int hd, float scale, float softcap, float *out,
                       size_t ldo, float *scratch);
    /* The same for ntok consecutive tokens that share the kv head (prompt
     * processing: keys and values are converted once for all of them):
     * token i (< ntok) has its nh query heads at q + i * q_tok (ldq
     * apart), sees the first nk + i keys, and writes out + i * o_tok (ldo
     * apart). Bit-identical to ntok attend_f16 calls. scratch:
     * ingot_attend_scratch(nh * ntok, nk + ntok, hd) floats. */
    void (*attend_f16_tok)(const float *q, size_t q_tok, size_t ldq, int nh, int ntok, const uint16_t *k,
                           const uint16_t *v, size_t kv_stride, int nk, int hd, float scale, float softcap,
                           float *out, size_t o_tok, size_t ldo, float *scratch);
    /* h[i] = silu(g[i]) * u[i] and gelu_tanh(g[i]) * u[i], i < n */
    void (*silu_mul)(float *h, const float *g, const float *u, int64_t n);
    void (*gelu_mul)(float *h, const float *g, const float *u, int64_t n);
    const char *isa;
} ingot_attn_kernels;

const ingot_attn_kernels *ingot_attn_kernels_get(void);
/* Floats of scratch attend_f16 needs for nh heads and nk keys. */
static inline size_t ingot_attend_scratch(int nh, int nk, int hd) {
    return (size_t)nh * (size_t)(nk + 8) + (size_t)(nh + 128) * (size_t)hd;
}
const ingot_attn_kernels *ingot_attn_kernels_ref(void);
/* The AVX2+F16C set, or NULL when not compiled in (non-x86 builds). */
const ingot_attn_kernels *ingot_attn_kernels_avx2(void);
/* The AVX-512 set (bit-identical to the AVX2 one, see attn_avx512.c), or
 * NULL when not compiled in or the CPU lacks AVX-512F/VL/DQ. */
const ingot_attn_kernels *ingot_attn_kernels_avx512(void);
/* attn_avx512.c: overrides the entries of an AVX2 set it implements. */
void ingot_attn_fill_avx512(ingot_attn_kernels *k);
#endif
