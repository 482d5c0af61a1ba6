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

NABLA_THREADED_UNARY(nabla_gelu_f32, gelu, 1L << 15)
NABLA_THREADED_BINARY(nabla_gelu_backward_f32, gelu_backward, 1L << 15)

// MARK: The float32 kernels (float64 is composed from primitive ops in Swift: the reference)

// Layer normalisation and fused causal attention.
/// Dot product with eight independent partial sums, so that the compiler vectorises it without
/// reassociating floating-point additions.
ALWAYS_INLINE float dot_f32(const float *restrict a, const float *restrict b, long n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    long i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) acc[l] += a[i + l] * b[i + l];
    float s = 0;
    for (; i < n; i++) s += a[i] * b[i];
    for (int l = 0; l < 8; l++) s += acc[l];
    return s;
}

ALWAYS_INLINE float sum_f32(const float *restrict a, long n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    long i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) acc[l] += a[i + l];
    float s = 0;
    for (; i < n; i++) s += a[i];
    for (int l = 0; l < 8; l++) s += acc[l];
    return s;
}

ALWAYS_INLINE void axpy_f32(float alpha, const float *restrict x, float *restrict y, long n) {
    for (long i = 0; i < n; i++) y[i] += alpha * x[i];
}

// MARK: Layer normalisation over the last axis

typedef struct {
    const float *x, *gamma, *beta;
    float *y, *mean, *rstd;
    long d;
    float eps;
} ln_job_f32;

ALWAYS_INLINE void ln_forward_body_f32(void *ctx, long begin, long end) {
    const ln_job_f32 *j = (const ln_job_f32 *)ctx;
    const long d = j->d;
    for (long r = begin; r < end; r++) {
        const float *restrict x = j->x + r * d;
        float *restrict y = j->y + r * d;
        float m = sum_f32(x, d) / (float)d;
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, var = 0;
        long c = 0;
        for (; c + 8 <= d; c += 8)
            for (int l = 0; l < 8; l++) { float e = x[c + l] - m; acc[l] += e * e; }
        for (; c < d; c++) var += (x[c] - m) * (x[c] - m);
        for (int l = 0; l < 8; l++) var += acc[l];
        float rs = (float)1 / sqrtf(var / (float)d + j->eps);
        j->mean[r] = m;
        j->rstd[r] = rs;
        if (j->gamma && j->beta) {
            for (c = 0; c < d; c++) y[c] = (x[c] - m) * rs * j->gamma[c] + j->beta[c];
        } else if (j->gamma) {
            for (c = 0; c < d; c++) y[c] = (x[c] - m) * rs * j->gamma[c];
        } else {
            for (c = 0; c < d; c++) y[c] = (x[c] - m) * rs;
        }
    }
}

/// dx for rows [begin, end) and, when dgamma/dbeta are given, their sums over those rows added in.
/// One row's gradient, gamma given or not (`scaled` selects at compile time, so that each loop is a
/// plain vectorisable one): the row's two sums, then dx, dgamma and dbeta in a single pass.
#define LN_BACKWARD_ROW(GD)                                                                  \
    {                                                                                        \
        /* sixteen partial sums, so that the compiler may vectorise the reductions */      \
        float pa[16] = {0}, pb[16] = {0}, sa = 0, sb = 0;                                    \
        long c0 = 0;                                                                         \
        for (; c0 + 16 <= d; c0 += 16)                                                       \
            for (int l = 0; l < 16; l++) {                                                   \
                long c = c0 + l;                                                             \
                float gd = GD;                                                               \
                pa[l] += gd;                                                                 \
                pb[l] += gd * (xr[c] - m);                                                   \
            }                                                                                \
        for (long c = c0; c < d; c++) {                                                      \
            float gd = GD;                                                                   \
            sa += gd;                                                                        \
            sb += gd * (xr[c] - m);                                                          \
        }                                                                                    \
        for (int l = 0; l < 16; l++) { sa += pa[l]; sb += pb[l]; }                           \
        sa /= (float)d;                                                                      \
        sb *= rs / (float)d;                                                                 \
        for (long c = 0; c < d; c++) {                                                       \
            float xh = (xr[c] - m) * rs, gd = GD;                                            \
            out[c] = rs * (gd - sa - xh * sb);                                               \
        }                                                                                    \
        if (dgamma) for (long c = 0; c < d; c++) dgamma[c] += g[c] * ((xr[c] - m) * rs);     \
        if (dbeta) for (long c = 0; c < d; c++) dbeta[c] += g[c];                            \
    }

