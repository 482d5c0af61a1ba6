// CPU feature detection, shared by every kernel that has an AVX2 variant.
#include "cpu.h"

#if defined(__x86_64__)
int nabla_cpu_has_avx2_fma(void) {
    static int cached = -1; // racing first calls all store the same answer
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
}
#endif
