// Softmax cross-entropy over rows of logits, fused: one pass per row for the log-sum-exp and the
// loss, one for the gradient softmax − one-hot. Vectorised exp, rows split between threads.
#include "CNablaKernels.h"
#include "variants.h"
#include "vecmath.h"

typedef struct {
    const float *z;
    const int32_t *labels;
    const float *g;
    float *loss, *lse, *dz;
    long c;
    int32_t ignore;
    int has_ignore;
} xent_job;

ALWAYS_INLINE float row_max(const float *restrict z, long c) {
    float m = z[0];
    for (long j = 1; j < c; j++) m = z[j] > m ? z[j] : m;
    return m;
}

ALWAYS_INLINE void xent_forward_body(void *ctx, long begin, long end) {
    const xent_job *j = (const xent_job *)ctx;
    const long c = j->c;
    for (long i = begin; i < end; i++) {
        if (j->has_ignore && j->labels[i] == j->ignore) { j->loss[i] = 0; j->lse[i] = 0; continue; }
        const float *restrict row = j->z + i * c;
        const float m = row_max(row, c);
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s = 0;
        long k = 0;
        for (; k + 8 <= c; k += 8)
            for (int l = 0; l < 8; l++) acc[l] += nabla_expf(row[k + l] - m);
        for (; k < c; k++) s += nabla_expf(row[k] - m);
        for (int l = 0; l < 8; l++) s += acc[l];
        const float lse = m + logf(s);
        j->lse[i] = lse;
        j->loss[i] = lse - row[j->labels[i]];
    }
}

ALWAYS_INLINE void xent_backward_body(void *ctx, long begin, long end) {
    const xent_job *j = (const xent_job *)ctx;
    const long c = j->c;
    for (long i = begin; i < end; i++) {
        float *restrict out = j->dz + i * c;
        if (j->has_ignore && j->labels[i] == j->ignore) { memset(out, 0, (size_t)c * sizeof(float)); continue; }
        const float *restrict row = j->z + i * c;
        const float l = j->lse[i], gi = j->g[i];
        for (long k = 0; k < c; k++) out[k] = gi * nabla_expf(row[k] - l);
        out[j->labels[i]] -= gi;
    }
}

NABLA_VARIANTS(xent_forward, (void *ctx, long begin, long end), (ctx, begin, end), xent_forward_body(ctx, begin, end);)
NABLA_VARIANTS(xent_backward, (void *ctx, long begin, long end), (ctx, begin, end), xent_backward_body(ctx, begin, end);)

static long rows_per_thread(long c) { long r = 16384 / (c > 0 ? c : 1); return r < 1 ? 1 : r; }

void nabla_cross_entropy_f32(const float *z, const int32_t *labels, float *loss, float *lse, long n, long c,
                             int has_ignore, int32_t ignore) {
    xent_job job = {z, labels, NULL, loss, lse, NULL, c, ignore, has_ignore};
    nabla_parallel_for(n, rows_per_thread(c), 1, xent_forward_dispatch, &job);
}

void nabla_cross_entropy_backward_f32(const float *z, const int32_t *labels, const float *lse, const float *g, float *dz,
                                      long n, long c, int has_ignore, int32_t ignore) {
    xent_job job = {z, labels, g, NULL, (float *)lse, dz, c, ignore, has_ignore};
    nabla_parallel_for(n, rows_per_thread(c), 1, xent_backward_dispatch, &job);
}
