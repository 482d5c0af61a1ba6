import CNablaKernels

/// The table of elementwise functions of one tensor: each case's forward value and, next to it,
/// its derivative, written in terms of the input `x` and the output `y`.
///
/// Every public unary op and activation (`exp`, `relu`, `gelu`, ...) is one case here, and the
/// gradient-check test walks this same table.
public enum UnaryFunction: Sendable, Hashable, CustomStringConvertible {
    case negate, exp, log, sqrt, abs, square, reciprocal, sign
    case relu, sigmoid, tanh, softplus, silu, geluExact, geluTanh, selu
    case leakyRelu(alpha: Double)
    case elu(alpha: Double)
    case power(Double)
    case clamp(min: Double, max: Double)

    public var description: String {
        switch self {
        case .negate: "negate"
        case .exp: "exp"
        case .log: "log"
        case .sqrt: "sqrt"
        case .abs: "abs"
        case .square: "square"
        case .reciprocal: "reciprocal"
        case .sign: "sign"
        case .relu: "relu"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .softplus: "softplus"
        case .silu: "silu"
        case .geluExact: "gelu"
        case .geluTanh: "gelu_tanh"
        case .selu: "selu"
        case .leakyRelu(let a): "leaky_relu(\(a))"
        case .elu(let a): "elu(\(a))"
        case .power(let p): "pow(\(p))"
        case .clamp(let lo, let hi): "clamp(\(lo), \(hi))"
        }
    }

    /// Whether the derivative is zero everywhere it exists (no gradient flows).
    var hasZeroGradient: Bool { self == .sign }

    // Constants of SELU (Klambauer et al.) and of the tanh form of GELU.
    static let seluAlpha = 1.6732632423543772848170429916717
    static let seluScale = 1.0507009873554804934193349852946
    static let sqrt2OverPi = 0.79788456080286535587989211986876
    static let invSqrt2 = 0.70710678118654752440084436210485
    static let invSqrt2Pi = 0.39894228040143267793994605993438

    @inline(__always)
    static func sigmoid<T: FloatingElement>(_ x: T) -> T {
        if x >= 0 { return 1 / (1 + T.exp(-x)) }
        let e = T.exp(x)
        return e / (1 + e)
    }

