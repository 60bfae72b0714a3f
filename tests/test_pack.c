/* Packed weights (src/tensor/pack.c and the sets' packed kernels):
 * - packing loses nothing: every packed row dequantizes to the original
 *   row bit for bit;
 * - the scalar packed kernel agrees with the unpacked reference vec_dot
 *   to rounding (the two sum in different orders), on quantizer output,
 *   random bits and extremes (for the K-quants, rows and activations at
 *   the largest sums their int16 steps must hold);
 * - every kernel set that has packed kernels reproduces the scalar packed
 *   kernel bit for bit, for any number of activation rows, any group
 *   range, output strides wider than the rows, and rows long enough to
 *   cross the kernels' internal chunking. */
#include <stddef.h>
#include <stdint.h>

#include "tensor/kernels.h"
#include "tensor/pack.h"
#include "tensor/quants.h"
#include "test.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}
static float frand(void) { return (float)rnd() / 4294967296.0f * 2.0f - 1.0f; }

static int is_k(ingot_type t) { return t == INGOT_TYPE_Q4_K || t == INGOT_TYPE_Q6_K; }

/* Sets the fp16 super-scales of block blk (type t) to sane values. */
static void sane_scales(ingot_type t, uint8_t *blk) {
    const uint16_t d = ingot_fp32_to_fp16(frand() * powf(2.0f, (float)(rnd() % 10) - 8.0f));
    const uint16_t dmin = ingot_fp32_to_fp16(frand() * powf(2.0f, (float)(rnd() % 10) - 8.0f));
    if (t == INGOT_TYPE_Q6_K) {
        memcpy(blk + offsetof(ingot_block_q6_k, d), &d, 2);
        return;
    }
    memcpy(blk, &d, 2);
    if (t == INGOT_TYPE_Q4_K) memcpy(blk + 2, &dmin, 2);
}

/* rows x n weights of type t: mode 0 = reference quantizer of random
 * floats, 1 = random bytes with sane scales, 2 = every quant byte at an
 * extreme, 3 = whole rows at the largest sums the kernels can meet: every
 * quant 0 or every quant at its maximum, with the largest sub-block
 * scales (Q4_K 63, Q6_K -128 or 127). */
static void make_rows(ingot_type t, int64_t n, int64_t rows, int mode, uint8_t *out) {
    const ingot_type_traits *tr = ingot_type_traits_get(t);
    const size_t rb = ingot_type_row_size(t, n);
    float *f = malloc((size_t)n * sizeof *f);
    for (int64_t r = 0; r < rows; r++) {
        uint8_t *p = out + (size_t)r * rb;
        if (mode == 0) {
            const float scale = powf(2.0f, (float)(rnd() % 12) - 6.0f);
            for (int64_t i = 0; i < n; i++) f[i] = frand() * scale;
            tr->from_float(f, p, n);
            continue;
        }
        const uint8_t fill = rnd() & 1 ? 0xff : 0x00;
        for (size_t i = 0; i < rb; i++) p[i] = mode == 1 ? (uint8_t)rnd() : mode == 3 ? fill : (rnd() & 1 ? 0xff : 0x00);
        for (int64_t b = 0; b < n / tr->block_size; b++) {
            uint8_t *blk = p + (size_t)b * tr->type_size;
            if (t == INGOT_TYPE_Q8_0 && mode == 2)
                for (int k = 0; k < 32; k++) blk[2 + k] = rnd() & 1 ? 0x81 : 0x7f; /* -127, 127 */
            if (t == INGOT_TYPE_Q4_K && mode == 3) memset(blk + 4, 0xff, 12); /* sc = m = 63 */
            if (t == INGOT_TYPE_Q6_K && mode == 3)
                memset(blk + offsetof(ingot_block_q6_k, scales), rnd() & 1 ? 0x80 : 0x7f, 16);
            sane_scales(t, blk);
        }
    }
    free(f);
}

/* ny activation rows of n floats quantized as the kernels see them (in
 * type vt): mode 2 = random signs of one magnitude (every quant +-127),
 * mode 3 = one sign per row. */
static void make_act(ingot_type vt, int64_t n, int64_t ny, int mode, uint8_t *out, size_t act_row) {
    const ingot_kernels *ref = ingot_kernels_ref();
    float *f = malloc((size_t)n * sizeof *f);
    for (int64_t t = 0; t < ny; t++) {
        const float sign = rnd() & 1 ? 1.0f : -1.0f;
        for (int64_t i = 0; i < n; i++)
            f[i] = mode == 3 ? sign : mode == 2 ? (rnd() & 1 ? 1.0f : -1.0f) : frand() * 3.0f;
        ref->quantize_act[vt](f, out + (size_t)t * act_row, n);
    }
    free(f);
}

/* A set's packed_gemm_act on the layout its packed_act_row makes of the
 * ny activation rows, against the scalar kernel's results want (ldy
 * apart): whole range, then groups [1, ngroups). Returns the mismatches. */
