// The GEMM driver (BLIS/GotoBLAS design): C is computed in NC-wide column blocks; for each KC-deep
// slice, a KC x NC block of B is packed into nr-wide micro-panels sized to stay in L2 (NC from the
// L2 size), then for each MC-high block of A, each mr-row micro-panel of A (read in place, or packed
// when scaled or ragged) stays in L1 while the mr x nr register micro-kernel sweeps it across every
// B micro-panel. The tile (mr x nr) is the kernel's: 12x32 for AVX-512, 6x16 otherwise. Threads take
// disjoint parts of C (along the longer of m and n) and pack their own panels, so they never wait
// for each other.
#include "CNablaKernels.h"
#include "cpu.h"
#include "gemm_internal.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// KC is the same for every kernel, so every kernel sums each element's products in the same
// groups and order: results do not depend on the CPU. MC is a multiple of both tiles' mr.
#define NABLA_KC 256
#define NABLA_MC 144
#define NABLA_NC 2048  /* the largest B block; nc_block() picks the size for this CPU's L2 */

// MARK: kernel choice

/// The micro-kernel for the SIMD level in force (nabla_simd_level: tests lower it to check every path).
static inline nabla_gemm_tile tile(void) {
    nabla_gemm_tile t = {nabla_ukernel_portable, NABLA_MR, NABLA_NR, "portable-6x16"};
    int level = nabla_simd_level();
#if defined(__x86_64__)
    if (level >= 2) t = (nabla_gemm_tile){nabla_ukernel_avx512, 12, 32, "avx512f-12x32"};
    else if (level >= 1) t = (nabla_gemm_tile){nabla_ukernel_avx2, NABLA_MR, NABLA_NR, "avx2-fma-6x16"};
#elif defined(__aarch64__)
    if (level >= 1) t = (nabla_gemm_tile){nabla_ukernel_neon, NABLA_MR, NABLA_NR, "neon-6x16"};
#endif
    return t;
}

const char *nabla_gemm_kernel_name(void) { return tile().name; }

void nabla_ukernel_portable(NABLA_UKERNEL_ARGS) {
    float acc[NABLA_MR][NABLA_NR];
    memset(acc, 0, sizeof acc);
    for (long p = 0; p < k; p++) {
        for (int r = 0; r < NABLA_MR; r++) {
            float av = a[r * rs_a];
            for (int j = 0; j < NABLA_NR; j++) acc[r][j] += av * b[j];
        }
        a += cs_a;
        b += rs_b;
    }
    for (int r = 0; r < NABLA_MR; r++)
        for (int j = 0; j < NABLA_NR; j++) c[r * ldc + j] = accumulate ? c[r * ldc + j] + acc[r][j] : acc[r][j];
}

// MARK: packing

/// Packs rows [i0, i0+mc) x columns [p0, p0+kc) of op(A), scaled by alpha, into mr-row panels.
static void pack_a(int trans, const float *a, long lda, long i0, long p0, long mc, long kc, float alpha, long mr,
                   float *dst) {
    for (long ip = 0; ip < mc; ip += mr) {
        long rows = mc - ip < mr ? mc - ip : mr;
        if (!trans) {
            for (long r = 0; r < mr; r++) {
                if (r < rows) {
                    const float *src = a + (i0 + ip + r) * lda + p0;
                    for (long p = 0; p < kc; p++) dst[p * mr + r] = alpha * src[p];
                } else {
                    for (long p = 0; p < kc; p++) dst[p * mr + r] = 0.0f;
                }
            }
        } else {
            for (long p = 0; p < kc; p++) {
                const float *src = a + (p0 + p) * lda + i0 + ip;
                long r = 0;
                for (; r < rows; r++) dst[p * mr + r] = alpha * src[r];
                for (; r < mr; r++) dst[p * mr + r] = 0.0f;
            }
        }
        dst += kc * mr;
    }
}

