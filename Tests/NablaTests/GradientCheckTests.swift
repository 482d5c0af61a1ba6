import Nabla
import Testing

/// One differentiable op in the gradient-check table: input shapes, the input range, the op.
struct GradCase: CustomTestStringConvertible, Sendable {
    let name: String
    let shapes: [[Int]]
    /// Inputs drawn from (0.5, 2) instead of (-2, 2), for ops defined on positive numbers.
    let positive: Bool
    let f: @Sendable ([Tensor]) -> Tensor

    init(_ name: String, _ shapes: [[Int]], positive: Bool = false, _ f: @escaping @Sendable ([Tensor]) -> Tensor) {
        self.name = name
        self.shapes = shapes
        self.positive = positive
        self.f = f
    }

    var testDescription: String { "\(name) \(shapes)" }

    static func unary(_ fn: UnaryFunction, positive: Bool = false) -> GradCase {
        GradCase("\(fn)", [[3, 4]], positive: positive) { $0[0].apply(fn) }
    }

    /// Every differentiable op, with broadcasting cases. (`sign` has no gradient and is skipped.)
    static let all: [GradCase] = [
        unary(.negate), unary(.exp), unary(.log, positive: true), unary(.sqrt, positive: true), unary(.abs),
        unary(.square), unary(.reciprocal, positive: true), unary(.relu), unary(.sigmoid), unary(.tanh),
        unary(.softplus), unary(.silu), unary(.geluExact), unary(.geluTanh), unary(.selu),
        unary(.leakyRelu(alpha: 0.2)), unary(.elu(alpha: 1.3)), unary(.power(2.5), positive: true),
        unary(.power(2)), unary(.clamp(min: -0.7, max: 0.9)),
        GradCase("add", [[3, 4], [4]]) { $0[0] + $0[1] },
        GradCase("add scalar-shaped", [[2, 3], []]) { $0[0] + $0[1] },
        GradCase("subtract", [[2, 1, 4], [3, 1]]) { $0[0] - $0[1] },
        GradCase("multiply", [[3, 4], [3, 1]]) { $0[0] * $0[1] },
        GradCase("divide", [[3, 4], [4]], positive: true) { $0[0] / $0[1] },
        GradCase("pow", [[3, 4], [4]], positive: true) { pow($0[0], $0[1]) },
        GradCase("maximum", [[3, 4], [4]]) { maximum($0[0], $0[1]) },
        GradCase("minimum", [[3, 1], [1, 4]]) { minimum($0[0], $0[1]) },
        GradCase("scalar ops", [[5]], positive: true) { 3.0 / ($0[0] * 2.5 + 1.0) - 0.5 },
        GradCase("x used twice", [[4]]) { $0[0] * $0[0] + $0[0] },
        GradCase("sum all", [[2, 3, 4]]) { $0[0].sum() },
        GradCase("sum axes keepDims", [[2, 3, 4]]) { $0[0].sum(axes: [0, 2], keepDims: true) },
        GradCase("mean axis", [[2, 3, 4]]) { $0[0].mean(axis: 1) },
        GradCase("max axis", [[3, 5]]) { $0[0].max(axis: 1) },
        GradCase("min all", [[3, 5]]) { $0[0].min() },
        GradCase("variance", [[3, 5]]) { $0[0].variance(axes: [1]) },
        GradCase("standard deviation", [[3, 5]]) { $0[0].standardDeviation(axes: [0], correction: 1) },
        GradCase("logsumexp", [[3, 5]]) { $0[0].logSumExp(axes: [-1]) },
        GradCase("softmax last", [[3, 5]]) { softmax($0[0], axis: -1) },
        GradCase("softmax first", [[3, 5]]) { softmax($0[0], axis: 0) },
        GradCase("log softmax", [[2, 3, 4]]) { logSoftmax($0[0], axis: 1) },
        GradCase("layer norm", [[3, 5], [5], [5]]) { layerNorm($0[0], gamma: $0[1], beta: $0[2]) },
        GradCase("ctc loss (mean), repeats and a padded target", [[7, 2, 4]]) {
            ctcLoss(logProbs: $0[0], targets: Tensor(shape: [2, 3], values: [Int32(1), 1, 2, 3, 0, 0]), inputLengths: [7, 5], targetLengths: [3, 1])
        },
        GradCase("stft power, zero padding", [[2, 37]]) { stftPower($0[0], settings: STFTSettings(nFFT: 16, hopLength: 5)) },
        GradCase("stft magnitude, reflection, n_fft 15, Hamming", [[29]]) {
            stftPower($0[0], settings: STFTSettings(nFFT: 15, hopLength: 4, windowLength: 12, window: .hamming(periodic: false), padMode: .reflect), power: 1)
        },
        GradCase("layer norm, no affine, width 9", [[2, 3, 9]]) { layerNorm($0[0]) },
        GradCase("causal attention", [[2, 5, 12]]) { scaledDotProductAttention(packed: $0[0], heads: 2) },
        GradCase("full attention, head size 9", [[1, 4, 54]]) { scaledDotProductAttention(packed: $0[0], heads: 2, causal: false) },
        GradCase("matmul", [[3, 4], [4, 5]]) { matmul($0[0], $0[1]) },
        GradCase("matmul batch x matrix", [[2, 3, 4], [4, 5]]) { matmul($0[0], $0[1]) },
        GradCase("matmul batch x batch", [[2, 3, 4], [2, 4, 5]]) { matmul($0[0], $0[1]) },
        GradCase("matmul broadcast batch", [[1, 3, 4], [2, 4, 2]]) { matmul($0[0], $0[1]) },
        GradCase("matmul matrix x batch", [[3, 4], [2, 4, 2]]) { matmul($0[0], $0[1]) },
        GradCase("matmul vector x matrix", [[4], [4, 3]]) { matmul($0[0], $0[1]) },
        GradCase("matmul matrix x vector", [[3, 4], [4]]) { matmul($0[0], $0[1]) },
        GradCase("matmul vector x vector", [[4], [4]]) { matmul($0[0], $0[1]) },
        GradCase("reshape", [[2, 6]]) { $0[0].reshaped([3, -1]) * Tensor.arange(0, 12, dtype: .float64).reshaped([3, 4]) },
        GradCase("permute", [[2, 3, 4]]) { $0[0].permuted([2, 0, 1]) },
        GradCase("transpose", [[3, 4]]) { $0[0].T },
        GradCase("squeeze unsqueeze", [[3, 1, 2]]) { $0[0].squeezed().unsqueezed(axis: 0) },
        GradCase("broadcast to", [[3, 1]]) { $0[0].broadcast(to: [2, 3, 4]) },
        GradCase("concatenate", [[2, 3], [2, 5]]) { concatenate([$0[0], $0[1]], axis: 1) },
        GradCase("stack", [[2, 3], [2, 3]]) { stack([$0[0], $0[1]], axis: 1) },
        GradCase("split", [[6, 2]]) { xs in let p = xs[0].split(sizes: [2, 4]); return p[0].sum() * p[1] },
        GradCase("slice with steps", [[4, 6]]) { $0[0][1..., stride(from: 0, to: 6, by: 2)] },
        GradCase("index select repeated", [[4, 3]]) { $0[0].indexSelect(Tensor([2, 0, 2], dtype: .int32), axis: 0) },
        GradCase("embedding bag (mean, padding skipped)", [[5, 3]]) { embeddingBag($0[0], Tensor(shape: [3, 4], values: [Int32]([1, 2, 2, 0, 4, 0, 0, 0, 3, 1, 4, 2]))) },
        GradCase("gather", [[3, 4]]) { $0[0].gather(Tensor([[1, 1], [0, 3], [2, 2]], dtype: .int32), axis: 1) },
        GradCase("where", [[3, 4], [4]]) { select(Tensor.arange(0, 12, dtype: .float64).reshaped([3, 4]) .> 5, $0[0], $0[1]) },
        GradCase("composite chain", [[2, 3], [3, 2]]) { xs in tanh(matmul(xs[0], xs[1])).mean() + sigmoid(xs[0]).sum() },
    ]
}

