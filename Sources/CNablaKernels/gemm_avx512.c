// The AVX-512 micro-kernel: a 12x32 tile in 24 zmm accumulators. Each k step loads two vectors of B
// and broadcasts twelve scalars of A into 24 FMAs: enough independent accumulators to keep both FMA
// pipes of a Xeon busy through the FMA latency, and few enough loads per FMA that the load ports
// keep up. (The 6x16 zmm tile this replaced had six accumulators: at most six FMAs in flight, about
// 60% of peak.) Every element is still the sum over k in order, added to C at the end, so results
// are bit-identical to the AVX2 and portable kernels. Chosen at run time on CPUs with AVX-512F whose
// operating system saves the zmm state.
#if defined(__x86_64__)
#include "cpu.h"
#include "gemm_internal.h"
#include <immintrin.h>

#define NABLA_ROW512(ap, r)                                    \
    {                                                          \
        __m512 av = _mm512_set1_ps(*(ap));                     \
        lo##r = _mm512_fmadd_ps(av, b0, lo##r);                \
        hi##r = _mm512_fmadd_ps(av, b1, hi##r);                \
    }

// Rows are addressed from four bases (rows 0, 3, 6, 9) at offsets 0, rs and 2·rs: four independent
// pointer updates per k step. (With one pointer stepped row by row, the compiler made a chain of
// twelve dependent adds per step: twelve cycles, as long as the step's FMAs take.)
#define NABLA_STEP512                                          \
    {                                                          \
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16); \
        NABLA_ROW512(a0, 0) NABLA_ROW512(a0 + rs_a, 1) NABLA_ROW512(a0 + rs2, 2)   \
        NABLA_ROW512(a3, 3) NABLA_ROW512(a3 + rs_a, 4) NABLA_ROW512(a3 + rs2, 5)   \
        NABLA_ROW512(a6, 6) NABLA_ROW512(a6 + rs_a, 7) NABLA_ROW512(a6 + rs2, 8)   \
        NABLA_ROW512(a9, 9) NABLA_ROW512(a9 + rs_a, 10) NABLA_ROW512(a9 + rs2, 11) \
        a0 += cs_a;                                            \
        a3 += cs_a;                                            \
        a6 += cs_a;                                            \
        a9 += cs_a;                                            \
        b += rs_b;                                             \
    }

#define NABLA_ZERO512(r) __m512 lo##r = _mm512_setzero_ps(), hi##r = _mm512_setzero_ps();
#define NABLA_STORE512(r)                                                        \
    {                                                                            \
        float *row = c + (r) * ldc;                                              \
        if (accumulate) {                                                        \
            lo##r = _mm512_add_ps(lo##r, _mm512_loadu_ps(row));                  \
            hi##r = _mm512_add_ps(hi##r, _mm512_loadu_ps(row + 16));             \
        }                                                                        \
        _mm512_storeu_ps(row, lo##r);                                            \
        _mm512_storeu_ps(row + 16, hi##r);                                       \
    }

__attribute__((target("avx512f")))
void nabla_ukernel_avx512(NABLA_UKERNEL_ARGS) {
    NABLA_ZERO512(0) NABLA_ZERO512(1) NABLA_ZERO512(2) NABLA_ZERO512(3) NABLA_ZERO512(4) NABLA_ZERO512(5)
    NABLA_ZERO512(6) NABLA_ZERO512(7) NABLA_ZERO512(8) NABLA_ZERO512(9) NABLA_ZERO512(10) NABLA_ZERO512(11)
    const long rs2 = 2 * rs_a;
    const float *a0 = a, *a3 = a + 3 * rs_a, *a6 = a + 6 * rs_a, *a9 = a + 9 * rs_a;
    long p = 0;
    for (; p + 4 <= k; p += 4) {
        NABLA_STEP512 NABLA_STEP512 NABLA_STEP512 NABLA_STEP512
    }
    for (; p < k; p++) NABLA_STEP512
    NABLA_STORE512(0) NABLA_STORE512(1) NABLA_STORE512(2) NABLA_STORE512(3) NABLA_STORE512(4) NABLA_STORE512(5)
    NABLA_STORE512(6) NABLA_STORE512(7) NABLA_STORE512(8) NABLA_STORE512(9) NABLA_STORE512(10) NABLA_STORE512(11)
}
#endif
