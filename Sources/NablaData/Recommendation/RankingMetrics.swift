import Foundation
import Nabla

/// The ranking figures recommender papers report, averaged over test users: hit rate, NDCG, recall
/// and MAP at K, and catalogue coverage (the share of all items that appear in some top K).
///
/// Two protocols:
/// - ``sampled(test:train:negatives:k:seed:score:)`` — the NCF paper's: each held-out item ranked
///   against `negatives` (99) items the user never interacted with.
/// - ``fullRanking(test:train:k:score:)`` — each user's held-out items ranked against the whole
///   catalogue.
///
/// In both, items a user interacted with in training are never ranked. A model's ties count
/// against it: an item ranks below every other item with the same or a higher score, so that a
/// model that scores everything alike gets no credit.
///
/// ```swift
/// let m = RankingMetrics.sampled(test: test, train: train, k: 10) { users, items in
///     recommender.scores(users: users, items: items)
/// }
/// print(m.hitRate, m.ndcg)        // HR@10, NDCG@10
/// ```
public struct RankingMetrics: Sendable, Equatable, CustomStringConvertible {
    /// The cut-off K.
    public let k: Int
    /// Users evaluated.
    public let users: Int
    /// Share of users with at least one held-out item in their top K (HR@K).
    public let hitRate: Double
    /// Mean normalised discounted cumulative gain at K (binary relevance, log₂ discount).
    public let ndcg: Double
    /// Mean share of a user's held-out items found in the top K.
    public let recall: Double
    /// Mean average precision at K (normalised by min(relevant, K)).
    public let map: Double
    /// Distinct items in all top-K lists over the catalogue size.
    public let coverage: Double

    public var description: String {
        String(format: "hr@%d: %.4f  ndcg@%d: %.4f  recall@%d: %.4f  map@%d: %.4f  coverage: %.4f", k, hitRate, k, ndcg, k, recall, k, map, coverage)
    }

    /// The figures for one user, given where its relevant items rank (0 = top) among the candidates.
    ///
    /// - Parameters:
    ///   - ranks: the 0-based rank of each relevant item.
    ///   - k: the cut-off.
    static func userFigures(ranks: [Int], k: Int) -> (hit: Double, ndcg: Double, recall: Double, ap: Double) {
        guard !ranks.isEmpty else { return (0, 0, 0, 0) }
        let inTop = ranks.filter { $0 < k }.sorted()
        let dcg = inTop.reduce(0.0) { $0 + 1 / log2(Double($1) + 2) }
        let ideal = (0..<Swift.min(ranks.count, k)).reduce(0.0) { $0 + 1 / log2(Double($1) + 2) }
        var ap = 0.0
        for (found, rank) in inTop.enumerated() { ap += Double(found + 1) / Double(rank + 1) }
        return (inTop.isEmpty ? 0 : 1, dcg / ideal, Double(inTop.count) / Double(ranks.count), ap / Double(Swift.min(ranks.count, k)))
    }

    /// Averages per-user figures.
    static func average(_ figures: [(hit: Double, ndcg: Double, recall: Double, ap: Double)], k: Int, recommended: Set<Int32>, catalogue: Int) -> RankingMetrics {
        let n = Double(Swift.max(figures.count, 1))
        return RankingMetrics(k: k, users: figures.count, hitRate: figures.reduce(0) { $0 + $1.hit } / n, ndcg: figures.reduce(0) { $0 + $1.ndcg } / n,
                              recall: figures.reduce(0) { $0 + $1.recall } / n, map: figures.reduce(0) { $0 + $1.ap } / n,
                              coverage: Double(recommended.count) / Double(Swift.max(catalogue, 1)))
    }

    /// The rank of candidate `target` among `scores` (0 = top), ties counted against it.
    static func rank(of target: Int, in scores: [Float]) -> Int {
        let s = scores[target]
        var above = 0
        for (j, v) in scores.enumerated() where j != target && !(v < s) { above += 1 }   // NaN ranks last
        return above
    }

