// The Transformer kernels' float32 paths on the machine that runs this (under qemu: arm64, where
// the baseline C is compiled for NEON) against naive float64 definitions and libm: fused attention
// and its gradient, layer norm and its gradient, GELU and its gradient, cross-entropy.
#include "CNablaKernels.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static double worst_diff(const float *a, const double *b, long n) {
    double w = 0;
    for (long i = 0; i < n; i++) { double e = fabs(a[i] - b[i]); if (e > w) w = e; }
    return w;
}

static double value(long i) { return sin(0.37 * i + 0.1) * 1.7; }

/// Naive float64 attention over qkv [b, t, 3, h, hd] and its gradient, straight from the definition.
static void attention_reference(const double *qkv, const double *dy, double *y, double *dqkv, long b, long t, long h, long hd,
                                int causal, double scale) {
    long row = 3 * h * hd;
    double *p = malloc(8 * t), *dp = malloc(8 * t);
    for (long i = 0; i < b * t * row; i++) dqkv[i] = 0;
    for (long bi = 0; bi < b; bi++)
        for (long hh = 0; hh < h; hh++)
            for (long i = 0; i < t; i++) {
                const double *q = qkv + (bi * t + i) * row + hh * hd;
                long last = causal ? i : t - 1;
                double m = -INFINITY, s = 0;
                for (long j = 0; j <= last; j++) {
                    const double *k = qkv + (bi * t + j) * row + h * hd + hh * hd;
                    double dot = 0;
                    for (long c = 0; c < hd; c++) dot += q[c] * k[c];
                    p[j] = dot * scale;
                    m = fmax(m, p[j]);
                }
                for (long j = 0; j <= last; j++) s += (p[j] = exp(p[j] - m));
                const double *g = dy + ((bi * t + i) * h + hh) * hd;
                double *out = y + ((bi * t + i) * h + hh) * hd, pdp = 0;
                for (long c = 0; c < hd; c++) out[c] = 0;
                for (long j = 0; j <= last; j++) {
                    p[j] /= s;
                    const double *v = qkv + (bi * t + j) * row + 2 * h * hd + hh * hd;
                    double *dv = dqkv + (bi * t + j) * row + 2 * h * hd + hh * hd;
                    dp[j] = 0;
                    for (long c = 0; c < hd; c++) out[c] += p[j] * v[c], dv[c] += p[j] * g[c], dp[j] += g[c] * v[c];
                    pdp += p[j] * dp[j];
                }
                double *dq = dqkv + (bi * t + i) * row + hh * hd;
                for (long j = 0; j <= last; j++) {
                    double ds = p[j] * (dp[j] - pdp) * scale;
                    const double *k = qkv + (bi * t + j) * row + h * hd + hh * hd;
                    double *dk = dqkv + (bi * t + j) * row + h * hd + hh * hd;
                    for (long c = 0; c < hd; c++) dq[c] += ds * k[c], dk[c] += ds * q[c];
                }
            }
    free(p);
    free(dp);
}

/// Naive float64 layer norm of rows of width w and its gradient (dgamma, dbeta summed over rows).
static void layernorm_reference(const double *x, const double *gm, const double *bt, const double *dy, double *y, double *dx,
                                double *dg, double *db, long rows, long w) {
    for (long c = 0; c < w; c++) dg[c] = db[c] = 0;
    for (long r = 0; r < rows; r++) {
        const double *xr = x + r * w, *gr = dy + r * w;
        double m = 0, v = 0, a = 0, bsum = 0;
        for (long c = 0; c < w; c++) m += xr[c];
        m /= w;
        for (long c = 0; c < w; c++) v += (xr[c] - m) * (xr[c] - m);
        double rstd = 1 / sqrt(v / w + 1e-5);
        for (long c = 0; c < w; c++) {
            double xh = (xr[c] - m) * rstd, g = gr[c] * gm[c];
            y[r * w + c] = xh * gm[c] + bt[c];
            dg[c] += gr[c] * xh;
            db[c] += gr[c];
            a += g;
            bsum += g * xh;
        }
        for (long c = 0; c < w; c++) {
            double xh = (xr[c] - m) * rstd;
            dx[r * w + c] = rstd * (gr[c] * gm[c] - a / w - xh * bsum / w);
        }
    }
}

