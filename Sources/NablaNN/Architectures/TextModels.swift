import Nabla

/// A fastText-style classifier for short texts: token embeddings (id 0 is padding), their mean over
/// the real tokens, a ReLU hidden layer with dropout, and class logits. Fast to train and strong on
/// short messages, where word and bigram identity carry most of the signal.
///
/// ```swift
/// let model = TextClassifier(vocabulary: 20_000, classes: 2)
/// try model.compile(optimizer: Adam(learningRate: 3e-3), loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
/// try model.fit(ids, labels, epochs: 8)         // ids [n, steps] int32 from TextVectorization
/// ```
public final class TextClassifier: Model {
    public let embedding: Embedding
    public let pooling: GlobalPooling
    public let hidden: Dense
    public let dropout: Dropout
    public let output: Dense

    public init(vocabulary: Int, classes: Int, embeddingSize: Int = 64, hiddenUnits: Int = 64, dropoutRate: Double = 0.3, name: String? = nil) {
        embedding = Embedding(inputDim: vocabulary, outputDim: embeddingSize, initializer: .randomUniform(), maskZero: true)
        pooling = GlobalAveragePooling1D()
        hidden = Dense(units: hiddenUnits, activation: .relu, inputDim: embeddingSize)
        dropout = Dropout(rate: dropoutRate)
        output = Dense(units: classes, inputDim: hiddenUnits)
        super.init(name: name ?? "text_classifier")
    }

    public override var typeName: String { "TextClassifier" }

    public override var config: [String: JSONValue] {
        ["vocabulary": JSONValue(embedding.inputDim), "classes": JSONValue(output.units), "embedding_size": JSONValue(embedding.outputDim),
         "hidden_units": JSONValue(hidden.units), "dropout": JSONValue(dropout.rate)]
    }

    public override func forward(_ ids: Tensor) -> Tensor {
        let pooled = pooling(embedding(ids), mask: embedding.computeMask(ids))
        return output(dropout(hidden(pooled)))
    }
}

/// fastText's supervised model (Joulin et al. 2016): the mean of the input's word and hashed
/// n-gram vectors (``EmbeddingBag``, row-sparse gradients) and a linear map to class logits — no
/// hidden layer. Input vectors start uniform in ±1/dimension and the output matrix at zero, as
/// fastText's do.
///
/// ```swift
/// var v = TextVectorization(maxTokens: 50_000, outputSequenceLength: 256, ngrams: 2, hashBuckets: 200_000)
/// v.adapt(texts)
/// let model = FastTextClassifier(vocabulary: v.inputDimension, classes: 2, dimension: 64)
/// ```
public final class FastTextClassifier: Model {
    public let bag: EmbeddingBag
    public let dropout: Dropout
    public let output: Dense

    /// - Parameters:
    ///   - vocabulary: rows of the input table (words and n-gram buckets; id 0 is padding).
    ///   - classes: the number of labels.
    ///   - dimension: the size of the text vector (fastText's `-dim`).
    ///   - dropoutRate: dropout on the averaged vector (0, fastText's own, by default).
    ///   - name: the model's name.
    public init(vocabulary: Int, classes: Int, dimension: Int = 64, dropoutRate: Double = 0, name: String? = nil) {
        bag = EmbeddingBag(inputDim: vocabulary, outputDim: dimension)
        dropout = Dropout(rate: dropoutRate)
        output = Dense(units: classes, kernelInitializer: .zeros, inputDim: dimension)
        super.init(name: name ?? "fasttext")
    }

    public override var typeName: String { "FastTextClassifier" }

    public override var config: [String: JSONValue] {
        ["vocabulary": JSONValue(bag.inputDim), "classes": JSONValue(output.units), "dimension": JSONValue(bag.outputDim), "dropout": JSONValue(dropout.rate)]
    }

    public override func forward(_ ids: Tensor) -> Tensor { output(dropout(bag(ids))) }
}

/// Kim's convolutional sentence classifier (2014): token embeddings (with dropout), parallel 1-D
/// convolutions of several widths with ReLU, max-over-time pooling, dropout and class logits.
///
/// ```swift
/// let model = TextCNN(vocabulary: 20_000, classes: 2)          // widths 3, 4, 5; 100 filters each
/// ```
public final class TextCNN: Model {
    public let embedding: Embedding
    public let convolutions: [Conv1D]
    public let inputDropout: Dropout
    public let pooling: GlobalPooling
    public let dropout: Dropout
    public let output: Dense

