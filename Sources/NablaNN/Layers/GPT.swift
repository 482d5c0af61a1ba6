import Nabla

/// A GPT language model: token and learned position embeddings, pre-LayerNorm Transformer blocks
/// with causal self-attention and GELU MLPs, a final LayerNorm and a linear head over the vocabulary.
///
/// ```swift
/// let gpt = GPT(vocabulary: 65, context: 64, layers: 4, heads: 4, dModel: 128)
/// let logits = gpt(tokens)              // tokens [batch, steps] int32 → [batch, steps, 65]
/// let loss = gpt.loss(tokens, targets)  // mean cross-entropy over every position
/// ```
public final class GPT: Model {
    public let vocabulary: Int, context: Int, dModel: Int
    public let tokens: Embedding
    public let positions: PositionalEmbedding
    public let blocks: [TransformerBlock]
    public let norm: LayerNormalization
    public let head: Dense

    public init(vocabulary: Int, context: Int, layers: Int, heads: Int, dModel: Int, useBias: Bool = true, name: String? = nil) {
        self.vocabulary = vocabulary
        self.context = context
        self.dModel = dModel
        tokens = Embedding(inputDim: vocabulary, outputDim: dModel, initializer: .randomNormal(std: 0.02))
        positions = PositionalEmbedding(maxLength: context, dModel: dModel)
        // nanoGPT's initialisation: N(0, 0.02), residual projections N(0, 0.02/√(2·layers)).
        let residual = Initializer.randomNormal(std: 0.02 / Double(2 * layers).squareRoot())
        blocks = (0..<layers).map { _ in
            TransformerBlock(heads: heads, dModel: dModel, useBias: useBias, kernelInitializer: .randomNormal(std: 0.02), residualInitializer: residual)
        }
        norm = LayerNormalization(epsilon: 1e-5, center: useBias)
        norm.buildIfNeeded([[dModel]])
        head = Dense(units: vocabulary, useBias: false, kernelInitializer: .randomNormal(std: 0.02), inputDim: dModel)
        super.init(name: name ?? "gpt")
        buildIfNeeded([[context]])
    }

    public override var typeName: String { "GPT" }

    public override func forward(_ ids: Tensor) -> Tensor {
        var h = positions(tokens(ids))
        for block in blocks { h = block(h) }
        return head(norm(h))
    }

    /// Mean cross-entropy of predicting `targets` [batch, steps] from `ids` [batch, steps].
    public func loss(_ ids: Tensor, _ targets: Tensor) -> Tensor {
        let logits = self(ids)
        let (b, t) = (ids.shape[0], ids.shape[1])
        return crossEntropy(logits: logits.reshaped([b * t, vocabulary]), labels: targets.reshaped([b * t]))
    }
}
