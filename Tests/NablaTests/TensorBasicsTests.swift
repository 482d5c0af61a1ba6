import Nabla
import Testing

@Suite("Creating tensors")
struct CreationTests {
    @Test("literals are float32; other dtypes are asked for by name")
    func literals() {
        #expect(Tensor([[1, 2], [3, 4]]).dtype == .float32)
        #expect(Tensor([0.5, 1.5]).dtype == .float32)
        #expect(Tensor(3).shape == [])
        #expect(Tensor([[0.1, 0.2]], dtype: .float64).dtype == .float64)
        #expect(Tensor([1, 2], dtype: .int32).toArray(Int32.self) == [1, 2])
        #expect(Tensor(values: [true, false]).dtype == .bool)
        #expect(Tensor([[[1, 2]], [[3, 4]]]).shape == [2, 1, 2])
        #expect(Tensor(shape: [2, 3], values: Array(repeating: Float(1), count: 6)).shape == [2, 3])
    }

    @Test("constructors")
    func constructors() {
        #expect(Tensor.zeros([2, 2]).toArray(Float.self) == [0, 0, 0, 0])
        #expect(Tensor.ones([3], dtype: .int32).toArray(Int32.self) == [1, 1, 1])
        #expect(Tensor.full([2], value: 7.5).toArray(Float.self) == [7.5, 7.5])
        #expect(Tensor.arange(0, 5).toArray(Float.self) == [0, 1, 2, 3, 4])
        #expect(Tensor.arange(5, 0, step: -2).toArray(Float.self) == [5, 3, 1])
        #expect(Tensor.linspace(0, 1, count: 5).toArray(Float.self) == [0, 0.25, 0.5, 0.75, 1])
        #expect(Tensor.eye(3).toArray(Float.self) == [1, 0, 0, 0, 1, 0, 0, 0, 1])
        #expect(Tensor.eye(2, 3).shape == [2, 3])
        #expect(Tensor([1.7, -1.7]).cast(to: .int32).toArray(Int32.self) == [1, -1])
    }

    @Test("a seed reproduces random tensors exactly")
    func seeded() {
        let a = Tensor.randomNormal([100], generator: RandomGenerator(seed: 42))
        let b = Tensor.randomNormal([100], generator: RandomGenerator(seed: 42))
        let c = Tensor.randomNormal([100], generator: RandomGenerator(seed: 43))
        #expect(a.toArray(Float.self) == b.toArray(Float.self))
        #expect(a.toArray(Float.self) != c.toArray(Float.self))
        let rng = RandomGenerator(seed: 1)
        let saved = rng.state
        let first = Tensor.randomUniform([5], generator: rng).toArray(Float.self)
        rng.state = saved
        #expect(Tensor.randomUniform([5], generator: rng).toArray(Float.self) == first)
    }

    @Test("random distributions have the requested moments and ranges")
    func distributions() {
        let rng = RandomGenerator(seed: 3)
        let n = Tensor.randomNormal([100_000], mean: 2, std: 3, dtype: .float64, generator: rng)
        #expect(Swift.abs(n.mean().item(Double.self) - 2) < 0.05)
        #expect(Swift.abs(n.standardDeviation().item(Double.self) - 3) < 0.05)
        let u = Tensor.randomUniform([10_000], low: -1, high: 2, generator: rng)
        #expect(u.min().item(Float.self) >= -1 && u.max().item(Float.self) < 2)
        let i = Tensor.randomInt([10_000], low: 3, high: 7, generator: rng).toArray(Int32.self)
        #expect(Set(i) == [3, 4, 5, 6])
        #expect(Set(rng.permutation(10)) == Set(0..<10))
    }
}

