/* AVX2+FMA+F16C kernels of the 256-element super-block types (Q2_K, Q3_K,
 * Q4_K, Q5_K, Q6_K, IQ4_XS) against Q8_K activations. Per super-block the
 * small integer scales are unpacked once into int16 vectors; each group
 * of 32 weights is unpacked once for all NY activation rows, multiplied
 * with maddubs (weights as unsigned 0..63 where the format allows it) and
 * summed in int32 with madd against its broadcast scale; offsets (Q3_K's
 * -4, Q6_K's -32) and mins come from the activations' bsums, so the inner
 * loop has no per-row correction. One float FMA per row per super-block.
 * Compiled to nothing off x86_64. */
#include "tensor/kernels.h"
#if defined(__x86_64__)
#include "tensor/kernels_avx2.h"

#define QK INGOT_QK_K

static uint32_t rd32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Both 128-bit lanes = the 8 int16 of s. */
AVX2_INLINE __m256i dup128(__m128i s) { return _mm256_broadcastsi128_si256(s); }

/* For 16-element sub-blocks (scales as 16 int16 in s16, lanes [0..7 | 8..15])
 * the madd weights of 32-element group g (0..7): scale 2g in the low
 * lane, 2g+1 in the high one. half = s16 with both lanes = sub-blocks
 * 8*(g/4) .. +7. */
AVX2_INLINE __m256i scale_pair(__m256i half, int g) {
    const int e = 2 * (g % 4);
    const __m256i ctl = _mm256_setr_epi8(
        (char)(2 * e), (char)(2 * e + 1), (char)(2 * e), (char)(2 * e + 1), (char)(2 * e),
        (char)(2 * e + 1), (char)(2 * e), (char)(2 * e + 1), (char)(2 * e), (char)(2 * e + 1),
        (char)(2 * e), (char)(2 * e + 1), (char)(2 * e), (char)(2 * e + 1), (char)(2 * e),
        (char)(2 * e + 1), (char)(2 * e + 2), (char)(2 * e + 3), (char)(2 * e + 2),
        (char)(2 * e + 3), (char)(2 * e + 2), (char)(2 * e + 3), (char)(2 * e + 2),
        (char)(2 * e + 3), (char)(2 * e + 2), (char)(2 * e + 3), (char)(2 * e + 2),
        (char)(2 * e + 3), (char)(2 * e + 2), (char)(2 * e + 3), (char)(2 * e + 2),
        (char)(2 * e + 3));
    return _mm256_shuffle_epi8(half, ctl);
}

/* The eight 2-bit (Q2_K) groups of a super-block / Q3_K's low bits: group
 * g of 32 is bits 2*(g%4) of the 32 bytes of half g/4. */
AVX2_INLINE __m256i crumbs(__m256i qs_half, int g) {
    return _mm256_and_si256(_mm256_srli_epi16(qs_half, 2 * (g % 4)), _mm256_set1_epi8(3));
}

/* Adds, for each row, the dot of 8 groups of 32 unsigned weights with the
 * activations, each group weighted by its scale pair (16-element scales). */
#define SUMI_GROUP(g, q, w)                                                                 \
    _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                                  \
        const ingot_block_q8_k *y = AVX2_YROW(ingot_block_q8_k, vy, st, j) + i;             \
        sumi[j] = _mm256_add_epi32(sumi[j], avx2_dot_u8((q), avx2_loadu(y->qs + 32 * (g)), (w))); \
    }

/* ---- Q2_K: y = d*sc*q - dmin*m, q 0..3, 4-bit sc and m per 16 ---- */
AVX2_INLINE void q2_k_rows(int64_t n, float *s, const void *vx, const void *vy, size_t st,
                           const int NY) {
    const ingot_block_q2_k *x = vx;
    __m256 acc[4];
    for (int j = 0; j < 4; j++) acc[j] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK; i++) {
        const __m128i sm = _mm_loadu_si128((const __m128i *)x[i].scales);
        const __m128i m4 = _mm_set1_epi8(0x0f);
        const __m256i sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(sm, m4));
        const __m256i mn16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sm, 4), m4));
        __m256i sumi[4];
        for (int j = 0; j < 4; j++) sumi[j] = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const __m256i qs = avx2_loadu(x[i].qs + 32 * h);
            const __m256i half = (h ? _mm256_permute4x64_epi64(sc16, 0xee) : _mm256_permute4x64_epi64(sc16, 0x44));
            _Pragma("GCC unroll 4") for (int g = 0; g < 4; g++) {
                const __m256i q = crumbs(qs, g), w = scale_pair(half, g);
                SUMI_GROUP(4 * h + g, q, w)
            }
        }
        const float d = avx2_fp16(x[i].d), dmin = avx2_fp16(x[i].dmin);
        _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {
            const ingot_block_q8_k *y = AVX2_YROW(ingot_block_q8_k, vy, st, j) + i;
            const __m256i msum = _mm256_madd_epi16(avx2_loadu(y->bsums), mn16);
            acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(y->d * d), _mm256_cvtepi32_ps(sumi[j]), acc[j]);
            acc[j] = _mm256_fnmadd_ps(_mm256_set1_ps(y->d * dmin), _mm256_cvtepi32_ps(msum), acc[j]);
        }
    }
    for (int j = 0; j < NY; j++) s[j] = avx2_hsum(acc[j]);
}
AVX2_ENTRY_POINTS(q2_k)

