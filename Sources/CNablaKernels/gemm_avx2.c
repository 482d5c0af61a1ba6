// The AVX2+FMA micro-kernel: a 6x16 float tile held in 12 ymm accumulators; each k step loads two
// vectors of B and broadcasts six scalars of A (the BLIS/GotoBLAS register blocking).
#if defined(__x86_64__)
#include "gemm_internal.h"
#include <immintrin.h>

int nabla_cpu_has_avx2_fma(void) {
    static int cached = -1; // racing first calls all store the same answer
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
}

#define NABLA_ROW(ap, c0, c1)                                  \
    {                                                          \
        __m256 av = _mm256_broadcast_ss(ap);                   \
        c0 = _mm256_fmadd_ps(av, b0, c0);                      \
        c1 = _mm256_fmadd_ps(av, b1, c1);                      \
    }

// Rows 0-2 are addressed from a0, rows 3-5 from a3, at offsets 0, rs, 2·rs.
#define NABLA_STEP                                             \
    {                                                          \
        __m256 b0 = _mm256_loadu_ps(b);                        \
        __m256 b1 = _mm256_loadu_ps(b + 8);                    \
        NABLA_ROW(a0, c00, c01)                                \
        NABLA_ROW(a0 + rs_a, c10, c11)                         \
        NABLA_ROW(a0 + 2 * rs_a, c20, c21)                     \
        NABLA_ROW(a3, c30, c31)                                \
        NABLA_ROW(a3 + rs_a, c40, c41)                         \
        NABLA_ROW(a3 + 2 * rs_a, c50, c51)                     \
        a0 += cs_a;                                            \
        a3 += cs_a;                                            \
        b += rs_b;                                             \
    }

__attribute__((target("avx2,fma")))
void nabla_ukernel_avx2(NABLA_UKERNEL_ARGS) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    const float *a0 = a, *a3 = a + 3 * rs_a;
    long p = 0;
    for (; p + 4 <= k; p += 4) {
        _mm_prefetch((const char *)(b + 8 * rs_b), _MM_HINT_T0);
        NABLA_STEP NABLA_STEP NABLA_STEP NABLA_STEP
    }
    for (; p < k; p++) NABLA_STEP
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
