import Foundation
import Nabla
import NablaNN
import Testing

@Suite("Losses against PyTorch and NumPy")
struct LossTests {
    let f = NNFixtures.group("losses")
    var expected: [String: Double] { (f["values"] as! [String: Any]).mapValues { ($0 as! NSNumber).doubleValue } }

    @Test("every loss, with and without logits")
    func values() {
        let yt = NNFixtures.tensor(f["y_true"]), yp = NNFixtures.tensor(f["y_pred"])
        let yb = NNFixtures.tensor(f["y_binary"]), lb = NNFixtures.tensor(f["logits_binary"]), pb = NNFixtures.tensor(f["probs_binary"])
        let labels = Tensor(NNFixtures.numbers(f["labels"]), dtype: .int32)
        let logits = NNFixtures.tensor(f["logits"]), probs = NNFixtures.tensor(f["probs"])
        let onehot = oneHot(labels, depth: 4, dtype: .float64)
        let cases: [(String, Tensor)] = [
            ("mse", MeanSquaredError()(yt, yp)),
            ("mae", MeanAbsoluteError()(yt, yp)),
            ("huber", Huber()(yt, yp)),
            ("bce", BinaryCrossentropy()(yb, pb)),
            ("bce_logits", BinaryCrossentropy(fromLogits: true)(yb, lb)),
            ("cce", CategoricalCrossentropy()(onehot, probs)),
            ("cce_logits", CategoricalCrossentropy(fromLogits: true)(onehot, logits)),
            ("scce", SparseCategoricalCrossentropy()(labels, probs)),
            ("scce_logits", SparseCategoricalCrossentropy(fromLogits: true)(labels, logits)),
            ("kld", KLDivergence()(NNFixtures.tensor(f["target_dist"]), probs)),
        ]
        let exp = expected
        for (name, value) in cases {
            #expect(Swift.abs(value.item(Double.self) - exp[name]!) < 1e-9, "\(name): \(value.item(Double.self)) vs \(exp[name]!)")
        }
    }

    @Test("reductions and Keras's rank matching")
    func reductions() throws {
        let yt = Tensor([0, 1, 2]), yp = Tensor([[0.5], [1], [4]])
        #expect(MeanSquaredError(reduction: .none)(yt, yp).toArray(Float.self) == [0.25, 0, 4])
        #expect(MeanSquaredError(reduction: .sum)(yt, yp).item(Float.self) == 4.25)
        #expect(Swift.abs(MeanSquaredError()(yt, yp).item(Float.self) - 4.25 / 3) < 1e-6)
        #expect(throws: NablaError.unknownName(kind: "loss", name: "mse2", valid: ["binary_crossentropy", "bpr", "categorical_crossentropy", "huber", "kl_divergence", "kld", "mae", "mean_absolute_error", "mean_squared_error", "mse", "sparse_categorical_crossentropy"])) {
            try Losses.named("mse2")
        }
    }

    @Test("from-logits losses are stable for large logits")
    func stability() {
        let logits = Tensor([[1000, -1000, 0]], dtype: .float64)
        let l = SparseCategoricalCrossentropy(fromLogits: true)(Tensor([1], dtype: .int32), logits).item(Double.self)
        #expect(Swift.abs(l - 2000) < 1e-9)
        let b = BinaryCrossentropy(fromLogits: true)(Tensor([[0]], dtype: .float64), Tensor([[800]], dtype: .float64)).item(Double.self)
        #expect(Swift.abs(b - 800) < 1e-9)
    }
}


@Suite("Optimizers follow Keras's update rules")
struct OptimizerTests {
    let f = NNFixtures.group("optimizers")

    /// Six steps on f(p) = Σ ½·c·p² + d·p, gradients by autograd, against the NumPy trajectory.
    func trajectory(_ optimizer: Optimizer) -> Tensor {
        let p = Parameter(NNFixtures.tensor(f["p0"]))
        let c = NNFixtures.tensor(f["c"]), d = NNFixtures.tensor(f["d"])
        var rows: [Tensor] = []
        for _ in 0..<6 {
            let loss = (c * square(p.value) * 0.5 + d * p.value).sum()
            loss.backward()
            optimizer.apply(to: [p])
            rows.append(p.value.detached().copy())
        }
        return stack(rows)
    }

    @Test("each optimizer's trajectory", arguments: ["sgd", "sgd_momentum", "sgd_nesterov", "sgd_weight_decay", "adam", "adamw", "rmsprop", "rmsprop_momentum", "adagrad"])
    func trajectories(_ name: String) {
        let optimizer: Optimizer = switch name {
        case "sgd": SGD(learningRate: 0.1)
        case "sgd_momentum": SGD(learningRate: 0.1, momentum: 0.9)
        case "sgd_nesterov": SGD(learningRate: 0.1, momentum: 0.9, nesterov: true)
        case "sgd_weight_decay": SGD(learningRate: 0.1, weightDecay: 0.01)
        case "adam": Adam(learningRate: 0.1)
        case "adamw": AdamW(learningRate: 0.1)
        case "rmsprop": RMSprop(learningRate: 0.1)
        case "rmsprop_momentum": RMSprop(learningRate: 0.1, momentum: 0.5)
        default: Adagrad(learningRate: 0.1)
        }
        let expected = NNFixtures.tensor((f["trajectories"] as! [String: Any])[name])
        #expect(maxDifference(trajectory(optimizer), expected) < 1e-10)
    }

