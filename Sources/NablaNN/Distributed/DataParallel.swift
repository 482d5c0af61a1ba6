import Foundation
import Nabla

/// Data-parallel training across processes, as PyTorch's DistributedDataParallel and Horovod do it:
/// every rank holds a replica of the model, starts from rank 0's parameters, trains on its shard of
/// each global batch, and before every optimizer step the gradients are averaged over all ranks — in
/// buckets that start reducing while the backward pass is still running. The global batch and its
/// order are the same as in one process, so N processes follow one process's trajectory up to the
/// order of floating-point sums.
///
/// `fit` takes it with one argument; a custom loop uses the same pieces (``prepare(_:samples:batchSize:)``,
/// ``shard(_:)``, ``backward(_:parameters:localCount:globalCount:)``):
///
/// ```swift
/// let parallel = DataParallel(try MPICommunicator())
/// try model.fit(x, y, batchSize: 256, epochs: 10, verbose: parallel.isPrimary ? 1 : 0, distributed: parallel)
/// ```
public final class DataParallel {
    public let communicator: Communicator
    /// The size of a gradient bucket (PyTorch DDP's `bucket_cap_mb`): smaller buckets start
    /// communicating earlier in the backward pass, larger ones make fewer calls.
    public let bucketBytes: Int
    /// After every step, check that all ranks hold bit-identical parameters (a debugging aid; costs a
    /// pass over the parameters and one small collective per step). A difference stops every rank
    /// with a message naming the step.
    public var verifyReplicas = false
    private var steps = 0
    private var plan: [[Int]] = []
    private var buffers: [Tensor] = []
    private var planKey: [ObjectIdentifier] = []

    /// - Parameters:
    ///   - communicator: the process group (`MPICommunicator` under `mpirun`).
    ///   - bucketBytes: the gradient bytes reduced together (1 MiB by default, DDP's first bucket).
    public init(_ communicator: Communicator, bucketBytes: Int = 1 << 20) {
        nablaPrecondition(bucketBytes > 0, "DataParallel: bucketBytes must be positive")
        self.communicator = communicator
        self.bucketBytes = bucketBytes
    }

    public var rank: Int { communicator.rank }
    public var size: Int { communicator.size }
    /// Whether this is rank 0: the one that prints, logs, checkpoints and saves.
    public var isPrimary: Bool { communicator.rank == 0 }

    /// Checks that every rank runs the same model on the same data, then gives every rank rank 0's
    /// parameters (and optimizer state, when restored from a checkpoint, stays each rank's own copy of
    /// the same file). A rank that differs is reported on every rank, before any step.
    ///
    /// - Parameters:
    ///   - model: this rank's replica.
    ///   - samples: the number of training samples this rank sees in total (the whole set, before sharding).
    ///   - batchSize: the global batch size.
    public func prepare(_ model: Model, samples: Int, batchSize: Int) throws(NablaError) {
        // Layer types and settings, not names (names count up per process), with sorted keys (a
        // dictionary's order differs between processes: Swift seeds its hashing per process).
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let architecture = ([model] + model.layers).map { layer in
            layer.typeName + ((try? encoder.encode(layer.config)).map { String(decoding: $0, as: UTF8.self) } ?? "")
        }.joined(separator: ";")
        let shapes = model.namedParameters().map { "\($0.name)\($0.parameter.shape)\($0.parameter.value.dtype)" }.joined(separator: ";")
        let description = "\(architecture)|\(shapes)|samples \(samples)|batch \(batchSize)"
        let mine = Double(Self.fingerprint(description.utf8) >> 12)   // 52 bits: exact in a double
        // Each rank puts its fingerprint in its own slot; the sum gives every rank all of them.
        let all = communicator.sum(Array(repeating: 0, count: rank) + [mine] + Array(repeating: 0, count: size - rank - 1))
        if Set(all).count > 1 {
            let differing = all.enumerated().filter { $0.element != all[0] }.map(\.offset)
            throw .invalidState("distributed: the ranks do not run the same model on the same data (ranks \(differing.map(String.init).joined(separator: ", ")) "
                                + "differ from rank 0 in the architecture, parameter shapes, sample count or batch size; this rank has \(samples) samples, batch \(batchSize))")
        }
        for p in model.parameters { communicator.broadcastInPlace(p.value, root: 0) }
    }

