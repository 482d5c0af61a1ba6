import CNablaKernels
import Nabla

/// Adagrad with Keras's defaults (learning rate 0.001, initial accumulator 0.1, ε 1e-7).
///
/// ```swift
/// let optimizer = Adagrad(learningRate: 0.05)
/// ```
public final class Adagrad: Optimizer, @unchecked Sendable {
    public let initialAccumulator: Double
    public let epsilon: Double

    /// - Parameters:
    ///   - learningRate: the step size.
    ///   - initialAccumulator: the starting sum of squared gradients.
    ///   - epsilon: added inside the square root, as Keras does.
    ///   - weightDecay: decoupled weight decay per step.
    public init(learningRate: Double = 0.001, initialAccumulator: Double = 0.1, epsilon: Double = 1e-7, weightDecay: Double = 0) {
        self.initialAccumulator = initialAccumulator
        self.epsilon = epsilon
        super.init(learningRate: learningRate, weightDecay: weightDecay)
    }

    public override var name: String { "adagrad" }

    public override func makeSlots(for parameter: Tensor) -> [Tensor] {
        [Tensor.full(parameter.shape, value: initialAccumulator, dtype: parameter.dtype)]
    }

    /// Keras's rule: a += g²; p −= lr·g/√(a + ε).
    public override func step(_ parameter: Tensor, grad: Tensor, slots: [Tensor], learningRate: Double, iteration: Int, decay: Double) {
        func run<T: FloatingElement>(_: T.Type) {
            let p = parameter.pointer(T.self), g = grad.pointer(T.self), a = slots[0].pointer(T.self)
            let lr = T(learningRate), eps = T(epsilon), d = T(decay)
            for i in 0..<parameter.count {
                a[i] += g[i] * g[i]
                p[i] = p[i] * d - lr * g[i] / T.sqrt(a[i] + eps)
            }
        }
        if parameter.dtype == .float32 { run(Float.self) } else { run(Double.self) }
    }

    /// The same rule on the touched rows only (the dense step leaves untouched rows unchanged too,
    /// apart from weight decay, which sparse updates apply to touched rows only).
    public override func stepSparse(_ parameter: Tensor, grad: RowSparseGradient, slots: [Tensor], learningRate: Double, iteration: Int,
                                    decay: Double) -> Bool {
        guard parameter.dtype == .float32 else { return false }
        nabla_sparse_adagrad_f32(parameter.pointer(Float.self), slots[0].pointer(Float.self), grad.rowWidth, grad.rows.pointer(Int32.self),
                                 grad.rows.count, grad.values.pointer(Float.self), Float(learningRate), Float(epsilon), Float(decay))
        return true
    }
}
