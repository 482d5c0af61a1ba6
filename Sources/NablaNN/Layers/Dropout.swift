import Nabla

/// Randomly zeroes a fraction `rate` of the inputs during training and scales the rest by
/// 1/(1 − rate); does nothing at inference.
///
/// ```swift
/// Sequential([Dense(units: 64, activation: .relu), Dropout(rate: 0.5), Dense(units: 2)])
/// ```
public final class Dropout: Layer {
    public let rate: Double
    private let own: RandomGenerator?

    /// - Parameters:
    ///   - rate: the fraction dropped, in [0, 1).
    ///   - seed: a generator of the layer's own, for reproducible masks independent of other draws.
    ///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
    public init(rate: Double, seed: UInt64? = nil, name: String? = nil) {
        nablaPrecondition(rate >= 0 && rate < 1, "Dropout: rate must be in [0, 1), got \(rate)")
        self.rate = rate
        self.own = seed.map { RandomGenerator(seed: $0) }
        super.init(name: name)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        guard isTraining, rate > 0 else { return x }
        let keep = Tensor.randomUniform(x.shape, dtype: x.dtype, generator: own ?? .current) .>= Tensor(rate, dtype: x.dtype)
        return x * keep.cast(to: x.dtype) * (1 / (1 - rate))
    }

    public override var config: [String: JSONValue] { ["rate": JSONValue(rate)] }
}

/// Drops whole channels (feature maps) during training: the mask is [batch, 1, 1, channels].
public final class SpatialDropout2D: Layer {
    public let rate: Double

    /// - Parameters:
    ///   - rate: the fraction of channels dropped, in [0, 1).
    ///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
    public init(rate: Double, name: String? = nil) {
        nablaPrecondition(rate >= 0 && rate < 1, "SpatialDropout2D: rate must be in [0, 1), got \(rate)")
        self.rate = rate
        super.init(name: name)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        guard isTraining, rate > 0 else { return x }
        let shape = [x.shape[0]] + Array(repeating: 1, count: x.rank - 2) + [x.shape[x.rank - 1]]
        let keep = (Tensor.randomUniform(shape, dtype: x.dtype) .>= Tensor(rate, dtype: x.dtype)).cast(to: x.dtype)
        return x * keep * (1 / (1 - rate))
    }

    public override var config: [String: JSONValue] { ["rate": JSONValue(rate)] }
}

extension Dropout: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer { Dropout(rate: try c.rate("rate"), name: c.name) }
}

extension SpatialDropout2D: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer { SpatialDropout2D(rate: try c.rate("rate"), name: c.name) }
}
