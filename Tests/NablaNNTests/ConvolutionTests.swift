import Foundation
import Nabla
import NablaNN
import Testing

@Suite("Convolutions and pooling against PyTorch")
struct ConvolutionTests {
    nonisolated(unsafe) static let f = NNFixtures.group("conv")

    @Test("conv2d with strides, padding, dilation and groups", arguments: 0..<3)
    func conv(_ i: Int) {
        let c = (Self.f["cases"] as! [[String: Any]])[i]
        let ints = { (k: String) in NNFixtures.numbers(c[k]).map { Int($0) } }
        let s = ints("stride"), p = ints("padding"), d = ints("dilation")
        let w = NNFixtures.tensor(c["w"])
        let g = Conv2DGeometry(kernel: (w.shape[0], w.shape[1]), stride: (s[0], s[1]), dilation: (d[0], d[1]), padding: (p[0], p[1], p[2], p[3]))
        let y = conv2d(NNFixtures.tensor(c["x"]), w, NNFixtures.tensor(c["b"]), geometry: g, groups: (c["groups"] as! NSNumber).intValue)
        #expect(maxDifference(y, NNFixtures.tensor(c["y"])) < 1e-10)
        // Float32 goes through the SIMD GEMM.
        let y32 = conv2d(NNFixtures.tensor(c["x"], dtype: .float32), w.cast(to: .float32), NNFixtures.tensor(c["b"], dtype: .float32),
                         geometry: g, groups: (c["groups"] as! NSNumber).intValue)
        #expect(maxDifference(y32.cast(to: .float64), NNFixtures.tensor(c["y"])) < 1e-4)
    }

    @Test("max and average pooling", arguments: 0..<3)
    func pool(_ i: Int) {
        let c = (Self.f["pools"] as! [[String: Any]])[i]
        let k = NNFixtures.numbers(c["kernel"]).map { Int($0) }, s = NNFixtures.numbers(c["stride"]).map { Int($0) }
        let y = pool2d(NNFixtures.tensor(Self.f["pool_x"]), c["kind"] as! String == "max" ? .max : .average,
                       geometry: Conv2DGeometry(kernel: (k[0], k[1]), stride: (s[0], s[1])))
        #expect(maxDifference(y, NNFixtures.tensor(c["y"])) < 1e-12)
        // Float32 max pooling runs the C kernel; its gradient goes to the recorded winners.
        let x32 = NNFixtures.tensor(Self.f["pool_x"], dtype: .float32).requiringGrad()
        let y32 = pool2d(x32, c["kind"] as! String == "max" ? .max : .average, geometry: Conv2DGeometry(kernel: (k[0], k[1]), stride: (s[0], s[1])))
        #expect(maxDifference(y32.cast(to: .float64), NNFixtures.tensor(c["y"])) < 1e-6)
        y32.sum().backward()
        #expect(Swift.abs(x32.grad!.sum().item(Double.self) - Double(y32.count)) < 1e-3)
    }

    @Test("gradients of conv2d and pooling match finite differences")
    func gradients() {
        let rng = RandomGenerator(seed: 4)
        let x = Tensor.randomNormal([2, 6, 5, 4], dtype: .float64, generator: rng)
        let geometries = [Conv2DGeometry(kernel: (3, 3)), Conv2DGeometry(kernel: (2, 3), stride: (2, 1), dilation: (1, 2), padding: (1, 0, 2, 1))]
        for (i, g) in geometries.enumerated() {
            let groups = i == 0 ? 1 : 2
            let w = Tensor.randomNormal([g.kernel.h, g.kernel.w, 4 / groups, 4], dtype: .float64, generator: rng)
            let b = Tensor.randomNormal([4], dtype: .float64, generator: rng)
            let probe = conv2d(x, w, b, geometry: g, groups: groups)
            let weights = Tensor.randomUniform(probe.shape, low: 0.5, high: 1.5, dtype: .float64, generator: rng)
            let worst = finiteDifferenceError([x, w, b]) { t in (conv2d(t[0], t[1], t[2], geometry: g, groups: groups) * weights).sum() }
            #expect(worst < 1e-6, "geometry \(i): \(worst)")
        }
        for kind in [PoolKind.max, .average] {
            let g = Conv2DGeometry(kernel: (2, 3), stride: (2, 1), padding: (0, 1, 1, 1))
            let probe = pool2d(x, kind, geometry: g)
            let weights = Tensor.randomUniform(probe.shape, low: 0.5, high: 1.5, dtype: .float64, generator: rng)
            #expect(finiteDifferenceError([x]) { t in (pool2d(t[0], kind, geometry: g) * weights).sum() } < 1e-6, "\(kind)")
        }
    }

