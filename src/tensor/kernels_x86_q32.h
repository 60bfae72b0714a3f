/* Kernel bodies of the 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1,
 * Q8_0, IQ4_NL) for the x86 sets with 256-bit integer dots (avx2,
 * avxvnni): included once by each such set's file, after it has defined
 * the integer primitives below, so one source serves every set and the
 * float operations (hence the results) are the same in all of them.
 *   Q_PREP_SYM(q)       per weight block: what Q_DOT_SYM needs besides q
 *   Q_DOT_SYM(p, q, y)  8 int32 lanes: lane m = sum of x[k]*y[k] over
 *                       bytes 4m..4m+3, q signed weights, y in [-127, 127]
 *   Q_DOT_U(x, y)       the same for unsigned weights x (0..127)
 *   Q32_SYM_TILE        SYM_TILE, or SYM_TILE_SPLIT for a set that has
 *                       Q_SPLIT_PREP / Q_SPLIT_Y / Q_SPLIT_DOT (below)
 * Two blocks per step: their int32 lanes are merged by one hadd (lanes
 * 0,1,4,5 from the first block, 2,3,6,7 from the second) so one cvt and
 * one FMA serve both, against a scale vector from one fp16 conversion of
 * [dx0 dx1] per weight row and [dy0 dy1] per activation row. NAME_unpack
 * gives a block's 32 weights as int8 (signed for the symmetric types
 * against Q8_0; unsigned 0..31 for the types with a min against Q8_1,
 * whose min term gathers in lanes 1 and 3 of mins). A tile is NX weight
 * rows by NY activation rows; every (row, activation row) pair runs the
 * same instructions whatever NX and NY are, so gemm, vec_dot_n and
 * vec_dot agree bit for bit. The includer then calls x86_fill_q32(). */
#ifndef INGOT_TENSOR_KERNELS_X86_Q32_H
#define INGOT_TENSOR_KERNELS_X86_Q32_H

AVX2_INLINE __m128 fp16x2(const uint16_t *a, const uint16_t *b) {
    return _mm_cvtph_ps(_mm_insert_epi16(_mm_cvtsi32_si128(*a), *b, 1));
}

/* [d0d0 d1d1 d0d0 d1d1]-style spread of lanes 0 and `second` of v. */
AVX2_INLINE __m256 spread2(__m128 v, int second) {
    const __m256i idx = second == 1 ? _mm256_setr_epi32(0, 0, 1, 1, 0, 0, 1, 1)
                                    : _mm256_setr_epi32(0, 0, 2, 2, 0, 0, 2, 2);
    return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(v), idx);
}

/* 4-byte lanes 0 and 2 (even) / 1 and 3 (odd) of each 128-bit half of a,
 * then of b: [a0 a2 b0 b2 | a4 a6 b4 b6] and [a1 a3 b1 b3 | a5 a7 b5 b7]. */
AVX2_INLINE __m256i even32(__m256i a, __m256i b) {
    return _mm256_castps_si256(_mm256_shuffle_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), 0x88));
}
AVX2_INLINE __m256i odd32(__m256i a, __m256i b) {
    return _mm256_castps_si256(_mm256_shuffle_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), 0xdd));
}

