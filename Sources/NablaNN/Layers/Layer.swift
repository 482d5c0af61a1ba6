import Nabla

/// A Keras-style layer: a module with a name, built lazily from the first input shape it sees
/// (shapes here exclude the batch dimension), callable on tensors and on symbolic tensors.
///
/// ```swift
/// let dense = Dense(units: 3)
/// let y = dense(Tensor.ones([8, 2]))      // builds a [2, 3] kernel on first use
/// ```
open class Layer: Module {
    /// The layer's name, unique in the process as in Keras (`dense`, `dense_1`, ...).
    public let name: String
    /// The profiler's row name, once computed ("" for a layer made of layers).
    private var profileRowCache: String?
    /// Input shapes (without batch) the layer was built for; nil until built.
    public private(set) var builtInputShapes: [[Int]]?

    public init(name: String? = nil) {
        self.name = name ?? LayerNames.unique(Self.defaultBaseName(for: Self.self))
        super.init()
    }

    /// The type shown in summaries: `Dense`, `Dropout`, ...
    open var typeName: String { String(describing: type(of: self)) }

    /// Settings needed to rebuild the layer from `config.json`, as Keras's `get_config`. Each of
    /// Nabla's layers overrides it in its own file and rebuilds from it in its ``ConfigurableLayer``
    /// `fromConfig`; do the same in your own layer types and register them with ``LayerRegistry``.
    open var config: [String: JSONValue] { [:] }

    /// Whether the layer has created its parameters.
    public var isBuilt: Bool { builtInputShapes != nil }

    /// Creates parameters for inputs of `inputShapes` (without batch). Override in layers with weights.
    open func build(inputShapes: [[Int]]) {}

    /// The output shape (without batch) for inputs of `inputShapes`.
    open func outputShape(for inputShapes: [[Int]]) -> [Int] { inputShapes[0] }

    /// Checks that inputs of `inputShapes` fit the built layer; throws naming the layer and both shapes.
    open func validate(inputShapes: [[Int]]) throws(NablaError) {
        guard let built = builtInputShapes else { return }
        guard built.count == inputShapes.count else {
            throw .shapeMismatch(layer: name, expected: "\(built.count) inputs", actual: "\(inputShapes.count) inputs")
        }
        for (b, s) in zip(built, inputShapes) where b != s {
            throw .shapeMismatch(layer: name, expected: kerasShape([nil] + b), actual: kerasShape([nil] + s))
        }
    }

    /// The computation on one input. Override this, or `forward(_: [Tensor])` for several inputs.
    open func forward(_ x: Tensor) -> Tensor { x }

    /// The computation on several inputs; by default the single-input `forward`.
    open func forward(_ inputs: [Tensor]) -> Tensor {
        nablaPrecondition(inputs.count == 1, "\(name): expects 1 input, got \(inputs.count)")
        return forward(inputs[0])
    }

    // MARK: Masking (Keras's mask propagation)

    /// The computation given which steps of a sequence are real: `mask` [batch, steps] is false at
    /// padding. Layers that skip padded steps (recurrent layers, sequence pooling) override this; the
    /// default ignores the mask.
    open func forward(_ x: Tensor, mask: Tensor?) -> Tensor { forward(x) }

    /// The mask the output carries. By default a layer whose output keeps the input's [batch, steps]
    /// axes (Dense, Dropout, LayerNormalization on sequences) passes the mask on, and one that
    /// changes them ends it; `Embedding(maskZero:)` starts one.
    open func outputMask(input x: Tensor, output y: Tensor, mask: Tensor?) -> Tensor? {
        guard let mask, x.rank >= 3, y.rank == x.rank, y.shape[0] == x.shape[0], y.shape[1] == x.shape[1] else { return nil }
        return mask
    }

    /// The mask of a multi-input layer's output (Add, Concatenate on features): as Keras's merge
    /// layers, a step is real when it is real in every input that carries a mask.
    open func outputMask(inputs xs: [Tensor], output y: Tensor, masks: [Tensor?]) -> Tensor? {
        let present = masks.compactMap { $0 }
        guard let first = present.first, y.rank >= 3, xs.allSatisfy({ $0.rank >= 2 && $0.shape[0] == y.shape[0] && $0.shape[1] == y.shape[1] })
        else { return nil }
        return present.dropFirst().reduce(first) { select($0, $1, $0) }
    }