    /// y[i] = f(x[i]) for i in 0..<n.
    func forward<T: FloatingElement>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int) {
        switch self {
        case .negate: for i in 0..<n { y[i] = -x[i] }
        case .exp: for i in 0..<n { y[i] = T.exp(x[i]) }
        case .log: for i in 0..<n { y[i] = T.log(x[i]) }
        case .sqrt: for i in 0..<n { y[i] = T.sqrt(x[i]) }
        case .abs: for i in 0..<n { y[i] = Swift.abs(x[i]) }
        case .square: for i in 0..<n { y[i] = x[i] * x[i] }
        case .reciprocal: for i in 0..<n { y[i] = 1 / x[i] }
        case .sign: for i in 0..<n { y[i] = x[i] > 0 ? 1 : (x[i] < 0 ? -1 : 0) }
        case .relu: for i in 0..<n { y[i] = x[i] > 0 ? x[i] : 0 }
        case .sigmoid: for i in 0..<n { y[i] = Self.sigmoid(x[i]) }
        case .tanh: for i in 0..<n { y[i] = T.tanh(x[i]) }
        case .softplus:
            for i in 0..<n { y[i] = Swift.max(x[i], 0) + T.log1p(T.exp(-Swift.abs(x[i]))) }
        case .silu: for i in 0..<n { y[i] = x[i] * Self.sigmoid(x[i]) }
        case .geluExact:
            let c = T(Self.invSqrt2)
            for i in 0..<n { y[i] = 0.5 * x[i] * (1 + T.erf(x[i] * c)) }
        case .geluTanh:
            let c = T(Self.sqrt2OverPi), k = T(0.044715)
            for i in 0..<n {
                let v = x[i]
                y[i] = 0.5 * v * (1 + T.tanh(c * (v + k * v * v * v)))
            }
        case .selu:
            let a = T(Self.seluAlpha), s = T(Self.seluScale)
            for i in 0..<n { y[i] = x[i] > 0 ? s * x[i] : s * a * T.expm1(x[i]) }
        case .leakyRelu(let alpha):
            let a = T(alpha)
            for i in 0..<n { y[i] = x[i] > 0 ? x[i] : a * x[i] }
        case .elu(let alpha):
            let a = T(alpha)
            for i in 0..<n { y[i] = x[i] > 0 ? x[i] : a * T.expm1(x[i]) }
        case .power(let p):
            if p == 2 {
                for i in 0..<n { y[i] = x[i] * x[i] }
            } else {
                let e = T(p)
                for i in 0..<n { y[i] = T.pow(x[i], e) }
            }
        case .clamp(let lo, let hi):
            let l = T(lo), h = T(hi)
            for i in 0..<n { y[i] = Swift.min(Swift.max(x[i], l), h) }
        }
    }

    /// dx[i] = g[i] * f'(x[i]), with y = f(x) available to the cases that reuse it.
    func backward<T: FloatingElement>(_ x: UnsafePointer<T>, _ y: UnsafePointer<T>, _ g: UnsafePointer<T>,
                                      _ dx: UnsafeMutablePointer<T>, _ n: Int) {
        switch self {
        case .negate: for i in 0..<n { dx[i] = -g[i] }
        case .exp: for i in 0..<n { dx[i] = g[i] * y[i] }
        case .log: for i in 0..<n { dx[i] = g[i] / x[i] }
        case .sqrt: for i in 0..<n { dx[i] = g[i] * 0.5 / y[i] }
        case .abs: for i in 0..<n { dx[i] = x[i] > 0 ? g[i] : (x[i] < 0 ? -g[i] : 0) }
        case .square: for i in 0..<n { dx[i] = 2 * x[i] * g[i] }
        case .reciprocal: for i in 0..<n { dx[i] = -g[i] * y[i] * y[i] }
        case .sign: for i in 0..<n { dx[i] = 0 }
        case .relu: for i in 0..<n { dx[i] = x[i] > 0 ? g[i] : 0 }
        case .sigmoid: for i in 0..<n { dx[i] = g[i] * y[i] * (1 - y[i]) }
        case .tanh: for i in 0..<n { dx[i] = g[i] * (1 - y[i] * y[i]) }
        case .softplus: for i in 0..<n { dx[i] = g[i] * Self.sigmoid(x[i]) }
        case .silu:
            for i in 0..<n {
                let s = Self.sigmoid(x[i])
                dx[i] = g[i] * (s + x[i] * s * (1 - s))
            }
        case .geluExact:
            let c = T(Self.invSqrt2), d = T(Self.invSqrt2Pi)
            for i in 0..<n {
                let v = x[i]
                let cdf = 0.5 * (1 + T.erf(v * c))
                let pdf = d * T.exp(-0.5 * v * v)
                dx[i] = g[i] * (cdf + v * pdf)
            }
        case .geluTanh:
            let c = T(Self.sqrt2OverPi), k = T(0.044715)
            for i in 0..<n {
                let v = x[i]
                let t = T.tanh(c * (v + k * v * v * v))
                dx[i] = g[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * k * v * v))
            }
        case .selu:
            let a = T(Self.seluAlpha), s = T(Self.seluScale)
            for i in 0..<n { dx[i] = x[i] > 0 ? g[i] * s : g[i] * (y[i] + s * a) }
        case .leakyRelu(let alpha):
            let a = T(alpha)
            for i in 0..<n { dx[i] = x[i] > 0 ? g[i] : a * g[i] }
        case .elu(let alpha):
            let a = T(alpha)
            for i in 0..<n { dx[i] = x[i] > 0 ? g[i] : g[i] * (y[i] + a) }
        case .power(let p):
            let e = T(p)
            if p == 2 {
                for i in 0..<n { dx[i] = 2 * x[i] * g[i] }
            } else {
                for i in 0..<n { dx[i] = g[i] * e * T.pow(x[i], e - 1) }
            }
        case .clamp(let lo, let hi):
            let l = T(lo), h = T(hi)
            for i in 0..<n { dx[i] = x[i] >= l && x[i] <= h ? g[i] : 0 }
        }
    }
}

extension Tensor {
    /// Applies `f` elementwise, recording its derivative for autograd.
    ///
    /// ```swift
    /// let y = x.apply(.leakyRelu(alpha: 0.2))
    /// ```
    public func apply(_ f: UnaryFunction) -> Tensor {
        nablaPrecondition(dtype.isFloatingPoint, "\(f): needs a float32 or float64 tensor, got \(dtype)")
        let y = Tensor(uninitializedShape: shape, dtype: dtype)
        let n = count
        switch dtype {
        case .float32 where f == .relu:
            let xp = pointer(Float.self), yp = y.pointer(Float.self)
            nabla_relu_f32(xp, yp, n)
        case .float32 where f == .geluExact:
            let xp = pointer(Float.self), yp = y.pointer(Float.self)
            nabla_gelu_f32(xp, yp, n)
        case .float32:
            let xp = pointer(Float.self), yp = y.pointer(Float.self)
            Parallel.forEachRange(n) { r in f.forward(xp + r.lowerBound, yp + r.lowerBound, r.count) }
        default:
            let xp = pointer(Double.self), yp = y.pointer(Double.self)
            Parallel.forEachRange(n) { r in f.forward(xp + r.lowerBound, yp + r.lowerBound, r.count) }
        }
        let x = detached()
        return y.recorded("unary", self) { g in [UnaryFunction.gradient(f, x: x, y: y, g: g)] }
    }

