// Hot elementwise loops in C: with restrict pointers the compiler vectorises them (Swift cannot
// prove its pointers do not alias), compiled for the baseline and for AVX2 and chosen at run time.
#include <string.h>
#include "CNablaKernels.h"
#include "variants.h"


NABLA_VARIANTS(relu, (const float *restrict x, float *restrict y, long n), (x, y, n),
               for (long i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;)

NABLA_VARIANTS(relu_backward, (const float *restrict x, const float *restrict g, float *restrict dx, long n), (x, g, dx, n),
               for (long i = 0; i < n; i++) dx[i] = x[i] > 0.0f ? g[i] : 0.0f;)

void nabla_relu_f32(const float *x, float *y, long n) { relu_dispatch(x, y, n); }
void nabla_relu_backward_f32(const float *x, const float *g, float *dx, long n) { relu_backward_dispatch(x, g, dx, n); }
