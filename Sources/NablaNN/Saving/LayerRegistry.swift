import Nabla

/// Layer types by name, so that a saved model can be rebuilt without the code that made it.
/// Nabla's layers are registered; register your own layer (or subclassed model) type once:
///
/// ```swift
/// LayerRegistry.register("Scale") { config in Scale(factor: try config.double("factor"), name: config.name) }
/// ```
public enum LayerRegistry {
    public typealias Factory = @Sendable (LayerConfig) throws(NablaError) -> Layer

    nonisolated(unsafe) private static var factories: [String: Factory] = builtIn
    private static let lock = NSLockLike()

    /// Adds (or replaces) the factory for layers saved with class name `className`.
    public static func register(_ className: String, _ factory: @escaping Factory) {
        lock.withLock { factories[className] = factory }
    }

    /// Makes a layer from its saved class name and configuration.
    public static func make(_ config: LayerConfig) throws(NablaError) -> Layer {
        guard let f = lock.withLock({ factories[config.className] }) else {
            throw .unknownName(kind: "layer class", name: config.className, valid: lock.withLock { factories.keys.sorted() })
        }
        return try f(config)
    }

    private static let builtIn: [String: Factory] = [
        "Dense": { c throws(NablaError) in
            Dense(units: try c.positive("units"), activation: try activation(c), useBias: try c.bool("use_bias"), name: c.name)
        },
        "Activation": { c throws(NablaError) in Activation(try activation(c), name: c.name) },
        "Dropout": { c throws(NablaError) in
            let rate = try c.double("rate")
            guard rate >= 0 && rate < 1 else { throw .invalidArgument("Dropout \(c.name): rate \(rate) is outside [0, 1)") }
            return Dropout(rate: rate, name: c.name)
        },
        "Flatten": { c in Flatten(name: c.name) },
        "Reshape": { c throws(NablaError) in Reshape(try c.ints("target_shape"), name: c.name) },
        "Concatenate": { c throws(NablaError) in Concatenate(axis: try c.int("axis"), name: c.name) },
        "Add": { c in Add(name: c.name) },
        "Embedding": { c throws(NablaError) in
            let i = try c.positive("input_dim"), o = try c.positive("output_dim")
            guard i.multipliedReportingOverflow(by: o).partialValue <= Model.maxParameters, i <= Model.maxParameters, o <= Model.maxParameters else {
                throw .invalidArgument("Embedding \(c.name): \(i) x \(o) is too large")
            }
            return Embedding(inputDim: i, outputDim: o, name: c.name)
        },
        "LayerNormalization": { c throws(NablaError) in
            LayerNormalization(epsilon: try c.double("epsilon"), center: try c.bool("center"), scale: try c.bool("scale"), name: c.name)
        },
        "BatchNormalization": { c throws(NablaError) in
            BatchNormalization(momentum: try c.double("momentum"), epsilon: try c.double("epsilon"), name: c.name)
        },
    ]

    private static func activation(_ c: LayerConfig) throws(NablaError) -> ActivationFunction {
        try ActivationFunction(named: try c.string("activation"))
    }
}

extension Layer {
    /// The configuration written to `config.json`: Nabla's layers here, other types their `config`.
    var savedConfig: [String: JSONValue] {
        switch self {
        case let d as Dense: ["units": .number(Double(d.units)), "activation": .string(d.activation.rawValue), "use_bias": .bool(d.useBias)]
        case let a as Activation: ["activation": .string(a.activation.rawValue)]
        case let d as Dropout: ["rate": .number(d.rate)]
        case let r as Reshape: ["target_shape": JSONValue(r.targetShape)]
        case let c as Concatenate: ["axis": .number(Double(c.axis))]
        case let e as Embedding: ["input_dim": .number(Double(e.inputDim)), "output_dim": .number(Double(e.outputDim))]
        case let l as LayerNormalization: ["epsilon": .number(l.epsilon), "center": .bool(l.center), "scale": .bool(l.scale)]
        case let b as BatchNormalization: ["momentum": .number(b.momentum), "epsilon": .number(b.epsilon)]
        default: config
        }
    }
}
