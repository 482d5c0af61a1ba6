import Nabla

/// `gemm`: C = A·B for square float32 matrices; the best single call over many repetitions, as
/// `pytorch_workloads.py` measures it.
enum GemmBenchmark {
    static let sizes = [64, 128, 256, 512, 1024, 2048]

    static func run() -> [BenchResult] {
        sizes.map { n in
            let a = Tensor.randomNormal([n, n]), b = Tensor.randomNormal([n, n])
            let flops = 2 * Double(n) * Double(n) * Double(n)
            let reps = max(3, Int(2e9 / flops))
            for _ in 0..<2 { _ = matmul(a, b) }
            var best = Double.infinity
            for _ in 0..<reps {
                best = min(best, measure { _ = matmul(a, b) })
            }
            let gflops = flops / best / 1e9
            return BenchResult(workload: "gemm", fields: [("n", Double(n)), ("gflops", gflops)])
        }
    }
}
