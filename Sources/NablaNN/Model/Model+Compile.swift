import Nabla

/// Something `compile` accepts as an optimizer: a Keras name (`"adam"`) or an ``Optimizer``.
public protocol OptimizerConvertible {
    func makeOptimizer() throws(NablaError) -> Optimizer
}

/// Something `compile` accepts as a loss: a Keras name (`"mse"`) or a ``Loss`` value.
public protocol LossConvertible {
    func makeLoss() throws(NablaError) -> any Loss
}

/// Something `compile` accepts as a metric: a Keras name (`"accuracy"`) or a ``Metric``.
public protocol MetricConvertible {
    func makeMetric(loss: any Loss, outputUnits: Int?) throws(NablaError) -> Metric
}

extension String: OptimizerConvertible, LossConvertible, MetricConvertible {
    public func makeOptimizer() throws(NablaError) -> Optimizer { try Optimizer.named(self) }
    public func makeLoss() throws(NablaError) -> any Loss { try Losses.named(self) }
    public func makeMetric(loss: any Loss, outputUnits: Int?) throws(NablaError) -> Metric {
        try Metric.named(self, loss: loss, outputUnits: outputUnits)
    }
}

extension Optimizer: OptimizerConvertible {
    public func makeOptimizer() -> Optimizer { self }
}

extension Metric: MetricConvertible {
    public func makeMetric(loss: any Loss, outputUnits: Int?) -> Metric { self }
}

extension MeanSquaredError: LossConvertible { public func makeLoss() -> any Loss { self } }
extension MeanAbsoluteError: LossConvertible { public func makeLoss() -> any Loss { self } }
extension Huber: LossConvertible { public func makeLoss() -> any Loss { self } }
extension BinaryCrossentropy: LossConvertible { public func makeLoss() -> any Loss { self } }
extension CategoricalCrossentropy: LossConvertible { public func makeLoss() -> any Loss { self } }
extension SparseCategoricalCrossentropy: LossConvertible { public func makeLoss() -> any Loss { self } }
extension KLDivergence: LossConvertible { public func makeLoss() -> any Loss { self } }
extension BPRLoss: LossConvertible { public func makeLoss() -> any Loss { self } }

extension Model {
    /// Chooses the optimizer, the loss and the metrics, by Keras name or by value.
    ///
    /// ```swift
    /// try model.compile(optimizer: "adam", loss: "sparse_categorical_crossentropy", metrics: ["accuracy"])
    /// try model.compile(optimizer: SGD(learningRate: 0.1, momentum: 0.9), loss: MeanSquaredError())
    /// ```
    /// An unknown name throws ``NablaError/unknownName(kind:name:valid:)`` listing the valid ones.
    /// - Parameters:
    ///   - optimizer: an ``Optimizer`` or its Keras name (`"adam"`, `"sgd"`, ...).
    ///   - loss: a ``Loss`` or its Keras name (`"mse"`, `"sparse_categorical_crossentropy"`, ...).
    ///   - metrics: metrics by name (`"accuracy"`, `"mae"`) or value, reported by fit and evaluate.
    public func compile(optimizer: some OptimizerConvertible, loss: some LossConvertible,
                        metrics: [any MetricConvertible] = []) throws(NablaError) {
        let o = try optimizer.makeOptimizer()
        let l = try loss.makeLoss()
        let units = outputUnits
        var ms: [Metric] = []
        for m in metrics { ms.append(try m.makeMetric(loss: l, outputUnits: units)) }
        self.optimizer = o
        self.loss = l
        self.metrics = ms
    }

    /// The size of the output's last axis, where known before training.
    var outputUnits: Int? {
        if isFunctional { return graphOutputs.first?.shape.last ?? nil }
        if let shapes = expectedInputShapes { return outputShape(for: shapes).last }
        return (layers.last as? Dense)?.units
    }
}
