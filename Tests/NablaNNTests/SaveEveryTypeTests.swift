import Foundation
import Nabla
@testable import NablaNN
import Testing

/// Every public layer and model type goes through `Model.save` and `Model.load` and predicts bit for
/// bit as before; a type added without a saved form fails the census below.
@Suite("Saving every layer and model type", .serialized)
struct SaveEveryTypeTests {
    /// Gives every parameter random values in [0.5, 1.5] (positive, so moving variances stay valid),
    /// so that zero-initialised tables (bigram, fastText's output) are tested too.
    func randomise(_ model: Model, seed: UInt64) throws {
        let g = RandomGenerator(seed: seed)
        try model.loadStateDict(model.stateDict().mapValues { Tensor.randomUniform($0.shape, low: 0.5, high: 1.5, dtype: $0.dtype, generator: g) })
    }

    /// Saves, loads and compares predictions, the architecture and the summary; returns the class
    /// names the saved model holds.
    @discardableResult
    func roundTrip(_ model: Model, _ inputs: [Tensor], seed: UInt64) throws -> Set<String> {
        try randomise(model, seed: seed)
        model.metadata = ["note": "kept", "ids": [1, 2, 3]]
        let dir = scratchFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try model.save(to: dir)
        let loaded = try Model.load(from: dir)
        #expect(type(of: loaded) == type(of: model))
        let a = try model.predictAll(inputs), b = try loaded.predictAll(inputs)
        for (x, y) in zip(a, b) {
            #expect(x.shape == y.shape)
            #expect(x.toArray(Float.self) == y.toArray(Float.self), "\(model.name): predictions differ after loading")
        }
        #expect(try loaded.architecture() == model.architecture())
        #expect(loaded.summary() == model.summary())
        #expect(loaded.metadata == model.metadata)
        return classNames(in: try model.architecture())
    }

    func classNames(in json: JSONValue) -> Set<String> {
        var out = Set<String>()
        if let c = json["class_name"]?.string { out.insert(c) }
        for v in json.object?.values.map({ $0 }) ?? json.array ?? [] { out.formUnion(classNames(in: v)) }
        return out
    }

