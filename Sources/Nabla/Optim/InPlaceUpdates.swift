import CNablaKernels

// Fused, in-place parameter updates for optimizers: one pass over a parameter, its gradient and
// its state per step. They write into the tensors' storage, which only optimizers may do, and only
// outside gradient recording (the parameter stays the same autograd leaf).

/// The fused update kernels behind Nabla's optimizers.
public enum InPlaceUpdate {
    /// Hyper-parameters of one Adam/AdamW step.
    public struct Adam: Sendable {
        public var learningRate: Double
        public var beta1: Double
        public var beta2: Double
        public var epsilon: Double
        /// L2 penalty added to the gradient (Adam) or decoupled decay of the weights (AdamW).
        public var weightDecay: Double
        public var decoupledWeightDecay: Bool
        /// The 1-based step count, for bias correction.
        public var step: Int

        public init(learningRate: Double, beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double,
                    decoupledWeightDecay: Bool, step: Int) {
            self.learningRate = learningRate
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
            self.decoupledWeightDecay = decoupledWeightDecay
            self.step = step
        }
    }

    static func check(_ p: Tensor, _ others: Tensor..., op: String) {
        nablaPrecondition(p.dtype.isFloatingPoint, "\(op): parameter must be floating point, got \(p.dtype)")
        for o in others {
            nablaPrecondition(o.shape == p.shape && o.dtype == p.dtype,
                              "\(op): state \(o.shape) \(o.dtype) does not match parameter \(p.shape) \(p.dtype)")
        }
    }

    /// Adam (Kingma & Ba) as Keras computes it: α = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ), p −= α·m/(√v + ε).
    public static func adam(_ param: Tensor, grad: Tensor, m: Tensor, v: Tensor, _ h: Adam) {
        check(param, grad, m, v, op: "adam")
        let n = param.count
        let c1 = 1 - Foundation_pow(h.beta1, Double(h.step)), c2 = 1 - Foundation_pow(h.beta2, Double(h.step))
        if param.dtype == .float32 && !(h.weightDecay != 0 && !h.decoupledWeightDecay) {
            let decay = h.decoupledWeightDecay ? 1 - h.learningRate * h.weightDecay : 1
            nabla_adam_f32(param.pointer(Float.self), grad.pointer(Float.self), m.pointer(Float.self), v.pointer(Float.self), n,
                           Float(h.beta1), Float(h.beta2), Float(h.epsilon), Float(h.learningRate * c2.squareRoot() / c1), Float(decay))
        } else if param.dtype == .float32 {
            adamKernel(param.pointer(Float.self), grad.pointer(Float.self), m.pointer(Float.self), v.pointer(Float.self), n, h, c1, c2)
        } else {
            adamKernel(param.pointer(Double.self), grad.pointer(Double.self), m.pointer(Double.self), v.pointer(Double.self), n, h, c1, c2)
        }
    }

    private static func adamKernel<T: FloatingElement>(_ p: UnsafeMutablePointer<T>, _ g: UnsafeMutablePointer<T>, _ m: UnsafeMutablePointer<T>,
                                                       _ v: UnsafeMutablePointer<T>, _ n: Int, _ h: Adam, _ c1: Double, _ c2: Double) {
        let b1 = T(h.beta1), b2 = T(h.beta2), eps = T(h.epsilon)
        let stepSize = T(h.learningRate * c2.squareRoot() / c1)
        let wd = T(h.weightDecay), decay = T(1 - h.learningRate * h.weightDecay)
        let decoupled = h.decoupledWeightDecay && h.weightDecay != 0
        let coupled = !h.decoupledWeightDecay && h.weightDecay != 0
        Parallel.forEachRange(n, grain: 1 << 16) { r in
            for i in r {
                var gi = g[i]
                if coupled { gi += wd * p[i] }
                if decoupled { p[i] *= decay }
                let mi = b1 * m[i] + (1 - b1) * gi
                let vi = b2 * v[i] + (1 - b2) * gi * gi
                m[i] = mi
                v[i] = vi
                p[i] -= stepSize * mi / (T.sqrt(vi) + eps)
            }
        }
    }

