import CNablaKernels

/// The one Swift entry to the GEMM kernels, for every op that multiplies matrices (matmul, linear,
/// convolution): C[cOff...] = op(A[aOff...])·op(B[bOff...]) + beta·C with explicit leading
/// dimensions; float32 goes to `nabla_sgemm` (packed, AVX2 micro-kernels, threaded in C), float64
/// to `nabla_dgemm` (the blocked reference used by gradient checks).
///
/// With a `bias` (n values from `biasOffset`, one per column of C, and beta 0), each row of C
/// starts as the bias; with `relu`, C = max(0, C) afterwards. For float32 both happen in the GEMM,
/// tile by tile (`nabla_sgemm_fused`).
func gemmStrided(_ a: Tensor, _ aOff: Int, _ ta: Bool, _ b: Tensor, _ bOff: Int, _ tb: Bool, _ c: Tensor, _ cOff: Int,
                 m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int, beta: Double,
                 bias: Tensor? = nil, biasOffset: Int = 0, relu: Bool = false) {
    if a.dtype == .float32 {
        nabla_sgemm_fused(ta ? 1 : 0, tb ? 1 : 0, m, n, k, 1, a.pointer(Float.self) + aOff, lda, b.pointer(Float.self) + bOff, ldb,
                          Float(beta), c.pointer(Float.self) + cOff, ldc, bias.map { $0.pointer(Float.self) + biasOffset }, relu ? 1 : 0)
    } else {
        let p = c.pointer(Double.self) + cOff
        if let bias {
            let bp = bias.pointer(Double.self) + biasOffset
            for i in 0..<m { for j in 0..<n { p[i * ldc + j] = (beta == 0 ? 0 : beta * p[i * ldc + j]) + bp[j] } }
        }
        nabla_dgemm(ta ? 1 : 0, tb ? 1 : 0, m, n, k, 1, a.pointer(Double.self) + aOff, lda, b.pointer(Double.self) + bOff, ldb,
                    bias == nil ? beta : 1, p, ldc)
        guard relu else { return }
        for i in 0..<m {
            for j in 0..<n where !(p[i * ldc + j] > 0) { p[i * ldc + j] = 0 }
        }
    }
}

/// What the backward pass of a GEMM op with a fused epilogue (bias, then optionally ReLU) starts
/// from: the upstream gradient `g` taken back through the ReLU (from the op's output `y`, positive
/// exactly where its input was) as a [rows, n] matrix, and the bias gradient (its column sums) when
/// there is a bias. For float32 with both, one pass over the gradient does the two.
/// - Parameters:
///   - g: the gradient of the op's output, rows·n values.
///   - y: the op's output when it applied a ReLU, else nil.
///   - rows: rows of the output matrix (every leading dimension of the output together).
///   - n: columns of the output matrix.
///   - bias: whether the op added a bias (then its gradient is returned).
func epilogueGradients(_ g: Tensor, reluOutput y: Tensor?, rows: Int, columns n: Int, bias: Bool) -> (g: Tensor, bias: Tensor?) {
    if g.dtype == .float32, let y, bias {
        let dg = Tensor(uninitializedShape: [rows, n], dtype: .float32), db = Tensor(uninitializedShape: [n], dtype: .float32)
        nabla_relu_backward_column_sums_f32(y.pointer(Float.self), g.pointer(Float.self), dg.pointer(Float.self), rows, n,
                                            db.pointer(Float.self))
        return (dg, db)
    }
    let dg = (y.map { UnaryFunction.gradient(.relu, x: $0, y: $0, g: g) } ?? g).viewed([rows, n])
    guard bias else { return (dg, nil) }
    guard dg.dtype == .float32 else { return (dg, dg.sum(axes: [0])) }
    let db = Tensor(uninitializedShape: [n], dtype: .float32)
    nabla_column_sums_f32(dg.pointer(Float.self), rows, n, db.pointer(Float.self))
    return (dg, db)
}
