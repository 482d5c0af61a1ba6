import Nabla

/// Multi-head self-attention over sequences [batch, steps, dModel]: one projection to queries, keys
/// and values, scaled dot products per head, softmax over the keys (only earlier or equal steps when
/// `causal`), and an output projection.
///
/// ```swift
/// let attention = MultiHeadAttention(heads: 4, dModel: 128, causal: true)
/// attention(Tensor.zeros([12, 64, 128])).shape    // [12, 64, 128]
/// ```
public final class MultiHeadAttention: Layer {
    public let heads: Int
    public let dModel: Int
    public let causal: Bool
    public let qkv: Dense
    public let output: Dense

    /// - Parameters:
    ///   - heads: attention heads (must divide dModel).
    ///   - dModel: the model width.
    ///   - causal: let each step attend only to itself and earlier steps.
    ///   - useBias: whether the projections have biases.
    ///   - kernelInitializer: how the query-key-value projection starts.
    ///   - outputInitializer: how the output projection starts (default: as the others).
    ///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
    public init(heads: Int, dModel: Int, causal: Bool = true, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, outputInitializer: Initializer? = nil, name: String? = nil) {
        nablaPrecondition(heads > 0 && dModel % heads == 0, "MultiHeadAttention: dModel \(dModel) must divide into \(heads) heads")
        self.heads = heads
        self.dModel = dModel
        self.causal = causal
        qkv = Dense(units: 3 * dModel, useBias: useBias, kernelInitializer: kernelInitializer, inputDim: dModel)
        output = Dense(units: dModel, useBias: useBias, kernelInitializer: outputInitializer ?? kernelInitializer, inputDim: dModel)
        super.init(name: name)
    }

    public override func validate(inputShapes: [[Int]]) throws(NablaError) {
        guard inputShapes[0].count == 2, inputShapes[0][1] == dModel else {
            throw .shapeMismatch(layer: name, expected: "(None, steps, \(dModel))", actual: kerasShape([nil] + inputShapes[0]))
        }
    }

    public override func forward(_ x: Tensor) -> Tensor {
        output(scaledDotProductAttention(packed: qkv(x), heads: heads, causal: causal))
    }

    public override var config: [String: JSONValue] {
        ["heads": JSONValue(heads), "d_model": JSONValue(dModel), "causal": JSONValue(causal), "use_bias": JSONValue(qkv.useBias)]
    }
}

/// A pre-LayerNorm Transformer block (GPT-2's): x + attention(norm(x)), then x + MLP(norm(x)) with a
/// GELU MLP of width 4·dModel. With `dropout`, each branch's output is dropped before it joins the
/// residual stream (nanoGPT's `resid_dropout`).
public final class TransformerBlock: Layer {
    public let norm1: LayerNormalization, attention: MultiHeadAttention
    public let norm2: LayerNormalization, expand: Dense, contract: Dense
    public let dropout: Dropout

    /// - Parameters:
    ///   - heads: attention heads.
    ///   - dModel: the model width.
    ///   - causal: causal self-attention.
    ///   - useBias: whether projections and layer norms have biases.
    ///   - epsilon: the layer norms' epsilon.
    ///   - dropout: dropout on each residual branch.
    ///   - kernelInitializer: how the projections start.
    ///   - residualInitializer: how the projections into the residual stream start (nanoGPT scales them down).
    ///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
    public init(heads: Int, dModel: Int, causal: Bool = true, useBias: Bool = true, epsilon: Double = 1e-5, dropout: Double = 0,
                kernelInitializer: Initializer = .glorotUniform, residualInitializer: Initializer? = nil, name: String? = nil) {
        self.dropout = Dropout(rate: dropout)
        norm1 = LayerNormalization(epsilon: epsilon, center: useBias)
        attention = MultiHeadAttention(heads: heads, dModel: dModel, causal: causal, useBias: useBias,
                                       kernelInitializer: kernelInitializer, outputInitializer: residualInitializer)
        norm2 = LayerNormalization(epsilon: epsilon, center: useBias)
        expand = Dense(units: 4 * dModel, activation: .gelu, useBias: useBias, kernelInitializer: kernelInitializer, inputDim: dModel)
        contract = Dense(units: dModel, useBias: useBias, kernelInitializer: residualInitializer ?? kernelInitializer, inputDim: 4 * dModel)
        super.init(name: name)
        norm1.buildIfNeeded([[dModel]])
        norm2.buildIfNeeded([[dModel]])
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let h = x + dropout(attention(norm1(x)))
        return h + dropout(contract(expand(norm2(h))))
    }

    public override var config: [String: JSONValue] {
        ["heads": JSONValue(attention.heads), "d_model": JSONValue(attention.dModel), "causal": JSONValue(attention.causal),
         "use_bias": JSONValue(attention.qkv.useBias), "epsilon": JSONValue(norm1.epsilon), "dropout": JSONValue(dropout.rate)]
    }
}

/// Learned position embeddings [maxLength, dModel] added to a sequence [batch, steps, dModel].
public final class PositionalEmbedding: Layer {
    public let maxLength: Int, dModel: Int
    public private(set) var table: Parameter?

    /// - Parameters:
    ///   - maxLength: the longest sequence.
    ///   - dModel: the model width.
    ///   - initializer: how the table starts.
    ///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
    public init(maxLength: Int, dModel: Int, initializer: Initializer = .randomNormal(std: 0.02), name: String? = nil) {
        self.maxLength = maxLength
        self.dModel = dModel
        super.init(name: name)
        table = Parameter(initializer.make([maxLength, dModel]))
        buildIfNeeded([[maxLength, dModel]])
    }

    public override func validate(inputShapes: [[Int]]) throws(NablaError) {
        guard inputShapes[0].count == 2, inputShapes[0][0] <= maxLength, inputShapes[0][1] == dModel else {
            throw .shapeMismatch(layer: name, expected: "(None, ≤\(maxLength), \(dModel))", actual: kerasShape([nil] + inputShapes[0]))
        }
    }

    public override func forward(_ x: Tensor) -> Tensor {
        nablaPrecondition(x.shape[1] <= maxLength, "\(name): \(x.shape[1]) steps exceed the \(maxLength) positions")
        return x + table!.value[0..<x.shape[1]]
    }

    public override var config: [String: JSONValue] { ["max_length": JSONValue(maxLength), "d_model": JSONValue(dModel)] }
}

extension MultiHeadAttention: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let (heads, width) = (try c.positive("heads"), try c.positive("d_model"))
        guard width % heads == 0 else { throw .invalidArgument("MultiHeadAttention \(c.name): d_model \(width) must divide into \(heads) heads") }
        try c.checkTable(width, 4 * width)
        return MultiHeadAttention(heads: heads, dModel: width, causal: try c.bool("causal"), useBias: try c.bool("use_bias"), name: c.name)
    }
}

extension TransformerBlock: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let (heads, width) = (try c.positive("heads"), try c.positive("d_model"))
        guard width % heads == 0 else { throw .invalidArgument("TransformerBlock \(c.name): d_model \(width) must divide into \(heads) heads") }
        try c.checkTable(width, 12 * width)
        return TransformerBlock(heads: heads, dModel: width, causal: try c.bool("causal"), useBias: try c.bool("use_bias"), epsilon: try c.double("epsilon"),
                                dropout: try c.rate("dropout"), name: c.name)
    }
}

extension PositionalEmbedding: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let (length, width) = (try c.count("max_length"), try c.count("d_model"))
        try c.checkTable(length, width)
        return PositionalEmbedding(maxLength: length, dModel: width, name: c.name)
    }
}
