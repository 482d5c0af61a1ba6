import Foundation
import Nabla
import NablaData
import NablaNN
import Testing

@Suite("Text tools")
struct TextTests {
    @Test("character vocabulary encodes, decodes, rejects unknown characters and round-trips through JSON")
    func characters() throws {
        let v = CharacterVocabulary(text: "hello world")
        #expect(v.count == 8 && v.characters.first == " ")
        let ids = try v.encode("hello")
        #expect(v.decode(ids) == "hello")
        #expect(throws: DataError.self) { try v.encode("hey!") }
        let json = try JSONEncoder().encode(v)
        #expect(try JSONDecoder().decode(CharacterVocabulary.self, from: json) == v)
    }

    @Test("text vectorisation: standardisation, frequency order, padding, unknown words")
    func vectorization() throws {
        var v = TextVectorization(maxTokens: 5, outputSequenceLength: 4)
        v.adapt(["Free entry, free prize!", "call now: FREE", "entry now"])
        #expect(v.vocabulary == ["", "[UNK]", "free", "entry", "now"])
        let t = v(["FREE prize now", "now now now now now"])
        #expect(t.shape == [2, 4] && t.dtype == .int32)
        #expect(t.toArray(Int32.self) == [2, 1, 4, 0, 4, 4, 4, 4])
        let json = try JSONEncoder().encode(v)
        #expect(try JSONDecoder().decode(TextVectorization.self, from: json)(["free now"]).toArray(Int32.self) == [2, 4, 0, 0])
    }

    @Test("language-model batches are windows and their one-step shifts")
    func windows() {
        let tokens = (0..<100).map { Int32($0) }
        let (x, y) = languageModelBatch(tokens, context: 8, batchSize: 4, generator: RandomGenerator(seed: 1))
        #expect(x.shape == [4, 8] && y.shape == [4, 8])
        let xs = x.toArray(Int32.self), ys = y.toArray(Int32.self)
        for i in 0..<32 { #expect(ys[i] == xs[i] + 1) }
    }
}

@Suite("Character language models")
struct CharacterModelTests {
    @Test("sampling respects top-k and temperature")
    func sampling() {
        let logits = Tensor([0.1, 2.0, 0.5, 1.9])
        let g = RandomGenerator(seed: 3)
        #expect((0..<50).allSatisfy { _ in NablaNN.sampleToken(logits, topK: 1, generator: g) == 1 })
        let two = Set((0..<200).map { _ in NablaNN.sampleToken(logits, topK: 2, generator: g) })
        #expect(two == [1, 3])
        let cold = (0..<200).map { _ in NablaNN.sampleToken(logits, temperature: 0.01, generator: g) }
        #expect(cold.allSatisfy { $0 == 1 })
    }

    @Test("the bigram and MLP models learn a deterministic sequence")
    func learn() {
        RandomGenerator.setCurrent(RandomGenerator(seed: 21))
        let tokens: [Int32] = Array((0..<40).map { Int32($0 % 5) })
        let models: [any CharacterModel] = [BigramModel(vocabulary: 5), MLPLanguageModel(vocabulary: 5, context: 2, embeddingSize: 4, hiddenUnits: 16),
                                            RecurrentLanguageModel(.lstm, vocabulary: 5, context: 8, embeddingSize: 4, units: 16),
                                            RecurrentLanguageModel(.gru, vocabulary: 5, context: 8, embeddingSize: 4, units: 16)]
        for lm in models {
            let adam = Adam(learningRate: 0.05)
            let (x, y) = languageModelBatch(tokens, context: 8, batchSize: 8, generator: RandomGenerator(seed: 2))
            let first = lm.loss(x, y).item(Double.self)
            for _ in 0..<150 {
                lm.loss(x, y).backward()
                adam.update(lm)
            }
            let last = lm.loss(x, y).item(Double.self)
            #expect(first > 1 && last < 0.2, "\(type(of: lm)): \(first) → \(last)")
            #expect(lm.nextLogits(Tensor(shape: [1, 3], values: [2, 3, 4] as [Int32])).argmax().item(Int32.self) == 0)
        }
    }

    @Test("a tied GPT has no separate head: its logits use the token embedding")
    func tiedGPT() {
        RandomGenerator.setCurrent(RandomGenerator(seed: 23))
        let gpt = GPT(vocabulary: 7, context: 4, layers: 1, heads: 2, dModel: 8, useBias: false, tiedEmbedding: true)
        #expect(gpt.head == nil)
        #expect(!gpt.stateDict().keys.contains { $0.contains("bias") || $0.contains("beta") }, "\(gpt.stateDict().keys.sorted())")
        let untied = GPT(vocabulary: 7, context: 4, layers: 1, heads: 2, dModel: 8, useBias: false)
        #expect(untied.parameterCount - gpt.parameterCount == 7 * 8)
        let ids = Tensor(shape: [1, 3], values: [Int32(1), 2, 3])
        let before = gpt(ids)
        gpt.tokens.embeddings!.assign(gpt.tokens.embeddings!.value * 2)
        #expect(maxDifference(before, gpt(ids)) > 1e-3)   // the head changed with the embedding
    }

    @Test("text vectorisation with bigrams and folded digits")
    func bigrams() {
        let v = TextVectorization(ngrams: 2)
        #expect(v.tokens("Free entry, now!") == ["free", "entry", "now", "free entry", "entry now"])
        let folded = TextVectorization(foldDigits: true)
        #expect(folded.tokens("Call 09061701461 for £900") == ["call", "00000000000", "for", "000"])
        let decoded = try! JSONDecoder().decode(TextVectorization.self, from: try! JSONEncoder().encode(folded))
        #expect(decoded.foldDigits && decoded.ngrams == 1)
    }
}
