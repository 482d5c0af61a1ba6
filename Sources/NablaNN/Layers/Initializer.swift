#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Nabla

/// How a layer fills its weights, with Keras's names and defaults.
///
/// ```swift
/// Dense(units: 10, kernelInitializer: .heNormal)
/// ```
public enum Initializer: Sendable, Equatable {
    case glorotUniform, glorotNormal, heUniform, heNormal, lecunNormal, lecunUniform
    case zeros, ones
    case constant(Double)
    /// Keras's RandomNormal: mean 0, standard deviation 0.05 by default.
    case randomNormal(mean: Double = 0, std: Double = 0.05)
    /// Keras's RandomUniform: [-0.05, 0.05] by default.
    case randomUniform(min: Double = -0.05, max: Double = 0.05)
    /// PyTorch's default for `nn.Linear` and `nn.Conv*` weights: U(−1/√fanIn, 1/√fanIn).
    case torchDefault

    /// Keras's names for the initializers.
    public static let names: [String: Initializer] = [
        "glorot_uniform": .glorotUniform, "glorot_normal": .glorotNormal, "he_uniform": .heUniform,
        "he_normal": .heNormal, "lecun_normal": .lecunNormal, "lecun_uniform": .lecunUniform,
        "zeros": .zeros, "ones": .ones, "random_normal": .randomNormal(), "random_uniform": .randomUniform(),
        "torch_default": .torchDefault,
    ]

    /// The initializer with Keras name `name`, or an error listing the valid names.
    public init(named name: String) throws(NablaError) {
        guard let i = Initializer.names[name] else {
            throw .unknownName(kind: "initializer", name: name, valid: Initializer.names.keys.sorted())
        }
        self = i
    }

    /// A tensor of `shape` with fan-in and fan-out computed as Keras does (last two dimensions,
    /// receptive field folded in).
    public func make(_ shape: [Int], dtype: DType = .float32, generator: RandomGenerator = .current) -> Tensor {
        let receptive = shape.count > 2 ? shape.dropLast(2).reduce(1, *) : 1
        let fanIn = Double(shape.count >= 2 ? shape[shape.count - 2] * receptive : (shape.first ?? 1))
        let fanOut = Double(shape.count >= 2 ? shape[shape.count - 1] * receptive : (shape.first ?? 1))
        switch self {
        case .zeros: return Tensor.zeros(shape, dtype: dtype)
        case .ones: return Tensor.ones(shape, dtype: dtype)
        case .constant(let v): return Tensor.full(shape, value: v, dtype: dtype)
        case .randomNormal(let mean, let std): return Tensor.randomNormal(shape, mean: mean, std: std, dtype: dtype, generator: generator)
        case .randomUniform(let lo, let hi): return Tensor.randomUniform(shape, low: lo, high: hi, dtype: dtype, generator: generator)
        case .glorotUniform: return Self.uniform(shape, scale: 1, fan: (fanIn + fanOut) / 2, dtype, generator)
        case .heUniform: return Self.uniform(shape, scale: 2, fan: fanIn, dtype, generator)
        case .lecunUniform: return Self.uniform(shape, scale: 1, fan: fanIn, dtype, generator)
        case .torchDefault: return Self.uniform(shape, scale: 1.0 / 3, fan: fanIn, dtype, generator)
        case .glorotNormal: return Self.truncatedNormal(shape, scale: 1, fan: (fanIn + fanOut) / 2, dtype, generator)
        case .heNormal: return Self.truncatedNormal(shape, scale: 2, fan: fanIn, dtype, generator)
        case .lecunNormal: return Self.truncatedNormal(shape, scale: 1, fan: fanIn, dtype, generator)
        }
    }

    private static func uniform(_ shape: [Int], scale: Double, fan: Double, _ dtype: DType, _ g: RandomGenerator) -> Tensor {
        let limit = (3 * scale / Swift.max(fan, 1)).squareRoot()
        return Tensor.randomUniform(shape, low: -limit, high: limit, dtype: dtype, generator: g)
    }

    /// Keras's VarianceScaling with a normal truncated at two standard deviations (the 0.8796...
    /// factor restores the requested variance after truncation).
    private static func truncatedNormal(_ shape: [Int], scale: Double, fan: Double, _ dtype: DType, _ g: RandomGenerator) -> Tensor {
        let std = (scale / Swift.max(fan, 1)).squareRoot() / 0.87962566103423978
        let n = shape.reduce(1, *)
        var values = [Double]()
        values.reserveCapacity(n)
        while values.count < n {
            let u1 = 1 - g.nextDouble(), u2 = g.nextDouble()
            let z = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
            if Swift.abs(z) <= 2 { values.append(z * std) }
        }
        return Tensor(shape: shape, values: values).cast(to: dtype)
    }
}