/// Packs rows [p0, p0+kc) x columns [j0, j0+nc) of op(B) into nr-column panels.
static void pack_b(int trans, const float *b, long ldb, long p0, long j0, long kc, long nc, long nr, float *dst) {
    for (long jp = 0; jp < nc; jp += nr) {
        long cols = nc - jp < nr ? nc - jp : nr;
        if (!trans) {
            for (long p = 0; p < kc; p++) {
                const float *src = b + (p0 + p) * ldb + j0 + jp;
                float *d = dst + p * nr;
                memcpy(d, src, (size_t)cols * sizeof(float));
                if (cols < nr) memset(d + cols, 0, (size_t)(nr - cols) * sizeof(float));
            }
        } else {
            long j = 0;
#if defined(__x86_64__)
            if (nabla_simd_level() >= 1)
                for (; j + 16 <= cols; j += 16) nabla_pack_b_trans_avx2(b + (j0 + jp + j) * ldb + p0, ldb, kc, dst + j, nr);
#endif
            for (; j < nr; j++) {
                if (j < cols) {
                    const float *src = b + (j0 + jp + j) * ldb + p0;
                    for (long p = 0; p < kc; p++) dst[p * nr + j] = src[p];
                } else {
                    for (long p = 0; p < kc; p++) dst[p * nr + j] = 0.0f;
                }
            }
        }
        dst += kc * nr;
    }
}

// MARK: serial driver

/// Columns of B packed per block: the packed KC x NC block should take about half of the core's L2,
/// where it stays while each packed micro-panel of A (in L1) sweeps across it.
static long nc_block(void) {
    static _Atomic long cached = 0;
    long nc = atomic_load_explicit(&cached, memory_order_relaxed);
    if (nc) return nc;
    long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (l2 <= 0) l2 = 1 << 20;
    nc = l2 / 2 / (NABLA_KC * (long)sizeof(float)) / NABLA_NR_MAX * NABLA_NR_MAX;
    nc = nc < 256 ? 256 : nc > NABLA_NC ? NABLA_NC : nc;
    atomic_store(&cached, nc);
    return nc;
}

/// The A pack buffer holds an MC x KC block, or one k x MR_MAX edge panel for k up to 6144.
#define NABLA_PACK_A_FLOATS (NABLA_MR_MAX * 6144)
static _Thread_local float *t_pack_a = 0;
static _Thread_local float *t_pack_b = 0;

/// What the driver applies to each tile of C besides the product: a bias row, written into the
/// tile just before the products of the first k block are added to it (the sums of a separate
/// bias pass, without a pass over C in memory), and a ReLU after the last k block.
typedef struct {
    const float *bias;  // at the tile's first column, or null
    int relu;
} gemm_epilogue;

static inline gemm_epilogue epilogue_from(gemm_epilogue e, long column) {
    return (gemm_epilogue){e.bias ? e.bias + column : 0, e.relu};
}

static inline void fill_tile(float *c, long ldc, long rows, long cols, const float *bias) {
    for (long r = 0; r < rows; r++) memcpy(c + r * ldc, bias, sizeof(float) * (size_t)cols);
}

/// max(0, C) over a finished tile (the ReLU epilogue), exactly as nabla_relu_f32 computes it.
static inline void relu_tile(float *c, long ldc, long rows, long cols) {
    for (long r = 0; r < rows; r++) {
        float *row = c + r * ldc;
        for (long j = 0; j < cols; j++) row[j] = row[j] > 0.0f ? row[j] : 0.0f;
    }
}

/// Writes (or adds) the valid rows x cols corner of a full tile computed into `edge`.
static inline void store_edge(const float *edge, long nr, float *c, long ldc, long rows, long cols, int accumulate) {
    for (long r = 0; r < rows; r++)
        for (long j = 0; j < cols; j++)
            c[r * ldc + j] = accumulate ? c[r * ldc + j] + edge[r * nr + j] : edge[r * nr + j];
}

