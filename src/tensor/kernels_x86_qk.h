/* Kernel bodies of the 256-element super-block types (Q2_K, Q3_K, Q4_K,
 * Q5_K, Q6_K, IQ4_XS) against Q8_K activations for the x86 sets with
 * 256-bit integer dots (avx2, avxvnni): included once by each such set's
 * file after it has defined the integer primitive
 *   Q_DOT_W(acc, x, y, w)  acc + 8 int32 lanes: lane m = sum over bytes
 *                          4m..4m+3 of x*y (x unsigned, y signed, pair
 *                          sums within int16) weighted per pair by the
 *                          int16 w,
 * so one source serves every set and the results are the same in all of
 * them. Per super-block the small integer scales of each weight row are
 * unpacked once into int16 vectors; each group of 32 weights is unpacked
 * once for all NY activation rows (weights as unsigned 0..63 where the
 * format allows it) and each activation group is loaded once for all NX
 * weight rows. Offsets (Q3_K's -4, Q6_K's -32) and mins come from the
 * activations' bsums, so the inner loop has no per-row correction; one
 * float FMA per (weight row, activation row) per super-block, and the
 * horizontal sum once per pair at the end. Every pair runs the same
 * instructions whatever NX and NY are, so gemm, vec_dot_n and vec_dot
 * agree bit for bit. The includer then calls x86_fill_qk(). */
#ifndef INGOT_TENSOR_KERNELS_X86_QK_H
#define INGOT_TENSOR_KERNELS_X86_QK_H

#define QK INGOT_QK_K
/* Weight rows per gemm tile (the includer may set 2 where it has 32
 * vector registers): one by default. With two, the 2 x 4 int32 sums, the
 * float accumulators and two rows' unpacked groups and scales exceed the
 * 16 vector registers, and the spills cost more (10-30% per pair, on
 * every type) than sharing the activation loads saves. */
#ifndef QK_NX
#define QK_NX 1
#endif

static inline uint32_t rd32(const uint8_t *p) {
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
    const char a = (char)(2 * e), a1 = (char)(2 * e + 1), c = (char)(2 * e + 2), c1 = (char)(2 * e + 3);
    const __m256i ctl = _mm256_setr_epi8(a, a1, a, a1, a, a1, a, a1, a, a1, a, a1, a, a1, a, a1,
                                         c, c1, c, c1, c, c1, c, c1, c, c1, c, c1, c, c1, c, c1);
    return _mm256_shuffle_epi8(half, ctl);
}

/* Sub-blocks 0..7 (h = 0) or 8..15 (h = 1) of s16 in both lanes. */
AVX2_INLINE __m256i scale_half(__m256i s16, int h) {
    return h ? _mm256_permute4x64_epi64(s16, 0xee) : _mm256_permute4x64_epi64(s16, 0x44);
}

/* The eight 2-bit (Q2_K) groups of a super-block / Q3_K's low bits: group
 * g of 32 is bits 2*(g%4) of the 32 bytes of half g/4. */
AVX2_INLINE __m256i crumbs(__m256i qs_half, int g) {
    return _mm256_and_si256(_mm256_srli_epi16(qs_half, 2 * (g % 4)), _mm256_set1_epi8(3));
}

/* The tile's accumulators: acc[i][j] float per pair across super-blocks,
 * sumi[i][j] int32 per pair within one. */
#define K_TILE_ACC                                                                          \
    __m256 acc[QK_NX][4];                                                                   \
    for (int i = 0; i < QK_NX; i++)                                                         \
        for (int j = 0; j < 4; j++) acc[i][j] = _mm256_setzero_ps();
#define K_SUMI_ZERO                                                                         \
    __m256i sumi[QK_NX][4];                                                                 \
    for (int i = 0; i < QK_NX; i++)                                                         \
        for (int j = 0; j < 4; j++) sumi[i][j] = _mm256_setzero_si256();