    @Test("float32 convolution gradients (C im2col and col2im) agree with float64")
    func float32Gradients() {
        let rng = RandomGenerator(seed: 9)
        let x = Tensor.randomNormal([3, 7, 6, 4], dtype: .float64, generator: rng)
        let w = Tensor.randomNormal([3, 2, 2, 6], dtype: .float64, generator: rng)
        let g = Conv2DGeometry(kernel: (3, 2), stride: (2, 1), dilation: (1, 2), padding: (1, 1, 0, 2))
        expectFloat32Gradients(at: [x, w]) { t in square(conv2d(t[0], t[1], nil, geometry: g, groups: 2)).sum() }
    }

    /// The gradients of `f` at float64 `inputs` and at their float32 casts agree within 1e-4 of each
    /// gradient's largest value.
    func expectFloat32Gradients(at inputs: [Tensor], _ f: ([Tensor]) -> Tensor) {
        let d64 = valueAndGradient(at: inputs, of: f).gradients
        let d32 = valueAndGradient(at: inputs.map { $0.cast(to: .float32) }, of: f).gradients
        for (i, (a, b)) in zip(d64, d32).enumerated() {
            let scale = Nabla.abs(a).max().item(Double.self)
            #expect(maxDifference(a, b.cast(to: .float64)) < 1e-4 * scale, "gradient of input \(i)")
        }
    }

    /// One group with a bias, as Conv2D layers usually are: the input gradient in two chunks of
    /// images, kernel rows copied as one run, 30,000 output pixels (enough for the bias gradient's
    /// row blocks) and the C max-pooling gradient, all against the float64 path.
    @Test("float32 convolution with bias and max pooling agrees with float64 on a batch-sized problem")
    func float32BiasAndPooling() {
        let rng = RandomGenerator(seed: 12)
        let x = Tensor.randomNormal([12, 50, 50, 3], dtype: .float64, generator: rng)
        let w = Tensor.randomNormal([3, 3, 3, 8], dtype: .float64, generator: rng)
        let b = Tensor.randomNormal([8], dtype: .float64, generator: rng)
        let g = Conv2DGeometry(kernel: (3, 3), padding: (1, 1, 1, 1)), pool = Conv2DGeometry(kernel: (2, 2), stride: (2, 2))
        #expect(Conv2DChunks(images: 12, pixels: 2500, k: 27, dtype: .float32).ranges.count == 2)
        let weights = Tensor.randomUniform([12, 25, 25, 8], low: 0.5, high: 1.5, dtype: .float64, generator: rng)
        expectFloat32Gradients(at: [x, w, b]) { t in
            (square(pool2d(conv2d(t[0], t[1], t[2], geometry: g), .max, geometry: pool)) * weights.cast(to: t[0].dtype)).sum()
        }
    }

