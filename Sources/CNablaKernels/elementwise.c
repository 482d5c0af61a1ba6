// Hot elementwise loops in C: with restrict pointers the compiler vectorises them (Swift cannot
// prove its pointers do not alias), compiled for the baseline and for AVX2 and chosen at run time.
#include "CNablaKernels.h"
#include "gemm_internal.h"

#define NABLA_VARIANTS(name, params, args, body)                          \
    static void name##_base params { body }                                \
    NABLA_AVX2_VARIANT(name, params, body)                                 \
    static void name##_dispatch params {                                   \
        NABLA_AVX2_CALL(name, args)                                        \
        name##_base args;                                                  \
    }

#if defined(__x86_64__)
#define NABLA_AVX2_VARIANT(name, params, body) __attribute__((target("avx2,fma"))) static void name##_avx2 params { body }
#define NABLA_AVX2_CALL(name, args)                                          \
    static int has = -1;                                                     \
    if (has < 0) has = nabla_cpu_has_avx2_fma();                             \
    if (has) { name##_avx2 args; return; }
#else
#define NABLA_AVX2_VARIANT(name, params, body)
#define NABLA_AVX2_CALL(name, args)
#endif

NABLA_VARIANTS(relu, (const float *restrict x, float *restrict y, long n), (x, y, n),
               for (long i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;)

NABLA_VARIANTS(relu_backward, (const float *restrict x, const float *restrict g, float *restrict dx, long n), (x, g, dx, n),
               for (long i = 0; i < n; i++) dx[i] = x[i] > 0.0f ? g[i] : 0.0f;)

NABLA_VARIANTS(add_into, (float *restrict dst, const float *restrict src, long n), (dst, src, n),
               for (long i = 0; i < n; i++) dst[i] += src[i];)

void nabla_relu_f32(const float *x, float *y, long n) { relu_dispatch(x, y, n); }
void nabla_relu_backward_f32(const float *x, const float *g, float *dx, long n) { relu_backward_dispatch(x, g, dx, n); }
void nabla_add_into_f32(float *dst, const float *src, long n) { add_into_dispatch(dst, src, n); }

typedef struct {
    const float *x; float *y; int32_t *win;
    long n, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
} maxpool_job;

static void maxpool_rows(void *ctx, long begin, long end) {
    const maxpool_job *j = (const maxpool_job *)ctx;
    const long c = j->c;
    for (long r = begin; r < end; r++) {
        long b = r / j->oh, oy = r % j->oh;
        for (long ox = 0; ox < j->ow; ox++) {
            float *restrict y = j->y + ((b * j->oh + oy) * j->ow + ox) * c;
            int32_t *restrict win = j->win + ((b * j->oh + oy) * j->ow + ox) * c;
            int first = 1;
            for (long i = 0; i < j->kh; i++) {
                long iy = oy * j->sh - j->pt + i * j->dh;
                if (iy < 0 || iy >= j->h) continue;
                for (long k = 0; k < j->kw; k++) {
                    long ix = ox * j->sw - j->pl + k * j->dw;
                    if (ix < 0 || ix >= j->w) continue;
                    long base = ((b * j->h + iy) * j->w + ix) * c;
                    const float *restrict src = j->x + base;
                    if (first) {
                        for (long ch = 0; ch < c; ch++) { y[ch] = src[ch]; win[ch] = (int32_t)(base + ch); }
                        first = 0;
                    } else {
                        for (long ch = 0; ch < c; ch++) {
                            int take = src[ch] > y[ch];
                            y[ch] = take ? src[ch] : y[ch];
                            win[ch] = take ? (int32_t)(base + ch) : win[ch];
                        }
                    }
                }
            }
        }
    }
}

void nabla_maxpool2d_f32(const float *x, float *y, int32_t *winners, long n, long h, long w, long c, long oh, long ow,
                         long kh, long kw, long sh, long sw, long dh, long dw, long pt, long pl) {
    maxpool_job job = {x, y, winners, n, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl};
    long per_row = ow * c * kh * kw;
    long grain = per_row > 0 ? 16384 / per_row : 1;
    nabla_parallel_for(n * oh, grain < 1 ? 1 : grain, 1, maxpool_rows, &job);
}