/// The small-matrix path: when the operands fit in L2, packing costs more than it saves. The
/// kernel reads A in place (either orientation) and B in place when it is not transposed; only
/// the edge panels (and a transposed B) are copied into small zero-padded buffers.
static void sgemm_small(int ta, int tb, long m, long n, long k, float alpha, const float *a, long lda,
                        const float *b, long ldb, int accumulate, gemm_epilogue ep, float *c, long ldc) {
    const nabla_gemm_tile t = tile();
    const long mr = t.mr, nr = t.nr;
    float *pb = t_pack_b, *pa = t_pack_a;
    float edge[NABLA_MR_MAX * NABLA_NR_MAX] __attribute__((aligned(64)));
    long rs_a = ta ? 1 : lda, cs_a = ta ? lda : 1;
    for (long jr = 0; jr < n; jr += nr) {
        long cols = n - jr < nr ? n - jr : nr;
        const float *bp;
        long rs_b;
        if (!tb && cols == nr) {
            bp = b + jr;
            rs_b = ldb;
        } else {
            pack_b(tb, b, ldb, 0, jr, k, cols, nr, pb);
            bp = pb;
            rs_b = nr;
        }
        for (long ir = 0; ir < m; ir += mr) {
            long rows = m - ir < mr ? m - ir : mr;
            float *cp = c + ir * ldc + jr;
            int acc = accumulate;
            if (ep.bias) { fill_tile(cp, ldc, rows, cols, ep.bias + jr); acc = 1; }
            if (rows == mr && alpha == 1.0f) {
                const float *ap = ta ? a + ir : a + ir * lda;
                if (cols == nr) {
                    t.fn(k, ap, rs_a, cs_a, bp, rs_b, cp, ldc, acc);
                } else {
                    t.fn(k, ap, rs_a, cs_a, bp, rs_b, edge, nr, 0);
                    store_edge(edge, nr, cp, ldc, rows, cols, acc);
                }
            } else {
                pack_a(ta, a, lda, ir, 0, rows, k, alpha, mr, pa);
                t.fn(k, pa, 1, mr, bp, rs_b, edge, nr, 0);
                store_edge(edge, nr, cp, ldc, rows, cols, acc);
            }
            if (ep.relu) relu_tile(cp, ldc, rows, cols);
        }
    }
}


static void sgemm_serial(int ta, int tb, long m, long n, long k, float alpha, const float *a, long lda,
                         const float *b, long ldb, int accumulate, gemm_epilogue ep, float *c, long ldc) {
    if (!t_pack_a) {
        t_pack_a = (float *)nabla_alloc(sizeof(float) * NABLA_PACK_A_FLOATS);
        t_pack_b = (float *)nabla_alloc(sizeof(float) * NABLA_KC * NABLA_NC);
    }
    const nabla_gemm_tile t = tile();
    const long mr = t.mr, nr = t.nr;
    // Few rows of A (a small batch) or small operands: packing B would cost as much as the product.
    // (An edge panel of A, k x MR floats, and of B, k x NR, must fit the pack buffers. The test uses
    // the largest tile, so every kernel takes the same path and sums in the same order.)
    if ((k <= NABLA_KC && (m * k + k * n) <= 96 * 1024) ||
        (m <= 48 && k * NABLA_NR_MAX <= NABLA_KC * NABLA_NC && k * NABLA_MR_MAX <= NABLA_PACK_A_FLOATS)) {
        sgemm_small(ta, tb, m, n, k, alpha, a, lda, b, ldb, accumulate, ep, c, ldc);
        return;
    }
    float *pa = t_pack_a, *pb = t_pack_b;
    float edge[NABLA_MR_MAX * NABLA_NR_MAX] __attribute__((aligned(64)));
    // Without scaling, full mr-row panels of A are read in place (the kernel takes A's strides):
    // packing A cost as much as a tenth of a Transformer step. Only a ragged last panel is packed.
    const int a_in_place = alpha == 1.0f;
    const long rs_a = ta ? 1 : lda, cs_a = ta ? lda : 1;
    const long nc_max = nc_block();
    for (long jc = 0; jc < n; jc += nc_max) {
        long nc = n - jc < nc_max ? n - jc : nc_max;
        for (long pc = 0; pc < k; pc += NABLA_KC) {
            long kc = k - pc < NABLA_KC ? k - pc : NABLA_KC;
            int acc = accumulate || pc > 0, last = pc + kc >= k;
            pack_b(tb, b, ldb, pc, jc, kc, nc, nr, pb);
            for (long ic = 0; ic < m; ic += NABLA_MC) {
                long mc = m - ic < NABLA_MC ? m - ic : NABLA_MC;
                long full = mc / mr * mr;
                if (!a_in_place) pack_a(ta, a, lda, ic, pc, mc, kc, alpha, mr, pa);
                else if (full < mc) pack_a(ta, a, lda, ic + full, pc, mc - full, kc, alpha, mr, pa);
                for (long ir = 0; ir < mc; ir += mr) {
                    long rows = mc - ir < mr ? mc - ir : mr;
                    for (long jr = 0; jr < nc; jr += nr) {
                        long cols = nc - jr < nr ? nc - jr : nr;
                        const float *bp = pb + jr * kc;
                        float *cp = c + (ic + ir) * ldc + jc + jr;
                        const float *ap;
                        long rs = 1, cs = mr;
                        if (!a_in_place) {
                            ap = pa + ir * kc;
                        } else if (rows == mr) {
                            ap = ta ? a + pc * lda + ic + ir : a + (ic + ir) * lda + pc;
                            rs = rs_a;
                            cs = cs_a;
                        } else {
                            ap = pa;
                        }
                        int tile_acc = acc;
                        if (ep.bias && pc == 0) { fill_tile(cp, ldc, rows, cols, ep.bias + jc + jr); tile_acc = 1; }
                        if (rows == mr && cols == nr) {
                            t.fn(kc, ap, rs, cs, bp, nr, cp, ldc, tile_acc);
                        } else {
                            t.fn(kc, ap, rs, cs, bp, nr, edge, nr, 0);
                            store_edge(edge, nr, cp, ldc, rows, cols, tile_acc);
                        }
                        if (ep.relu && last) relu_tile(cp, ldc, rows, cols);   // while the tile is in L1
                    }
                }
            }
        }
    }
}

