import Nabla
import Testing

/// The fused float32 kernels of the Transformer's hot path (AVX2 where present: vectorised exp and
/// erf, eight-lane dot products, column sums) against the float64 path, which is composed from
/// primitive ops and which the gradient table checks by finite differences.
@Suite("Float32 kernels against float64")
struct TransformerKernelTests {
    /// Largest |a − b| over elements, a and b of any float dtype.
    func difference(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.toArray(Double.self), b.toArray(Double.self)).map { Swift.abs($0 - $1) }.max() ?? 0
    }

    /// Output and input gradient of `f` at x in float32 and in float64, with a fixed random
    /// upstream gradient, so that every output element matters.
    func bothPrecisions(_ x: Tensor, _ f: (Tensor) -> Tensor) -> (Double, Double) {
        var results: [(Tensor, Tensor)] = []
        let upstream = Tensor.randomNormal(f(x.cast(to: .float64)).shape, dtype: .float64)
        for dtype in [DType.float32, .float64] {
            let input = x.cast(to: dtype).requiringGrad()
            let y = f(input)
            (y * upstream.cast(to: dtype)).sum().backward()
            results.append((y, input.grad!))
        }
        return (difference(results[0].0, results[1].0), difference(results[0].1, results[1].1))
    }

    @Test("GELU in float32 matches float64 from −10 to 10")
    func gelu32() {
        let x = Tensor.linspace(-10, 10, count: 2001, dtype: .float64)
        let (value, grad) = bothPrecisions(x) { gelu($0) }
        #expect(value < 2e-6, "value error \(value)")
        #expect(grad < 2e-6, "gradient error \(grad)")
    }

    /// (rows, width): the last case is large enough to split the backward pass between threads.
    @Test("layer normalisation in float32 matches float64", arguments: [(6, 7), (6, 128), (6, 130), (300, 130)])
    func layerNorm32(rows: Int, width: Int) {
        RandomGenerator.setCurrent(RandomGenerator(seed: 11))
        let x = Tensor.randomNormal([rows, width], mean: 0.5, std: 2, dtype: .float64)
        let gamma = Tensor.randomNormal([width], dtype: .float64), beta = Tensor.randomNormal([width], dtype: .float64)
        let (value, grad) = bothPrecisions(x) { layerNorm($0, gamma: gamma.cast(to: $0.dtype), beta: beta.cast(to: $0.dtype)) }
        #expect(value < 1e-5 && grad < 1e-4, "value \(value), gradient \(grad)")
    }

    @Test("fused attention in float32 matches float64", arguments: [true, false])
    func attention32(causal: Bool) {
        RandomGenerator.setCurrent(RandomGenerator(seed: 12))
        let x = Tensor.randomNormal([2, 37, 3 * 4 * 32], dtype: .float64)
        let (value, grad) = bothPrecisions(x) { scaledDotProductAttention(packed: $0, heads: 4, causal: causal) }
        #expect(value < 1e-5 && grad < 1e-4, "value \(value), gradient \(grad)")
    }

    @Test("attention equals softmax(QKᵀ/√d + causal mask)·V written out here: the float64 reference and the fused float32 kernel")
    func attentionComposed() {
        RandomGenerator.setCurrent(RandomGenerator(seed: 13))
        let (b, t, h, hd) = (2, 6, 3, 4)
        let qkv = Tensor.randomNormal([b, t, 3 * h * hd], dtype: .float64)
        let parts = qkv.reshaped([b, t, 3, h, hd]).permuted([2, 0, 3, 1, 4]).split(parts: 3, axis: 0).map { $0.squeezed(axes: [0]) }
        let mask = Tensor.arange(0, Double(t)).reshaped([t, 1]) .>= Tensor.arange(0, Double(t)).reshaped([1, t])
        let scores = select(mask, matmul(parts[0], parts[1].transposed()) * 0.5, Tensor(-Double.infinity, dtype: .float64))
        let expected = matmul(softmax(scores, axis: -1), parts[2]).permuted([0, 2, 1, 3]).reshaped([b, t, h * hd])
        #expect(difference(scaledDotProductAttention(packed: qkv, heads: h), expected) < 1e-12)
        #expect(difference(scaledDotProductAttention(packed: qkv.cast(to: .float32), heads: h), expected) < 1e-5)
    }

    @Test("cross-entropy (with ignored rows) and the linear bias gradient in float32 match float64")
    func crossEntropyAndBias32() {
        RandomGenerator.setCurrent(RandomGenerator(seed: 14))
        let x = Tensor.randomNormal([50, 40], std: 3, dtype: .float64)
        let labels = Tensor(values: (0..<50).map { Int32($0 % 7 == 3 ? -1 : ($0 * 13) % 40) })
        let (value, grad) = bothPrecisions(x) { softmaxCrossEntropy(logits: $0, labels: labels, ignoreIndex: -1) }
        #expect(value < 1e-5 && grad < 1e-6, "value \(value), gradient \(grad)")
        let losses = softmaxCrossEntropy(logits: x, labels: labels, ignoreIndex: -1)
        let ignored = (0..<50).filter { $0 % 7 == 3 }
        #expect(ignored.allSatisfy { losses[$0].item(Double.self) == 0 })
        let kept = (0..<50).filter { $0 % 7 != 3 }.map { Int32($0) }
        let reference = softmaxCrossEntropy(logits: x.indexSelect(Tensor(values: kept), axis: 0), labels: labels.indexSelect(Tensor(values: kept), axis: 0))
        #expect(difference(losses.indexSelect(Tensor(values: kept), axis: 0), reference) < 1e-12)

        let w = Tensor.randomNormal([40, 33], dtype: .float64)
        var biasGrads: [Tensor] = []
        for dtype in [DType.float32, .float64] {
            let b = Tensor.randomNormal([33], dtype: .float64).cast(to: dtype).requiringGrad()
            (linear(x.cast(to: dtype), w.cast(to: dtype), b) * Tensor.linspace(-1, 1, count: 33, dtype: dtype)).sum().backward()
            biasGrads.append(b.grad!)
        }
        #expect(difference(biasGrads[0], biasGrads[1]) < 1e-4)
        #expect(difference(biasGrads[1], Tensor.linspace(-1, 1, count: 33, dtype: .float64) * 50) < 1e-12)
    }
}
