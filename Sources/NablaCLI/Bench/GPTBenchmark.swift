import Nabla
import NablaNN

/// `gpt_train`: Adam steps of a 4-layer, 4-head, d = 128 GPT (vocabulary 65, context 64, batch 12,
/// untied head without bias), cross-entropy over all positions; 5 warm-up + 60 timed steps.
enum GPTBenchmark {
    static func run() -> BenchResult {
        RandomGenerator.global.seed(0)
        let (batch, context) = (12, 64)
        let gpt = GPT(vocabulary: 65, context: context, layers: 4, heads: 4, dModel: 128)
        let optimizer = Adam(learningRate: 1e-3)
        let parameters = gpt.trainableParameters
        let data = Tensor.randomInt([batch * 8, context + 1], low: 0, high: 65)
        func step(_ i: Int) {
            let rows = data[((i % 8) * batch)..<((i % 8 + 1) * batch)]
            gpt.loss(rows[.all, 0..<context], rows[.all, 1...]).backward()
            optimizer.apply(to: parameters)
        }
        for i in 0..<5 { step(i) }
        let steps = 60
        let t = measure { for i in 0..<steps { step(i) } }
        return BenchResult(workload: "gpt_train", fields: [("tokens_per_s", Double(steps * batch * context) / t)])
    }
}