/* Rows kernels whose weights are unsigned u = q + off with 16-element
 * int8 scales: sum = sum_g dot(u_g, y_g)*sc - off * sum_j sc_j*bsums_j. */
AVX2_INLINE void finish_off16(__m256i *sumi, __m256i sc16, int shift, const void *vy, size_t st,
                              int64_t i, float dx, const int NY, __m256 *acc) {
    _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {
        const ingot_block_q8_k *y = AVX2_YROW(ingot_block_q8_k, vy, st, j) + i;
        const __m256i corr = _mm256_madd_epi16(avx2_loadu(y->bsums), sc16);
        const __m256i tot = _mm256_sub_epi32(sumi[j], _mm256_slli_epi32(corr, shift));
        acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(y->d * dx), _mm256_cvtepi32_ps(tot), acc[j]);
    }
}

/* ---- Q3_K: q = 2 low bits + 4*high bit - 4, 6-bit scales - 32 per 16 ---- */
AVX2_INLINE void q3_k_rows(int64_t n, float *s, const void *vx, const void *vy, size_t st,
                           const int NY) {
    const ingot_block_q3_k *x = vx;
    __m256 acc[4];
    for (int j = 0; j < 4; j++) acc[j] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK; i++) {
        const uint32_t a = rd32(x[i].scales), b = rd32(x[i].scales + 4), c = rd32(x[i].scales + 8);
        const uint32_t m4 = 0x0f0f0f0f, m2 = 0x03030303;
        const __m128i sc8 = _mm_sub_epi8(
            _mm_setr_epi32((int)((a & m4) | (c & m2) << 4), (int)((b & m4) | ((c >> 2) & m2) << 4),
                           (int)(((a >> 4) & m4) | ((c >> 4) & m2) << 4),
                           (int)(((b >> 4) & m4) | ((c >> 6) & m2) << 4)),
            _mm_set1_epi8(32));
        const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
        __m256i sumi[4];
        for (int j = 0; j < 4; j++) sumi[j] = _mm256_setzero_si256();
        __m256i hb = avx2_loadu(x[i].hmask);
        for (int h = 0; h < 2; h++) {
            const __m256i qs = avx2_loadu(x[i].qs + 32 * h);
            const __m256i half = (h ? _mm256_permute4x64_epi64(sc16, 0xee) : _mm256_permute4x64_epi64(sc16, 0x44));
            _Pragma("GCC unroll 4") for (int g = 0; g < 4; g++) {
                /* bit (4h+g) of hmask -> bit 2 */
                const __m256i high = _mm256_and_si256(_mm256_slli_epi16(hb, 2), _mm256_set1_epi8(4));
                hb = _mm256_srli_epi16(hb, 1);
                const __m256i q = _mm256_or_si256(crumbs(qs, g), high), w = scale_pair(half, g);
                SUMI_GROUP(4 * h + g, q, w)
            }
        }
        finish_off16(sumi, sc16, 2, vy, st, i, avx2_fp16(x[i].d), NY, acc);
    }
    for (int j = 0; j < NY; j++) s[j] = avx2_hsum(acc[j]);
}
AVX2_ENTRY_POINTS(q3_k)