    /// The top `k` candidates by score (ties broken by position).
    static func top(_ k: Int, of scores: [Float]) -> [Int] {
        Array(scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }.prefix(k))
    }

    /// The NCF protocol: each test interaction's item ranked against `negatives` items drawn
    /// uniformly from those the user never interacted with (in training or test).
    ///
    /// - Parameters:
    ///   - test: held-out interactions (one per user under leave-last-out).
    ///   - train: the training interactions (sharing the test set's id indices).
    ///   - negatives: sampled items per test interaction (99 in the paper).
    ///   - k: the cut-off.
    ///   - seed: seeds the negative draws, so that models compare on the same candidates.
    ///   - score: the model's scores for (user, item) index pairs.
    public static func sampled(test: Interactions, train: Interactions, negatives: Int = 99, k: Int = 10, seed: UInt64 = 0,
                               score: (_ users: [Int32], _ items: [Int32]) -> [Float]) -> RankingMetrics {
        let catalogue = Swift.max(train.itemIDs.count, test.itemIDs.count)
        var seen = train.itemsByUser()
        if seen.count < test.userIDs.count { seen += [Set<Int32>](repeating: [], count: test.userIDs.count - seen.count) }
        for (u, i) in zip(test.users, test.items) { seen[Int(u)].insert(i) }
        let rng = RandomGenerator(seed: seed)
        var users: [Int32] = [], items: [Int32] = [], starts: [Int] = []
        users.reserveCapacity(test.count * (negatives + 1))
        items.reserveCapacity(test.count * (negatives + 1))
        for (u, i) in zip(test.users, test.items) {
            starts.append(users.count)
            users.append(u); items.append(i)
            // A user who has seen nearly the whole catalogue gets every unseen item instead.
            let wanted = Swift.min(negatives, catalogue - seen[Int(u)].count)
            var drawn = Set<Int32>()
            while drawn.count < wanted {
                let j = Int32(rng.nextInt(below: catalogue))
                if !seen[Int(u)].contains(j) && drawn.insert(j).inserted { users.append(u); items.append(j) }
            }
        }
        starts.append(users.count)
        let all = score(users, items)
        var figures: [(hit: Double, ndcg: Double, recall: Double, ap: Double)] = [], recommended = Set<Int32>()
        for t in 0..<test.count {
            let candidates = Array(all[starts[t]..<starts[t + 1]])
            figures.append(userFigures(ranks: [rank(of: 0, in: candidates)], k: k))
            for c in top(k, of: candidates) { recommended.insert(items[starts[t] + c]) }
        }
        return average(figures, k: k, recommended: recommended, catalogue: catalogue)
    }

    /// Full ranking: each test user's held-out items ranked against every item the user did not
    /// interact with in training.
    ///
    /// - Parameters:
    ///   - test: held-out interactions (any number per user).
    ///   - train: the training interactions (sharing the test set's id indices).
    ///   - k: the cut-off.
    ///   - score: the model's scores for (user, item) index pairs.
    public static func fullRanking(test: Interactions, train: Interactions, k: Int = 10,
                                   score: (_ users: [Int32], _ items: [Int32]) -> [Float]) -> RankingMetrics {
        let catalogue = Swift.max(train.itemIDs.count, test.itemIDs.count)
        let seen = train.itemsByUser()
        var relevant: [Int32: Set<Int32>] = [:]
        for (u, i) in zip(test.users, test.items) where Int(u) >= seen.count || !seen[Int(u)].contains(i) { relevant[u, default: []].insert(i) }
        var figures: [(hit: Double, ndcg: Double, recall: Double, ap: Double)] = [], recommended = Set<Int32>()
        let everything = (0..<Int32(catalogue)).map { $0 }
        for u in relevant.keys.sorted() {
            let excluded = Int(u) < seen.count ? seen[Int(u)] : []
            let candidates = everything.filter { !excluded.contains($0) }
            let scores = score([Int32](repeating: u, count: candidates.count), candidates)
            let position = Dictionary(uniqueKeysWithValues: candidates.enumerated().map { ($1, $0) })
            figures.append(userFigures(ranks: relevant[u]!.map { rank(of: position[$0]!, in: scores) }, k: k))
            for c in top(k, of: scores) { recommended.insert(candidates[c]) }
        }
        return average(figures, k: k, recommended: recommended, catalogue: catalogue)
    }

    /// The popularity baseline's scores (an item's training count, the same for every user): the
    /// bar a personalised model must clear.
    ///
    /// - Parameter train: the training interactions.
    public static func popularityScorer(_ train: Interactions) -> (_ users: [Int32], _ items: [Int32]) -> [Float] {
        let counts = train.itemCounts()
        return { _, items in items.map { Int($0) < counts.count ? Float(counts[Int($0)]) : 0 } }
    }
}

/// Root mean squared and mean absolute error of predicted ratings, the figures rating-prediction
/// results are reported in.
///
/// ```swift
/// let (rmse, mae) = ratingErrors(predicted: [3.5, 4], actual: [3, 5])   // (0.7906, 0.75)
/// ```
///
/// - Parameters:
///   - predicted: the model's ratings.
///   - actual: the true ratings.
public func ratingErrors(predicted: [Float], actual: [Float]) -> (rmse: Double, mae: Double) {
    nablaPrecondition(predicted.count == actual.count && !actual.isEmpty, "ratingErrors: \(predicted.count) predictions for \(actual.count) ratings")
    var squared = 0.0, absolute = 0.0
    for (p, a) in zip(predicted, actual) {
        let e = Double(p) - Double(a)
        squared += e * e
        absolute += Swift.abs(e)
    }
    return ((squared / Double(actual.count)).squareRoot(), absolute / Double(actual.count))
}
