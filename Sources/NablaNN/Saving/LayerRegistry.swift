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
    private static let lock = Lock()

    /// Adds (or replaces) the factory for layers saved with class name `className`.
    public static func register(_ className: String, _ factory: @escaping Factory) {
        lock.withLock { factories[className] = factory }
    }

    /// Whether layers saved with class name `className` can be rebuilt.
    public static func isRegistered(_ className: String) -> Bool {
        lock.withLock { factories[className] != nil }
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
            return Embedding(inputDim: i, outputDim: o, maskZero: try c.optionalBool("mask_zero") ?? false, sparse: try c.optionalBool("sparse") ?? false,
                             name: c.name)
        },
        "EmbeddingBag": { c throws(NablaError) in
            let i = try c.positive("input_dim"), o = try c.positive("output_dim")
            guard i.multipliedReportingOverflow(by: o).partialValue <= Model.maxParameters, i <= Model.maxParameters, o <= Model.maxParameters else {
                throw .invalidArgument("EmbeddingBag \(c.name): \(i) x \(o) is too large")
            }
            return EmbeddingBag(inputDim: i, outputDim: o, sparse: try c.optionalBool("sparse") ?? true, name: c.name)
        },
        "SimpleRNN": { c throws(NablaError) in try recurrent(.simple, c) },
        "LSTM": { c throws(NablaError) in try recurrent(.lstm, c) },
        "GRU": { c throws(NablaError) in try recurrent(.gru, c) },
        "Bidirectional": { c throws(NablaError) in
            guard let inner = c.values["layer"], let cls = inner["class_name"]?.string, let cfg = inner["config"]?.object else {
                throw .invalidArgument("Bidirectional \(c.name): config field \"layer\" must hold the wrapped layer's class_name and config")
            }
            guard let layer = try make(LayerConfig(className: cls, name: inner["name"]?.string ?? c.name + "_forward", values: cfg)) as? Recurrent else {
                throw .invalidArgument("Bidirectional \(c.name): wraps \(cls), not a recurrent layer")
            }
            return Bidirectional(layer, name: c.name)
        },
        "LayerNormalization": { c throws(NablaError) in
            LayerNormalization(epsilon: try c.double("epsilon"), center: try c.bool("center"), scale: try c.bool("scale"), name: c.name)
        },
        "Conv2D": { c throws(NablaError) in
            let k = try c.pair("kernel_size"), st = try c.pair("strides"), d = try c.pair("dilation_rate")
            let filters = try c.positive("filters"), groups = try c.positive("groups")
            guard filters % groups == 0 else { throw .invalidArgument("Conv2D \(c.name): \(filters) filters do not divide into \(groups) groups") }
            return Conv2D(filters: filters, kernelSize: k, strides: st, padding: try padding(c), dilationRate: d, groups: groups,
                          activation: try activation(c), useBias: try c.bool("use_bias"), name: c.name)
        },
        "Conv1D": { c throws(NablaError) in
            let filters = try c.positive("filters"), groups = try c.positive("groups")
            guard filters % groups == 0 else { throw .invalidArgument("Conv1D \(c.name): \(filters) filters do not divide into \(groups) groups") }
            return Conv1D(filters: filters, kernelSize: try c.positive("kernel_size"), strides: try c.positive("strides"), padding: try padding(c),
                          dilationRate: try c.positive("dilation_rate"), groups: groups, activation: try activation(c), useBias: try c.bool("use_bias"), name: c.name)
        },
        "MaxPooling2D": { c throws(NablaError) in MaxPooling2D(poolSize: try c.pair("pool_size"), strides: try c.pair("strides"), padding: try padding(c), name: c.name) },
        "AveragePooling2D": { c throws(NablaError) in AveragePooling2D(poolSize: try c.pair("pool_size"), strides: try c.pair("strides"), padding: try padding(c), name: c.name) },
        "MaxPooling1D": { c throws(NablaError) in MaxPooling1D(poolSize: try c.positive("pool_size"), strides: try c.positive("strides"), padding: try padding(c), name: c.name) },
        "AveragePooling1D": { c throws(NablaError) in AveragePooling1D(poolSize: try c.positive("pool_size"), strides: try c.positive("strides"), padding: try padding(c), name: c.name) },
        "GlobalAveragePooling": { c in GlobalPooling(.average, name: c.name) },
        "GlobalMaxPooling": { c in GlobalPooling(.max, name: c.name) },
        "SpatialDropout2D": { c throws(NablaError) in
            let rate = try c.double("rate")
            guard rate >= 0 && rate < 1 else { throw .invalidArgument("SpatialDropout2D \(c.name): rate \(rate) is outside [0, 1)") }
            return SpatialDropout2D(rate: rate, name: c.name)
        },
        "UpSampling2D": { c throws(NablaError) in UpSampling2D(size: try c.pair("size"), name: c.name) },
        "ZeroPadding2D": { c throws(NablaError) in
            let p = try c.ints("padding")
            guard p.count == 4, p.allSatisfy({ $0 >= 0 && $0 <= 1 << 16 }) else { throw .invalidArgument("ZeroPadding2D \(c.name): padding must be 4 sizes") }
            return ZeroPadding2D(padding: (p[0], p[1], p[2], p[3]), name: c.name)
        },
        "BatchNormalization": { c throws(NablaError) in
            BatchNormalization(momentum: try c.double("momentum"), epsilon: try c.double("epsilon"), name: c.name)
        },
    ]

    private static func recurrent(_ cell: RecurrentCell, _ c: LayerConfig) throws(NablaError) -> Recurrent {
        Recurrent(cell, units: try c.positive("units"), returnSequences: try c.bool("return_sequences"), returnState: try c.bool("return_state"),
                  goBackwards: try c.bool("go_backwards"), name: c.name)
    }

    private static func padding(_ c: LayerConfig) throws(NablaError) -> Padding {
        guard let p = Padding(rawValue: try c.string("padding")) else { throw .invalidArgument("\(c.className) \(c.name): padding must be valid or same") }
        return p
    }

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
        case let e as Embedding:
            ["input_dim": .number(Double(e.inputDim)), "output_dim": .number(Double(e.outputDim)), "mask_zero": .bool(e.maskZero), "sparse": .bool(e.sparse)]
        case let r as Recurrent:
            ["units": .number(Double(r.units)), "return_sequences": .bool(r.returnSequences), "return_state": .bool(r.returnState),
             "go_backwards": .bool(r.goBackwards)]
        case let b as Bidirectional:
            ["layer": ["class_name": .string(b.forwardLayer.typeName), "name": .string(b.forwardLayer.name), "config": .object(b.forwardLayer.savedConfig)]]
        case let e as EmbeddingBag: ["input_dim": .number(Double(e.inputDim)), "output_dim": .number(Double(e.outputDim)), "sparse": .bool(e.sparse)]
        case let l as LayerNormalization: ["epsilon": .number(l.epsilon), "center": .bool(l.center), "scale": .bool(l.scale)]
        case let b as BatchNormalization: ["momentum": .number(b.momentum), "epsilon": .number(b.epsilon)]
        case let c as Conv2D:
            ["filters": .number(Double(c.filters)), "kernel_size": JSONValue([c.kernelSize.0, c.kernelSize.1]),
             "strides": JSONValue([c.strides.0, c.strides.1]), "padding": .string(c.padding.rawValue),
             "dilation_rate": JSONValue([c.dilationRate.0, c.dilationRate.1]), "groups": .number(Double(c.groups)),
             "activation": .string(c.activation.rawValue), "use_bias": .bool(c.useBias)]
        case let c as Conv1D:
            ["filters": .number(Double(c.conv.filters)), "kernel_size": .number(Double(c.conv.kernelSize.1)),
             "strides": .number(Double(c.conv.strides.1)), "padding": .string(c.conv.padding.rawValue),
             "dilation_rate": .number(Double(c.conv.dilationRate.1)), "groups": .number(Double(c.conv.groups)),
             "activation": .string(c.conv.activation.rawValue), "use_bias": .bool(c.conv.useBias)]
        case let p as Pooling2D:
            ["pool_size": JSONValue([p.poolSize.0, p.poolSize.1]), "strides": JSONValue([p.strides.0, p.strides.1]), "padding": .string(p.padding.rawValue)]
        case let p as Pooling1D:
            ["pool_size": .number(Double(p.pool.poolSize.1)), "strides": .number(Double(p.pool.strides.1)), "padding": .string(p.pool.padding.rawValue)]
        case let d as SpatialDropout2D: ["rate": .number(d.rate)]
        case let u as UpSampling2D: ["size": JSONValue([u.size.0, u.size.1])]
        case let z as ZeroPadding2D: ["padding": JSONValue([z.padding.top, z.padding.bottom, z.padding.left, z.padding.right])]
        default: config
        }
    }
}
