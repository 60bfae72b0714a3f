/* AVX2 (+FMA, F16C) kernels of the packed 32-element block types: the
 * shared body of pack_ymm.h with vpmaddubsw + vpmaddwd products (no
 * vpdpbusd on plain AVX2; the int16 overflow bounds are proved there).
 * Bit-identical to ingot_pack_gemm_ref. Compiled to nothing off x86_64;
 * only called when the CPU has AVX2, FMA and F16C (kernels.c checks). */
#include "tensor/kernels.h"
#if defined(__x86_64__)
#include "tensor/pack_ymm.h"

void ingot_pack_fill_avx2(ingot_kernels *k) { pk_fill(k); }
#endif
