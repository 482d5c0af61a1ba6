import Nabla

/// Maps integer token ids [batch, ...] to vectors [batch, ..., outputDim] from a learned table.
///
/// ```swift
/// let embed = Embedding(inputDim: 27, outputDim: 16)
/// embed(Tensor([[1, 2, 3]], dtype: .int32)).shape   // [1, 3, 16]
/// ```
///
/// With `maskZero` (Keras's `mask_zero`), id 0 is padding: `computeMask(ids)` gives the steps to
/// keep, for recurrent layers and pooling that take a `mask:`.
public final class Embedding: Layer {
    public let inputDim: Int
    public let outputDim: Int
    public let initializer: Initializer
    public let maskZero: Bool
    /// Whether the table's gradient is row-sparse (only the rows a batch used), so that optimizers
    /// update only those rows (PyTorch's `sparse=True`): a step costs what the batch touched.
    public let sparse: Bool
    public private(set) var embeddings: Parameter?

    /// - Parameters:
    ///   - inputDim: the number of ids (rows of the table).
    ///   - outputDim: the size of each vector.
    ///   - initializer: how the table starts (Keras: uniform ±0.05).
    ///   - maskZero: id 0 is padding (starts a mask for the layers after it).
    ///   - sparse: give the table a row-sparse gradient.
    ///   - name: the layer's name.
    public init(inputDim: Int, outputDim: Int, initializer: Initializer = .randomUniform(), maskZero: Bool = false, sparse: Bool = false,
                name: String? = nil) {
        self.inputDim = inputDim
        self.outputDim = outputDim
        self.initializer = initializer
        self.maskZero = maskZero
        self.sparse = sparse
        super.init(name: name)
        buildIfNeeded([[]])
    }

    public override func build(inputShapes: [[Int]]) {
        embeddings = Parameter(initializer.make([inputDim, outputDim]))
    }

    public override func validate(inputShapes: [[Int]]) throws(NablaError) {}

    public override func outputShape(for inputShapes: [[Int]]) -> [Int] { inputShapes[0] + [outputDim] }

    public override func forward(_ x: Tensor) -> Tensor {
        let ids = x.dtype == .int32 ? x : x.cast(to: .int32)
        return embeddingLookup(embeddings!.value, ids, sparseGradient: sparse)
    }

    /// True at the steps that are not padding (id ≠ 0) when `maskZero`, else nil.
    ///
    /// ```swift
    /// let mask = embed.computeMask(ids)          // [batch, steps] bool
    /// let h = lstm(embed(ids), mask: mask!)
    /// ```
    public func computeMask(_ ids: Tensor) -> Tensor? {
        maskZero ? ids .!= 0 : nil
    }

    /// Starts a mask from the ids when `maskZero` (Keras's `mask_zero`), so that the recurrent and
    /// pooling layers after it in a `Sequential` or functional model skip the padding.
    public override func outputMask(input x: Tensor, output y: Tensor, mask: Tensor?) -> Tensor? { computeMask(x) }

    public override var config: [String: JSONValue] {
        ["input_dim": JSONValue(inputDim), "output_dim": JSONValue(outputDim), "mask_zero": JSONValue(maskZero), "sparse": JSONValue(sparse)]
    }
}

/// The mean of the vectors of each row's ids [batch, length] → [batch, outputDim], padding (id 0)
/// skipped: PyTorch's `EmbeddingBag(mode="mean")`, the averaged input vectors of fastText. One
/// fused kernel forward and backward; with `sparse` (the default) the table's gradient holds only
/// the rows a batch used, so a step's cost follows the batch and not the vocabulary.
///
/// ```swift
/// let bag = EmbeddingBag(inputDim: 200_000, outputDim: 64)
/// bag(Tensor(shape: [2, 3], values: [Int32]([5, 9, 0, 7, 0, 0]))).shape   // [2, 64]
/// ```
public final class EmbeddingBag: Layer {
    public let inputDim: Int
    public let outputDim: Int
    public let initializer: Initializer
    public let sparse: Bool
    public private(set) var embeddings: Parameter?

    /// - Parameters:
    ///   - inputDim: the number of ids (rows of the table); id 0 is padding.
    ///   - outputDim: the size of each vector.
    ///   - initializer: how the table starts (fastText: uniform ±1/outputDim).
    ///   - sparse: give the table a row-sparse gradient.
    ///   - name: the layer's name.
    public init(inputDim: Int, outputDim: Int, initializer: Initializer? = nil, sparse: Bool = true, name: String? = nil) {
        self.inputDim = inputDim
        self.outputDim = outputDim
        self.initializer = initializer ?? .randomUniform(min: -1 / Double(outputDim), max: 1 / Double(outputDim))
        self.sparse = sparse
        super.init(name: name)
        buildIfNeeded([[]])
    }

    public override func build(inputShapes: [[Int]]) {
        embeddings = Parameter(initializer.make([inputDim, outputDim]))
    }

    public override func validate(inputShapes: [[Int]]) throws(NablaError) {
        guard inputShapes[0].count == 1 else {
            throw .shapeMismatch(layer: name, expected: kerasShape([nil, nil]), actual: kerasShape([nil] + inputShapes[0].map { $0 }))
        }
    }

    public override func outputShape(for inputShapes: [[Int]]) -> [Int] { [outputDim] }

    public override func forward(_ x: Tensor) -> Tensor {
        let ids = x.dtype == .int32 ? x : x.cast(to: .int32)
        return embeddingBag(embeddings!.value, ids.rank == 1 ? ids.reshaped([1, -1]) : ids, paddingIndex: 0, sparseGradient: sparse)
    }

    public override var config: [String: JSONValue] { ["input_dim": JSONValue(inputDim), "output_dim": JSONValue(outputDim), "sparse": JSONValue(sparse)] }
}

extension Embedding: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let i = try c.count("input_dim"), o = try c.count("output_dim")
        try c.checkTable(i, o)
        return Embedding(inputDim: i, outputDim: o, maskZero: try c.optionalBool("mask_zero") ?? false, sparse: try c.optionalBool("sparse") ?? false,
                         name: c.name)
    }
}

extension EmbeddingBag: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let i = try c.count("input_dim"), o = try c.count("output_dim")
        try c.checkTable(i, o)
        return EmbeddingBag(inputDim: i, outputDim: o, sparse: try c.optionalBool("sparse") ?? true, name: c.name)
    }
}
