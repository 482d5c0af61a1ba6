import Nabla

/// The base of the optimizers: reads each trainable parameter's gradient, clips it, and hands it to
/// the optimizer's update (dense, or row-sparse for sparse embeddings) with the one decoupled
/// weight-decay factor, then clears the gradient. Each optimizer's rule lives beside its class
/// (SGD.swift, Adam.swift, RMSprop.swift, Adagrad.swift).
///
/// ```swift
/// let optimizer = Adam(learningRate: 1e-3)
/// let loss = crossEntropy(logits: net(x), labels: y)
/// loss.backward()
/// optimizer.update(net)
/// ```
open class Optimizer: @unchecked Sendable {
    /// The learning rate used by the next step (follows `schedule` when one is set).
    public var learningRate: Double
    /// A schedule evaluated at each step's iteration count.
    public var schedule: (any LearningRateSchedule)?
    /// Decoupled weight decay: p −= lr·weightDecay·p before each step.
    public var weightDecay: Double
    /// Which parameters weight decay applies to (all when nil). nanoGPT decays only matrices:
    /// `optimizer.decays = { $0.value.rank >= 2 }`.
    public var decays: ((Parameter) -> Bool)?
    /// Clip each parameter's gradient to this L2 norm (Keras's `clipnorm`).
    public var clipNorm: Double?
    /// Clip all gradients together to this global L2 norm (Keras's `global_clipnorm`).
    public var globalClipNorm: Double?
    /// Clip each gradient element to [−clipValue, clipValue].
    public var clipValue: Double?
    /// Steps taken.
    public private(set) var iterations = 0
    private var slots: [ObjectIdentifier: [Tensor]] = [:]

