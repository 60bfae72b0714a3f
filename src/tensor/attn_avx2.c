/* Owns the AVX2+FMA+F16C attention kernels (compiled with those flags,
 * called only when the CPU has them). */
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <math.h>

#include "tensor/attn.h"
#include "tensor/attn_x86.h"
#include "tensor/types.h"
#include "tensor/vexp_avx2.h"

static float dot_f16_avx2(const float *q, const uint16_t *k, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 k0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k + i)));
        __m256 k1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k + i + 8)));
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), k0, a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), k1, a1);
    }
    for (; i + 8 <= n; i += 8)
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k + i))), a0);
    float s = hsum256(_mm256_add_ps(a0, a1));
    for (; i < n; i++) s += q[i] * ingot_fp16_to_fp32(k[i]);
    return s;
}

static void axpy_f16_avx2(float w, const uint16_t *v, float *o, int n) {
    const __m256 wv = _mm256_set1_ps(w);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + i)));
        _mm256_storeu_ps(o + i, _mm256_fmadd_ps(wv, x, _mm256_loadu_ps(o + i)));
    }
    for (; i < n; i++) o[i] += w * ingot_fp16_to_fp32(v[i]);
}

/* Scores of NR query rows (q rows hd apart) against 16 keys of a
 * transposed chunk (kt + j, ld apart per dimension): each score is one
 * FMA chain over d = 0..hd-1 in order, whatever NR is. Stores 8 scores
 * per row, 16 when two8. */
static inline __attribute__((always_inline)) void scores_nr(const int NR, const float *q, int hd, const float *kt,
                                                            int ld, float *s, int ns, int two8, __m256 vscale) {
    __m256 a0[4], a1[4];
    for (int i = 0; i < NR; i++) a0[i] = a1[i] = _mm256_setzero_ps();
    for (int d = 0; d < hd; d++) {
        const __m256 k0 = _mm256_loadu_ps(kt + (size_t)d * ld), k1 = _mm256_loadu_ps(kt + (size_t)d * ld + 8);
        for (int i = 0; i < NR; i++) {
            const __m256 qv = _mm256_broadcast_ss(q + (size_t)i * hd + d);
            a0[i] = _mm256_fmadd_ps(qv, k0, a0[i]);
            a1[i] = _mm256_fmadd_ps(qv, k1, a1[i]);
        }
    }
    for (int i = 0; i < NR; i++) {
        _mm256_storeu_ps(s + (size_t)i * ns, _mm256_mul_ps(a0[i], vscale));
        if (two8) _mm256_storeu_ps(s + (size_t)i * ns + 8, _mm256_mul_ps(a1[i], vscale));
    }
}

/* out rows (NR of them, o[i]) += sum_j p[i][j] * v[j] over j < mr, dims
 * [0, 8 W) of the chunk's value rows (v, hd apart), one FMA chain per
 * output in order of j. */
static inline __attribute__((always_inline)) void pv_nr(const int NR, const int W, float *const *o,
                                                        const float *const *p, const float *v, int hd, int mr) {
    __m256 acc[2][4];
    for (int i = 0; i < NR; i++)
        for (int w = 0; w < W; w++) acc[i][w] = _mm256_loadu_ps(o[i] + 8 * w);
    for (int j = 0; j < mr; j++) {
        __m256 vv[4];
        for (int w = 0; w < W; w++) {
            vv[w] = _mm256_loadu_ps(v + (size_t)j * hd + 8 * w);
            /* keep it in a register: folded into each row's FMA, the load
             * is repeated per row and the loop becomes load-bound */
            __asm__("" : "+x"(vv[w]));
        }
        for (int i = 0; i < NR; i++) {
            const __m256 pj = _mm256_broadcast_ss(p[i] + j);
            for (int w = 0; w < W; w++) acc[i][w] = _mm256_fmadd_ps(pj, vv[w], acc[i][w]);
        }
    }
    for (int i = 0; i < NR; i++)
        for (int w = 0; w < W; w++) _mm256_storeu_ps(o[i] + 8 * w, acc[i][w]);
}

/* Rows r < ntok * nh of the tile: token r / nh, head r % nh, which sees
 * nk + r / nh keys. Rows are computed in small blocks for register reuse,
 * but every value is one chain in a fixed order: a score is the FMA chain
 * of its dot over d, its softmax runs over its own keys (8-aligned), and
 * an output is the FMA chain of p_j v_j over j; weights past a row's own
 * keys are exact zeros, so blocking adds only exact +0 terms. Tiles and
 * single tokens therefore agree bit for bit. */