#define K_TILE_STORE                                                                        \
    _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++)                                    \
        _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++)                                \
            s[(size_t)i * ld + j] = avx2_hsum(acc[i][j]);
/* Weight row i / activation row j of super-block b. */
#define K_X(type, i) (X86_ROW(type, vx, xs, i) + b)
#define K_Y(j) (X86_ROW(ingot_block_q8_k, vy, ys, j) + b)

/* Adds, for every pair, the dot of group g (q[i]: the 32 weights of row
 * i) with the activations, weighted by w[i]. */
#define K_GROUP(g, q, w)                                                                    \
    _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                                  \
        const __m256i yv = avx2_loadu(K_Y(j)->qs + 32 * (g));                               \
        _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++)                                \
            sumi[i][j] = Q_DOT_W(sumi[i][j], (q)[i], yv, (w)[i]);                           \
    }

#define K_TILE_ARGS                                                                         \
    int64_t n, float *s, size_t ld, const void *vx, size_t xs, const void *vy, size_t ys,   \
        const int NX, const int NY

/* Ends a super-block of a type with a min: acc += y.d*d*sumi - y.d*dmin*(bsums . mn). */
AVX2_INLINE void finish_min(__m256 *acc, __m256i sumi, __m256i mn, float d, float dmin,
                            const ingot_block_q8_k *y) {
    const __m256i msum = _mm256_madd_epi16(avx2_loadu(y->bsums), mn);
    *acc = _mm256_fmadd_ps(_mm256_set1_ps(y->d * d), _mm256_cvtepi32_ps(sumi), *acc);
    *acc = _mm256_fnmadd_ps(_mm256_set1_ps(y->d * dmin), _mm256_cvtepi32_ps(msum), *acc);
}

/* Ends a super-block of weights stored as u = q + 2^shift with 16-element
 * scales sc16: acc += y.d*d*(sumi - 2^shift * (bsums . sc16)). */
AVX2_INLINE void finish_off16(__m256 *acc, __m256i sumi, __m256i sc16, int shift, float d,
                              const ingot_block_q8_k *y) {
    const __m256i corr = _mm256_madd_epi16(avx2_loadu(y->bsums), sc16);
    const __m256i tot = _mm256_sub_epi32(sumi, _mm256_slli_epi32(corr, shift));
    *acc = _mm256_fmadd_ps(_mm256_set1_ps(y->d * d), _mm256_cvtepi32_ps(tot), *acc);
}

/* ---- Q2_K: y = d*sc*q - dmin*m, q 0..3, 4-bit sc and m per 16 ---- */
AVX2_INLINE void q2_k_tile(K_TILE_ARGS) {
    K_TILE_ACC
    for (int64_t b = 0; b < n / QK; b++) {
        __m256i sc16[QK_NX], mn16[QK_NX];
        _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) {
            const __m128i sm = _mm_loadu_si128((const __m128i *)K_X(ingot_block_q2_k, i)->scales);
            const __m128i m4 = _mm_set1_epi8(0x0f);
            sc16[i] = _mm256_cvtepu8_epi16(_mm_and_si128(sm, m4));
            mn16[i] = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sm, 4), m4));
        }
        K_SUMI_ZERO
        for (int h = 0; h < 2; h++) {
            __m256i qs[QK_NX], half[QK_NX];
            _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) {
                qs[i] = avx2_loadu(K_X(ingot_block_q2_k, i)->qs + 32 * h);
                half[i] = scale_half(sc16[i], h);
            }
            _Pragma("GCC unroll 4") for (int g = 0; g < 4; g++) {
                __m256i q[QK_NX], w[QK_NX];
                _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) {
                    q[i] = crumbs(qs[i], g);
                    w[i] = scale_pair(half[i], g);
                }
                K_GROUP(4 * h + g, q, w)
            }
        }
        _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++)
            _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) {
                const ingot_block_q2_k *x = K_X(ingot_block_q2_k, i);
                finish_min(&acc[i][j], sumi[i][j], mn16[i], avx2_fp16(x->d), avx2_fp16(x->dmin), K_Y(j));
            }
    }
    K_TILE_STORE
}
X86_ENTRY_POINTS(q2_k, QK_NX)