    /// SGD with optional momentum, Nesterov momentum and L2 weight decay (Keras's formulation:
    /// velocity = momentum·velocity − lr·g; p += velocity, or p += momentum·velocity − lr·g with Nesterov).
    public static func sgd(_ param: Tensor, grad: Tensor, velocity: Tensor?, learningRate: Double, momentum: Double,
                           nesterov: Bool, weightDecay: Double) {
        check(param, grad, op: "sgd")
        if let velocity { check(param, velocity, op: "sgd") }
        let n = param.count
        if param.dtype == .float32 {
            sgdKernel(param.pointer(Float.self), grad.pointer(Float.self), velocity?.pointer(Float.self), n, learningRate, momentum, nesterov, weightDecay)
        } else {
            sgdKernel(param.pointer(Double.self), grad.pointer(Double.self), velocity?.pointer(Double.self), n, learningRate, momentum, nesterov, weightDecay)
        }
    }

    private static func sgdKernel<T: FloatingElement>(_ p: UnsafeMutablePointer<T>, _ g: UnsafeMutablePointer<T>, _ vel: UnsafeMutablePointer<T>?,
                                                      _ n: Int, _ lr: Double, _ mom: Double, _ nesterov: Bool, _ wd: Double) {
        let lrT = T(lr), mu = T(mom), w = T(wd)
        for i in 0..<n {
            let gi = g[i] + w * p[i]
            if let vel {
                let v = mu * vel[i] - lrT * gi
                vel[i] = v
                p[i] += nesterov ? mu * v - lrT * gi : v
            } else {
                p[i] -= lrT * gi
            }
        }
    }

