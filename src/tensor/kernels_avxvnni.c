/* AVX-VNNI kernels (VEX-encoded vpdpbusd/vpdpwssd on 256-bit vectors, with
 * AVX2+FMA+F16C) of the quantized weight types: the shared bodies of
 * kernels_x86_q32.h and kernels_x86_qk.h with VNNI integer primitives.
 * The integer lane sums are exactly those of the avx2 set and the float
 * operations are the same, so results are bit-identical to avx2's; the
 * float types and the activation quantizers are inherited from avx2.
 * Signed weights against signed activations use an offset instead of
 * avx2's sign trick: vpdpbusd multiplies unsigned by signed bytes, so the
 * activations go in as y + 128 (one xor) and the weights as they are,
 * and the accumulator starts at -128 * (sum of the weights of each 4-byte
 * lane), computed once per weight block for all activation rows. Compiled
 * to nothing off x86_64; only called when the CPU has AVX-VNNI. */
#include "tensor/kernels.h"
#if defined(__x86_64__)
#include "tensor/kernels_avx2.h"

/* -128 * sum of q over each 4-byte lane: the start of every dot with q. */
AVX2_INLINE __m256i vnni_prep_sym(__m256i q) {
    const __m256i zero = _mm256_setzero_si256();
    return _mm256_sub_epi32(zero, _mm256_dpbusd_avx_epi32(zero, _mm256_set1_epi8((char)0x80), q));
}
/* sum (y + 128) * q - 128 * sum q = sum y * q, exactly */
AVX2_INLINE __m256i vnni_dot_sym(__m256i start, __m256i q, __m256i y) {
    return _mm256_dpbusd_avx_epi32(start, _mm256_xor_si256(y, _mm256_set1_epi8((char)0x80)), q);
}
AVX2_INLINE __m256i vnni_dot_u(__m256i x, __m256i y) {
    return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), x, y);
}
/* maddubs's int16 pair sums (within range: x <= 127 and |y| <= 127,
 * or x <= 63), then one vpdpwssd against the int16 scales */
AVX2_INLINE __m256i vnni_dot_w(__m256i acc, __m256i x, __m256i y, __m256i w) {
    return _mm256_dpwssd_avx_epi32(acc, _mm256_maddubs_epi16(x, y), w);
}

#define Q_PREP_SYM(q) vnni_prep_sym(q)
#define Q_DOT_SYM(p, q, y) vnni_dot_sym(p, q, y)
#define Q_DOT_U(x, y) vnni_dot_u(x, y)
#define Q32_SYM_TILE SYM_TILE
#define Q_DOT_W(acc, x, y, w) vnni_dot_w(acc, x, y, w)
#include "tensor/kernels_x86_q32.h"
#include "tensor/kernels_x86_qk.h"

void ingot_kernels_fill_avxvnni(ingot_kernels *k) {
    x86_fill_q32(k);
    x86_fill_qk(k);
    ingot_pack_fill_avxvnni(k);
}
#endif
