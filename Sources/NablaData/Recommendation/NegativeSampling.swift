import Foundation
import Nabla

/// Batches for implicit feedback: every observed (user, item) pair is a positive, and items the
/// user has not interacted with are drawn as negatives, fresh each epoch (as the NCF paper and
/// PyTorch/TF recommenders do). Two shapes of batch:
///
/// - `.pointwise(negatives:)` — rows (user, item) with label 1 for a positive and 0 for each of its
///   `negatives` draws: for binary cross-entropy.
/// - `.pairwise` — rows (user, positive, negative) with label 1: for BPR, where the model scores
///   the positive above the negative (NablaNN's `Recommender` models take both shapes).
///
/// ```swift
/// let batches = NegativeSampler(train, mode: .pointwise(negatives: 4), sampling: .uniform, batchSize: 256)
/// try model.fit(batches, epochs: 10)
/// ```
public final class NegativeSampler: BatchSource, @unchecked Sendable {
    /// What each batch row holds.
    public enum Mode: Sendable, Equatable {
        case pointwise(negatives: Int)
        case pairwise
    }

    /// How negatives are drawn.
    public enum Sampling: Sendable, Equatable {
        /// Every item equally likely.
        case uniform
        /// In proportion to the item's count raised to `exponent` (word2vec's 0.75 flattens the head):
        /// harder negatives, as popular items are the ones a model must learn to rank below a user's.
        case popularity(exponent: Double = 0.75)
    }

    public let mode: Mode
    public let sampling: Sampling
    public let batchSize: Int
    private let users: [Int32], items: [Int32]
    private let seen: [Set<Int32>]
    private let itemCount: Int
    /// Cumulative popularity weights (popularity sampling only).
    private let cumulative: [Double]
    private let generator: RandomGenerator

    /// - Parameters:
    ///   - positives: the observed interactions (ratings, if any, are ignored).
    ///   - mode: rows with labels for cross-entropy, or triples for BPR.
    ///   - sampling: uniform or popularity-weighted negatives.
    ///   - batchSize: positives per batch (a pointwise batch holds `1 + negatives` rows per positive).
    ///   - generator: the random source for shuffling and sampling.
    public init(_ positives: Interactions, mode: Mode = .pointwise(negatives: 4), sampling: Sampling = .uniform, batchSize: Int = 256,
                generator: RandomGenerator = .current) {
        nablaPrecondition(batchSize > 0, "NegativeSampler: batchSize must be positive")
        if case let .pointwise(n) = mode { nablaPrecondition(n >= 0, "NegativeSampler: negatives must be ≥ 0") }
        self.mode = mode
        self.sampling = sampling
        self.batchSize = batchSize
        self.generator = generator
        users = positives.users
        items = positives.items
        seen = positives.itemsByUser()
        itemCount = positives.itemIDs.count
        if case let .popularity(exponent) = sampling {
            var running = 0.0
            cumulative = positives.itemCounts().map { running += Foundation.pow(Double($0), exponent); return running }
        } else {
            cumulative = []
        }
    }

    public var batchCount: Int { (users.count + batchSize - 1) / batchSize }

    /// One negative for `user`: an item it has not interacted with (after 64 rejected draws, for a
    /// user who has seen nearly everything, the last draw stands).
    func negative(for user: Int32) -> Int32 {
        var item: Int32 = 0
        for _ in 0..<64 {
            if cumulative.isEmpty {
                item = Int32(generator.nextInt(below: itemCount))
            } else {
                let target = generator.nextDouble() * cumulative[cumulative.count - 1]
                var lo = 0, hi = cumulative.count - 1
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if cumulative[mid] > target { hi = mid } else { lo = mid + 1 }
                }
                item = Int32(lo)
            }
            if !seen[Int(user)].contains(item) { break }
        }
        return item
    }

    public func epoch() -> AnyIterator<(Tensor, Tensor)> {
        let plan = IndexBatches(count: users.count, batchSize: batchSize).epoch(shuffledBy: generator)
        var batches = plan.makeIterator()
        return AnyIterator { [self] in
            guard let rows = batches.next() else { return nil }
            switch mode {
            case let .pointwise(negatives):
                var x: [Int32] = [], y: [Float] = []
                x.reserveCapacity(rows.count * (1 + negatives) * 2)
                for r in rows {
                    x += [users[r], items[r]]
                    y.append(1)
                    for _ in 0..<negatives {
                        x += [users[r], negative(for: users[r])]
                        y.append(0)
                    }
                }
                return (Tensor(shape: [y.count, 2], values: x), Tensor(shape: [y.count], values: y))
            case .pairwise:
                var x: [Int32] = []
                x.reserveCapacity(rows.count * 3)
                for r in rows { x += [users[r], items[r], negative(for: users[r])] }
                return (Tensor(shape: [rows.count, 3], values: x), Tensor(shape: [rows.count], values: [Float](repeating: 1, count: rows.count)))
            }
        }
    }
}
