// Kernels of the Transformer's hot path: exact GELU with a vectorisable erf, layer normalisation
// and fused multi-head attention. Each is compiled for the baseline and for AVX2+FMA.
#include <stdlib.h>
#include "CNablaKernels.h"
#include "gemm_internal.h"
#include "variants.h"
#include "vecmath.h"

// MARK: GELU, exact form x·Φ(x)
// Φ's tail P(X > |x|) = erfc(|x|/√2)/2 by Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7):
// computed directly for both signs, so that there is no cancellation for negative x.

ALWAYS_INLINE float gelu_tail(float x, float *gauss) {
    float a = fabsf(x) * 0.70710678118654752f;
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    float e = nabla_expf(-a * a);
    *gauss = e;
    return 0.5f * poly * e;
}

ALWAYS_INLINE void gelu_body(const float *restrict x, float *restrict y, long n) {
    for (long i = 0; i < n; i++) {
        float e, tail = gelu_tail(x[i], &e);
        y[i] = x[i] * (x[i] >= 0.0f ? 1.0f - tail : tail);
    }
}

ALWAYS_INLINE void gelu_backward_body(const float *restrict x, const float *restrict g, float *restrict dx, long n) {
    for (long i = 0; i < n; i++) {
        float e, tail = gelu_tail(x[i], &e);
        float cdf = x[i] >= 0.0f ? 1.0f - tail : tail;
        dx[i] = g[i] * (cdf + x[i] * 0.39894228040143268f * e);
    }
}

NABLA_VARIANTS(gelu, (const float *restrict x, float *restrict y, long n), (x, y, n), gelu_body(x, y, n);)
NABLA_VARIANTS(gelu_backward, (const float *restrict x, const float *restrict g, float *restrict dx, long n), (x, g, dx, n),
               gelu_backward_body(x, g, dx, n);)

void nabla_gelu_f32(const float *x, float *y, long n) { gelu_dispatch(x, y, n); }
void nabla_gelu_backward_f32(const float *x, const float *g, float *dx, long n) { gelu_backward_dispatch(x, g, dx, n); }

// MARK: Type-generic kernels

#define NT float
#define NS(name) name##_f32
#define NEXP nabla_expf
#define NLOG logf
#define NSQRT sqrtf
#define NGEMM nabla_sgemm_serial
#include "transformer_impl.h"

#define NT double
#define NS(name) name##_f64
#define NEXP exp
#define NLOG log
#define NSQRT sqrt
#define NGEMM nabla_dgemm
#include "transformer_impl.h"

// Range functions for the thread pool (float32: baseline and AVX2 twins).
NABLA_VARIANTS(ln_forward_f32, (void *ctx, long begin, long end), (ctx, begin, end), ln_forward_body_f32(ctx, begin, end);)
NABLA_VARIANTS(attn_forward_f32, (void *ctx, long begin, long end), (ctx, begin, end), attn_forward_body_f32(ctx, begin, end);)
NABLA_VARIANTS(attn_backward_f32, (void *ctx, long begin, long end), (ctx, begin, end), attn_backward_body_f32(ctx, begin, end);)
static void ln_forward_f64(void *ctx, long b, long e) { ln_forward_body_f64(ctx, b, e); }
static void attn_forward_f64(void *ctx, long b, long e) { attn_forward_body_f64(ctx, b, e); }
static void attn_backward_f64(void *ctx, long b, long e) { attn_backward_body_f64(ctx, b, e); }

static long rows_per_task(long d) { long g = 16384 / (d > 0 ? d : 1); return g < 1 ? 1 : g; }

void nabla_layernorm_f32(const float *x, const float *gamma, const float *beta, float *y, float *mean, float *rstd,
                         long rows, long d, float eps) {
    ln_job_f32 job = {x, gamma, beta, y, mean, rstd, d, eps};
    nabla_parallel_for(rows, rows_per_task(d), 1, ln_forward_f32_dispatch, &job);
}

void nabla_layernorm_f64(const double *x, const double *gamma, const double *beta, double *y, double *mean,
                         double *rstd, long rows, long d, double eps) {
    ln_job_f64 job = {x, gamma, beta, y, mean, rstd, d, eps};
    nabla_parallel_for(rows, rows_per_task(d), 1, ln_forward_f64, &job);
}

