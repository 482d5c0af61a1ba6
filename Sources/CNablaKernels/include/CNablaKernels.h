// CNablaKernels: the hot loops of Nabla that need SIMD, threads or raw memory.
//
// Everything here is plain C with no compiler flags: SIMD variants are compiled
// with __attribute__((target(...))) and chosen at run time from cpuid, so the
// package builds anywhere and uses AVX2+FMA (x86-64) or NEON (arm64) where present.
#ifndef CNABLA_KERNELS_H
#define CNABLA_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: CPU features

/// Name of the GEMM micro-kernel chosen for this CPU ("avx512f-12x32", "avx2-fma-6x16", "neon-6x16" or "portable-6x16").
const char *nabla_gemm_kernel_name(void);

/// Allows kernels up to SIMD `level` only, on the calling thread and in the thread-pool work it
/// starts: 0 portable, 1 AVX2+FMA (NEON on arm64), 2 AVX-512F; a negative level restores the
/// process-wide limit (NABLA_SIMD=portable|avx2|avx512, else the best the CPU has). It applies to
/// the GEMM micro-kernels and to every vectorised loop, so that tests can check each path on a CPU
/// that has them all without changing the kernels of tests running beside them.
void nabla_simd_limit(int level);
/// The level kernels use now: the lower of the limit and what the CPU has.
int nabla_simd_level(void);

// MARK: Caching allocator

/// 64-byte aligned memory of at least `bytes` bytes, reused from a per-size-class cache when possible.
void *nabla_alloc(size_t bytes);
/// Returns memory from `nabla_alloc` (with the same `bytes`) to the cache.
void nabla_free(void *ptr, size_t bytes);
/// Releases every cached block to the system.
void nabla_allocator_trim(void);
/// Bytes currently held in the cache (not in use).
size_t nabla_allocator_cached_bytes(void);

// MARK: Thread pool

typedef void (*nabla_range_fn)(void *ctx, long begin, long end);

/// Number of threads the pool uses (the calling thread included).
int nabla_thread_count(void);
/// Sets the number of threads (1 disables threading). Takes effect for the next parallel call.
void nabla_set_thread_count(int count);
/// Splits [0, n) into one contiguous range per thread (boundaries multiples of `align`) and runs
/// `fn` on each, the calling thread included; returns when all are done. Runs inline when
/// n < min_per_thread * 2, when the pool is busy with another caller, or inside a parallel region.
void nabla_parallel_for(long n, long min_per_thread, long align, nabla_range_fn fn, void *ctx);

// MARK: Gradient mode (per thread)

extern _Thread_local int nabla_tls_grad_disabled;
static inline int nabla_grad_enabled(void) { return nabla_tls_grad_disabled == 0; }
static inline void nabla_set_grad_enabled(int enabled) { nabla_tls_grad_disabled = enabled ? 0 : 1; }

// MARK: GEMM

/// C = alpha * op(A) * op(B) + beta * C for row-major matrices; op(X) is X or its transpose.
/// op(A) is m x k, op(B) is k x n; lda/ldb/ldc are row strides in elements. beta == 0 never reads C.
void nabla_sgemm(int trans_a, int trans_b, long m, long n, long k, float alpha,
                 const float *a, long lda, const float *b, long ldb,
                 float beta, float *c, long ldc);
/// nabla_sgemm with a fused epilogue: C = op(A)·op(B)·alpha + beta·C + bias (bias: n floats, one per
/// column, or null), then C = max(0, C) when relu != 0. The bias is written into each register
/// tile of C just before the products are added to it, and the ReLU applied to each tile as it is
/// finished (while it is in L1): a layer's bias and ReLU without passes over C in memory. The sums
/// are those of a bias prefill followed by nabla_sgemm with beta 1, then a ReLU.
void nabla_sgemm_fused(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                       const float *b, long ldb, float beta, float *c, long ldc, const float *bias, int relu);

/// The Float64 counterpart of `nabla_sgemm` (blocked, portable; used for gradient checks).
void nabla_dgemm(int trans_a, int trans_b, long m, long n, long k, double alpha,
                 const double *a, long lda, const double *b, long ldb,
                 double beta, double *c, long ldc);



// MARK: Optimizer updates (float32, in place)

/// One Adam step over n elements: m = b1·m + (1−b1)·g; v = b2·v + (1−b2)·g²;
/// p = p·decay − step·m/(√v + eps). Vectorised (AVX2 where present) and threaded for large n.
void nabla_adam_f32(float *p, const float *g, float *m, float *v, long n,
                    float b1, float b2, float eps, float step, float decay);

// MARK: Embeddings with row-sparse gradients (float32)

/// out[b] = mean (sum when there is one) of table rows ids[b, j] over j, skipping ids equal to `pad`
/// (pass −1 for none); a bag of padding only is zero.
void nabla_embedding_bag_f32(const float *table, const int32_t *ids, long bags, long length, long d, int32_t pad, float *out);
/// The row-sparse gradient of a lookup: for every non-pad id, g[b] (divided by the bag's count when
/// `mean`) added into that id's row; writes each touched row once (out_rows, first-seen order) with
/// its summed values, and returns how many (−1 when out of memory). Outputs hold bags·length rows.
long nabla_embedding_bag_backward_f32(const int32_t *ids, long bags, long length, int32_t pad, int mean, const float *g, long d,
                                      long table_rows, int32_t *out_rows, float *out_values);
