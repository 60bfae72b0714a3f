/* Owns the AVX2+FMA+F16C attention kernels (compiled with those flags,
 * called only when the CPU has them). */
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <math.h>

#include "tensor/attn.h"
#include "tensor/types.h"
#include "tensor/vexp_avx2.h"

static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

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

/* Keys (or values) converted to float per chunk, shared by the heads. */
#define ATT_CHUNK 128

/* 8 sums of a[0..7] (each lane-summed as ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)),
 * whatever its slot): slot m of the result = sum of a[m]. */
static inline __m256 hsum8x8(const __m256 a[8]) {
    const __m256 u0 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
    const __m256 u1 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

static inline __m256 round_f16x8(__m256 x) {
    return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/* rows [j0, j0 + m) of an F16 matrix into dst[m][hd] floats, then zero
 * rows up to a multiple of 8 */
static void rows_to_f32(const uint16_t *src, size_t stride, int m, int hd, float *dst) {
    for (int j = 0; j < m; j++)
        for (int d = 0; d < hd; d += 8)
            _mm256_storeu_ps(dst + (size_t)j * hd + d,
                             _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + (size_t)j * stride + d))));
    for (int j = m; j % 8; j++)
        for (int d = 0; d < hd; d += 8) _mm256_storeu_ps(dst + (size_t)j * hd + d, _mm256_setzero_ps());
}

/* Rows r < ntok * nh of the tile: token r / nh, head r % nh, which sees
 * nk + r / nh keys. Every row runs exactly the steps it would run alone
 * (its own 8-key groups, its own softmax length, its own sum over its
 * keys in order), so tiles and single tokens agree bit for bit. */
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
    /* scores, 8 keys at a time */
    for (int c0 = 0; c0 < NK; c0 += ATT_CHUNK) {
        const int m = NK - c0 < ATT_CHUNK ? NK - c0 : ATT_CHUNK;
        rows_to_f32(k + (size_t)c0 * kv_stride, kv_stride, m, hd, buf);
        for (int r = 0; r < R; r++) {
            const int mr = nk + r / nh - c0 < m ? nk + r / nh - c0 : m; /* this row's keys in the chunk */
            const float *qh = qr + (size_t)r * hd;
            for (int j = 0; j < mr; j += 8) {
                __m256 acc[8];
                for (int i = 0; i < 8; i++) acc[i] = _mm256_setzero_ps();
                const float *kb = buf + (size_t)j * hd;
                for (int d = 0; d < hd; d += 8) {
                    const __m256 qv = _mm256_loadu_ps(qh + d);
                    for (int i = 0; i < 8; i++)
                        acc[i] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(kb + (size_t)i * hd + d), acc[i]);
                }
                _mm256_storeu_ps(sc + (size_t)r * ns + c0 + j, _mm256_mul_ps(hsum8x8(acc), vscale));
            }
        }
    }
    /* softmax per row over its own keys; weights rounded to F16 */
    for (int r = 0; r < R; r++) {
        float *s = sc + (size_t)r * ns;
        const int nkr = nk + r / nh, nsr = (nkr + 7) & ~7;
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
    }
    /* out = sum_j p_j v_j, in order of j, 64 dimensions at a time */
    for (int r = 0; r < R; r++) {
        float *o = out + (size_t)(r / nh) * o_tok + (size_t)(r % nh) * ldo;
        for (int d = 0; d < hd; d++) o[d] = 0.0f;
    }
    for (int c0 = 0; c0 < NK; c0 += ATT_CHUNK) {
        const int m = NK - c0 < ATT_CHUNK ? NK - c0 : ATT_CHUNK;
        rows_to_f32(v + (size_t)c0 * kv_stride, kv_stride, m, hd, buf);
        for (int r = 0; r < R; r++) {
            const int mr = nk + r / nh - c0 < m ? nk + r / nh - c0 : m;
            const float *p = sc + (size_t)r * ns + c0;
            for (int d0 = 0; d0 < hd; d0 += 64) {
                const int w = hd - d0 < 64 ? (hd - d0) / 8 : 8;
                float *o = out + (size_t)(r / nh) * o_tok + (size_t)(r % nh) * ldo + d0;
                __m256 acc[8];
                for (int i = 0; i < w; i++) acc[i] = _mm256_loadu_ps(o + 8 * i);
                for (int j = 0; j < mr; j++) {
                    const __m256 pj = _mm256_broadcast_ss(p + j);
                    const float *vb = buf + (size_t)j * hd + d0;
                    for (int i = 0; i < w; i++) acc[i] = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vb + 8 * i), acc[i]);
                }
                for (int i = 0; i < w; i++) _mm256_storeu_ps(o + 8 * i, acc[i]);
            }
        }
    }
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
