import Nabla
import NablaNN
import Testing

/// Padded steps: a masked batch must give each sequence exactly what it gives unpadded.
@Suite("Masking of padded steps")
struct MaskingTests {
    /// Two sequences of 5 steps; the first has only 3 real steps, then 2 padding steps.
    let mask = Tensor(shape: [2, 5], values: [true, true, true, false, false, true, true, true, true, true])

    func inputs() -> Tensor {
        RandomGenerator.setCurrent(RandomGenerator(seed: 21))
        return Tensor.randomNormal([2, 5, 3], dtype: .float64)
    }

    func recurrent(_ cell: RecurrentCell, returnSequences: Bool = false, goBackwards: Bool = false) -> Recurrent {
        RandomGenerator.setCurrent(RandomGenerator(seed: 22))
        let r = Recurrent(cell, units: 4, returnSequences: returnSequences, goBackwards: goBackwards)
        r.buildIfNeeded([[5, 3]])
        for p in r.parameters { p.assign(p.value.cast(to: .float64) + Tensor.randomNormal(p.shape, std: 0.1, dtype: .float64)) }
        return r
    }

    @Test("a masked sequence ends in the state of its unpadded steps", arguments: [RecurrentCell.simple, .lstm, .gru])
    func finalState(_ cell: RecurrentCell) {
        let x = inputs(), r = recurrent(cell)
        let (_, masked) = r.callWithState(x, mask: mask)
        let (_, short) = r.callWithState(x[0..<1, 0..<3])
        let (_, full) = r.callWithState(x[1..<2])
        for (m, s) in zip(masked, short) { #expect(maxDifference(m[0..<1], s) < 1e-12) }
        for (m, f) in zip(masked, full) { #expect(maxDifference(m[1..<2], f) < 1e-12) }
        // Without the mask the padding steps would change the state.
        #expect(maxDifference(r.callWithState(x).states[0][0..<1], short[0]) > 1e-3)
    }

    @Test("masked steps repeat the previous output; going backwards starts at the last real step")
    func sequencesAndDirections() {
        let x = inputs()
        let seq = recurrent(.gru, returnSequences: true)(x, mask: mask)
        #expect(maxDifference(seq[0, 3], seq[0, 2]) < 1e-12 && maxDifference(seq[0, 4], seq[0, 2]) < 1e-12)
        let back = recurrent(.lstm, goBackwards: true)
        #expect(maxDifference(back(x, mask: mask)[0..<1], back(x[0..<1, 0..<3])) < 1e-12)
        let bi = Bidirectional(recurrent(.simple))
        bi.backwardLayer.buildIfNeeded([[5, 3]])
        for p in bi.parameters { p.assign(p.value.cast(to: .float64)) }
        let pair = bi(x, mask: mask)
        #expect(pair.shape == [2, 8])
        #expect(maxDifference(pair[0..<1], bi(x[0..<1, 0..<3])) < 1e-12)
    }

    @Test("masked recurrent gradients match finite differences")
    func gradients() {
        let x = inputs(), r = recurrent(.lstm, returnSequences: true)
        #expect(gradientCheck(r, input: x) { r($0, mask: mask) } < 1e-6)
    }

    @Test("Embedding(maskZero:) marks id 0 as padding; masked pooling ignores it")
    func embeddingAndPooling() {
        let embed = Embedding(inputDim: 6, outputDim: 3, maskZero: true)
        let ids = Tensor(shape: [2, 4], values: [Int32(3), 5, 0, 0, 1, 2, 4, 0])
        let m = embed.computeMask(ids)!
        #expect(m.toArray(Bool.self) == [true, true, false, false, true, true, true, false])
        #expect(Embedding(inputDim: 6, outputDim: 3).computeMask(ids) == nil)
        let e = embed(ids)
        let average = GlobalAveragePooling1D()(e, mask: m), largest = GlobalMaxPooling1D()(e, mask: m)
        #expect(maxDifference(average[0], e[0, 0..<2].mean(axes: [0])) < 1e-6)
        #expect(maxDifference(average[1], e[1, 0..<3].mean(axes: [0])) < 1e-6)
        #expect(maxDifference(largest[1], e[1, 0..<3].max(axes: [0])) < 1e-6)
    }

    @Test("Sequential and functional models carry Embedding(maskZero:)'s mask to the recurrent layer, as Keras does")
    func propagation() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 24))
        let padded = Tensor(shape: [2, 5], values: [Int32(4), 2, 7, 0, 0, 3, 1, 1, 5, 6])
        let short = Tensor(shape: [1, 3], values: [Int32(4), 2, 7])
        let sequential = Sequential([Embedding(inputDim: 8, outputDim: 4, maskZero: true), GRU(units: 3), Dense(units: 2)])
        #expect(maxDifference(sequential(padded)[0..<1], sequential(short)) < 1e-6)

        let input = Input(shape: [5], dtype: .int32)
        let embed = Embedding(inputDim: 8, outputDim: 4, maskZero: true)
        let lstm = LSTM(units: 3, returnSequences: true)
        let head = Dense(units: 2)
        let functional = Model(inputs: input, outputs: head(GlobalAveragePooling1D()(lstm(embed(input)))))
        // The pooling averages the real steps only (masked steps would repeat the last output).
        let reference = head(lstm(embed(short)).mean(axes: [1]))
        #expect(maxDifference(functional(padded)[0..<1], reference) < 1e-6)
        // Without maskZero the padding changes the result.
        let unmasked = Sequential([Embedding(inputDim: 8, outputDim: 4), GRU(units: 3), Dense(units: 2)])
        #expect(maxDifference(unmasked(padded)[0..<1], unmasked(short)) > 1e-4)
    }

    @Test("a merge layer's mask is real where every masked input is real")
    func mergedMasks() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 25))
        let a = Input(shape: [4], dtype: .int32), b = Input(shape: [4], dtype: .int32)
        let left = Embedding(inputDim: 6, outputDim: 3, maskZero: true)(a)
        let right = Embedding(inputDim: 6, outputDim: 3, maskZero: true)(b)
        let gru = GRU(units: 2)
        let model = Model(inputs: [a, b], outputs: [gru(Add()([left, right]))])
        let x1 = Tensor(shape: [1, 4], values: [Int32(1), 2, 3, 0]), x2 = Tensor(shape: [1, 4], values: [Int32(4), 5, 0, 0])
        // Steps 0 and 1 are real in both inputs: the result is the GRU over those two steps only.
        let layers = model.layers.compactMap { $0 as? Embedding }
        #expect(layers.count == 2)
        let summed = layers[0](x1[.all, 0..<2]) + layers[1](x2[.all, 0..<2])
        #expect(maxDifference(model.forwardAll([x1, x2])[0], gru(summed)) < 1e-6)
    }
}
