import Foundation
import Nabla
import NablaNN
import Testing

@Suite("NABLA_PROFILE: where a training step's time goes", .serialized)
struct ProfilerTests {
    @Test("fit records each leaf layer's forward, each op's backward, the loss, the optimizer and the data, once each")
    func table() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 3))
        let model = Sequential([Dense(units: 16, activation: .relu, inputDim: 4), Dropout(rate: 0.1), Dense(units: 3)])
        try model.compile(optimizer: "adam", loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
        let x = Tensor.randomNormal([64, 4]), y = Tensor.randomInt([64], low: 0, high: 3)
        let wasEnabled = Profiler.isEnabled
        Profiler.isEnabled = true
        Profiler.reset()
        defer { Profiler.isEnabled = wasEnabled; Profiler.reset() }
        try model.fit(x, y, batchSize: 16, epochs: 2, verbose: 0)
        let rows = Dictionary(uniqueKeysWithValues: Profiler.rows.map { ($0.name, $0.calls) })
        #expect(rows["Dense forward"] == 16, "2 Dense layers × 8 steps: \(rows)")
        #expect(rows["Dropout forward"] == 8 && rows["adam step"] == 8 && rows["loss forward"] == 8 && rows["metrics"] == 8)
        #expect(rows["next batch"] == 10, "8 batches and the end of each epoch: \(rows)")
        // The ReLU layer's linear op carries its activation (linear_relu); the output layer's does not.
        #expect(rows["linear_relu backward"] == 8 && rows["linear backward"] == 8 && rows["cross_entropy backward"] == 8, "\(rows)")
        #expect(rows["Sequential forward"] == nil, "a model made of layers is not counted on top of them")
        let report = Profiler.report()
        #expect(report.hasPrefix("NABLA_PROFILE: ") && report.contains("Dense forward") && report.contains("%"))
        let shares = report.split(separator: "\n").dropFirst(2).compactMap { $0.split(separator: " ").last.flatMap { Double($0.dropLast()) } }
        #expect(Swift.abs(shares.reduce(0, +) - 100) < 0.5 * Double(shares.count), "\(report)")
    }
}
