import Foundation
import Nabla
import NablaData
@testable import NablaNN
import Testing

enum PythonONNXRuntime {
    static let available = Python.hasModules("onnx", "onnxruntime", "numpy")

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/onnx_check.py").path

    /// Runs scripts/onnx_check.py on `folder`; returns its exit status and output.
    static func check(_ folder: URL) throws -> (Int32, String) { try Python.run([script, folder.path]) }
}

@Suite("ONNX export and the protobuf codec")
struct ONNXTests {
    /// Gives every parameter (and batch norm's moving statistics) random values, so that the export
    /// of each weight is tested, not its initial value.
    func randomise(_ model: Model, seed: UInt64) throws {
        let g = RandomGenerator(seed: seed)
        var state = model.stateDict()
        for (name, t) in state.sorted(by: { $0.key < $1.key }) {
            // Signed weights; variances positive.
            state[name] = name.lowercased().contains("variance") ? Tensor.randomUniform(t.shape, low: 0.5, high: 1.5, dtype: t.dtype, generator: g)
                : Tensor.randomUniform(t.shape, low: -0.5, high: 0.5, dtype: t.dtype, generator: g)
        }
        try model.loadStateDict(state)
    }

    /// The export cases: a model, its inputs, and a name.
    func cases() throws -> [(String, Model, [Tensor])] {
        RandomGenerator.setCurrent(RandomGenerator(seed: 11))
        var out: [(String, Model, [Tensor])] = []
        // The digits MLP of `nabla train`, trained briefly on the real digits.
        let digits = Digits.load()
        let mlp = Sequential([Dense(units: 32, activation: .relu, inputDim: 64), Dropout(rate: 0.3), Dense(units: 10, activation: .softmax)])
        try mlp.compile(optimizer: "adam", loss: "sparse_categorical_crossentropy")
        try mlp.fit(digits.images[0..<400], digits.labels[0..<400], epochs: 2, verbose: 0)
        out.append(("digits_mlp", mlp, [digits.images[400..<432]]))
        // A CNN on 8×8 images: convolutions (valid, same, strided, grouped, dilated), every pooling, batch norm.
        let cnn = Sequential([
            Conv2D(filters: 8, kernelSize: (3, 3), padding: .same, activation: .relu), BatchNormalization(),
            Conv2D(filters: 8, kernelSize: (3, 3), strides: (2, 2), padding: .same, groups: 2),
            MaxPooling2D(poolSize: (2, 2)), Conv2D(filters: 6, kernelSize: (2, 2), dilationRate: (1, 1), activation: .gelu),
            AveragePooling2D(poolSize: (3, 3), strides: (1, 1), padding: .same), Flatten(), Dense(units: 5),
        ], inputShape: [8, 8, 1])
        try randomise(cnn, seed: 2)
        out.append(("cnn", cnn, [digits.images[0..<16].reshaped([16, 8, 8, 1])]))
        // Sequences: embeddings, 1-D convolution and pooling, layer norm, global pooling, every activation.
        let ids = Input(shape: [12], dtype: .int32, name: "ids")
        var s = Embedding(inputDim: 30, outputDim: 8)(ids)
        s = Conv1D(filters: 8, kernelSize: 3, padding: .same, activation: .elu)(s)
        s = LayerNormalization()(MaxPooling1D(poolSize: 2)(s))
        let pooled = Concatenate()([GlobalAveragePooling1D()(s), GlobalMaxPooling1D()(s)])
        var h = Dense(units: 8, activation: .selu)(pooled)
        h = Add()([Activation(.swish)(h), Activation(.leakyRelu)(h), Activation(.softplus)(h), Activation(.sigmoid)(h)])
        h = Reshape([2, 4])(h)
        let sequenceModel = Model(inputs: ids, outputs: Activation(.logSoftmax)(Dense(units: 3)(h)))
        try randomise(sequenceModel, seed: 3)
        out.append(("sequence", sequenceModel, [Tensor.randomInt([5, 12], low: 0, high: 30)]))
        // Recurrent layers: every cell, both directions, sequences and last states.
        let steps = Input(shape: [6, 4], name: "steps")
        var rnn = LSTM(units: 5, returnSequences: true)(steps)
        rnn = Bidirectional(GRU(units: 3, returnSequences: true))(rnn)
        rnn = SimpleRNN(units: 4, returnSequences: true, goBackwards: true)(rnn)
        let last = Concatenate()([Bidirectional(LSTM(units: 2))(rnn), GRU(units: 3, goBackwards: true)(rnn)])
        let recurrentModel = Model(inputs: steps, outputs: Dense(units: 2)(last))
        try randomise(recurrentModel, seed: 4)
        out.append(("recurrent", recurrentModel, [Tensor.randomNormal([3, 6, 4])]))
        // Attention: a functional Transformer block, and the language models of `nabla lm`.
        let tokens = Tensor.randomInt([3, 8], low: 0, high: 11)
        let seq = Input(shape: [8, 16], name: "seq")
        let attended = TransformerBlock(heads: 2, dModel: 16, causal: false)(MultiHeadAttention(heads: 4, dModel: 16, causal: true)(seq))
        let attentionModel = Model(inputs: seq, outputs: PositionalEmbedding(maxLength: 10, dModel: 16)(attended))
        try randomise(attentionModel, seed: 6)
        out.append(("attention", attentionModel, [Tensor.randomNormal([2, 8, 16])]))
        let languageModels: [(String, Model, Tensor)] = [
            ("gpt", GPT(vocabulary: 11, context: 8, layers: 2, heads: 2, dModel: 16), tokens),
            ("gpt_tied", GPT(vocabulary: 11, context: 8, layers: 1, heads: 2, dModel: 16, useBias: false, tiedEmbedding: true), tokens),
            ("bigram", BigramModel(vocabulary: 11), tokens),
            ("mlp_lm", MLPLanguageModel(vocabulary: 11, context: 3, embeddingSize: 4, hiddenUnits: 8, padToken: 2), tokens[.all, 0..<3]),
            ("gru_lm", RecurrentLanguageModel(.gru, vocabulary: 11, context: 8, embeddingSize: 4, units: 6), tokens),
            ("lstm_lm", RecurrentLanguageModel(.lstm, vocabulary: 11, context: 8, embeddingSize: 4, units: 6), tokens),
        ]
        // The text classifiers of `nabla text`, on ids padded at the end (as TextVectorization writes them),
        // one text of padding only; and the speech recognizer of `nabla audio`.
        var padded = Tensor.randomInt([4, 9], low: 1, high: 11).toArray(Int32.self)
        for (row, length) in [(0, 9), (1, 5), (2, 1), (3, 0)] { for k in length..<9 { padded[row * 9 + k] = 0 } }
        let texts = Tensor(shape: [4, 9], values: padded)
        let textModels: [(String, Model, Tensor)] = [
            ("text_average", TextClassifier(vocabulary: 11, classes: 3, embeddingSize: 4, hiddenUnits: 5), texts),
            ("fasttext", FastTextClassifier(vocabulary: 11, classes: 3, dimension: 4), texts),
            ("text_cnn", TextCNN(vocabulary: 11, classes: 3, embeddingSize: 4, filters: 3, widths: [2, 3]), texts),
            ("bilstm", BiLSTMClassifier(vocabulary: 11, classes: 3, embeddingSize: 4, units: 3), texts),
            ("text_transformer", TransformerTextClassifier(vocabulary: 11, classes: 3, maxLength: 9, width: 8, heads: 2, layers: 1), texts),
            ("speech", SpeechRecognizer(bands: 8, classes: 4, filters: 4, units: 3), Tensor.randomNormal([2, 12, 8, 1])),
            // The recommenders of `nabla recommend`, on (user, item) pairs and BPR triples.
            ("mf", MatrixFactorization(users: 6, items: 7, factors: 3, globalMean: 3.5), Tensor(shape: [4, 2], values: [Int32]([0, 1, 5, 6, 2, 0, 3, 3]))),
            ("neumf", NeuMF(users: 6, items: 7, factors: 2, mlpLayers: [6, 4, 2]), Tensor(shape: [3, 2], values: [Int32]([0, 1, 5, 6, 2, 0]))),
            ("two_tower", TwoTower(users: 6, items: 7, embeddingSize: 4, towerUnits: [3, 2]), Tensor(shape: [2, 3], values: [Int32]([0, 1, 2, 5, 6, 4]))),
        ]
        for (k, (name, model, input)) in (languageModels + textModels).enumerated() {
            _ = try model.predict(input)      // builds it for this input shape
            try randomise(model, seed: 20 + UInt64(k))
            out.append((name, model, [input]))
        }
        // Padding, upsampling, bags of ids, cosine similarity.
        let image = Input(shape: [4, 4, 2], name: "image")
        let grown = Flatten()(UpSampling2D(size: (2, 3))(ZeroPadding2D(padding: (1, 0, 2, 1))(image)))
        let bagIds = Input(shape: [6], dtype: .int32, name: "bag")
        let bagged = EmbeddingBag(inputDim: 20, outputDim: 5)(bagIds)
        let cosine = Dot(axes: (1, 1), normalize: true)([Dense(units: 5)(grown), bagged])
        let miscModel = Model(inputs: [image, bagIds], outputs: [Concatenate()([cosine, Dot(axes: (1, 1))([bagged, bagged])])])
        try randomise(miscModel, seed: 7)
        out.append(("padding_bags_dot", miscModel, [Tensor.randomNormal([3, 4, 4, 2]), Tensor(shape: [3, 6], values: [Int32]([1, 2, 3, 0, 0, 0, 5, 5, 19, 4, 1, 2, 0, 0, 0, 0, 0, 0]))]))
        // Two inputs.
        let a = Input(shape: [4]), b = Input(shape: [3])
        let two = Model(inputs: [a, b], outputs: [Dense(units: 2, activation: .gelu)(Concatenate()([Dense(units: 3)(a), b]))])
        out.append(("two_inputs", two, [Tensor.randomNormal([6, 4]), Tensor.randomNormal([6, 3])]))
        return out
    }