    /// - Parameters:
    ///   - vocabulary: rows of the embedding table (id 0 is padding).
    ///   - classes: the number of labels.
    ///   - embeddingSize: the size of each token vector.
    ///   - filters: filters per width.
    ///   - widths: the convolution widths in tokens.
    ///   - dropoutRate: dropout before the output layer.
    ///   - embeddingDropout: dropout on the token vectors (regularises small data sets).
    ///   - name: the model's name.
    public init(vocabulary: Int, classes: Int, embeddingSize: Int = 128, filters: Int = 100, widths: [Int] = [3, 4, 5], dropoutRate: Double = 0.5,
                embeddingDropout: Double = 0.2, name: String? = nil) {
        embedding = Embedding(inputDim: vocabulary, outputDim: embeddingSize, sparse: true)
        inputDropout = Dropout(rate: embeddingDropout)
        convolutions = widths.map { Conv1D(filters: filters, kernelSize: $0, padding: .same, activation: .relu) }
        for c in convolutions { c.buildIfNeeded([[1, embeddingSize]]) }
        pooling = GlobalMaxPooling1D()
        dropout = Dropout(rate: dropoutRate)
        output = Dense(units: classes, inputDim: filters * widths.count)
        super.init(name: name ?? "text_cnn")
    }

    public override var typeName: String { "TextCNN" }

    public override var config: [String: JSONValue] {
        ["vocabulary": JSONValue(embedding.inputDim), "classes": JSONValue(output.units), "embedding_size": JSONValue(embedding.outputDim),
         "filters": JSONValue(convolutions.first?.conv.filters ?? 0), "widths": JSONValue(convolutions.map(\.conv.kernelSize.1)),
         "dropout": JSONValue(dropout.rate), "embedding_dropout": JSONValue(inputDropout.rate)]
    }

    public override func forward(_ ids: Tensor) -> Tensor {
        let x = inputDropout(embedding(ids)), mask = ids .!= Tensor(0, dtype: .int32)
        let features = convolutions.map { pooling($0(x), mask: mask) }
        return output(dropout(concatenate(features, axis: 1)))
    }
}

/// A bidirectional LSTM text classifier: token embeddings (padding masked), a bidirectional LSTM
/// over the sequence, max pooling over the real steps, dropout and class logits.
///
/// ```swift
/// let model = BiLSTMClassifier(vocabulary: 20_000, classes: 2)
/// ```
public final class BiLSTMClassifier: Model {
    public let embedding: Embedding
    public let recurrent: Bidirectional
    public let pooling: GlobalPooling
    public let dropout: Dropout
    public let output: Dense

    /// - Parameters:
    ///   - vocabulary: rows of the embedding table (id 0 is padding).
    ///   - classes: the number of labels.
    ///   - embeddingSize: the size of each token vector.
    ///   - units: LSTM units in each direction.
    ///   - dropoutRate: dropout before the output layer.
    ///   - name: the model's name.
    public init(vocabulary: Int, classes: Int, embeddingSize: Int = 64, units: Int = 64, dropoutRate: Double = 0.5, name: String? = nil) {
        embedding = Embedding(inputDim: vocabulary, outputDim: embeddingSize, maskZero: true, sparse: true)
        recurrent = Bidirectional(Recurrent(.lstm, units: units, returnSequences: true))
        recurrent.forwardLayer.buildIfNeeded([[1, embeddingSize]])
        recurrent.backwardLayer.buildIfNeeded([[1, embeddingSize]])
        pooling = GlobalMaxPooling1D()
        dropout = Dropout(rate: dropoutRate)
        output = Dense(units: classes, inputDim: 2 * units)
        super.init(name: name ?? "bilstm")
    }

    public override var typeName: String { "BiLSTMClassifier" }

    public override var config: [String: JSONValue] {
        ["vocabulary": JSONValue(embedding.inputDim), "classes": JSONValue(output.units), "embedding_size": JSONValue(embedding.outputDim),
         "units": JSONValue(recurrent.forwardLayer.units), "dropout": JSONValue(dropout.rate)]
    }

    public override func forward(_ ids: Tensor) -> Tensor {
        let mask = embedding.computeMask(ids)
        return output(dropout(pooling(recurrent(embedding(ids), mask: mask), mask: mask)))
    }
}

/// A small Transformer encoder for text: token and position embeddings, bidirectional (non-causal)
/// pre-LayerNorm blocks, mean pooling over the real tokens, dropout and class logits. Padding takes
/// part in attention (the fused attention kernel has no key mask) but not in the pooling.
///
/// ```swift
/// let model = TransformerTextClassifier(vocabulary: 20_000, classes: 2, maxLength: 64)
/// ```
public final class TransformerTextClassifier: Model {
    public let embedding: Embedding
    public let positions: PositionalEmbedding
    public let blocks: [TransformerBlock]
    public let heads: Int
    public let norm: LayerNormalization
    public let pooling: GlobalPooling
    public let dropout: Dropout
    public let output: Dense