static void attend_tile_avx2(const float *q, size_t q_tok, size_t ldq, int nh, int ntok, const uint16_t *k,
                             const uint16_t *v, size_t kv_stride, int nk, int hd, float scale, float softcap,
                             float *out, size_t o_tok, size_t ldo, float *scratch) {
    const int R = nh * ntok, NK = nk + ntok - 1;
    const int ns = (NK + 7) & ~7; /* score row stride */
    float *sc = scratch, *qr = scratch + (size_t)R * ns, *buf = qr + (size_t)R * hd;
    for (int r = 0; r < R; r++)
        for (int d = 0; d < hd; d += 8)
            _mm256_storeu_ps(qr + (size_t)r * hd + d,
                             round_f16x8(_mm256_loadu_ps(q + (size_t)(r / nh) * q_tok + (size_t)(r % nh) * ldq + d)));
    const __m256 vscale = _mm256_set1_ps(scale);
#define ROW_KEYS(r) (nk + (r) / nh)
    /* scores, 4 rows x 16 keys at a time */
    for (int c0 = 0; c0 < NK; c0 += ATT_CHUNK) {
        const int m = NK - c0 < ATT_CHUNK ? NK - c0 : ATT_CHUNK;
        const int ld = (m + 15) & ~15;
        keys_to_f32_t(k + (size_t)c0 * kv_stride, kv_stride, m, hd, buf, ld);
        for (int r0 = 0; r0 < R; r0 += 4) {
            const int nr = R - r0 < 4 ? R - r0 : 4;
            int mr = ROW_KEYS(r0 + nr - 1) - c0; /* the block's last row sees the most keys */
            if (mr > m) mr = m;
            for (int j = 0; j < mr; j += 16) {
                const float *qb = qr + (size_t)r0 * hd;
                float *sb = sc + (size_t)r0 * ns + c0 + j;
                const int two8 = j + 8 < mr;
                switch (nr) {
                case 4: scores_nr(4, qb, hd, buf + j, ld, sb, ns, two8, vscale); break;
                case 3: scores_nr(3, qb, hd, buf + j, ld, sb, ns, two8, vscale); break;
                case 2: scores_nr(2, qb, hd, buf + j, ld, sb, ns, two8, vscale); break;
                default: scores_nr(1, qb, hd, buf + j, ld, sb, ns, two8, vscale); break;
                }
            }
        }
    }
    /* softmax per row over its own keys; weights rounded to F16, and zero
     * past the row's keys up to the stride (the blocked sum reads them) */
    for (int r = 0; r < R; r++) {
        float *s = sc + (size_t)r * ns;
        const int nkr = ROW_KEYS(r), nsr = (nkr + 7) & ~7;
        if (softcap > 0)
            for (int j = 0; j < nkr; j++) s[j] = softcap * tanhf(s[j] / softcap);
        for (int j = nkr; j < nsr; j++) s[j] = -INFINITY;
        __m256 mx = _mm256_set1_ps(-INFINITY);
        for (int j = 0; j < nsr; j += 8) mx = _mm256_max_ps(mx, _mm256_loadu_ps(s + j));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const __m256 vmax = _mm256_broadcastss_ps(m4);
        __m256 sum = _mm256_setzero_ps();
        for (int j = 0; j < nsr; j += 8) {
            __m256 e = ingot_exp8(_mm256_sub_ps(_mm256_loadu_ps(s + j), vmax));
            e = _mm256_and_ps(e, _mm256_cmp_ps(_mm256_loadu_ps(s + j), _mm256_set1_ps(-INFINITY), _CMP_NEQ_OQ));
            _mm256_storeu_ps(s + j, e);
            sum = _mm256_add_ps(sum, e);
        }
        const __m256 inv = _mm256_set1_ps(1.0f / hsum256(sum));
        for (int j = 0; j < nsr; j += 8) _mm256_storeu_ps(s + j, round_f16x8(_mm256_mul_ps(_mm256_loadu_ps(s + j), inv)));
        for (int j = nsr; j < ns; j++) s[j] = 0.0f;
    }
    /* out = sum_j p_j v_j, in order of j: 2 rows x 32 dimensions at a time */
    for (int r = 0; r < R; r++) {
        float *o = out + (size_t)(r / nh) * o_tok + (size_t)(r % nh) * ldo;
        for (int d = 0; d < hd; d++) o[d] = 0.0f;
    }
    for (int c0 = 0; c0 < NK; c0 += ATT_CHUNK) {
        const int m = NK - c0 < ATT_CHUNK ? NK - c0 : ATT_CHUNK;
        rows_to_f32(v + (size_t)c0 * kv_stride, kv_stride, m, hd, buf);
        for (int r0 = 0; r0 < R; r0 += 2) {
            const int nr = R - r0 < 2 ? R - r0 : 2;
            int mr = ROW_KEYS(r0 + nr - 1) - c0;
            if (mr > m) mr = m;
            if (mr <= 0) continue;
            for (int d0 = 0; d0 < hd; d0 += 32) {
                const int w = hd - d0 < 32 ? (hd - d0) / 8 : 4;
                float *o[2];
                const float *p[2];
                for (int i = 0; i < nr; i++) {
                    const int r = r0 + i;
                    o[i] = out + (size_t)(r / nh) * o_tok + (size_t)(r % nh) * ldo + d0;
                    p[i] = sc + (size_t)r * ns + c0;
                }
                const float *vb = buf + d0;
                if (nr == 2) {
                    switch (w) {
                    case 4: pv_nr(2, 4, o, p, vb, hd, mr); break;
                    case 3: pv_nr(2, 3, o, p, vb, hd, mr); break;
                    case 2: pv_nr(2, 2, o, p, vb, hd, mr); break;
                    default: pv_nr(2, 1, o, p, vb, hd, mr); break;
                    }
                } else {
                    switch (w) {
                    case 4: pv_nr(1, 4, o, p, vb, hd, mr); break;
                    case 3: pv_nr(1, 3, o, p, vb, hd, mr); break;
                    case 2: pv_nr(1, 2, o, p, vb, hd, mr); break;
                    default: pv_nr(1, 1, o, p, vb, hd, mr); break;
                    }
                }
            }
        }
    }
#undef ROW_KEYS
}