    /// Rank 0's `values` on every rank (an epoch's sample order, say).
    ///
    /// - Parameter values: this rank's values; every rank passes the same count.
    public func fromPrimary(_ values: [Int]) -> [Int] {
        var wide = values.map { Int64($0) }
        wide.withUnsafeMutableBytes { communicator.broadcast($0, root: 0) }
        return wide.map { Int($0) }
    }

    /// Counts a step and, with `verifyReplicas`, stops every rank when `parameters` are not
    /// bit-identical across ranks.
    ///
    /// - Parameter parameters: the synchronised parameters, after the optimizer step.
    public func checkReplicas(_ parameters: [Parameter]) {
        steps += 1
        guard verifyReplicas else { return }
        let checksums = replicaChecksums(parameters)
        nablaPrecondition(Set(checksums).count == 1, "distributed: the replicas differ after step \(steps) (parameter checksums per rank: \(checksums))")
    }

    /// Every rank's checksum of `parameters` (FNV-1a over their bytes, 52 bits), on every rank: equal
    /// exactly when the replicas agree (up to hash collisions).
    ///
    /// - Parameter parameters: the parameters to compare (the same list on every rank).
    public func replicaChecksums(_ parameters: [Parameter]) -> [Double] {
        var h = Self.fnvOffset
        for p in parameters {
            h = Self.fingerprint(UnsafeRawBufferPointer(start: UnsafeRawPointer(p.value.pointer(UInt8.self)), count: p.value.count * p.value.dtype.byteSize), from: h)
        }
        return communicator.sum(Array(repeating: 0, count: rank) + [Double(h >> 12)] + Array(repeating: 0, count: size - rank - 1))
    }

    static let fnvOffset: UInt64 = 0xcbf2_9ce4_8422_2325

