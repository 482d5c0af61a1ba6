import Nabla
import NablaNN
import Testing

@Suite("Recurrent layers against PyTorch")
struct RecurrentTests {
    nonisolated(unsafe) static let f = NNFixtures.group("recurrent")

    func layer(_ kind: String, returnSequences: Bool) -> Recurrent {
        let cell: RecurrentCell = kind == "lstm" ? .lstm : (kind == "gru" ? .gru : .simple)
        let r = Recurrent(cell, units: 4, returnSequences: returnSequences)
        r.buildIfNeeded([[5, 3]])
        let c = Self.f[kind] as! [String: Any]
        r.kernel!.assign(NNFixtures.tensor(c["kernel"]))
        r.recurrentKernel!.assign(NNFixtures.tensor(c["recurrent"]))
        r.bias!.assign(NNFixtures.tensor(c["bias"]))
        r.recurrentBias!.assign(NNFixtures.tensor(c["recurrent_bias"]))
        return r
    }

    @Test("SimpleRNN, LSTM and GRU sequences and final states", arguments: ["simple", "lstm", "gru"])
    func matchesPyTorch(_ kind: String) {
        let c = Self.f[kind] as! [String: Any]
        let x = NNFixtures.tensor(Self.f["x"])
        let (seq, states) = layer(kind, returnSequences: true).callWithState(x)
        #expect(maxDifference(seq, NNFixtures.tensor(c["sequence"])) < 1e-10)
        let expectedStates = (c["states"] as! [Any]).map { NNFixtures.tensor($0) }
        for (s, e) in zip(states, expectedStates) { #expect(maxDifference(s, e) < 1e-10) }
        #expect(maxDifference(layer(kind, returnSequences: false)(x), expectedStates[0]) < 1e-10)
    }

    @Test("recurrent gradients match finite differences", arguments: ["simple", "lstm", "gru"])
    func gradients(_ kind: String) {
        let r = layer(kind, returnSequences: true)
        let x = NNFixtures.tensor(Self.f["x"])[.all, 0..<3]
        #expect(gradientCheck(r, input: x) { r($0) } < 1e-6)
    }

    @Test("goBackwards reverses time; Bidirectional concatenates both directions")
    func directions() {
        RandomGenerator.setCurrent(RandomGenerator(seed: 12))
        let x = Tensor.randomNormal([2, 6, 3])
        let fwd = GRU(units: 5)
        let back = Recurrent(.gru, units: 5, goBackwards: true)
        back.buildIfNeeded([[6, 3]])
        fwd.buildIfNeeded([[6, 3]])
        for (p, q) in zip(back.parameters, fwd.parameters) { p.assign(q.value) }
        let reversed = x.indexSelect(Tensor(values: (0..<6).reversed().map { Int32($0) }), axis: 1)
        #expect(maxDifference(back(x), fwd(reversed)) < 1e-6)
        let bi = Bidirectional(LSTM(units: 4, returnSequences: true))
        #expect(bi(x).shape == [2, 6, 8])
        #expect(Bidirectional(SimpleRNN(units: 3))(x).shape == [2, 6])
    }
}
