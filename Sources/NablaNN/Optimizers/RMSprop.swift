import Nabla

/// RMSprop with Keras's defaults (learning rate 0.001, ρ 0.9, no momentum, ε 1e-7).
///
/// ```swift
/// let optimizer = RMSprop(learningRate: 0.01, momentum: 0.9)
/// ```
public final class RMSprop: Optimizer, @unchecked Sendable {
    public let rho: Double
    public let momentum: Double
    public let epsilon: Double

    /// - Parameters:
    ///   - learningRate: the step size.
    ///   - rho: the decay of the mean square.
    ///   - momentum: the velocity's decay (0: none).
    ///   - epsilon: added inside the square root, as Keras does.
    ///   - weightDecay: decoupled weight decay per step.
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

    /// Keras's rule: s = ρ·s + (1 − ρ)·g²; with momentum, velocity = μ·velocity + lr·g/√(s + ε) and
    /// p −= velocity; otherwise p −= lr·g/√(s + ε).
    public override func step(_ parameter: Tensor, grad: Tensor, slots: [Tensor], learningRate: Double, iteration: Int, decay: Double) {
        func run<T: FloatingElement>(_: T.Type) {
            let p = parameter.pointer(T.self), g = grad.pointer(T.self), s = slots[0].pointer(T.self), vel = slots.count > 1 ? slots[1].pointer(T.self) : nil
            let r = T(rho), lr = T(learningRate), eps = T(epsilon), mu = T(momentum), d = T(decay)
            for i in 0..<parameter.count {
                p[i] *= d
                let si = r * s[i] + (1 - r) * g[i] * g[i]
                s[i] = si
                let step = lr * g[i] / T.sqrt(si + eps)
                if let vel {
                    vel[i] = mu * vel[i] + step
                    p[i] -= vel[i]
                } else {
                    p[i] -= step
                }
            }
        }
        if parameter.dtype == .float32 { run(Float.self) } else { run(Double.self) }
    }
}