int main(void) {
    int fails = 0;
    // Attention: b = 2, t = 37, h = 4, hd = 32, causal and full.
    long b = 2, t = 37, h = 4, hd = 32, d = h * hd, nq = b * t * 3 * d, no = b * t * d;
    float *q32 = malloc(4 * nq), *y32 = malloc(4 * no), *l32 = malloc(4 * b * h * t), *g32 = malloc(4 * no), *dq32 = malloc(4 * nq);
    double *q64 = malloc(8 * nq), *y64 = malloc(8 * no), *g64 = malloc(8 * no), *dq64 = malloc(8 * nq);
    for (long i = 0; i < nq; i++) q64[i] = value(i), q32[i] = (float)q64[i];
    for (long i = 0; i < no; i++) g64[i] = value(3 * i + 1), g32[i] = (float)g64[i];
    for (int causal = 0; causal < 2; causal++) {
        double scale = 1 / sqrt((double)hd);
        nabla_attention_f32(q32, y32, l32, b, t, h, hd, causal, (float)scale);
        nabla_attention_backward_f32(q32, y32, l32, g32, dq32, b, t, h, hd, causal, (float)scale);
        attention_reference(q64, g64, y64, dq64, b, t, h, hd, causal, scale);
        double ey = worst_diff(y32, y64, no), eg = worst_diff(dq32, dq64, nq);
        if (ey > 1e-4 || eg > 1e-3) { fails++; printf("FAIL attention causal=%d: value %g, gradient %g\n", causal, ey, eg); }
    }
    // Layer norm over rows of 130 (a tail after the eight-wide blocks), 300 rows (threaded backward).
    long rows = 300, w = 130, n = rows * w;
    float *x32 = malloc(4 * n), *o32 = malloc(4 * n), *dx32 = malloc(4 * n), *gm32 = malloc(4 * w), *bt32 = malloc(4 * w);
    float *m32 = malloc(4 * rows), *r32 = malloc(4 * rows), *dg32 = calloc(w, 4), *db32 = calloc(w, 4), *dy32 = malloc(4 * n);
    double *x64 = malloc(8 * n), *o64 = malloc(8 * n), *dx64 = malloc(8 * n), *gm64 = malloc(8 * w), *bt64 = malloc(8 * w);
    double *dg64 = malloc(8 * w), *db64 = malloc(8 * w), *dy64 = malloc(8 * n);
    for (long i = 0; i < n; i++) x64[i] = 2 * value(i) + 0.5, x32[i] = (float)x64[i], dy64[i] = value(5 * i), dy32[i] = (float)dy64[i];
    for (long i = 0; i < w; i++) gm64[i] = 1 + 0.3 * value(i), gm32[i] = (float)gm64[i], bt64[i] = value(7 * i), bt32[i] = (float)bt64[i];
    nabla_layernorm_f32(x32, gm32, bt32, o32, m32, r32, rows, w, 1e-5f);
    nabla_layernorm_backward_f32(x32, gm32, m32, r32, dy32, dx32, dg32, db32, rows, w);
    layernorm_reference(x64, gm64, bt64, dy64, o64, dx64, dg64, db64, rows, w);
    double el = worst_diff(o32, o64, n), ed = worst_diff(dx32, dx64, n), egb = fmax(worst_diff(dg32, dg64, w), worst_diff(db32, db64, w));
    if (el > 1e-5 || ed > 1e-4 || egb > 1e-3) { fails++; printf("FAIL layer norm: value %g, dx %g, dgamma/dbeta %g\n", el, ed, egb); }
    // GELU against x·Φ(x) from libm's erf, from −10 to 10.
    long ng = 2001;
    float *gx = malloc(4 * ng), *gy = malloc(4 * ng), *gd = malloc(4 * ng), *ones = malloc(4 * ng);
    double eg1 = 0, eg2 = 0;
    for (long i = 0; i < ng; i++) gx[i] = (float)(-10 + 0.01 * i), ones[i] = 1;
    nabla_gelu_f32(gx, gy, ng);
    nabla_gelu_backward_f32(gx, ones, gd, ng);
    for (long i = 0; i < ng; i++) {
        double v = gx[i], cdf = 0.5 * (1 + erf(v / sqrt(2.0))), pdf = exp(-0.5 * v * v) / sqrt(2 * M_PI);
        eg1 = fmax(eg1, fabs(gy[i] - v * cdf));
        eg2 = fmax(eg2, fabs(gd[i] - (cdf + v * pdf)));
    }
    if (eg1 > 2e-6 || eg2 > 2e-6) { fails++; printf("FAIL gelu: value %g, gradient %g\n", eg1, eg2); }
    // Cross-entropy of 50 rows of 40 classes, every seventh row ignored.
    long nr = 50, nc = 40;
    float *z = malloc(4 * nr * nc), *loss = malloc(4 * nr), *lse = malloc(4 * nr);
    int32_t *lab = malloc(4 * nr);
    for (long i = 0; i < nr * nc; i++) z[i] = (float)(3 * value(i));
    for (long i = 0; i < nr; i++) lab[i] = i % 7 == 3 ? -1 : (int32_t)((i * 13) % nc);
    nabla_cross_entropy_f32(z, lab, loss, lse, nr, nc, 1, -1);
    double ec = 0;
    for (long i = 0; i < nr; i++) {
        double m = -INFINITY, s = 0;
        for (long j = 0; j < nc; j++) m = fmax(m, z[i * nc + j]);
        for (long j = 0; j < nc; j++) s += exp(z[i * nc + j] - m);
        double expected = lab[i] < 0 ? 0 : m + log(s) - z[i * nc + lab[i]];
        ec = fmax(ec, fabs(loss[i] - expected));
    }
    if (ec > 1e-5) { fails++; printf("FAIL cross-entropy: %g\n", ec); }
    printf("transformer kernels: %d failures\n", fails);
    return fails != 0;
}
