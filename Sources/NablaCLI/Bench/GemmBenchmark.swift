import Nabla

/// `gemm`: C = A·B for square float32 matrices; best of several repetitions per size.
enum GemmBenchmark {
    static let sizes = [64, 128, 256, 512, 1024, 2048]

    static func run() -> [BenchResult] {
        sizes.map { n in
            let a = Tensor.randomNormal([n, n]), b = Tensor.randomNormal([n, n])
            let flops = 2 * Double(n) * Double(n) * Double(n)
            // Enough calls per repetition to last ~50 ms, so timer noise does not matter.
            let calls = max(1, Int(5e9 / flops))
            for _ in 0..<2 { _ = matmul(a, b) }
            var best = Double.infinity
            for _ in 0..<7 {
                let t = measure { for _ in 0..<calls { _ = matmul(a, b) } }
                best = min(best, t / Double(calls))
            }
            let gflops = flops / best / 1e9
            return BenchResult(workload: "gemm", fields: [("n", Double(n)), ("gflops", gflops)])
        }
    }
}