    @Test("float32 Adam (the vectorised kernel) follows the float64 trajectory")
    func adamFloat32() {
        let p = Parameter(NNFixtures.tensor(f["p0"], dtype: .float32))
        let c = NNFixtures.tensor(f["c"], dtype: .float32), d = NNFixtures.tensor(f["d"], dtype: .float32)
        let adam = Adam(learningRate: 0.1)
        for _ in 0..<6 {
            (c * square(p.value) * 0.5 + d * p.value).sum().backward()
            adam.apply(to: [p])
        }
        let expected = NNFixtures.tensor((f["trajectories"] as! [String: Any])["adam"])[5]
        #expect(maxDifference(p.value.cast(to: .float64), expected) < 1e-5)
    }

    @Test("state can be saved and restored mid-run")
    func stateRoundTrip() throws {
        func makeParam() -> Parameter { Parameter(NNFixtures.tensor(f["p0"])) }
        let c = NNFixtures.tensor(f["c"]), d = NNFixtures.tensor(f["d"])
        func step(_ p: Parameter, _ o: Optimizer) {
            (c * square(p.value) * 0.5 + d * p.value).sum().backward()
            o.apply(to: [p])
        }
        let p1 = makeParam(), o1 = Adam(learningRate: 0.1)
        for _ in 0..<3 { step(p1, o1) }
        let saved = o1.state(for: [p1]), savedValue = p1.value.copy()
        for _ in 0..<3 { step(p1, o1) }
        let p2 = makeParam(), o2 = Adam(learningRate: 0.1)
        p2.assign(savedValue)
        try o2.loadState(saved, for: [p2])
        #expect(o2.iterations == 3)
        for _ in 0..<3 { step(p2, o2) }
        #expect(maxDifference(p1.value, p2.value) == 0)
        #expect(throws: NablaError.self) { try o2.loadState(["0.0": Tensor.zeros([2], dtype: .float64)], for: [p2]) }
    }

    @Test("gradient clipping by value, by norm and by global norm")
    func clipping() {
        let p = Parameter(Tensor([0, 0], dtype: .float64)), q = Parameter(Tensor([0], dtype: .float64))
        let sgd = SGD(learningRate: 1)
        sgd.clipValue = 0.5
        p.value.setGrad(Tensor([3, -0.25], dtype: .float64))
        sgd.apply(to: [p])
        #expect(p.value.toArray(Double.self) == [-0.5, 0.25])
        let byNorm = SGD(learningRate: 1)
        byNorm.clipNorm = 1
        p.assign(Tensor([0, 0], dtype: .float64))
        p.value.setGrad(Tensor([3, 4], dtype: .float64))
        byNorm.apply(to: [p])
        #expect(maxDifference(p.value, Tensor([-0.6, -0.8], dtype: .float64)) < 1e-12)
        let global = SGD(learningRate: 1)
        global.globalClipNorm = 2.5
        p.assign(Tensor([0, 0], dtype: .float64))
        p.value.setGrad(Tensor([3, 0], dtype: .float64))
        q.value.setGrad(Tensor([4], dtype: .float64))
        global.apply(to: [p, q])
        #expect(maxDifference(p.value, Tensor([-1.5, 0], dtype: .float64)) < 1e-12)
        #expect(maxDifference(q.value, Tensor([-2], dtype: .float64)) < 1e-12)
    }

    @Test("learning-rate schedules")
    func schedules() {
        let exp = ExponentialDecay(initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5)
        #expect(Swift.abs(exp(10) - 0.05) < 1e-12 && Swift.abs(exp(5) - 0.1 * 0.5.squareRoot()) < 1e-12)
        #expect(ExponentialDecay(initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true)(15) == 0.05)
        #expect(Swift.abs(StepDecay(initialLearningRate: 1, stepSize: 3, factor: 0.1)(7) - 0.01) < 1e-12)
        let cosine = CosineDecay(initialLearningRate: 1e-4, decaySteps: 1900, alpha: 0.1, warmupTarget: 1e-3, warmupSteps: 100)
        #expect(Swift.abs(cosine(0) - 1e-4) < 1e-15)
        #expect(Swift.abs(cosine(50) - 5.5e-4) < 1e-12)
        #expect(Swift.abs(cosine(100) - 1e-3) < 1e-12)
        #expect(Swift.abs(cosine(2000) - 1e-4) < 1e-12)
        let sgd = SGD(learningRate: 1)
        sgd.schedule = StepDecay(initialLearningRate: 1, stepSize: 1, factor: 0.5)
        let p = Parameter(Tensor([0], dtype: .float64))
        for _ in 0..<3 { p.value.setGrad(Tensor([1], dtype: .float64)); sgd.apply(to: [p]) }
        #expect(p.value.item(Double.self) == -(1 + 0.5 + 0.25))
    }

