/* Owns the AVX-512 attention kernels: attn_avx2.c's tile algorithm with
 * 16 keys (scores) or 16 dimensions (outputs) per vector and blocks of up
 * to 8 query rows x 32 keys and 4 rows x 64 dimensions. Each value is the
 * same chain of the same operations as in the AVX2 set (a score is the
 * FMA chain of its dot over d, a weight goes through the same exp, the
 * softmax sums keep the AVX2 set's 8 lanes and order, an output is the
 * FMA chain over j), so the two sets agree bit for bit and tiles still
 * agree with single tokens. Head dims that are not a multiple of 16 use
 * the AVX2 tile. Compiled with AVX-512F (BW/VL/DQ) and called only when
 * the CPU has it. */
#include "tensor/attn.h"
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <math.h>

#include "tensor/attn_x86.h"
#include "tensor/vexp_avx2.h"
#include "tensor/vexp_avx512.h"

#define AI static inline __attribute__((always_inline))

static void (*tile_avx2)(const float *, size_t, size_t, int, int, const uint16_t *, const uint16_t *, size_t, int,
                         int, float, float, float *, size_t, size_t, float *);

AI __m512 round_f16x16(__m512 x) {
    return _mm512_cvtph_ps(_mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/* Scores of NR query rows (hd apart) against 16 (TWO: 32) keys of a
 * transposed chunk; stores the first nst (8..32, a multiple of 8). */
AI void scores16(const int NR, const int TWO, const float *q, int hd, const float *kt, int ld, float *s, int ns,
                 int nst, __m512 vscale) {
    __m512 a0[8], a1[8];
    for (int i = 0; i < NR; i++) a0[i] = a1[i] = _mm512_setzero_ps();
    for (int d = 0; d < hd; d++) {
        const __m512 k0 = _mm512_loadu_ps(kt + (size_t)d * ld);
        const __m512 k1 = TWO ? _mm512_loadu_ps(kt + (size_t)d * ld + 16) : k0;
        for (int i = 0; i < NR; i++) {
            const __m512 qv = _mm512_set1_ps(q[(size_t)i * hd + d]);
            a0[i] = _mm512_fmadd_ps(qv, k0, a0[i]);
            if (TWO) a1[i] = _mm512_fmadd_ps(qv, k1, a1[i]);
        }
    }
    const __mmask16 m0 = nst >= 16 ? 0xFFFF : 0x00FF, m1 = nst >= 32 ? 0xFFFF : 0x00FF;
    for (int i = 0; i < NR; i++) {
        _mm512_mask_storeu_ps(s + (size_t)i * ns, m0, _mm512_mul_ps(a0[i], vscale));
        if (TWO) _mm512_mask_storeu_ps(s + (size_t)i * ns + 16, m1, _mm512_mul_ps(a1[i], vscale));
    }
}

/* o[i][0, 16 W) += sum_{j < mr} p[i][j] * v[j] for NR rows. */
AI void pv16(const int NR, const int W, float *const *o, const float *const *p, const float *v, int hd, int mr) {
    __m512 acc[4][4];
    for (int i = 0; i < NR; i++)
        for (int w = 0; w < W; w++) acc[i][w] = _mm512_loadu_ps(o[i] + 16 * w);
    for (int j = 0; j < mr; j++) {
        __m512 vv[4];
        for (int w = 0; w < W; w++) {
            vv[w] = _mm512_loadu_ps(v + (size_t)j * hd + 16 * w);
            __asm__("" : "+v"(vv[w])); /* one load per vector, not per row */
        }
        for (int i = 0; i < NR; i++) {
            const __m512 pj = _mm512_set1_ps(p[i][j]);
            for (int w = 0; w < W; w++) acc[i][w] = _mm512_fmadd_ps(pj, vv[w], acc[i][w]);
        }
    }
    for (int i = 0; i < NR; i++)
        for (int w = 0; w < W; w++) _mm512_storeu_ps(o[i] + 16 * w, acc[i][w]);
}

/* Rows in blocks of 8, then 4, 2, 1 (scores) or 4, 2, 1 (outputs). */
static int block_rows(int left, int most) {
    return left >= most ? most : left >= 4 ? 4 : left >= 2 ? 2 : 1;
}

/* Softmax of one score row over its nkr keys (s[nkr, ns) are scratch):
 * the AVX2 set's operations and summation order. */
static void softmax_row(float *s, int nkr, int ns, float softcap) {
    const int nsr = (nkr + 7) & ~7;
    if (softcap > 0)
        for (int j = 0; j < nkr; j++) s[j] = softcap * tanhf(s[j] / softcap);
    for (int j = nkr; j < nsr; j++) s[j] = -INFINITY;
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    __m512 mx16 = ninf;
    int j = 0;
    for (; j + 16 <= nsr; j += 16) mx16 = _mm512_max_ps(mx16, _mm512_loadu_ps(s + j));
    if (j < nsr) mx16 = _mm512_max_ps(mx16, _mm512_mask_loadu_ps(ninf, 0x00FF, s + j));
    const float mxs = _mm512_reduce_max_ps(mx16);
    const __m512 vmax = _mm512_set1_ps(mxs);
    __m256 sum = _mm256_setzero_ps();
    for (j = 0; j + 16 <= nsr; j += 16) {
        const __m512 x = _mm512_loadu_ps(s + j);
        const __m512 e = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, ninf, _CMP_NEQ_OQ), ingot_exp16(_mm512_sub_ps(x, vmax)));
        _mm512_storeu_ps(s + j, e);
        sum = _mm256_add_ps(sum, _mm512_castps512_ps256(e));
        sum = _mm256_add_ps(sum, _mm512_extractf32x8_ps(e, 1));
    }
    if (j < nsr) {
        const __m256 x = _mm256_loadu_ps(s + j);
        __m256 e = ingot_exp8(_mm256_sub_ps(x, _mm512_castps512_ps256(vmax)));
        e = _mm256_and_ps(e, _mm256_cmp_ps(x, _mm256_set1_ps(-INFINITY), _CMP_NEQ_OQ));
        _mm256_storeu_ps(s + j, e);
        sum = _mm256_add_ps(sum, e);
    }
    const float inv = 1.0f / hsum256(sum);
    const __m512 vinv = _mm512_set1_ps(inv);
    for (j = 0; j + 16 <= nsr; j += 16) _mm512_storeu_ps(s + j, round_f16x16(_mm512_mul_ps(_mm512_loadu_ps(s + j), vinv)));
    if (j < nsr)
        _mm256_storeu_ps(s + j, round_f16x8(_mm256_mul_ps(_mm256_loadu_ps(s + j), _mm512_castps512_ps256(vinv))));
    for (j = nsr; j < ns; j++) s[j] = 0.0f;
}

