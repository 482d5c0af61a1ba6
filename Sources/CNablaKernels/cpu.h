// What the CPU can do, asked once: kernels choose their variant by it. Internal to CNablaKernels.
#ifndef CNABLA_CPU_H
#define CNABLA_CPU_H

#if defined(__x86_64__)
/// Whether the CPU has AVX2 and FMA (cached after the first call).
int nabla_cpu_has_avx2_fma(void);
/// Whether the CPU has AVX-512F (and AVX2) and the operating system saves the zmm registers.
int nabla_cpu_has_avx512f(void);
#endif

/// The SIMD level kernels use: 0 portable, 1 AVX2+FMA (NEON on arm64), 2 AVX-512F; the best the CPU
/// has, unless NABLA_SIMD or nabla_simd_limit lowers it.
int nabla_simd_level(void);
/// The calling thread's own limit (-1: none), which the thread pool passes on to its workers.
int nabla_simd_thread_limit(void);

#endif
