import Nabla
import NablaNN

/// `mlp_small` / `mlp_medium`: Adam training steps of an MLP on 60000×784 standard-normal inputs with
/// random labels (5 warm-up + 400 timed steps), and `_predict1`: one-sample inference latency.
enum MLPBenchmark {
    static func run(name: String, hidden: [Int], batch: Int, parallel: DataParallel? = nil) -> [BenchResult] {
        RandomGenerator.global.seed(0)
        let xs = Tensor.randomNormal([60000, 784]), ys = Tensor.randomInt([60000], low: 0, high: 10)
        var layers: [Layer] = []
        for (i, h) in hidden.enumerated() { layers.append(Dense(units: h, activation: .relu, inputDim: i == 0 ? 784 : nil)) }
        layers.append(Dense(units: 10))
        let model = Sequential(layers)
        let optimizer = Adam(learningRate: 1e-3)
        let parameters = model.trainableParameters
        try! parallel?.prepare(model, samples: 60000, batchSize: batch)
        func step(_ i: Int) {
            benchmarkStep(xs, ys, rows: (i * batch) % (60000 - batch), batch: batch, parameters: parameters, optimizer: optimizer,
                          parallel: parallel) { model($0) }
        }
        for i in 0..<5 { step(i) }
        let steps = 400
        let t = measure(parallel) { for i in 0..<steps { step(i) } }
        var out = [BenchResult(workload: name, fields: [("batch", Double(batch)), ("train_samples_per_s", Double(steps * batch) / t)]
                               + (parallel.map { [("ranks", Double($0.size)), ("threads_per_rank", Double(Parallel.threadCount))] } ?? []))]
        if parallel != nil { return out }
        model.eval()
        let x1 = xs[0..<1]
        var best = Double.infinity
        withNoGrad {
            for _ in 0..<50 { _ = model(x1) }
            for _ in 0..<2000 { best = min(best, measure { _ = model(x1) }) }
        }
        out.append(BenchResult(workload: name + "_predict1", fields: [("latency_us", best * 1e6)]))
        return out
    }
}

/// `seed_keras`: the founding document's program, fit for 100 epochs.
enum SeedKerasBenchmark {
    static func run() -> BenchResult {
        var best = Double.infinity
        for _ in 0..<5 {
            let inputs = Input(shape: [2])
            let hidden = Dense(units: 3, activation: .linear)(inputs)
            let outputs = Dense(units: 1, activation: .linear)(hidden)
            let model = Model(inputs: inputs, outputs: outputs)
            try! model.compile(optimizer: "adam", loss: "mse")
            let x = Tensor([[1, 2], [2, 3], [3, 4]]), y = Tensor([0, 1, 2])
            best = min(best, measure { _ = try! model.fit(x, y, epochs: 100, verbose: 0) })
        }
        return BenchResult(workload: "seed_keras", fields: [("fit_100_epochs_s", best)])
    }
}
