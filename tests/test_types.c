/* Tests of the tensor type kernels that need no files: the traits table
 * against the block structs, fp16/bf16 conversions (exhaustively, against
 * the IEEE rounding rules), quantize->dequantize round trips on Gaussian
 * data within each type's known error (the relative RMSE of every type is
 * printed), and every vec_dot against a double-precision dot of the
 * dequantized operands. */
#include "tensor/quants.h"
#include "tensor/types.h"
#include "test.h"

#include <float.h>
#include <stdint.h>

/* ---- deterministic random numbers ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double rng_uniform(void) { /* (0, 1) */
    return ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
}

static void fill_gaussian(float *x, int64_t n, float sigma) {
    for (int64_t i = 0; i < n; i += 2) {
        double r = sqrt(-2.0 * log(rng_uniform())), t = 6.283185307179586 * rng_uniform();
        x[i] = (float)(sigma * r * cos(t));
        if (i + 1 < n) x[i + 1] = (float)(sigma * r * sin(t));
    }
}

static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* ---- table ---- */

static const struct {
    ingot_type t;
    size_t struct_size;
    int64_t block;
} layouts[] = {
    {INGOT_TYPE_F32, 4, 1},
    {INGOT_TYPE_F16, 2, 1},
    {INGOT_TYPE_BF16, 2, 1},
    {INGOT_TYPE_Q4_0, sizeof(ingot_block_q4_0), INGOT_QK4_0},
    {INGOT_TYPE_Q4_1, sizeof(ingot_block_q4_1), INGOT_QK4_1},
    {INGOT_TYPE_Q5_0, sizeof(ingot_block_q5_0), INGOT_QK5_0},
    {INGOT_TYPE_Q5_1, sizeof(ingot_block_q5_1), INGOT_QK5_1},
    {INGOT_TYPE_Q8_0, sizeof(ingot_block_q8_0), INGOT_QK8_0},
    {INGOT_TYPE_Q8_1, sizeof(ingot_block_q8_1), INGOT_QK8_1},
    {INGOT_TYPE_Q2_K, sizeof(ingot_block_q2_k), INGOT_QK_K},
    {INGOT_TYPE_Q3_K, sizeof(ingot_block_q3_k), INGOT_QK_K},
    {INGOT_TYPE_Q4_K, sizeof(ingot_block_q4_k), INGOT_QK_K},
    {INGOT_TYPE_Q5_K, sizeof(ingot_block_q5_k), INGOT_QK_K},
    {INGOT_TYPE_Q6_K, sizeof(ingot_block_q6_k), INGOT_QK_K},
    {INGOT_TYPE_Q8_K, sizeof(ingot_block_q8_k), INGOT_QK_K},
    {INGOT_TYPE_IQ4_NL, sizeof(ingot_block_iq4_nl), INGOT_QK4_NL},
    {INGOT_TYPE_IQ4_XS, sizeof(ingot_block_iq4_xs), INGOT_QK_K},
};
#define N_LAYOUTS (int)(sizeof layouts / sizeof layouts[0])

