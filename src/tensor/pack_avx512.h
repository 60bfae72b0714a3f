/* Pieces shared by the AVX-512 packed kernels (pack_avx512.c for the
 * 32-element block types, pack_k_avx512.c for the K-quants). Include only
 * from those files, inside their x86_64 guard. */
#ifndef INGOT_TENSOR_PACK_AVX512_H
#define INGOT_TENSOR_PACK_AVX512_H
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#define PK_INLINE static inline __attribute__((always_inline))
#define PK_PRAGMA(x) _Pragma(#x)
#define PK_UNROLL(n) PK_PRAGMA(GCC unroll n)

/* s + dot(u, four bytes at p broadcast to every lane), the four bytes
 * read by the instruction itself ({1to16}): GCC 12 has no pattern that
 * folds a broadcast into vpdpbusd and emits a separate vpbroadcastd,
 * which doubles the instructions of the inner loop and makes it
 * front-end bound. */
PK_INLINE __m512i dpbusd_bcst(__m512i s, __m512i u, const uint8_t *p) {
    __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(s) : "v"(u), "m"(*(const int32_t *)p));
    return s;
}

/* Generation (one activation row) streams each weight byte from memory
 * once, and the hardware prefetcher alone keeps too few lines in flight:
 * asking for the block PK_PREFETCH bytes ahead took a sweep over 40
 * packed Q4_K 8192 x 2048 matrices (377 MB) from ~35 to ~60 GB/s on 2
 * threads (4 KiB and 8 KiB alike; 16 KiB and 1 KiB less). Prefetches
 * never fault, so reading past the weight is harmless. */
#define PK_PREFETCH 8192
PK_INLINE void pk_prefetch(const void *blk, size_t bytes) {
    for (size_t l = 0; l < bytes; l += 64) _mm_prefetch((const char *)blk + PK_PREFETCH + l, _MM_HINT_T0);
}

/* Batches (prompt processing) read a group's weights of one chunk in a
 * run of 9-36 KiB, then jump to the next group: too short for the
 * hardware prefetcher to get ahead, so the first tile of each group asks
 * for the next group's blocks, into L2, as it goes (matmul_bench, 2
 * threads, 128 tokens, weights streaming from memory: Q4_0 65536 x 2048
 * ~3000 -> ~3300 tok/s, Q4_K ~2800 -> ~3000; cache-resident unchanged). */
PK_INLINE void pk_prefetch_l2(const void *p, size_t bytes) {
    for (size_t l = 0; l < bytes; l += 64) _mm_prefetch((const char *)p + l, _MM_HINT_T1);
}

/* BODY(t, NT) for the tiles of nt activation rows: 8 rows each, then 4,
 * 2, 1 (NT a constant in each expansion). */
#define PK_TILES(nt, BODY)                \
    do {                                  \
        int t_ = 0;                       \
        for (; t_ + 8 <= (nt); t_ += 8) { \
            BODY(t_, 8);                  \
        }                                 \
        if (t_ + 4 <= (nt)) {             \
            BODY(t_, 4);                  \
            t_ += 4;                      \
        }                                 \
        if (t_ + 2 <= (nt)) {             \
            BODY(t_, 2);                  \
            t_ += 2;                      \
        }                                 \
        if (t_ < (nt)) {                  \
            BODY(t_, 1);                  \
        }                                 \
    } while (0)

#endif