void nabla_sgemm_serial(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                        const float *b, long ldb, float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (beta == 0.0f)
            for (long i = 0; i < m; i++) memset(c + i * ldc, 0, sizeof(float) * (size_t)n);
        return;
    }
    sgemm_serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta != 0.0f, (gemm_epilogue){0, 0}, c, ldc);
}

// MARK: few rows (matrix-vector products)

/// C[i, :] (+)= alpha·A[i, :]·B for m ≤ 4 rows, B not transposed: each row of B is streamed once
/// and added into the C row (one-sample inference is this case).
#define NABLA_GEMV_BODY                                                                    \
    for (long i = 0; i < m; i++) {                                                         \
        float *restrict cr = c + i * ldc;                                                  \
        if (!accumulate) for (long j = 0; j < n; j++) cr[j] = 0.0f;                        \
        for (long p = 0; p < k; p++) {                                                     \
            float av = alpha * (ta ? a[p * lda + i] : a[i * lda + p]);                     \
            const float *restrict br = b + p * ldb;                                        \
            for (long j = 0; j < n; j++) cr[j] += av * br[j];                              \
        }                                                                                  \
    }

static void gemv_rows_portable(int ta, long m, long n, long k, float alpha, const float *a, long lda,
                               const float *b, long ldb, int accumulate, float *c, long ldc) {
    NABLA_GEMV_BODY
}

#if defined(__x86_64__)
#include <immintrin.h>
/// Register-blocked: a block of 64 columns of C stays in 8 accumulators for the whole k loop, so
/// each step is 8 loads of B and 8 FMAs, with no C traffic.
__attribute__((target("avx2,fma")))
static void gemv_rows_avx2(int ta, long m, long n, long k, float alpha, const float *a, long lda,
                           const float *b, long ldb, int accumulate, float *c, long ldc) {
    for (long i = 0; i < m; i++) {
        float *cr = c + i * ldc;
        long j = 0;
        for (; j + 64 <= n; j += 64) {
            __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
            __m256 acc4 = _mm256_setzero_ps(), acc5 = _mm256_setzero_ps(), acc6 = _mm256_setzero_ps(), acc7 = _mm256_setzero_ps();
            for (long p = 0; p < k; p++) {
                __m256 av = _mm256_set1_ps(ta ? a[p * lda + i] : a[i * lda + p]);
                const float *br = b + p * ldb + j;
                acc0 = _mm256_fmadd_ps(av, _mm256_loadu_ps(br), acc0);
                acc1 = _mm256_fmadd_ps(av, _mm256_loadu_ps(br + 8), acc1);
                acc2 = _mm256_fmadd_ps(av, _mm256_loadu_ps(br + 16), acc2);
                acc3 = _mm256_fmadd_ps(av, _mm256_loadu_ps(br + 24), acc3);
                acc4 = _mm256_fmadd_ps(av, _mm256_loadu_ps(br + 32), acc4);
                acc5 = _mm256_fmadd_ps(av, _mm256_loadu_ps(br + 40), acc5);
                acc6 = _mm256_fmadd_ps(av, _mm256_loadu_ps(br + 48), acc6);
                acc7 = _mm256_fmadd_ps(av, _mm256_loadu_ps(br + 56), acc7);
            }
            __m256 accs[8] = {acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7};
            __m256 va = _mm256_set1_ps(alpha);
            for (int t = 0; t < 8; t++) {
                __m256 r = _mm256_mul_ps(va, accs[t]);
                if (accumulate) r = _mm256_add_ps(r, _mm256_loadu_ps(cr + j + 8 * t));
                _mm256_storeu_ps(cr + j + 8 * t, r);
            }
        }
        for (; j + 8 <= n; j += 8) {
            __m256 acc = _mm256_setzero_ps();
            for (long p = 0; p < k; p++)
                acc = _mm256_fmadd_ps(_mm256_set1_ps(ta ? a[p * lda + i] : a[i * lda + p]), _mm256_loadu_ps(b + p * ldb + j), acc);
            __m256 r = _mm256_mul_ps(_mm256_set1_ps(alpha), acc);
            if (accumulate) r = _mm256_add_ps(r, _mm256_loadu_ps(cr + j));
            _mm256_storeu_ps(cr + j, r);
        }
        for (; j < n; j++) {
            float s = 0.0f;
            for (long p = 0; p < k; p++) s += (ta ? a[p * lda + i] : a[i * lda + p]) * b[p * ldb + j];
            cr[j] = accumulate ? cr[j] + alpha * s : alpha * s;
        }
    }
}
#endif