/* ---- Q6_K: q = 4 low bits + 2 high bits - 32, int8 scales per 16 ---- */
AVX2_INLINE void q6_k_rows(int64_t n, float *s, const void *vx, const void *vy, size_t st,
                           const int NY) {
    const ingot_block_q6_k *x = vx;
    __m256 acc[4];
    for (int j = 0; j < 4; j++) acc[j] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30);
    for (int64_t i = 0; i < n / QK; i++) {
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[i].scales));
        __m256i sumi[4];
        for (int j = 0; j < 4; j++) sumi[j] = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const __m256i l0 = avx2_loadu(x[i].ql + 64 * h), l1 = avx2_loadu(x[i].ql + 64 * h + 32);
            const __m256i qh = avx2_loadu(x[i].qh + 32 * h);
            const __m256i half = (h ? _mm256_permute4x64_epi64(sc16, 0xee) : _mm256_permute4x64_epi64(sc16, 0x44));
            const __m256i q0 = _mm256_or_si256(_mm256_and_si256(l0, m4),
                                               _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30));
            const __m256i q1 = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                               _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30));
            const __m256i q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                               _mm256_and_si256(qh, m30));
            const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                               _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30));
            const __m256i w0 = scale_pair(half, 0), w1 = scale_pair(half, 1);
            const __m256i w2 = scale_pair(half, 2), w3 = scale_pair(half, 3);
            SUMI_GROUP(4 * h + 0, q0, w0)
            SUMI_GROUP(4 * h + 1, q1, w1)
            SUMI_GROUP(4 * h + 2, q2, w2)
            SUMI_GROUP(4 * h + 3, q3, w3)
        }
        finish_off16(sumi, sc16, 5, vy, st, i, avx2_fp16(x[i].d), NY, acc);
    }
    for (int j = 0; j < NY; j++) s[j] = avx2_hsum(acc[j]);
}
AVX2_ENTRY_POINTS(q6_k)

/* ---- Q4_K / Q5_K: 8 sub-blocks of 32, 6-bit scale and min ---- */

/* Scales (8 int16, both lanes) and mins duplicated per pair of bsums. */
AVX2_INLINE void k4_scales(const uint8_t *p, __m256i *sc, __m256i *mn) {
    const uint32_t a = rd32(p), b = rd32(p + 4), c = rd32(p + 8);
    const uint32_t m6 = 0x3f3f3f3f, m4 = 0x0f0f0f0f, h2 = 0x30303030;
    const __m128i v = _mm_setr_epi32((int)(a & m6), (int)((c & m4) | ((a >> 2) & h2)),
                                     (int)(b & m6), (int)(((c >> 4) & m4) | ((b >> 2) & h2)));
    *sc = dup128(_mm_cvtepu8_epi16(v));
    const __m128i m8 = _mm_srli_si128(v, 8);
    *mn = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8));
}

AVX2_INLINE void finish_min32(const __m256i *sumi, __m256i mn, float d, float dmin,
                              const void *vy, size_t st, int64_t i, const int NY, __m256 *acc) {
    _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {
        const ingot_block_q8_k *y = AVX2_YROW(ingot_block_q8_k, vy, st, j) + i;
        const __m256i msum = _mm256_madd_epi16(avx2_loadu(y->bsums), mn);
        acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(y->d * d), _mm256_cvtepi32_ps(sumi[j]), acc[j]);
        acc[j] = _mm256_fnmadd_ps(_mm256_set1_ps(y->d * dmin), _mm256_cvtepi32_ps(msum), acc[j]);
    }
}

AVX2_INLINE void q4_k_rows(int64_t n, float *s, const void *vx, const void *vy, size_t st,
                           const int NY) {
    const ingot_block_q4_k *x = vx;
    __m256 acc[4];
    for (int j = 0; j < 4; j++) acc[j] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    for (int64_t i = 0; i < n / QK; i++) {
        __m256i sc, mn;
        k4_scales(x[i].scales, &sc, &mn);
        __m256i sumi[4];
        for (int j = 0; j < 4; j++) sumi[j] = _mm256_setzero_si256();
        _Pragma("GCC unroll 4") for (int k = 0; k < 4; k++) {
            const __m256i q = avx2_loadu(x[i].qs + 32 * k);
            const __m256i lo = _mm256_and_si256(q, m4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            const __m256i wl = avx2_bcast16(sc, 2 * k), wh = avx2_bcast16(sc, 2 * k + 1);
            SUMI_GROUP(2 * k, lo, wl)
            SUMI_GROUP(2 * k + 1, hi, wh)
        }
        finish_min32(sumi, mn, avx2_fp16(x[i].d), avx2_fp16(x[i].dmin), vy, st, i, NY, acc);
    }
    for (int j = 0; j < NY; j++) s[j] = avx2_hsum(acc[j]);
}
AVX2_ENTRY_POINTS(q4_k)

AVX2_INLINE void q5_k_rows(int64_t n, float *s, const void *vx, const void *vy, size_t st,
                           const int NY) {
    const ingot_block_q5_k *x = vx;
    __m256 acc[4];
    for (int j = 0; j < 4; j++) acc[j] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0f), b4 = _mm256_set1_epi8(0x10);
    for (int64_t i = 0; i < n / QK; i++) {
        __m256i sc, mn;
        k4_scales(x[i].scales, &sc, &mn);
        __m256i sumi[4];
        for (int j = 0; j < 4; j++) sumi[j] = _mm256_setzero_si256();
        __m256i hb = avx2_loadu(x[i].qh);
        _Pragma("GCC unroll 4") for (int k = 0; k < 4; k++) {
            /* bits 2k and 2k+1 of qh -> bit 4 of the low / high group */
            const __m256i q = avx2_loadu(x[i].qs + 32 * k);
            const __m256i lo = _mm256_or_si256(_mm256_and_si256(q, m4),
                                               _mm256_and_si256(_mm256_slli_epi16(hb, 4), b4));
            const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4),
                                               _mm256_and_si256(_mm256_slli_epi16(hb, 3), b4));
            hb = _mm256_srli_epi16(hb, 2);
            const __m256i wl = avx2_bcast16(sc, 2 * k), wh = avx2_bcast16(sc, 2 * k + 1);
            SUMI_GROUP(2 * k, lo, wl)
            SUMI_GROUP(2 * k + 1, hi, wh)
        }
        finish_min32(sumi, mn, avx2_fp16(x[i].d), avx2_fp16(x[i].dmin), vy, st, i, NY, acc);
    }
    for (int j = 0; j < NY; j++) s[j] = avx2_hsum(acc[j]);
}
AVX2_ENTRY_POINTS(q5_k)

