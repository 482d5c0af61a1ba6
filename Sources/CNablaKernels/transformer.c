// Kernels of the Transformer's hot path: exact GELU with a vectorisable erf, layer normalisation
// and fused multi-head attention. Each is compiled for the baseline and for AVX2+FMA.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "CNablaKernels.h"
#include "variants.h"
#include "gemm_internal.h"

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

#if defined(__x86_64__)
#include <immintrin.h>
// The same formulas with intrinsics: a reciprocal estimate refined by one Newton step replaces the
// division (which the compiler must keep exact), halving the cost of GELU in a Transformer step.

/// Φ's tail P(X > |x|) and e^(−x²/2) for 8 floats.
__attribute__((target("avx2,fma"), always_inline)) static inline __m256 gelu_tail8(__m256 x, __m256 *gauss) {
    const __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
    __m256 a = _mm256_mul_ps(_mm256_andnot_ps(sign, x), _mm256_set1_ps(0.70710678118654752f));
    __m256 d = _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), a, one);
    __m256 t = _mm256_rcp_ps(d);
    t = _mm256_mul_ps(t, _mm256_fnmadd_ps(d, t, _mm256_set1_ps(2.0f)));
    __m256 poly = _mm256_fmadd_ps(t, _mm256_set1_ps(1.061405429f), _mm256_set1_ps(-1.453152027f));
    poly = _mm256_fmadd_ps(t, poly, _mm256_set1_ps(1.421413741f));
    poly = _mm256_fmadd_ps(t, poly, _mm256_set1_ps(-0.284496736f));
    poly = _mm256_fmadd_ps(t, poly, _mm256_set1_ps(0.254829592f));
    poly = _mm256_mul_ps(t, poly);
    // e^(−a²), Cephes' expf as in nabla_expf.
    __m256 z = _mm256_max_ps(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(a, a)), _mm256_set1_ps(-87.0f));
    __m256 k = _mm256_round_ps(_mm256_mul_ps(z, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), z);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(1.9875691500e-4f), r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    __m256 ex = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), one);
    __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
    __m256 e = _mm256_mul_ps(ex, _mm256_castsi256_ps(bits));
    *gauss = e;
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), poly), e);
}

/// Φ(x) from its tail: 1 − tail for x ≥ 0, tail below.
__attribute__((target("avx2,fma"), always_inline)) static inline __m256 gelu_cdf8(__m256 x, __m256 tail) {
    __m256 upper = _mm256_sub_ps(_mm256_set1_ps(1.0f), tail);
    return _mm256_blendv_ps(upper, tail, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
}

__attribute__((target("avx2,fma"))) static void gelu_avx2(const float *restrict x, float *restrict y, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i), e;
        __m256 cdf = gelu_cdf8(v, gelu_tail8(v, &e));
        _mm256_storeu_ps(y + i, _mm256_mul_ps(v, cdf));
    }
    gelu_body(x + i, y + i, n - i);
}

__attribute__((target("avx2,fma"))) static void gelu_backward_avx2(const float *restrict x, const float *restrict g, float *restrict dx, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i), e;
        __m256 cdf = gelu_cdf8(v, gelu_tail8(v, &e));
        __m256 slope = _mm256_fmadd_ps(_mm256_mul_ps(v, _mm256_set1_ps(0.39894228040143268f)), e, cdf);
        _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_loadu_ps(g + i), slope));
    }
    gelu_backward_body(x + i, g + i, dx + i, n - i);
}
#endif

static void gelu_base(const float *restrict x, float *restrict y, long n) { gelu_body(x, y, n); }
static void gelu_backward_base(const float *restrict x, const float *restrict g, float *restrict dx, long n) {
    gelu_backward_body(x, g, dx, n);
}

void nabla_gelu_f32(const float *x, float *y, long n) {
#if defined(__x86_64__)
    if (nabla_cpu_has_avx2_fma()) { gelu_avx2(x, y, n); return; }
#endif
    gelu_base(x, y, n);
}

void nabla_gelu_backward_f32(const float *x, const float *g, float *dx, long n) {
#if defined(__x86_64__)
    if (nabla_cpu_has_avx2_fma()) { gelu_backward_avx2(x, g, dx, n); return; }
#endif
    gelu_backward_base(x, g, dx, n);
}

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