static void gemv_rows(int ta, long m, long n, long k, float alpha, const float *a, long lda,
                      const float *b, long ldb, int accumulate, float *c, long ldc) {
#if defined(__x86_64__)
    // The AVX2 row kernel serves the AVX-512 level too (a few rows are bound by reading B, not by FMAs).
    nabla_ukernel_fn uk = tile().fn;
    if (uk == nabla_ukernel_avx2 || uk == nabla_ukernel_avx512) {
        gemv_rows_avx2(ta, m, n, k, alpha, a, lda, b, ldb, accumulate, c, ldc);
        return;
    }
#endif
    gemv_rows_portable(ta, m, n, k, alpha, a, lda, b, ldb, accumulate, c, ldc);
}

// MARK: threaded entry point

typedef struct {
    int ta, tb, split_n, accumulate;
    gemm_epilogue ep;
    long m, n, k, lda, ldb, ldc;
    float alpha;
    const float *a, *b;
    float *c;
} sgemm_job;

static void sgemm_range(void *ctx, long begin, long end) {
    const sgemm_job *j = (const sgemm_job *)ctx;
    if (j->m <= 4 && !j->tb) {
        if (j->ep.bias) fill_tile(j->c + begin, j->ldc, j->m, end - begin, j->ep.bias + begin);
        gemv_rows(j->ta, j->m, end - begin, j->k, j->alpha, j->a, j->lda, j->b + begin, j->ldb, j->accumulate || j->ep.bias,
                  j->c + begin, j->ldc);
        if (j->ep.relu) relu_tile(j->c + begin, j->ldc, j->m, end - begin);
        return;
    }
    if (j->split_n) {
        const float *b = j->tb ? j->b + begin * j->ldb : j->b + begin;
        sgemm_serial(j->ta, j->tb, j->m, end - begin, j->k, j->alpha, j->a, j->lda, b, j->ldb, j->accumulate, epilogue_from(j->ep, begin),
                     j->c + begin, j->ldc);
    } else {
        const float *a = j->ta ? j->a + begin : j->a + begin * j->lda;
        sgemm_serial(j->ta, j->tb, end - begin, j->n, j->k, j->alpha, a, j->lda, j->b, j->ldb, j->accumulate, j->ep, j->c + begin * j->ldc, j->ldc);
    }
}

/// Depth of each partial product of a split-k GEMM: fixed (not per thread), so the sums and their
/// order do not depend on the number of threads.
#define NABLA_SPLIT_K 2048

typedef struct {
    const sgemm_job *job;
    float *partial;  // one m x n product per chunk of k
} split_k_job;

static void split_k_chunks(void *ctx, long begin, long end) {
    const split_k_job *s = (const split_k_job *)ctx;
    const sgemm_job *j = s->job;
    for (long ch = begin; ch < end; ch++) {
        long p0 = ch * NABLA_SPLIT_K, kc = j->k - p0 < NABLA_SPLIT_K ? j->k - p0 : NABLA_SPLIT_K;
        const float *a = j->ta ? j->a + p0 * j->lda : j->a + p0;
        const float *b = j->tb ? j->b + p0 : j->b + p0 * j->ldb;
        sgemm_serial(j->ta, j->tb, j->m, j->n, kc, j->alpha, a, j->lda, b, j->ldb, 0, (gemm_epilogue){0, 0}, s->partial + ch * j->m * j->n, j->n);
    }
}

