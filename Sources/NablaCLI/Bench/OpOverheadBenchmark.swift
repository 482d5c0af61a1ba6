import Nabla

/// `op_overhead`: 1,000 steps of y = y * 1.0001 + 0.0001 (2,000 ops) on a 16-element tensor that
/// requires gradients, then sum and backward; best of 20.
enum OpOverheadBenchmark {
    static func run() -> BenchResult {
        let x0 = Tensor.randomNormal([16])
        var best = Double.infinity
        for _ in 0..<20 {
            let t = measure {
                let x = x0.requiringGrad()
                var y = x
                for _ in 0..<1000 { y = y * 1.0001 + 0.0001 }
                y.sum().backward()
                nablaPrecondition(x.grad != nil, "op_overhead: the backward pass left no gradient")
            }
            best = min(best, t)
        }
        return BenchResult(workload: "op_overhead", fields: [("us_per_op", best / 2000 * 1e6)])
    }
}
