import CNablaKernels

// Matrix multiplication with NumPy semantics: 1-D operands are promoted (and the added dimension
// removed), batch dimensions broadcast. The kernels are CNablaKernels' packed GEMM.

/// The matrix product of `a` and `b`.
///
/// ```swift
/// matmul(Tensor([[1, 2]]), Tensor([[3], [4]]))          // [[11]]
/// matmul(Tensor.zeros([8, 2, 3]), Tensor.zeros([3, 5])).shape   // [8, 2, 5]
/// ```
///
/// Shapes that do not fit stop the program with a message naming both, as
/// ``Shape/matmul(_:_:)`` reports them: `matmul: [3] and [2, 2] do not fit: inner dimensions 3 and 2 differ`.
/// - Parameters:
///   - a: [..., m, k] (or [k]).
///   - b: [..., k, n] (or [k]); batch axes broadcast.
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    let resultShape = shapeOrTrap { () throws(ShapeError) in try Shape.matmul(a.shape, b.shape) }
    nablaPrecondition(a.dtype == b.dtype, "matmul: dtypes \(a.dtype) and \(b.dtype) differ")
    nablaPrecondition(a.dtype.isFloatingPoint, "matmul: needs float32 or float64 tensors, got \(a.dtype)")
    if a.rank == 1 || b.rank == 1 {
        let a2 = a.rank == 1 ? a.unsqueezed(axis: 0) : a
        let b2 = b.rank == 1 ? b.unsqueezed(axis: 1) : b
        return Tensor.matmulBatched(a2, b2).reshaped(resultShape)
    }
    return Tensor.matmulBatched(a, b)
}

extension Tensor {
    /// `self` times `other` (see ``matmul(_:_:)``).
    public func matmul(_ other: Tensor) -> Tensor { Nabla.matmul(self, other) }

    /// Matmul of operands with rank ≥ 2, with its gradient.
    static func matmulBatched(_ a: Tensor, _ b: Tensor) -> Tensor {
        let out = gemm(a, transposeA: false, b, transposeB: false)
        let x = a.detached(), y = b.detached()
        return out.recorded("matmul", a, b) { g in
            let ga = a.node == nil ? nil : gemm(g, transposeA: false, y, transposeB: true).sumToShape(x.shape)
            guard b.node != nil else { return [ga, nil] }
            if y.rank == 2 && x.rank > 2 {
                // Aᵀ·G summed over a batch of A and G (a Dense layer on a sequence) is one tall GEMM.
                let k = x.shape[x.rank - 1], n = g.shape[g.rank - 1]
                return [ga, gemm(x.viewed([x.count / k, k]), transposeA: true, g.viewed([g.count / n, n]), transposeB: false)]
            }
            return [ga, gemm(x, transposeA: true, g, transposeB: false).sumToShape(y.shape)]
        }
    }