static void attend_f16_avx2(const float *q, size_t ldq, int nh, const uint16_t *k, const uint16_t *v,
                            size_t kv_stride, int nk, int hd, float scale, float softcap, float *out,
                            size_t ldo, float *scratch) {
    attend_tile_avx2(q, 0, ldq, nh, 1, k, v, kv_stride, nk, hd, scale, softcap, out, 0, ldo, scratch);
}

static void silu_mul_avx2(float *h, const float *g, const float *u, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_loadu_ps(g + i);
        const __m256 e = ingot_exp8(_mm256_sub_ps(_mm256_setzero_ps(), x));
        _mm256_storeu_ps(h + i, _mm256_mul_ps(_mm256_div_ps(x, _mm256_add_ps(one, e)), _mm256_loadu_ps(u + i)));
    }
    for (; i < n; i++) h[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

/* gelu_tanh(x) = 0.5 x (1 + tanh(c (x + 0.044715 x^3))) = x / (1 + exp(-2 c (...))) */
static void gelu_mul_avx2(float *h, const float *g, const float *u, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f), k1 = _mm256_set1_ps(-2.0f * 0.7978845608028654f),
                 k3 = _mm256_set1_ps(0.044715f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_loadu_ps(g + i);
        const __m256 inner = _mm256_mul_ps(k1, _mm256_fmadd_ps(_mm256_mul_ps(k3, x), _mm256_mul_ps(x, x), x));
        const __m256 e = ingot_exp8(inner);
        _mm256_storeu_ps(h + i, _mm256_mul_ps(_mm256_div_ps(x, _mm256_add_ps(one, e)), _mm256_loadu_ps(u + i)));
    }
    const float c = 0.7978845608028654f;
    for (; i < n; i++) {
        const float x = g[i];
        h[i] = 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x))) * u[i];
    }
}

static const ingot_attn_kernels avx2 = {dot_f16_avx2,     axpy_f16_avx2, attend_f16_avx2, attend_tile_avx2,
                                        silu_mul_avx2, gelu_mul_avx2, "avx2"};

const ingot_attn_kernels *ingot_attn_kernels_avx2(void) { return &avx2; }
#endif