    @Test("exported models pass onnx.checker and match Nabla in ONNX Runtime (rtol 1e-4, atol 1e-5), opsets 17 and 18",
          .enabled(if: PythonONNXRuntime.available, "needs python3 with onnx and onnxruntime (pip install onnx onnxruntime)"))
    func onnxRuntimeParity() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, model, inputs) in try cases() {
            for opset in [17, 18] {
                let base = dir.appendingPathComponent("\(name)_opset\(opset)").path
                try model.exportONNX(to: URL(fileURLWithPath: base + ".onnx"), opset: opset)
                for (k, x) in inputs.enumerated() { try NumPyFile.write(x, to: URL(fileURLWithPath: base + ".input\(k).npy")) }
                model.eval()
                try NumPyFile.write(try model.predict(inputs), to: URL(fileURLWithPath: base + ".expected.npy"))
            }
        }
        let (status, output) = try PythonONNXRuntime.check(dir)
        #expect(status == 0, "\(output)")
        for (name, _, _) in try cases() {
            for opset in [17, 18] { #expect(output.contains("ok   \(name)_opset\(opset):"), "\(output)") }
        }
        #expect(output.contains("\n0 failed"), "\(output)")
        print(output)
    }

    @Test("a layer without an ONNX form is an error naming it")
    func unsupported() throws {
        let model = Sequential([Embedding(inputDim: 5, outputDim: 3, maskZero: true), LSTM(units: 2)], inputShape: [4])
        do {
            _ = try model.onnxBytes()
            Issue.record("exported a masked embedding")
        } catch { #expect("\(error)".contains("maskZero") && "\(error)".contains(model.layers[0].name)) }
        let seq = Input(shape: [3, 4])
        let withDot = Model(inputs: seq, outputs: Flatten()(Dot(axes: (2, 2))([seq, seq])))
        do {
            _ = try withDot.onnxBytes()
            Issue.record("exported a Dot layer of sequences")
        } catch { #expect("\(error)".contains("Dot")) }
    }

    @Test("the protobuf reader round-trips what the writer wrote and refuses truncated and hostile bytes")
    func codec() throws {
        let digits = Digits.load()
        let model = Sequential([Dense(units: 4, activation: .relu, inputDim: 64), Dense(units: 2)])
        let bytes = try model.onnxBytes()
        let file = try ONNXFile.decode(bytes, source: "m.onnx")
        #expect(file.opset == 17 && file.graph.inputs.first?.name == "input" && file.graph.outputs.first?.dims == [nil, 2])
        #expect(file.graph.nodes.map(\.opType) == ["Gemm", "Relu", "Gemm", "Identity"])
        #expect(file.graph.initializers.first?.tensor.toArray(Float.self) == model.layers[0].namedParameters().first!.parameter.value.toArray(Float.self))
        _ = digits
        for cut in [1, 10, bytes.count / 2, bytes.count - 1] {
            #expect(throws: NablaError.self) { try ONNXFile.decode(Array(bytes[..<cut]), source: "cut.onnx") }
        }
        // A length that runs past the end, and a wire type that does not exist.
        #expect(throws: NablaError.self) { try ONNXFile.decode([0x3A, 0xFF, 0xFF, 0x03, 0x00], source: "long.onnx") }
        #expect(throws: NablaError.self) { try ONNXFile.decode([0x3F, 0x00], source: "wire.onnx") }
    }
}

@Suite("ONNX import")
struct ONNXImportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/onnx")

    func fixture(_ name: String) throws -> (ONNXGraphModel, Tensor, Tensor) {
        let model = try Model.importONNX(from: Self.fixtures.appendingPathComponent("\(name).onnx"))
        let x = try NumPyFile.read(from: Self.fixtures.appendingPathComponent("\(name).input.npy"))
        let y = try NumPyFile.read(from: Self.fixtures.appendingPathComponent("\(name).expected.npy"))
        return (model, x, y)
    }

    @Test("PyTorch's MLP, CNN, GRU and LSTM exports predict what PyTorch did (rtol 1e-4, atol 1e-5)",
          arguments: ["torch_mlp", "torch_cnn", "torch_gru", "torch_lstm"])
    func torchExports(_ name: String) throws {
        let (model, x, expected) = try fixture(name)
        let got = try model.predict(x).toArray(Float.self), want = expected.toArray(Float.self)
        #expect(got.count == want.count)
        let worst = zip(got, want).map { Swift.abs($0 - $1) - 1e-4 * Swift.abs($1) }.max()!
        #expect(worst <= 1e-5, "\(name): \(zip(got, want).map { Swift.abs($0 - $1) }.max()!)")
        print("\(name): max abs difference from PyTorch \(zip(got, want).map { Swift.abs($0 - $1) }.max()!)")
    }

    @Test("an imported PyTorch model fine-tunes with fit (the loss falls over an epoch) and saves and loads")
    func fineTuneAndSave() throws {
        let (model, x, _) = try fixture("torch_mlp")
        RandomGenerator.setCurrent(RandomGenerator(seed: 4))
        let inputs = Tensor.randomNormal([256, 64]), labels = Tensor.randomInt([256], low: 0, high: 10)
        try model.compile(optimizer: Adam(learningRate: 0.01), loss: SparseCategoricalCrossentropy(fromLogits: true))
        let before = try model.evaluate(inputs, labels, verbose: 0).loss
        try model.fit(inputs, labels, batchSize: 32, epochs: 1, verbose: 0)
        let after = try model.evaluate(inputs, labels, verbose: 0).loss
        #expect(after < before, "loss \(before) → \(after)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-onnx-import-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try model.save(to: dir)
        let loaded = try Model.load(from: dir)
        #expect(try loaded.predict(x).toArray(Float.self) == model.predict(x).toArray(Float.self))
    }

    @Test("Nabla's own exports import back to the same predictions (every exported layer kind)")
    func roundTrip() throws {
        for (name, model, inputs) in try ONNXTests().cases() {
            let back = try ONNXGraphModel(bytes: try model.onnxBytes())
            let a = try model.predict(inputs).toArray(Float.self), b = try back.predict(inputs).toArray(Float.self)
            // A text of padding only max-pools to −∞ (and may give NaN after it) in both.
            #expect(zip(a, b).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) || Swift.abs($0 - $1) <= 1e-5 + 1e-4 * Swift.abs($0) },
                    "\(name): \(zip(a, b).filter { $0.0.isFinite }.map { Swift.abs($0 - $1) }.max()!)")
        }
    }

    @Test("a graph that reads values before computing them, starves an operator of inputs or never computes its output is refused at import")
    func brokenGraphs() throws {
        let good = try ONNXFile.decode(try Sequential([Dense(units: 2, inputDim: 3)]).onnxBytes(), source: "m")
        var early = good
        early.graph.nodes.reverse()
        var starved = good
        starved.graph.nodes[0].inputs = [starved.graph.nodes[0].inputs[0]]
        var headless = good
        headless.graph.outputs[0].name = "nowhere"
        for (file, message) in [(early, "which no earlier node"), (starved, "it needs at least 2"), (headless, "never computes its output 'nowhere'")] {
            do {
                _ = try ONNXGraphModel(bytes: file.encoded(), source: "broken.onnx")
                Issue.record("accepted a broken graph (\(message))")
            } catch { #expect("\(error)".contains(message), "\(error)") }
        }
    }

    @Test("unsupported operators are listed with their counts in one error")
    func unsupported() throws {
        var file = try ONNXFile.decode(try Sequential([Dense(units: 2, inputDim: 3)]).onnxBytes(), source: "m")
        file.graph.nodes.insert(ONNXNode(opType: "NonMaxSuppression", inputs: [], outputs: ["a"]), at: 0)
        file.graph.nodes.insert(ONNXNode(opType: "NonMaxSuppression", inputs: [], outputs: ["b"]), at: 0)
        file.graph.nodes.insert(ONNXNode(opType: "TopK", inputs: [], outputs: ["c"]), at: 0)
        #expect(throws: NablaError.invalidArgument("m.onnx: operators Nabla does not run: NonMaxSuppression ×2, TopK ×1")) {
            try ONNXGraphModel(bytes: file.encoded(), source: "m.onnx")
        }
    }
}

