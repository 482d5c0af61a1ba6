import Nabla
import Testing

/// The pieces of Nabla's core that recommendation brought: Python's shuffle, and row-wise dot products.
@Suite("Python's random and rowDot")
struct RecommendationOpsTests {
    @Test("PythonRandom reproduces random.Random(seed): raw bits, random(), and shuffle")
    func pythonRandom() {
        // Printed by CPython 3: r = random.Random(42); [r.getrandbits(32) for _ in range(3)], r.random();
        // random.Random(42).shuffle(list(range(20))); random.Random(2**40 + 7).shuffle(list(range(10))).
        var r = PythonRandom(seed: 42)
        #expect([r.nextUInt32(), r.nextUInt32(), r.nextUInt32()] == [2_746_317_213, 478_163_327, 107_420_369])
        #expect(r.random() == 0.7415504997598329)
        var a = Array(0..<20)
        var s = PythonRandom(seed: 42)
        s.shuffle(&a)
        #expect(a == [19, 5, 14, 4, 9, 13, 15, 18, 6, 12, 17, 10, 1, 11, 2, 16, 7, 8, 0, 3])
        var b = Array(0..<10)
        var t = PythonRandom(seed: (1 << 40) + 7)
        t.shuffle(&b)
        #expect(b == [0, 5, 2, 3, 6, 1, 8, 4, 7, 9])
    }

    @Test("rowDot: the values of (a * b).sum(axis: -1) in float32 and float64")
    func rowDotValues() {
        let g = RandomGenerator(seed: 3)
        for dtype in [DType.float32, .float64] {
            let a = Tensor.randomNormal([4, 3, 5], dtype: dtype, generator: g), b = Tensor.randomNormal([4, 3, 5], dtype: dtype, generator: g)
            let fused = rowDot(a, b).toArray(Double.self), composed = (a * b).sum(axis: -1).toArray(Double.self)
            #expect(rowDot(a, b).shape == [4, 3])
            #expect(zip(fused, composed).allSatisfy { Swift.abs($0 - $1) < (dtype == .float32 ? 1e-5 : 1e-12) })
        }
    }

    @Test("rowDot: gradients against central finite differences in float64, also for rowDot(p, p)")
    func rowDotGradients() {
        let g = RandomGenerator(seed: 4)
        let a = Tensor.randomNormal([3, 4], dtype: .float64, generator: g).requiringGrad()
        let b = Tensor.randomNormal([3, 4], dtype: .float64, generator: g).requiringGrad()
        let w = Tensor.randomNormal([3], dtype: .float64, generator: g)
        func objective(_ x: Tensor, _ y: Tensor) -> Double { (rowDot(x, y) * w + rowDot(x, x)).sum().item(Double.self) }
        (rowDot(a, b) * w + rowDot(a, a)).sum().backward()
        let h = 1e-6
        for (tensor, isA) in [(a, true), (b, false)] {
            let base = tensor.detached().toArray(Double.self), analytic = tensor.grad!.toArray(Double.self)
            for k in base.indices {
                var plus = base, minus = base
                plus[k] += h; minus[k] -= h
                let tp = Tensor(shape: [3, 4], values: plus), tm = Tensor(shape: [3, 4], values: minus)
                let numeric = isA ? (objective(tp, b.detached()) - objective(tm, b.detached())) / (2 * h)
                                  : (objective(a.detached(), tp) - objective(a.detached(), tm)) / (2 * h)
                #expect(Swift.abs(numeric - analytic[k]) < 1e-7, "\(isA ? "a" : "b")[\(k)]: \(numeric) vs \(analytic[k])")
            }
        }
    }
}
