// Softmax and log-softmax along an axis, as single ops with hand-written gradients: stable
// (the row maximum is subtracted) and one pass cheaper than composing them from primitives.

/// exp(x) / Σ exp(x) along `axis`.
///
/// ```swift
/// softmax(Tensor([[1, 2, 3]]), axis: -1)   // [[0.0900, 0.2447, 0.6652]]
/// ```
/// - Parameters:
///   - x: the scores.
///   - axis: the axis that sums to 1.
public func softmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    let a = Shape.normalize(axis: axis, rank: x.rank, op: "softmax")
    let y = withNoGrad { () -> Tensor in
        let shifted = x - x.reduceKernel(.max, axes: [a], name: "softmax")
        let e = exp(shifted)
        return e / e.sum(axes: [a], keepDims: true)
    }.detached()
    return y.recorded("softmax", x) { g in
        [y * (g - (g * y).sum(axes: [a], keepDims: true))]
    }
}

/// x − log Σ exp(x) along `axis`: the log of ``softmax(_:axis:)``, without its underflow.
/// - Parameters:
///   - x: the scores.
///   - axis: the axis normalised over.
public func logSoftmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    let a = Shape.normalize(axis: axis, rank: x.rank, op: "log_softmax")
    let y = withNoGrad { () -> Tensor in
        let shifted = x - x.reduceKernel(.max, axes: [a], name: "log_softmax")
        return shifted - log(exp(shifted).sum(axes: [a], keepDims: true))
    }.detached()
    return y.recorded("log_softmax", x) { g in
        [g - exp(y) * g.sum(axes: [a], keepDims: true)]
    }
}
