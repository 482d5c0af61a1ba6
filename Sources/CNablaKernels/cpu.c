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
