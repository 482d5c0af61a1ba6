// Max pooling over NHWC windows: channels are the contiguous axis, so each window position is a
// vectorised max over a run of channels; the winners are kept for the backward pass.
#include <string.h>
#include "CNablaKernels.h"
#include "variants.h"

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
NABLA_VARIANTS(maxpool_rows, (void *ctx, long begin, long end), (ctx, begin, end), MAXPOOL_ROWS(ctx, begin, end);)

void nabla_maxpool2d_f32(const float *x, float *y, int32_t *winners, long n, long h, long w, long c, long oh, long ow,
                         long kh, long kw, long sh, long sw, long dh, long dw, long pt, long pl) {
    maxpool_job job = {x, y, winners, n, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl};
    long per_row = ow * c * kh * kw;
    long grain = per_row > 0 ? 16384 / per_row : 1;
    nabla_parallel_for(n * oh, grain < 1 ? 1 : grain, 1, maxpool_rows_dispatch, &job);
}

typedef struct {
    const float *g; float *dx; const int32_t *win;
    long per_image, input_per_image;
} maxpool_backward_job;

/// Windows of one image may overlap (stride below the window), images never do: one thread per
/// image, which zeroes its image's gradient first (while it is about to be written: in cache, and on
/// both threads instead of a serial memset).
static void maxpool_backward_images(void *ctx, long begin, long end) {
    const maxpool_backward_job *j = (const maxpool_backward_job *)ctx;
    memset(j->dx + begin * j->input_per_image, 0, sizeof(float) * (size_t)((end - begin) * j->input_per_image));
    for (long i = begin * j->per_image; i < end * j->per_image; i++) j->dx[j->win[i]] += j->g[i];
}

void nabla_maxpool2d_backward_f32(const float *g, float *dx, const int32_t *winners, long n, long per_image,
                                  long input_per_image) {
    maxpool_backward_job job = {g, dx, winners, per_image, input_per_image};
    long grain = input_per_image > 0 ? 16384 / input_per_image : 1;
    nabla_parallel_for(n, grain < 1 ? 1 : grain, 1, maxpool_backward_images, &job);
}
