/* AVX2+FMA+F16C kernels of the 256-element super-block types (Q2_K, Q3_K,
 * Q4_K, Q5_K, Q6_K, IQ4_XS) against Q8_K activations: the shared bodies
 * of kernels_x86_qk.h with the AVX2 integer primitive (maddubs, then madd
 * against the group's int16 scales, then add). Compiled to nothing off
 * x86_64. */
#include "tensor/kernels.h"
#if defined(__x86_64__)
#include "tensor/kernels_avx2.h"

#define Q_DOT_W(acc, x, y, w) avx2_dot_w(acc, x, y, w)
#include "tensor/kernels_x86_qk.h"

void ingot_kernels_fill_k_avx2(ingot_kernels *k) { x86_fill_qk(k); }
#endif