static void test_table(void) {
    int supported = 0;
    for (int id = 0; id < INGOT_TYPE_COUNT; id++)
        if (ingot_type_traits_get((ingot_type)id)) supported++;
    CHECK_INT_EQ(supported, N_LAYOUTS);
    for (int i = 0; i < N_LAYOUTS; i++) {
        const ingot_type_traits *tr = ingot_type_traits_get(layouts[i].t);
        CHECK(tr != NULL, "type %d missing", (int)layouts[i].t);
        if (!tr) continue;
        CHECK_INT_EQ(tr->type_size, layouts[i].struct_size);
        CHECK_INT_EQ(tr->block_size, layouts[i].block);
        CHECK_INT_EQ(ingot_type_from_name(tr->name), layouts[i].t);
        CHECK(tr->to_float && tr->from_float, "%s lacks kernels", tr->name);
        CHECK_INT_EQ(tr->is_quantized, layouts[i].block > 1);
        CHECK_INT_EQ(ingot_type_row_size(layouts[i].t, 4096),
                     4096 / layouts[i].block * (int64_t)layouts[i].struct_size);
        const ingot_type_traits *dt = ingot_type_traits_get(tr->vec_dot_type);
        CHECK(dt && dt->from_float, "%s: vec_dot_type has no quantizer", tr->name);
        bool activation_only = layouts[i].t == INGOT_TYPE_Q8_1 || layouts[i].t == INGOT_TYPE_Q8_K;
        CHECK((tr->vec_dot != NULL) == !activation_only, "%s vec_dot presence", tr->name);
        if (dt) CHECK(dt->block_size == tr->block_size, "%s: dot block sizes differ", tr->name);
    }
    CHECK_STR_EQ(ingot_type_name(INGOT_TYPE_Q4_K), "Q4_K");
    CHECK_STR_EQ(ingot_type_name(INGOT_TYPE_IQ4_XS), "IQ4_XS");
    CHECK_INT_EQ(ingot_type_from_name("q6_k"), INGOT_TYPE_Q6_K);
    CHECK_INT_EQ(ingot_type_from_name("bf16"), INGOT_TYPE_BF16);
    CHECK_INT_EQ(ingot_type_from_name("Q4_K_M"), -1);
    CHECK_INT_EQ(ingot_type_from_name(""), -1);
    CHECK_INT_EQ(ingot_type_from_name(NULL), -1);
    CHECK(ingot_type_traits_get((ingot_type)4) == NULL, "id 4 (removed Q4_2) unsupported");
    CHECK(ingot_type_traits_get((ingot_type)-1) == NULL, "negative id");
    CHECK(ingot_type_traits_get((ingot_type)INGOT_TYPE_COUNT) == NULL, "id past the table");
    CHECK(ingot_type_name((ingot_type)1000) == NULL, "unknown name");
    CHECK_INT_EQ(ingot_type_row_size((ingot_type)5, 32), 0);
}

/* ---- fp16 / bf16 ---- */

