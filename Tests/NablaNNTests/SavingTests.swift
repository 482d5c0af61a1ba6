import Foundation
import Nabla
import NablaNN
import Testing

func scratchFolder() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-save-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A user-defined model type, registered so that saved copies can be rebuilt.
final class ScaledMLP: Model {
    let scale: Double
    let hidden: Dense
    let out: Dense

    init(scale: Double, name: String? = nil) {
        self.scale = scale
        hidden = Dense(units: 6, activation: .relu, inputDim: 3)
        out = Dense(units: 2, inputDim: 6)
        super.init(name: name)
    }

    override var typeName: String { "ScaledMLP" }
    override var config: [String: JSONValue] { ["scale": .number(scale)] }
    override func forward(_ x: Tensor) -> Tensor { out(hidden(x)) * scale }

    static let registered: Bool = {
        LayerRegistry.register("ScaledMLP") { c throws(NablaError) in ScaledMLP(scale: try c.double("scale"), name: c.name) }
        return true
    }()
}

/// A layer type nobody registered: Model.save must refuse it.
final class Unregistered: Layer {
    override func forward(_ x: Tensor) -> Tensor { x * 2 }
}

@Suite("Saving and loading models", .serialized)
struct SavingTests {
    func roundTrip(_ model: Model, _ inputs: [Tensor]) throws -> Model {
        let dir = scratchFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try model.save(to: dir)
        let loaded = try Model.load(from: dir)
        let a = try model.predictAll(inputs), b = try loaded.predictAll(inputs)
        for (x, y) in zip(a, b) { #expect(maxDifference(x, y) == 0) }
        #expect(loaded.summary() == model.summary())
        return loaded
    }

    @Test("a Sequential model with every kind of layer comes back identical and compiled")
    func sequential() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 100))
        let model = Sequential([
            Dense(units: 8, activation: .gelu, inputDim: 4), BatchNormalization(), Dropout(rate: 0.3),
            LayerNormalization(), Activation(.tanh), Reshape([2, 4]), Flatten(), Dense(units: 3, activation: .softmax),
        ])
        try model.compile(optimizer: RMSprop(learningRate: 0.01), loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
        let x = Tensor.randomNormal([16, 4]), y = Tensor.randomInt([16], low: 0, high: 3)
        try model.fit(x, y, epochs: 2, verbose: 0)
        let loaded = try roundTrip(model, [x])
        #expect(loaded.optimizer?.name == "rmsprop" && loaded.optimizer?.learningRate == 0.01)
        let a = try model.evaluate(x, y, verbose: 0), b = try loaded.evaluate(x, y, verbose: 0)
        #expect(a.loss == b.loss && a["accuracy"] == b["accuracy"])
    }

    @Test("a functional model with two inputs, concatenation and an embedding")
    func functional() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 101))
        let ids = Input(shape: [3], dtype: .int32, name: "ids"), feats = Input(shape: [2], name: "feats")
        let embedded = Flatten()(Embedding(inputDim: 10, outputDim: 4)(ids))
        let merged = Concatenate()([embedded, Dense(units: 5, activation: .relu)(feats)])
        let model = Model(inputs: [ids, feats], outputs: [Dense(units: 1)(merged), Dense(units: 2)(merged)], name: "two_heads")
        _ = try roundTrip(model, [Tensor.randomInt([7, 3], low: 0, high: 10), Tensor.randomNormal([7, 2])])
    }

    @Test("embeddings keep maskZero and sparse; an EmbeddingBag model saves, loads and trains with sparse updates")
    func embeddings() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 104))
        let ids = Input(shape: [6], dtype: .int32, name: "ids")
        let bag = EmbeddingBag(inputDim: 30, outputDim: 4)
        let pooled = GlobalAveragePooling1D()(Embedding(inputDim: 30, outputDim: 4, maskZero: true, sparse: true)(ids))
        let model = Model(inputs: [ids], outputs: [Dense(units: 2)(Concatenate()([bag(ids), pooled]))])
        try model.compile(optimizer: "adam", loss: SparseCategoricalCrossentropy(fromLogits: true))
        let x = Tensor.randomInt([8, 6], low: 0, high: 30), y = Tensor.randomInt([8], low: 0, high: 2)
        try model.fit(x, y, epochs: 1, verbose: 0)
        let loaded = try roundTrip(model, [x])
        let embedding = try #require(loaded.layers.compactMap { $0 as? Embedding }.first)
        #expect(embedding.maskZero && embedding.sparse)
        #expect(loaded.layers.contains { ($0 as? EmbeddingBag)?.sparse == true })
    }

    @Test("recurrent layers save and load: Bidirectional(LSTM), GRU and SimpleRNN in a functional model, predictions bit for bit")
    func recurrent() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 105))
        let ids = Input(shape: [7], dtype: .int32, name: "ids")
        let embedded = Embedding(inputDim: 20, outputDim: 6, maskZero: true)(ids)
        let both = Bidirectional(LSTM(units: 5, returnSequences: true))(embedded)
        let gru = GRU(units: 4, returnSequences: true, goBackwards: true)(both)
        let rnn = SimpleRNN(units: 3)(gru)
        let model = Model(inputs: [ids], outputs: [Dense(units: 2)(rnn)])
        let x = Tensor.randomInt([5, 7], low: 0, high: 20)
        let loaded = try roundTrip(model, [x])
        let restored = try #require(loaded.layers.compactMap { $0 as? Bidirectional }.first)
        #expect(restored.forwardLayer.cell == .lstm && restored.forwardLayer.returnSequences && restored.backwardLayer.goBackwards)
        #expect(loaded.layers.contains { ($0 as? Recurrent)?.goBackwards == true && ($0 as? Recurrent)?.cell == .gru })
    }

    @Test("save refuses, before writing anything, a layer that load could not rebuild")
    func refusesUnloadable() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 106))
        let x = Input(shape: [4, 8], name: "x")
        let model = Model(inputs: [x], outputs: [Dense(units: 1)(GlobalAveragePooling1D()(Unregistered(name: "block")(x)))])
        let dir = scratchFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: NablaError.self) { try model.save(to: dir) }
        do { try model.save(to: dir) } catch {
            #expect("\(error)".contains("cannot save layer block (Unregistered): Model.load could not rebuild it"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(ModelFiles.config).path))
    }

    @Test("a subclassed model loads through the registry")
    func subclassed() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 102))
        #expect(ScaledMLP.registered)
        let model = ScaledMLP(scale: 0.5)
        _ = try roundTrip(model, [Tensor.randomNormal([4, 3])])
    }

    @Test("mismatched weights are all reported at once; broken folders name the file")
    func errors() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 103))
        let dir = scratchFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = Sequential([Dense(units: 3, inputDim: 2), Dense(units: 1)])
        try model.save(to: dir)
        var state = model.stateDict()
        state["layers.0.kernel"] = Tensor.zeros([5, 3])
        state.removeValue(forKey: "layers.1.bias")
        try SafeTensors.write(state, to: dir.appendingPathComponent(ModelFiles.weights))
        #expect(throws: NablaError.weightsMismatch(["layers.0.kernel: shape [5, 3], expected [2, 3]", "missing layers.1.bias [1]"])) {
            try Model.load(from: dir)
        }
        try Data("{not json".utf8).write(to: dir.appendingPathComponent(ModelFiles.config))
        do { _ = try Model.load(from: dir); Issue.record("accepted") } catch {
            #expect(error.description.contains("config.json: not valid JSON"))
        }
        try Data(#"{"class_name": "Sequential", "layers": [{"class_name": "Densee", "name": "d", "config": {}}]}"#.utf8)
            .write(to: dir.appendingPathComponent(ModelFiles.config))
        do { _ = try Model.load(from: dir); Issue.record("accepted") } catch {
            #expect(error.description.contains("unknown layer class \"Densee\""))
        }
        do { _ = try Model.load(from: dir.appendingPathComponent("nowhere")); Issue.record("accepted") } catch {
            #expect(error.description.contains("config.json: no such file"))
        }
    }

    @Test("a PyTorch state_dict saved as safetensors loads into the matching model")
    func pytorchWeights() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
        let (state, _) = try SafeTensors.read(from: fixtures.appendingPathComponent("torch_mlp.safetensors"))
        let io = try NumPyArchive.read(from: fixtures.appendingPathComponent("torch_mlp_io.npz"))
        let model = Sequential([Dense(units: 8, activation: .relu, inputDim: 4), Dense(units: 3)])
        try model.loadWeights(state, mapping: ["0.weight": "layers.0.kernel", "0.bias": "layers.0.bias",
                                               "2.weight": "layers.1.kernel", "2.bias": "layers.1.bias"])
        #expect(maxDifference(model(io["x"]!), io["y"]!) < 1e-5)
        #expect(throws: NablaError.weightsMismatch(["missing layers.1.bias [3]", "missing layers.1.kernel [8, 3]", "unexpected 2.bias", "unexpected 2.weight"])) {
            try model.loadWeights(state, mapping: ["0.weight": "layers.0.kernel", "0.bias": "layers.0.bias"])
        }
    }
}

