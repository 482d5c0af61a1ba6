// Shared between the GEMM driver and its micro-kernels; not part of the public header.
#ifndef CNABLA_GEMM_INTERNAL_H
#define CNABLA_GEMM_INTERNAL_H

#define NABLA_MR 6   /* rows of the portable, AVX2 and NEON register tile */
#define NABLA_NR 16  /* its columns */
#define NABLA_MR_MAX 12  /* the largest tile any kernel uses (edge buffers are this big) */
#define NABLA_NR_MAX 32

/// Computes a full MR x NR tile C = A·B over k steps and stores it into c (row stride ldc),
/// adding to c when accumulate != 0. A(r, p) = a[r*rs_a + p*cs_a], so A may be a packed panel
/// (rs_a = 1, cs_a = MR) or rows of the caller's matrix read in place; B(p, j) = b[p*rs_b + j],
/// a packed panel (rs_b = NR) or rows of the caller's matrix (rs_b = ldb).
typedef void (*nabla_ukernel_fn)(long k, const float *a, long rs_a, long cs_a, const float *b, long rs_b,
                                 float *c, long ldc, int accumulate);

#define NABLA_UKERNEL_ARGS long k, const float *a, long rs_a, long cs_a, const float *b, long rs_b, \
                           float *c, long ldc, int accumulate
void nabla_ukernel_portable(NABLA_UKERNEL_ARGS);
#if defined(__x86_64__)
void nabla_ukernel_avx2(NABLA_UKERNEL_ARGS);
void nabla_ukernel_avx512(NABLA_UKERNEL_ARGS);
void nabla_pack_b_trans_avx2(const float *b, long ldb, long kc, float *dst, long stride);
#endif
#if defined(__aarch64__)
void nabla_ukernel_neon(NABLA_UKERNEL_ARGS);
#endif

/// A micro-kernel and the register tile it computes: the driver packs panels of A mr rows high and
/// of B nr columns wide for it.
typedef struct {
    nabla_ukernel_fn fn;
    long mr, nr;
    const char *name;
} nabla_gemm_tile;

/// nabla_sgemm on the calling thread only, for kernels that already run inside the thread pool;
/// beta must be 0 or 1.
void nabla_sgemm_serial(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                        const float *b, long ldb, float beta, float *c, long ldc);

#endif