static int check_packed_act(const ingot_kernels *ks, ingot_type t, int64_t n, const uint8_t *pk, size_t gb,
                            int64_t ngroups, const uint8_t *act, size_t act_row, int64_t ny, const float *want,
                            size_t ldy) {
    int bad = 0;
    const int64_t rows = 16 * ngroups;
    void *buf = NULL;
    if (posix_memalign(&buf, 64, ingot_packed_act_bytes(ny, n / 32))) return 1;
    ingot_packed_act pa;
    ingot_packed_act_init(&pa, buf, ny, n / 32);
    /* rows in reverse: each is independent of the others */
    for (int64_t j = ny - 1; j >= 0; j--) ks->packed_act_row(act + (size_t)j * act_row, j, &pa);
    float *y = malloc(ldy * (size_t)ny * sizeof *y);
    memset(y, 0xff, ldy * (size_t)ny * sizeof *y);
    ks->packed_gemm_act[t](n, pk, ngroups, &pa, y, ldy);
    for (int64_t j = 0; j < ny; j++)
        if (memcmp(want + (size_t)j * ldy, y + (size_t)j * ldy, (size_t)rows * sizeof *y)) bad++;
    memset(y, 0xff, ldy * (size_t)ny * sizeof *y);
    ks->packed_gemm_act[t](n, pk + gb, ngroups - 1, &pa, y + 16, ldy);
    for (int64_t j = 0; j < ny; j++)
        if (memcmp(want + (size_t)j * ldy + 16, y + (size_t)j * ldy + 16, (size_t)(rows - 16) * sizeof *y)) bad++;
    free(y);
    free(buf);
    return bad;
}

/* ingot_packed_act_place cuts every tile into 8s, then 4, 2, 1, and each
 * row lies in exactly one sub-tile. */
static void test_place(void) {
    int bad = 0;
    for (int64_t rows = 1; rows <= 200; rows++) {
        int64_t prev_first = -1;
        int prev_nt = 0;
        for (int64_t t = 0; t < rows; t++) {
            int64_t first;
            int nt;
            ingot_packed_act_place(rows, t, &first, &nt);
            const int64_t t0 = t - t % INGOT_PACKED_ACT_TILE;
            if (first > t || t >= first + nt || first < t0 || first + nt > rows) bad++;
            if (first != prev_first) {
                /* a new sub-tile starts where the last ended, no larger */
                if (prev_first >= 0 && first != prev_first + prev_nt) bad++;
                if (prev_first >= 0 && first != t0 && nt > prev_nt) bad++;
                if (nt != 8 && nt != 4 && nt != 2 && nt != 1) bad++;
                prev_first = first;
                prev_nt = nt;
            }
        }
    }
    CHECK(bad == 0, "ingot_packed_act_place: %d inconsistent placements", bad);
}

