import Nabla

/// A character-level language model: given the previous tokens, scores the next one.
public protocol CharacterModel: Module {
    /// How many previous tokens the model reads.
    var context: Int { get }
    /// Mean cross-entropy of `targets` [B, T] given `inputs` [B, T] (each target follows its input);
    /// targets of −1 are padding and do not count.
    func loss(_ inputs: Tensor, _ targets: Tensor) -> Tensor
    /// Logits [B, V] for the token after the last of `contexts` [B, ≤ context].
    func nextLogits(_ contexts: Tensor) -> Tensor
}

/// The bigram model: a table of next-token logits per token (makemore's first model).
public final class BigramModel: Model, CharacterModel {
    public let table: Embedding
    public var context: Int { 1 }

    public init(vocabulary: Int, name: String? = nil) {
        table = Embedding(inputDim: vocabulary, outputDim: vocabulary, initializer: .zeros)
        super.init(name: name ?? "bigram")
    }

    public override var typeName: String { "BigramModel" }

    public override var config: [String: JSONValue] { ["vocabulary": JSONValue(table.inputDim)] }

    public override func forward(_ ids: Tensor) -> Tensor { table(ids) }

    public func loss(_ inputs: Tensor, _ targets: Tensor) -> Tensor {
        let v = table.outputDim, n = inputs.count
        return crossEntropy(logits: self(inputs).reshaped([n, v]), labels: targets.reshaped([n]), ignoreIndex: -1)
    }

    public func nextLogits(_ contexts: Tensor) -> Tensor { self(contexts[.all, (contexts.shape[1] - 1)...]).squeezed(axes: [1]) }
}

/// Bengio et al.'s MLP language model as in makemore: the embeddings of the last `context` tokens,
/// concatenated, through a tanh hidden layer to next-token logits.
public final class MLPLanguageModel: Model, CharacterModel {
    public let context: Int
    public let embedding: Embedding
    public let hidden: Dense
    public let output: Dense
    /// The token that stands before the first one (makemore's "."; `nabla lm` uses the newline).
    public let padToken: Int32

    public init(vocabulary: Int, context: Int = 3, embeddingSize: Int = 10, hiddenUnits: Int = 200, padToken: Int32 = 0, name: String? = nil) {
        self.context = context
        self.padToken = padToken
        embedding = Embedding(inputDim: vocabulary, outputDim: embeddingSize, initializer: .randomNormal(std: 1))
        hidden = Dense(units: hiddenUnits, activation: .tanh, inputDim: context * embeddingSize)
        output = Dense(units: vocabulary, inputDim: hiddenUnits)
        super.init(name: name ?? "mlp_lm")
    }

    public override var typeName: String { "MLPLanguageModel" }

    public override var config: [String: JSONValue] {
        ["vocabulary": JSONValue(embedding.inputDim), "context": JSONValue(context), "embedding_size": JSONValue(embedding.outputDim),
         "hidden_units": JSONValue(hidden.units), "pad_token": JSONValue(Int(padToken))]
    }

    public override func forward(_ contexts: Tensor) -> Tensor {
        output(hidden(embedding(contexts).reshaped([contexts.shape[0], -1])))
    }

    /// Every position of the windows is a training example, with the `context` tokens before it
    /// (the window's own earlier tokens, padded on the left with `padToken`).
    public func loss(_ inputs: Tensor, _ targets: Tensor) -> Tensor {
        let (b, t) = (inputs.shape[0], inputs.shape[1])
        let padded = concatenate([Tensor.full([b, context - 1], value: Double(padToken), dtype: .int32), inputs], axis: 1)
        let windows = stack((0..<t).map { padded[.all, $0..<($0 + context)] }, axis: 1).reshaped([b * t, context])
        return crossEntropy(logits: self(windows), labels: targets.reshaped([b * t]), ignoreIndex: -1)
    }

    public func nextLogits(_ contexts: Tensor) -> Tensor {
        var c = contexts
        if c.shape[1] < context { c = concatenate([Tensor.full([c.shape[0], context - c.shape[1]], value: Double(padToken), dtype: .int32), c], axis: 1) }
        return self(c[.all, (c.shape[1] - context)...])
    }
}

