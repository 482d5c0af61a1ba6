import Nabla

/// A layer (or model) type that `Model.load` can rebuild, as Keras's `get_config`/`from_config`:
/// the instance describes itself in ``Layer/config`` and the type rebuilds it in `fromConfig`,
/// both written beside the layer in its own file.
///
/// ```swift
/// final class Scale: Layer, ConfigurableLayer {
///     let factor: Double
///     init(factor: Double, name: String? = nil) { self.factor = factor; super.init(name: name) }
///     override var config: [String: JSONValue] { ["factor": JSONValue(factor)] }
///     static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer { Scale(factor: try c.double("factor"), name: c.name) }
///     override func forward(_ x: Tensor) -> Tensor { x * factor }
/// }
/// LayerRegistry.register(Scale.self)
/// ```
public protocol ConfigurableLayer: Layer {
    /// The class names its instances save under (their ``Layer/typeName``s); by default the type's name.
    static var classNames: [String] { get }
    /// Rebuilds a layer from what its `config` wrote: the saved class name (which of `classNames`
    /// it was saved as), the layer's name and its settings, read with ``LayerConfig``'s typed,
    /// checked readers.
    static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer
}

extension ConfigurableLayer {
    public static var classNames: [String] { [String(describing: Self.self)] }
}

/// The layer types `Model.load` can rebuild, by saved class name. Nabla's own are listed here;
/// register your own layer (or subclassed model) type once with ``register(_:)``.
public enum LayerRegistry {
    public typealias Factory = @Sendable (LayerConfig) throws(NablaError) -> Layer

    /// Every built-in type; each encodes and decodes itself in its own file.
    static let builtIn: [any ConfigurableLayer.Type] = [
        // Core layers
        Dense.self, Activation.self, Dropout.self, SpatialDropout2D.self,
        Flatten.self, Reshape.self, UpSampling2D.self, ZeroPadding2D.self, Concatenate.self, Add.self, Dot.self,
        Embedding.self, EmbeddingBag.self, PositionalEmbedding.self,
        Recurrent.self, Bidirectional.self, MultiHeadAttention.self, TransformerBlock.self,
        LayerNormalization.self, BatchNormalization.self,
        Conv2D.self, Conv1D.self, Pooling2D.self, Pooling1D.self, GlobalPooling.self,
        // Ready-made architectures
        GPT.self, BigramModel.self, MLPLanguageModel.self, RecurrentLanguageModel.self,
        TextClassifier.self, FastTextClassifier.self, TextCNN.self, BiLSTMClassifier.self, TransformerTextClassifier.self,
        SpeechRecognizer.self, MatrixFactorization.self, NeuMF.self, TwoTower.self,
        // Read from ONNX files
        ONNXGraphModel.self,
    ]

    /// What each class name rebuilds from: a type (its `fromConfig`) or a registered closure.
    private enum Entry { case type(any ConfigurableLayer.Type), factory(Factory) }

    nonisolated(unsafe) private static var entries: [String: Entry] = Dictionary(
        builtIn.flatMap { t in t.classNames.map { ($0, Entry.type(t)) } }, uniquingKeysWith: { a, _ in a })
    private static let lock = Lock()

    /// Registers a ``ConfigurableLayer`` type under each of its class names.
    ///
    /// ```swift
    /// LayerRegistry.register(Scale.self)
    /// ```
    /// - Parameters:
    ///   - type: the layer or model type.
    public static func register(_ type: any ConfigurableLayer.Type) {
        lock.withLock { for name in type.classNames { entries[name] = .type(type) } }
    }

    /// Adds (or replaces) the factory for layers saved with class name `className`, for types that
    /// describe themselves through ``Layer/config`` without adopting ``ConfigurableLayer``.
    ///
    /// ```swift
    /// LayerRegistry.register("Scale") { config in Scale(factor: try config.double("factor"), name: config.name) }
    /// ```
    /// - Parameters:
    ///   - className: the name saved in `config.json` (the layer's ``Layer/typeName``).
    ///   - factory: rebuilds the layer from its configuration.
    public static func register(_ className: String, _ factory: @escaping Factory) {
        lock.withLock { entries[className] = .factory(factory) }
    }

    /// Whether layers saved with class name `className` can be rebuilt.
    public static func isRegistered(_ className: String) -> Bool {
        lock.withLock { entries[className] != nil }
    }

    /// Every class name that can be rebuilt, sorted.
    public static var classNames: [String] { lock.withLock { entries.keys.sorted() } }

    /// Makes a layer from its saved class name and configuration.
    /// - Parameters:
    ///   - config: the class name, layer name and settings read from `config.json`.
    public static func make(_ config: LayerConfig) throws(NablaError) -> Layer {
        switch lock.withLock({ entries[config.className] }) {
        case .type(let t): return try t.fromConfig(config)
        case .factory(let f): return try f(config)
        case nil: throw .unknownName(kind: "layer class", name: config.className, valid: classNames)
        }
    }
}

extension LayerConfig {
    /// The nested layer saved under `key` (as `Bidirectional` saves the layer it wraps).
    public func layer(_ key: String) throws(NablaError) -> Layer {
        guard let inner = values[key], let cls = inner["class_name"]?.string, let cfg = inner["config"]?.object else {
            throw .invalidArgument("\(className) \(name): config field \"\(key)\" must hold a layer's class_name and config")
        }
        return try LayerRegistry.make(LayerConfig(className: cls, name: inner["name"]?.string ?? name + "_" + key, values: cfg))
    }

    /// The activation saved under `activation`.
    public func activation() throws(NablaError) -> ActivationFunction { try ActivationFunction(named: try string("activation")) }

    /// The border mode saved under `padding`.
    public func padding() throws(NablaError) -> Padding { try choice("padding", Padding.self) }
}

extension JSONValue {
    /// A nested layer entry: its class name, name and configuration.
    public init(layer: Layer) {
        self = ["class_name": .string(layer.typeName), "name": .string(layer.name), "config": .object(layer.config)]
    }
}