static void test_type(ingot_type t) {
    const ingot_type_traits *tr = ingot_type_traits_get(t);
    const ingot_type vt = tr->vec_dot_type;
    /* past 128 blocks (Q4_0..Q8_0) or 32 super-blocks (K-quants): the
     * kernels' chunks of prepared activations */
    const int64_t lens32[] = {32, 64, 96, 896, 4160, 8224}, lens256[] = {256, 512, 2304, 4864, 8448};
    const int64_t *lens = is_k(t) ? lens256 : lens32;
    const size_t nlens = is_k(t) ? 5 : 6;
    const int64_t ny_list[] = {1, 2, 3, 5, 8, 9, 13, 16, 23, 70};
    const char *sets[] = {"avx2", "avxvnni", "avx512", "amx", "neon"};
    int bad_row = 0, bad_close = 0, bad_set = 0, runs = 0;
    double worst = 0;
    for (size_t li = 0; li < nlens; li++)
        for (int mode = 0; mode < 4; mode++) {
            const int64_t n = lens[li], rows = 48, ngroups = rows / 16;
            const size_t rb = ingot_type_row_size(t, n), gb = ingot_pack_group_bytes(t, n);
            CHECK(gb * (size_t)ngroups == rb * (size_t)rows, "%s n=%lld: packed size %zu != %zu", tr->name,
                  (long long)n, gb * (size_t)ngroups, rb * (size_t)rows);
            uint8_t *w = malloc(rb * (size_t)rows), *pk = malloc(gb * (size_t)ngroups);
            make_rows(t, n, rows, mode, w);
            ingot_pack_groups(t, n, w, rb, 0, ngroups, pk);
            float *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
            for (int64_t r = 0; r < rows; r++) {
                tr->to_float(w + (size_t)r * rb, a, n);
                ingot_pack_row_to_float(t, n, pk + (size_t)(r / 16) * gb, (int)(r % 16), b);
                if (memcmp(a, b, (size_t)n * sizeof *a)) bad_row++;
            }
            free(a);
            free(b);
            const int64_t ny = ny_list[(li * 4 + (size_t)mode) % (sizeof ny_list / sizeof *ny_list)];
            /* a stride that is no multiple of 64, aligned as the type's
             * fields need (Q8_K's float) */
            const size_t act_row = ingot_type_row_size(vt, n) + (is_k(t) ? 4 : 6);
            uint8_t *act = malloc(act_row * (size_t)ny);
            make_act(vt, n, ny, mode, act, act_row);
            const size_t ldy = (size_t)rows + 5;
            float *y = malloc(ldy * (size_t)ny * sizeof *y), *y2 = malloc(ldy * (size_t)ny * sizeof *y2);
            ingot_pack_gemm_ref(t, n, pk, ngroups, act, act_row, ny, y, ldy);
            for (int64_t r = 0; r < rows; r++)
                for (int64_t j = 0; j < ny; j++) {
                    float s;
                    tr->vec_dot(n, &s, w + (size_t)r * rb, act + (size_t)j * act_row);
                    /* error scale: sum of |terms|, from the dequantized rows */
                    float *fw = malloc((size_t)n * 4), *fa = malloc((size_t)n * 4);
                    tr->to_float(w + (size_t)r * rb, fw, n);
                    ingot_type_traits_get(vt)->to_float(act + (size_t)j * act_row, fa, n);
                    double mag = 0;
                    for (int64_t i = 0; i < n; i++) mag += fabs((double)fw[i] * fa[i]);
                    /* Q4_K's min term, summed apart, can cancel the scaled
                     * quants (test_kernels.c counts it the same way) */
                    if (t == INGOT_TYPE_Q4_K) mag *= 4;
                    free(fw);
                    free(fa);
                    const double err = fabs((double)s - y[(size_t)j * ldy + (size_t)r]);
                    const double rel = mag > 0 ? err / mag : err;
                    if (rel > worst) worst = rel;
                    if (rel > 1e-5) bad_close++;
                }
            for (size_t si = 0; si < sizeof sets / sizeof *sets; si++) {
                const ingot_kernels *ks = ingot_kernels_for(sets[si]);
                if (!ks || !ks->packed_gemm[t]) continue;
                /* whole range, then groups [1, 3) only */
                memset(y2, 0xff, ldy * (size_t)ny * sizeof *y2);
                ks->packed_gemm[t](n, pk, ngroups, act, act_row, ny, y2, ldy);
                for (int64_t j = 0; j < ny; j++)
                    if (memcmp(y + (size_t)j * ldy, y2 + (size_t)j * ldy, (size_t)rows * sizeof *y)) bad_set++;
                ks->packed_gemm[t](n, pk + gb, ngroups - 1, act, act_row, ny, y2 + 16, ldy);
                for (int64_t j = 0; j < ny; j++)
                    if (memcmp(y + (size_t)j * ldy + 16, y2 + (size_t)j * ldy + 16, 32 * sizeof *y)) bad_set++;
                runs++;
                if (ks->packed_gemm_act[t]) {
                    bad_set += check_packed_act(ks, t, n, pk, gb, ngroups, act, act_row, ny, y, ldy);
                    /* more rows than one tile of the layout, with a tail of 4 + 2 + 1 */
                    const int64_t ny2 = 64 + 8 + 7;
                    uint8_t *act2 = malloc(act_row * (size_t)ny2);
                    make_act(vt, n, ny2, mode, act2, act_row);
                    float *y3 = malloc(ldy * (size_t)ny2 * sizeof *y3);
                    ingot_pack_gemm_ref(t, n, pk, ngroups, act2, act_row, ny2, y3, ldy);
                    bad_set += check_packed_act(ks, t, n, pk, gb, ngroups, act2, act_row, ny2, y3, ldy);
                    free(y3);
                    free(act2);
                    runs += 2;
                }
            }
            free(y);
            free(y2);
            free(act);
            free(w);
            free(pk);
        }
    CHECK(bad_row == 0, "%s: %d packed rows do not dequantize to the original", tr->name, bad_row);
    CHECK(bad_close == 0, "%s: %d packed dots differ from vec_dot by more than 1e-5 (worst %.2e)", tr->name,
          bad_close, worst);
    CHECK(bad_set == 0, "%s: %d set results differ from the scalar packed kernel", tr->name, bad_set);
    printf("%-5s packed: rows exact, worst rel diff to vec_dot %.2e, %d set runs bit-identical\n", tr->name,
           worst, runs);
}

int main(void) {
    const ingot_type types[] = {INGOT_TYPE_Q4_0, INGOT_TYPE_Q5_0, INGOT_TYPE_Q8_0, INGOT_TYPE_Q4_K, INGOT_TYPE_Q6_K};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        CHECK(ingot_pack_supported(types[i]), "type %d should have a packed layout", types[i]);
        test_type(types[i]);
    }
    test_place();
    CHECK(!ingot_pack_supported(INGOT_TYPE_F32), "F32 has no packed layout");
    CHECK(ingot_pack_group_bytes(INGOT_TYPE_Q4_0, 48) == 0, "a row that is not whole blocks is not packable");
    CHECK(ingot_pack_group_bytes(INGOT_TYPE_Q4_K, 896) == 0, "a row that is not whole super-blocks is not packable");
    /* the chosen set packs only types it has kernels for */
    const ingot_kernels *k = ingot_kernels_get();
    for (int t = 0; t < INGOT_TYPE_COUNT; t++)
        if (k->packed_gemm[t]) CHECK(ingot_pack_supported((ingot_type)t), "set %s packs type %d", k->isa, t);
    TEST_END();
}