/// Every differentiable op's gradient against central finite differences in Float64.
@Suite("Gradients match finite differences")
struct GradientCheckTests {
    @Test("autograd gradient equals central difference", arguments: GradCase.all)
    func check(_ c: GradCase) {
        let rng = RandomGenerator(seed: 7)
        let inputs = c.shapes.map { s in
            c.positive ? Tensor.randomUniform(s, low: 0.5, high: 2, dtype: .float64, generator: rng)
                : Tensor.randomUniform(s, low: -2, high: 2, dtype: .float64, generator: rng)
        }
        // A random weighting turns any output into a scalar objective that uses every element.
        let probe = withNoGrad { c.f(inputs) }
        let weights = Tensor.randomUniform(probe.shape, low: 0.5, high: 1.5, dtype: .float64, generator: rng)
        let objective: ([Tensor]) -> Tensor = { xs in (c.f(xs) * weights).sum() }

        let (_, grads) = valueAndGradient(at: inputs, of: objective)
        let eps = 1e-6
        for (k, x) in inputs.enumerated() {
            #expect(grads[k].shape == x.shape)
            let values = x.toArray(Double.self)
            let analytic = grads[k].toArray(Double.self)
            for i in 0..<values.count {
                var plus = values, minus = values
                plus[i] += eps
                minus[i] -= eps
                func f(_ v: [Double]) -> Double {
                    var xs = inputs
                    xs[k] = Tensor(shape: x.shape, values: v)
                    return withNoGrad { objective(xs) }.item(Double.self)
                }
                let numeric = (f(plus) - f(minus)) / (2 * eps)
                let ok = Swift.abs(analytic[i] - numeric) <= 1e-6 + 1e-5 * Swift.abs(numeric)
                #expect(ok, "\(c.name): input \(k) element \(i): autograd \(analytic[i]), finite difference \(numeric)")
            }
        }
    }
}
