import CNablaKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-sample softmax cross-entropy of `logits` [N, C] against integer `labels` [N]. Float32 is
/// fused: one pass computes each row's log-sum-exp and loss, and the gradient is softmax − one-hot;
/// float64 is composed from log-softmax and a one-hot mask (the reference).
///
/// Rows whose label is `ignoreIndex` (PyTorch's `ignore_index`, e.g. −1 for padding) get loss 0
/// and no gradient.
///
/// ```swift
/// let losses = softmaxCrossEntropy(logits: net(x), labels: y)   // [N]
/// let loss = losses.mean()
/// ```
/// - Parameters:
///   - logits: [N, C] unnormalised scores.
///   - labels: [N] int32 class indices.
///   - ignoreIndex: a label whose rows get loss 0 and no gradient (padding).
public func softmaxCrossEntropy(logits: Tensor, labels: Tensor, ignoreIndex: Int32? = nil) -> Tensor {
    nablaPrecondition(logits.rank == 2, "sparse_categorical_crossentropy: logits must be [batch, classes], got \(logits.shape)")
    nablaPrecondition(labels.dtype == .int32, "sparse_categorical_crossentropy: labels must be int32 class indices, got \(labels.dtype)")
    nablaPrecondition(labels.shape == [logits.shape[0]],
                      "sparse_categorical_crossentropy: labels \(labels.shape) do not match logits \(logits.shape): expected [\(logits.shape[0])]")
    nablaPrecondition(logits.dtype.isFloatingPoint, "sparse_categorical_crossentropy: logits must be floating point, got \(logits.dtype)")
    let n = logits.shape[0], c = logits.shape[1]
    let lab = labels.pointer(Int32.self)
    for i in 0..<n {
        nablaPrecondition((lab[i] >= 0 && Int(lab[i]) < c) || lab[i] == ignoreIndex,
                          "sparse_categorical_crossentropy: label \(lab[i]) at row \(i) is outside 0..<\(c)")
    }
    if logits.dtype == .float64 { return composedCrossEntropy(logits: logits, labels: labels, ignoreIndex: ignoreIndex) }
    let losses = Tensor(uninitializedShape: [n], dtype: logits.dtype)
    let lse = Tensor(uninitializedShape: [n], dtype: logits.dtype)
    nabla_cross_entropy_f32(logits.pointer(Float.self), lab, losses.pointer(Float.self), lse.pointer(Float.self), n, c,
                            ignoreIndex == nil ? 0 : 1, ignoreIndex ?? 0)
    let z = logits.detached(), kept = labels.detached()
    return losses.recorded("cross_entropy", logits) { g in
        let dz = Tensor(uninitializedShape: [n, c], dtype: z.dtype)
        nabla_cross_entropy_backward_f32(z.pointer(Float.self), kept.pointer(Int32.self), lse.pointer(Float.self), g.pointer(Float.self),
                                         dz.pointer(Float.self), n, c, ignoreIndex == nil ? 0 : 1, ignoreIndex ?? 0)
        return [dz]
    }
}

/// The float64 reference, composed from log-softmax, a one-hot comparison and a mask for ignored rows.
func composedCrossEntropy(logits: Tensor, labels: Tensor, ignoreIndex: Int32?) -> Tensor {
    let (n, c) = (logits.shape[0], logits.shape[1])
    let column = labels.reshaped([n, 1]) .== Tensor.arange(0, Double(c), dtype: .int32).reshaped([1, c])
    var losses = -(logSoftmax(logits, axis: -1) * column.cast(to: .float64)).sum(axes: [1])
    if let ignoreIndex { losses = losses * (labels .!= Tensor(Double(ignoreIndex), dtype: .int32)).cast(to: .float64) }
    return losses
}