/// C (+)= the chunks' products, computed in parallel and added in order.
static void sgemm_split_k(const sgemm_job *j) {
    long chunks = (j->k + NABLA_SPLIT_K - 1) / NABLA_SPLIT_K, size = j->m * j->n;
    float *partial = (float *)nabla_alloc(sizeof(float) * (size_t)(chunks * size));
    split_k_job s = {j, partial};
    nabla_parallel_for(chunks, 1, 1, split_k_chunks, &s);
    for (long i = 0; i < j->m; i++) {
        float *row = j->c + i * j->ldc;
        for (long x = 0; x < j->n; x++) {
            float sum = partial[i * j->n + x];
            for (long ch = 1; ch < chunks; ch++) sum += partial[ch * size + i * j->n + x];
            sum = j->accumulate ? row[x] + sum : j->ep.bias ? j->ep.bias[x] + sum : sum;
            row[x] = j->ep.relu && !(sum > 0.0f) ? 0.0f : sum;
        }
    }
    nabla_free(partial, sizeof(float) * (size_t)(chunks * size));
}

void nabla_sgemm(int trans_a, int trans_b, long m, long n, long k, float alpha,
                 const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc) {
    nabla_sgemm_fused(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 0, 0);
}

void nabla_sgemm_fused(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                       const float *b, long ldb, float beta, float *c, long ldc, const float *bias, int relu) {
    if (m <= 0 || n <= 0) return;
    int accumulate = 1;
    if (beta == 0.0f) {
        accumulate = 0;
    } else if (beta != 1.0f) {
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) c[i * ldc + j] *= beta;
    }
    if (bias && (accumulate || k <= 0 || alpha == 0.0f)) {
        // The bias joins a C that is kept (or is all there is): add it to C first.
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0.0f) + bias[j];
        accumulate = 1;
        bias = 0;
    }
    if (k <= 0 || alpha == 0.0f) {
        if (!accumulate)
            for (long i = 0; i < m; i++) memset(c + i * ldc, 0, sizeof(float) * (size_t)n);
        if (relu) relu_tile(c, ldc, m, n);
        return;
    }
    sgemm_job job = {trans_a, trans_b, n >= m || (m <= 4 && !trans_b), accumulate, {bias, relu}, m, n, k, lda, ldb, ldc, alpha, a, b, c};
    double work = (double)m * (double)n * (double)k;
    long units = job.split_n ? n : m;
    // Below ~100k multiply-adds a second thread costs more to wake than it saves.
    if (work < 98304.0) {
        sgemm_range(&job, 0, units);
        return;
    }
    // C too small to give two threads a tile each of the largest kernel, but a long reduction
    // (the first convolution's kernel gradient: 9 x 32 over every pixel of the batch): split k.
    int narrow = job.split_n ? n < 2 * NABLA_NR_MAX : m < 2 * NABLA_MR_MAX;
    if (narrow && !(m <= 4 && !trans_b) && k >= 2 * NABLA_SPLIT_K) {
        sgemm_split_k(&job);
        return;
    }
    const nabla_gemm_tile t = tile();
    long align = job.split_n ? t.nr : t.mr;
    long per_thread = (m <= 4 && !trans_b) ? 64 : align;
    nabla_parallel_for(units, per_thread, per_thread == 64 ? 64 : align, sgemm_range, &job);
}

// MARK: Float64

void nabla_dgemm(int trans_a, int trans_b, long m, long n, long k, double alpha,
                 const double *a, long lda, const double *b, long ldb, double beta, double *c, long ldc) {
    for (long i = 0; i < m; i++) {
        double *row = c + i * ldc;
        if (beta == 0.0) memset(row, 0, sizeof(double) * (size_t)n);
        else if (beta != 1.0) for (long j = 0; j < n; j++) row[j] *= beta;
    }
    const long kb = 128;
    for (long p0 = 0; p0 < k; p0 += kb) {
        long p1 = p0 + kb < k ? p0 + kb : k;
        for (long i = 0; i < m; i++) {
            double *row = c + i * ldc;
            for (long p = p0; p < p1; p++) {
                double av = alpha * (trans_a ? a[p * lda + i] : a[i * lda + p]);
                if (!trans_b) {
                    const double *br = b + p * ldb;
                    for (long j = 0; j < n; j++) row[j] += av * br[j];
                } else {
                    for (long j = 0; j < n; j++) row[j] += av * b[j * ldb + p];
                }
            }
        }
    }
}
