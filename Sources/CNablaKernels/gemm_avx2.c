// The AVX2+FMA micro-kernel: a 6x16 float tile held in 12 ymm accumulators; each k step loads two
// vectors of B and broadcasts six scalars of A (the BLIS/GotoBLAS register blocking).
#if defined(__x86_64__)
#include "gemm_internal.h"
#include <immintrin.h>

int nabla_cpu_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#define NABLA_ROW(ap, r, c0, c1)                               \
    {                                                          \
        __m256 av = _mm256_broadcast_ss((ap) + (r));           \
        c0 = _mm256_fmadd_ps(av, b0, c0);                      \
        c1 = _mm256_fmadd_ps(av, b1, c1);                      \
    }

#define NABLA_STEP(off)                                        \
    {                                                          \
        __m256 b0 = _mm256_load_ps(b + (off) * 16);            \
        __m256 b1 = _mm256_load_ps(b + (off) * 16 + 8);        \
        const float *ap = a + (off) * 6;                       \
        NABLA_ROW(ap, 0, c00, c01) NABLA_ROW(ap, 1, c10, c11)  \
        NABLA_ROW(ap, 2, c20, c21) NABLA_ROW(ap, 3, c30, c31)  \
        NABLA_ROW(ap, 4, c40, c41) NABLA_ROW(ap, 5, c50, c51)  \
    }

__attribute__((target("avx2,fma")))
void nabla_ukernel_avx2(long k, const float *a, const float *b, float *c, long ldc, int accumulate) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    long p = 0;
    for (; p + 4 <= k; p += 4) {
        _mm_prefetch((const char *)(b + 64 * 4), _MM_HINT_T0);
        NABLA_STEP(0) NABLA_STEP(1) NABLA_STEP(2) NABLA_STEP(3)
        a += 24;
        b += 64;
    }
    for (; p < k; p++) {
        NABLA_STEP(0)
        a += 6;
        b += 16;
    }
#define NABLA_STORE(r, c0, c1)                                                       \
    {                                                                                \
        float *row = c + (r) * ldc;                                                  \
        if (accumulate) {                                                            \
            c0 = _mm256_add_ps(c0, _mm256_loadu_ps(row));                            \
            c1 = _mm256_add_ps(c1, _mm256_loadu_ps(row + 8));                        \
        }                                                                            \
        _mm256_storeu_ps(row, c0);                                                   \
        _mm256_storeu_ps(row + 8, c1);                                               \
    }
    NABLA_STORE(0, c00, c01) NABLA_STORE(1, c10, c11) NABLA_STORE(2, c20, c21)
    NABLA_STORE(3, c30, c31) NABLA_STORE(4, c40, c41) NABLA_STORE(5, c50, c51)
#undef NABLA_STORE
}
#endif
