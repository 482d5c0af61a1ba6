import CNablaKernels

/// x·W + b as one op: the bias is written into each output tile inside the GEMM, and the
/// backward pass computes all three gradients from one closure. The layer behind `Dense`.
///
/// ```swift
/// let y = linear(x, weight, bias)                 // x: [batch, in], weight: [in, out], bias: [out]
/// let h = linear(x, weight, bias, relu: true)     // relu(x·W + b), the ReLU applied in the GEMM
/// ```
/// - Parameters:
///   - x: [..., in].
///   - weight: [in, out].
///   - bias: [out], or nil.
///   - relu: apply max(0, ·) to the result inside the GEMM (each output tile as it is finished),
///     instead of in a second pass.
public func linear(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?, relu: Bool = false) -> Tensor {
    nablaPrecondition(weight.rank == 2, "linear: weight must be [in, out], got \(weight.shape)")
    nablaPrecondition(x.rank >= 1 && x.shape[x.rank - 1] == weight.shape[0],
                      "linear: input \(x.shape) does not fit weight \(weight.shape): expected last dimension \(weight.shape[0])")
    nablaPrecondition(x.dtype == weight.dtype, "linear: dtypes \(x.dtype) and \(weight.dtype) differ")
    let k = weight.shape[0], n = weight.shape[1]
    let rows = x.count / Swift.max(k, 1)
    let outShape = Array(x.shape.dropLast()) + [n]
    let out = Tensor(uninitializedShape: outShape, dtype: x.dtype)
    if let bias {
        nablaPrecondition(bias.shape == [n] && bias.dtype == x.dtype, "linear: bias must be [\(n)] \(x.dtype), got \(bias.shape) \(bias.dtype)")
    }
    // Each output tile starts as the bias inside the GEMM, which then adds x·W onto it.
    gemmStrided(x, 0, false, weight, 0, false, out, 0, m: rows, n: n, k: k, lda: k, ldb: n, ldc: n, beta: 0, bias: bias, relu: relu)
    guard isGradEnabled, x.node != nil || weight.node != nil || bias?.node != nil else { return out }
    let xs = x.detached(), ws = weight.detached()
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    let y = relu ? out.detached() : nil
    return out.recorded(relu ? "linear_relu" : "linear", inputs) { g in
        let (g2, db) = epilogueGradients(g, reluOutput: y, rows: rows, columns: n, bias: bias != nil)
        let x2 = xs.viewed([rows, k])
        let dx = x.node == nil ? nil : Tensor.gemm(g2, transposeA: false, ws, transposeB: true).viewed(xs.shape)
        let dw = weight.node == nil ? nil : Tensor.gemm(x2, transposeA: true, g2, transposeB: false)
        return bias == nil ? [dx, dw] : [dx, dw, db]
    }
}
