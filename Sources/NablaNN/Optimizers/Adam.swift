import CNablaKernels
import Nabla

/// Adam with Keras's defaults (learning rate 0.001, β₁ 0.9, β₂ 0.999, ε 1e-7).
///
/// ```swift
/// try model.compile(optimizer: Adam(learningRate: 3e-4), loss: "sparse_categorical_crossentropy")
/// ```
public class Adam: Optimizer, @unchecked Sendable {
    public let beta1: Double
    public let beta2: Double
    public let epsilon: Double

    /// - Parameters:
    ///   - learningRate: the step size.
    ///   - beta1: the decay of the first moment.
    ///   - beta2: the decay of the second moment.
    ///   - epsilon: added to the root of the second moment.
    ///   - weightDecay: decoupled weight decay per step (AdamW's).
    public init(learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7,
                weightDecay: Double = 0) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        super.init(learningRate: learningRate, weightDecay: weightDecay)
    }

    public override var name: String { "adam" }

    public override func makeSlots(for parameter: Tensor) -> [Tensor] { [Tensor.zeros(like: parameter), Tensor.zeros(like: parameter)] }

    /// The bias-corrected step size, as Keras computes it: lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ).
    func stepSize(_ learningRate: Double, _ iteration: Int) -> Double {
        learningRate * (1 - power(beta2, iteration)).squareRoot() / (1 - power(beta1, iteration))
    }

    /// Kingma & Ba's rule: m = β₁m + (1 − β₁)g, v = β₂v + (1 − β₂)g², p = p·decay − α·m/(√v + ε). Float32
    /// takes the fused, vectorised, threaded kernel (optim.c); float64 the same rule in Swift.
    public override func step(_ parameter: Tensor, grad: Tensor, slots: [Tensor], learningRate: Double, iteration: Int, decay: Double) {
        let (m, v, n, alpha) = (slots[0], slots[1], parameter.count, stepSize(learningRate, iteration))
        if parameter.dtype == .float32 {
            nabla_adam_f32(parameter.pointer(Float.self), grad.pointer(Float.self), m.pointer(Float.self), v.pointer(Float.self), n,
                           Float(beta1), Float(beta2), Float(epsilon), Float(alpha), Float(decay))
            return
        }
        let p = parameter.pointer(Double.self), g = grad.pointer(Double.self), mp = m.pointer(Double.self), vp = v.pointer(Double.self)
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        Parallel.forEachRange(n, grain: 1 << 16) { r in
            for i in r {
                let mi = b1 * mp[i] + (1 - b1) * g[i], vi = b2 * vp[i] + (1 - b2) * g[i] * g[i]
                mp[i] = mi
                vp[i] = vi
                p[i] = p[i] * decay - alpha * mi / (vi.squareRoot() + eps)
            }
        }
    }

    /// Lazy Adam, as PyTorch's `SparseAdam`: the rows a batch used take the dense step; the moments
    /// of the others wait instead of decaying (so the result differs from dense Adam on rows that
    /// were skipped for some steps).
    public override func stepSparse(_ parameter: Tensor, grad: RowSparseGradient, slots: [Tensor], learningRate: Double, iteration: Int,
                                    decay: Double) -> Bool {
        guard parameter.dtype == .float32 else { return false }
        nabla_sparse_adam_f32(parameter.pointer(Float.self), slots[0].pointer(Float.self), slots[1].pointer(Float.self), grad.rowWidth,
                              grad.rows.pointer(Int32.self), grad.rows.count, grad.values.pointer(Float.self), Float(beta1), Float(beta2),
                              Float(epsilon), Float(stepSize(learningRate, iteration)), Float(decay))
        return true
    }
}

/// Adam with decoupled weight decay (Keras's default decay 0.004).
///
/// ```swift
/// let optimizer = AdamW(learningRate: 1e-3, weightDecay: 0.1)
/// optimizer.decays = { $0.value.rank >= 2 }      // decay matrices only, as nanoGPT
/// ```
public final class AdamW: Adam, @unchecked Sendable {
    /// - Parameters:
    ///   - learningRate: the step size.
    ///   - weightDecay: decoupled weight decay per step.
    ///   - beta1: the decay of the first moment.
    ///   - beta2: the decay of the second moment.
    ///   - epsilon: added to the root of the second moment.
    public init(learningRate: Double = 0.001, weightDecay: Double = 0.004, beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-7) {
        super.init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
    }

    public override var name: String { "adamw" }
}

/// xⁿ by repeated squaring: exact and cheap for the step counts of bias correction.
private func power(_ x: Double, _ n: Int) -> Double {
    var (result, base, e) = (1.0, x, n)
    while e > 0 {
        if e & 1 == 1 { result *= base }
        base *= base
        e >>= 1
    }
    return result
}