    @Test("every registered type saves and loads bit for bit, and every public layer type is registered")
    func everyType() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 7))
        var seen = Set<String>()

        // Images: convolution, normalisation, pooling of every kind, resizing and merging.
        let image = Input(shape: [8, 8, 3], name: "image")
        var h = Conv2D(filters: 4, kernelSize: (3, 3), padding: .same, activation: .relu)(image)
        h = BatchNormalization()(h)
        h = SpatialDropout2D(rate: 0.2)(h)
        h = MaxPooling2D(poolSize: (2, 2))(h)
        h = UpSampling2D(size: (2, 2))(h)
        h = ZeroPadding2D(padding: (1, 0, 0, 1))(h)
        h = AveragePooling2D(poolSize: (3, 3), strides: (1, 1), padding: .same)(h)
        let merged = Concatenate()([GlobalMaxPooling2D()(h), GlobalAveragePooling2D()(h)])
        let imageModel = Model(inputs: [image], outputs: [Dropout(rate: 0.5)(Activation(.softmax)(Dense(units: 3)(merged)))])
        seen.formUnion(try roundTrip(imageModel, [Tensor.randomNormal([4, 8, 8, 3])], seed: 1))

        // Sequences: embeddings, attention, 1-D convolution and pooling, every recurrent layer.
        let ids = Input(shape: [6], dtype: .int32, name: "ids")
        var s = PositionalEmbedding(maxLength: 6, dModel: 8)(Embedding(inputDim: 20, outputDim: 8, maskZero: true)(ids))
        s = TransformerBlock(heads: 2, dModel: 8, causal: false, dropout: 0.1)(s)
        s = LayerNormalization()(MultiHeadAttention(heads: 2, dModel: 8)(s))
        s = Add()([Conv1D(filters: 8, kernelSize: 3, padding: .same)(s), s])
        s = AveragePooling1D(poolSize: 1)(MaxPooling1D(poolSize: 2)(s))
        s = Bidirectional(LSTM(units: 4, returnSequences: true))(s)
        s = SimpleRNN(units: 3)(GRU(units: 4, returnSequences: true, goBackwards: true)(s))
        let sequenceModel = Model(inputs: [ids], outputs: [Flatten()(Reshape([3, 1])(Dense(units: 3)(s)))])
        seen.formUnion(try roundTrip(sequenceModel, [Tensor.randomInt([5, 6], low: 0, high: 20)], seed: 2))

        let left = Input(shape: [3, 4], name: "left"), right = Input(shape: [5, 4], name: "right")
        let pairs = Flatten()(Dot(axes: (2, 2), normalize: true)([left, right]))
        let dotModel = Model(inputs: [left, right], outputs: [Dense(units: 2)(pairs)])
        seen.formUnion(try roundTrip(dotModel, [Tensor.randomNormal([2, 3, 4]), Tensor.randomNormal([2, 5, 4])], seed: 4))

        let bagIds = Input(shape: [5], dtype: .int32, name: "bag_ids")
        let bagModel = Model(inputs: [bagIds], outputs: [Dense(units: 2)(EmbeddingBag(inputDim: 30, outputDim: 4)(bagIds))])
        seen.formUnion(try roundTrip(bagModel, [Tensor.randomInt([3, 5], low: 0, high: 30)], seed: 3))

        // The ready-made architectures.
        let tokens = Tensor.randomInt([3, 6], low: 0, high: 11)
        let architectures: [Model] = [
            GPT(vocabulary: 11, context: 6, layers: 2, heads: 2, dModel: 8, dropout: 0.1),
            GPT(vocabulary: 11, context: 6, layers: 1, heads: 2, dModel: 8, useBias: false, tiedEmbedding: true, initialization: .pytorch),
            BigramModel(vocabulary: 11),
            MLPLanguageModel(vocabulary: 11, context: 3, embeddingSize: 4, hiddenUnits: 8, padToken: 2),
            RecurrentLanguageModel(.gru, vocabulary: 11, context: 6, embeddingSize: 4, units: 5),
            RecurrentLanguageModel(.lstm, vocabulary: 11, context: 6, embeddingSize: 4, units: 5),
            TextClassifier(vocabulary: 11, classes: 3, embeddingSize: 4, hiddenUnits: 5),
            FastTextClassifier(vocabulary: 11, classes: 3, dimension: 4),
            TextCNN(vocabulary: 11, classes: 3, embeddingSize: 4, filters: 3, widths: [2, 3]),
            BiLSTMClassifier(vocabulary: 11, classes: 3, embeddingSize: 4, units: 3),
            TransformerTextClassifier(vocabulary: 11, classes: 3, maxLength: 6, width: 8, heads: 2, layers: 1),
        ]
        seen.formUnion(try roundTrip(SpeechRecognizer(bands: 8, classes: 4, filters: 4, units: 3), [Tensor.randomNormal([2, 6, 8, 1])], seed: 40))
        // A model read from ONNX (here Nabla's own export of a small CNN) saves its graph and weights.
        let exported = Sequential([Conv2D(filters: 3, kernelSize: (3, 3), activation: .relu), GlobalAveragePooling2D(), Dense(units: 2)], inputShape: [5, 5, 2])
        seen.formUnion(try roundTrip(try ONNXGraphModel(bytes: try exported.onnxBytes()), [Tensor.randomNormal([2, 5, 5, 2])], seed: 70))

        // Recommenders score (user, item) pairs and (user, positive, negative) triples.
        let userItems = Tensor(shape: [3, 2], values: [Int32]([0, 1, 4, 6, 2, 0]))
        let triples = Tensor(shape: [2, 3], values: [Int32]([0, 1, 2, 4, 6, 5]))
        for (i, model) in [MatrixFactorization(users: 5, items: 7, factors: 3, globalMean: 3.5, factorL2: 0.5, biasL2: 0.05) as Model,
                           NeuMF(users: 5, items: 7, factors: 2, mlpLayers: [6, 4, 2]), TwoTower(users: 5, items: 7, embeddingSize: 4, towerUnits: [3, 2])].enumerated() {
            seen.formUnion(try roundTrip(model, [userItems], seed: 50 + UInt64(i)))
            try roundTrip(model, [triples], seed: 60 + UInt64(i))
        }
        for (i, model) in architectures.enumerated() {
            // The MLP language model reads exactly its context of 3 tokens.
            let input = model is MLPLanguageModel ? tokens[.all, 0..<3] : tokens
            seen.formUnion(try roundTrip(model, [input], seed: 10 + UInt64(i)))
        }

        let registered = Set(LayerRegistry.builtIn.flatMap { $0.classNames })
        #expect(registered.subtracting(seen).isEmpty, "registered but not tested: \(registered.subtracting(seen).sorted())")

        // The census: every public layer or model class in Sources/NablaNN is one of the registered types.
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/NablaNN")
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        let declaration = try Regex(#"public final class (\w+): (?:Layer|Model)\b"#)
        var declared = Set<String>()
        for file in files {
            for match in try String(contentsOf: file, encoding: .utf8).matches(of: declaration) { declared.insert(String(match.output[1].substring!)) }
        }
        let types = Set(LayerRegistry.builtIn.map { String(describing: $0) })
        #expect(declared.count > 30)
        #expect(declared.subtracting(types).subtracting(["InputLayer"]).isEmpty, "not registered: \(declared.subtracting(types).sorted())")
    }

    @Test("a configuration that asks for absurd sizes is refused before anything is allocated")
    func hostileSizes() throws {
        let dir = scratchFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (cls, config) in [("GPT", #"{"vocabulary": 100000000, "context": 64, "layers": 4, "heads": 4, "d_model": 4096, "use_bias": true, "tied_embedding": false, "initialization": "nanoGPT", "dropout": 0}"#),
                              ("TextCNN", #"{"vocabulary": 10, "classes": 2, "embedding_size": 4, "filters": 3, "widths": [], "dropout": 0, "embedding_dropout": 0}"#),
                              ("BigramModel", #"{"vocabulary": 1000000}"#)] {
            let json = #"{"format": "nabla-model-1", "class_name": "\#(cls)", "name": "m", "config": \#(config)}"#
            #expect(throws: NablaError.self) { _ = try Model.fromConfiguration(Data(json.utf8)) }
        }
    }
}

/// The layer of the "Custom layers" article (Documentation.docc/CustomLayers.md), as written there.
final class Scale: Layer, ConfigurableLayer {
    let initial: Double
    private(set) var factor: Parameter?

    init(initial: Double = 1, name: String? = nil) {
        self.initial = initial
        super.init(name: name)
    }

    override func build(inputShapes: [[Int]]) {
        factor = Parameter(Tensor.full([inputShapes[0].last!], value: initial))
    }

    override func forward(_ x: Tensor) -> Tensor { x * factor!.value }

    override var config: [String: JSONValue] { ["initial": JSONValue(initial)] }

    static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        Scale(initial: try c.double("initial"), name: c.name)
    }
}

@Suite("The custom layer of the documentation")
struct CustomLayerArticleTests {
    @Test("a ConfigurableLayer registered by type trains, saves and loads")
    func customLayer() throws {
        LayerRegistry.register(Scale.self)
        RandomGenerator.setCurrent(RandomGenerator(seed: 21))
        let model = Sequential([Dense(units: 8, inputDim: 4), Scale(initial: 0.5)])
        try model.compile(optimizer: "sgd", loss: "mse")
        let x = Tensor.randomNormal([16, 4]), y = Tensor.randomNormal([16, 8])
        try model.fit(x, y, epochs: 2, verbose: 0)
        #expect(model.trainableParameters.count == 3, "the factor is found by reflection")
        let dir = scratchFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try model.save(to: dir)
        let back = try Model.load(from: dir)
        #expect(try back.predict(x).toArray(Float.self) == model.predict(x).toArray(Float.self))
        #expect((back.layers.last as? Scale)?.initial == 0.5)
    }
}
