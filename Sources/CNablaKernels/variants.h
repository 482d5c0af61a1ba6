// One dispatch mechanism for the loops the compiler vectorises: a kernel body compiled three times,
// for the baseline, for AVX2+FMA and for AVX-512F (16 lanes), with the variant chosen at run time by
// nabla_simd_level, so that one binary is fast on modern x86 and still runs everywhere. (GEMM's
// hand-written micro-kernels are chosen by the same level, in gemm.c.) Internal to CNablaKernels.
#ifndef CNABLA_VARIANTS_H
#define CNABLA_VARIANTS_H
#include "cpu.h"

/// Defines `name_dispatch params`, which runs `body` (the rest of the arguments, commas allowed)
/// compiled for AVX-512F or AVX2+FMA when the SIMD level allows, and for the baseline otherwise. A thread-pool range
/// function is the case params = (void *ctx, long begin, long end), args = (ctx, begin, end).
#define NABLA_VARIANTS(name, params, args, ...)                           \
    static void name##_base params { __VA_ARGS__ }                         \
    NABLA_SIMD_VARIANTS(name, params, __VA_ARGS__)                         \
    static void name##_dispatch params {                                   \
        NABLA_SIMD_CALLS(name, args)                                       \
        name##_base args;                                                  \
    }

/// Defines `void entry(const float *x, const float *g, float *y, long n)`-style threaded entry points
/// for an elementwise kernel `name_dispatch(x, [g,] y, n)`: the pool splits [0, n) into runs of at
/// least `grain` elements (kernels decide their own threading, next to their loop).
typedef struct { const float *x, *g; float *y; } nabla_elementwise_job;
#define NABLA_THREADED_UNARY(entry, name, grain)                                                        \
    static void name##_range(void *ctx, long b, long e) {                                               \
        const nabla_elementwise_job *j = (const nabla_elementwise_job *)ctx;                            \
        name##_dispatch(j->x + b, j->y + b, e - b);                                                     \
    }                                                                                                   \
    void entry(const float *x, float *y, long n) {                                                      \
        nabla_elementwise_job job = {x, 0, y};                                                          \
        nabla_parallel_for(n, grain, 16, name##_range, &job);                                           \
    }
#define NABLA_THREADED_BINARY(entry, name, grain)                                                       \
    static void name##_range(void *ctx, long b, long e) {                                               \
        const nabla_elementwise_job *j = (const nabla_elementwise_job *)ctx;                            \
        name##_dispatch(j->x + b, j->g + b, j->y + b, e - b);                                           \
    }                                                                                                   \
    void entry(const float *x, const float *g, float *y, long n) {                                      \
        nabla_elementwise_job job = {x, g, y};                                                          \
        nabla_parallel_for(n, grain, 16, name##_range, &job);                                           \
    }

#if defined(__x86_64__)
#define NABLA_SIMD_VARIANTS(name, params, ...)                                                       \
    __attribute__((target("avx2,fma"))) static void name##_avx2 params { __VA_ARGS__ }              \
    __attribute__((target("avx512f,avx2,fma"))) static void name##_avx512 params { __VA_ARGS__ }
#define NABLA_SIMD_CALLS(name, args)                                         \
    {                                                                        \
        int level_ = nabla_simd_level();                                     \
        if (level_ >= 2) { name##_avx512 args; return; }                     \
        if (level_ >= 1) { name##_avx2 args; return; }                       \
    }
#else
#define NABLA_SIMD_VARIANTS(name, params, ...)
#define NABLA_SIMD_CALLS(name, args)
#endif

#endif
