import Nabla

/// Normalises each sample over its last axis, then scales by γ and shifts by β (Keras's default
/// epsilon 1e-3; pass 1e-5 for PyTorch's).
///
/// ```swift
/// let norm = LayerNormalization()
/// ```
public final class LayerNormalization: Layer {
    public let epsilon: Double
    public let center: Bool
    public let scale: Bool
    public private(set) var gamma: Parameter?
    public private(set) var beta: Parameter?

    /// - Parameters:
    ///   - epsilon: added to the variance.
    ///   - center: learn an offset (beta).
    ///   - scale: learn a scale (gamma).
    ///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
    public init(epsilon: Double = 1e-3, center: Bool = true, scale: Bool = true, name: String? = nil) {
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        super.init(name: name)
    }

    public override var typeName: String { "LayerNormalization" }

    public override func build(inputShapes: [[Int]]) {
        let d = inputShapes[0].last ?? 1
        if scale { gamma = Parameter(Tensor.ones([d])) }
        if center { beta = Parameter(Tensor.zeros([d])) }
    }

    public override func forward(_ x: Tensor) -> Tensor {
        layerNorm(x, gamma: gamma?.value, beta: beta?.value, epsilon: epsilon)
    }

    public override var config: [String: JSONValue] { ["epsilon": JSONValue(epsilon), "center": JSONValue(center), "scale": JSONValue(scale)] }
}

/// Normalises each feature (the last axis) over the batch: batch statistics while training, moving
/// averages (momentum 0.99, Keras's default) at inference, then γ and β.
///
/// ```swift
/// Sequential([Dense(units: 64), BatchNormalization(), Activation(.relu)])
/// ```
public final class BatchNormalization: Layer {
    public let momentum: Double
    public let epsilon: Double
    public private(set) var gamma: Parameter?
    public private(set) var beta: Parameter?
    /// Non-trainable: updated during training, used at inference.
    public private(set) var movingMean: Parameter?
    public private(set) var movingVariance: Parameter?

    /// - Parameters:
    ///   - momentum: the moving averages' decay per batch.
    ///   - epsilon: added to the variance.
    ///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
    public init(momentum: Double = 0.99, epsilon: Double = 1e-3, name: String? = nil) {
        self.momentum = momentum
        self.epsilon = epsilon
        super.init(name: name)
    }

    public override func build(inputShapes: [[Int]]) {
        let d = inputShapes[0].last ?? 1
        gamma = Parameter(Tensor.ones([d]))
        beta = Parameter(Tensor.zeros([d]))
        movingMean = Parameter(Tensor.zeros([d]), trainable: false)
        movingVariance = Parameter(Tensor.ones([d]), trainable: false)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let axes = Array(0..<(x.rank - 1))
        let mean: Tensor, variance: Tensor
        if isTraining {
            mean = x.mean(axes: axes)
            variance = square(x - mean).mean(axes: axes)
            withNoGrad {
                let m = momentum
                movingMean!.assign(movingMean!.value * m + mean.detached() * (1 - m))
                movingVariance!.assign(movingVariance!.value * m + variance.detached() * (1 - m))
            }
        } else {
            mean = movingMean!.value.detached()
            variance = movingVariance!.value.detached()
        }
        return (x - mean) / sqrt(variance + epsilon) * gamma!.value + beta!.value
    }

    public override var config: [String: JSONValue] { ["momentum": JSONValue(momentum), "epsilon": JSONValue(epsilon)] }
}

extension LayerNormalization: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        LayerNormalization(epsilon: try c.double("epsilon"), center: try c.bool("center"), scale: try c.bool("scale"), name: c.name)
    }
}

extension BatchNormalization: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        BatchNormalization(momentum: try c.double("momentum"), epsilon: try c.double("epsilon"), name: c.name)
    }
}
