import Nabla

/// A metric accumulated over batches: `update` with each batch, `result` at any time, `reset` per epoch.
///
/// ```swift
/// let acc = SparseCategoricalAccuracy()
/// acc.update(labels, logits)
/// acc.result()   // fraction correct so far
/// ```
open class Metric: @unchecked Sendable {
    /// The name shown in logs and history (`accuracy`, `mae`, ...).
    public let name: String
    var total = 0.0
    var count = 0.0

    public init(name: String) { self.name = name }

    /// Adds one batch.
    open func update(_ yTrue: Tensor, _ yPred: Tensor) {
        let values = withNoGrad { perSample(yTrue, yPred) }.toArray(Double.self)
        total += values.reduce(0, +)
        count += Double(values.count)
    }

    /// Per-sample values whose mean is the metric (for the mean-type metrics).
    open func perSample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor { fatalError("\(name): perSample not implemented") }

    /// The metric over every batch since the last reset.
    open func result() -> Double { count == 0 ? 0 : total / count }

    /// Forgets all batches.
    open func reset() {
        total = 0
        count = 0
    }

    /// The metric with Keras name `name` for a model trained with `loss`, or an error listing the
    /// valid names. "accuracy" becomes binary, categorical or sparse accuracy as Keras chooses.
    public static func named(_ name: String, loss: (any Loss)?, outputUnits: Int?) throws(NablaError) -> Metric {
        switch name {
        case "accuracy", "acc":
            if loss is BinaryCrossentropy || outputUnits == 1 { return BinaryAccuracy(name: name) }
            if loss is CategoricalCrossentropy { return CategoricalAccuracy(name: name) }
            return SparseCategoricalAccuracy(name: name)
        case "binary_accuracy": return BinaryAccuracy()
        case "categorical_accuracy": return CategoricalAccuracy()
        case "sparse_categorical_accuracy": return SparseCategoricalAccuracy()
        case "top_k_categorical_accuracy": return TopKCategoricalAccuracy(k: 5, sparse: false)
        case "sparse_top_k_categorical_accuracy": return TopKCategoricalAccuracy(k: 5, sparse: true)
        case "mse", "mean_squared_error": return MeanSquaredErrorMetric(name: name)
        case "mae", "mean_absolute_error": return MeanAbsoluteErrorMetric(name: name)
        case "rmse", "root_mean_squared_error": return RootMeanSquaredError(name: name)
        case "precision": return Precision()
        case "recall": return Recall()
        case "auc": return AUC()
        default:
            throw .unknownName(kind: "metric", name: name, valid: [
                "accuracy", "acc", "auc", "binary_accuracy", "categorical_accuracy", "mae", "mean_absolute_error",
                "mean_squared_error", "mse", "precision", "recall", "rmse", "root_mean_squared_error",
                "sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy", "top_k_categorical_accuracy",
            ])
        }
    }
}

/// Labels as int32 class indices [N] (from [N], [N, 1] or floats).
func classIndices(_ t: Tensor) -> Tensor {
    var l = t.dtype == .int32 ? t : t.cast(to: .int32)
    if l.rank == 2 && l.shape[1] == 1 { l = l.reshaped([l.shape[0]]) }
    return l
}

/// The fraction of predictions above `threshold` that match binary targets.
public final class BinaryAccuracy: Metric, @unchecked Sendable {
    public let threshold: Double
    public init(name: String = "binary_accuracy", threshold: Double = 0.5) {
        self.threshold = threshold
        super.init(name: name)
    }
    public override func perSample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        let t = matchRank(yTrue, yPred)
        let predicted = (yPred .> Tensor(threshold, dtype: yPred.dtype)).cast(to: yPred.dtype)
        return meanPerSample((predicted .== t).cast(to: .float64))
    }
}

/// The fraction of samples whose arg-max prediction matches the arg-max of one-hot targets.
public final class CategoricalAccuracy: Metric, @unchecked Sendable {
    public override init(name: String = "categorical_accuracy") { super.init(name: name) }
    public override func perSample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        (yPred.argmax(axis: -1) .== yTrue.argmax(axis: -1)).cast(to: .float64)
    }
}

/// The fraction of samples whose arg-max prediction equals the integer label.
public final class SparseCategoricalAccuracy: Metric, @unchecked Sendable {
    public override init(name: String = "sparse_categorical_accuracy") { super.init(name: name) }
    public override func perSample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        (yPred.argmax(axis: -1) .== classIndices(yTrue)).cast(to: .float64)
    }
}

/// The fraction of samples whose label is among the `k` highest predictions.
public final class TopKCategoricalAccuracy: Metric, @unchecked Sendable {
    public let k: Int
    public let sparse: Bool
    public init(k: Int = 5, sparse: Bool = true, name: String? = nil) {
        self.k = k
        self.sparse = sparse
        super.init(name: name ?? (sparse ? "sparse_top_k_categorical_accuracy" : "top_k_categorical_accuracy"))
    }
    public override func perSample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        let labels = sparse ? classIndices(yTrue) : yTrue.argmax(axis: -1)
        let target = yPred.gather(labels.unsqueezed(axis: -1), axis: 1)          // [N, 1]
        let higher = (yPred .> target).cast(to: .float64).sum(axes: [1])          // classes scored above the label
        return (higher .< Tensor(Double(k), dtype: .float64)).cast(to: .float64)
    }
}

/// Mean squared error as a metric.
public final class MeanSquaredErrorMetric: Metric, @unchecked Sendable {
    public override init(name: String = "mean_squared_error") { super.init(name: name) }
    public override func perSample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor { MeanSquaredError().perSample(yTrue, yPred) }
}

/// Mean absolute error as a metric.
public final class MeanAbsoluteErrorMetric: Metric, @unchecked Sendable {
    public override init(name: String = "mean_absolute_error") { super.init(name: name) }
    public override func perSample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor { MeanAbsoluteError().perSample(yTrue, yPred) }
}

/// The square root of the mean squared error over all batches.
public final class RootMeanSquaredError: Metric, @unchecked Sendable {
    public override init(name: String = "root_mean_squared_error") { super.init(name: name) }
    public override func perSample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor { MeanSquaredError().perSample(yTrue, yPred) }
    public override func result() -> Double { super.result().squareRoot() }
}
