// Hot elementwise loops in C: with restrict pointers the compiler vectorises them (Swift cannot
// prove its pointers do not alias), compiled for the baseline and for AVX2 and chosen at run time.
#include <string.h>
#include "CNablaKernels.h"
#include "gemm_internal.h"
#include "variants.h"


NABLA_VARIANTS(relu, (const float *restrict x, float *restrict y, long n), (x, y, n),
               for (long i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;)

NABLA_VARIANTS(relu_backward, (const float *restrict x, const float *restrict g, float *restrict dx, long n), (x, g, dx, n),
               for (long i = 0; i < n; i++) dx[i] = x[i] > 0.0f ? g[i] : 0.0f;)

void nabla_relu_f32(const float *x, float *y, long n) { relu_dispatch(x, y, n); }
void nabla_relu_backward_f32(const float *x, const float *g, float *dx, long n) { relu_backward_dispatch(x, g, dx, n); }

typedef struct {
    const float *x; float *y; int32_t *win;
    long n, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
} maxpool_job;

#define NABLA_MAXPOOL_BODY                                                                   \
    const maxpool_job *j = (const maxpool_job *)ctx;                                         \
    const long c = j->c;                                                                     \
    for (long r = begin; r < end; r++) {                                                     \
        long b = r / j->oh, oy = r % j->oh;                                                  \
        for (long ox = 0; ox < j->ow; ox++) {                                                \
            float *restrict y = j->y + ((b * j->oh + oy) * j->ow + ox) * c;                  \
            int32_t *restrict win = j->win + ((b * j->oh + oy) * j->ow + ox) * c;            \
            int first = 1;                                                                   \
            for (long i = 0; i < j->kh; i++) {                                               \
                long iy = oy * j->sh - j->pt + i * j->dh;                                    \
                if (iy < 0 || iy >= j->h) continue;                                          \
                for (long k = 0; k < j->kw; k++) {                                           \
                    long ix = ox * j->sw - j->pl + k * j->dw;                                \
                    if (ix < 0 || ix >= j->w) continue;                                      \
                    long base = ((b * j->h + iy) * j->w + ix) * c;                           \
                    const float *restrict src = j->x + base;                                 \
                    if (first) {                                                             \
                        for (long ch = 0; ch < c; ch++) { y[ch] = src[ch]; win[ch] = (int32_t)(base + ch); } \
                        first = 0;                                                           \
                    } else {                                                                 \
                        for (long ch = 0; ch < c; ch++) {                                    \
                            int take = src[ch] > y[ch];                                      \
                            y[ch] = take ? src[ch] : y[ch];                                  \
                            win[ch] = take ? (int32_t)(base + ch) : win[ch];                 \
                        }                                                                    \
                    }                                                                        \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
    }

#define MAXPOOL_ROWS(ctx, begin, end) NABLA_MAXPOOL_BODY
NABLA_RANGE_VARIANTS(maxpool_rows, MAXPOOL_ROWS)

void nabla_maxpool2d_f32(const float *x, float *y, int32_t *winners, long n, long h, long w, long c, long oh, long ow,
                         long kh, long kw, long sh, long sw, long dh, long dw, long pt, long pl) {
    maxpool_job job = {x, y, winners, n, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl};
    long per_row = ow * c * kh * kw;
    long grain = per_row > 0 ? 16384 / per_row : 1;
    nabla_parallel_for(n * oh, grain < 1 ? 1 : grain, 1, maxpool_rows, &job);
}

// MARK: im2col for NHWC convolutions

typedef struct {
    float *x; float *cols;
    long n, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, c0, cg;
    int scatter;
} im2col_job;

#define NABLA_IM2COL_BODY                                                                     \
    const im2col_job *j = (const im2col_job *)ctx;                                            \
    const long cg = j->cg, k = j->kh * j->kw * cg;                                            \
    for (long r = begin; r < end; r++) {                                                      \
        long b = r / j->oh, oy = r % j->oh;                                                   \
        for (long ox = 0; ox < j->ow; ox++) {                                                 \
            float *restrict col = j->cols + ((b * j->oh + oy) * j->ow + ox) * k;              \
            for (long i = 0; i < j->kh; i++) {                                                \
                long iy = oy * j->sh - j->pt + i * j->dh;                                     \
                for (long q = 0; q < j->kw; q++, col += cg) {                                 \
                    long ix = ox * j->sw - j->pl + q * j->dw;                                 \
                    if (iy < 0 || iy >= j->h || ix < 0 || ix >= j->w) {                       \
                        if (!j->scatter) for (long ch = 0; ch < cg; ch++) col[ch] = 0.0f;     \
                        continue;                                                             \
                    }                                                                         \
                    float *restrict src = j->x + ((b * j->h + iy) * j->w + ix) * j->c + j->c0; \
                    if (j->scatter) { for (long ch = 0; ch < cg; ch++) src[ch] += col[ch]; }  \
                    else { for (long ch = 0; ch < cg; ch++) col[ch] = src[ch]; }              \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    }

#define IM2COL_ROWS(ctx, begin, end) NABLA_IM2COL_BODY
NABLA_RANGE_VARIANTS(im2col_rows, IM2COL_ROWS)

/// Scatter-add rows of one image never touch another image: split by image then.
static void im2col_images(void *ctx, long begin, long end) {
    const im2col_job *j = (const im2col_job *)ctx;
    im2col_rows(ctx, begin * j->oh, end * j->oh);
}

void nabla_im2col_f32(float *x, float *cols, long n, long h, long w, long c, long oh, long ow, long kh, long kw,
                      long sh, long sw, long dh, long dw, long pt, long pl, long c0, long cg, int scatter) {
    im2col_job job = {x, cols, n, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, c0, cg, scatter};
    long per_row = ow * kh * kw * cg;
    if (scatter) {
        long per_image = per_row * oh;
        long grain = per_image > 0 ? 32768 / per_image : 1;
        nabla_parallel_for(n, grain < 1 ? 1 : grain, 1, im2col_images, &job);
    } else {
        long grain = per_row > 0 ? 32768 / per_row : 1;
        nabla_parallel_for(n * oh, grain < 1 ? 1 : grain, 1, im2col_rows, &job);
    }
}

// MARK: row broadcast (a linear layer's output starts as its bias)

typedef struct { const void *row; void *out; long bytes; } rows_job;

static void fill_rows(void *ctx, long begin, long end) {
    const rows_job *j = (const rows_job *)ctx;
    for (long r = begin; r < end; r++) memcpy((char *)j->out + r * j->bytes, j->row, (size_t)j->bytes);
}

void nabla_fill_rows(const void *row, void *out, long rows, long bytes) {
    rows_job job = {row, out, bytes};
    long per = (1L << 17) / (bytes > 0 ? bytes : 1);
    nabla_parallel_for(rows, per < 1 ? 1 : per, 1, fill_rows, &job);
}
