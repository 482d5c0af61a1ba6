import Foundation
import Nabla
import NablaData
@testable import NablaNN
import Testing

@Suite("Keras-style Model", .serialized)
struct ModelTests {
    @Test("the founding document's program trains and evaluates")
    func seedProgram() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 0))
        let inputs = Input(shape: [2])
        let hidden = Dense(units: 3, activation: .linear)(inputs)
        let outputs = Dense(units: 1, activation: .linear)(hidden)
        let model = Model(inputs: inputs, outputs: outputs)
        try model.compile(optimizer: "adam", loss: "mse")
        let x = Tensor([[1, 2], [2, 3], [3, 4]]), y = Tensor([0, 1, 2])
        let before = try model.evaluate(x, y, verbose: 0).loss
        let history = try model.fit(x, y, epochs: 100, verbose: 0)
        let after = try model.evaluate(x, y, verbose: 0)
        #expect(history.history["loss"]!.count == 100)
        #expect(after.loss < before)
        #expect(after.description == "\(after.loss)")
        #expect(Swift.abs(history.history["loss"]!.last! - after.loss) < 0.05 * before)
    }

    @Test("a functional DAG with two inputs, shared input and concatenation")
    func functionalDAG() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 100))
        let a = Input(shape: [3]), b = Input(shape: [2])
        let left = Dense(units: 4, activation: .relu)(a)
        let right = Dense(units: 4, activation: .relu)(a)
        let merged = Concatenate()([left, right, b])
        let out = Dense(units: 1)(merged)
        let model = Model(inputs: [a, b], outputs: [out])
        #expect(merged.shape == [nil, 10])
        #expect(model.layers.count == 6)
        try model.compile(optimizer: Adam(learningRate: 0.01), loss: MeanSquaredError())
        let xa = Tensor.randomNormal([64, 3]), xb = Tensor.randomNormal([64, 2])
        let y = xa.sum(axes: [1]) + xb.sum(axes: [1])
        let h = try model.fit([xa, xb], y, batchSize: 16, epochs: 40, verbose: 0)
        #expect(h.history["loss"]!.last! < h.history["loss"]!.first! / 4)
        #expect(try model.predict([xa, xb]).shape == [64, 1])
    }

    @Test("a model with two outputs trains on one target per output")
    func multiOutput() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 101))
        let x = Input(shape: [2])
        let shared = Dense(units: 8, activation: .tanh)(x)
        let sum = Dense(units: 1, name: "sum_head")(shared)
        let diff = Dense(units: 1, name: "diff_head")(shared)
        let model = Model(inputs: [x], outputs: [sum, diff])
        try model.compile(optimizer: Adam(learningRate: 0.02), loss: "mse")
        let data = Tensor.randomUniform([128, 2], low: -1, high: 1)
        let ySum = data.sum(axes: [1]), yDiff = data[.all, 0] - data[.all, 1]
        let h = try model.fit([data], [ySum, yDiff], batchSize: 16, epochs: 60, verbose: 0)
        #expect(h.history["loss"]!.last! < 0.05)
        let outs = try model.predictAll([data])
        #expect(outs.count == 2 && outs[1].shape == [128, 1])
        #expect(throws: NablaError.invalidArgument("\(model.name): the model has 2 outputs but 1 targets were given")) {
            try model.fit([data], [ySum], verbose: 0)
        }
    }

    final class TwoLayer: Model {
        let hidden = Dense(units: 8, activation: .tanh, inputDim: 1)
        let out = Dense(units: 1, inputDim: 8)
        override func forward(_ x: Tensor) -> Tensor { out(hidden(x)) }
    }

    @Test("a subclassed model fits with the same API")
    func subclassed() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 102))
        let model = TwoLayer()
        #expect(model.parameterCount == 16 + 9)
        try model.compile(optimizer: Adam(learningRate: 0.05), loss: "mse", metrics: ["mae"])
        let x = Tensor.linspace(-1, 1, count: 32).reshaped([32, 1])
        let y = square(x)
        let h = try model.fit(x, y, batchSize: 8, epochs: 150, verbose: 0)
        #expect(h.history["mae"]!.last! < 0.1, "\(h.history["mae"]!.suffix(3))")
    }

    @Test("validationSplit takes the last samples, before shuffling")
    func validationSplit() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 103))
        let model = Sequential([Dense(units: 1, inputDim: 2)])
        try model.compile(optimizer: SGD(learningRate: 0.01), loss: "mse")
        let x = Tensor.randomNormal([50, 2]), y = Tensor.randomNormal([50])
        let h = try model.fit(x, y, batchSize: 8, epochs: 1, verbose: 0, validationSplit: 0.2)
        let lastTen = try model.evaluate(x[40...], y[40...], verbose: 0).loss
        #expect(Swift.abs(h.history["val_loss"]![0] - lastTen) < 1e-6)
    }

    @Test("evaluate and predict do not depend on the batch size")
    func batching() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 104))
        let model = Sequential([Dense(units: 3, activation: .softmax, inputDim: 4)])
        try model.compile(optimizer: "sgd", loss: "sparse_categorical_crossentropy", metrics: ["accuracy"])
        let x = Tensor.randomNormal([23, 4]), y = Tensor.randomInt([23], low: 0, high: 3)
        let a = try model.evaluate(x, y, batchSize: 5, verbose: 0), b = try model.evaluate(x, y, batchSize: 100, verbose: 0)
        #expect(Swift.abs(a.loss - b.loss) < 1e-6 && a["accuracy"] == b["accuracy"])
        #expect(maxDifference(try model.predict(x, batchSize: 4), try model.predict(x, batchSize: 50)) < 1e-6)
        let logs = try model.trainOnBatch(x, y)
        #expect(logs["loss"] != nil && logs["accuracy"] != nil)
    }

    @Test("inputs are checked before the first step, naming the layer and both shapes")
    func errors() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 105))
        let inputs = Input(shape: [4], name: "features")
        let model = Model(inputs: inputs, outputs: Dense(units: 2, name: "head")(inputs))
        #expect(throws: NablaError.invalidState("\(model.name): call compile(optimizer:loss:metrics:) before fit, evaluate or trainOnBatch")) {
            try model.fit(Tensor.zeros([8, 4]), Tensor.zeros([8, 2]))
        }
        try model.compile(optimizer: "adam", loss: "mse")
        #expect(throws: NablaError.shapeMismatch(layer: "features", expected: "(None, 4)", actual: "(None, 3)")) {
            try model.fit(Tensor.zeros([8, 3]), Tensor.zeros([8, 2]))
        }
        #expect(throws: NablaError.invalidArgument("\(model.name): 8 input samples but 7 targets (shapes [8, 4] and [7, 2])")) {
            try model.fit(Tensor.zeros([8, 4]), Tensor.zeros([7, 2]))
        }
        #expect(throws: NablaError.shapeMismatch(layer: "head", expected: "targets of shape (None, 2) to match the output", actual: "(None, 3)")) {
            try model.evaluate(Tensor.zeros([8, 4]), Tensor.zeros([8, 3]))
        }
        let seq = Sequential([Dense(units: 5, inputDim: 6, name: "first"), Dense(units: 1)])
        try seq.compile(optimizer: "sgd", loss: "mse")
        #expect(throws: NablaError.shapeMismatch(layer: "first", expected: "(None, 6)", actual: "(None, 7)")) {
            try seq.predict(Tensor.zeros([2, 7]))
        }
        #expect(throws: NablaError.unknownName(kind: "optimizer", name: "adamm", valid: ["adagrad", "adam", "adamw", "rmsprop", "sgd"])) {
            try seq.compile(optimizer: "adamm", loss: "mse")
        }
        #expect(throws: NablaError.self) { try seq.compile(optimizer: "adam", loss: "mse", metrics: ["acc", "f1"]) }
    }

    @Test("micrograd's moons demo reaches 100% training accuracy")
    func moons() {
        let rng = RandomGenerator(seed: 1337)
        var points: [Float] = [], labels: [Float] = []
        for i in 0..<50 {
            let t = Double.pi * Double(i) / 49
            points += [Float(cos(t)), Float(sin(t))]
            labels.append(-1)
        }
        for i in 0..<50 {
            let t = Double.pi * Double(i) / 49
            points += [Float(1 - cos(t)), Float(1 - sin(t) - 0.5)]
            labels.append(1)
        }
        let x = Tensor(shape: [100, 2], values: points) + Tensor.randomNormal([100, 2], std: 0.1, generator: rng)
        let y = Tensor(shape: [100, 1], values: labels)
        RandomGenerator.setCurrent(RandomGenerator(seed: 1337))
        let model = Sequential([
            Dense(units: 16, activation: .relu, kernelInitializer: .randomUniform(min: -1, max: 1), inputDim: 2),
            Dense(units: 16, activation: .relu, kernelInitializer: .randomUniform(min: -1, max: 1)),
            Dense(units: 1, kernelInitializer: .randomUniform(min: -1, max: 1)),
        ])
        let sgd = SGD(learningRate: 1)
        var accuracy = 0.0
        for k in 0..<100 {
            let scores = model(x)
            let loss = relu(1 - y * scores).mean() + model.parameters.map { square($0.value).sum() }.reduce(Tensor(0), +) * 1e-4
            accuracy = withNoGrad { ((y .> 0) .== (scores .> 0)).cast(to: .float32).mean().item(Double.self) }
            loss.backward()
            sgd.learningRate = 1.0 - 0.9 * Double(k) / 100
            sgd.update(model)
        }
        #expect(accuracy == 1)
    }

    @Test("the embedded digits train to at least 97% test accuracy")
    func digits() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 42))
        let (x, y) = Digits.load()
        #expect(x.shape == [1797, 64] && y.shape == [1797])
        let (train, test) = trainTestSplit(x, y, testFraction: 0.2, seed: 42)
        let model = Sequential([Dense(units: 256, activation: .relu, inputDim: 64), Dense(units: 128, activation: .relu), Dense(units: 10)])
        try model.compile(optimizer: "adam", loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
        try model.fit(train.x, train.y, epochs: 30, verbose: 0, validationSplit: 0.1)
        let accuracy = try model.evaluate(test.x, test.y, verbose: 0)["accuracy"]!
        #expect(accuracy >= 0.97)
    }
}