// The backward pass splits rows between threads; each chunk sums its dgamma/dbeta into its own
// slice of a scratch buffer, added up at the end (no atomics, a fixed summation order).
typedef struct {
    const float *x, *gamma, *mean, *rstd, *dy;
    float *dx, *partial;
    long rows, d, chunks;
    int has_gamma_grad, has_beta_grad;
} ln_backward_job;

#define LN_BACKWARD_BODY(ctx, begin, end)                                                              \
    const ln_backward_job *j = (const ln_backward_job *)ctx;                                           \
    for (long ch = begin; ch < end; ch++) {                                                            \
        long r0 = j->rows * ch / j->chunks, r1 = j->rows * (ch + 1) / j->chunks;                       \
        float *dg = j->has_gamma_grad ? j->partial + ch * 2 * j->d : NULL;                             \
        float *db = j->has_beta_grad ? j->partial + ch * 2 * j->d + j->d : NULL;                       \
        ln_backward_rows_f32(j->x, j->gamma, j->mean, j->rstd, j->dy, j->dx, dg, db, r0, r1, j->d);  \
    }

NABLA_VARIANTS(ln_backward_chunks, (void *ctx, long begin, long end), (ctx, begin, end), LN_BACKWARD_BODY(ctx, begin, end);)

void nabla_layernorm_backward_f32(const float *x, const float *gamma, const float *mean, const float *rstd,
                                  const float *dy, float *dx, float *dgamma, float *dbeta, long rows, long d) {
    long chunks = rows * d >= 32768 ? nabla_thread_count() : 1;
    if (chunks > rows) chunks = rows > 0 ? rows : 1;
    float *partial = (float *)calloc((size_t)(chunks * 2 * d), sizeof(float));
    ln_backward_job job = {x, gamma, mean, rstd, dy, dx, partial, rows, d, chunks, dgamma != NULL, dbeta != NULL};
    nabla_parallel_for(chunks, 1, 1, ln_backward_chunks_dispatch, &job);
    for (long ch = 0; ch < chunks; ch++)
        for (long c = 0; c < d; c++) {
            if (dgamma) dgamma[c] += partial[ch * 2 * d + c];
            if (dbeta) dbeta[c] += partial[ch * 2 * d + d + c];
        }
    free(partial);
}

void nabla_layernorm_backward_f64(const double *x, const double *gamma, const double *mean, const double *rstd,
                                  const double *dy, double *dx, double *dgamma, double *dbeta, long rows, long d) {
    ln_backward_rows_f64(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, 0, rows, d);
}

void nabla_attention_f32(const float *qkv, float *y, float *lse, long b, long t, long h, long hd, int causal, float scale) {
    attn_job_f32 job = {qkv, NULL, NULL, y, lse, NULL, t, h, hd, causal, scale};
    nabla_parallel_for(b * h, 1, 1, attn_forward_f32_dispatch, &job);
}

void nabla_attention_f64(const double *qkv, double *y, double *lse, long b, long t, long h, long hd, int causal, double scale) {
    attn_job_f64 job = {qkv, NULL, NULL, y, lse, NULL, t, h, hd, causal, scale};
    nabla_parallel_for(b * h, 1, 1, attn_forward_f64, &job);
}

void nabla_attention_backward_f32(const float *qkv, const float *y, const float *lse, const float *dy, float *dqkv,
                                  long b, long t, long h, long hd, int causal, float scale) {
    attn_job_f32 job = {qkv, y, dy, NULL, (float *)lse, dqkv, t, h, hd, causal, scale};
    nabla_parallel_for(b * h, 1, 1, attn_backward_f32_dispatch, &job);
}

void nabla_attention_backward_f64(const double *qkv, const double *y, const double *lse, const double *dy, double *dqkv,
                                  long b, long t, long h, long hd, int causal, double scale) {
    attn_job_f64 job = {qkv, y, dy, NULL, (double *)lse, dqkv, t, h, hd, causal, scale};
    nabla_parallel_for(b * h, 1, 1, attn_backward_f64, &job);
}
