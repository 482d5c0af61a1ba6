import Nabla

/// The base of the optimizers: reads each trainable parameter's gradient, clips it, applies decoupled
/// weight decay and the optimizer's fused update in place, and clears the gradient.
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

    public init(learningRate: Double, weightDecay: Double = 0) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
    }

    /// The Keras name (`adam`, `sgd`, ...).
    open var name: String { "optimizer" }

    /// State tensors per parameter (Adam: m and v).
    open func makeSlots(for parameter: Tensor) -> [Tensor] { [] }

    /// Updates `parameter` in place from `grad` and its `slots`.
    open func step(_ parameter: Tensor, grad: Tensor, slots: [Tensor], learningRate: Double, iteration: Int) {}

    /// Updates only the rows of a row-sparse gradient (embeddings with `sparse`), applying `decay`
    /// (decoupled weight decay) to those rows only; returns false where the optimizer has no sparse
    /// form, and the step is then taken densely.
    open func stepSparse(_ parameter: Tensor, grad: RowSparseGradient, slots: [Tensor], learningRate: Double, iteration: Int,
                         decay: Double) -> Bool { false }

    /// One step for every trainable parameter of `module` that has a gradient; clears the gradients.
    public func update(_ module: Module) { apply(to: module.trainableParameters) }

    /// One step for `parameters` (those without a gradient are skipped); clears their gradients.
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
                if let sg, stepSparse(p.value, grad: sg, slots: s, learningRate: lr, iteration: iterations + 1, decay: decay) {
                    p.value.zeroGrad()
                    continue
                }
                if decay != 1 { InPlaceUpdate.scale(p.value, by: decay) }
                step(p.value, grad: g ?? p.grad!, slots: s, learningRate: lr, iteration: iterations + 1)
                p.value.zeroGrad()
            }
        }
        iterations += 1
    }

    private func clip(_ grads: inout [Tensor]) {
        if let clipValue { for g in grads { InPlaceUpdate.clip(g, limit: clipValue) } }
        if let clipNorm {
            for g in grads {
                let norm = sqrt(square(g).sum()).item(Double.self)
                if norm > clipNorm { InPlaceUpdate.scale(g, by: clipNorm / norm) }
            }
        }
        if let globalClipNorm {
            let total = grads.reduce(0.0) { $0 + square($1).sum().item(Double.self) }.squareRoot()
            if total > globalClipNorm { for g in grads { InPlaceUpdate.scale(g, by: globalClipNorm / total) } }
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

/// Stochastic gradient descent with optional momentum and Nesterov momentum (Keras's defaults:
/// learning rate 0.01, no momentum).
public final class SGD: Optimizer, @unchecked Sendable {
    public let momentum: Double
    public let nesterov: Bool

    public init(learningRate: Double = 0.01, momentum: Double = 0, nesterov: Bool = false, weightDecay: Double = 0) {
        self.momentum = momentum
        self.nesterov = nesterov
        super.init(learningRate: learningRate, weightDecay: weightDecay)
    }

    public override var name: String { "sgd" }

    public override func makeSlots(for parameter: Tensor) -> [Tensor] { momentum == 0 ? [] : [Tensor.zeros(like: parameter)] }

    public override func step(_ parameter: Tensor, grad: Tensor, slots: [Tensor], learningRate: Double, iteration: Int) {
        InPlaceUpdate.sgd(parameter, grad: grad, velocity: slots.first, learningRate: learningRate, momentum: momentum,
                          nesterov: nesterov, weightDecay: 0)
    }

    /// Without momentum, the same result as the dense step, on the touched rows only.
    public override func stepSparse(_ parameter: Tensor, grad: RowSparseGradient, slots: [Tensor], learningRate: Double, iteration: Int,
                                    decay: Double) -> Bool {
        guard momentum == 0, parameter.dtype == .float32 else { return false }
        InPlaceUpdate.sparseSGD(parameter, grad: grad, learningRate: learningRate, decay: decay)
        return true
    }
}

/// Adam with Keras's defaults (learning rate 0.001, β₁ 0.9, β₂ 0.999, ε 1e-7).
public class Adam: Optimizer, @unchecked Sendable {
    public let beta1: Double
    public let beta2: Double
    public let epsilon: Double

    public init(learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7,
                weightDecay: Double = 0) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        super.init(learningRate: learningRate, weightDecay: weightDecay)
    }

    public override var name: String { "adam" }

    public override func makeSlots(for parameter: Tensor) -> [Tensor] { [Tensor.zeros(like: parameter), Tensor.zeros(like: parameter)] }

    public override func step(_ parameter: Tensor, grad: Tensor, slots: [Tensor], learningRate: Double, iteration: Int) {
        InPlaceUpdate.adam(parameter, grad: grad, m: slots[0], v: slots[1],
                           .init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: 0,
                                 decoupledWeightDecay: true, step: iteration))
    }

    /// Lazy Adam, as PyTorch's `SparseAdam`: the rows a batch used take the dense step; the moments
    /// of the others wait instead of decaying (so the result differs from dense Adam on rows that
    /// were skipped for some steps).
    public override func stepSparse(_ parameter: Tensor, grad: RowSparseGradient, slots: [Tensor], learningRate: Double, iteration: Int,
                                    decay: Double) -> Bool {
        guard parameter.dtype == .float32 else { return false }
        InPlaceUpdate.sparseAdam(parameter, grad: grad, m: slots[0], v: slots[1],
                                 .init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: 0,
                                       decoupledWeightDecay: true, step: iteration), decay: decay)
        return true
    }
}

