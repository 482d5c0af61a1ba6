// Layer normalisation and fused causal attention, written once over a scalar type: transformer.c
// includes this file with NT = float and NT = double (the Float64 build serves gradient checks).
// Expects NT, NS(name) (adds the type suffix), NEXP, NLOG, NSQRT and NGEMM (row-major GEMM with
// beta 0 or 1, on the calling thread) to be defined; undefines them at the end.

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

/// Queries are taken in blocks of this many rows (a multiple of the GEMM tile's 6), so that a causal
/// block scores only the keys up to its last query.
#define NABLA_QUERY_BLOCK 48

/// Turns scores s [rows][n] (query i0 + i in row i, row stride ld) into exp(s·scale − shift_i) with
/// the future masked to 0 when causal; with `lse` == NULL, shift_i is the row maximum and each row is
/// then normalised, and the row's log-sum-exp is written to lse_out.
NINLINE void NS(softmax_rows)(NT *restrict s, long ld, long rows, long n, long i0, int causal, NT scale,
                              const NT *restrict lse, NT *restrict lse_out) {
    for (long i = 0; i < rows; i++) {
        NT *restrict row = s + i * ld;
        const long valid = causal && i0 + i + 1 < n ? i0 + i + 1 : n;
        NT shift;
        if (lse) {
            shift = lse[i];
        } else {
            shift = row[0] * scale;
            for (long k = 1; k < valid; k++) shift = row[k] * scale > shift ? row[k] * scale : shift;
        }
        for (long k = 0; k < valid; k++) row[k] = NEXP(row[k] * scale - shift);
        for (long k = valid; k < n; k++) row[k] = 0;
        if (!lse) {
            NT l = NS(sum)(row, valid), inv = (NT)1 / l;
            for (long k = 0; k < valid; k++) row[k] *= inv;
            lse_out[i] = shift + NLOG(l);
        }
    }
}

NINLINE void NS(attn_forward_body)(void *ctx, long begin, long end) {
    const NS(attn_job) *j = (const NS(attn_job) *)ctx;
    const long t = j->t, hd = j->hd, d = j->h * hd, row = 3 * d;
    NT *restrict s = (NT *)malloc((size_t)(NABLA_QUERY_BLOCK * t) * sizeof(NT));
    for (long r = begin; r < end; r++) {
        const long bi = r / j->h, hi = r % j->h;
        const NT *q = j->qkv + bi * t * row + hi * hd, *k = q + d, *v = q + 2 * d;
        for (long i0 = 0; i0 < t; i0 += NABLA_QUERY_BLOCK) {
            const long rows = t - i0 < NABLA_QUERY_BLOCK ? t - i0 : NABLA_QUERY_BLOCK;
            const long n = j->causal ? i0 + rows : t;
            NGEMM(0, 1, rows, n, hd, 1, q + i0 * row, row, k, row, 0, s, n);                  // Q·Kᵀ
            NS(softmax_rows)(s, n, rows, n, i0, j->causal, j->scale, NULL, j->lse + r * t + i0);
            NGEMM(0, 0, rows, hd, n, 1, s, n, v, row, 0, j->y + (bi * t + i0) * d + hi * hd, d);   // P·V
        }
    }
    free(s);
}

NINLINE void NS(attn_backward_body)(void *ctx, long begin, long end) {
    const NS(attn_job) *j = (const NS(attn_job) *)ctx;
    const long t = j->t, hd = j->hd, d = j->h * hd, row = 3 * d;
    NT *restrict p = (NT *)malloc((size_t)(2 * NABLA_QUERY_BLOCK * t) * sizeof(NT));
    NT *restrict dp = p + NABLA_QUERY_BLOCK * t;
    for (long r = begin; r < end; r++) {
        const long bi = r / j->h, hi = r % j->h;
        const NT *q = j->qkv + bi * t * row + hi * hd, *k = q + d, *v = q + 2 * d;
        NT *dq = j->dqkv + bi * t * row + hi * hd, *dk = dq + d, *dv = dq + 2 * d;
        const NT *dout = j->dout + bi * t * d + hi * hd, *out = j->out + bi * t * d + hi * hd;
        for (long i = 0; i < t; i++)   // this head's slice of dqkv (the tasks own disjoint slices)
            for (long part = 0; part < 3; part++) memset(dq + i * row + part * d, 0, (size_t)hd * sizeof(NT));
        for (long i0 = 0; i0 < t; i0 += NABLA_QUERY_BLOCK) {
            const long rows = t - i0 < NABLA_QUERY_BLOCK ? t - i0 : NABLA_QUERY_BLOCK;
            const long n = j->causal ? i0 + rows : t;
            NGEMM(0, 1, rows, n, hd, 1, q + i0 * row, row, k, row, 0, p, n);                 // S = Q·Kᵀ
            NS(softmax_rows)(p, n, rows, n, i0, j->causal, j->scale, j->lse + r * t + i0, NULL);
            NGEMM(0, 1, rows, n, hd, 1, dout + i0 * d, d, v, row, 0, dp, n);                 // dP = dO·Vᵀ
            for (long i = 0; i < rows; i++) {
                const NT delta = NS(dot)(dout + (i0 + i) * d, out + (i0 + i) * d, hd);
                NT *restrict pr = p + i * n, *restrict dr = dp + i * n;
                for (long c = 0; c < n; c++) dr[c] = pr[c] * (dr[c] - delta) * j->scale;  // dS
            }
            NGEMM(1, 0, n, hd, rows, 1, p, n, dout + i0 * d, d, 1, dv, row);                 // dV += Pᵀ·dO
            NGEMM(0, 0, rows, hd, n, 1, dp, n, k, row, 0, dq + i0 * row, row);               // dQ = dS·K
            NGEMM(1, 0, n, hd, rows, 1, dp, n, q + i0 * row, row, 1, dk, row);               // dK += dSᵀ·Q
        }
    }
    free(p);
}

#undef NINLINE
// The including file defines these again for the next type.
#undef NT
#undef NS
#undef NEXP
#undef NLOG
#undef NSQRT
#undef NGEMM