    /// The ReLU applied in the GEMM's tile store gives exactly relu(op) in float32 (values and
    /// gradients), and its gradient matches finite differences in float64.
    @Test("conv2d and linear with the fused ReLU equal the ReLU of the plain op")
    func fusedReLU() {
        let rng = RandomGenerator(seed: 21)
        // 9,216 output rows: the ReLU gradient and the bias gradient are then one row-blocked pass.
        let x = Tensor.randomNormal([4, 48, 48, 4], dtype: .float64, generator: rng)
        let w = Tensor.randomNormal([3, 3, 4, 40], dtype: .float64, generator: rng)
        let b = Tensor.randomNormal([40], dtype: .float64, generator: rng)
        let lw = Tensor.randomNormal([40, 37], dtype: .float64, generator: rng), lb = Tensor.randomNormal([37], dtype: .float64, generator: rng)
        let g = Conv2DGeometry(kernel: (3, 3), padding: (1, 1, 1, 1))
        func network(fused: Bool) -> ([Tensor]) -> Tensor {
            { t in
                let h = fused ? conv2d(t[0], t[1], t[2], geometry: g, relu: true) : Nabla.relu(conv2d(t[0], t[1], t[2], geometry: g))
                let y = fused ? linear(h, t[3], t[4], relu: true) : Nabla.relu(linear(h, t[3], t[4]))
                return (y * Tensor.linspace(0.5, 1.5, count: y.count, dtype: y.dtype).reshaped(y.shape)).sum()
            }
        }
        let inputs32 = [x, w, b, lw, lb].map { $0.cast(to: .float32) }
        let fused = valueAndGradient(at: inputs32, of: network(fused: true))
        let plain = valueAndGradient(at: inputs32, of: network(fused: false))
        #expect(fused.value.item(Double.self) == plain.value.item(Double.self))
        for (a, c) in zip(fused.gradients, plain.gradients) { #expect(a.toArray(Float.self) == c.toArray(Float.self)) }
        // Small enough that no finite-difference step crosses a ReLU's kink.
        let small = [[1, 4, 3, 2], [3, 3, 2, 3], [3], [3, 5], [5]].map { Tensor.randomNormal($0, dtype: .float64, generator: rng) }
        #expect(finiteDifferenceError(small, network(fused: true)) < 1e-6)
    }

    @Test("layers: Conv2D same padding, Conv1D, pooling 1D/2D, global pooling, upsampling, zero padding, spatial dropout")
    func layers() {
        let x = Tensor.randomNormal([2, 9, 7, 3])
        #expect(Conv2D(filters: 5, kernelSize: (3, 3), strides: (2, 2), padding: .same)(x).shape == [2, 5, 4, 5])
        #expect(Conv1D(filters: 4, kernelSize: 3)(Tensor.zeros([2, 10, 3])).shape == [2, 8, 4])
        #expect(MaxPooling2D()(x).shape == [2, 4, 3, 3])
        #expect(AveragePooling2D(poolSize: (3, 3), strides: (1, 1), padding: .same)(x).shape == [2, 9, 7, 3])
        #expect(MaxPooling1D()(Tensor.zeros([2, 10, 3])).shape == [2, 5, 3])
        #expect(GlobalAveragePooling2D()(x).shape == [2, 3] && GlobalMaxPooling2D()(x).shape == [2, 3])
        let up = UpSampling2D()(Tensor(shape: [1, 1, 2, 1], values: [1, 2]))
        #expect(up.shape == [1, 2, 4, 1] && up.toArray(Float.self) == [1, 1, 2, 2, 1, 1, 2, 2])
        let padded = ZeroPadding2D(padding: (1, 0, 2, 1))(Tensor.ones([1, 2, 2, 1]))
        #expect(padded.shape == [1, 3, 5, 1] && padded.sum().item(Float.self) == 4)
        let sd = SpatialDropout2D(rate: 0.5)
        let y = sd(Tensor.ones([4, 3, 3, 16])).toArray(Float.self)
        // Whole channels are dropped: within one image and channel, all nine values agree.
        for img in 0..<4 { for ch in 0..<16 { #expect(Set((0..<9).map { y[img * 144 + $0 * 16 + ch] }).count == 1) } }
    }

    @Test("a PyTorch Conv2d weight converts to Nabla's layout")
    func pytorchLayout() {
        let torchWeight = Tensor.randomNormal([6, 2, 3, 5])   // [filters, channels, kh, kw]
        let k = Conv2D.kernel(fromPyTorch: torchWeight)
        #expect(k.shape == [3, 5, 2, 6])
        #expect(k[1, 4, 0, 5].item(Float.self) == torchWeight[5, 0, 1, 4].item(Float.self))
    }
}

/// The largest relative difference between autograd and central differences for f's inputs.
func finiteDifferenceError(_ inputs: [Tensor], _ f: @escaping ([Tensor]) -> Tensor) -> Double {
    let (_, grads) = valueAndGradient(at: inputs, of: f)
    var worst = 0.0
    for (k, x) in inputs.enumerated() {
        let values = x.toArray(Double.self), analytic = grads[k].toArray(Double.self)
        for i in Swift.stride(from: 0, to: values.count, by: Swift.max(1, values.count / 40)) {
            var plus = values, minus = values
            plus[i] += 1e-6
            minus[i] -= 1e-6
            var a = inputs, b = inputs
            a[k] = Tensor(shape: x.shape, values: plus)
            b[k] = Tensor(shape: x.shape, values: minus)
            let numeric = (withNoGrad { f(a) }.item(Double.self) - withNoGrad { f(b) }.item(Double.self)) / 2e-6
            worst = Swift.max(worst, Swift.abs(numeric - analytic[i]) / (1 + Swift.abs(numeric)))
        }
    }
    return worst
}
