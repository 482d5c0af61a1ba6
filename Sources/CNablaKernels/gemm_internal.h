// Shared between the GEMM driver and its micro-kernels; not part of the public header.
#ifndef CNABLA_GEMM_INTERNAL_H
#define CNABLA_GEMM_INTERNAL_H

#define NABLA_MR 6   /* rows of the register tile */
#define NABLA_NR 16  /* columns of the register tile */

/// Computes a full MR x NR tile from packed panels: a is k x MR (column-major per k step),
/// b is k x NR. Stores into c (row stride ldc), adding to it when accumulate != 0.
typedef void (*nabla_ukernel_fn)(long k, const float *a, const float *b, float *c, long ldc, int accumulate);

void nabla_ukernel_portable(long k, const float *a, const float *b, float *c, long ldc, int accumulate);
#if defined(__x86_64__)
int nabla_cpu_has_avx2_fma(void);
void nabla_ukernel_avx2(long k, const float *a, const float *b, float *c, long ldc, int accumulate);
#endif
#if defined(__aarch64__)
void nabla_ukernel_neon(long k, const float *a, const float *b, float *c, long ldc, int accumulate);
#endif

#endif
