import Foundation
import Nabla

/// A data set that can produce any batch of its samples.
public protocol Dataset {
    var count: Int { get }
    /// The samples at `indices`, stacked: (inputs, targets).
    func batch(_ indices: [Int]) -> (Tensor, Tensor)
}

/// A data set held in two tensors whose first dimension indexes samples, with an optional
/// transform of each input batch (augmentation).
public struct TensorDataset: Dataset, @unchecked Sendable {
    public let x: Tensor, y: Tensor
    public let transform: ((Tensor) -> Tensor)?

    /// - Parameters:
    ///   - x: inputs, samples along the first axis.
    ///   - y: targets, one per sample.
    ///   - transform: applied to each input batch (augmentation).
    public init(_ x: Tensor, _ y: Tensor, transform: ((Tensor) -> Tensor)? = nil) {
        nablaPrecondition(x.shape.first == y.shape.first, "TensorDataset: \(x.shape.first ?? 0) inputs but \(y.shape.first ?? 0) targets")
        self.x = x
        self.y = y
        self.transform = transform
    }

    public var count: Int { x.shape.first ?? 0 }

    public func batch(_ indices: [Int]) -> (Tensor, Tensor) {
        let idx = Tensor(values: indices.map { Int32($0) })
        let xb = x.indexSelect(idx)
        return (transform.map { $0(xb) } ?? xb, y.indexSelect(idx))
    }
}

/// Batches of a data set for training: seeded shuffling, optional drop-last, and the next batch
/// prepared on a background thread while the current one trains.
///
/// ```swift
/// let loader = DataLoader(TensorDataset(images, labels), batchSize: 64, shuffle: true, seed: 1)
/// for (x, y) in loader.epoch() { ... }
/// ```
public final class DataLoader: BatchSource, @unchecked Sendable {
    public let dataset: any Dataset
    public let batchSize: Int
    public let shuffle: Bool
    public let dropLast: Bool
    public let prefetch: Bool
    /// Shuffling draws from this generator (the current one at each epoch unless a seed is given),
    /// so a seed reproduces the order, and resuming from a checkpoint's generator state continues it.
    public var generator: RandomGenerator { own ?? .current }
    private let own: RandomGenerator?

    /// - Parameters:
    ///   - dataset: the samples.
    ///   - batchSize: samples per batch.
    ///   - shuffle: reorder the samples each epoch.
    ///   - dropLast: leave out a last, smaller batch.
    ///   - prefetch: prepare the next batch on a background thread.
    ///   - seed: a generator of the loader's own (otherwise the current one).
    public init(_ dataset: any Dataset, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false, prefetch: Bool = true,
                seed: UInt64? = nil) {
        nablaPrecondition(batchSize > 0, "DataLoader: batchSize must be positive, got \(batchSize)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.prefetch = prefetch
        self.own = seed.map { RandomGenerator(seed: $0) }
    }

    /// The batching shared with `Model.fit`.
    var plan: IndexBatches { IndexBatches(count: dataset.count, batchSize: batchSize, dropLast: dropLast) }

    public var batchCount: Int { plan.batchCount }

    public func epoch() -> AnyIterator<(Tensor, Tensor)> {
        let batches = plan.epoch(shuffledBy: shuffle ? generator : nil).map { Array($0) }
        var next = 0
        guard prefetch else {
            return AnyIterator {
                guard next < batches.count else { return nil }
                defer { next += 1 }
                return self.dataset.batch(batches[next])
            }
        }
        // One batch ahead on a background queue.
        let queue = DispatchQueue(label: "nabla.dataloader")
        var pending: DispatchWorkItem?
        var result: (Tensor, Tensor)?
        let lock = NSLock()
        func schedule(_ i: Int) {
            guard i < batches.count else { pending = nil; return }
            let item = DispatchWorkItem {
                let b = self.dataset.batch(batches[i])
                lock.lock(); result = b; lock.unlock()
            }
            pending = item
            queue.async(execute: item)
        }
        schedule(0)
        return AnyIterator {
            guard next < batches.count, let item = pending else { return nil }
            item.wait()
            lock.lock(); let b = result!; lock.unlock()
            next += 1
            schedule(next)
            return b
        }
    }
}

/// Random image augmentation for channels-last batches [N, H, W, C]: shifts of up to `maxShift`
/// pixels, optional horizontal flips, and rotations of up to `maxRotation` degrees (nearest
/// neighbour, zeros outside), each sample drawn independently.
///
/// ```swift
/// let augment = ImageAugmentation(maxShift: 2, maxRotation: 10)
/// let dataset = TensorDataset(images, labels, transform: augment.callAsFunction)
/// ```
public struct ImageAugmentation: Sendable {
    public let maxShift: Int
    public let horizontalFlip: Bool
    public let maxRotation: Double
    private let own: RandomGenerator?
    /// The generator of the random choices (the thread's current one unless given).
    public var generator: RandomGenerator { own ?? .current }

    public init(maxShift: Int = 0, horizontalFlip: Bool = false, maxRotation: Double = 0, generator: RandomGenerator? = nil) {
        self.maxShift = maxShift
        self.horizontalFlip = horizontalFlip
        self.maxRotation = maxRotation
        self.own = generator
    }

    public func callAsFunction(_ batch: Tensor) -> Tensor {
        nablaPrecondition(batch.rank == 4, "ImageAugmentation: needs [batch, height, width, channels], got \(batch.shape)")
        let (n, h, w, c) = (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3])
        let src = batch.cast(to: .float32).toArray(Float.self)
        var out = [Float](repeating: 0, count: src.count)
        let cy = Double(h - 1) / 2, cx = Double(w - 1) / 2
        for b in 0..<n {
            let dy = maxShift > 0 ? generator.nextInt(below: 2 * maxShift + 1) - maxShift : 0
            let dx = maxShift > 0 ? generator.nextInt(below: 2 * maxShift + 1) - maxShift : 0
            let flip = horizontalFlip && generator.nextDouble() < 0.5
            let angle = maxRotation > 0 ? (generator.nextDouble() * 2 - 1) * maxRotation * Double.pi / 180 : 0
            let (cosA, sinA) = (cos(angle), sin(angle))
            for y in 0..<h {
                for x in 0..<w {
                    // Inverse map: where in the source does output pixel (y, x) come from?
                    let ry = Double(y - dy) - cy, rx = Double(x - dx) - cx
                    let sy = Int((cosA * ry - sinA * rx + cy).rounded())
                    var sx = Int((sinA * ry + cosA * rx + cx).rounded())
                    if flip { sx = w - 1 - sx }
                    guard sy >= 0 && sy < h && sx >= 0 && sx < w else { continue }
                    let o = ((b * h + y) * w + x) * c, s = ((b * h + sy) * w + sx) * c
                    for ch in 0..<c { out[o + ch] = src[s + ch] }
                }
            }
        }
        return Tensor(shape: batch.shape, values: out).cast(to: batch.dtype)
    }
}