static void test_fp16(void) {
    CHECK(ingot_fp16_to_fp32(0x3c00) == 1.0f, "1.0");
    CHECK(ingot_fp16_to_fp32(0xc000) == -2.0f, "-2.0");
    CHECK(ingot_fp16_to_fp32(0x7bff) == 65504.0f, "max half");
    CHECK(ingot_fp16_to_fp32(0x0001) == ldexpf(1, -24), "smallest subnormal");
    CHECK(ingot_fp16_to_fp32(0x03ff) == 1023 * ldexpf(1, -24), "largest subnormal");
    CHECK(ingot_fp16_to_fp32(0x0400) == ldexpf(1, -14), "smallest normal");
    CHECK(ingot_fp16_to_fp32(0x8000) == 0.0f && signbit(ingot_fp16_to_fp32(0x8000)), "-0");
    CHECK(isinf(ingot_fp16_to_fp32(0x7c00)) && ingot_fp16_to_fp32(0x7c00) > 0, "+inf");
    CHECK(isinf(ingot_fp16_to_fp32(0xfc00)) && ingot_fp16_to_fp32(0xfc00) < 0, "-inf");
    CHECK(isnan(ingot_fp16_to_fp32(0x7e00)) && isnan(ingot_fp16_to_fp32(0x7c01)), "nan");
    CHECK_INT_EQ(ingot_fp32_to_fp16(65519.0f), 0x7bff);
    CHECK_INT_EQ(ingot_fp32_to_fp16(65520.0f), 0x7c00); /* tie -> even = inf */
    CHECK_INT_EQ(ingot_fp32_to_fp16(1e10f), 0x7c00);
    CHECK_INT_EQ(ingot_fp32_to_fp16(-INFINITY), 0xfc00);
    CHECK_INT_EQ(ingot_fp32_to_fp16(-0.0f), 0x8000);
    CHECK_INT_EQ(ingot_fp32_to_fp16(ldexpf(1, -25)), 0x0000); /* tie -> even = 0 */
    CHECK_INT_EQ(ingot_fp32_to_fp16(nextafterf(ldexpf(1, -25), 1)), 0x0001);
    CHECK_INT_EQ(ingot_fp32_to_fp16(1e-30f), 0x0000);
    CHECK_INT_EQ(ingot_fp32_to_fp16(bits_f32(0x00000001)), 0x0000); /* float subnormal */
    uint16_t hn = ingot_fp32_to_fp16(NAN);
    CHECK((hn & 0x7c00) == 0x7c00 && (hn & 0x3ff), "nan stays nan: %04x", hn);
    hn = ingot_fp32_to_fp16(bits_f32(0x7f800001)); /* payload only in low bits */
    CHECK((hn & 0x7c00) == 0x7c00 && (hn & 0x3ff), "signalling nan stays nan: %04x", hn);

    /* Every half survives half -> float -> half; every midpoint between
     * neighbours rounds to the even one, and a hair off it to the nearer. */
    int bad_rt = 0, bad_mid = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        float f = ingot_fp16_to_fp32((uint16_t)h);
        if (isnan(f)) {
            if (!isnan(ingot_fp16_to_fp32(ingot_fp32_to_fp16(f)))) bad_rt++;
            continue;
        }
        if (ingot_fp32_to_fp16(f) != h) bad_rt++;
        if ((h & 0x7fff) >= 0x7bff) continue; /* no finite upper neighbour */
        float g = ingot_fp16_to_fp32((uint16_t)(h + 1));
        float mid = (f + g) / 2; /* exact: 12 significant bits */
        uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
        if (ingot_fp32_to_fp16(mid) != even) bad_mid++;
        if (ingot_fp32_to_fp16(nextafterf(mid, f)) != h) bad_mid++;
        if (ingot_fp32_to_fp16(nextafterf(mid, g)) != h + 1) bad_mid++;
    }
    CHECK_INT_EQ(bad_rt, 0);
    CHECK_INT_EQ(bad_mid, 0);
}

static void test_bf16(void) {
    CHECK_INT_EQ(ingot_fp32_to_bf16(1.0f), 0x3f80);
    CHECK(ingot_bf16_to_fp32(0x3f80) == 1.0f, "bf16 1.0");
    CHECK(ingot_bf16_to_fp32(0xc0a0) == -5.0f, "bf16 -5");
    CHECK_INT_EQ(ingot_fp32_to_bf16(bits_f32(0x3f808000)), 0x3f80); /* tie, even below */
    CHECK_INT_EQ(ingot_fp32_to_bf16(bits_f32(0x3f818000)), 0x3f82); /* tie, even above */
    CHECK_INT_EQ(ingot_fp32_to_bf16(bits_f32(0x3f808001)), 0x3f81);
    CHECK_INT_EQ(ingot_fp32_to_bf16(bits_f32(0x3f807fff)), 0x3f80);
    CHECK_INT_EQ(ingot_fp32_to_bf16(FLT_MAX), 0x7f80); /* rounds up to inf */
    CHECK_INT_EQ(ingot_fp32_to_bf16(INFINITY), 0x7f80);
    CHECK_INT_EQ(ingot_fp32_to_bf16(-INFINITY), 0xff80);
    CHECK_INT_EQ(ingot_fp32_to_bf16(bits_f32(0x00018000)), 0x0002); /* subnormal tie */
    CHECK_INT_EQ(ingot_fp32_to_bf16(bits_f32(0x00008000)), 0x0000);
    uint16_t b = ingot_fp32_to_bf16(bits_f32(0x7f800001));
    CHECK(isnan(ingot_bf16_to_fp32(b)), "signalling nan stays nan: %04x", b);
    int bad = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        float f = ingot_bf16_to_fp32((uint16_t)h);
        if (f32_bits(f) != h << 16) bad++;
        if (!isnan(f) && ingot_fp32_to_bf16(f) != h) bad++;
    }
    CHECK_INT_EQ(bad, 0);
}

