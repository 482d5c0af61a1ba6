// Fused optimizer updates: one pass over parameter, gradient and state. Plain loops that the
// compiler vectorises, compiled twice (baseline and AVX2+FMA) and chosen at run time.
#include "CNablaKernels.h"
#include "gemm_internal.h"
#include <math.h>

#define NABLA_ADAM_BODY                                                     \
    for (long i = 0; i < n; i++) {                                          \
        float gi = g[i];                                                    \
        float mi = b1 * m[i] + (1.0f - b1) * gi;                            \
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;                       \
        m[i] = mi;                                                          \
        v[i] = vi;                                                          \
        p[i] = p[i] * decay - step * mi / (sqrtf(vi) + eps);                \
    }

static void adam_portable(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, long n,
                          float b1, float b2, float eps, float step, float decay) {
    NABLA_ADAM_BODY
}

#if defined(__x86_64__)
#include <immintrin.h>
// sqrtf may set errno, which keeps the compiler from vectorising the plain loop: spell it out.
__attribute__((target("avx2,fma")))
static void adam_avx2(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, long n,
                      float b1, float b2, float eps, float step, float decay) {
    const __m256 vb1 = _mm256_set1_ps(b1), vb2 = _mm256_set1_ps(b2), c1 = _mm256_set1_ps(1.0f - b1);
    const __m256 c2 = _mm256_set1_ps(1.0f - b2), veps = _mm256_set1_ps(eps), vstep = _mm256_set1_ps(step);
    const __m256 vdecay = _mm256_set1_ps(decay);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 gi = _mm256_loadu_ps(g + i);
        __m256 mi = _mm256_fmadd_ps(vb1, _mm256_loadu_ps(m + i), _mm256_mul_ps(c1, gi));
        __m256 vi = _mm256_fmadd_ps(vb2, _mm256_loadu_ps(v + i), _mm256_mul_ps(c2, _mm256_mul_ps(gi, gi)));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        __m256 denom = _mm256_add_ps(_mm256_sqrt_ps(vi), veps);
        __m256 pi = _mm256_mul_ps(_mm256_loadu_ps(p + i), vdecay);
        _mm256_storeu_ps(p + i, _mm256_sub_ps(pi, _mm256_div_ps(_mm256_mul_ps(vstep, mi), denom)));
    }
    adam_portable(p + i, g + i, m + i, v + i, n - i, b1, b2, eps, step, decay);
}
#endif

typedef struct {
    float *p, *m, *v;
    const float *g;
    float b1, b2, eps, step, decay;
} adam_job;

static void adam_range(void *ctx, long begin, long end) {
    const adam_job *j = (const adam_job *)ctx;
    long n = end - begin;
#if defined(__x86_64__)
    if (nabla_cpu_has_avx2_fma()) {
        adam_avx2(j->p + begin, j->g + begin, j->m + begin, j->v + begin, n, j->b1, j->b2, j->eps, j->step, j->decay);
        return;
    }
#endif
    adam_portable(j->p + begin, j->g + begin, j->m + begin, j->v + begin, n, j->b1, j->b2, j->eps, j->step, j->decay);
}

void nabla_adam_f32(float *p, const float *g, float *m, float *v, long n,
                    float b1, float b2, float eps, float step, float decay) {
    adam_job job = {p, m, v, g, b1, b2, eps, step, decay};
    nabla_parallel_for(n, 8192, 16, adam_range, &job);
}

// MARK: Row-sparse updates: the same rules on the rows a sparse embedding gradient touched.

void nabla_sparse_sgd_f32(float *p, long d, const int32_t *rows, long k, const float *values, float lr, float decay) {
    for (long i = 0; i < k; i++) {
        float *restrict pr = p + (long)rows[i] * d;
        const float *restrict g = values + i * d;
        for (long c = 0; c < d; c++) pr[c] = pr[c] * decay - lr * g[c];
    }
}

void nabla_sparse_adam_f32(float *p, float *m, float *v, long d, const int32_t *rows, long k, const float *values,
                           float b1, float b2, float eps, float step, float decay) {
    for (long i = 0; i < k; i++) {
        long o = (long)rows[i] * d;
        nabla_adam_f32(p + o, values + i * d, m + o, v + o, d, b1, b2, eps, step, decay);
    }
}

void nabla_sparse_adagrad_f32(float *p, float *acc, long d, const int32_t *rows, long k, const float *values, float lr, float eps,
                              float decay) {
    for (long i = 0; i < k; i++) {
        float *restrict pr = p + (long)rows[i] * d;
        float *restrict ar = acc + (long)rows[i] * d;
        const float *restrict g = values + i * d;
        for (long c = 0; c < d; c++) {
            ar[c] += g[c] * g[c];
            pr[c] = pr[c] * decay - lr * g[c] / sqrtf(ar[c] + eps);
        }
    }
}