/// A recurrent character model: token embeddings, one SimpleRNN, LSTM or GRU layer over the
/// sequence, and a Dense head giving next-token logits at every step.
///
/// ```swift
/// let lm = RecurrentLanguageModel(.lstm, vocabulary: 27, context: 32, embeddingSize: 32, units: 256)
/// let loss = lm.loss(x, y)      // x, y [batch, steps] int32
/// ```
public final class RecurrentLanguageModel: Model, CharacterModel {
    public let context: Int
    public let embedding: Embedding
    public let recurrent: Recurrent
    public let head: Dense

    public init(_ cell: RecurrentCell, vocabulary: Int, context: Int, embeddingSize: Int = 32, units: Int = 256, name: String? = nil) {
        self.context = context
        embedding = Embedding(inputDim: vocabulary, outputDim: embeddingSize, initializer: .randomNormal(std: 0.1))
        recurrent = Recurrent(cell, units: units, returnSequences: true)
        recurrent.buildIfNeeded([[context, embeddingSize]])
        head = Dense(units: vocabulary, inputDim: units)
        super.init(name: name ?? "\(cell.rawValue)_lm")
    }

    public override var typeName: String { "RecurrentLanguageModel" }

    public override var config: [String: JSONValue] {
        ["cell": JSONValue(recurrent.cell.rawValue), "vocabulary": JSONValue(embedding.inputDim), "context": JSONValue(context),
         "embedding_size": JSONValue(embedding.outputDim), "units": JSONValue(recurrent.units)]
    }

    public override func forward(_ ids: Tensor) -> Tensor { head(recurrent(embedding(ids))) }

    public func loss(_ inputs: Tensor, _ targets: Tensor) -> Tensor {
        let n = inputs.count, v = head.units
        return crossEntropy(logits: self(inputs).reshaped([n, v]), labels: targets.reshaped([n]), ignoreIndex: -1)
    }

    public func nextLogits(_ contexts: Tensor) -> Tensor {
        let c = contexts.shape[1] > context ? contexts[.all, (contexts.shape[1] - context)...] : contexts
        let logits = self(c)
        return logits[.all, logits.shape[1] - 1]
    }
}

extension GPT: CharacterModel {
    public func nextLogits(_ contexts: Tensor) -> Tensor {
        let c = contexts.shape[1] > context ? contexts[.all, (contexts.shape[1] - context)...] : contexts
        let logits = self(c)
        return logits[.all, logits.shape[1] - 1]
    }
}

/// Draws the next token from `logits` [V] at `temperature`, keeping only the `topK` best when given.
public func sampleToken(_ logits: Tensor, temperature: Double = 1, topK: Int? = nil, generator: RandomGenerator = .current) -> Int {
    var scores = logits.toArray(Double.self).map { $0 / Swift.max(temperature, 1e-6) }
    if let topK, topK < scores.count {
        let cutoff = scores.sorted(by: >)[Swift.max(topK, 1) - 1]
        scores = scores.map { $0 < cutoff ? -.infinity : $0 }
    }
    let m = scores.max() ?? 0
    let weights = scores.map { Double.exp($0 - m) }
    var r = generator.nextDouble() * weights.reduce(0, +)
    for (i, w) in weights.enumerated() {
        r -= w
        if r <= 0 { return i }
    }
    return weights.count - 1
}

extension BigramModel: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let v = try c.count("vocabulary")
        try c.checkTable(v, v)
        return BigramModel(vocabulary: v, name: c.name)
    }
}

extension MLPLanguageModel: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let (v, context, e, h) = (try c.count("vocabulary"), try c.positive("context"), try c.positive("embedding_size"), try c.positive("hidden_units"))
        try c.checkTable(v + context * h + h, Swift.max(e, h))
        let pad = try c.int("pad_token")
        guard (0..<v).contains(pad) else { throw .invalidArgument("MLPLanguageModel \(c.name): pad_token \(pad) is outside the vocabulary of \(v)") }
        return MLPLanguageModel(vocabulary: v, context: context, embeddingSize: e, hiddenUnits: h, padToken: Int32(pad), name: c.name)
    }
}

extension RecurrentLanguageModel: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let (v, context, e, u) = (try c.count("vocabulary"), try c.count("context"), try c.positive("embedding_size"), try c.positive("units"))
        try c.checkTable(v + e + 4 * u, Swift.max(e, u))
        return RecurrentLanguageModel(try c.choice("cell", RecurrentCell.self), vocabulary: v, context: context, embeddingSize: e, units: u, name: c.name)
    }
}
