import Nabla

/// A GPT language model: token and learned position embeddings, pre-LayerNorm Transformer blocks
/// with causal self-attention and GELU MLPs, a final LayerNorm and a linear head over the vocabulary.
/// Weights start as nanoGPT's: N(0, 0.02), residual projections N(0, 0.02/√(2·layers)). With
/// `tiedEmbedding`, the head is the token embedding transposed (nanoGPT's weight tying); with
/// `useBias: false`, no Dense or LayerNorm has a bias. `dropout` applies after the embeddings and on
/// each residual branch, as nanoGPT's (0 by default).
///
/// ```swift
/// let gpt = GPT(vocabulary: 65, context: 64, layers: 4, heads: 4, dModel: 128)
/// let logits = gpt(tokens)              // tokens [batch, steps] int32 → [batch, steps, 65]
/// let loss = gpt.loss(tokens, targets)  // mean cross-entropy over every position
/// ```
public final class GPT: Model {
    public let vocabulary: Int, context: Int, dModel: Int, heads: Int
    public let tokens: Embedding
    public let positions: PositionalEmbedding
    public let blocks: [TransformerBlock]
    public let norm: LayerNormalization
    /// The output head; nil when it is tied to the token embedding.
    public let head: Dense?
    public let useBias: Bool
    public let embeddingDropout: Dropout
    public let initialization: Initialization

    /// How the weights start: nanoGPT's N(0, 0.02) scheme, or PyTorch's layer defaults as in
    /// makemore (Linear U(±1/√fanIn), embeddings N(0, 1)).
    public enum Initialization: String, Sendable { case nanoGPT, pytorch }

    public init(vocabulary: Int, context: Int, layers: Int, heads: Int, dModel: Int, useBias: Bool = true,
                tiedEmbedding: Bool = false, initialization: Initialization = .nanoGPT, dropout: Double = 0, name: String? = nil) {
        (self.vocabulary, self.context, self.dModel, self.heads) = (vocabulary, context, dModel, heads)
        (self.useBias, self.initialization) = (useBias, initialization)
        embeddingDropout = Dropout(rate: dropout)
        let nano = initialization == .nanoGPT
        let embedding: Initializer = nano ? .randomNormal(std: 0.02) : .randomNormal(std: 1)
        let linear: Initializer = nano ? .randomNormal(std: 0.02) : .torchDefault
        tokens = Embedding(inputDim: vocabulary, outputDim: dModel, initializer: embedding)
        positions = PositionalEmbedding(maxLength: context, dModel: dModel, initializer: embedding)
        // nanoGPT scales the residual projections down: N(0, 0.02/√(2·layers)).
        let residual = nano ? Initializer.randomNormal(std: 0.02 / Double(2 * layers).squareRoot()) : .torchDefault
        blocks = (0..<layers).map { _ in
            TransformerBlock(heads: heads, dModel: dModel, useBias: useBias, dropout: dropout, kernelInitializer: linear, residualInitializer: residual)
        }
        norm = LayerNormalization(epsilon: 1e-5, center: useBias)
        norm.buildIfNeeded([[dModel]])
        head = tiedEmbedding ? nil : Dense(units: vocabulary, useBias: false, kernelInitializer: linear, inputDim: dModel)
        super.init(name: name ?? "gpt")
        buildIfNeeded([[context]])
    }

    public override var typeName: String { "GPT" }

    public override var config: [String: JSONValue] {
        ["vocabulary": JSONValue(vocabulary), "context": JSONValue(context), "layers": JSONValue(blocks.count), "heads": JSONValue(heads),
         "d_model": JSONValue(dModel), "use_bias": JSONValue(useBias), "tied_embedding": JSONValue(head == nil),
         "initialization": JSONValue(initialization.rawValue), "dropout": JSONValue(embeddingDropout.rate)]
    }

    public override func forward(_ ids: Tensor) -> Tensor {
        var h = embeddingDropout(positions(tokens(ids)))
        for block in blocks { h = block(h) }
        h = norm(h)
        if let head { return head(h) }
        let (b, t) = (h.shape[0], h.shape[1])
        return matmul(h.reshaped([b * t, dModel]), tokens.embeddings!.value.transposed()).reshaped([b, t, vocabulary])
    }

    /// Mean cross-entropy of predicting `targets` [batch, steps] from `ids` [batch, steps]; targets
    /// of −1 are padding and do not count.
    public func loss(_ ids: Tensor, _ targets: Tensor) -> Tensor {
        let logits = self(ids)
        let (b, t) = (ids.shape[0], ids.shape[1])
        return crossEntropy(logits: logits.reshaped([b * t, vocabulary]), labels: targets.reshaped([b * t]), ignoreIndex: -1)
    }
}

extension GPT: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let (vocabulary, context) = (try c.count("vocabulary"), try c.count("context"))
        let (layers, heads, width) = try c.transformerShape(width: "d_model", rows: vocabulary + context)
        return GPT(vocabulary: vocabulary, context: context, layers: layers, heads: heads, dModel: width, useBias: try c.bool("use_bias"),
                   tiedEmbedding: try c.bool("tied_embedding"), initialization: try c.choice("initialization", Initialization.self),
                   dropout: try c.rate("dropout"), name: c.name)
    }
}
