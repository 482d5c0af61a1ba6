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

    public init(vocabulary: Int, classes: Int, embeddingSize: Int = 64, hiddenUnits: Int = 64, dropoutRate: Double = 0.3) {
        embedding = Embedding(inputDim: vocabulary, outputDim: embeddingSize, initializer: .randomUniform(), maskZero: true)
        pooling = GlobalAveragePooling1D()
        hidden = Dense(units: hiddenUnits, activation: .relu, inputDim: embeddingSize)
        dropout = Dropout(rate: dropoutRate)
        output = Dense(units: classes, inputDim: hiddenUnits)
        super.init(name: "text_classifier")
    }

    public override var typeName: String { "TextClassifier" }

    public override func forward(_ ids: Tensor) -> Tensor {
        let pooled = pooling(embedding(ids), mask: embedding.computeMask(ids))
        return output(dropout(hidden(pooled)))
    }
}