@Suite("Callbacks", .serialized)
struct CallbackTests {
    func regression() throws -> (Sequential, Tensor, Tensor) {
        RandomGenerator.setCurrent(RandomGenerator(seed: 3))
        let model = Sequential([Dense(units: 1, inputDim: 3)])
        let x = Tensor.randomNormal([40, 3]), y = x.sum(axes: [1])
        return (model, x, y)
    }

    @Test("EarlyStopping stops after `patience` epochs without improvement and restores the best weights")
    func earlyStopping() throws {
        let (model, x, y) = try regression()
        try model.compile(optimizer: SGD(learningRate: 0.6), loss: "mse")   // diverges after a few epochs
        var snapshots: [[String: Tensor]] = []
        let recorder = LambdaCallback(onEpochEnd: { _, _ in snapshots.append(model.stateDict().mapValues { $0.copy() }) })
        let stop = EarlyStopping(monitor: "loss", patience: 2, restoreBestWeights: true)
        let h = try model.fit(x, y, batchSize: 40, epochs: 50, verbose: 0, shuffle: false, callbacks: [recorder, stop])
        let losses = h.history["loss"]!
        #expect(losses.count < 50 && stop.stoppedEpoch == losses.count - 1)
        let best = losses.firstIndex(of: losses.min()!)!
        #expect(losses.count == best + 3)
        for (k, v) in snapshots[best] { #expect(maxDifference(model.stateDict()[k]!, v) == 0) }
    }

    @Test("ReduceLROnPlateau, LearningRateScheduler, TerminateOnNaN")
    func learningRates() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 107))
        let (model, x, y) = try regression()
        let sgd = SGD(learningRate: 1e-12)
        try model.compile(optimizer: sgd, loss: "mse")
        try model.fit(x, y, batchSize: 40, epochs: 4, verbose: 0, callbacks: [ReduceLROnPlateau(monitor: "loss", factor: 0.5, patience: 1)])
        #expect(sgd.learningRate < 1e-12)
        var seen: [Double] = []
        try model.fit(x, y, batchSize: 40, epochs: 3, verbose: 0, callbacks: [
            LearningRateScheduler { epoch, _ in 0.1 / Double(epoch + 1) },
            LambdaCallback(onEpochEnd: { _, _ in seen.append(sgd.learningRate) }),
        ])
        #expect(seen == [0.1, 0.05, 0.1 / 3])
        try model.compile(optimizer: SGD(learningRate: 1e6), loss: "mse")
        let h = try model.fit(x, y, batchSize: 4, epochs: 20, verbose: 0, callbacks: [TerminateOnNaN()])
        #expect(h.history["loss"]!.count < 20)
    }

    @Test("CSVLogger writes a header and one row per epoch")
    func csvLogger() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 106))
        let (model, x, y) = try regression()
        try model.compile(optimizer: "sgd", loss: "mse", metrics: ["mae"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.fit(x, y, epochs: 3, verbose: 0, validationSplit: 0.25, callbacks: [CSVLogger(path: path)])
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0] == "epoch,loss,mae,val_loss,val_mae")
        #expect(lines[3].hasPrefix("2,"))
    }
}

