import Foundation
import Nabla
import NablaData
import NablaNN
import Testing

/// A group of ranks inside one process, one thread each, with the collectives done through shared
/// memory: lets `swift test` check data-parallel training without Open MPI (mpirun runs the same code
/// over MPI in scripts/mpi_tests.sh).
final class InProcessGroup: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var arrived = 0, generation = 0
    var slots: [UnsafeMutableRawPointer?]

    init(size: Int) {
        self.size = size
        slots = Array(repeating: nil, count: size)
    }

    func barrier() {
        condition.lock()
        let mine = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine { condition.wait() }
        }
        condition.unlock()
    }
}

final class InProcessCommunicator: Communicator {
    let group: InProcessGroup
    let rank: Int
    var size: Int { group.size }
    var localSize: Int { group.size }

    init(_ group: InProcessGroup, rank: Int) {
        self.group = group
        self.rank = rank
    }

    private func sum<T: BinaryFloatingPoint>(_ values: UnsafeMutableBufferPointer<T>) {
        group.slots[rank] = UnsafeMutableRawPointer(values.baseAddress)
        group.barrier()
        var total = [T](repeating: 0, count: values.count)
        for r in 0..<size {
            let other = group.slots[r]!.assumingMemoryBound(to: T.self)
            for i in 0..<values.count { total[i] += other[i] }
        }
        group.barrier()   // everyone has read every buffer
        for i in 0..<values.count { values[i] = total[i] }
        group.barrier()
    }

    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) { sum(values) }
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) { sum(values) }
    func startAllReduceSum(_ values: UnsafeMutableBufferPointer<Float>) -> Int { sum(values); return 0 }
    func progress() {}
    func wait(_ handle: Int) {}
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {
        group.slots[rank] = bytes.baseAddress
        group.barrier()
        if rank != root { bytes.baseAddress!.copyMemory(from: group.slots[root]!, byteCount: bytes.count) }
        group.barrier()
    }
    func barrier() { group.barrier() }
}

/// Runs `body(rank)` on `size` threads at once and returns the results by rank.
func onRanks<T>(_ size: Int, _ body: @escaping @Sendable (Int, InProcessCommunicator) -> T) -> [T] {
    let group = InProcessGroup(size: size)
    nonisolated(unsafe) var results = [T?](repeating: nil, count: size)
    let done = DispatchGroup()
    for r in 0..<size {
        done.enter()
        let thread = Thread {
            Parallel.threadCount = 1
            let value = body(r, InProcessCommunicator(group, rank: r))
            results[r] = value
            done.leave()
        }
        thread.stackSize = 16 << 20
        thread.start()
    }
    done.wait()
    return results.map { $0! }
}

@Suite("Data-parallel training (ranks as threads)", .serialized)
struct DataParallelTests {
    /// The embedded digits' first 600 samples and a small MLP, built the same way on every rank.
    static func digitsModel(seed: UInt64, hidden: Int = 32) -> (Model, Tensor, Tensor) {
        let generator = RandomGenerator(seed: seed)
        RandomGenerator.setCurrent(generator)
        let digits = Digits.load()
        let x = digits.images[0..<600], y = digits.labels[0..<600]
        let model = Sequential([Dense(units: hidden, activation: .relu, inputDim: 64), Dense(units: 10)])
        try! model.compile(optimizer: Adam(learningRate: 0.01), loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
        return (model, x, y)
    }

    static func weights(_ model: Model) -> [Float] { model.parameters.flatMap { $0.value.toArray(Float.self) } }

    @Test("shards: each global batch split into contiguous, disjoint shares that differ by at most one")
    func shards() {
        for size in 1...5 {
            for n in [0, 1, 7, 32, 33] {
                let batch = Array(100..<(100 + n))[...]
                let parts = onRanks(size) { r, c in Array(DataParallel(c).shard(batch)) }
                #expect(parts.flatMap { $0 } == Array(batch), "n \(n), size \(size)")
                #expect((parts.map(\.count).max() ?? 0) - (parts.map(\.count).min() ?? 0) <= 1)
            }
        }
    }

    @Test("2 and 3 ranks train to one process's weights (global batch 32, 3 epochs), replicas bit-identical")
    func parity() throws {
        let (single, x, y) = Self.digitsModel(seed: 3)
        try single.fit(x, y, batchSize: 32, epochs: 3, verbose: 0)
        let reference = Self.weights(single)
        for size in [2, 3] {
            let results = onRanks(size) { r, c in
                let (model, x, y) = Self.digitsModel(seed: 3)
                let parallel = DataParallel(c, bucketBytes: 2048)   // small buckets: several per step
                parallel.verifyReplicas = true
                let h = try! model.fit(x, y, batchSize: 32, epochs: 3, verbose: 0, distributed: parallel)
                return (Self.weights(model), h.history["loss"]!.last!)
            }
            for (w, _) in results { #expect(w == results[0].0, "ranks hold different weights") }
            let drift = zip(results[0].0, reference).map { Swift.abs($0 - $1) }.max()!
            #expect(drift < 1e-5, "\(size) ranks: max weight difference \(drift)")
            #expect(Set(results.map(\.1)).count == 1, "every rank reports the same averaged loss")
        }
    }

    @Test("ranks with different models are refused at start-up, on every rank")
    func mismatch() {
        let errors = onRanks(2) { r, c in
            let (model, x, y) = Self.digitsModel(seed: 1, hidden: r == 0 ? 16 : 24)
            do {
                try model.fit(x, y, batchSize: 32, epochs: 1, verbose: 0, distributed: DataParallel(c))
                return ""
            } catch { return "\(error)" }
        }
        for e in errors { #expect(e.contains("do not run the same model"), "\(e)") }
    }

    @Test("the replica checksums tell apart replicas that differ")
    func replicaChecksums() {
        let sums = onRanks(2) { r, c in
            let (model, _, _) = Self.digitsModel(seed: 2)
            let parallel = DataParallel(c)
            let same = parallel.replicaChecksums(model.parameters)
            if r == 1 { try! model.loadStateDict(model.stateDict().mapValues { $0 * 1.0001 }) }
            return (same, parallel.replicaChecksums(model.parameters))
        }
        #expect(Set(sums[0].0).count == 1 && Set(sums[0].1).count == 2)
    }

    @Test("backward(watching:) reports each leaf once, when its gradient is final")
    func readyHooks() {
        let a = Tensor.randomNormal([3, 4], dtype: .float64).requiringGrad(), b = Tensor.randomNormal([4, 2], dtype: .float64).requiringGrad()
        let unused = Tensor.randomNormal([2], dtype: .float64).requiringGrad()
        let h = relu(matmul(a, b))
        let loss = (matmul(h, b.transposed()) * a).sum()        // a and b are each read twice
        var seen: [Int: [Double]] = [:]
        loss.backward(watching: [a, b, unused]) { i in seen[i] = [a, b, unused][i].grad?.toArray(Double.self) ?? [] }
        #expect(seen.keys.sorted() == [0, 1, 2])
        #expect(seen[0] == a.grad!.toArray(Double.self) && seen[1] == b.grad!.toArray(Double.self) && seen[2] == [])
    }
}