@Suite("nabla export and nabla import", .enabled(if: CLI.binary != nil && PythonONNXRuntime.available, "needs the nabla executable and python3 with onnx and onnxruntime"))
struct ONNXCLITests {
    @Test("nabla train --save, nabla export → onnxruntime agrees with nabla; nabla import of PyTorch's CNN saves a working model")
    func exportAndImport() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-onnx-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("digits").path
        #expect(try CLI.run(["train", "--epochs", "2", "--verbose", "0", "--save", model]).status == 0)
        let onnx = dir.appendingPathComponent("checks/digits.onnx")
        try FileManager.default.createDirectory(at: onnx.deletingLastPathComponent(), withIntermediateDirectories: true)
        let exported = try CLI.run(["export", model, "--onnx", onnx.path, "--opset", "18"])
        #expect(exported.status == 0 && exported.stdout.contains("opset 18"), "\(exported.stderr)")
        let loaded = try Model.load(from: URL(fileURLWithPath: model))
        let x = Tensor.randomUniform([7, 64], low: 0, high: 1)
        try NumPyFile.write(x, to: onnx.deletingPathExtension().appendingPathExtension("input0.npy"))
        try NumPyFile.write(try loaded.predict(x), to: onnx.deletingPathExtension().appendingPathExtension("expected.npy"))
        let (status, output) = try PythonONNXRuntime.check(onnx.deletingLastPathComponent())
        #expect(status == 0 && output.contains("ok   digits:"), "\(output)")

        let imported = dir.appendingPathComponent("torch_cnn").path
        let r = try CLI.run(["import", ONNXImportTests.fixtures.appendingPathComponent("torch_cnn.onnx").path, "--save", imported])
        #expect(r.status == 0 && r.stdout.contains("Conv ×2"), "\(r.stdout) \(r.stderr)")
        let summary = try CLI.run(["summary", imported])
        #expect(summary.status == 0 && summary.stdout.contains("onnx_model") && summary.stdout.contains("Total params: 1,418"), "\(summary.stdout) \(summary.stderr)")
        let bad = dir.appendingPathComponent("bad.onnx")
        try Data([0x3A, 0xFF, 0xFF, 0x03]).write(to: bad)
        let refused = try CLI.run(["import", bad.path, "--save", dir.appendingPathComponent("x").path])
        #expect(refused.status != 0 && refused.stderr.contains("bad.onnx: not a valid ONNX file"), "\(refused.stderr)")
    }
}
