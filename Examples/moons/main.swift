// micrograd's demo in Nabla: 100 points of the two-moons data set (noise 0.1), an MLP 2 → 16 → 16 → 1
// with ReLU, the max-margin (hinge) loss with L2 regularisation 1e-4, and plain SGD for 100 steps
// with learning rate 1.0 − 0.9·k/100 — written as a PyTorch-style custom training loop.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Nabla
import NablaNN

/// scikit-learn's make_moons: two interleaving half circles plus Gaussian noise; labels −1 and 1.
func makeMoons(_ n: Int, noise: Double, generator: RandomGenerator) -> (x: Tensor, y: Tensor) {
    let outer = n / 2, inner = n - outer
    var points: [Float] = [], labels: [Float] = []
    for i in 0..<outer {
        let t = Double.pi * Double(i) / Double(outer - 1)
        points += [Float(cos(t)), Float(sin(t))]
        labels.append(-1)
    }
    for i in 0..<inner {
        let t = Double.pi * Double(i) / Double(inner - 1)
        points += [Float(1 - cos(t)), Float(1 - sin(t) - 0.5)]
        labels.append(1)
    }
    let x = Tensor(shape: [n, 2], values: points) + Tensor.randomNormal([n, 2], std: noise, generator: generator)
    return (x, Tensor(shape: [n, 1], values: labels))
}

let rng = RandomGenerator(seed: 1337)
RandomGenerator.global.seed(1337)
let (x, y) = makeMoons(100, noise: 0.1, generator: rng)

// micrograd draws weights from U(−1, 1) and starts biases at 0.
let model = Sequential([
    Dense(units: 16, activation: .relu, kernelInitializer: .randomUniform(min: -1, max: 1), inputDim: 2),
    Dense(units: 16, activation: .relu, kernelInitializer: .randomUniform(min: -1, max: 1)),
    Dense(units: 1, kernelInitializer: .randomUniform(min: -1, max: 1)),
])
print(model.summary())
let optimizer = SGD(learningRate: 1.0)
var accuracy = 0.0
for k in 0..<100 {
    let scores = model(x)
    let dataLoss = relu(1 - y * scores).mean()
    let regLoss = model.parameters.map { square($0.value).sum() }.reduce(Tensor(0), +) * 1e-4
    let loss = dataLoss + regLoss
    accuracy = withNoGrad { ((y .> 0) .== (scores .> 0)).cast(to: .float32).mean().item(Double.self) }

    loss.backward()
    optimizer.learningRate = 1.0 - 0.9 * Double(k) / 100
    optimizer.update(model)
    if k % 10 == 0 || k == 99 {
        print("step \(k) loss \(String(format: loss.item(Double.self))) accuracy \(Int((accuracy * 100).rounded()))%")
    }
}
print("final training accuracy: \(Int((accuracy * 100).rounded()))%")

extension String {
    init(format value: Double) {
        let scaled = (value * 1e4).rounded() / 1e4
        self = "\(scaled)"
    }
}