/// Adam with decoupled weight decay (Keras's default decay 0.004).
public final class AdamW: Adam, @unchecked Sendable {
    public init(learningRate: Double = 0.001, weightDecay: Double = 0.004, beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-7) {
        super.init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
    }

    public override var name: String { "adamw" }
}

/// RMSprop with Keras's defaults (learning rate 0.001, ρ 0.9, no momentum, ε 1e-7).
public final class RMSprop: Optimizer, @unchecked Sendable {
    public let rho: Double
    public let momentum: Double
    public let epsilon: Double

    public init(learningRate: Double = 0.001, rho: Double = 0.9, momentum: Double = 0, epsilon: Double = 1e-7, weightDecay: Double = 0) {
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        super.init(learningRate: learningRate, weightDecay: weightDecay)
    }

    public override var name: String { "rmsprop" }

    public override func makeSlots(for parameter: Tensor) -> [Tensor] {
        momentum == 0 ? [Tensor.zeros(like: parameter)] : [Tensor.zeros(like: parameter), Tensor.zeros(like: parameter)]
    }

    public override func step(_ parameter: Tensor, grad: Tensor, slots: [Tensor], learningRate: Double, iteration: Int) {
        InPlaceUpdate.rmsprop(parameter, grad: grad, meanSquare: slots[0], velocity: slots.count > 1 ? slots[1] : nil,
                              learningRate: learningRate, rho: rho, momentum: momentum, epsilon: epsilon)
    }
}

/// Adagrad with Keras's defaults (learning rate 0.001, initial accumulator 0.1, ε 1e-7).
public final class Adagrad: Optimizer, @unchecked Sendable {
    public let initialAccumulator: Double
    public let epsilon: Double

    public init(learningRate: Double = 0.001, initialAccumulator: Double = 0.1, epsilon: Double = 1e-7, weightDecay: Double = 0) {
        self.initialAccumulator = initialAccumulator
        self.epsilon = epsilon
        super.init(learningRate: learningRate, weightDecay: weightDecay)
    }

    public override var name: String { "adagrad" }

    public override func makeSlots(for parameter: Tensor) -> [Tensor] {
        [Tensor.full(parameter.shape, value: initialAccumulator, dtype: parameter.dtype)]
    }

    public override func step(_ parameter: Tensor, grad: Tensor, slots: [Tensor], learningRate: Double, iteration: Int) {
        InPlaceUpdate.adagrad(parameter, grad: grad, accumulator: slots[0], learningRate: learningRate, epsilon: epsilon)
    }

    /// The same result as the dense step, on the touched rows only.
    public override func stepSparse(_ parameter: Tensor, grad: RowSparseGradient, slots: [Tensor], learningRate: Double, iteration: Int,
                                    decay: Double) -> Bool {
        guard parameter.dtype == .float32 else { return false }
        InPlaceUpdate.sparseAdagrad(parameter, grad: grad, accumulator: slots[0], learningRate: learningRate, epsilon: epsilon, decay: decay)
        return true
    }
}