@Suite("Text output matches Keras")
struct TextOutputTests {
    @Test("summary of a Sequential model")
    func sequentialSummary() {
        let model = Sequential([Dense(units: 64, inputDim: 20, name: "dense"), Dropout(rate: 0.5, name: "dropout"), Dense(units: 2, name: "dense_1")],
                               name: "sequential")
        let expected = """
            Model: "sequential"
            ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
            ┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
            ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
            │ dense (Dense)                        │ (None, 64)                  │           1,344 │
            ├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
            │ dropout (Dropout)                    │ (None, 64)                  │               0 │
            ├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
            │ dense_1 (Dense)                      │ (None, 2)                   │             130 │
            └──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
             Total params: 1,474 (5.76 KB)
             Trainable params: 1,474 (5.76 KB)
             Non-trainable params: 0 (0.00 B)
            """
        #expect(model.summary() == expected)
    }

    @Test("summary of a functional model")
    func functionalSummary() {
        let features = Input(shape: [20], name: "features")
        let a = Dense(units: 8, name: "a")(features)
        let b = Dense(units: 8, name: "b")(features)
        let merged = Concatenate(name: "concatenate")([a, b])
        let out = Dense(units: 1, name: "dense_2")(merged)
        let model = Model(inputs: features, outputs: out, name: "functional_demo")
        let expected = """
            Model: "functional_demo"
            ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┓
            ┃ Layer (type)              ┃ Output Shape           ┃        Param # ┃ Connected to           ┃
            ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━┩
            │ features (InputLayer)     │ (None, 20)             │              0 │ -                      │
            ├───────────────────────────┼────────────────────────┼────────────────┼────────────────────────┤
            │ a (Dense)                 │ (None, 8)              │            168 │ features[0][0]         │
            ├───────────────────────────┼────────────────────────┼────────────────┼────────────────────────┤
            │ b (Dense)                 │ (None, 8)              │            168 │ features[0][0]         │
            ├───────────────────────────┼────────────────────────┼────────────────┼────────────────────────┤
            │ concatenate (Concatenate) │ (None, 16)             │              0 │ a[0][0], b[0][0]       │
            ├───────────────────────────┼────────────────────────┼────────────────┼────────────────────────┤
            │ dense_2 (Dense)           │ (None, 1)              │             17 │ concatenate[0][0]      │
            └───────────────────────────┴────────────────────────┴────────────────┴────────────────────────┘
             Total params: 353 (1.38 KB)
             Trainable params: 353 (1.38 KB)
             Non-trainable params: 0 (0.00 B)
            """
        #expect(model.summary() == expected)
    }