    /// Applies the layer skipping padded steps where `mask` [batch, steps] is false.
    ///
    /// ```swift
    /// let h = LSTM(units: 32)(embed(ids), mask: embed.computeMask(ids))
    /// ```
    public func callAsFunction(_ x: Tensor, mask: Tensor?) -> Tensor {
        if builtInputShapes == nil { buildIfNeeded([Array(x.shape.dropFirst())]) }
        guard Profiler.isEnabled, let row = profileRow else { return forward(x, mask: mask) }
        return Profiler.measure(row) { forward(x, mask: mask) }
    }

    // MARK: Added losses (Keras's add_loss)

    /// Losses added by this layer's training forward passes since its model last collected them.
    var addedLosses: [Tensor] = []
    /// Set once any layer adds a loss, so that models whose layers never do skip the collection walk.
    nonisolated(unsafe) static var lossesWereAdded = false

    /// Adds `loss` (a scalar) to the objective of the training step being computed, as Keras's
    /// `add_loss`: regularisation that depends on what the batch touched, such as the L2 penalty a
    /// recommender puts on the embedding rows of a batch's users and items. Ignored outside training
    /// (in `eval()` mode or without gradients), so evaluation reports the plain loss.
    ///
    /// ```swift
    /// override func forward(_ ids: Tensor) -> Tensor {
    ///     let v = table(ids)
    ///     addLoss(0.01 * (v * v).sum(axis: -1).mean())
    ///     return v
    /// }
    /// ```
    /// - Parameter loss: a scalar tensor connected to the parameters it penalises.
    public func addLoss(_ loss: Tensor) {
        guard isTraining, isGradEnabled else { return }
        nablaPrecondition(loss.count == 1, "\(name).addLoss: expects a scalar, got shape \(loss.shape)")
        addedLosses.append(loss)
        Layer.lossesWereAdded = true
    }

    /// Builds the layer for `inputShapes` unless it is built already.
    public func buildIfNeeded(_ inputShapes: [[Int]]) {
        guard builtInputShapes == nil else { return }
        build(inputShapes: inputShapes)
        builtInputShapes = inputShapes
        structureDidChange()
    }

    /// Applies the layer to a batch.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        if builtInputShapes == nil { buildIfNeeded([Array(x.shape.dropFirst())]) }
        guard Profiler.isEnabled, let row = profileRow else { return forward(x) }
        return Profiler.measure(row) { forward(x) }
    }

    /// The profiler's row for this layer's forward pass; layers made of layers (models, Bidirectional,
    /// Transformer blocks) are not measured, so that their parts are not counted twice.
    private var profileRow: String? {
        if let cached = profileRowCache { return cached.isEmpty ? nil : cached }
        let composite = children().contains { $0.module is Layer }
        profileRowCache = composite ? "" : "\(typeName) forward"
        return composite ? nil : profileRowCache
    }

    /// Applies a multi-input layer (Concatenate, Add) to a batch of each input.
    public func callAsFunction(_ inputs: [Tensor]) -> Tensor {
        if builtInputShapes == nil { buildIfNeeded(inputs.map { Array($0.shape.dropFirst()) }) }
        guard Profiler.isEnabled, let row = profileRow else { return forward(inputs) }
        return Profiler.measure(row) { forward(inputs) }
    }

    static func defaultBaseName(for type: Any.Type) -> String {
        let typeName = String(describing: type)
        var out = ""
        for (i, ch) in typeName.enumerated() {
            if ch.isUppercase && i > 0 { out.append("_") }
            out.append(contentsOf: ch.lowercased())
        }
        return out
    }
}

/// Keras's process-wide layer naming: the first Dense is `dense`, the next `dense_1`.
enum LayerNames {
    nonisolated(unsafe) private static var counters: [String: Int] = [:]
    private static let lock = Lock()

    static func unique(_ base: String) -> String {
        lock.withLock {
            let n = counters[base, default: 0]
            counters[base] = n + 1
            return n == 0 ? base : "\(base)_\(n)"
        }
    }
}