@Suite("Printing")
struct DescriptionTests {
    @Test("NumPy-style text")
    func snapshots() {
        #expect(Tensor([[1, 2.5], [3, 4]]).description == "[[1.  2.5]\n [3.  4. ]]")
        #expect(Tensor([1, 2, 3], dtype: .int32).description == "[1 2 3]")
        #expect(Tensor(3.25).description == "3.25")
        #expect(Tensor([-1, 10]).description == "[-1. 10.]")
        #expect((Tensor([1, 2]) .> Tensor([0, 5])).description == "[ True False]")   // NumPy aligns the columns the same way
        #expect(Tensor.zeros([2, 1, 2]).description == "[[[0. 0.]]\n\n [[0. 0.]]]")
        #expect(Tensor([0.6, 1.3000001]).formatted(precision: 4) == "[0.6 1.3]")
        #expect(Tensor([1, 2]).debugDescription == "Tensor([1. 2.], shape: [2], dtype: float32)")
        #expect(Tensor.arange(0, 2000).description == "[   0.    1.    2. ... 1997. 1998. 1999.]")
    }
}

@Suite("Indexing, joining and shapes")
struct IndexingTests {
    let x = Tensor.arange(0, 12).reshaped([3, 4])

    @Test("subscripts with indices, ranges, steps, ellipsis and new axes")
    func subscripts() {
        #expect(x[1].toArray(Float.self) == [4, 5, 6, 7])
        #expect(x[-1].toArray(Float.self) == [8, 9, 10, 11])
        #expect(x[0..<2, 1...].toArray(Float.self) == [1, 2, 3, 5, 6, 7])
        #expect(x[.all, stride(from: 0, to: 4, by: 2)].toArray(Float.self) == [0, 2, 4, 6, 8, 10])
        #expect(x[TensorIndex.ellipsis, 0].toArray(Float.self) == [0, 4, 8])
        #expect(x[TensorIndex.newAxis].shape == [1, 3, 4])
        #expect(x[...1, ..<1].shape == [2, 1])
        #expect(x[1, 2].item(Float.self) == 6)
        #expect(x[0..<100].shape == [3, 4])   // ranges clamp, as in NumPy
    }

    @Test("reshape, permute, squeeze, broadcast")
    func shapes() {
        #expect(x.reshaped([2, -1]).shape == [2, 6])
        #expect(x.T.toArray(Float.self) == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        #expect(Tensor.zeros([2, 1, 3, 1]).squeezed().shape == [2, 3])
        #expect(Tensor.zeros([2, 1, 3, 1]).squeezed(axes: [1]).shape == [2, 3, 1])
        #expect(Tensor.zeros([3]).unsqueezed(axis: -1).shape == [3, 1])
        #expect(Tensor([1, 2]).broadcast(to: [2, 2]).toArray(Float.self) == [1, 2, 1, 2])
        #expect(x.flattened().shape == [12])
    }

    @Test("concatenate, stack, split")
    func joins() {
        let parts = x.split(sizes: [1, 3], axis: 1)
        #expect(parts[0].shape == [3, 1] && parts[1].shape == [3, 3])
        #expect(concatenate(parts, axis: 1).toArray(Float.self) == x.toArray(Float.self))
        #expect(stack([x, x], axis: 0).shape == [2, 3, 4])
        #expect(x.split(parts: 3, axis: 0).map(\.shape) == [[1, 4], [1, 4], [1, 4]])
    }

    @Test("gather, index select, one-hot, where")
    func gathers() {
        #expect(x.indexSelect(Tensor([2, 0], dtype: .int32)).toArray(Float.self) == [8, 9, 10, 11, 0, 1, 2, 3])
        #expect(x.gather(Tensor([[3], [0], [1]], dtype: .int32), axis: 1).toArray(Float.self) == [3, 4, 9])
        #expect(oneHot(Tensor([0, 2], dtype: .int32), depth: 3).toArray(Float.self) == [1, 0, 0, 0, 0, 1])
        #expect(select(x .> 5, x, Tensor(0)).toArray(Float.self) == [0, 0, 0, 0, 0, 0, 6, 7, 8, 9, 10, 11])
        #expect(x.argmax(axis: 1).toArray(Int32.self) == [3, 3, 3])
    }

    @Test("int32 arithmetic")
    func integers() {
        let a = Tensor([7, -7], dtype: .int32), b = Tensor([2, 2], dtype: .int32)
        #expect((a + b).toArray(Int32.self) == [9, -5])
        #expect((a * b).toArray(Int32.self) == [14, -14])
        #expect((a / b).toArray(Int32.self) == [3, -3])
        #expect(maximum(a, b).toArray(Int32.self) == [7, 2])
    }
}
