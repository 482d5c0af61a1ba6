import Foundation
import Nabla
import NablaData
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
