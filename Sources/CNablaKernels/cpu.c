// CPU feature detection and the SIMD level every kernel chooses its variant by (GEMM micro-kernels
// and the NABLA_VARIANTS loops alike), with one limit for comparing paths.
#include "CNablaKernels.h"
#include "cpu.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
int nabla_cpu_has_avx2_fma(void) {
    static int cached = -1; // racing first calls all store the same answer
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
}

int nabla_cpu_has_avx512f(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        int ok = __builtin_cpu_supports("avx512f") && nabla_cpu_has_avx2_fma();
        if (ok) {
            // The operating system must save the opmask and zmm registers (XCR0 bits 5-7, with 1-2).
            unsigned int eax, edx;
            __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
            ok = (eax & 0xE6) == 0xE6;
        }
        cached = ok;
    }
    return cached;
}
#endif

/// The highest level kernels may use, from NABLA_SIMD=portable|avx2|avx512 (neon is level 1); -1
/// until first read.
static atomic_int g_env_limit = -1;

/// A thread's own limit (nabla_simd_limit), or -1 for the process-wide one. Per thread, so that a
/// test comparing paths does not change the kernels of tests running beside it; the thread pool
/// hands it to the workers that run a region for this thread.
static _Thread_local int t_simd_limit = -1;

static int hardware_level(void) {
#if defined(__x86_64__)
    return nabla_cpu_has_avx512f() ? 2 : nabla_cpu_has_avx2_fma() ? 1 : 0;
#elif defined(__aarch64__)
    return 1;
#else
    return 0;
#endif
}

static int env_limit(void) {
    int limit = atomic_load_explicit(&g_env_limit, memory_order_relaxed);
    if (limit < 0) {
        const char *env = getenv("NABLA_SIMD");
        limit = !env ? 2 : !strcmp(env, "portable") ? 0 : (!strcmp(env, "avx2") || !strcmp(env, "neon")) ? 1 : 2;
        atomic_store(&g_env_limit, limit);
    }
    return limit;
}

int nabla_simd_level(void) {
    int limit = t_simd_limit >= 0 ? t_simd_limit : env_limit();
    int hw = hardware_level();
    return limit < hw ? limit : hw;
}

void nabla_simd_limit(int level) { t_simd_limit = level < 0 ? -1 : level > 2 ? 2 : level; }

int nabla_simd_thread_limit(void) { return t_simd_limit; }
