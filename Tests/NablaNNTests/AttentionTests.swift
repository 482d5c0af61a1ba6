import Foundation
import Nabla
import NablaNN
import Testing

@Suite("Attention and GPT")
struct AttentionTests {
    @Test("causal attention never looks ahead")
    func causality() {
        RandomGenerator.setCurrent(RandomGenerator(seed: 2))
        let attention = MultiHeadAttention(heads: 2, dModel: 8, causal: true)
        let x = Tensor.randomNormal([1, 5, 8])
        var changed = x.toArray(Float.self)
        for i in (3 * 8)..<(5 * 8) { changed[i] += 1 }   // alter steps 3 and 4
        let a = attention(x), b = attention(Tensor(shape: [1, 5, 8], values: changed))
        #expect(maxDifference(a[.all, 0..<3], b[.all, 0..<3]) < 1e-6)
        #expect(maxDifference(a[.all, 3...], b[.all, 3...]) > 1e-3)
    }

    @Test("attention matches a direct computation of softmax(QKᵀ/√d)V")
    func reference() {
        RandomGenerator.setCurrent(RandomGenerator(seed: 3))
        let attention = MultiHeadAttention(heads: 1, dModel: 4, causal: false, useBias: false)
        let x = Tensor.randomNormal([1, 3, 4], dtype: .float64)
        for p in attention.parameters { p.assign(p.value.cast(to: .float64)) }
        let w = attention.qkv.kernel!.value, wo = attention.output.kernel!.value
        let x2 = x.reshaped([3, 4])
        let q = matmul(x2, w[.all, 0..<4]), k = matmul(x2, w[.all, 4..<8]), v = matmul(x2, w[.all, 8..<12])
        let expected = matmul(matmul(softmax(matmul(q, k.T) * (1 / 2.0), axis: -1), v), wo)
        #expect(maxDifference(attention(x).reshaped([3, 4]), expected) < 1e-12)
    }

    @Test("a Transformer block's gradients match finite differences")
    func gradients() {
        RandomGenerator.setCurrent(RandomGenerator(seed: 4))
        let block = TransformerBlock(heads: 2, dModel: 4)
        for p in block.parameters { p.assign(p.value.cast(to: .float64) + Tensor.randomNormal(p.shape, std: 0.1, dtype: .float64)) }
        let x = Tensor.randomNormal([2, 3, 4], dtype: .float64)
        #expect(gradientCheck(block, input: x) { block($0) } < 1e-5)
    }

    @Test("a small GPT learns to continue a repeating sequence")
    func gptLearns() {
        RandomGenerator.setCurrent(RandomGenerator(seed: 5))
        let gpt = GPT(vocabulary: 5, context: 8, layers: 2, heads: 2, dModel: 16)
        let pattern: [Int32] = [0, 1, 2, 3, 4, 0, 1, 2, 3]
        let ids = Tensor(shape: [1, 8], values: Array(pattern[0..<8])), targets = Tensor(shape: [1, 8], values: Array(pattern[1...]))
        #expect(gpt(ids).shape == [1, 8, 5])
        let adam = Adam(learningRate: 0.01)
        let first = gpt.loss(ids, targets).item(Double.self)
        for _ in 0..<150 {
            gpt.loss(ids, targets).backward()
            adam.update(gpt)
        }
        let last = gpt.loss(ids, targets).item(Double.self)
        #expect(first > 1.2 && last < 0.05, "\(first) → \(last)")
    }

    @Test("GPT dropout is active in training only")
    func gptDropout() {
        RandomGenerator.setCurrent(RandomGenerator(seed: 6))
        let gpt = GPT(vocabulary: 5, context: 8, layers: 1, heads: 2, dModel: 8, dropout: 0.3)
        let ids = Tensor(shape: [2, 4], values: [Int32(0), 1, 2, 3, 4, 3, 2, 1])
        #expect(maxDifference(gpt(ids), gpt(ids)) > 1e-4)
        gpt.eval()
        #expect(maxDifference(gpt(ids), gpt(ids)) == 0)
    }

    @Test("a GPT's logits, loss and every parameter gradient match PyTorch", arguments: ["biased", "tied"])
    func gptAgainstPyTorch(_ variant: String) throws {
        let f = NNFixtures.group("gpt")[variant] as! [String: Any]
        let tied = variant == "tied"
        let gpt = GPT(vocabulary: 7, context: 6, layers: 2, heads: 2, dModel: 8, useBias: !tied, tiedEmbedding: tied)
        let weights = (f["weights"] as! [String: Any]).mapValues { NNFixtures.tensor($0) }
        #expect(Set(weights.keys) == Set(gpt.stateDict().keys))
        for p in gpt.parameters { p.assign(p.value.cast(to: .float64)) }
        try gpt.loadStateDict(weights)
        let ids = NNFixtures.tensor(f["ids"]).cast(to: .int32), targets = NNFixtures.tensor(f["targets"]).cast(to: .int32)
        #expect(maxDifference(gpt(ids), NNFixtures.tensor(f["logits"])) < 1e-10)
        let loss = gpt.loss(ids, targets)
        #expect(Swift.abs(loss.item(Double.self) - (f["loss"] as! NSNumber).doubleValue) < 1e-12)
        loss.backward()
        let grads = (f["grads"] as! [String: Any]).mapValues { NNFixtures.tensor($0) }
        let parameters = Dictionary(uniqueKeysWithValues: gpt.namedParameters().map { ($0.name, $0.parameter) })
        for (name, expected) in grads {
            #expect(maxDifference(parameters[name]!.grad!, expected) < 1e-10, "\(name)")
        }
    }
}