ALWAYS_INLINE void ln_backward_rows_f32(const float *restrict x, const float *restrict gamma, const float *restrict mean,
                                  const float *restrict rstd, const float *restrict dy, float *restrict dx,
                                  float *restrict dgamma, float *restrict dbeta, long begin, long end, long d) {
    for (long r = begin; r < end; r++) {
        const float *restrict xr = x + r * d, *restrict g = dy + r * d;
        float *restrict out = dx + r * d;
        const float m = mean[r], rs = rstd[r];
        if (gamma) LN_BACKWARD_ROW(g[c] * gamma[c])
        else LN_BACKWARD_ROW(g[c])
    }
}

// MARK: Fused multi-head attention over packed projections
//
// qkv is [B, T, 3, H, hd] (one Dense layer's output: queries, then keys, then values, each split
// into heads); out is [B, T, H, hd]. Each task is one (batch, head) pair. The forward pass keeps
// only the log-sum-exp of each query's scores [B, H, T]; the backward pass recomputes the
// probabilities from it instead of storing the [B, H, T, T] matrix (FlashAttention's trade).

typedef struct {
    const float *qkv, *out, *dout;
    float *y, *lse, *dqkv;
    long t, h, hd;
    int causal;
    float scale;
} attn_job_f32;

/// Queries are taken in blocks of this many rows (a multiple of the GEMM tile's 6), so that a causal
/// block scores only the keys up to its last query.
#define NABLA_QUERY_BLOCK 48

/// Turns scores s [rows][n] (query i0 + i in row i, row stride ld) into exp(s·scale − shift_i) with
/// the future masked to 0 when causal; with `lse` == NULL, shift_i is the row maximum and each row is
/// then normalised, and the row's log-sum-exp is written to lse_out.
ALWAYS_INLINE void softmax_rows_f32(float *restrict s, long ld, long rows, long n, long i0, int causal, float scale,
                              const float *restrict lse, float *restrict lse_out) {
    for (long i = 0; i < rows; i++) {
        float *restrict row = s + i * ld;
        const long valid = causal && i0 + i + 1 < n ? i0 + i + 1 : n;
        float shift;
        if (lse) {
            shift = lse[i];
        } else {
            shift = row[0] * scale;
            for (long k = 1; k < valid; k++) shift = row[k] * scale > shift ? row[k] * scale : shift;
        }
        for (long k = 0; k < valid; k++) row[k] = nabla_expf(row[k] * scale - shift);
        for (long k = valid; k < n; k++) row[k] = 0;
        if (!lse) {
            float l = sum_f32(row, valid), inv = (float)1 / l;
            for (long k = 0; k < valid; k++) row[k] *= inv;
            lse_out[i] = shift + logf(l);
        }
    }
}

ALWAYS_INLINE void attn_forward_body_f32(void *ctx, long begin, long end) {
    const attn_job_f32 *j = (const attn_job_f32 *)ctx;
    const long t = j->t, hd = j->hd, d = j->h * hd, row = 3 * d;
    float *restrict s = (float *)malloc((size_t)(NABLA_QUERY_BLOCK * t) * sizeof(float));
    for (long r = begin; r < end; r++) {
        const long bi = r / j->h, hi = r % j->h;
        const float *q = j->qkv + bi * t * row + hi * hd, *k = q + d, *v = q + 2 * d;
        for (long i0 = 0; i0 < t; i0 += NABLA_QUERY_BLOCK) {
            const long rows = t - i0 < NABLA_QUERY_BLOCK ? t - i0 : NABLA_QUERY_BLOCK;
            const long n = j->causal ? i0 + rows : t;
            nabla_sgemm_serial(0, 1, rows, n, hd, 1, q + i0 * row, row, k, row, 0, s, n);                  // Q·Kᵀ
            softmax_rows_f32(s, n, rows, n, i0, j->causal, j->scale, NULL, j->lse + r * t + i0);
            nabla_sgemm_serial(0, 0, rows, hd, n, 1, s, n, v, row, 0, j->y + (bi * t + i0) * d + hi * hd, d);   // P·V
        }
    }
    free(s);
}

