import CNablaKernels

/// Fused multi-head scaled dot-product attention over packed projections, as a Transformer's
/// single query-key-value Dense layer produces them: `qkv` [batch, steps, 3·heads·headSize] holds the
/// queries, then the keys, then the values, each split into `heads` heads. Returns
/// softmax(q·kᵀ/√headSize)·v per head, heads side by side: [batch, steps, heads·headSize].
///
/// With `causal`, step i attends only to steps ≤ i. In float32 one kernel computes scores, softmax
/// and the weighted values without materialising the [batch, heads, steps, steps] score matrix; it
/// keeps only each query's log-sum-exp and recomputes the probabilities in the backward pass. In
/// float64 the same function is composed from matmul, softmax and select (the reference).
///
/// ```swift
/// let qkv = Tensor.randomNormal([2, 16, 3 * 64])
/// let context = scaledDotProductAttention(packed: qkv, heads: 4, causal: true)   // [2, 16, 64]
/// ```
/// - Parameters:
///   - qkv: the packed projections [batch, steps, 3·heads·headSize].
///   - heads: the number of heads.
///   - causal: let each step attend only to itself and earlier steps.
public func scaledDotProductAttention(packed qkv: Tensor, heads: Int, causal: Bool = true) -> Tensor {
    nablaPrecondition(qkv.dtype == .float32 || qkv.dtype == .float64, "attention: needs a float32 or float64 tensor, got \(qkv.dtype)")
    nablaPrecondition(qkv.rank == 3, "attention: packed projections must be [batch, steps, 3·dModel], got \(qkv.shape)")
    let (b, t, width) = (qkv.shape[0], qkv.shape[1], qkv.shape[2])
    nablaPrecondition(heads > 0 && width % (3 * heads) == 0,
                      "attention: the last axis \(width) must be 3 · heads (\(heads)) · head size")
    let hd = width / (3 * heads), d = heads * hd
    let scale = 1 / Double(hd).squareRoot()
    if qkv.dtype == .float64 { return composedAttention(qkv, heads: heads, headSize: hd, scale: scale, causal: causal) }
    let y = Tensor(uninitializedShape: [b, t, d], dtype: qkv.dtype)
    let lse = Tensor(uninitializedShape: [b, heads, t], dtype: qkv.dtype)
    let flag: Int32 = causal ? 1 : 0
    nabla_attention_f32(qkv.pointer(Float.self), y.pointer(Float.self), lse.pointer(Float.self), b, t, heads, hd, flag, Float(scale))
    let packed = qkv.detached(), out = y.detached()
    return y.recorded("attention", qkv) { g in
        let dqkv = Tensor(uninitializedShape: packed.shape, dtype: packed.dtype)
        nabla_attention_backward_f32(packed.pointer(Float.self), out.pointer(Float.self), lse.pointer(Float.self), g.pointer(Float.self),
                                     dqkv.pointer(Float.self), b, t, heads, hd, flag, Float(scale))
        return [dqkv]
    }
}

/// The float64 reference: softmax(q·kᵀ·scale + causal mask)·v composed from primitive ops, so that
/// autograd derives its gradient (checked by finite differences) and the fused float32 kernel is
/// checked against it.
func composedAttention(_ qkv: Tensor, heads: Int, headSize hd: Int, scale: Double, causal: Bool) -> Tensor {
    let (b, t) = (qkv.shape[0], qkv.shape[1])
    let parts = qkv.reshaped([b, t, 3, heads, hd]).permuted([2, 0, 3, 1, 4]).split(parts: 3, axis: 0).map { $0.squeezed(axes: [0]) }
    var scores = matmul(parts[0], parts[1].transposed()) * scale
    if causal {
        let steps = Tensor.arange(0, Double(t), dtype: .float64)
        scores = select(steps.reshaped([t, 1]) .>= steps.reshaped([1, t]), scores, Tensor(-Double.infinity, dtype: .float64))
    }
    return matmul(softmax(scores, axis: -1), parts[2]).permuted([0, 2, 1, 3]).reshaped([b, t, heads * hd])
}
