import Nabla
import NablaNN

/// `cnn_train`: Adam training steps of Conv(32, 3×3) → ReLU → MaxPool 2 → Conv(64, 3×3) → ReLU →
/// MaxPool 2 → Flatten → Dense 128 → ReLU → Dense 10 on batches of 64 images 28×28×1;
/// 5 warm-up + 60 timed steps.
enum CNNBenchmark {
    static func model() -> Sequential {
        Sequential([
            Conv2D(filters: 32, kernelSize: (3, 3), activation: .relu), MaxPooling2D(),
            Conv2D(filters: 64, kernelSize: (3, 3), activation: .relu), MaxPooling2D(),
            Flatten(), Dense(units: 128, activation: .relu), Dense(units: 10),
        ], inputShape: [28, 28, 1])
    }

    static func run(parallel: DataParallel? = nil) -> BenchResult {
        RandomGenerator.global.seed(0)
        let batch = 64
        let xs = Tensor.randomNormal([batch * 8, 28, 28, 1]), ys = Tensor.randomInt([batch * 8], low: 0, high: 10)
        let net = model()
        let optimizer = Adam(learningRate: 1e-3)
        let parameters = net.trainableParameters
        try! parallel?.prepare(net, samples: batch * 8, batchSize: batch)
        func step(_ i: Int) {
            benchmarkStep(xs, ys, rows: (i % 8) * batch, batch: batch, parameters: parameters, optimizer: optimizer, parallel: parallel) { net($0) }
        }
        for i in 0..<5 { step(i) }
        let steps = 60
        let t = measure(parallel) { for i in 0..<steps { step(i) } }
        return BenchResult(workload: "cnn_train", fields: [("batch", Double(batch)), ("train_samples_per_s", Double(steps * batch) / t)]
                           + (parallel.map { [("ranks", Double($0.size)), ("threads_per_rank", Double(Parallel.threadCount))] } ?? []))
    }
}