#define SYM_TILE(name, xtype, NXB)                                                          \
    AVX2_INLINE void name##_tile(int64_t n, float *s, size_t ld, const void *vx, size_t xs, \
                                 const void *vy, size_t ys, const int NX, const int NY) {   \
        const int64_t nb = n / 32;                                                          \
        __m256 acc[NXB][4];                                                                 \
        for (int i = 0; i < NXB; i++)                                                       \
            for (int j = 0; j < 4; j++) acc[i][j] = _mm256_setzero_ps();                    \
        int64_t b = 0;                                                                      \
        for (; b + 2 <= nb; b += 2) {                                                       \
            __m256i q0[NXB], q1[NXB], p0[NXB], p1[NXB];                                     \
            __m256 xd[NXB];                                                                 \
            _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++) {                          \
                const xtype *x = X86_ROW(xtype, vx, xs, i) + b;                             \
                q0[i] = name##_unpack(x);                                                   \
                q1[i] = name##_unpack(x + 1);                                               \
                p0[i] = Q_PREP_SYM(q0[i]);                                                  \
                p1[i] = Q_PREP_SYM(q1[i]);                                                  \
                xd[i] = spread2(fp16x2(&x[0].d, &x[1].d), 1);                               \
            }                                                                               \
            _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                          \
                const ingot_block_q8_0 *y = X86_ROW(ingot_block_q8_0, vy, ys, j) + b;       \
                const __m256i y0 = avx2_loadu(y[0].qs), y1 = avx2_loadu(y[1].qs);           \
                /* spread before the product: the same products, one      */               \
                /* permute per row instead of one per pair                */               \
                const __m256 yd = spread2(fp16x2(&y[0].d, &y[1].d), 1);                     \
                _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++) {                      \
                    const __m256i t = _mm256_hadd_epi32(Q_DOT_SYM(p0[i], q0[i], y0),        \
                                                        Q_DOT_SYM(p1[i], q1[i], y1));       \
                    const __m256 sc = _mm256_mul_ps(xd[i], yd);                             \
                    acc[i][j] = _mm256_fmadd_ps(sc, _mm256_cvtepi32_ps(t), acc[i][j]);      \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
        if (b < nb) {                                                                       \
            __m256i q0[NXB], p0[NXB];                                                       \
            float dx[NXB];                                                                  \
            _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++) {                          \
                const xtype *x = X86_ROW(xtype, vx, xs, i) + b;                             \
                q0[i] = name##_unpack(x);                                                   \
                p0[i] = Q_PREP_SYM(q0[i]);                                                  \
                dx[i] = avx2_fp16(x->d);                                                    \
            }                                                                               \
            _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                          \
                const ingot_block_q8_0 *y = X86_ROW(ingot_block_q8_0, vy, ys, j) + b;       \
                const __m256i y0 = avx2_loadu(y->qs);                                       \
                const float dy = avx2_fp16(y->d);                                           \
                _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++) {                      \
                    const __m256i p = Q_DOT_SYM(p0[i], q0[i], y0);                          \
                    acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(dx[i] * dy),                 \
                                                _mm256_cvtepi32_ps(p), acc[i][j]);          \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
        _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++)                                \
            _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++)                            \
                s[(size_t)i * ld + j] = avx2_hsum(acc[i][j]);                               \
    }                                                                                       \
    X86_ENTRY_POINTS(name, NXB)

/* The symmetric tile for sets with chained dot instructions: instead of
 * two dots and a hadd per pair, the weights and activations of a block
 * pair are regrouped once per row (even32/odd32) so that two chained dots
 * give hadd's lanes directly: lane 0 = bytes 0..7 of the first block
 * (lanes 0, 1 of its dot), lane 2 = bytes 0..7 of the second, and so on.
 * The integers are the same as SYM_TILE's, so are the float operations.
 * Up to 8 activation rows per tile (for 32 registers: 2 x 8 accumulators
 * and two rows' regrouped blocks, starts and scales).
 *   Q_SPLIT_PREP(ex, ox)  per weight row and block pair: the dot's start
 *   Q_SPLIT_Y(v)          per activation row: what the dot multiplies
 *   Q_SPLIT_DOT(c, ex, ox, ey, oy)  the merged int32 lanes */
