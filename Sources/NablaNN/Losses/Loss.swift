import Nabla

/// How per-sample losses become one number.
public enum Reduction: String, Sendable {
    /// The mean over samples (Keras's `sum_over_batch_size`, PyTorch's `mean`).
    case mean
    case sum
    /// Per-sample losses, unreduced.
    case none
}

/// A loss function: `loss(yTrue, yPred)` in Keras's argument order.
///
/// ```swift
/// let mse = MeanSquaredError()
/// mse(Tensor([0, 1]), Tensor([[0.5], [1.0]]))   // 0.125
/// ```
public protocol Loss: Sendable {
    /// The Keras name, as `compile` accepts it.
    var name: String { get }
    var reduction: Reduction { get }
    /// Per-sample losses [batch].
    func perSample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor
}

extension Loss {
    /// The reduced loss.
    public func callAsFunction(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        let l = perSample(yTrue, yPred)
        switch reduction {
        case .mean: return l.mean()
        case .sum: return l.sum()
        case .none: return l
        }
    }
}

/// Loss names that `compile` accepts, with their Keras aliases.
public enum Losses {
    static let table: [String: @Sendable () -> any Loss] = [
        "mse": { MeanSquaredError() }, "mean_squared_error": { MeanSquaredError() },
        "mae": { MeanAbsoluteError() }, "mean_absolute_error": { MeanAbsoluteError() },
        "huber": { Huber() },
        "binary_crossentropy": { BinaryCrossentropy() },
        "categorical_crossentropy": { CategoricalCrossentropy() },
        "sparse_categorical_crossentropy": { SparseCategoricalCrossentropy() },
        "kl_divergence": { KLDivergence() }, "kld": { KLDivergence() },
        "bpr": { BPRLoss() },
    ]

    /// The loss with Keras name `name`, or an error listing the valid names.
    public static func named(_ name: String) throws(NablaError) -> any Loss {
        guard let make = table[name] else { throw .unknownName(kind: "loss", name: name, valid: table.keys.sorted()) }
        return make()
    }
}

/// `yTrue` brought to the rank of `yPred` as Keras does (a [N] target against [N, 1] predictions).
func matchRank(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
    var t = yTrue.dtype == yPred.dtype ? yTrue : yTrue.cast(to: yPred.dtype)
    if t.rank == yPred.rank - 1 && yPred.shape.last == 1 { t = t.unsqueezed(axis: -1) }
    else if t.rank == yPred.rank + 1 && t.shape.last == 1 { t = t.squeezed(axes: [-1]) }
    return t
}

/// The mean over every axis but the batch axis.
func meanPerSample(_ t: Tensor) -> Tensor {
    t.rank <= 1 ? t : t.mean(axes: Array(1..<t.rank))
}

/// mean((yTrue − yPred)²) over the last axis.
public struct MeanSquaredError: Loss {
    public let reduction: Reduction
    public var name: String { "mean_squared_error" }
    public init(reduction: Reduction = .mean) { self.reduction = reduction }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor { meanPerSample(square(matchRank(yTrue, yPred) - yPred)) }
}

/// mean(|yTrue − yPred|) over the last axis.
public struct MeanAbsoluteError: Loss {
    public let reduction: Reduction
    public var name: String { "mean_absolute_error" }
    public init(reduction: Reduction = .mean) { self.reduction = reduction }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor { meanPerSample(abs(matchRank(yTrue, yPred) - yPred)) }
}

/// Quadratic for errors below `delta`, linear above (Keras's default delta 1).
public struct Huber: Loss {
    public let delta: Double
    public let reduction: Reduction
    public var name: String { "huber" }
    public init(delta: Double = 1, reduction: Reduction = .mean) {
        self.delta = delta
        self.reduction = reduction
    }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        let e = abs(matchRank(yTrue, yPred) - yPred)
        let quadratic = clamp(e, max: delta)
        let linear = e - quadratic
        return meanPerSample(square(quadratic) * 0.5 + linear * delta)
    }
}

/// Binary cross-entropy on probabilities, or on logits when `fromLogits` (computed stably as
/// max(z, 0) − z·y + log(1 + e^−|z|)).
public struct BinaryCrossentropy: Loss {
    public let fromLogits: Bool
    public let reduction: Reduction
    public var name: String { "binary_crossentropy" }
    public init(fromLogits: Bool = false, reduction: Reduction = .mean) {
        self.fromLogits = fromLogits
        self.reduction = reduction
    }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        let y = matchRank(yTrue, yPred)
        if fromLogits {
            return meanPerSample(relu(yPred) - yPred * y + softplus(-abs(yPred)))
        }
        // Keras clips probabilities to [ε, 1 − ε] with ε = 1e-7.
        let p = clamp(yPred, min: 1e-7, max: 1 - 1e-7)
        return meanPerSample(-(y * log(p) + (1 - y) * log(1 - p)))
    }
}