/* ---- IQ4_XS: non-linear 4-bit levels, 6-bit scales - 32 per 32 ---- */
AVX2_INLINE void iq4_xs_rows(int64_t n, float *s, const void *vx, const void *vy, size_t st,
                             const int NY) {
    const ingot_block_iq4_xs *x = vx;
    __m256 acc[4];
    for (int j = 0; j < 4; j++) acc[j] = _mm256_setzero_ps();
    const __m256i table =
        _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)ingot_iq4nl_values));
    const __m256i shl = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
    const __m256i shh = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    for (int64_t i = 0; i < n / QK; i++) {
        const __m256i lo = _mm256_and_si256(
            _mm256_srlv_epi32(_mm256_set1_epi32((int)rd32(x[i].scales_l)), shl), _mm256_set1_epi32(15));
        const __m256i hi = _mm256_and_si256(
            _mm256_srlv_epi32(_mm256_set1_epi32(x[i].scales_h), shh), _mm256_set1_epi32(3));
        const __m256i ls = _mm256_sub_epi32(_mm256_or_si256(lo, _mm256_slli_epi32(hi, 4)),
                                            _mm256_set1_epi32(32));
        const __m256i sc = dup128(_mm_packs_epi32(_mm256_castsi256_si128(ls),
                                                  _mm256_extracti128_si256(ls, 1)));
        __m256i sumi[4];
        for (int j = 0; j < 4; j++) sumi[j] = _mm256_setzero_si256();
        _Pragma("GCC unroll 8") for (int ib = 0; ib < 8; ib++) {
            const __m256i q = _mm256_shuffle_epi8(table, avx2_nibbles16(x[i].qs + 16 * ib));
            const __m256i aq = _mm256_abs_epi8(q), w = avx2_bcast16(sc, ib);
            _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {
                const ingot_block_q8_k *y = AVX2_YROW(ingot_block_q8_k, vy, st, j) + i;
                const __m256i p = _mm256_maddubs_epi16(aq, _mm256_sign_epi8(avx2_loadu(y->qs + 32 * ib), q));
                sumi[j] = _mm256_add_epi32(sumi[j], _mm256_madd_epi16(p, w));
            }
        }
        const float d = avx2_fp16(x[i].d);
        _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {
            const ingot_block_q8_k *y = AVX2_YROW(ingot_block_q8_k, vy, st, j) + i;
            acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(y->d * d), _mm256_cvtepi32_ps(sumi[j]), acc[j]);
        }
    }
    for (int j = 0; j < NY; j++) s[j] = avx2_hsum(acc[j]);
}
AVX2_ENTRY_POINTS(iq4_xs)

#define SET(id, pre) \
    (k->vec_dot[INGOT_TYPE_##id] = pre##_dot, k->vec_dot_n[INGOT_TYPE_##id] = pre##_dot_n)

void ingot_kernels_fill_k_avx2(ingot_kernels *k) {
    SET(Q2_K, q2_k);
    SET(Q3_K, q3_k);
    SET(Q4_K, q4_k);
    SET(Q5_K, q5_k);
    SET(Q6_K, q6_k);
    SET(IQ4_XS, iq4_xs);
}
#undef SET
#endif
