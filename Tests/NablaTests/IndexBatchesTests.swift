import Nabla
import Testing

@Suite("IndexBatches: the batching Model.fit, evaluate, predict and DataLoader share")
struct IndexBatchesTests {
    @Test("in order, shuffled and with drop-last, every sample once per epoch")
    func batches() {
        let plan = IndexBatches(count: 10, batchSize: 4)
        #expect(plan.batchCount == 3)
        #expect(plan.epoch(shuffledBy: nil).map { Array($0) } == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        let g = RandomGenerator(seed: 3)
        let shuffled = plan.epoch(shuffledBy: g).map { Array($0) }
        #expect(shuffled.map(\.count) == [4, 4, 2])
        #expect(shuffled.flatMap { $0 }.sorted() == Array(0..<10))
        #expect(shuffled.flatMap { $0 } == RandomGenerator(seed: 3).permutation(10), "one permutation per epoch from the generator")
        let drop = IndexBatches(count: 10, batchSize: 4, dropLast: true)
        #expect(drop.batchCount == 2 && drop.epoch(shuffledBy: nil).map { Array($0) } == [[0, 1, 2, 3], [4, 5, 6, 7]])
        #expect(IndexBatches(count: 0, batchSize: 4).epoch(shuffledBy: nil).isEmpty)
    }
}