    final class Clock: @unchecked Sendable {
        var t = 0.0
    }

    @Test("progress lines for verbose 1 and 2")
    func progress() {
        let values: [(String, Double)] = [("accuracy", 0.48249998688697815), ("loss", 0.7159172892570496),
                                          ("val_accuracy", 0.5699999928474426), ("val_loss", 0.6805633306503296)]
        let clock = Clock()
        var out: [String] = []
        var v1 = ProgressBar(target: 25, verbose: 1, isTerminal: false, write: { out.append($0) }, clock: { clock.t })
        var v2 = ProgressBar(target: 25, verbose: 2, isTerminal: false, write: { out.append($0) }, clock: { clock.t })
        clock.t = 1
        v1.update(10, values: values)
        v2.update(10, values: values)
        #expect(out.isEmpty)   // off a terminal only the finished line is written
        clock.t = 2.775
        v1.finish(25, values: values)
        v2.finish(25, values: values)
        #expect(out == [
            "25/25 ━━━━━━━━━━━━━━━━━━━━ 3s 111ms/step - accuracy: 0.4825 - loss: 0.7159 - val_accuracy: 0.5700 - val_loss: 0.6806\n",
            "25/25 - 3s - 111ms/step - accuracy: 0.4825 - loss: 0.7159 - val_accuracy: 0.5700 - val_loss: 0.6806\n",
        ])
        var term: [String] = []
        clock.t = 0
        var live = ProgressBar(target: 32, verbose: 1, isTerminal: true, write: { term.append($0) }, clock: { clock.t })
        clock.t = 0.006
        live.update(1, values: [("loss", 0.6414)])
        #expect(term == ["\r 1/32 \u{1B}[1m\u{1B}[0m\u{1B}[2m━━━━━━━━━━━━━━━━━━━━\u{1B}[0m 0s 6ms/step - loss: 0.6414"])
        #expect(ProgressBar.stepTime(0.000056) == "56us/step" && ProgressBar.format(0.00001234) == "1.2340e-05")
    }
}