    /// - Parameters:
    ///   - vocabulary: rows of the embedding table (id 0 is padding).
    ///   - classes: the number of labels.
    ///   - maxLength: the longest input in tokens.
    ///   - width: the model width.
    ///   - heads: attention heads.
    ///   - layers: Transformer blocks.
    ///   - dropoutRate: dropout in the blocks and before the output layer.
    ///   - name: the model's name.
    public init(vocabulary: Int, classes: Int, maxLength: Int, width: Int = 64, heads: Int = 4, layers: Int = 2, dropoutRate: Double = 0.1,
                name: String? = nil) {
        embedding = Embedding(inputDim: vocabulary, outputDim: width, initializer: .randomNormal(std: 0.02), maskZero: true, sparse: true)
        positions = PositionalEmbedding(maxLength: maxLength, dModel: width)
        self.heads = heads
        blocks = (0..<layers).map { _ in TransformerBlock(heads: heads, dModel: width, causal: false, dropout: dropoutRate) }
        norm = LayerNormalization()
        norm.buildIfNeeded([[width]])
        pooling = GlobalAveragePooling1D()
        dropout = Dropout(rate: dropoutRate)
        output = Dense(units: classes, inputDim: width)
        super.init(name: name ?? "text_transformer")
    }

    public override var typeName: String { "TransformerTextClassifier" }

    public override var config: [String: JSONValue] {
        ["vocabulary": JSONValue(embedding.inputDim), "classes": JSONValue(output.units), "max_length": JSONValue(positions.maxLength),
         "width": JSONValue(embedding.outputDim), "heads": JSONValue(heads), "layers": JSONValue(blocks.count), "dropout": JSONValue(dropout.rate)]
    }

    public override func forward(_ ids: Tensor) -> Tensor {
        var h = positions(embedding(ids))
        for b in blocks { h = b(h) }
        return output(dropout(pooling(norm(h), mask: embedding.computeMask(ids))))
    }
}

extension TextClassifier: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let (v, e, h) = (try c.count("vocabulary"), try c.positive("embedding_size"), try c.positive("hidden_units"))
        try c.checkTable(v + h, Swift.max(e, h))
        return TextClassifier(vocabulary: v, classes: try c.positive("classes"), embeddingSize: e, hiddenUnits: h, dropoutRate: try c.rate("dropout"), name: c.name)
    }
}

extension FastTextClassifier: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let (v, d) = (try c.count("vocabulary"), try c.positive("dimension"))
        try c.checkTable(v, d)
        return FastTextClassifier(vocabulary: v, classes: try c.positive("classes"), dimension: d, dropoutRate: try c.rate("dropout"), name: c.name)
    }
}

extension TextCNN: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let (v, e, f, widths) = (try c.count("vocabulary"), try c.positive("embedding_size"), try c.positive("filters"), try c.ints("widths"))
        guard !widths.isEmpty, widths.count <= 16, widths.allSatisfy({ (1...1024).contains($0) }) else {
            throw .invalidArgument("TextCNN \(c.name): config field \"widths\" must be 1 to 16 widths in 1...1024, got \(widths)")
        }
        try c.checkTable(v + widths.reduce(0, +) * f, Swift.max(e, f))
        return TextCNN(vocabulary: v, classes: try c.positive("classes"), embeddingSize: e, filters: f, widths: widths, dropoutRate: try c.rate("dropout"),
                       embeddingDropout: try c.rate("embedding_dropout"), name: c.name)
    }
}

extension BiLSTMClassifier: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let (v, e, u) = (try c.count("vocabulary"), try c.positive("embedding_size"), try c.positive("units"))
        try c.checkTable(v + 8 * u, Swift.max(e, u))
        return BiLSTMClassifier(vocabulary: v, classes: try c.positive("classes"), embeddingSize: e, units: u, dropoutRate: try c.rate("dropout"), name: c.name)
    }
}

extension TransformerTextClassifier: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let (v, length) = (try c.count("vocabulary"), try c.count("max_length"))
        let (layers, heads, width) = try c.transformerShape(width: "width", rows: v + length)
        return TransformerTextClassifier(vocabulary: v, classes: try c.positive("classes"), maxLength: length, width: width, heads: heads, layers: layers,
                                         dropoutRate: try c.rate("dropout"), name: c.name)
    }
}