/* ---- Q3_K: q = 2 low bits + 4*high bit - 4, 6-bit scales - 32 per 16 ---- */
AVX2_INLINE __m256i q3_k_scales(const uint8_t *p) {
    const uint32_t a = rd32(p), b = rd32(p + 4), c = rd32(p + 8);
    const uint32_t m4 = 0x0f0f0f0f, m2 = 0x03030303;
    const __m128i sc8 = _mm_sub_epi8(
        _mm_setr_epi32((int)((a & m4) | (c & m2) << 4), (int)((b & m4) | ((c >> 2) & m2) << 4),
                       (int)(((a >> 4) & m4) | ((c >> 4) & m2) << 4),
                       (int)(((b >> 4) & m4) | ((c >> 6) & m2) << 4)),
        _mm_set1_epi8(32));
    return _mm256_cvtepi8_epi16(sc8);
}

AVX2_INLINE void q3_k_tile(K_TILE_ARGS) {
    K_TILE_ACC
    for (int64_t b = 0; b < n / QK; b++) {
        __m256i sc16[QK_NX], hb[QK_NX];
        _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) {
            sc16[i] = q3_k_scales(K_X(ingot_block_q3_k, i)->scales);
            hb[i] = avx2_loadu(K_X(ingot_block_q3_k, i)->hmask);
        }
        K_SUMI_ZERO
        for (int h = 0; h < 2; h++) {
            __m256i qs[QK_NX], half[QK_NX];
            _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) {
                qs[i] = avx2_loadu(K_X(ingot_block_q3_k, i)->qs + 32 * h);
                half[i] = scale_half(sc16[i], h);
            }
            _Pragma("GCC unroll 4") for (int g = 0; g < 4; g++) {
                __m256i q[QK_NX], w[QK_NX];
                _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) {
                    /* bit (4h+g) of hmask -> bit 2 */
                    const __m256i high = _mm256_and_si256(_mm256_slli_epi16(hb[i], 2), _mm256_set1_epi8(4));
                    hb[i] = _mm256_srli_epi16(hb[i], 1);
                    q[i] = _mm256_or_si256(crumbs(qs[i], g), high);
                    w[i] = scale_pair(half[i], g);
                }
                K_GROUP(4 * h + g, q, w)
            }
        }
        _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++)
            _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++)
                finish_off16(&acc[i][j], sumi[i][j], sc16[i], 2,
                             avx2_fp16(K_X(ingot_block_q3_k, i)->d), K_Y(j));
    }
    K_TILE_STORE
}
X86_ENTRY_POINTS(q3_k, QK_NX)

/* ---- Q6_K: q = 4 low bits + 2 high bits - 32, int8 scales per 16 ---- */
/* Group g (0..3) of a 128-element half: low nibbles of l0 (g = 0), l1
 * (1), high nibbles of l0 (2), l1 (3); high bit pair g of qh at bits 4-5. */
AVX2_INLINE __m256i q6_k_group(__m256i l0, __m256i l1, __m256i qh, int g) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30);
    const __m256i l = g & 1 ? l1 : l0;
    const __m256i lo = _mm256_and_si256(g >= 2 ? _mm256_srli_epi16(l, 4) : l, m4);
    const __m256i hi = g == 3 ? _mm256_srli_epi16(qh, 2) : _mm256_slli_epi16(qh, 4 - 2 * g);
    return _mm256_or_si256(lo, _mm256_and_si256(hi, m30));
}