#define SYM_TILE_SPLIT(name, xtype, NXB)                                                    \
    AVX2_INLINE void name##_tile(int64_t n, float *s, size_t ld, const void *vx, size_t xs, \
                                 const void *vy, size_t ys, const int NX, const int NY) {   \
        const int64_t nb = n / 32;                                                          \
        __m256 acc[NXB][8];                                                                 \
        for (int i = 0; i < NXB; i++)                                                       \
            for (int j = 0; j < 8; j++) acc[i][j] = _mm256_setzero_ps();                    \
        int64_t b = 0;                                                                      \
        for (; b + 2 <= nb; b += 2) {                                                       \
            __m256i ex[NXB], ox[NXB], c[NXB];                                               \
            __m256 xd[NXB];                                                                 \
            _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++) {                          \
                const xtype *x = X86_ROW(xtype, vx, xs, i) + b;                             \
                const __m256i q0 = name##_unpack(x), q1 = name##_unpack(x + 1);             \
                ex[i] = even32(q0, q1);                                                     \
                ox[i] = odd32(q0, q1);                                                      \
                c[i] = Q_SPLIT_PREP(ex[i], ox[i]);                                          \
                xd[i] = spread2(fp16x2(&x[0].d, &x[1].d), 1);                               \
            }                                                                               \
            _Pragma("GCC unroll 8") for (int j = 0; j < NY; j++) {                          \
                const ingot_block_q8_0 *y = X86_ROW(ingot_block_q8_0, vy, ys, j) + b;       \
                const __m256i y0 = avx2_loadu(y[0].qs), y1 = avx2_loadu(y[1].qs);           \
                const __m256i ey = Q_SPLIT_Y(even32(y0, y1)), oy = Q_SPLIT_Y(odd32(y0, y1)); \
                const __m256 yd = spread2(fp16x2(&y[0].d, &y[1].d), 1);                     \
                _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++) {                      \
                    const __m256i t = Q_SPLIT_DOT(c[i], ex[i], ox[i], ey, oy);              \
                    const __m256 sc = _mm256_mul_ps(xd[i], yd);                             \
                    acc[i][j] = _mm256_fmadd_ps(sc, _mm256_cvtepi32_ps(t), acc[i][j]);      \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
        if (b < nb) {                                                                       \
            __m256i q0[NXB], p0[NXB];                                                       \
            float dx[NXB];                                                                  \
            _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++) {                          \
                const xtype *x = X86_ROW(xtype, vx, xs, i) + b;                             \
                q0[i] = name##_unpack(x);                                                   \
                p0[i] = Q_PREP_SYM(q0[i]);                                                  \
                dx[i] = avx2_fp16(x->d);                                                    \
            }                                                                               \
            _Pragma("GCC unroll 8") for (int j = 0; j < NY; j++) {                          \
                const ingot_block_q8_0 *y = X86_ROW(ingot_block_q8_0, vy, ys, j) + b;       \
                const __m256i y0 = avx2_loadu(y->qs);                                       \
                const float dy = avx2_fp16(y->d);                                           \
                _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++) {                      \
                    const __m256i p = Q_DOT_SYM(p0[i], q0[i], y0);                          \
                    acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(dx[i] * dy),                 \
                                                _mm256_cvtepi32_ps(p), acc[i][j]);          \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
        _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++)                                \
            _Pragma("GCC unroll 8") for (int j = 0; j < NY; j++)                            \
                s[(size_t)i * ld + j] = avx2_hsum(acc[i][j]);                               \
    }                                                                                       \
    X86_ENTRY_POINTS8(name, NXB)

/* [d m] of a block with a min (d and m are its first two fields) */
AVX2_INLINE __m128i dm_bits(const void *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return _mm_cvtsi32_si128((int)v);
}
/* [d0 m0 d1 m1] of two consecutive blocks */
AVX2_INLINE __m128 dm_pair(const void *b0, const void *b1) {
    uint32_t v1;
    memcpy(&v1, b1, 4);
    return _mm_cvtph_ps(_mm_insert_epi32(dm_bits(b0), (int)v1, 1));
}

#define MIN_TILE(name, xtype, NXB)                                                          \
    AVX2_INLINE void name##_tile(int64_t n, float *s, size_t ld, const void *vx, size_t xs, \
                                 const void *vy, size_t ys, const int NX, const int NY) {   \
        const int64_t nb = n / 32;                                                          \
        __m256 acc[NXB][4];                                                                 \
        __m128 mins[NXB][4];                                                                \
        for (int i = 0; i < NXB; i++)                                                       \
            for (int j = 0; j < 4; j++) {                                                   \
                acc[i][j] = _mm256_setzero_ps();                                            \
                mins[i][j] = _mm_setzero_ps();                                              \
            }                                                                               \
        int64_t b = 0;                                                                      \
        for (; b + 2 <= nb; b += 2) {                                                       \
            __m256i q0[NXB], q1[NXB];                                                       \
            __m128 xdm[NXB];                                                                \
            _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++) {                          \
                const xtype *x = X86_ROW(xtype, vx, xs, i) + b;                             \
                q0[i] = name##_unpack(x);                                                   \
                q1[i] = name##_unpack(x + 1);                                               \
                xdm[i] = dm_pair(&x[0], &x[1]);                                             \
            }                                                                               \
            _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                          \
                const ingot_block_q8_1 *y = X86_ROW(ingot_block_q8_1, vy, ys, j) + b;       \
                const __m256i y0 = avx2_loadu(y[0].qs), y1 = avx2_loadu(y[1].qs);           \
                const __m128 ydm = dm_pair(&y[0], &y[1]);                                   \
                _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++) {                      \
                    const __m256i t = _mm256_hadd_epi32(Q_DOT_U(q0[i], y0), Q_DOT_U(q1[i], y1)); \
                    const __m128 prod = _mm_mul_ps(xdm[i], ydm);                            \
                    acc[i][j] = _mm256_fmadd_ps(spread2(prod, 2), _mm256_cvtepi32_ps(t), acc[i][j]); \
                    mins[i][j] = _mm_add_ps(mins[i][j], prod);                              \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
        if (b < nb) {                                                                       \
            __m256i q0[NXB];                                                                \
            __m128 xdm[NXB];                                                                \
            _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++) {                          \
                const xtype *x = X86_ROW(xtype, vx, xs, i) + b;                             \
                q0[i] = name##_unpack(x);                                                   \
                xdm[i] = _mm_cvtph_ps(dm_bits(x));                                          \
            }                                                                               \
            _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                          \
                const ingot_block_q8_1 *y = X86_ROW(ingot_block_q8_1, vy, ys, j) + b;       \
                const __m256i y0 = avx2_loadu(y->qs);                                       \
                const __m128 ydm = _mm_cvtph_ps(dm_bits(y));                                \
                _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++) {                      \
                    const __m256i p = Q_DOT_U(q0[i], y0);                                   \
                    const __m128 prod = _mm_mul_ps(xdm[i], ydm);                            \
                    acc[i][j] = _mm256_fmadd_ps(_mm256_broadcastss_ps(prod),                \
                                                _mm256_cvtepi32_ps(p), acc[i][j]);          \
                    mins[i][j] = _mm_add_ps(mins[i][j], _mm_blend_ps(_mm_setzero_ps(), prod, 2)); \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
        _Pragma("GCC unroll 4") for (int i = 0; i < NX; i++)                                \
            _Pragma("GCC unroll 4") for (int j = 0; j < NY; j++) {                          \
                const __m128 m = _mm_add_ps(mins[i][j], _mm_movehl_ps(mins[i][j], mins[i][j])); \
                s[(size_t)i * ld + j] = avx2_hsum(acc[i][j]) + _mm_cvtss_f32(_mm_movehdup_ps(m)); \
            }                                                                               \
    }                                                                                       \
    X86_ENTRY_POINTS(name, NXB)

