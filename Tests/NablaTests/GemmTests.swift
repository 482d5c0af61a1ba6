import CNablaKernels
import Nabla
import Testing

/// The packed GEMM against a plain triple loop, over shapes that exercise every edge of the
/// blocking (partial register tiles, several k/m blocks, the threaded split) and both transposes.
@Suite("GEMM kernels", .serialized)
struct GemmTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let m, n, k: Int
        let ta, tb: Bool
        let alpha, beta: Float
        var testDescription: String { "\(m)x\(n)x\(k) ta=\(ta) tb=\(tb) alpha=\(alpha) beta=\(beta)" }
    }

    static let cases: [Case] = {
        var out: [Case] = []
        let shapes = [(1, 1, 1), (9, 32, 7000), (40, 20, 6100), (1, 130, 70), (3, 200, 100), (4, 64, 784), (5, 7, 3), (6, 16, 8), (13, 33, 17), (64, 64, 64), (150, 70, 300), (97, 260, 41), (200, 180, 520)]
        for (m, n, k) in shapes {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                out.append(Case(m: m, n: n, k: k, ta: ta, tb: tb, alpha: 1, beta: 0))
            }
        }
        out.append(Case(m: 37, n: 45, k: 29, ta: false, tb: false, alpha: 0.5, beta: 1))
        out.append(Case(m: 37, n: 45, k: 29, ta: true, tb: true, alpha: -2, beta: 0.25))
        // A small C over a long reduction is split along k (a first convolution's kernel gradient); with beta 1.
        out.append(Case(m: 9, n: 32, k: 5000, ta: true, tb: false, alpha: 0.5, beta: 1))
        // More columns than one packed block of B holds (NC is 512-2048, from the L2 size): a ragged second block.
        out.append(Case(m: 1100, n: 2090, k: 40, ta: false, tb: true, alpha: 1, beta: 1))
        return out
    }()

    static func reference(_ c: Case, _ a: [Float], _ b: [Float], _ c0: [Float]) -> [Double] {
        var out = [Double](repeating: 0, count: c.m * c.n)
        for i in 0..<c.m {
            for j in 0..<c.n {
                var s = 0.0
                for p in 0..<c.k {
                    let av = c.ta ? a[p * c.m + i] : a[i * c.k + p]
                    let bv = c.tb ? b[j * c.k + p] : b[p * c.n + j]
                    s += Double(av) * Double(bv)
                }
                out[i * c.n + j] = Double(c.alpha) * s + Double(c.beta) * Double(c0[i * c.n + j])
            }
        }
        return out
    }

    func run(_ c: Case) {
        let rng = RandomGenerator(seed: UInt64(c.m * 1000 + c.n * 10 + c.k))
        let a = Tensor.randomNormal([c.m * c.k], generator: rng).toArray(Float.self)
        let b = Tensor.randomNormal([c.k * c.n], generator: rng).toArray(Float.self)
        let c0 = Tensor.randomNormal([c.m * c.n], generator: rng).toArray(Float.self)
        var out = c0
        nabla_sgemm(c.ta ? 1 : 0, c.tb ? 1 : 0, c.m, c.n, c.k, c.alpha, a, c.ta ? c.m : c.k, b, c.tb ? c.k : c.n, c.beta, &out, c.n)
        let expected = Self.reference(c, a, b, c0)
        var worst = 0.0
        for i in 0..<out.count {
            worst = Swift.max(worst, Swift.abs(Double(out[i]) - expected[i]) / (1 + Swift.abs(expected[i])))
        }
        // Float32 rounding grows with the depth of the sum, about as √k.
        #expect(worst < 1e-4 * Swift.max(1, Double(c.k).squareRoot() / 10), "\(c.testDescription) with \(String(cString: nabla_gemm_kernel_name())): worst relative error \(worst)")
    }

    @Test("SIMD kernel matches the triple loop", arguments: cases)
    func simd(_ c: Case) { run(c) }

    @Test("portable kernel matches the triple loop", arguments: cases)
    func portable(_ c: Case) {
        nabla_simd_limit(0)
        defer { nabla_simd_limit(-1) }
        #expect(String(cString: nabla_gemm_kernel_name()) == "portable-6x16")
        run(c)
    }

    @Test("the AVX2 kernel matches the triple loop (also on CPUs that would choose AVX-512)", arguments: cases)
    func avx2(_ c: Case) {
        nabla_simd_limit(1)
        defer { nabla_simd_limit(-1) }
        run(c)
    }

    @Test("the AVX-512 kernel gives the AVX2 kernel's results bit for bit (the same sums in the same order)", arguments: cases)
    func avx512MatchesAVX2(_ c: Case) {
        guard String(cString: nabla_gemm_kernel_name()) == "avx512f-12x32" else { return }   // a CPU without AVX-512: nothing to compare
        let rng = RandomGenerator(seed: UInt64(c.m + 7 * c.n + 13 * c.k))
        let a = Tensor.randomNormal([c.m * c.k], generator: rng).toArray(Float.self)
        let b = Tensor.randomNormal([c.k * c.n], generator: rng).toArray(Float.self)
        let c0 = Tensor.randomNormal([c.m * c.n], generator: rng).toArray(Float.self)
        func product(level: Int32) -> [Float] {
            nabla_simd_limit(level)
            defer { nabla_simd_limit(-1) }
            var out = c0
            nabla_sgemm(c.ta ? 1 : 0, c.tb ? 1 : 0, c.m, c.n, c.k, c.alpha, a, c.ta ? c.m : c.k, b, c.tb ? c.k : c.n, c.beta, &out, c.n)
            return out
        }
        #expect(product(level: 2) == product(level: 1), "\(c.testDescription)")
    }

    @Test("the best kernel the CPU has is chosen: AVX-512 where the CPU and OS have it, else AVX2 and FMA")
    func kernelChoice() {
        let name = String(cString: nabla_gemm_kernel_name())
        #if arch(x86_64)
        #expect(["avx512f-12x32", "avx2-fma-6x16", "portable-6x16"].contains(name))
        nabla_simd_limit(1)
        #expect(String(cString: nabla_gemm_kernel_name()) != "avx512f-12x32")
        nabla_simd_limit(-1)
        #elseif arch(arm64)
        #expect(name == "neon-6x16")
        #endif
    }

    /// The vectorised loops (NABLA_VARIANTS: GELU, layer norm, attention, cross-entropy, ReLU with
    /// the bias gradient, im2col, pooling, Adam) are compiled for each SIMD level and chosen by the
    /// same level as the GEMM: a small network's loss and gradients, and an Adam update, at every
    /// level the CPU has, against the portable build. (In this serialized suite, because the level
    /// is process-wide.)
    @Test("every vectorised kernel agrees at each SIMD level the CPU has (portable, AVX2, AVX-512)")
    func simdLevels() {
        let rng = RandomGenerator(seed: 5)
        let shapes = [[2, 12, 11, 3], [3, 3, 3, 20], [20], [400, 30], [30], [30], [30], [30, 7], [2, 9, 3 * 4 * 8]]
        let data = shapes.map { Tensor.randomNormal($0, generator: rng).toArray(Float.self) }
        let labels = Tensor(values: [Int32(3), 6])
        func run(level: Int32) -> [[Float]] {
            nabla_simd_limit(level)
            defer { nabla_simd_limit(-1) }
            let t = zip(shapes, data).map { Tensor(shape: $0, values: $1).requiringGrad() }
            let conv = conv2d(t[0], t[1], t[2], geometry: Conv2DGeometry(kernel: (3, 3)), relu: true)
            let pooled = pool2d(conv, .max, geometry: Conv2DGeometry(kernel: (2, 2), stride: (2, 2))).reshaped([2, 400])
            let hidden = gelu(layerNorm(linear(pooled, t[3], t[4], relu: true), gamma: t[5], beta: t[6]))
            let logits = linear(hidden, t[7], nil)
            let attention = scaledDotProductAttention(packed: t[8], heads: 4)
            let loss = softmaxCrossEntropy(logits: logits, labels: labels).sum() + (attention * attention).sum()
            loss.backward()
            var results = [loss.toArray(Float.self)] + t.map { $0.grad!.toArray(Float.self) }
            var p = data[3], m = [Float](repeating: 0.1, count: p.count), v = [Float](repeating: 0.2, count: p.count)
            let g = t[3].grad!.toArray(Float.self)
            nabla_adam_f32(&p, g, &m, &v, p.count, 0.9, 0.999, 1e-8, 1e-3, 0.01)
            results += [p, m, v]
            return results
        }
        nabla_simd_limit(-1)
        let top = nabla_simd_level()
        let reference = run(level: 0)
        for level in 1...Swift.max(1, top) where level <= top {
            let other = run(level: level)
            for (i, (a, b)) in zip(reference, other).enumerated() {
                let scale = a.map { Swift.abs($0) }.max() ?? 0
                let worst = zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1e-5 * Swift.max(scale, 1), "level \(level), result \(i): \(worst) (scale \(scale))")
            }
        }
    }

    /// The fused epilogue (a bias written into each tile before its first k block, a ReLU after the
    /// last) on every path of the driver — small and packed, edge tiles, several k and column
    /// blocks, split k, few rows — gives exactly what a bias prefill, a GEMM with beta 1 and a
    /// separate ReLU give.
    @Test("the GEMM's bias and ReLU epilogue equals a bias prefill, beta 1 and a ReLU, bit for bit", arguments: cases)
    func fusedEpilogue(_ c: Case) {
        let rng = RandomGenerator(seed: UInt64(3 * c.m + 5 * c.n + c.k))
        let a = Tensor.randomNormal([c.m * c.k], generator: rng).toArray(Float.self)
        let b = Tensor.randomNormal([c.k * c.n], generator: rng).toArray(Float.self)
        let c0 = Tensor.randomNormal([c.m * c.n], generator: rng).toArray(Float.self)
        let bias = Tensor.randomNormal([c.n], generator: rng).toArray(Float.self)
        let (lda, ldb) = (c.ta ? c.m : c.k, c.tb ? c.k : c.n)
        var fused = c0
        nabla_sgemm_fused(c.ta ? 1 : 0, c.tb ? 1 : 0, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, &fused, c.n, bias, 1)
        var separate = (0..<c.m * c.n).map { (c.beta == 0 ? 0 : c.beta * c0[$0]) + bias[$0 % c.n] }
        nabla_sgemm(c.ta ? 1 : 0, c.tb ? 1 : 0, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, 1, &separate, c.n)
        separate = separate.map { $0 > 0 ? $0 : 0 }
        #expect(fused == separate, "\(c.testDescription)")
    }

    /// The limit is the calling thread's, handed to the pool's workers for the regions it starts: at
    /// the portable level a threaded product equals, bit for bit, the portable kernel's sums written
    /// out here in float32 (one k block, products added in order without FMA), in the rows of both
    /// threads.
    @Test("the SIMD limit reaches the thread pool's workers")
    func limitReachesWorkers() {
        let (m, n, k) = (96, 64, 200)
        let rng = RandomGenerator(seed: 8)
        let a = Tensor.randomNormal([m * k], generator: rng).toArray(Float.self)
        let b = Tensor.randomNormal([k * n], generator: rng).toArray(Float.self)
        var expected = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var acc: Float = 0
                for p in 0..<k { acc = acc + a[i * k + p] * b[p * n + j] }
                expected[i * n + j] = acc
            }
        }
        nabla_simd_limit(0)
        defer { nabla_simd_limit(-1) }
        var c = [Float](repeating: .nan, count: m * n)
        nabla_sgemm(0, 0, m, n, k, 1, a, k, b, n, 0, &c, n)
        let differing = (0..<m).filter { i in (0..<n).contains { c[i * n + $0] != expected[i * n + $0] } }
        #expect(differing.isEmpty, "rows computed with other kernels: \(differing)")
    }

    @Test("beta zero never reads C (NaN in C does not leak)")
    func betaZeroIgnoresC() {
        var out = [Float](repeating: .nan, count: 4)
        nabla_sgemm(0, 0, 2, 2, 1, 1, [1, 2], 1, [3, 4], 2, 0, &out, 2)
        #expect(out == [3, 4, 6, 8])
    }

    @Test("float64 GEMM matches float32 GEMM on the same data")
    func doublePrecision() {
        let a = Tensor.randomNormal([33, 21], dtype: .float64), b = Tensor.randomNormal([21, 19], dtype: .float64)
        let d = matmul(a, b), f = matmul(a.cast(to: .float32), b.cast(to: .float32))
        #expect(d.cast(to: .float32).isClose(to: f, rtol: 1e-4, atol: 1e-4))
    }
}

@Suite("Thread pool and allocator")
struct RuntimeTests {
    @Test("a large elementwise op over threads equals the single-thread result")
    func parallelElementwise() {
        let x = Tensor.randomNormal([300_000])
        let threaded = tanh(x * 2 + 1).sum(axes: [0]).item(Double.self)
        let saved = Parallel.threadCount
        Parallel.threadCount = 1
        let serial = tanh(x * 2 + 1).sum(axes: [0]).item(Double.self)
        Parallel.threadCount = saved
        #expect(Swift.abs(threaded - serial) <= 1e-6 * Swift.abs(serial) + 1e-3)
    }

    @Test("allocations are 64-byte aligned and freed blocks go to the cache")
    func allocator() {
        for size in [1, 63, 64, 65, 1000, 4096, 1 << 20, 3 << 20] {
            let p = nabla_alloc(size)!
            #expect(Int(bitPattern: p) % 64 == 0, "size \(size)")
            p.storeBytes(of: 0xAB, toByteOffset: size - 1, as: UInt8.self)   // the whole size is usable
            nabla_free(p, size)
        }
        // Other tests allocate concurrently, so only a lower bound on the cache can be asserted.
        #expect(nabla_allocator_cached_bytes() >= 64)
    }
}
