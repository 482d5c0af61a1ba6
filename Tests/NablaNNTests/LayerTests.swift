import Nabla
import NablaNN
import Testing

@Suite("Layers against PyTorch")
struct LayerTests {
    @Test("Dense forward: linear, relu, softmax")
    func dense() {
        let f = NNFixtures.group("dense")
        let x = NNFixtures.tensor(f["x"])
        for (act, key) in [(ActivationFunction.linear, "linear"), (.relu, "relu"), (.softmax, "softmax")] {
            let layer = Dense(units: 3, activation: act, inputDim: 5)
            layer.kernel!.assign(NNFixtures.tensor(f["kernel"]))
            layer.bias!.assign(NNFixtures.tensor(f["bias"]))
            #expect(maxDifference(layer(x), NNFixtures.tensor(f[key])) < 1e-12, "\(key)")
        }
    }

    @Test("Dense, LayerNormalization and BatchNormalization gradients match finite differences")
    func gradients() {
        let x = Tensor.randomNormal([4, 5], dtype: .float64, generator: RandomGenerator(seed: 1))
        let dense = Dense(units: 3, activation: .tanh, inputDim: 5)
        for p in dense.parameters { p.assign(p.value.cast(to: .float64)) }
        #expect(gradientCheck(dense, input: x) { dense($0) } < 1e-6)
        let norm = LayerNormalization()
        norm.buildIfNeeded([[5]])
        norm.gamma!.assign(Tensor.randomNormal([5], dtype: .float64))
        norm.beta!.assign(Tensor.randomNormal([5], dtype: .float64))
        #expect(gradientCheck(norm, input: x) { norm($0) } < 1e-6)
        let bn = BatchNormalization()
        bn.buildIfNeeded([[5]])
        for p in bn.parameters { p.assign(p.value.cast(to: .float64) + 0.1) }
        #expect(gradientCheck(bn, input: x) { bn($0) } < 1e-6)
    }

    @Test("LayerNormalization forward")
    func layerNorm() {
        let f = NNFixtures.group("layer_norm")
        let norm = LayerNormalization(epsilon: 1e-3)
        norm.buildIfNeeded([[5]])
        norm.gamma!.assign(NNFixtures.tensor(f["gamma"]))
        norm.beta!.assign(NNFixtures.tensor(f["beta"]))
        #expect(maxDifference(norm(NNFixtures.tensor(f["x"])), NNFixtures.tensor(f["y"])) < 1e-10)
    }

    @Test("BatchNormalization: batch statistics in training, moving averages at inference")
    func batchNorm() {
        let f = NNFixtures.group("batch_norm")
        let bn = BatchNormalization()
        bn.buildIfNeeded([[5]])
        bn.gamma!.assign(NNFixtures.tensor(f["gamma"]))
        bn.beta!.assign(NNFixtures.tensor(f["beta"]))
        bn.movingMean!.assign(Tensor.zeros([5], dtype: .float64))
        bn.movingVariance!.assign(Tensor.ones([5], dtype: .float64))
        let x = NNFixtures.tensor(f["x"])
        #expect(maxDifference(bn(x), NNFixtures.tensor(f["train"])) < 1e-10)
        #expect(maxDifference(bn.movingMean!.value, NNFixtures.tensor(f["moving_mean"])) < 1e-12)
        #expect(maxDifference(bn.movingVariance!.value, NNFixtures.tensor(f["moving_var"])) < 1e-12)
        bn.eval()
        #expect(maxDifference(bn(x), NNFixtures.tensor(f["eval"])) < 1e-10)
        #expect(bn.trainableParameterCount == 10 && bn.parameterCount == 20)
    }

    @Test("Dropout drops a fraction and rescales in training, passes through at inference")
    func dropout() {
        let layer = Dropout(rate: 0.25, seed: 9)
        let x = Tensor.ones([100, 100])
        let y = layer(x).toArray(Float.self)
        let zeros = y.filter { $0 == 0 }.count
        #expect(zeros > 2200 && zeros < 2800)
        #expect(y.filter { $0 != 0 }.allSatisfy { Swift.abs($0 - 1 / 0.75) < 1e-6 })
        layer.eval()
        #expect(layer(x).toArray(Float.self).allSatisfy { $0 == 1 })
    }

