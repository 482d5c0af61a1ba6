// Vectorisable scalar math shared by the kernels: plain C that the compiler turns into SIMD code
// inside loops (no libm calls). Internal to CNablaKernels.
#ifndef CNABLA_VECMATH_H
#define CNABLA_VECMATH_H
#include <math.h>
#include <stdint.h>
#include <string.h>

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/// e^x for float32 in the vectorisable form of Cephes' expf (range reduction by ln 2, degree-5
/// polynomial, exponent built from bits); within 2 ulp, saturating below −87 and above 88.
ALWAYS_INLINE float nabla_expf(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    float n = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

#endif
