import CNablaKernels

/// The one Swift entry to the GEMM kernels, for every op that multiplies matrices (matmul, linear,
/// convolution): C[cOff...] = op(A[aOff...])·op(B[bOff...]) + beta·C with explicit leading
/// dimensions; float32 goes to `nabla_sgemm` (packed, AVX2 micro-kernels, threaded in C), float64
/// to `nabla_dgemm` (the blocked reference used by gradient checks).
func gemmStrided(_ a: Tensor, _ aOff: Int, _ ta: Bool, _ b: Tensor, _ bOff: Int, _ tb: Bool, _ c: Tensor, _ cOff: Int,
                 m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int, beta: Double) {
    if a.dtype == .float32 {
        nabla_sgemm(ta ? 1 : 0, tb ? 1 : 0, m, n, k, 1, a.pointer(Float.self) + aOff, lda, b.pointer(Float.self) + bOff, ldb,
                    Float(beta), c.pointer(Float.self) + cOff, ldc)
    } else {
        nabla_dgemm(ta ? 1 : 0, tb ? 1 : 0, m, n, k, 1, a.pointer(Double.self) + aOff, lda, b.pointer(Double.self) + bOff, ldb,
                    beta, c.pointer(Double.self) + cOff, ldc)
    }
}
