// The NEON micro-kernel for arm64: the same 6x16 tile in 24 q-register accumulators.
#if defined(__aarch64__)
#include "gemm_internal.h"
#include <arm_neon.h>

void nabla_ukernel_neon(NABLA_UKERNEL_ARGS) {
    float32x4_t acc[6][4];
    for (int r = 0; r < 6; r++)
        for (int j = 0; j < 4; j++) acc[r][j] = vdupq_n_f32(0.0f);
    for (long p = 0; p < k; p++) {
        float32x4_t bv[4];
        for (int j = 0; j < 4; j++) bv[j] = vld1q_f32(b + 4 * j);
        for (int r = 0; r < 6; r++) {
            float32x4_t av = vdupq_n_f32(a[r * rs_a]);
            for (int j = 0; j < 4; j++) acc[r][j] = vfmaq_f32(acc[r][j], bv[j], av);
        }
        a += cs_a;
        b += rs_b;
    }
    for (int r = 0; r < 6; r++) {
        float *row = c + r * ldc;
        for (int j = 0; j < 4; j++) {
            float32x4_t v = acc[r][j];
            if (accumulate) v = vaddq_f32(v, vld1q_f32(row + 4 * j));
            vst1q_f32(row + 4 * j, v);
        }
    }
}
#endif
