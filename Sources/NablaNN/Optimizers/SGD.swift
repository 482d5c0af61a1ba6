import CNablaKernels
import Nabla

/// Stochastic gradient descent with optional momentum and Nesterov momentum (Keras's defaults:
/// learning rate 0.01, no momentum).
///
/// ```swift
/// let optimizer = SGD(learningRate: 0.1, momentum: 0.9, nesterov: true)
/// ```
public final class SGD: Optimizer, @unchecked Sendable {
    public let momentum: Double
    public let nesterov: Bool

    /// - Parameters:
    ///   - learningRate: the step size.
    ///   - momentum: the velocity's decay (0: plain SGD).
    ///   - nesterov: look ahead along the velocity (Nesterov momentum).
    ///   - weightDecay: decoupled weight decay per step.
    public init(learningRate: Double = 0.01, momentum: Double = 0, nesterov: Bool = false, weightDecay: Double = 0) {
        self.momentum = momentum
        self.nesterov = nesterov
        super.init(learningRate: learningRate, weightDecay: weightDecay)
    }

    public override var name: String { "sgd" }

    public override func makeSlots(for parameter: Tensor) -> [Tensor] { momentum == 0 ? [] : [Tensor.zeros(like: parameter)] }

    /// Keras's rule: velocity = momentum·velocity − lr·g; p += velocity, or p += momentum·velocity − lr·g
    /// with Nesterov; without momentum p −= lr·g.
    public override func step(_ parameter: Tensor, grad: Tensor, slots: [Tensor], learningRate: Double, iteration: Int, decay: Double) {
        func run<T: FloatingElement>(_: T.Type) {
            let p = parameter.pointer(T.self), g = grad.pointer(T.self), vel = slots.first?.pointer(T.self)
            let lr = T(learningRate), mu = T(momentum), d = T(decay)
            for i in 0..<parameter.count {
                p[i] *= d
                if let vel {
                    let v = mu * vel[i] - lr * g[i]
                    vel[i] = v
                    p[i] += nesterov ? mu * v - lr * g[i] : v
                } else {
                    p[i] -= lr * g[i]
                }
            }
        }
        if parameter.dtype == .float32 { run(Float.self) } else { run(Double.self) }
    }

    /// Without momentum, the same result as the dense step, on the touched rows only.
    public override func stepSparse(_ parameter: Tensor, grad: RowSparseGradient, slots: [Tensor], learningRate: Double, iteration: Int,
                                    decay: Double) -> Bool {
        guard momentum == 0, parameter.dtype == .float32 else { return false }
        nabla_sparse_sgd_f32(parameter.pointer(Float.self), grad.rowWidth, grad.rows.pointer(Int32.self), grad.rows.count, grad.values.pointer(Float.self),
                             Float(learningRate), Float(decay))
        return true
    }
}