    @Test("Flatten, Reshape, Concatenate, Add, Activation")
    func shapes() throws {
        #expect(Flatten()(Tensor.zeros([2, 3, 4])).shape == [2, 12])
        #expect(Reshape([4, -1])(Tensor.zeros([2, 12])).shape == [2, 4, 3])
        #expect(Concatenate()([Tensor.ones([2, 3]), Tensor.zeros([2, 2])]).shape == [2, 5])
        #expect(Add()([Tensor.ones([2, 3]), Tensor.ones([2, 3])]).toArray(Float.self) == Array(repeating: 2, count: 6))
        #expect(try Activation(named: "relu")(Tensor([-1, 2])).toArray(Float.self) == [0, 2])
        #expect(throws: NablaError.self) { try Activation(named: "rleu") }
    }

    @Test("Embedding looks rows up and accumulates gradients of repeated ids")
    func embedding() {
        let e = Embedding(inputDim: 5, outputDim: 3)
        let ids = Tensor([[1, 1, 4]], dtype: .int32)
        let y = e(ids)
        #expect(y.shape == [1, 3, 3])
        #expect(maxDifference(y[0, 0], e.embeddings!.value[1]) == 0)
        y.sum().backward()
        let g = e.embeddings!.grad!
        #expect(g[1].toArray(Float.self) == [2, 2, 2])
        #expect(g[4].toArray(Float.self) == [1, 1, 1])
        #expect(g[0].toArray(Float.self) == [0, 0, 0])
    }

    @Test("initializers have Keras's ranges and scales")
    func initializers() {
        let g = RandomGenerator(seed: 5)
        let glorot = Initializer.glorotUniform.make([200, 300], generator: g)
        let limit = (6.0 / 500).squareRoot()
        #expect(glorot.max().item(Double.self) <= limit && glorot.min().item(Double.self) >= -limit)
        let he = Initializer.heNormal.make([400, 400], generator: g)
        #expect(Swift.abs(he.standardDeviation().item(Double.self) - (2.0 / 400).squareRoot()) < 0.003)
        #expect(Nabla.abs(he).max().item(Double.self) <= 2 * (2.0 / 400).squareRoot() / 0.87962566103423978 + 1e-6)
        #expect(Initializer.zeros.make([3]).toArray(Float.self) == [0, 0, 0])
        #expect(throws: NablaError.self) { try Initializer(named: "glorot") }
    }
}

@Suite("Modules")
struct ModuleTests {
    final class Block: Module {
        let first = Dense(units: 4, inputDim: 3)
        let extra = Parameter(Tensor([1, 2]))
        let stack: [Layer] = [Dense(units: 2, inputDim: 4), Dense(units: 1, inputDim: 2)]
    }

    @Test("parameters are found by reflection with dotted names")
    func names() {
        let b = Block()
        #expect(b.namedParameters().map(\.name) == ["extra", "first.kernel", "first.bias", "stack.0.kernel", "stack.0.bias", "stack.1.kernel", "stack.1.bias"])
        #expect(b.parameterCount == 2 + 16 + 10 + 3)
        let s = Sequential([Dense(units: 4, inputDim: 2), Dense(units: 1)])
        #expect(s.namedParameters().map(\.name) == ["layers.0.kernel", "layers.0.bias", "layers.1.kernel", "layers.1.bias"])
    }

    @Test("train/eval mode reaches children; freezing stops training")
    func modes() {
        let b = Block()
        b.eval()
        #expect(!b.first.isTraining && !b.stack[1].isTraining)
        b.train()
        #expect(b.stack[0].isTraining)
        b.first.freeze()
        #expect(b.trainableParameterCount == 2 + 10 + 3)
        #expect(!b.first.kernel!.value.requiresGrad)
    }

    @Test("state dicts load back, and every mismatch is reported at once")
    func stateDict() throws {
        let a = Block(), b = Block()
        try b.loadStateDict(a.stateDict())
        #expect(maxDifference(a.first.kernel!.value, b.first.kernel!.value) == 0)
        var bad = a.stateDict()
        bad["first.kernel"] = Tensor.zeros([2, 2])
        bad.removeValue(forKey: "extra")
        bad["surplus"] = Tensor.zeros([1])
        #expect(throws: NablaError.weightsMismatch(["missing extra [2]", "first.kernel: shape [2, 2], expected [3, 4]", "unexpected surplus"])) {
            try b.loadStateDict(bad)
        }
    }
}
