import Foundation
import Nabla
import Testing

/// Row-sparse embedding gradients: the float32 kernels against the float64 composition of plain ops
/// (whose gradient is checked against finite differences in GradientCheckTests).
@Suite("Sparse embedding gradients")
struct SparseGradientTests {
    let ids = Tensor(shape: [4, 5], values: [Int32]([3, 7, 7, 0, 0, 1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 9, 9, 9, 2, 0]))

    @Test("embedding bag: the fused kernel and its sparse gradient match the float64 composition")
    func bag() throws {
        let table64 = Tensor.randomNormal([10, 6], dtype: .float64, generator: RandomGenerator(seed: 3))
        let weights = Tensor.randomNormal([4, 6], dtype: .float64, generator: RandomGenerator(seed: 4))
        let reference = valueAndGradient(at: [table64]) { (embeddingBag($0[0], ids) * weights).sum() }
        let table = table64.cast(to: .float32).requiringGrad()
        let y = embeddingBag(table, ids, sparseGradient: true)
        let forward = zip(y.toArray(Double.self), withNoGrad { embeddingBag(table64, ids) }.toArray(Double.self))
        #expect(forward.allSatisfy { Swift.abs($0 - $1) < 1e-6 })
        (y * weights.cast(to: .float32)).sum().backward()
        let sparse = try #require(table.sparseGrad)
        #expect(Set(sparse.rows.toArray(Int32.self)) == [1, 2, 3, 4, 5, 7, 9])   // the rows used, each once; 0 is padding
        #expect(table.isGradSparseOnly)
        let dense = table.grad!.toArray(Double.self), want = reference.gradients[0].toArray(Double.self)
        #expect(zip(dense, want).allSatisfy { Swift.abs($0 - $1) < 1e-5 })
        #expect(zip(dense.indices, dense).allSatisfy { i, v in ![0, 6, 8].contains(i / 6) || v == 0 })
    }

    @Test("embedding lookup: a sparse gradient equals the dense one, repeated ids summed")
    func lookup() throws {
        let base = Tensor.randomNormal([10, 4], generator: RandomGenerator(seed: 5))
        let g = Tensor.randomNormal([4, 5, 4], generator: RandomGenerator(seed: 6))
        let dense = base.requiringGrad(), sparse = base.requiringGrad()
        (embeddingLookup(dense, ids) * g).sum().backward()
        (embeddingLookup(sparse, ids, sparseGradient: true) * g).sum().backward()
        #expect(dense.sparseGrad == nil)
        let s = try #require(sparse.sparseGrad)
        #expect(s.rows.count == Set(ids.toArray(Int32.self)).count)
        let a = dense.grad!.toArray(Float.self), b = sparse.grad!.toArray(Float.self)
        #expect(zip(a, b).allSatisfy { Swift.abs($0 - $1) <= 1e-5 })
        // Two lookups of one table accumulate, rows merged.
        (embeddingLookup(sparse, Tensor(values: [Int32]([9, 8])), sparseGradient: true).sum()).backward()
        #expect(sparse.sparseGrad!.rows.count == s.rows.count + 1)
        sparse.zeroGrad()
        #expect(sparse.grad == nil && sparse.sparseGrad == nil)
    }
}
