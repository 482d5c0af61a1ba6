// Compiles a kernel body twice, for the baseline and for AVX2+FMA, and picks one at run time, so that
// one binary is fast on modern x86 and still runs everywhere. Internal to CNablaKernels.
#ifndef CNABLA_VARIANTS_H
#define CNABLA_VARIANTS_H
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
    if (nabla_cpu_has_avx2_fma()) { name##_avx2 args; return; }
#else
#define NABLA_AVX2_VARIANT(name, params, body)
#define NABLA_AVX2_CALL(name, args)
#endif

/// A thread-pool range function `name` (a nabla_range_fn) whose body is `body(ctx, begin, end)`, a
/// macro or an always-inline function, compiled for the baseline and for AVX2+FMA. (`body` is passed
/// by name, so that a macro body's commas never reach another macro's argument list.)
#define NABLA_RANGE_VARIANTS(name, body)                                                       \
    static void name##_base(void *ctx, long begin, long end) { body(ctx, begin, end); }          \
    NABLA_RANGE_AVX2(name, body)                                                               \
    static void name(void *ctx, long begin, long end) {                                        \
        NABLA_RANGE_AVX2_CALL(name)                                                            \
        name##_base(ctx, begin, end);                                                          \
    }

#if defined(__x86_64__)
#define NABLA_RANGE_AVX2(name, body)                                                           \
    __attribute__((target("avx2,fma"))) static void name##_avx2(void *ctx, long begin, long end) { body(ctx, begin, end); }
#define NABLA_RANGE_AVX2_CALL(name) if (nabla_cpu_has_avx2_fma()) { name##_avx2(ctx, begin, end); return; }
#else
#define NABLA_RANGE_AVX2(name, body)
#define NABLA_RANGE_AVX2_CALL(name)
#endif

#endif
