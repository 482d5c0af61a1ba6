// im2col for NHWC convolutions (and its scatter-add transpose for the input gradient): each window
// becomes a row of the matrix the GEMM multiplies by the kernel.
#include <string.h>
#include "CNablaKernels.h"
#include "variants.h"

typedef struct {
    float *x; float *cols;
    long n, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, c0, cg;
    int scatter;
} im2col_job;

#define NABLA_IM2COL_BODY                                                                     \
    const im2col_job *j = (const im2col_job *)ctx;                                            \
    const long cg = j->cg, k = j->kh * j->kw * cg;                                            \
    /* taps of a kernel row are contiguous in x with all channels and no horizontal dilation */ \
    const long run = (cg == j->c && j->dw == 1) ? j->kw * cg : 0;                             \
    for (long r = begin; r < end; r++) {                                                      \
        long b = r / j->oh, oy = r % j->oh;                                                   \
        for (long ox = 0; ox < j->ow; ox++) {                                                 \
            float *restrict col = j->cols + ((b * j->oh + oy) * j->ow + ox) * k;              \
            for (long i = 0; i < j->kh; i++) {                                                \
                long iy = oy * j->sh - j->pt + i * j->dh;                                     \
                long ix0 = ox * j->sw - j->pl;                                                \
                if (run && iy >= 0 && iy < j->h && ix0 >= 0 && ix0 + j->kw <= j->w) {         \
                    /* the whole kernel row is inside: its taps are one run of kw·c floats */ \
                    float *restrict src = j->x + ((b * j->h + iy) * j->w + ix0) * j->c;       \
                    if (j->scatter) { for (long e = 0; e < run; e++) src[e] += col[e]; }      \
                    else { for (long e = 0; e < run; e++) col[e] = src[e]; }                  \
                    col += run;                                                               \
                    continue;                                                                 \
                }                                                                             \
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
NABLA_VARIANTS(im2col_rows, (void *ctx, long begin, long end), (ctx, begin, end), IM2COL_ROWS(ctx, begin, end);)

/// Scatter-add rows of one image never touch another image: split by image then.
static void im2col_images(void *ctx, long begin, long end) {
    const im2col_job *j = (const im2col_job *)ctx;
    im2col_rows_dispatch(ctx, begin * j->oh, end * j->oh);
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
        nabla_parallel_for(n * oh, grain < 1 ? 1 : grain, 1, im2col_rows_dispatch, &job);
    }
}