    /// op(a) · op(b) over broadcast batch dimensions, where op transposes the last two dimensions
    /// when asked. The result has the broadcast batch shape (callers sum it back if needed).
    static func gemm(_ a: Tensor, transposeA: Bool, _ b: Tensor, transposeB: Bool) -> Tensor {
        let ar = a.rank, br = b.rank
        let m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2]
        let k = transposeA ? a.shape[ar - 2] : a.shape[ar - 1]
        let kb = transposeB ? b.shape[br - 1] : b.shape[br - 2]
        let n = transposeB ? b.shape[br - 2] : b.shape[br - 1]
        nablaPrecondition(k == kb, "matmul: \(a.shape) and \(b.shape) do not fit: inner dimensions \(k) and \(kb) differ")
        let batchA = Array(a.shape[..<(ar - 2)]), batchB = Array(b.shape[..<(br - 2)])
        // A stack of matrices times one matrix is one tall GEMM.
        if batchB.isEmpty && !transposeA && !batchA.isEmpty {
            let rows = Shape.elementCount(batchA) * m
            let out = Tensor(uninitializedShape: batchA + [m, n], dtype: a.dtype)
            kernel(a, 0, false, b, 0, transposeB, out, 0, rows, n, k, lda: k, ldb: b.shape[br - 1])
            return out
        }
        let batch = shapeOrTrap { () throws(ShapeError) in try Shape.broadcast(batchA, batchB, op: "matmul") }
        let out = Tensor(uninitializedShape: batch + [m, n], dtype: a.dtype)
        let nb = Shape.elementCount(batch)
        let sa = Shape.broadcastStrides(batchA, to: batch), sb = Shape.broadcastStrides(batchB, to: batch)
        let strideA = a.shape[ar - 2] * a.shape[ar - 1], strideB = b.shape[br - 2] * b.shape[br - 1]
        let bstrA = sa.map { $0 * strideA }, bstrB = sb.map { $0 * strideB }
        var index = [Int](repeating: 0, count: batch.count)
        for i in 0..<nb {
            var offA = 0, offB = 0
            for d in 0..<batch.count { offA += index[d] * bstrA[d]; offB += index[d] * bstrB[d] }
            kernel(a, offA, transposeA, b, offB, transposeB, out, i * m * n, m, n, k, lda: a.shape[ar - 1], ldb: b.shape[br - 1])
            var d = batch.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < batch[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        return out
    }

    private static func kernel(_ a: Tensor, _ offA: Int, _ ta: Bool, _ b: Tensor, _ offB: Int, _ tb: Bool,
                               _ c: Tensor, _ offC: Int, _ m: Int, _ n: Int, _ k: Int, lda: Int, ldb: Int) {
        gemmStrided(a, offA, ta, b, offB, tb, c, offC, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: n, beta: 0)
    }
}

/// Inner products along the last axis: `out[i] = Σ_c a[i, c]·b[i, c]` for tensors of one shape
/// [..., d] → [...], as `(a * b).sum(axis: -1)` but in one pass forward and one backward, without
/// the [..., d] product in between. Matrix factorisation's scores and two-tower models use it.
///
/// ```swift
/// let scores = rowDot(userVectors, itemVectors)    // [batch, 32] · [batch, 32] → [batch]
/// ```
/// - Parameters:
///   - a: [..., d] floating-point values.
///   - b: the same shape and dtype.
public func rowDot(_ a: Tensor, _ b: Tensor) -> Tensor {
    nablaPrecondition(a.shape == b.shape && a.rank >= 1, "rowDot: shapes \(a.shape) and \(b.shape) must be equal, rank ≥ 1")
    nablaPrecondition(a.dtype == b.dtype && a.dtype.isFloatingPoint, "rowDot: dtypes \(a.dtype) and \(b.dtype) must be one floating-point type")
    let d = a.shape[a.rank - 1], rows = d == 0 ? 0 : a.count / d
    let out = Tensor(uninitializedShape: Array(a.shape.dropLast()), dtype: a.dtype)
    func forward<T: FloatingElement>(_: T.Type) {
        let x = a.pointer(T.self), y = b.pointer(T.self), o = out.pointer(T.self)
        for i in 0..<rows {
            var s = T.zero
            for c in 0..<d { s += x[i * d + c] * y[i * d + c] }
            o[i] = s
        }
    }
    if a.dtype == .float32 {
        nabla_row_dot_f32(a.pointer(Float.self), b.pointer(Float.self), out.pointer(Float.self), rows, d)
    } else {
        forward(Double.self)
    }
    guard isGradEnabled, a.node != nil || b.node != nil else { return out }
    let (av, bv) = (a.detached(), b.detached())
    return out.recorded("row_dot", a, b) { g in
        // d out[i] / d a[i, c] = b[i, c]: each row of the other input scaled by its output's gradient.
        func scaled(_ v: Tensor) -> Tensor {
            let r = Tensor(uninitializedShape: v.shape, dtype: v.dtype)
            func run<T: FloatingElement>(_: T.Type) {
                let s = v.pointer(T.self), gg = g.pointer(T.self), o = r.pointer(T.self)
                for i in 0..<rows {
                    let k = gg[i]
                    for c in 0..<d { o[i * d + c] = k * s[i * d + c] }
                }
            }
            if v.dtype == .float32 {
                nabla_scale_rows_f32(g.pointer(Float.self), v.pointer(Float.self), r.pointer(Float.self), rows, d)
            } else {
                run(Double.self)
            }
            return r
        }
        return [a.node == nil ? nil : scaled(bv), b.node == nil ? nil : scaled(av)]
    }
}
