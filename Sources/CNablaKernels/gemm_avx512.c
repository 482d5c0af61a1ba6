// The AVX-512 micro-kernel: the same 6x16 tile and packing as the AVX2 kernel, one zmm accumulator
// per row, so each k step is one load of B, six broadcasts and six FMAs — half the instructions of the
// AVX2 kernel for the same work, and the same sums in the same order (results are bit-identical).
// Chosen at run time on CPUs with AVX-512F whose operating system saves the zmm state.
#if defined(__x86_64__)
#include "cpu.h"
#include "gemm_internal.h"
#include <immintrin.h>

#define NABLA_STEP512                                          \
    {                                                          \
        __m512 bv = _mm512_loadu_ps(b);                        \
        c0 = _mm512_fmadd_ps(_mm512_set1_ps(a0[0]), bv, c0);   \
        c1 = _mm512_fmadd_ps(_mm512_set1_ps(a0[rs_a]), bv, c1);       \
        c2 = _mm512_fmadd_ps(_mm512_set1_ps(a0[2 * rs_a]), bv, c2);   \
        c3 = _mm512_fmadd_ps(_mm512_set1_ps(a3[0]), bv, c3);          \
        c4 = _mm512_fmadd_ps(_mm512_set1_ps(a3[rs_a]), bv, c4);       \
        c5 = _mm512_fmadd_ps(_mm512_set1_ps(a3[2 * rs_a]), bv, c5);   \
        a0 += cs_a;                                            \
        a3 += cs_a;                                            \
        b += rs_b;                                             \
    }

__attribute__((target("avx512f")))
void nabla_ukernel_avx512(NABLA_UKERNEL_ARGS) {
    __m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps(), c2 = _mm512_setzero_ps();
    __m512 c3 = _mm512_setzero_ps(), c4 = _mm512_setzero_ps(), c5 = _mm512_setzero_ps();
    const float *a0 = a, *a3 = a + 3 * rs_a;
    long p = 0;
    for (; p + 4 <= k; p += 4) {
        _mm_prefetch((const char *)(b + 8 * rs_b), _MM_HINT_T0);
        NABLA_STEP512 NABLA_STEP512 NABLA_STEP512 NABLA_STEP512
    }
    for (; p < k; p++) NABLA_STEP512
#define NABLA_STORE512(r, acc)                                                   \
    {                                                                            \
        float *row = c + (r) * ldc;                                              \
        if (accumulate) acc = _mm512_add_ps(acc, _mm512_loadu_ps(row));          \
        _mm512_storeu_ps(row, acc);                                              \
    }
    NABLA_STORE512(0, c0) NABLA_STORE512(1, c1) NABLA_STORE512(2, c2)
    NABLA_STORE512(3, c3) NABLA_STORE512(4, c4) NABLA_STORE512(5, c5)
#undef NABLA_STORE512
}
#endif
