import CNablaKernels

/// Layer normalisation over the last axis: (x − mean) / √(variance + ε) · gamma + beta, with the
/// biased variance (as Keras and PyTorch). Float32 runs one fused kernel with its gradient;
/// float64 is composed from primitive ops (the reference the fused kernel is checked against).
///
/// ```swift
/// let y = layerNorm(x, gamma: g, beta: b, epsilon: 1e-5)   // x [..., d], g and b [d]
/// ```
/// - Parameters:
///   - x: [..., d], normalised over the last axis.
///   - gamma: the scale [d], or nil.
///   - beta: the offset [d], or nil.
///   - epsilon: added to the variance.
public func layerNorm(_ x: Tensor, gamma: Tensor? = nil, beta: Tensor? = nil, epsilon: Double = 1e-5) -> Tensor {
    nablaPrecondition(x.dtype == .float32 || x.dtype == .float64, "layer_norm: needs a float32 or float64 tensor, got \(x.dtype)")
    nablaPrecondition(x.rank >= 1, "layer_norm: needs at least one axis")
    let d = x.shape[x.rank - 1], rows = x.count / Swift.max(d, 1)
    for (name, p) in [("gamma", gamma), ("beta", beta)] {
        guard let p else { continue }
        nablaPrecondition(p.shape == [d] && p.dtype == x.dtype, "layer_norm: \(name) must be [\(d)] \(x.dtype), got \(p.shape) \(p.dtype)")
    }
    if x.dtype == .float64 { return composedLayerNorm(x, gamma: gamma, beta: beta, epsilon: epsilon) }
    let y = Tensor(uninitializedShape: x.shape, dtype: x.dtype)
    let mean = Tensor(uninitializedShape: [rows], dtype: x.dtype), rstd = Tensor(uninitializedShape: [rows], dtype: x.dtype)
    nabla_layernorm_f32(x.pointer(Float.self), gamma?.pointer(Float.self), beta?.pointer(Float.self), y.pointer(Float.self),
                        mean.pointer(Float.self), rstd.pointer(Float.self), rows, d, Float(epsilon))
    let xs = x.detached(), gs = gamma?.detached()
    var inputs = [x]
    if let gamma { inputs.append(gamma) }
    if let beta { inputs.append(beta) }
    return y.recorded("layer_norm", inputs) { g in
        let dx = Tensor(uninitializedShape: xs.shape, dtype: xs.dtype)
        let dgamma = gs.map { _ in Tensor.zeros([d], dtype: xs.dtype) }, dbeta = beta.map { _ in Tensor.zeros([d], dtype: xs.dtype) }
        nabla_layernorm_backward_f32(xs.pointer(Float.self), gs?.pointer(Float.self), mean.pointer(Float.self), rstd.pointer(Float.self),
                                     g.pointer(Float.self), dx.pointer(Float.self), dgamma?.pointer(Float.self), dbeta?.pointer(Float.self), rows, d)
        return [dx] + (dgamma.map { [$0] } ?? []) + (dbeta.map { [$0] } ?? [])
    }
}

/// The float64 reference, composed from mean, subtraction, division and square root.
func composedLayerNorm(_ x: Tensor, gamma: Tensor?, beta: Tensor?, epsilon: Double) -> Tensor {
    let centred = x - x.mean(axes: [x.rank - 1], keepDims: true)
    var y = centred / sqrt((centred * centred).mean(axes: [x.rank - 1], keepDims: true) + epsilon)
    if let gamma { y = y * gamma }
    if let beta { y = y + beta }
    return y
}