/* ---- round trips ---- */

#define N_RT (INGOT_QK_K * 64)

/* Relative RMSE bound per type on N(0,1) data: ~10% over what these
 * quantizers reach (about the grid step / sqrt(12) for the range of a
 * block, less what the scale search gains). The parity with
 * llama-quantize's own error is checked on real tensors in test_dequant. */
static const struct {
    ingot_type t;
    double max_rel_rmse;
} rt_bounds[] = {
    {INGOT_TYPE_F16, 2.3e-4},  {INGOT_TYPE_BF16, 1.8e-3}, {INGOT_TYPE_Q8_0, 5.9e-3},
    {INGOT_TYPE_Q8_1, 5.9e-3}, {INGOT_TYPE_Q8_K, 7.5e-3}, {INGOT_TYPE_Q6_K, 2.0e-2},
    {INGOT_TYPE_Q5_0, 4.7e-2}, {INGOT_TYPE_Q5_1, 4.2e-2}, {INGOT_TYPE_Q5_K, 4.0e-2},
    {INGOT_TYPE_Q4_0, 9.6e-2}, {INGOT_TYPE_Q4_1, 8.7e-2}, {INGOT_TYPE_Q4_K, 7.9e-2},
    {INGOT_TYPE_IQ4_NL, 8.4e-2}, {INGOT_TYPE_IQ4_XS, 8.4e-2}, {INGOT_TYPE_Q3_K, 1.65e-1},
    {INGOT_TYPE_Q2_K, 3.3e-1},
};