#define SCORES(NR)                                                                       \
    case NR:                                                                             \
        if (two) scores16(NR, 1, qb, hd, buf + j, ld, sb, ns, nst, vscale);               \
        else scores16(NR, 0, qb, hd, buf + j, ld, sb, ns, nst, vscale);                   \
        break
#define PV(NR)                                                                           \
    case NR:                                                                             \
        switch (w) {                                                                     \
        case 4: pv16(NR, 4, o, p, vb, hd, mr); break;                                    \
        case 3: pv16(NR, 3, o, p, vb, hd, mr); break;                                    \
        case 2: pv16(NR, 2, o, p, vb, hd, mr); break;                                    \
        default: pv16(NR, 1, o, p, vb, hd, mr); break;                                   \
        }                                                                                \
        break

/* The contract of attend_f16_tok (attn.h); see attn_avx2.c for the tile. */
static void attend_tile_avx512(const float *q, size_t q_tok, size_t ldq, int nh, int ntok, const uint16_t *k,
                               const uint16_t *v, size_t kv_stride, int nk, int hd, float scale, float softcap,
                               float *out, size_t o_tok, size_t ldo, float *scratch) {
    if (hd % 16) {
        tile_avx2(q, q_tok, ldq, nh, ntok, k, v, kv_stride, nk, hd, scale, softcap, out, o_tok, ldo, scratch);
        return;
    }
    const int R = nh * ntok, NK = nk + ntok - 1;
    const int ns = (NK + 7) & ~7;
    float *sc = scratch, *qr = scratch + (size_t)R * ns, *buf = qr + (size_t)R * hd;
    for (int r = 0; r < R; r++)
        for (int d = 0; d < hd; d += 16)
            _mm512_storeu_ps(qr + (size_t)r * hd + d,
                             round_f16x16(_mm512_loadu_ps(q + (size_t)(r / nh) * q_tok + (size_t)(r % nh) * ldq + d)));
    const __m512 vscale = _mm512_set1_ps(scale);
#define ROW_KEYS(r) (nk + (r) / nh)
    for (int c0 = 0; c0 < NK; c0 += ATT_CHUNK) {
        const int m = NK - c0 < ATT_CHUNK ? NK - c0 : ATT_CHUNK;
        const int ld = (m + 31) & ~31;
        keys_to_f32_t(k + (size_t)c0 * kv_stride, kv_stride, m, hd, buf, ld);
        for (int r0 = 0, nr; r0 < R; r0 += nr) {
            nr = block_rows(R - r0, 8);
            int mr = ROW_KEYS(r0 + nr - 1) - c0;
            if (mr > m) mr = m;
            const float *qb = qr + (size_t)r0 * hd;
            for (int j = 0; j < mr; j += 32) {
                float *sb = sc + (size_t)r0 * ns + c0 + j;
                const int left = (mr - j + 7) & ~7, nst = left < 32 ? left : 32, two = nst > 16;
                switch (nr) {
                    SCORES(8);
                    SCORES(4);
                    SCORES(2);
                    SCORES(1);
                }
            }
        }
    }
    for (int r = 0; r < R; r++) softmax_row(sc + (size_t)r * ns, ROW_KEYS(r), ns, softcap);
    for (int r = 0; r < R; r++) {
        float *o = out + (size_t)(r / nh) * o_tok + (size_t)(r % nh) * ldo;
        for (int d = 0; d < hd; d += 16) _mm512_storeu_ps(o + d, _mm512_setzero_ps());
    }
    for (int c0 = 0; c0 < NK; c0 += ATT_CHUNK) {
        const int m = NK - c0 < ATT_CHUNK ? NK - c0 : ATT_CHUNK;
        rows_to_f32(v + (size_t)c0 * kv_stride, kv_stride, m, hd, buf);
        for (int r0 = 0, nr; r0 < R; r0 += nr) {
            nr = block_rows(R - r0, 4);
            int mr = ROW_KEYS(r0 + nr - 1) - c0;
            if (mr > m) mr = m;
            if (mr <= 0) continue;
            for (int d0 = 0; d0 < hd; d0 += 64) {
                const int w = hd - d0 < 64 ? (hd - d0) / 16 : 4;
                float *o[4];
                const float *p[4];
                for (int i = 0; i < nr; i++) {
                    const int r = r0 + i;
                    o[i] = out + (size_t)(r / nh) * o_tok + (size_t)(r % nh) * ldo + d0;
                    p[i] = sc + (size_t)r * ns + c0;
                }
                const float *vb = buf + d0;
                switch (nr) {
                    PV(4);
                    PV(2);
                    PV(1);
                }
            }
        }
    }
#undef ROW_KEYS
}
#undef SCORES
#undef PV

