// Fused optimizer updates: one pass over parameter, gradient and state, the rule of the optimizer
// class that calls it (Sources/NablaNN/Optimizers). Plain loops compiled for the baseline and for
// AVX2+FMA by the one dispatch macro.
#include <math.h>
#include "CNablaKernels.h"
#include "variants.h"

// sqrtf may set errno, which keeps the compiler from vectorising a loop; the elementwise builtin
// is the same square root without errno.
#if defined(__has_builtin)
#if __has_builtin(__builtin_elementwise_sqrt)
#define NABLA_SQRTF(x) __builtin_elementwise_sqrt(x)
#endif
#endif
#ifndef NABLA_SQRTF
#define NABLA_SQRTF(x) sqrtf(x)
#endif

typedef struct {
    float *p, *m, *v;
    const float *g;
    float b1, b2, eps, step, decay;
} adam_job;

/// The Adam rule on element i, shared by the dense and the row-sparse loops.
#define ADAM_ELEMENT(p, m, v, g, i)                                                       \
    do {                                                                                  \
        float gi = (g)[i];                                                                \
        float mi = b1 * (m)[i] + (1.0f - b1) * gi;                                        \
        float vi = b2 * (v)[i] + (1.0f - b2) * gi * gi;                                   \
        (m)[i] = mi;                                                                      \
        (v)[i] = vi;                                                                      \
        (p)[i] = (p)[i] * decay - step * mi / (NABLA_SQRTF(vi) + eps);                    \
    } while (0)

/// Adam on p[begin..<end]: m = b1·m + (1 − b1)·g, v = b2·v + (1 − b2)·g², p = p·decay − step·m/(√v + eps).
#define ADAM_RANGE(ctx, begin, end)                                                       \
    const adam_job *j = (const adam_job *)ctx;                                            \
    float *restrict p = j->p, *restrict m = j->m, *restrict v = j->v;                     \
    const float *restrict g = j->g;                                                       \
    const float b1 = j->b1, b2 = j->b2, eps = j->eps, step = j->step, decay = j->decay;   \
    for (long i = begin; i < end; i++) ADAM_ELEMENT(p, m, v, g, i);
NABLA_VARIANTS(adam_range, (void *ctx, long begin, long end), (ctx, begin, end), ADAM_RANGE(ctx, begin, end))

void nabla_adam_f32(float *p, const float *g, float *m, float *v, long n,
                    float b1, float b2, float eps, float step, float decay) {
    adam_job job = {p, m, v, g, b1, b2, eps, step, decay};
    nabla_parallel_for(n, 8192, 16, adam_range_dispatch, &job);
}

// MARK: Row-sparse updates: the same rules on the rows a sparse embedding gradient touched.

void nabla_sparse_sgd_f32(float *p, long d, const int32_t *rows, long k, const float *values, float lr, float decay) {
    for (long i = 0; i < k; i++) {
        float *restrict pr = p + (long)rows[i] * d;
        const float *restrict g = values + i * d;
        for (long c = 0; c < d; c++) pr[c] = pr[c] * decay - lr * g[c];
    }
}

typedef struct {
    adam_job adam;
    const int32_t *rows;
    long d;
} sparse_adam_job;

/// Lazy Adam on rows [begin, end) of a row-sparse gradient: the dense rule on each touched row,
/// in one dispatched loop (a call per row cost more than the update of a narrow row).
#define SPARSE_ADAM_RANGE(ctx, begin, end)                                                                 \
    const sparse_adam_job *sj = (const sparse_adam_job *)ctx;                                              \
    const long d = sj->d;                                                                                   \
    const float b1 = sj->adam.b1, b2 = sj->adam.b2, eps = sj->adam.eps, step = sj->adam.step, decay = sj->adam.decay; \
    for (long r = begin; r < end; r++) {                                                                    \
        const long o = (long)sj->rows[r] * d;                                                               \
        float *restrict p = sj->adam.p + o, *restrict m = sj->adam.m + o, *restrict v = sj->adam.v + o;    \
        const float *restrict g = sj->adam.g + r * d;                                                       \
        for (long c = 0; c < d; c++) ADAM_ELEMENT(p, m, v, g, c);                                           \
    }
NABLA_VARIANTS(sparse_adam_range, (void *ctx, long begin, long end), (ctx, begin, end), SPARSE_ADAM_RANGE(ctx, begin, end))

void nabla_sparse_adam_f32(float *p, float *m, float *v, long d, const int32_t *rows, long k, const float *values,
                           float b1, float b2, float eps, float step, float decay) {
    // Rows are distinct (the gradient is coalesced), so threads never share a row.
    sparse_adam_job job = {{p, m, v, values, b1, b2, eps, step, decay}, rows, d};
    long grain = 8192 / (d > 0 ? d : 1);
    nabla_parallel_for(k, grain > 0 ? grain : 1, 16, sparse_adam_range_dispatch, &job);
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
