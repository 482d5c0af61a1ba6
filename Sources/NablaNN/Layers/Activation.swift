import Nabla

/// Keras's activation functions, by name.
///
/// ```swift
/// Dense(units: 64, activation: .relu)
/// try ActivationFunction(named: "leaky_relu")
/// ```
public enum ActivationFunction: String, CaseIterable, Sendable {
    case linear, relu, sigmoid, tanh, softmax, gelu, elu, selu, swish, silu, softplus
    case leakyRelu = "leaky_relu"
    case logSoftmax = "log_softmax"

    /// The activation with Keras name `name`, or an error listing the valid names.
    public init(named name: String) throws(NablaError) {
        guard let a = ActivationFunction(rawValue: name) else {
            throw .unknownName(kind: "activation", name: name, valid: ActivationFunction.allCases.map(\.rawValue))
        }
        self = a
    }

    /// Applies the activation with Keras 3's defaults (leaky_relu slope 0.2, elu alpha 1, exact gelu).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .linear: x
        case .relu: Nabla.relu(x)
        case .sigmoid: Nabla.sigmoid(x)
        case .tanh: Nabla.tanh(x)
        case .softmax: Nabla.softmax(x, axis: -1)
        case .logSoftmax: Nabla.logSoftmax(x, axis: -1)
        case .gelu: Nabla.gelu(x)
        case .elu: Nabla.elu(x)
        case .selu: Nabla.selu(x)
        case .swish, .silu: Nabla.silu(x)
        case .softplus: Nabla.softplus(x)
        case .leakyRelu: Nabla.leakyRelu(x, alpha: 0.2)
        }
    }
}

/// A layer that applies an activation: `Activation(.relu)` or `try Activation(named: "relu")`.
public final class Activation: Layer {
    public let activation: ActivationFunction

    public init(_ activation: ActivationFunction, name: String? = nil) {
        self.activation = activation
        super.init(name: name ?? LayerNames.unique("activation"))
    }

    public convenience init(named activationName: String, name: String? = nil) throws(NablaError) {
        self.init(try ActivationFunction(named: activationName), name: name)
    }

    public override var typeName: String { "Activation" }

    public override func forward(_ x: Tensor) -> Tensor { activation(x) }

    public override var config: [String: JSONValue] { ["activation": JSONValue(activation.rawValue)] }
}

extension Activation: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer { Activation(try c.activation(), name: c.name) }
}
