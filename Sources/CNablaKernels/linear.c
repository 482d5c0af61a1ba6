// Gradients of a GEMM op's epilogue (linear, conv2d): the bias gradient is the column sums of the
// output gradient, taken through a fused ReLU when there is one. (The forward bias and ReLU are
// applied inside the GEMM: gemm.c.)
#include <string.h>
#include "CNablaKernels.h"
#include "variants.h"

NABLA_VARIANTS(column_sums, (const float *restrict g, long rows, long n, long c0, long c1, float *restrict out),
               (g, rows, n, c0, c1, out),
               for (long j = c0; j < c1; j++) out[j] = 0.0f;
               for (long r = 0; r < rows; r++) {
                   const float *restrict row = g + r * n;
                   for (long j = c0; j < c1; j++) out[j] += row[j];
               })

/// The gradient through a ReLU from its output y (dg = g where y > 0, else 0), summed by column in
/// the same order as column_sums: one pass instead of two over a tall gradient.
NABLA_VARIANTS(relu_column_sums, (const float *restrict y, const float *restrict g, float *restrict dg, long rows, long n,
                                  float *restrict out),
               (y, g, dg, rows, n, out),
               for (long j = 0; j < n; j++) out[j] = 0.0f;
               for (long r = 0; r < rows; r++) {
                   for (long j = 0; j < n; j++) {
                       float v = y[r * n + j] > 0.0f ? g[r * n + j] : 0.0f;
                       dg[r * n + j] = v;
                       out[j] += v;
                   }
               })

typedef struct { const float *g; float *out; long rows, n; const float *y; float *dg; } colsum_job;

static void colsum_range(void *ctx, long begin, long end) {
    const colsum_job *j = (const colsum_job *)ctx;
    column_sums_dispatch(j->g, j->rows, j->n, begin, end, j->out);
}

/// Rows per partial sum when a tall matrix is summed in blocks of rows.
#define NABLA_COLSUM_BLOCK 2048

/// Block `b` of rows summed into partials row b (the thread pool's unit is a block).
static void colsum_blocks(void *ctx, long begin, long end) {
    const colsum_job *j = (const colsum_job *)ctx;
    for (long b = begin; b < end; b++) {
        long r0 = b * NABLA_COLSUM_BLOCK, r1 = r0 + NABLA_COLSUM_BLOCK < j->rows ? r0 + NABLA_COLSUM_BLOCK : j->rows;
        if (j->y) relu_column_sums_dispatch(j->y + r0 * j->n, j->g + r0 * j->n, j->dg + r0 * j->n, r1 - r0, j->n, j->out + b * j->n);
        else column_sums_dispatch(j->g + r0 * j->n, r1 - r0, j->n, 0, j->n, j->out + b * j->n);
    }
}

/// Whether a rows x n matrix is summed in row blocks (tall and narrow) rather than by columns.
static inline long colsum_row_blocks(long rows, long n) {
    long blocks = (rows + NABLA_COLSUM_BLOCK - 1) / NABLA_COLSUM_BLOCK;
    return blocks >= 4 && n <= 1024 ? blocks : 0;
}

/// Sums the blocks' partials in order into out (job.out is the partials buffer).
static void colsum_by_blocks(colsum_job job, long blocks, float *out) {
    float *partial = (float *)nabla_alloc(sizeof(float) * (size_t)(blocks * job.n));
    job.out = partial;
    nabla_parallel_for(blocks, 1, 1, colsum_blocks, &job);
    column_sums_dispatch(partial, blocks, job.n, 0, job.n, out);
    nabla_free(partial, sizeof(float) * (size_t)(blocks * job.n));
}

void nabla_column_sums_f32(const float *g, long rows, long n, float *out) {
    colsum_job job = {g, out, rows, n, 0, 0};
    long blocks = colsum_row_blocks(rows, n);
    if (blocks) {
        // Tall and narrow (a convolution's bias gradient: every pixel of the batch a row): splitting
        // columns would leave threads idle or sharing cache lines; sum fixed blocks of rows instead,
        // then the partials in order (the same result for any thread count).
        colsum_by_blocks(job, blocks, out);
        return;
    }
    long per = 32768 / (rows > 0 ? rows : 1);
    per = (per + 15) / 16 * 16;
    nabla_parallel_for(n, per < 16 ? 16 : per, 16, colsum_range, &job);
}

void nabla_relu_backward_column_sums_f32(const float *y, const float *g, float *dg, long rows, long n, float *sums) {
    long blocks = colsum_row_blocks(rows, n);
    if (!blocks) {
        nabla_relu_backward_f32(y, g, dg, rows * n);
        nabla_column_sums_f32(dg, rows, n, sums);
        return;
    }
    colsum_job job = {g, sums, rows, n, y, dg};
    colsum_by_blocks(job, blocks, sums);
}

// MARK: Row-wise inner products (rowDot): out[i] = Σ_c a[i,c]·b[i,c], and its gradient rows g[i]·v[i,:].

NABLA_VARIANTS(row_dot, (const float *restrict a, const float *restrict b, float *restrict out, long rows, long d),
               (a, b, out, rows, d),
    for (long i = 0; i < rows; i++) {
        const float *x = a + i * d, *y = b + i * d;
        float s = 0;
        for (long c = 0; c < d; c++) s += x[c] * y[c];
        out[i] = s;
    })

void nabla_row_dot_f32(const float *a, const float *b, float *out, long rows, long d) { row_dot_dispatch(a, b, out, rows, d); }

NABLA_VARIANTS(scale_rows, (const float *restrict g, const float *restrict v, float *restrict out, long rows, long d),
               (g, v, out, rows, d),
    for (long i = 0; i < rows; i++) {
        const float k = g[i];
        for (long c = 0; c < d; c++) out[i * d + c] = k * v[i * d + c];
    })

void nabla_scale_rows_f32(const float *g, const float *v, float *out, long rows, long d) { scale_rows_dispatch(g, v, out, rows, d); }