    @Test("names resolve to Keras's defaults; unknown names list the valid ones")
    func names() throws {
        let adam = try Optimizer.named("adam") as! Adam
        #expect(adam.learningRate == 0.001 && adam.epsilon == 1e-7 && adam.beta2 == 0.999)
        #expect((try Optimizer.named("sgd")).learningRate == 0.01)
        #expect((try Optimizer.named("adamw")).weightDecay == 0.004)
        #expect(throws: NablaError.unknownName(kind: "optimizer", name: "adma", valid: ["adagrad", "adam", "adamw", "rmsprop", "sgd"])) {
            try Optimizer.named("adma")
        }
    }
}

@Suite("Metrics")
struct MetricTests {
    @Test("accuracies, top-k, regression metrics")
    func basics() {
        let labels = Tensor([0, 2, 1, 1], dtype: .int32)
        let logits = Tensor([[3, 1, 0], [0, 1, 2], [5, 4, 0], [0, 9, 1]])
        let acc = SparseCategoricalAccuracy()
        acc.update(labels, logits)
        #expect(acc.result() == 0.75)
        let top2 = TopKCategoricalAccuracy(k: 2)
        top2.update(labels, logits)
        #expect(top2.result() == 1)
        let cat = CategoricalAccuracy()
        cat.update(oneHot(labels, depth: 3), logits)
        #expect(cat.result() == 0.75)
        let bin = BinaryAccuracy()
        bin.update(Tensor([1, 0, 1]), Tensor([[0.9], [0.2], [0.4]]))
        #expect(Swift.abs(bin.result() - 2.0 / 3) < 1e-12)
        let rmse = RootMeanSquaredError()
        rmse.update(Tensor([[0], [0]]), Tensor([[3], [4]]))
        #expect(Swift.abs(rmse.result() - 12.5.squareRoot()) < 1e-6)
        let mae = MeanAbsoluteErrorMetric()
        mae.update(Tensor([[1], [1]]), Tensor([[0], [3]]))
        #expect(mae.result() == 1.5)
        mae.reset()
        #expect(mae.result() == 0)
    }

    @Test("precision, recall and AUC against exact values")
    func classification() {
        let f = NNFixtures.group("metrics")
        let scores = Tensor(NNFixtures.numbers(f["scores"]), dtype: .float64).reshaped([-1, 1])
        let truth = Tensor(NNFixtures.numbers(f["truth"]), dtype: .float64)
        let precision = Precision(), recall = Recall(), auc = AUC()
        for m in [precision, recall, auc] as [Metric] {
            m.update(truth[0..<100], scores[0..<100])
            m.update(truth[100...], scores[100...])
        }
        #expect(Swift.abs(precision.result() - (f["precision"] as! NSNumber).doubleValue) < 1e-12)
        #expect(Swift.abs(recall.result() - (f["recall"] as! NSNumber).doubleValue) < 1e-12)
        // 200 thresholds approximate the exact rank statistic to within about 1/200.
        #expect(Swift.abs(auc.result() - (f["auc"] as! NSNumber).doubleValue) < 5e-3)
    }

    @Test("\"accuracy\" resolves as Keras does")
    func resolution() throws {
        #expect(try Metric.named("accuracy", loss: SparseCategoricalCrossentropy(), outputUnits: 10) is SparseCategoricalAccuracy)
        #expect(try Metric.named("accuracy", loss: CategoricalCrossentropy(), outputUnits: 10) is CategoricalAccuracy)
        #expect(try Metric.named("accuracy", loss: MeanSquaredError(), outputUnits: 1) is BinaryAccuracy)
        #expect(throws: NablaError.self) { try Metric.named("acuracy", loss: nil, outputUnits: nil) }
    }

    @Test("weight decay applies only where the filter says (nanoGPT decays matrices, not vectors)")
    func decayFilter() {
        let sgd = SGD(learningRate: 0.1, weightDecay: 0.5)
        sgd.decays = { $0.value.rank >= 2 }
        let matrix = Parameter(Tensor([[1, 1]], dtype: .float64)), vector = Parameter(Tensor([1, 1], dtype: .float64))
        for p in [matrix, vector] { p.value.setGrad(Tensor.zeros(p.shape, dtype: .float64)) }
        sgd.apply(to: [matrix, vector])
        #expect(matrix.value.toArray(Double.self) == [0.95, 0.95])
        #expect(vector.value.toArray(Double.self) == [1, 1])
    }
}
