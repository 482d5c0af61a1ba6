// The Transformer kernels' float32 paths on the machine that runs this (under qemu: arm64, where
// the baseline C is compiled for NEON) against their float64 twins and libm: fused attention and
// its gradient, layer norm and its gradient, GELU and its gradient, cross-entropy.
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

int main(void) {
    int fails = 0;
    // Attention: b = 2, t = 37, h = 4, hd = 32, causal and full.
    long b = 2, t = 37, h = 4, hd = 32, d = h * hd, nq = b * t * 3 * d, no = b * t * d;
    float *q32 = malloc(4 * nq), *y32 = malloc(4 * no), *l32 = malloc(4 * b * h * t), *g32 = malloc(4 * no), *dq32 = malloc(4 * nq);
    double *q64 = malloc(8 * nq), *y64 = malloc(8 * no), *l64 = malloc(8 * b * h * t), *g64 = malloc(8 * no), *dq64 = malloc(8 * nq);
    for (long i = 0; i < nq; i++) q64[i] = value(i), q32[i] = (float)q64[i];
    for (long i = 0; i < no; i++) g64[i] = value(3 * i + 1), g32[i] = (float)g64[i];
    for (int causal = 0; causal < 2; causal++) {
        double scale = 1 / sqrt((double)hd);
        nabla_attention_f32(q32, y32, l32, b, t, h, hd, causal, (float)scale);
        nabla_attention_f64(q64, y64, l64, b, t, h, hd, causal, scale);
        nabla_attention_backward_f32(q32, y32, l32, g32, dq32, b, t, h, hd, causal, (float)scale);
        nabla_attention_backward_f64(q64, y64, l64, g64, dq64, b, t, h, hd, causal, scale);
        double ey = worst_diff(y32, y64, no), eg = worst_diff(dq32, dq64, nq);
        if (ey > 1e-4 || eg > 1e-3) { fails++; printf("FAIL attention causal=%d: value %g, gradient %g\n", causal, ey, eg); }
    }
    // Layer norm over rows of 130 (a tail after the eight-wide blocks), 300 rows (threaded backward).
    long rows = 300, w = 130, n = rows * w;
    float *x32 = malloc(4 * n), *o32 = malloc(4 * n), *dx32 = malloc(4 * n), *gm32 = malloc(4 * w), *bt32 = malloc(4 * w);
    float *m32 = malloc(4 * rows), *r32 = malloc(4 * rows), *dg32 = calloc(w, 4), *db32 = calloc(w, 4), *dy32 = malloc(4 * n);
    double *x64 = malloc(8 * n), *o64 = malloc(8 * n), *dx64 = malloc(8 * n), *gm64 = malloc(8 * w), *bt64 = malloc(8 * w);
    double *m64 = malloc(8 * rows), *r64 = malloc(8 * rows), *dg64 = calloc(w, 8), *db64 = calloc(w, 8), *dy64 = malloc(8 * n);
    for (long i = 0; i < n; i++) x64[i] = 2 * value(i) + 0.5, x32[i] = (float)x64[i], dy64[i] = value(5 * i), dy32[i] = (float)dy64[i];
    for (long i = 0; i < w; i++) gm64[i] = 1 + 0.3 * value(i), gm32[i] = (float)gm64[i], bt64[i] = value(7 * i), bt32[i] = (float)bt64[i];
    nabla_layernorm_f32(x32, gm32, bt32, o32, m32, r32, rows, w, 1e-5f);
    nabla_layernorm_f64(x64, gm64, bt64, o64, m64, r64, rows, w, 1e-5);
    nabla_layernorm_backward_f32(x32, gm32, m32, r32, dy32, dx32, dg32, db32, rows, w);
    nabla_layernorm_backward_f64(x64, gm64, m64, r64, dy64, dx64, dg64, db64, rows, w);
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
