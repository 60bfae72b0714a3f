/* AVX-VNNI kernels of the packed 32-element block types: the shared body
 * of pack_ymm.h with VEX-encoded vpdpbusd on ymm (u8 x s8, four products
 * per int32 lane, no saturation), so every type multiplies its stored
 * unsigned weights directly and only the start of the sums carries the
 * offset. Same integer sums and float operations as the avx2 kernels:
 * bit-identical to ingot_pack_gemm_ref. Compiled to nothing off x86_64;
 * only called when the CPU has AVX-VNNI (kernels.c checks). */
#include "tensor/kernels.h"
#if defined(__x86_64__)
#define PK_YMM_VNNI 1
#include "tensor/pack_ymm.h"

void ingot_pack_fill_avxvnni(ingot_kernels *k) { pk_fill(k); }
#endif
