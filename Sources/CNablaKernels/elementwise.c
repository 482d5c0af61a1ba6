// Hot elementwise loops in C: with restrict pointers the compiler vectorises them (Swift cannot
// prove its pointers do not alias), compiled for the baseline and for AVX2 and chosen at run time.
#include <string.h>
#include "CNablaKernels.h"
#include "variants.h"


NABLA_VARIANTS(relu, (const float *restrict x, float *restrict y, long n), (x, y, n),
               for (long i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;)

NABLA_VARIANTS(relu_backward, (const float *restrict x, const float *restrict g, float *restrict dx, long n), (x, g, dx, n),
               for (long i = 0; i < n; i++) dx[i] = x[i] > 0.0f ? g[i] : 0.0f;)

NABLA_THREADED_UNARY(nabla_relu_f32, relu, 1L << 17)
NABLA_THREADED_BINARY(nabla_relu_backward_f32, relu_backward, 1L << 17)