    /// FNV-1a over `bytes`, continuing from `h`.
    static func fingerprint(_ bytes: some Sequence<UInt8>, from h: UInt64 = fnvOffset) -> UInt64 {
        var h = h
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// This rank's part of a global batch: an even, contiguous share (the first `count % size`
    /// ranks take one more), so the ranks' parts together are exactly the batch.
    ///
    /// - Parameter batch: the global batch's sample indices.
    public func shard(_ batch: ArraySlice<Int>) -> ArraySlice<Int> {
        let n = batch.count, base = n / size, extra = n % size
        let start = batch.startIndex + rank * base + Swift.min(rank, extra)
        return batch[start..<(start + base + (rank < extra ? 1 : 0))]
    }

    /// Runs `loss.backward()` (nil: this rank had no samples in the batch) and leaves in every
    /// parameter the gradient of the *global* batch's mean loss: each rank's gradient weighted by its
    /// share of the samples, summed over ranks in buckets that start as soon as their parameters'
    /// gradients are final — while the rest of the backward pass runs.
    ///
    /// - Parameters:
    ///   - loss: this rank's mean loss over its `localCount` samples, or nil when it had none.
    ///   - parameters: the parameters to synchronise (the same list, in the same order, on every rank).
    ///   - localCount: this rank's samples in the batch.
    ///   - globalCount: the samples of the whole batch.
    public func backward(_ loss: Tensor?, parameters: [Parameter], localCount: Int, globalCount: Int) {
        let key = parameters.map { ObjectIdentifier($0) }
        if key != planKey {
            plan = Self.buckets(parameters, bytes: bucketBytes)
            planKey = key
            // One flat float32 buffer per bucket, kept across steps: MPI reads and writes it while the
            // backward pass goes on, so it must not move.
            buffers = plan.map { members in Tensor.zeros([members.reduce(0) { $0 + parameters[$1].value.count }]) }
        }
        let weight = Double(localCount) / Double(Swift.max(globalCount, 1))
        var ready = [Bool](repeating: false, count: parameters.count)
        var pending = plan.map(\.count)
        var bucketOf = [Int](repeating: 0, count: parameters.count)
        for (b, members) in plan.enumerated() { for i in members { bucketOf[i] = b } }
        var handles = [Int?](repeating: nil, count: plan.count)

        // A bucket's gradients copied into its buffer and weighted by this rank's share of the batch,
        // so that the sum over ranks is the global batch's mean gradient.
        func launch(_ b: Int) {
            Profiler.measure("gradient bucket pack") {
                let flat = buffers[b].pointer(Float.self)
                var offset = 0
                for i in plan[b] {
                    let p = parameters[i], n = p.value.count
                    if localCount > 0, let g = p.value.grad {
                        let src = g.dtype == .float32 ? g : g.cast(to: .float32)
                        (flat + offset).update(from: src.pointer(Float.self), count: n)
                    } else {
                        (flat + offset).update(repeating: 0, count: n)
                    }
                    offset += n
                }
                if weight != 1 { buffers[b].scaleInPlace(by: weight) }
            }
            handles[b] = communicator.startAllReduceSum(UnsafeMutableBufferPointer(start: buffers[b].pointer(Float.self), count: buffers[b].count))
        }
        // Buckets start strictly in order: collectives must be issued in the same order on every
        // rank, and a rank whose gradients arrive in another order (or that had no samples) would
        // otherwise start them differently.
        var nextBucket = 0
        func gradientReady(_ i: Int) {
            guard !ready[i] else { return }
            ready[i] = true
            pending[bucketOf[i]] -= 1
            while nextBucket < plan.count && pending[nextBucket] == 0 {
                launch(nextBucket)
                nextBucket += 1
            }
            communicator.progress()
        }
        if let loss {
            loss.backward(watching: parameters.map(\.value), whenReady: gradientReady)
        }
        for i in parameters.indices { gradientReady(i) }
        for (b, members) in plan.enumerated() {
            if let h = handles[b] { Profiler.measure("all-reduce wait") { communicator.wait(h) } }
            let flat = buffers[b].pointer(Float.self)
            var offset = 0
            for i in members {
                let p = parameters[i], n = p.value.count
                let g = Tensor.uninitialized(p.shape)
                g.pointer(Float.self).update(from: flat + offset, count: n)
                p.value.setGrad(p.value.dtype == .float32 ? g : g.cast(to: p.value.dtype))
                offset += n
            }
        }
    }

    /// Parameters grouped into buckets of about `bytes`, last parameters first (their gradients are
    /// final first in the backward pass).
    static func buckets(_ parameters: [Parameter], bytes: Int) -> [[Int]] {
        var out: [[Int]] = [], current: [Int] = [], filled = 0
        for i in parameters.indices.reversed() {
            current.append(i)
            filled += parameters[i].value.count * 4
            if filled >= bytes {
                out.append(current)
                current = []
                filled = 0
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// Sums of per-rank figures, each weighted by the rank's sample count, over the total count: the
    /// epoch's loss and metrics as one process would have computed them.
    ///
    /// - Parameters:
    ///   - logs: this rank's figures.
    ///   - count: the samples they cover on this rank.
    public func average(_ logs: [String: Double], count: Int) -> [String: Double] {
        let keys = logs.keys.sorted()
        let sums = communicator.sum(keys.map { logs[$0]! * Double(count) } + [Double(count)])
        let total = Swift.max(sums.last!, 1)
        return Dictionary(uniqueKeysWithValues: zip(keys, sums.dropLast().map { $0 / total }))
    }
}