    /// Negation: `-x`.
    public static prefix func - (x: Tensor) -> Tensor { x.apply(.negate) }
}

extension UnaryFunction {
    static func gradient(_ f: UnaryFunction, x: Tensor, y: Tensor, g: Tensor) -> Tensor {
        let dx = Tensor(uninitializedShape: x.shape, dtype: x.dtype)
        let n = x.count
        switch x.dtype {
        case .float32 where f == .relu:
            let xp = x.pointer(Float.self), gp = g.pointer(Float.self), dp = dx.pointer(Float.self)
            nabla_relu_backward_f32(xp, gp, dp, n)
        case .float32 where f == .geluExact:
            let xp = x.pointer(Float.self), gp = g.pointer(Float.self), dp = dx.pointer(Float.self)
            nabla_gelu_backward_f32(xp, gp, dp, n)
        case .float32:
            let xp = x.pointer(Float.self), yp = y.pointer(Float.self), gp = g.pointer(Float.self), dp = dx.pointer(Float.self)
            Parallel.forEachRange(n) { r in
                let o = r.lowerBound
                f.backward(xp + o, yp + o, gp + o, dp + o, r.count)
            }
        default:
            let xp = x.pointer(Double.self), yp = y.pointer(Double.self), gp = g.pointer(Double.self), dp = dx.pointer(Double.self)
            Parallel.forEachRange(n) { r in
                let o = r.lowerBound
                f.backward(xp + o, yp + o, gp + o, dp + o, r.count)
            }
        }
        return dx
    }
}

// MARK: - Public elementwise functions

/// e raised to each element.
public func exp(_ x: Tensor) -> Tensor { x.apply(.exp) }
/// The natural logarithm of each element.
public func log(_ x: Tensor) -> Tensor { x.apply(.log) }
/// The square root of each element.
public func sqrt(_ x: Tensor) -> Tensor { x.apply(.sqrt) }
/// The absolute value of each element.
public func abs(_ x: Tensor) -> Tensor { x.apply(.abs) }
/// Each element squared.
public func square(_ x: Tensor) -> Tensor { x.apply(.square) }
/// -1, 0 or 1 by the sign of each element (no gradient flows).
public func sign(_ x: Tensor) -> Tensor { x.apply(.sign) }
/// Each element raised to the power `exponent`.
public func pow(_ x: Tensor, _ exponent: Double) -> Tensor { x.apply(.power(exponent)) }
/// Each element limited to `[min, max]`.
///
/// ```swift
/// clamp(Tensor([-2, 0.5, 3]), min: 0, max: 1)   // [0, 0.5, 1]
/// ```
/// - Parameters:
///   - x: the input.
///   - min: the lower bound.
///   - max: the upper bound.
public func clamp(_ x: Tensor, min: Double = -.infinity, max: Double = .infinity) -> Tensor {
    x.apply(.clamp(min: min, max: max))
}

// MARK: - Activations

/// max(x, 0).
public func relu(_ x: Tensor) -> Tensor { x.apply(.relu) }
/// x for x > 0, `alpha`·x otherwise (Keras's default slope is 0.3, PyTorch's 0.01).
/// - Parameters:
///   - x: the input.
///   - alpha: the slope below zero.
public func leakyRelu(_ x: Tensor, alpha: Double = 0.01) -> Tensor { x.apply(.leakyRelu(alpha: alpha)) }
/// x for x > 0, `alpha`·(eˣ − 1) otherwise.
/// - Parameters:
///   - x: the input.
///   - alpha: the value approached far below zero.
public func elu(_ x: Tensor, alpha: Double = 1) -> Tensor { x.apply(.elu(alpha: alpha)) }
/// The scaled ELU of Klambauer et al.
public func selu(_ x: Tensor) -> Tensor { x.apply(.selu) }
/// 1 / (1 + e⁻ˣ), computed without overflow.
public func sigmoid(_ x: Tensor) -> Tensor { x.apply(.sigmoid) }
/// The hyperbolic tangent.
public func tanh(_ x: Tensor) -> Tensor { x.apply(.tanh) }
/// log(1 + eˣ), computed without overflow.
public func softplus(_ x: Tensor) -> Tensor { x.apply(.softplus) }
/// x · sigmoid(x) (also called swish).
public func silu(_ x: Tensor) -> Tensor { x.apply(.silu) }
/// The Gaussian error linear unit: exact (erf) by default, or its tanh approximation.
///
/// ```swift
/// gelu(x)                       // x · Φ(x)
/// gelu(x, approximate: true)    // the tanh form used by GPT-2
/// ```
/// - Parameters:
///   - x: the input.
///   - approximate: use the tanh approximation (GPT-2's) instead of the exact x·Φ(x).
public func gelu(_ x: Tensor, approximate: Bool = false) -> Tensor { x.apply(approximate ? .geluTanh : .geluExact) }
