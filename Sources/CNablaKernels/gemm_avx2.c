// The AVX2+FMA micro-kernel: a 6x16 float tile held in 12 ymm accumulators; each k step loads two
// vectors of B and broadcasts six scalars of A (the BLIS/GotoBLAS register blocking).
#if defined(__x86_64__)
#include "cpu.h"
#include "gemm_internal.h"
#include <immintrin.h>

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
/// Packs 16 columns of a transposed B: dst[p·stride + j] = b[j·ldb + p] for p < kc, j < 16, by 8x8
/// register transposes (the scalar loop wrote one float per 64-byte line). stride is the panel width.
__attribute__((target("avx2,fma")))
void nabla_pack_b_trans_avx2(const float *b, long ldb, long kc, float *dst, long stride) {
    long p = 0;
    for (; p + 8 <= kc; p += 8) {
        for (int half = 0; half < 2; half++) {
            const float *src = b + half * 8 * ldb + p;
            __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ldb);
            __m256 r2 = _mm256_loadu_ps(src + 2 * ldb), r3 = _mm256_loadu_ps(src + 3 * ldb);
            __m256 r4 = _mm256_loadu_ps(src + 4 * ldb), r5 = _mm256_loadu_ps(src + 5 * ldb);
            __m256 r6 = _mm256_loadu_ps(src + 6 * ldb), r7 = _mm256_loadu_ps(src + 7 * ldb);
            __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
            __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
            __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
            __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
            __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
            __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
            float *d = dst + p * stride + half * 8;
            _mm256_storeu_ps(d + 0 * stride, _mm256_permute2f128_ps(u0, u4, 0x20));
            _mm256_storeu_ps(d + 1 * stride, _mm256_permute2f128_ps(u1, u5, 0x20));
            _mm256_storeu_ps(d + 2 * stride, _mm256_permute2f128_ps(u2, u6, 0x20));
            _mm256_storeu_ps(d + 3 * stride, _mm256_permute2f128_ps(u3, u7, 0x20));
            _mm256_storeu_ps(d + 4 * stride, _mm256_permute2f128_ps(u0, u4, 0x31));
            _mm256_storeu_ps(d + 5 * stride, _mm256_permute2f128_ps(u1, u5, 0x31));
            _mm256_storeu_ps(d + 6 * stride, _mm256_permute2f128_ps(u2, u6, 0x31));
            _mm256_storeu_ps(d + 7 * stride, _mm256_permute2f128_ps(u3, u7, 0x31));
        }
    }
    for (; p < kc; p++)
        for (long j = 0; j < 16; j++) dst[p * stride + j] = b[j * ldb + p];
}

#endif
