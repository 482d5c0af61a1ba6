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

#ifndef NABLA_MR512
#define NABLA_MR512 12
#endif

__attribute__((target("avx512f")))
void nabla_ukernel_avx512(NABLA_UKERNEL_ARGS) {
    __m512 lo[NABLA_MR512], hi[NABLA_MR512];
#pragma clang loop unroll(full)
    for (int r = 0; r < NABLA_MR512; r++) lo[r] = hi[r] = _mm512_setzero_ps();
    for (long p = 0; p < k; p++) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma clang loop unroll(full)
        for (int r = 0; r < NABLA_MR512; r++) {
            __m512 av = _mm512_set1_ps(a[r * rs_a]);
            lo[r] = _mm512_fmadd_ps(av, b0, lo[r]);
            hi[r] = _mm512_fmadd_ps(av, b1, hi[r]);
        }
        a += cs_a;
        b += rs_b;
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < NABLA_MR512; r++) {
        float *row = c + r * ldc;
        if (accumulate) {
            lo[r] = _mm512_add_ps(lo[r], _mm512_loadu_ps(row));
            hi[r] = _mm512_add_ps(hi[r], _mm512_loadu_ps(row + 16));
        }
        _mm512_storeu_ps(row, lo[r]);
        _mm512_storeu_ps(row + 16, hi[r]);
    }
}
#endif