ALWAYS_INLINE void attn_backward_body_f32(void *ctx, long begin, long end) {
    const attn_job_f32 *j = (const attn_job_f32 *)ctx;
    const long t = j->t, hd = j->hd, d = j->h * hd, row = 3 * d;
    float *restrict p = (float *)malloc((size_t)(2 * NABLA_QUERY_BLOCK * t) * sizeof(float));
    float *restrict dp = p + NABLA_QUERY_BLOCK * t;
    for (long r = begin; r < end; r++) {
        const long bi = r / j->h, hi = r % j->h;
        const float *q = j->qkv + bi * t * row + hi * hd, *k = q + d, *v = q + 2 * d;
        float *dq = j->dqkv + bi * t * row + hi * hd, *dk = dq + d, *dv = dq + 2 * d;
        const float *dout = j->dout + bi * t * d + hi * hd, *out = j->out + bi * t * d + hi * hd;
        for (long i = 0; i < t; i++)   // this head's slice of dqkv (the tasks own disjoint slices)
            for (long part = 0; part < 3; part++) memset(dq + i * row + part * d, 0, (size_t)hd * sizeof(float));
        for (long i0 = 0; i0 < t; i0 += NABLA_QUERY_BLOCK) {
            const long rows = t - i0 < NABLA_QUERY_BLOCK ? t - i0 : NABLA_QUERY_BLOCK;
            const long n = j->causal ? i0 + rows : t;
            nabla_sgemm_serial(0, 1, rows, n, hd, 1, q + i0 * row, row, k, row, 0, p, n);                 // S = Q·Kᵀ
            softmax_rows_f32(p, n, rows, n, i0, j->causal, j->scale, j->lse + r * t + i0, NULL);
            nabla_sgemm_serial(0, 1, rows, n, hd, 1, dout + i0 * d, d, v, row, 0, dp, n);                 // dP = dO·Vᵀ
            for (long i = 0; i < rows; i++) {
                const float delta = dot_f32(dout + (i0 + i) * d, out + (i0 + i) * d, hd);
                float *restrict pr = p + i * n, *restrict dr = dp + i * n;
                for (long c = 0; c < n; c++) dr[c] = pr[c] * (dr[c] - delta) * j->scale;  // dS
            }
            nabla_sgemm_serial(1, 0, n, hd, rows, 1, p, n, dout + i0 * d, d, 1, dv, row);                 // dV += Pᵀ·dO
            nabla_sgemm_serial(0, 0, rows, hd, n, 1, dp, n, k, row, 0, dq + i0 * row, row);               // dQ = dS·K
            nabla_sgemm_serial(1, 0, n, hd, rows, 1, dp, n, q + i0 * row, row, 1, dk, row);               // dK += dSᵀ·Q
        }
    }
    free(p);
}


// Range functions for the thread pool (float32: baseline and AVX2 twins).
NABLA_VARIANTS(ln_forward_f32, (void *ctx, long begin, long end), (ctx, begin, end), ln_forward_body_f32(ctx, begin, end);)
NABLA_VARIANTS(attn_forward_f32, (void *ctx, long begin, long end), (ctx, begin, end), attn_forward_body_f32(ctx, begin, end);)
NABLA_VARIANTS(attn_backward_f32, (void *ctx, long begin, long end), (ctx, begin, end), attn_backward_body_f32(ctx, begin, end);)

static long rows_per_task(long d) { long g = 16384 / (d > 0 ? d : 1); return g < 1 ? 1 : g; }

void nabla_layernorm_f32(const float *x, const float *gamma, const float *beta, float *y, float *mean, float *rstd,
                         long rows, long d, float eps) {
    ln_job_f32 job = {x, gamma, beta, y, mean, rstd, d, eps};
    nabla_parallel_for(rows, rows_per_task(d), 1, ln_forward_f32_dispatch, &job);
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

void nabla_attention_f32(const float *qkv, float *y, float *lse, long b, long t, long h, long hd, int causal, float scale) {
    attn_job_f32 job = {qkv, NULL, NULL, y, lse, NULL, t, h, hd, causal, scale};
    nabla_parallel_for(b * h, 1, 1, attn_forward_f32_dispatch, &job);
}

void nabla_attention_backward_f32(const float *qkv, const float *y, const float *lse, const float *dy, float *dqkv,
                                  long b, long t, long h, long hd, int causal, float scale) {
    attn_job_f32 job = {qkv, y, dy, NULL, (float *)lse, dqkv, t, h, hd, causal, scale};
    nabla_parallel_for(b * h, 1, 1, attn_backward_f32_dispatch, &job);
}