    /// RMSprop (Keras): s = ρ·s + (1 − ρ)·g²; with momentum, velocity = μ·velocity + lr·g/√(s + ε), p −= velocity;
    /// otherwise p −= lr·g/(√(s + ε)) — Keras adds ε inside the square root.
    public static func rmsprop(_ param: Tensor, grad: Tensor, meanSquare: Tensor, velocity: Tensor?, learningRate: Double,
                               rho: Double, momentum: Double, epsilon: Double) {
        check(param, grad, meanSquare, op: "rmsprop")
        let n = param.count
        func run<T: FloatingElement>(_: T.Type) {
            let p = param.pointer(T.self), g = grad.pointer(T.self), s = meanSquare.pointer(T.self), vel = velocity?.pointer(T.self)
            let r = T(rho), lr = T(learningRate), eps = T(epsilon), mu = T(momentum)
            for i in 0..<n {
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
        if param.dtype == .float32 { run(Float.self) } else { run(Double.self) }
    }

    /// Adagrad (Keras): a += g²; p −= lr·g/√(a + ε).
    public static func adagrad(_ param: Tensor, grad: Tensor, accumulator: Tensor, learningRate: Double, epsilon: Double) {
        check(param, grad, accumulator, op: "adagrad")
        let n = param.count
        func run<T: FloatingElement>(_: T.Type) {
            let p = param.pointer(T.self), g = grad.pointer(T.self), a = accumulator.pointer(T.self)
            let lr = T(learningRate), eps = T(epsilon)
            for i in 0..<n {
                a[i] += g[i] * g[i]
                p[i] -= lr * g[i] / T.sqrt(a[i] + eps)
            }
        }
        if param.dtype == .float32 { run(Float.self) } else { run(Double.self) }
    }

    /// Multiplies `tensor` by `factor` in place (gradient clipping by norm).
    public static func scale(_ tensor: Tensor, by factor: Double) {
        if tensor.dtype == .float32 {
            let p = tensor.pointer(Float.self), f = Float(factor)
            for i in 0..<tensor.count { p[i] *= f }
        } else {
            let p = tensor.pointer(Double.self)
            for i in 0..<tensor.count { p[i] *= factor }
        }
    }

    /// Limits every element of `tensor` to [−limit, limit] in place (gradient clipping by value).
    public static func clip(_ tensor: Tensor, limit: Double) {
        for i in 0..<tensor.count {
            let v = tensor.element(at: i)
            if v > limit { tensor.setElement(limit, at: i) } else if v < -limit { tensor.setElement(-limit, at: i) }
        }
    }

    /// Copies `source`'s values into `destination`'s storage (loading weights into a parameter in place).
    public static func assign(_ destination: Tensor, from source: Tensor) {
        nablaPrecondition(destination.shape == source.shape,
                          "assign: shape \(source.shape) does not match \(destination.shape)")
        let s = source.dtype == destination.dtype ? source : source.cast(to: destination.dtype)
        destination.rawPointer.copyMemory(from: s.rawPointer, byteCount: destination.count * destination.dtype.byteSize)
    }
}

@inline(__always) private func Foundation_pow(_ x: Double, _ y: Double) -> Double {
    var r = 1.0
    // Integral exponents (step counts) by repeated squaring keep bias correction exact and cheap.
    if y == y.rounded(), y >= 0, y < 1e9 {
        var base = x, e = Int(y)
        while e > 0 {
            if e & 1 == 1 { r *= base }
            base *= base
            e >>= 1
        }
        return r
    }
    return _pow(x, y)
}

@inline(__always) private func _pow(_ x: Double, _ y: Double) -> Double { Double.pow(x, y) }

extension InPlaceUpdate {
    // MARK: Row-sparse updates (float32): only the rows of `grad` change; `decay` (decoupled weight
    // decay, 1 for none) applies to those rows only.

    static func checkSparse(_ p: Tensor, _ g: RowSparseGradient, _ state: Tensor..., op: String) {
        nablaPrecondition(p.dtype == .float32 && g.values.dtype == .float32 && g.denseShape == p.shape,
                          "\(op): a float32 parameter \(p.shape) and its sparse gradient, got \(p.dtype) and \(g.denseShape) \(g.values.dtype)")
        for s in state { nablaPrecondition(s.shape == p.shape && s.dtype == p.dtype, "\(op): state \(s.shape) does not match parameter \(p.shape)") }
    }

    /// Plain SGD on the rows of `grad`: p[r] = p[r]·decay − lr·g[r] (identical to the dense step on every row).
    public static func sparseSGD(_ param: Tensor, grad: RowSparseGradient, learningRate: Double, decay: Double = 1) {
        checkSparse(param, grad, op: "sparse sgd")
        let width = param.count / Swift.max(param.shape[0], 1)
        nabla_sparse_sgd_f32(param.pointer(Float.self), width, grad.rows.pointer(Int32.self), grad.rows.count, grad.values.pointer(Float.self),
                             Float(learningRate), Float(decay))
    }

    /// Lazy Adam (PyTorch's `SparseAdam`): the dense Adam step on the rows of `grad` only; other rows'
    /// moments are left as they are instead of decaying. Bias correction uses `h.step`; `decay`
    /// replaces `h.weightDecay`, as for the other sparse updates.
    public static func sparseAdam(_ param: Tensor, grad: RowSparseGradient, m: Tensor, v: Tensor, _ h: Adam, decay: Double = 1) {
        checkSparse(param, grad, m, v, op: "sparse adam")
        let width = param.count / Swift.max(param.shape[0], 1)
        let c1 = 1 - Foundation_pow(h.beta1, Double(h.step)), c2 = 1 - Foundation_pow(h.beta2, Double(h.step))
        nabla_sparse_adam_f32(param.pointer(Float.self), m.pointer(Float.self), v.pointer(Float.self), width, grad.rows.pointer(Int32.self),
                              grad.rows.count, grad.values.pointer(Float.self), Float(h.beta1), Float(h.beta2), Float(h.epsilon),
                              Float(h.learningRate * c2.squareRoot() / c1), Float(decay))
    }

    /// Adagrad on the rows of `grad` (identical to the dense step on every touched row; untouched
    /// rows are unchanged by the dense step too).
    public static func sparseAdagrad(_ param: Tensor, grad: RowSparseGradient, accumulator: Tensor, learningRate: Double, epsilon: Double,
                                     decay: Double = 1) {
        checkSparse(param, grad, accumulator, op: "sparse adagrad")
        let width = param.count / Swift.max(param.shape[0], 1)
        nabla_sparse_adagrad_f32(param.pointer(Float.self), accumulator.pointer(Float.self), width, grad.rows.pointer(Int32.self), grad.rows.count,
                                 grad.values.pointer(Float.self), Float(learningRate), Float(epsilon), Float(decay))
    }
}
