// Layer normalisation and fused causal attention, written once over a scalar type: transformer.c
// includes this file with NT = float and NT = double (the Float64 build serves gradient checks).
// Expects NT, NS(name) (adds the type suffix), NEXP, NLOG and NSQRT to be defined.

#define NINLINE static inline __attribute__((always_inline))

/// Dot product with eight independent partial sums, so that the compiler vectorises it without
/// reassociating floating-point additions.
NINLINE NT NS(dot)(const NT *restrict a, const NT *restrict b, long n) {
    NT acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    long i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) acc[l] += a[i + l] * b[i + l];
    NT s = 0;
    for (; i < n; i++) s += a[i] * b[i];
    for (int l = 0; l < 8; l++) s += acc[l];
    return s;
}

NINLINE NT NS(sum)(const NT *restrict a, long n) {
    NT acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    long i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) acc[l] += a[i + l];
    NT s = 0;
    for (; i < n; i++) s += a[i];
    for (int l = 0; l < 8; l++) s += acc[l];
    return s;
}

NINLINE void NS(axpy)(NT alpha, const NT *restrict x, NT *restrict y, long n) {
    for (long i = 0; i < n; i++) y[i] += alpha * x[i];
}

// MARK: Layer normalisation over the last axis

typedef struct {
    const NT *x, *gamma, *beta;
    NT *y, *mean, *rstd;
    long d;
    NT eps;
} NS(ln_job);