/* Weight rows per gemm tile: two for the symmetric types (their tile of
 * 2 x 4 keeps 8 accumulators and 2 x 2 weight blocks in registers); one
 * for the types with a min, whose 8 min accumulators would not fit in 16
 * registers (an includer with 32 may set Q32_NX_MIN to 2). */
#define Q32_NX_SYM 2
#ifndef Q32_NX_MIN
#define Q32_NX_MIN 1
#endif

AVX2_INLINE __m256i q4_0_unpack(const ingot_block_q4_0 *x) {
    return _mm256_sub_epi8(avx2_nibbles16(x->qs), _mm256_set1_epi8(8));
}
Q32_SYM_TILE(q4_0, ingot_block_q4_0, Q32_NX_SYM)

AVX2_INLINE __m256i q4_1_unpack(const ingot_block_q4_1 *x) { return avx2_nibbles16(x->qs); }
MIN_TILE(q4_1, ingot_block_q4_1, Q32_NX_MIN)

AVX2_INLINE __m256i q5_0_unpack(const ingot_block_q5_0 *x) {
    /* q - 16 = nibble - 16 where the 5th bit is clear, the nibble where set */
    const __m256i hi = _mm256_andnot_si256(avx2_bits32(x->qh), _mm256_set1_epi8(0x10));
    return _mm256_sub_epi8(avx2_nibbles16(x->qs), hi);
}
Q32_SYM_TILE(q5_0, ingot_block_q5_0, Q32_NX_SYM)

AVX2_INLINE __m256i q5_1_unpack(const ingot_block_q5_1 *x) {
    const __m256i hi = _mm256_and_si256(avx2_bits32(x->qh), _mm256_set1_epi8(0x10));
    return _mm256_or_si256(avx2_nibbles16(x->qs), hi);
}
MIN_TILE(q5_1, ingot_block_q5_1, Q32_NX_MIN)

AVX2_INLINE __m256i q8_0_unpack(const ingot_block_q8_0 *x) { return avx2_loadu(x->qs); }
Q32_SYM_TILE(q8_0, ingot_block_q8_0, Q32_NX_SYM)

AVX2_INLINE __m256i iq4_nl_unpack(const ingot_block_iq4_nl *x) {
    const __m256i table =
        _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)ingot_iq4nl_values));
    return _mm256_shuffle_epi8(table, avx2_nibbles16(x->qs));
}
Q32_SYM_TILE(iq4_nl, ingot_block_iq4_nl, Q32_NX_SYM)

static void x86_fill_q32(ingot_kernels *k) {
    X86_SET(k, Q4_0, q4_0);
    X86_SET(k, Q4_1, q4_1);
    X86_SET(k, Q5_0, q5_0);
    X86_SET(k, Q5_1, q5_1);
    X86_SET(k, Q8_0, q8_0);
    X86_SET(k, IQ4_NL, iq4_nl);
}
#endif
