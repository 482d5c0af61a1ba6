import Nabla

/// A densely connected layer: `activation(x·kernel + bias)`, kernel [in, units] (Keras's layout).
///
/// ```swift
/// let hidden = Dense(units: 3, activation: .linear)(inputs)   // functional
/// let layer = Dense(units: 10, inputDim: 784)                 // built at once
/// ```
public final class Dense: Layer {
    public let units: Int
    public let activation: ActivationFunction
    public let useBias: Bool
    public let kernelInitializer: Initializer
    public let biasInitializer: Initializer
    public private(set) var kernel: Parameter?
    public private(set) var bias: Parameter?

    /// - Parameters:
    ///   - units: the output size.
    ///   - activation: applied to the output (`.linear`: none).
    ///   - useBias: whether to add a bias vector.
    ///   - kernelInitializer: how the [in, units] kernel starts.
    ///   - biasInitializer: how the bias starts.
    ///   - inputDim: the input size, to build at once instead of on the first call.
    ///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
    public init(units: Int, activation: ActivationFunction = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                inputDim: Int? = nil, name: String? = nil) {
        nablaPrecondition(units > 0, "Dense: units must be positive, got \(units)")
        self.units = units
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        super.init(name: name)
        if let inputDim { buildIfNeeded([[inputDim]]) }
    }

    public override func build(inputShapes: [[Int]]) {
        let inDim = inputShapes[0].last ?? 1
        kernel = Parameter(kernelInitializer.make([inDim, units]))
        if useBias { bias = Parameter(biasInitializer.make([units])) }
    }

    public override func outputShape(for inputShapes: [[Int]]) -> [Int] { Array(inputShapes[0].dropLast()) + [units] }

    public override func validate(inputShapes: [[Int]]) throws(NablaError) {
        guard let kernel, let shape = inputShapes.first else { return }
        if shape.last != kernel.shape[0] {
            throw .shapeMismatch(layer: name, expected: kerasShape([nil] + shape.dropLast() + [kernel.shape[0]]),
                                 actual: kerasShape([nil] + shape))
        }
    }

    public override func forward(_ x: Tensor) -> Tensor {
        guard let kernel else { fatalError("\(name): used before it was built") }
        nablaPrecondition(x.shape.last == kernel.shape[0],
                   "\(name): expected input shape \(kerasShape([nil] + [kernel.shape[0]])) (last dimension \(kernel.shape[0])), got \(x.shape)")
        // ReLU, the usual case, is applied inside the GEMM as each output tile is finished.
        if activation == .relu { return linear(x, kernel.value, bias?.value, relu: true) }
        return activation(linear(x, kernel.value, bias?.value))
    }

    public override var config: [String: JSONValue] { ["units": JSONValue(units), "activation": JSONValue(activation.rawValue), "use_bias": JSONValue(useBias)] }
}

/// PyTorch's name for a dense layer: `Linear(784, 128)` maps 784 features to 128.
/// - Parameters:
///   - inFeatures: the input size.
///   - outFeatures: the output size.
///   - bias: whether to add a bias vector.
public func Linear(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) -> Dense {
    Dense(units: outFeatures, useBias: bias, inputDim: inFeatures)
}

extension Dense: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        Dense(units: try c.positive("units"), activation: try c.activation(), useBias: try c.bool("use_bias"), name: c.name)
    }
}