NINLINE void NS(ln_forward_body)(void *ctx, long begin, long end) {
    const NS(ln_job) *j = (const NS(ln_job) *)ctx;
    const long d = j->d;
    for (long r = begin; r < end; r++) {
        const NT *restrict x = j->x + r * d;
        NT *restrict y = j->y + r * d;
        NT m = NS(sum)(x, d) / (NT)d;
        NT acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, var = 0;
        long c = 0;
        for (; c + 8 <= d; c += 8)
            for (int l = 0; l < 8; l++) { NT e = x[c + l] - m; acc[l] += e * e; }
        for (; c < d; c++) var += (x[c] - m) * (x[c] - m);
        for (int l = 0; l < 8; l++) var += acc[l];
        NT rs = (NT)1 / NSQRT(var / (NT)d + j->eps);
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
NINLINE void NS(ln_backward_rows)(const NT *restrict x, const NT *restrict gamma, const NT *restrict mean,
                                  const NT *restrict rstd, const NT *restrict dy, NT *restrict dx,
                                  NT *restrict dgamma, NT *restrict dbeta, long begin, long end, long d) {
    for (long r = begin; r < end; r++) {
        const NT *restrict xr = x + r * d, *restrict g = dy + r * d;
        NT *restrict out = dx + r * d;
        const NT m = mean[r], rs = rstd[r];
        NT a[8] = {0, 0, 0, 0, 0, 0, 0, 0}, b[8] = {0, 0, 0, 0, 0, 0, 0, 0}, sa = 0, sb = 0;
        long c = 0;
        for (; c + 8 <= d; c += 8)
            for (int l = 0; l < 8; l++) {
                NT gd = g[c + l] * (gamma ? gamma[c + l] : (NT)1);
                a[l] += gd;
                b[l] += gd * (xr[c + l] - m) * rs;
            }
        for (; c < d; c++) {
            NT gd = g[c] * (gamma ? gamma[c] : (NT)1);
            sa += gd;
            sb += gd * (xr[c] - m) * rs;
        }
        for (int l = 0; l < 8; l++) { sa += a[l]; sb += b[l]; }
        sa /= (NT)d;
        sb /= (NT)d;
        for (c = 0; c < d; c++) {
            NT xh = (xr[c] - m) * rs;
            NT gd = g[c] * (gamma ? gamma[c] : (NT)1);
            out[c] = rs * (gd - sa - xh * sb);
        }
        if (dgamma) for (c = 0; c < d; c++) dgamma[c] += g[c] * (xr[c] - m) * rs;
        if (dbeta) for (c = 0; c < d; c++) dbeta[c] += g[c];
    }
}

// MARK: Fused multi-head attention over packed projections
//
// qkv is [B, T, 3, H, hd] (one Dense layer's output: queries, then keys, then values, each split
// into heads); out is [B, T, H, hd]. Each task is one (batch, head) pair. The forward pass keeps
// only the log-sum-exp of each query's scores [B, H, T]; the backward pass recomputes the
// probabilities from it instead of storing the [B, H, T, T] matrix (FlashAttention's trade).

typedef struct {
    const NT *qkv, *out, *dout;
    NT *y, *lse, *dqkv;
    long t, h, hd;
    int causal;
    NT scale;
} NS(attn_job);

NINLINE void NS(attn_forward_body)(void *ctx, long begin, long end) {
    const NS(attn_job) *j = (const NS(attn_job) *)ctx;
    const long t = j->t, hd = j->hd, d = j->h * hd, row = 3 * d;
    NT *restrict s = (NT *)malloc((size_t)t * sizeof(NT));
    for (long r = begin; r < end; r++) {
        const long bi = r / j->h, hi = r % j->h;
        const NT *base = j->qkv + bi * t * row + hi * hd;
        for (long i = 0; i < t; i++) {
            const NT *q = base + i * row;
            const long n = j->causal ? i + 1 : t;
            NT m = -INFINITY;
            for (long k = 0; k < n; k++) {
                NT v = j->scale * NS(dot)(q, base + k * row + d, hd);
                s[k] = v;
                m = v > m ? v : m;
            }
            for (long k = 0; k < n; k++) s[k] = NEXP(s[k] - m);
            NT l = NS(sum)(s, n);
            NT *restrict o = j->y + (bi * t + i) * d + hi * hd;
            for (long c = 0; c < hd; c++) o[c] = 0;
            for (long k = 0; k < n; k++) NS(axpy)(s[k], base + k * row + 2 * d, o, hd);
            NT inv = (NT)1 / l;
            for (long c = 0; c < hd; c++) o[c] *= inv;
            j->lse[r * t + i] = m + NLOG(l);
        }
    }
    free(s);
}

NINLINE void NS(attn_backward_body)(void *ctx, long begin, long end) {
    const NS(attn_job) *j = (const NS(attn_job) *)ctx;
    const long t = j->t, hd = j->hd, d = j->h * hd, row = 3 * d;
    NT *restrict p = (NT *)malloc((size_t)t * sizeof(NT));
    for (long r = begin; r < end; r++) {
        const long bi = r / j->h, hi = r % j->h;
        const NT *base = j->qkv + bi * t * row + hi * hd;
        NT *dbase = j->dqkv + bi * t * row + hi * hd;
        for (long i = 0; i < t; i++) {
            const NT *q = base + i * row;
            NT *dq = dbase + i * row;
            const NT *dout = j->dout + (bi * t + i) * d + hi * hd, *out = j->out + (bi * t + i) * d + hi * hd;
            const long n = j->causal ? i + 1 : t;
            const NT delta = NS(dot)(dout, out, hd), l = j->lse[r * t + i];
            for (long k = 0; k < n; k++) p[k] = j->scale * NS(dot)(q, base + k * row + d, hd) - l;
            for (long k = 0; k < n; k++) p[k] = NEXP(p[k]);
            for (long k = 0; k < n; k++) {
                const NT *key = base + k * row + d, *value = base + k * row + 2 * d;
                NT ds = p[k] * (NS(dot)(dout, value, hd) - delta) * j->scale;
                NS(axpy)(p[k], dout, dbase + k * row + 2 * d, hd);
                NS(axpy)(ds, key, dq, hd);
                NS(axpy)(ds, q, dbase + k * row + d, hd);
            }
        }
    }
    free(p);
}

#undef NINLINE