/// Bayesian personalised ranking (Rendle et al., UAI 2009): −log σ(s⁺ − s⁻), the loss of a
/// model that should score a user's item above an item drawn as a negative. The prediction is the
/// score difference, which a ``Recommender`` gives for (user, positive, negative) triples; the
/// targets are ignored (NablaData's `NegativeSampler` in `.pairwise` mode gives ones).
///
/// ```swift
/// try model.compile(optimizer: Adam(learningRate: 1e-3), loss: BPRLoss())
/// try model.fit(NegativeSampler(train, mode: .pairwise), epochs: 10)
/// ```
public struct BPRLoss: Loss {
    public let reduction: Reduction
    public var name: String { "bpr" }
    /// - Parameter reduction: how per-sample losses combine.
    public init(reduction: Reduction = .mean) { self.reduction = reduction }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor { meanPerSample(softplus(-yPred)) }
}

/// Cross-entropy against one-hot (or soft) targets, on probabilities or on logits.
public struct CategoricalCrossentropy: Loss {
    public let fromLogits: Bool
    public let reduction: Reduction
    public var name: String { "categorical_crossentropy" }
    public init(fromLogits: Bool = false, reduction: Reduction = .mean) {
        self.fromLogits = fromLogits
        self.reduction = reduction
    }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        let y = yTrue.dtype == yPred.dtype ? yTrue : yTrue.cast(to: yPred.dtype)
        let logp: Tensor
        if fromLogits {
            logp = logSoftmax(yPred, axis: -1)
        } else {
            let p = yPred / yPred.sum(axes: [-1], keepDims: true)
            logp = log(clamp(p, min: 1e-7, max: 1 - 1e-7))
        }
        return -(y * logp).sum(axes: [-1])
    }
}

/// Cross-entropy against integer class labels, on probabilities or on logits (fused and stable).
public struct SparseCategoricalCrossentropy: Loss {
    public let fromLogits: Bool
    public let reduction: Reduction
    public var name: String { "sparse_categorical_crossentropy" }
    public init(fromLogits: Bool = false, reduction: Reduction = .mean) {
        self.fromLogits = fromLogits
        self.reduction = reduction
    }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        var labels = yTrue.dtype == .int32 ? yTrue : yTrue.cast(to: .int32)
        if labels.rank == 2 && labels.shape[1] == 1 { labels = labels.reshaped([labels.shape[0]]) }
        if fromLogits { return softmaxCrossEntropy(logits: yPred, labels: labels) }
        let p = clamp(yPred / yPred.sum(axes: [-1], keepDims: true), min: 1e-7, max: 1 - 1e-7)
        return -log(p).gather(labels.unsqueezed(axis: -1), axis: 1).reshaped([labels.shape[0]])
    }
}

/// Σ yTrue·log(yTrue / yPred) over the last axis (both clipped to [1e-7, 1]).
public struct KLDivergence: Loss {
    public let reduction: Reduction
    public var name: String { "kl_divergence" }
    public init(reduction: Reduction = .mean) { self.reduction = reduction }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        let t = clamp(matchRank(yTrue, yPred), min: 1e-7, max: 1), p = clamp(yPred, min: 1e-7, max: 1)
        let kl = t * log(t / p)
        return kl.rank <= 1 ? kl : kl.sum(axes: [-1]).reshaped([kl.shape[0], -1]).mean(axes: [1])
    }
}

/// Softmax cross-entropy of `logits` [N, C] against integer `labels` [N], averaged (PyTorch's
/// `cross_entropy`); labels equal to `ignoreIndex` (padding) count neither in the sum nor the mean.
///
/// ```swift
/// let loss = crossEntropy(logits: net(x), labels: y)
/// let padded = crossEntropy(logits: logits, labels: targets, ignoreIndex: -1)
/// ```
public func crossEntropy(logits: Tensor, labels: Tensor, ignoreIndex: Int32? = nil) -> Tensor {
    guard let ignoreIndex else { return SparseCategoricalCrossentropy(fromLogits: true)(labels, logits) }
    let ids = labels.dtype == .int32 ? labels : labels.cast(to: .int32)
    let valid = ids.toArray(Int32.self).filter { $0 != ignoreIndex }.count
    return softmaxCrossEntropy(logits: logits, labels: ids, ignoreIndex: ignoreIndex).sum() / Double(Swift.max(valid, 1))
}