AVX2_INLINE void q6_k_tile(K_TILE_ARGS) {
    K_TILE_ACC
    for (int64_t b = 0; b < n / QK; b++) {
        __m256i sc16[QK_NX];
        _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++)
            sc16[i] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)K_X(ingot_block_q6_k, i)->scales));
        K_SUMI_ZERO
        for (int h = 0; h < 2; h++) {
            __m256i l0[QK_NX], l1[QK_NX], qh[QK_NX], half[QK_NX];
            _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) {
                const ingot_block_q6_k *x = K_X(ingot_block_q6_k, i);
                l0[i] = avx2_loadu(x->ql + 64 * h);
                l1[i] = avx2_loadu(x->ql + 64 * h + 32);
                qh[i] = avx2_loadu(x->qh + 32 * h);
                half[i] = scale_half(sc16[i], h);
            }
            _Pragma("GCC unroll 4") for (int g = 0; g < 4; g++) {
                __m256i q[QK_NX], w[QK_NX];
                _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) {
                    q[i] = q6_k_group(l0[i], l1[i], qh[i], g);
                    w[i] = scale_pair(half[i], g);
                }
                K_GROUP(4 * h + g, q, w)
            }
        }
        _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++)
            _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++)
                finish_off16(&acc[i][j], sumi[i][j], sc16[i], 5,
                             avx2_fp16(K_X(ingot_block_q6_k, i)->d), K_Y(j));
    }
    K_TILE_STORE
}
X86_ENTRY_POINTS(q6_k, QK_NX)

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

AVX2_INLINE void q4_k_tile(K_TILE_ARGS) {
    K_TILE_ACC
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    for (int64_t b = 0; b < n / QK; b++) {
        __m256i sc[QK_NX], mn[QK_NX];
        _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++)
            k4_scales(K_X(ingot_block_q4_k, i)->scales, &sc[i], &mn[i]);
        K_SUMI_ZERO
        _Pragma("GCC unroll 4") for (int k = 0; k < 4; k++) {
            __m256i lo[QK_NX], hi[QK_NX], wl[QK_NX], wh[QK_NX];
            _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) {
                const __m256i q = avx2_loadu(K_X(ingot_block_q4_k, i)->qs + 32 * k);
                lo[i] = _mm256_and_si256(q, m4);
                hi[i] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                wl[i] = avx2_bcast16(sc[i], 2 * k);
                wh[i] = avx2_bcast16(sc[i], 2 * k + 1);
            }
            K_GROUP(2 * k, lo, wl)
            K_GROUP(2 * k + 1, hi, wh)
        }
        _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++)
            _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) {
                const ingot_block_q4_k *x = K_X(ingot_block_q4_k, i);
                finish_min(&acc[i][j], sumi[i][j], mn[i], avx2_fp16(x->d), avx2_fp16(x->dmin), K_Y(j));
            }
    }
    K_TILE_STORE
}
X86_ENTRY_POINTS(q4_k, QK_NX)

AVX2_INLINE void q5_k_tile(K_TILE_ARGS) {
    K_TILE_ACC
    const __m256i m4 = _mm256_set1_epi8(0x0f), b4 = _mm256_set1_epi8(0x10);
    for (int64_t b = 0; b < n / QK; b++) {
        __m256i sc[QK_NX], mn[QK_NX], hb[QK_NX];
        _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) {
            k4_scales(K_X(ingot_block_q5_k, i)->scales, &sc[i], &mn[i]);
            hb[i] = avx2_loadu(K_X(ingot_block_q5_k, i)->qh);
        }
        K_SUMI_ZERO
        _Pragma("GCC unroll 4") for (int k = 0; k < 4; k++) {
            __m256i lo[QK_NX], hi[QK_NX], wl[QK_NX], wh[QK_NX];
            _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) {
                /* bits 2k and 2k+1 of qh -> bit 4 of the low / high group */
                const __m256i q = avx2_loadu(K_X(ingot_block_q5_k, i)->qs + 32 * k);
                lo[i] = _mm256_or_si256(_mm256_and_si256(q, m4),
                                        _mm256_and_si256(_mm256_slli_epi16(hb[i], 4), b4));
                hi[i] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4),
                                        _mm256_and_si256(_mm256_slli_epi16(hb[i], 3), b4));
                hb[i] = _mm256_srli_epi16(hb[i], 2);
                wl[i] = avx2_bcast16(sc[i], 2 * k);
                wh[i] = avx2_bcast16(sc[i], 2 * k + 1);
            }
            K_GROUP(2 * k, lo, wl)
            K_GROUP(2 * k + 1, hi, wh)
        }
        _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++)
            _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) {
                const ingot_block_q5_k *x = K_X(ingot_block_q5_k, i);
                finish_min(&acc[i][j], sumi[i][j], mn[i], avx2_fp16(x->d), avx2_fp16(x->dmin), K_Y(j));
            }
    }
    K_TILE_STORE
}
X86_ENTRY_POINTS(q5_k, QK_NX)