    /// - Parameters:
    ///   - learningRate: the step size.
    ///   - weightDecay: decoupled weight decay per step.
    public init(learningRate: Double, weightDecay: Double = 0) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
    }

    /// The Keras name (`adam`, `sgd`, ...).
    open var name: String { "optimizer" }

    /// State tensors per parameter (Adam: m and v).
    open func makeSlots(for parameter: Tensor) -> [Tensor] { [] }

    /// Updates `parameter` in place from `grad` and its `slots`, first multiplying it by `decay`
    /// (decoupled weight decay: 1 − lr·weightDecay, or 1 for none). Each optimizer's rule, and the
    /// fused kernel behind it, is written beside its class.
    /// - Parameters:
    ///   - parameter: the values to update in place.
    ///   - grad: the gradient (already clipped).
    ///   - slots: the optimizer's state for this parameter, from `makeSlots`.
    ///   - learningRate: this step's learning rate.
    ///   - iteration: the 1-based step count.
    ///   - decay: the factor the weights are multiplied by before the step.
    open func step(_ parameter: Tensor, grad: Tensor, slots: [Tensor], learningRate: Double, iteration: Int, decay: Double) {}

    /// Updates only the rows of a row-sparse gradient (embeddings with `sparse`), applying `decay`
    /// (decoupled weight decay) to those rows only; returns false where the optimizer has no sparse
    /// form, and the step is then taken densely.
    open func stepSparse(_ parameter: Tensor, grad: RowSparseGradient, slots: [Tensor], learningRate: Double, iteration: Int,
                         decay: Double) -> Bool { false }

    /// One step for every trainable parameter of `module` that has a gradient; clears the gradients.
    public func update(_ module: Module) { apply(to: module.trainableParameters) }

    /// One step for `parameters` (those without a gradient are skipped); clears their gradients.
    /// - Parameters:
    ///   - parameters: the parameters to update; those without a gradient are skipped.
    public func apply(to parameters: [Parameter]) {
        let active = parameters.filter { $0.trainable && $0.value.hasGrad }
        if let schedule { learningRate = schedule(iterations) }
        let lr = learningRate
        withNoGrad {
            // Clipping scales gradients in place, so it works on copies; otherwise read them as they are.
            let clipping = clipNorm != nil || globalClipNorm != nil || clipValue != nil
            // A row-sparse gradient (sparse embeddings) updates only its rows, unless clipping needs it whole.
            let sparse = active.map { clipping || !$0.value.isGradSparseOnly ? nil : $0.value.sparseGrad }
            var grads: [Tensor?] = zip(active, sparse).map { p, s in s != nil ? nil : clipping ? p.grad!.copy() : p.grad! }
            if clipping {
                var dense = grads.map { $0! }
                clip(&dense)
                grads = dense
            }
            for ((p, g), sg) in zip(zip(active, grads), sparse) {
                let key = ObjectIdentifier(p)
                let s = slots[key] ?? makeSlots(for: p.value)
                slots[key] = s
                let decay = weightDecay != 0 && decays?(p) ?? true ? 1 - lr * weightDecay : 1
                if let sg {
                    nablaPrecondition(sg.denseShape == p.shape && sg.values.dtype == p.value.dtype,
                                      "\(name): a sparse gradient \(sg.denseShape) \(sg.values.dtype) for a parameter \(p.shape) \(p.value.dtype)")
                }
                if let sg, stepSparse(p.value, grad: sg, slots: s, learningRate: lr, iteration: iterations + 1, decay: decay) {
                    p.value.zeroGrad()
                    continue
                }
                step(p.value, grad: g ?? p.grad!, slots: s, learningRate: lr, iteration: iterations + 1, decay: decay)
                p.value.zeroGrad()
            }
        }
        iterations += 1
    }

    private func clip(_ grads: inout [Tensor]) {
        if let clipValue { for g in grads { g.clampInPlace(limit: clipValue) } }
        if let clipNorm {
            for g in grads {
                let norm = sqrt(square(g).sum()).item(Double.self)
                if norm > clipNorm { g.scaleInPlace(by: clipNorm / norm) }
            }
        }
        if let globalClipNorm {
            let total = grads.reduce(0.0) { $0 + square($1).sum().item(Double.self) }.squareRoot()
            if total > globalClipNorm { for g in grads { g.scaleInPlace(by: globalClipNorm / total) } }
        }
    }

    /// The optimizer's state for `parameters` (in their order): `iterations` and each slot as `i.k`.
    public func state(for parameters: [Parameter]) -> [String: Tensor] {
        var out: [String: Tensor] = ["iterations": Tensor(Double(iterations), dtype: .float64)]
        for (i, p) in parameters.enumerated() {
            for (k, s) in (slots[ObjectIdentifier(p)] ?? []).enumerated() { out["\(i).\(k)"] = s.copy() }
        }
        return out
    }

    /// Restores state saved by `state(for:)` for the same parameters, checking every shape.
    public func loadState(_ state: [String: Tensor], for parameters: [Parameter]) throws(NablaError) {
        var problems: [String] = []
        var restored: [ObjectIdentifier: [Tensor]] = [:]
        for (i, p) in parameters.enumerated() {
            let template = makeSlots(for: p.value)
            var s: [Tensor] = []
            for k in 0..<template.count {
                guard let t = state["\(i).\(k)"] else { continue }
                if t.shape != p.shape { problems.append("slot \(i).\(k): shape \(t.shape), expected \(p.shape)") }
                s.append(t.copy())
            }
            if !s.isEmpty {
                if s.count != template.count { problems.append("parameter \(i): \(s.count) slots, expected \(template.count)") }
                restored[ObjectIdentifier(p)] = s
            }
        }
        guard problems.isEmpty else { throw .weightsMismatch(problems) }
        slots = restored
        iterations = Int(state["iterations"]?.item(Double.self) ?? 0)
    }

    /// The optimizer with Keras name `name` and Keras's defaults, or an error listing the valid names.
    public static func named(_ name: String) throws(NablaError) -> Optimizer {
        switch name.lowercased() {
        case "adam": return Adam()
        case "adamw": return AdamW()
        case "sgd": return SGD()
        case "rmsprop": return RMSprop()
        case "adagrad": return Adagrad()
        default: throw .unknownName(kind: "optimizer", name: name, valid: ["adagrad", "adam", "adamw", "rmsprop", "sgd"])
        }
    }
}