/// Updates of only the rows listed (each once): p[r] = p[r]·decay − lr·g (SGD); Adam as
/// `nabla_adam_f32` on each row (lazy Adam); Adagrad acc[r] += g², p[r] = p[r]·decay − lr·g/√(acc + eps) (Keras's ε inside the root).
void nabla_sparse_sgd_f32(float *p, long d, const int32_t *rows, long k, const float *values, float lr, float decay);
void nabla_sparse_adam_f32(float *p, float *m, float *v, long d, const int32_t *rows, long k, const float *values,
                           float b1, float b2, float eps, float step, float decay);
void nabla_sparse_adagrad_f32(float *p, float *acc, long d, const int32_t *rows, long k, const float *values, float lr, float eps,
                              float decay);

// MARK: Elementwise kernels the compiler vectorises in C (restrict pointers, AVX2 where present).
// Every kernel here decides its own threading on the pool, next to its loop; callers pass whole tensors.

/// y = max(x, 0) over n floats.
void nabla_relu_f32(const float *x, float *y, long n);
/// dx = x > 0 ? g : 0 over n floats.
void nabla_relu_backward_f32(const float *x, const float *g, float *dx, long n);
/// Max pooling of NHWC float images over windows (kh, kw) with strides, dilations and padding
/// (top, left); writes the output [n, oh, ow, c] and each winner's flat input index.
void nabla_maxpool2d_f32(const float *x, float *y, int32_t *winners, long n, long h, long w, long c, long oh, long ow,
                         long kh, long kw, long sh, long sw, long dh, long dw, long pt, long pl);
/// The max-pooling gradient: dx (n images of input_per_image values, need not be initialised) is
/// zero except dx[winners[i]] += g[i] for each image's per_image outputs.
void nabla_maxpool2d_backward_f32(const float *g, float *dx, const int32_t *winners, long n, long per_image,
                                  long input_per_image);

/// im2col for NHWC images: cols[(n, oy, ox), (i, j, ch)] = x[n, iy, ix, c0 + ch] (zero outside), or
/// with `scatter` the adjoint: x[...] += cols[...].
void nabla_im2col_f32(float *x, float *cols, long n, long h, long w, long c, long oh, long ow, long kh, long kw,
                      long sh, long sw, long dh, long dw, long pt, long pl, long c0, long cg, int scatter);

// MARK: Transformer kernels (float32 with AVX2 where present; float64 is composed from primitive ops in Swift)

/// Exact GELU y = x·Φ(x) over n floats, and its gradient dx = g·(Φ(x) + x·φ(x)).
void nabla_gelu_f32(const float *x, float *y, long n);
void nabla_gelu_backward_f32(const float *x, const float *g, float *dx, long n);

/// Layer normalisation of `rows` rows of width d: y = (x − mean)·rstd·gamma + beta (gamma, beta may
/// be NULL); writes each row's mean and 1/√(var + eps) for the backward pass.
void nabla_layernorm_f32(const float *x, const float *gamma, const float *beta, float *y, float *mean, float *rstd,
                         long rows, long d, float eps);
/// The gradient of layer normalisation: writes dx, and adds the row sums into dgamma and dbeta
/// (either may be NULL).
void nabla_layernorm_backward_f32(const float *x, const float *gamma, const float *mean, const float *rstd,
                                  const float *dy, float *dx, float *dgamma, float *dbeta, long rows, long d);

/// Fused multi-head scaled dot-product attention over packed projections qkv [b, t, 3, h, hd]:
/// y [b, t, h, hd] = softmax(scale·q·kᵀ, causal mask when `causal`)·v, and the log-sum-exp of each
/// query's scores lse [b, h, t], which is all the backward pass keeps.
void nabla_attention_f32(const float *qkv, float *y, float *lse, long b, long t, long h, long hd, int causal, float scale);
/// The gradient of `nabla_attention_f32` with respect to qkv, recomputing the probabilities from lse.
void nabla_attention_backward_f32(const float *qkv, const float *y, const float *lse, const float *dy, float *dqkv,
                                  long b, long t, long h, long hd, int causal, float scale);

// MARK: Losses and reductions (float32)

/// Softmax cross-entropy of rows z [n, c] against labels [n]: writes each row's loss and
/// log-sum-exp; rows labelled `ignore` (when has_ignore) get 0.
void nabla_cross_entropy_f32(const float *z, const int32_t *labels, float *loss, float *lse, long n, long c,
                             int has_ignore, int32_t ignore);
/// Its gradient: dz = g·(softmax(z) − onehot(label)), zero for ignored rows.
void nabla_cross_entropy_backward_f32(const float *z, const int32_t *labels, const float *lse, const float *g, float *dz,
                                      long n, long c, int has_ignore, int32_t ignore);
/// out[j] = Σ_r g[r·n + j]: the bias gradient of a linear layer.
void nabla_column_sums_f32(const float *g, long rows, long n, float *out);
/// The gradient through a fused ReLU and the bias gradient in one pass: dg = g where y > 0 (else 0),
/// sums = the column sums of dg (the same values as nabla_relu_backward_f32 then nabla_column_sums_f32).
void nabla_relu_backward_column_sums_f32(const float *y, const float *g, float *dg, long rows, long n, float *sums);
/// out[i] = Σ_c a[i,c]·b[i,c] for rows × d matrices (rowDot).
void nabla_row_dot_f32(const float *a, const float *b, float *out, long rows, long d);
/// out[i,c] = g[i]·v[i,c] (rowDot's gradient).
void nabla_scale_rows_f32(const float *g, const float *v, float *out, long rows, long d);

#ifdef __cplusplus
}
#endif
#endif
