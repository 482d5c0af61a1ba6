/// A source of training batches, one pass per epoch: what `Model.fit` accepts besides tensors.
/// NablaData's `DataLoader` is one; any type that can produce (input, target) batches can be.
///
/// ```swift
/// let loader = DataLoader(TensorDataset(x, y), batchSize: 64, shuffle: true)
/// try model.fit(loader, epochs: 10)
/// ```
public protocol BatchSource {
    /// Batches per epoch.
    var batchCount: Int { get }
    /// The batches of one epoch, in order; called once per epoch.
    func epoch() -> AnyIterator<(Tensor, Tensor)>
}

/// How `count` samples split into batches of `batchSize`, one epoch at a time: the one batching path
/// that `Model.fit`, `evaluate`, `predict` and NablaData's `DataLoader` share.
///
/// ```swift
/// let plan = IndexBatches(count: 10, batchSize: 4)
/// plan.epoch(shuffledBy: nil)           // [0..<4, 4..<8, 8..<10] as index slices
/// plan.epoch(shuffledBy: generator)     // a seeded permutation, cut the same way
/// ```
public struct IndexBatches: Sendable {
    public let count: Int
    public let batchSize: Int
    /// Whether a last, smaller batch is left out.
    public let dropLast: Bool

    /// - Parameters:
    ///   - count: the number of samples.
    ///   - batchSize: samples per batch (positive).
    ///   - dropLast: leave out a last batch smaller than `batchSize`.
    public init(count: Int, batchSize: Int, dropLast: Bool = false) {
        nablaPrecondition(batchSize > 0, "IndexBatches: batchSize must be positive, got \(batchSize)")
        nablaPrecondition(count >= 0, "IndexBatches: count must not be negative, got \(count)")
        self.count = count
        self.batchSize = batchSize
        self.dropLast = dropLast
    }

    /// Batches per epoch.
    public var batchCount: Int { dropLast ? count / batchSize : (count + batchSize - 1) / batchSize }

    /// The sample indices of each batch of one epoch: in order, or in a permutation drawn from `generator`.
    /// - Parameters:
    ///   - generator: shuffles the samples when given (one permutation per call).
    public func epoch(shuffledBy generator: RandomGenerator?) -> [ArraySlice<Int>] {
        batches(of: generator.map { $0.permutation(count) } ?? Array(0..<count))
    }

    /// `order` (a permutation of the samples) cut into this plan's batches.
    /// - Parameters:
    ///   - order: the sample indices in the order of the epoch.
    public func batches(of order: [Int]) -> [ArraySlice<Int>] {
        nablaPrecondition(order.count == count, "IndexBatches: an order of \(order.count) samples for a plan of \(count)")
        return (0..<batchCount).map { b in order[(b * batchSize)..<Swift.min((b + 1) * batchSize, count)] }
    }
}