// Range functions for the thread pool, each with an AVX2 twin for float32.
#if defined(__x86_64__)
#define NABLA_RANGE_F32(name, body)                                                                    \
    static void name##_base(void *ctx, long b, long e) { body(ctx, b, e); }                              \
    __attribute__((target("avx2,fma"))) static void name##_avx2(void *ctx, long b, long e) { body(ctx, b, e); } \
    static nabla_range_fn name##_pick(void) { return nabla_cpu_has_avx2_fma() ? name##_avx2 : name##_base; }
#else
#define NABLA_RANGE_F32(name, body)                                                                    \
    static void name##_base(void *ctx, long b, long e) { body(ctx, b, e); }                              \
    static nabla_range_fn name##_pick(void) { return name##_base; }
#endif

NABLA_RANGE_F32(ln_forward_f32, ln_forward_body_f32)
NABLA_RANGE_F32(attn_forward_f32, attn_forward_body_f32)
NABLA_RANGE_F32(attn_backward_f32, attn_backward_body_f32)
static void ln_forward_f64(void *ctx, long b, long e) { ln_forward_body_f64(ctx, b, e); }
static void attn_forward_f64(void *ctx, long b, long e) { attn_forward_body_f64(ctx, b, e); }
static void attn_backward_f64(void *ctx, long b, long e) { attn_backward_body_f64(ctx, b, e); }

static long rows_per_task(long d) { long g = 16384 / (d > 0 ? d : 1); return g < 1 ? 1 : g; }

void nabla_layernorm_f32(const float *x, const float *gamma, const float *beta, float *y, float *mean, float *rstd,
                         long rows, long d, float eps) {
    ln_job_f32 job = {x, gamma, beta, y, mean, rstd, d, eps};
    nabla_parallel_for(rows, rows_per_task(d), 1, ln_forward_f32_pick(), &job);
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

static void ln_backward_chunks_base(void *ctx, long begin, long end) { LN_BACKWARD_BODY(ctx, begin, end) }
#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void ln_backward_chunks_avx2(void *ctx, long begin, long end) { LN_BACKWARD_BODY(ctx, begin, end) }
#endif

void nabla_layernorm_backward_f32(const float *x, const float *gamma, const float *mean, const float *rstd,
                                  const float *dy, float *dx, float *dgamma, float *dbeta, long rows, long d) {
    long chunks = rows * d >= 32768 ? nabla_thread_count() : 1;
    if (chunks > rows) chunks = rows > 0 ? rows : 1;
    float *partial = (float *)calloc((size_t)(chunks * 2 * d), sizeof(float));
    ln_backward_job job = {x, gamma, mean, rstd, dy, dx, partial, rows, d, chunks, dgamma != NULL, dbeta != NULL};
    nabla_range_fn fn = ln_backward_chunks_base;
#if defined(__x86_64__)
    if (nabla_cpu_has_avx2_fma()) fn = ln_backward_chunks_avx2;
#endif
    nabla_parallel_for(chunks, 1, 1, fn, &job);
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
    nabla_parallel_for(b * h, 1, 1, attn_forward_f32_pick(), &job);
}

void nabla_attention_f64(const double *qkv, double *y, double *lse, long b, long t, long h, long hd, int causal, double scale) {
    attn_job_f64 job = {qkv, NULL, NULL, y, lse, NULL, t, h, hd, causal, scale};
    nabla_parallel_for(b * h, 1, 1, attn_forward_f64, &job);
}

void nabla_attention_backward_f32(const float *qkv, const float *y, const float *lse, const float *dy, float *dqkv,
                                  long b, long t, long h, long hd, int causal, float scale) {
    attn_job_f32 job = {qkv, y, dy, NULL, (float *)lse, dqkv, t, h, hd, causal, scale};
    nabla_parallel_for(b * h, 1, 1, attn_backward_f32_pick(), &job);
}

void nabla_attention_backward_f64(const double *qkv, const double *y, const double *lse, const double *dy, double *dqkv,
                                  long b, long t, long h, long hd, int causal, double scale) {
    attn_job_f64 job = {qkv, y, dy, NULL, (double *)lse, dqkv, t, h, hd, causal, scale};
    nabla_parallel_for(b * h, 1, 1, attn_backward_f64, &job);
}