/* ---- IQ4_XS: non-linear 4-bit levels, 6-bit scales - 32 per 32 ---- */
AVX2_INLINE __m256i iq4_xs_scales(const ingot_block_iq4_xs *x) {
    const __m256i shl = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
    const __m256i shh = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    const __m256i lo = _mm256_and_si256(
        _mm256_srlv_epi32(_mm256_set1_epi32((int)rd32(x->scales_l)), shl), _mm256_set1_epi32(15));
    const __m256i hi = _mm256_and_si256(
        _mm256_srlv_epi32(_mm256_set1_epi32(x->scales_h), shh), _mm256_set1_epi32(3));
    const __m256i ls = _mm256_sub_epi32(_mm256_or_si256(lo, _mm256_slli_epi32(hi, 4)),
                                        _mm256_set1_epi32(32));
    return dup128(_mm_packs_epi32(_mm256_castsi256_si128(ls), _mm256_extracti128_si256(ls, 1)));
}

AVX2_INLINE void iq4_xs_tile(K_TILE_ARGS) {
    K_TILE_ACC
    const __m256i table =
        _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)ingot_iq4nl_values));
    for (int64_t b = 0; b < n / QK; b++) {
        __m256i sc[QK_NX];
        _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) sc[i] = iq4_xs_scales(K_X(ingot_block_iq4_xs, i));
        K_SUMI_ZERO
        _Pragma("GCC unroll 8") for (int ib = 0; ib < 8; ib++) {
            __m256i q[QK_NX], aq[QK_NX], w[QK_NX];
            _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++) {
                q[i] = _mm256_shuffle_epi8(table, avx2_nibbles16(K_X(ingot_block_iq4_xs, i)->qs + 16 * ib));
                aq[i] = _mm256_abs_epi8(q[i]);
                w[i] = avx2_bcast16(sc[i], ib);
            }
            _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {
                const __m256i yv = avx2_loadu(K_Y(j)->qs + 32 * ib);
                _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++)
                    sumi[i][j] = Q_DOT_W(sumi[i][j], aq[i], _mm256_sign_epi8(yv, q[i]), w[i]);
            }
        }
        _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++)
            _Pragma("GCC unroll 2") for (int i = 0; i < NX; i++)
                acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(K_Y(j)->d * avx2_fp16(K_X(ingot_block_iq4_xs, i)->d)),
                                            _mm256_cvtepi32_ps(sumi[i][j]), acc[i][j]);
    }
    K_TILE_STORE
}
X86_ENTRY_POINTS(iq4_xs, QK_NX)

static void x86_fill_qk(ingot_kernels *k) {
    X86_SET(k, Q2_K, q2_k);
    X86_SET(k, Q3_K, q3_k);
    X86_SET(k, Q4_K, q4_k);
    X86_SET(k, Q5_K, q5_k);
    X86_SET(k, Q6_K, q6_k);
    X86_SET(k, IQ4_XS, iq4_xs);
}
#endif
