import Foundation
import Nabla
import NablaData
import NablaNN

/// `recommend`: biased MF training steps (batch 1024, 32 factors, lazy Adam) on synthetic catalogues
/// of 10k and 1M items with the same 50k users — a step must cost what the batch touches, not the
/// catalogue — and, when ../shared holds it, one training epoch on MovieTweetings 100K's 90% split at
/// fixed settings (32 factors), the figure `scripts/recommend_reference.py` measures for PyTorch and
/// scikit-surprise.
enum RecommendBenchmark {
    static let users = 50_000, batch = 1024, factors = 32

    /// Steps per second over `steps` batches of uniformly drawn pairs.
    static func stepsPerSecond(items: Int, steps: Int = 300) -> Double {
        RandomGenerator.global.seed(1)
        let rng = RandomGenerator(seed: 2)
        let n = steps * batch
        var pairs = [Int32](repeating: 0, count: 2 * n)
        for r in 0..<n { pairs[2 * r] = Int32(rng.nextInt(below: users)); pairs[2 * r + 1] = Int32(rng.nextInt(below: items)) }
        let ratings = (0..<n).map { _ in Float(1 + rng.nextInt(below: 10)) }
        let x = Tensor(shape: [n, 2], values: pairs), y = Tensor(shape: [n], values: ratings)
        let model = MatrixFactorization(users: users, items: items, factors: factors, globalMean: 5.5, factorL2: 0.1, biasL2: 0.1)
        try! model.compile(optimizer: Adam(learningRate: 0.01), loss: MeanSquaredError())
        // One warm-up epoch makes the optimizer's slots and touches the pages of the tables.
        try! model.fit(x[0..<(20 * batch)], y[0..<(20 * batch)], batchSize: batch, epochs: 1, verbose: 0, shuffle: false)
        let start = ContinuousClock.now
        try! model.fit(x, y, batchSize: batch, epochs: 1, verbose: 0, shuffle: false)
        return Double(steps) / seconds(ContinuousClock.now - start)
    }

    static func movieTweetingsEpochMilliseconds() -> Double? {
        let candidates = ["../shared/data/movietweetings/100K/ratings.dat", "shared/data/movietweetings/100K/ratings.dat"]
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }),
              let all = try? Interactions(path: path) else { return nil }
        let (train, _) = all.split(.random(testFraction: 0.1, seed: 42))
        RandomGenerator.global.seed(42)
        let model = MatrixFactorization(users: train.userIDs.count, items: train.itemIDs.count, factors: factors, globalMean: train.meanRating)
        try! model.compile(optimizer: Adam(learningRate: 0.01), loss: MeanSquaredError())
        let (x, y) = (train.pairs, train.ratingTensor)
        try! model.fit(x, y, batchSize: batch, epochs: 1, verbose: 0)
        var times: [Double] = []
        for _ in 0..<10 {
            let start = ContinuousClock.now
            try! model.fit(x, y, batchSize: batch, epochs: 1, verbose: 0)
            times.append(seconds(ContinuousClock.now - start) * 1000)
        }
        return times.sorted()[times.count / 2]
    }

    static func run() -> BenchResult {
        let small = stepsPerSecond(items: 10_000), large = stepsPerSecond(items: 1_000_000)
        var fields = [("steps_per_s_10k_items", small), ("steps_per_s_1m_items", large), ("step_cost_ratio_1m_over_10k", small / large)]
        if let epoch = movieTweetingsEpochMilliseconds() { fields.append(("movietweetings_100k_epoch_ms", epoch)) }
        fields.append(("threads", Double(Parallel.threadCount)))
        return BenchResult(workload: "recommend", fields: fields)
    }

    private static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
}