static void attend_avx512(const float *q, size_t ldq, int nh, const uint16_t *k, const uint16_t *v, size_t kv_stride,
                          int nk, int hd, float scale, float softcap, float *out, size_t ldo, float *scratch) {
    attend_tile_avx512(q, 0, ldq, nh, 1, k, v, kv_stride, nk, hd, scale, softcap, out, 0, ldo, scratch);
}

/* The AVX2 set's operations per element, 16 at a time, so the two sets
 * agree bit for bit. */
static void silu_mul_avx512(float *h, const float *g, const float *u, int64_t n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 x = _mm512_loadu_ps(g + i);
        const __m512 e = ingot_exp16(_mm512_sub_ps(_mm512_setzero_ps(), x));
        _mm512_storeu_ps(h + i, _mm512_mul_ps(_mm512_div_ps(x, _mm512_add_ps(one, e)), _mm512_loadu_ps(u + i)));
    }
    /* the rest exactly as the AVX2 set does it */
    if (i < n) ingot_attn_kernels_avx2()->silu_mul(h + i, g + i, u + i, n - i);
}

static void gelu_mul_avx512(float *h, const float *g, const float *u, int64_t n) {
    const __m512 one = _mm512_set1_ps(1.0f), k1 = _mm512_set1_ps(-2.0f * 0.7978845608028654f),
                 k3 = _mm512_set1_ps(0.044715f);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 x = _mm512_loadu_ps(g + i);
        const __m512 inner = _mm512_mul_ps(k1, _mm512_fmadd_ps(_mm512_mul_ps(k3, x), _mm512_mul_ps(x, x), x));
        const __m512 e = ingot_exp16(inner);
        _mm512_storeu_ps(h + i, _mm512_mul_ps(_mm512_div_ps(x, _mm512_add_ps(one, e)), _mm512_loadu_ps(u + i)));
    }
    /* the rest exactly as the AVX2 set does it */
    if (i < n) ingot_attn_kernels_avx2()->gelu_mul(h + i, g + i, u + i, n - i);
}

void ingot_attn_fill_avx512(ingot_attn_kernels *k) {
    tile_avx2 = k->attend_f16_tok;
    k->attend_f16 = attend_avx512;
    k->attend_f16_tok = attend_tile_avx512;
    k->silu_mul = silu_mul_avx512;
    k->gelu_mul = gelu_mul_avx512;
    k->isa = "avx512";
}
#endif
