import Foundation
import Nabla

/// Ratings drawn from a known model, for tests and benchmarks where the best achievable error is
/// known: `rating = mean + userBias + itemBias + userFactors · itemFactors + noise`, with items
/// picked with long-tailed (Zipf) popularity as real catalogues have. A perfect model's RMSE is the
/// noise's standard deviation (`noise`), so a test can say how close a trained model came.
///
/// ```swift
/// let data = SyntheticRatings(users: 1_000, items: 500, ratings: 50_000, rank: 4, noise: 0.5, seed: 1).interactions
/// ```
public struct SyntheticRatings: Sendable {
    /// The generated interactions (user and item ids are their indices as strings).
    public let interactions: Interactions
    /// The noise standard deviation: the RMSE floor.
    public let noise: Double

    /// - Parameters:
    ///   - users: the number of users.
    ///   - items: the number of items.
    ///   - ratings: rows to draw (each a distinct user–item pair while possible).
    ///   - rank: the dimension of the true factors.
    ///   - mean: the global mean rating.
    ///   - biasScale: the standard deviation of the user and item biases.
    ///   - factorScale: the standard deviation of each true factor product's contribution.
    ///   - noise: the standard deviation of the Gaussian noise.
    ///   - popularityExponent: items are drawn with probability ∝ 1 / (rank + 1)^exponent.
    ///   - seed: makes the data reproducible.
    public init(users: Int, items: Int, ratings: Int, rank: Int = 4, mean: Double = 3.5, biasScale: Double = 0.5, factorScale: Double = 1,
                noise: Double = 0.5, popularityExponent: Double = 0.8, seed: UInt64 = 0) {
        nablaPrecondition(users > 0 && items > 0 && ratings > 0 && rank > 0, "SyntheticRatings: sizes must be positive")
        let rng = RandomGenerator(seed: seed)
        func normal() -> Double {
            let u1 = Swift.max(rng.nextDouble(), 1e-300), u2 = rng.nextDouble()
            return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
        }
        // Each factor entry has variance factorScale / √rank, so the dot product has variance factorScale².
        let entry = (factorScale / Double(rank).squareRoot()).squareRoot()
        let p = (0..<users * rank).map { _ in normal() * entry }, q = (0..<items * rank).map { _ in normal() * entry }
        let bu = (0..<users).map { _ in normal() * biasScale }, bi = (0..<items).map { _ in normal() * biasScale }
        var running = 0.0
        let cumulative = (0..<items).map { running += 1 / Foundation.pow(Double($0 + 1), popularityExponent); return running }
        var userColumn: [String] = [], itemColumn: [String] = [], values: [Float] = [], used = Set<Int>()
        let distinct = ratings <= users * items / 2
        while values.count < ratings {
            let u = rng.nextInt(below: users)
            let target = rng.nextDouble() * running
            let i = cumulative.firstIndex { $0 > target } ?? items - 1
            if distinct && !used.insert(u * items + i).inserted { continue }
            var r = mean + bu[u] + bi[i] + noise * normal()
            for f in 0..<rank { r += p[u * rank + f] * q[i * rank + f] }
            userColumn.append(String(u)); itemColumn.append(String(i)); values.append(Float(r))
        }
        interactions = Interactions(users: userColumn, items: itemColumn, ratings: values)
        self.noise = noise
    }
}