static double rel_rmse(const float *a, const float *b, int64_t n) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)a[i] * a[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static void test_round_trips(void) {
    float *x = malloc(N_RT * sizeof *x), *y = malloc(N_RT * sizeof *y);
    void *q = malloc(N_RT * 4);
    printf("relative RMSE of quantize->dequantize on N(0,1), %d values:\n", N_RT);
    for (size_t k = 0; k < sizeof rt_bounds / sizeof rt_bounds[0]; k++) {
        const ingot_type_traits *tr = ingot_type_traits_get(rt_bounds[k].t);
        fill_gaussian(x, N_RT, 1.0f);
        tr->from_float(x, q, N_RT);
        tr->to_float(q, y, N_RT);
        double e = rel_rmse(x, y, N_RT);
        printf("  %-7s %.6f (bound %.6f)\n", tr->name, e, rt_bounds[k].max_rel_rmse);
        CHECK(e <= rt_bounds[k].max_rel_rmse, "%s rmse %g", tr->name, e);
        /* Scaling by a power of two scales the result exactly: the search
         * has no absolute epsilons that make some magnitudes special. */
        for (int64_t i = 0; i < N_RT; i++) x[i] *= 4.0f;
        tr->from_float(x, q, N_RT);
        float *y2 = malloc(N_RT * sizeof *y2);
        tr->to_float(q, y2, N_RT);
        int64_t differ = 0;
        for (int64_t i = 0; i < N_RT; i++) differ += y2[i] != y[i] * 4.0f;
        CHECK(differ == 0, "%s: %lld values not scaled exactly", tr->name, (long long)differ);
        free(y2);

        /* Zeros stay zeros; a constant block is representable closely. */
        memset(x, 0, N_RT * sizeof *x);
        tr->from_float(x, q, N_RT);
        tr->to_float(q, y, N_RT);
        int nonzero = 0;
        for (int64_t i = 0; i < N_RT; i++) nonzero += y[i] != 0.0f;
        CHECK(nonzero == 0, "%s: zeros decode to %d non-zeros", tr->name, nonzero);
        for (int64_t i = 0; i < 1024; i++) x[i] = 0.75f;
        tr->from_float(x, q, 1024);
        tr->to_float(q, y, 1024);
        double ce = rel_rmse(x, y, 1024);
        CHECK(ce <= 0.02, "%s: constant block error %g", tr->name, ce);

        /* Garbage in (nan, inf, huge) must not crash or trip sanitizers. */
        fill_gaussian(x, 1024, 1.0f);
        x[3] = NAN;
        x[300] = INFINITY;
        x[700] = -3e38f;
        tr->from_float(x, q, 1024);
        tr->to_float(q, y, 1024);
    }
    free(x);
    free(y);
    free(q);
}

/* Q8_1's s and Q8_K's bsums are derived data that dots rely on. */
static void test_activation_extras(void) {
    float x[INGOT_QK_K * 2];
    fill_gaussian(x, INGOT_QK_K * 2, 3.0f);
    ingot_block_q8_k k[2];
    ingot_q8_k_from_float(x, k, INGOT_QK_K * 2);
    int bad = 0;
    for (int b = 0; b < 2; b++)
        for (int j = 0; j < 16; j++) {
            int s = 0;
            for (int l = 0; l < 16; l++) s += k[b].qs[16 * j + l];
            bad += s != k[b].bsums[j];
        }
    CHECK_INT_EQ(bad, 0);
    ingot_block_q8_1 q1[INGOT_QK_K * 2 / INGOT_QK8_1];
    ingot_q8_1_from_float(x, q1, INGOT_QK_K * 2);
    bad = 0;
    for (int b = 0; b < INGOT_QK_K * 2 / INGOT_QK8_1; b++) {
        int s = 0;
        for (int l = 0; l < INGOT_QK8_1; l++) s += q1[b].qs[l];
        float want = (float)s * ingot_fp16_to_fp32(q1[b].d);
        bad += fabsf(ingot_fp16_to_fp32(q1[b].s) - want) > fabsf(want) * 1e-3f + 1e-6f;
    }
    CHECK_INT_EQ(bad, 0);
}

/* Hand-made blocks whose values are known without any kernel. */
static void test_known_blocks(void) {
    ingot_block_q4_0 b4 = {0};
    b4.d = ingot_fp32_to_fp16(0.5f);
    b4.qs[0] = 0x2f; /* element 0: 15-8 = 7, element 16: 2-8 = -6 */
    float y[INGOT_QK_K];
    ingot_q4_0_to_float(&b4, y, 32);
    CHECK(y[0] == 3.5f && y[16] == -3.0f && y[1] == -4.0f, "q4_0 %g %g %g", y[0], y[16], y[1]);

    ingot_block_q5_0 b5 = {0};
    b5.d = ingot_fp32_to_fp16(1.0f);
    b5.qh[2] = 0x01; /* bit 16: high bit of element 16 */
    b5.qs[0] = 0x30;
    ingot_q5_0_to_float(&b5, y, 32);
    CHECK(y[0] == -16.0f && y[16] == 3.0f && y[17] == -16.0f, "q5_0 %g %g", y[0], y[16]);

    ingot_block_q6_k b6;
    memset(&b6, 0, sizeof b6);
    b6.d = ingot_fp32_to_fp16(1.0f);
    for (int j = 0; j < 16; j++) b6.scales[j] = (int8_t)(j + 1);
    b6.ql[32] = 0x50;    /* element 32: low 0; element 96: low 5 */
    b6.qh[0] = 3 << 6;   /* element 96: high bits 3 -> q = 53 - 32 = 21 */
    ingot_q6_k_to_float(&b6, y, INGOT_QK_K);
    CHECK(y[32] == -32.0f * 3 && y[96] == 21.0f * 7, "q6_K %g %g", y[32], y[96]);
    CHECK(y[128 + 96] == -32.0f * 15, "q6_K second half %g", y[224]);

    ingot_block_iq4_xs bx;
    memset(&bx, 0, sizeof bx);
    bx.d = ingot_fp32_to_fp16(0.25f);
    bx.scales_l[1] = 0x10; /* sub-block 3: low nibble 1 */
    bx.scales_h = 2 << 6;  /* sub-block 3: high bits 2 -> ls = 33 -> 1 */
    bx.qs[16 * 3] = 0xf0;  /* element 96: level 0 (-127), 112: level 15 */
    ingot_iq4_xs_to_float(&bx, y, INGOT_QK_K);
    CHECK(y[96] == -127 * 0.25f && y[112] == 113 * 0.25f, "iq4_xs %g %g", y[96], y[112]);
    CHECK(y[0] == -32 * 0.25f * -127, "iq4_xs block 0 %g", y[0]);
}

/* ---- dot products ---- */

#define N_DOT (INGOT_QK_K * 8)

static void test_vec_dot(void) {
    float *x = malloc(N_DOT * sizeof *x), *y = malloc(N_DOT * sizeof *y);
    float *xd = malloc(N_DOT * sizeof *xd), *yd = malloc(N_DOT * sizeof *yd);
    void *qx = malloc(N_DOT * 4), *qy = malloc(N_DOT * 4);
    for (int i = 0; i < N_LAYOUTS; i++) {
        const ingot_type_traits *tr = ingot_type_traits_get(layouts[i].t);
        if (!tr->vec_dot) continue;
        const ingot_type_traits *dt = ingot_type_traits_get(tr->vec_dot_type);
        for (int trial = 0; trial < 4; trial++) {
            fill_gaussian(x, N_DOT, 0.5f);
            fill_gaussian(y, N_DOT, 2.0f);
            if (trial == 1) /* non-zero means exercise the min/bsums paths */
                for (int j = 0; j < N_DOT; j++) x[j] += 1.5f, y[j] += 0.7f;
            tr->from_float(x, qx, N_DOT);
            dt->from_float(y, qy, N_DOT);
            tr->to_float(qx, xd, N_DOT);
            dt->to_float(qy, yd, N_DOT);
            double ref = 0, mag = 0;
            for (int j = 0; j < N_DOT; j++) {
                ref += (double)xd[j] * yd[j];
                mag += fabs((double)xd[j] * yd[j]);
            }
            /* Q8_1 keeps d*sum(q) in fp16: its rounding bounds the extra error. */
            double extra = 0;
            if (tr->vec_dot_type == INGOT_TYPE_Q8_1) {
                const ingot_block_q8_1 *b = qy;
                for (int j = 0; j < N_DOT / INGOT_QK8_1; j++) {
                    const uint16_t *m = (const uint16_t *)((const char *)qx + j * tr->type_size) + 1;
                    extra += fabs(ingot_fp16_to_fp32(*m) * ingot_fp16_to_fp32(b[j].s)) / 2048;
                }
            }
            float s = NAN;
            tr->vec_dot(N_DOT, &s, qx, qy);
            double err = fabs(s - ref), tol = 2e-6 * mag + extra;
            CHECK(err <= tol, "%s vec_dot trial %d: %.9g vs %.9g (err %g, tol %g)", tr->name, trial,
                  s, ref, err, tol);
        }
        /* One block only, and a length spanning several rows' worth. */
        int64_t nb = tr->block_size > dt->block_size ? tr->block_size : dt->block_size;
        fill_gaussian(x, nb, 1.0f);
        fill_gaussian(y, nb, 1.0f);
        tr->from_float(x, qx, nb);
        dt->from_float(y, qy, nb);
        tr->to_float(qx, xd, nb);
        dt->to_float(qy, yd, nb);
        double ref = 0, mag = 0;
        for (int j = 0; j < nb; j++) ref += (double)xd[j] * yd[j], mag += fabs((double)xd[j] * yd[j]);
        float s = NAN;
        tr->vec_dot(nb, &s, qx, qy);
        CHECK(fabs(s - ref) <= 1e-3 * mag, "%s single block %g vs %g", tr->name, s, ref);
    }
    free(x);
    free(y);
    free(xd);
    free(yd);
    free(qx);
    free(qy);
}

int main(void) {
    test_table();
    test_fp16();
    test_bf16();
    test_known_blocks();
    test_activation_extras();
    test_round_trips();
    test_vec_dot();
    TEST_END();
}