@Suite("Checkpoints", .serialized)
struct CheckpointTests {
    @Test("ModelCheckpoint keeps the last N, removes stale temporaries, and a restored run continues identically")
    func everyEpoch() throws {
        let dir = scratchFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("torn".utf8).write(to: dir.appendingPathComponent(AtomicFile.temporaryPrefix + "123-checkpoint"))
        func makeModel() throws -> Sequential {
            RandomGenerator.setCurrent(RandomGenerator(seed: 11))
            let m = Sequential([Dense(units: 8, activation: .relu, inputDim: 3), Dense(units: 1)])
            try m.compile(optimizer: Adam(learningRate: 0.01), loss: "mse")
            return m
        }
        let x = Tensor.randomNormal([64, 3], generator: RandomGenerator(seed: 1)), y = x.sum(axes: [1])
        let a = try makeModel()
        try a.fit(x, y, batchSize: 16, epochs: 6, verbose: 0, callbacks: [ModelCheckpoint(directory: dir, keep: 2)])
        #expect(TrainingCheckpoint.all(in: dir).map(\.epoch) == [5, 6])
        #expect(!((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).contains { $0.hasPrefix(AtomicFile.temporaryPrefix) })

        // Restore epoch 5 into a fresh model and finish the last epoch: identical to the straight run.
        let b = try makeModel()
        let (epoch, history) = try TrainingCheckpoint.restore(b, from: TrainingCheckpoint.all(in: dir)[0].url)
        #expect(epoch == 5 && history["loss"]?.count == 5)
        try b.fit(x, y, batchSize: 16, epochs: 6, verbose: 0, initialEpoch: epoch)
        for (k, v) in a.stateDict() { #expect(maxDifference(v, b.stateDict()[k]!) == 0, "\(k)") }
    }

    @Test("best-only checkpoints follow the monitored value; a NaN epoch keeps the last good file")
    func bestOnly() throws {
        let dir = scratchFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = Sequential([Dense(units: 1, inputDim: 2)])
        try model.compile(optimizer: SGD(learningRate: 0.01), loss: "mse")
        let cb = ModelCheckpoint(directory: dir, monitor: "loss", saveBestOnly: true, keep: 10)
        cb.model = model
        cb.onTrainBegin(logs: [:])
        for (epoch, loss) in [0.9, 0.5, 0.7, 0.4, Double.nan].enumerated() { cb.onEpochEnd(epoch, logs: ["loss": loss]) }
        #expect(TrainingCheckpoint.all(in: dir).map(\.epoch) == [1, 2, 4])
        #expect(throws: NablaError.self) { try TrainingCheckpoint.restore(model, from: dir.appendingPathComponent("nothing.safetensors")) }
    }
}
