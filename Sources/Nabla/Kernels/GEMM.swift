import CNablaKernels

/// The one Swift entry to the GEMM kernels, for every op that multiplies matrices (matmul, linear,
/// convolution): C[cOff...] = op(A[aOff...])·op(B[bOff...]) + beta·C with explicit leading
/// dimensions; float32 goes to `nabla_sgemm` (packed, AVX2 micro-kernels, threaded in C), float64
/// to `nabla_dgemm` (the blocked reference used by gradient checks).
///
/// With `relu`, C = max(0, C) afterwards: for float32 applied to each tile as the kernel finishes it.
func gemmStrided(_ a: Tensor, _ aOff: Int, _ ta: Bool, _ b: Tensor, _ bOff: Int, _ tb: Bool, _ c: Tensor, _ cOff: Int,
                 m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int, beta: Double, relu: Bool = false) {
    if a.dtype == .float32 {
        nabla_sgemm_relu(ta ? 1 : 0, tb ? 1 : 0, m, n, k, 1, a.pointer(Float.self) + aOff, lda, b.pointer(Float.self) + bOff, ldb,
                         Float(beta), c.pointer(Float.self) + cOff, ldc, relu ? 1 : 0)
    } else {
        nabla_dgemm(ta ? 1 : 0, tb ? 1 : 0, m, n, k, 1, a.pointer(Double.self) + aOff, lda, b.pointer(Double.self) + bOff, ldb,
                    beta, c.pointer(Double.self) + cOff, ldc)
        guard relu else { return }
        let p = c.pointer(Double.self) + cOff
        for i in 0..<m {
            for j in 0..<n where !(p[i * ldc + j] > 0) { p[i * ldc + j] = 0 }
        }
    }
}

/// The gradient through a ReLU fused into an op, from the op's output (positive exactly where its
/// input was).
func fusedReLUGradient(_ g: Tensor, output y: Tensor) -> Tensor {
    UnaryFunction.gradient(.relu, x: y, y: y, g: g)
}
