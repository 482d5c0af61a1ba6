import CNablaKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-sample softmax cross-entropy of `logits` [N, C] against integer `labels` [N], fused:
/// one pass computes each row's log-sum-exp and loss, and the gradient is softmax − one-hot.
///
/// Rows whose label is `ignoreIndex` (PyTorch's `ignore_index`, e.g. −1 for padding) get loss 0
/// and no gradient.
///
/// ```swift
/// let losses = softmaxCrossEntropy(logits: net(x), labels: y)   // [N]
/// let loss = losses.mean()
/// ```
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
    let losses = Tensor(uninitializedShape: [n], dtype: logits.dtype)
    let lse = Tensor(uninitializedShape: [n], dtype: logits.dtype)
    switch logits.dtype {
    case .float32:
        nabla_cross_entropy_f32(logits.pointer(Float.self), lab, losses.pointer(Float.self), lse.pointer(Float.self), n, c,
                                ignoreIndex == nil ? 0 : 1, ignoreIndex ?? 0)
    default: crossEntropyForward(logits.pointer(Double.self), lab, losses.pointer(Double.self), lse.pointer(Double.self), n, c, ignoreIndex)
    }
    let z = logits.detached(), kept = labels.detached()
    return losses.recorded("cross_entropy", logits) { g in
        let dz = Tensor(uninitializedShape: [n, c], dtype: z.dtype)
        switch z.dtype {
        case .float32:
            nabla_cross_entropy_backward_f32(z.pointer(Float.self), kept.pointer(Int32.self), lse.pointer(Float.self), g.pointer(Float.self),
                                             dz.pointer(Float.self), n, c, ignoreIndex == nil ? 0 : 1, ignoreIndex ?? 0)
        default: crossEntropyBackward(z.pointer(Double.self), kept.pointer(Int32.self), lse.pointer(Double.self), g.pointer(Double.self), dz.pointer(Double.self), n, c, ignoreIndex)
        }
        return [dz]
    }
}

private func crossEntropyForward<T: FloatingElement>(_ z: UnsafeMutablePointer<T>, _ labels: UnsafeMutablePointer<Int32>,
                                                    _ loss: UnsafeMutablePointer<T>, _ lse: UnsafeMutablePointer<T>, _ n: Int, _ c: Int,
                                                    _ ignore: Int32?) {
    for i in 0..<n {
        if labels[i] == ignore {
            loss[i] = 0
            lse[i] = 0
            continue
        }
        let row = z + i * c
        var m = row[0]
        for j in 1..<c where row[j] > m { m = row[j] }
        var s: T = 0
        for j in 0..<c { s += T.exp(row[j] - m) }
        let l = m + T.log(s)
        lse[i] = l
        loss[i] = l - row[Int(labels[i])]
    }
}

private func crossEntropyBackward<T: FloatingElement>(_ z: UnsafeMutablePointer<T>, _ labels: UnsafeMutablePointer<Int32>,
                                                     _ lse: UnsafeMutablePointer<T>, _ g: UnsafeMutablePointer<T>,
                                                     _ dz: UnsafeMutablePointer<T>, _ n: Int, _ c: Int, _ ignore: Int32?) {
    for i in 0..<n {
        let row = z + i * c, out = dz + i * c, l = lse[i], gi = g[i]
        if labels[i] == ignore {
            for j in 0..<c { out[j] = 0 }
            continue
        }
        for j in 0..<c { out[j] = gi * T.exp(row[j] - l) }
        out[Int(labels[i])] -= gi
    }
}
