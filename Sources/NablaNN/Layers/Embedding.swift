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
    public private(set) var embeddings: Parameter?

    public init(inputDim: Int, outputDim: Int, initializer: Initializer = .randomUniform(), maskZero: Bool = false, name: String? = nil) {
        self.inputDim = inputDim
        self.outputDim = outputDim
        self.initializer = initializer
        self.maskZero = maskZero
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
        return embeddings!.value.indexSelect(ids, axis: 0)
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
}
