import Nabla
import Testing

/// Forward values of every op against NumPy (Tests/Fixtures/ops.json), in float64 and float32.
@Suite("Ops match NumPy")
struct OpFixtureTests {
    static func run(_ c: OpFixture, _ dtype: DType) -> Tensor {
        let xs = c.inputs.map { $0.tensor(dtype) }
        let axes = c.ints("axes"), keep = c.bool("keepDims")
        switch c.op {
        case "add": return xs[0] + xs[1]
        case "subtract": return xs[0] - xs[1]
        case "multiply": return xs[0] * xs[1]
        case "divide": return xs[0] / xs[1]
        case "maximum": return maximum(xs[0], xs[1])
        case "minimum": return minimum(xs[0], xs[1])
        case "pow": return pow(xs[0], xs[1])
        case "exp": return exp(xs[0])
        case "log": return log(xs[0])
        case "sqrt": return sqrt(xs[0])
        case "abs": return abs(xs[0])
        case "negate": return -xs[0]
        case "square": return square(xs[0])
        case "pow_scalar": return pow(xs[0], c.number("exponent"))
        case "clamp": return clamp(xs[0], min: c.number("min"), max: c.number("max"))
        case "relu": return relu(xs[0])
        case "leaky_relu": return leakyRelu(xs[0], alpha: c.number("alpha"))
        case "elu": return elu(xs[0], alpha: c.number("alpha"))
        case "selu": return selu(xs[0])
        case "sigmoid": return sigmoid(xs[0])
        case "tanh": return tanh(xs[0])
        case "softplus": return softplus(xs[0])
        case "silu": return silu(xs[0])
        case "gelu": return gelu(xs[0])
        case "gelu_tanh": return gelu(xs[0], approximate: true)
        case "softmax": return softmax(xs[0], axis: c.int("axis"))
        case "log_softmax": return logSoftmax(xs[0], axis: c.int("axis"))
        case "sum": return xs[0].sum(axes: axes, keepDims: keep)
        case "mean": return xs[0].mean(axes: axes, keepDims: keep)
        case "max": return xs[0].max(axes: axes, keepDims: keep)
        case "min": return xs[0].min(axes: axes, keepDims: keep)
        case "variance": return xs[0].variance(axes: axes, keepDims: keep)
        case "variance_unbiased": return xs[0].variance(axes: axes, correction: 1)
        case "std": return xs[0].standardDeviation(axes: axes, keepDims: keep)
        case "logsumexp": return xs[0].logSumExp(axes: axes, keepDims: keep)
        case "argmax": return xs[0].argmax(axis: c.int("axis"))
        case "argmin": return xs[0].argmin(axis: c.int("axis"))
        case "argmax_flat": return xs[0].argmax()
        case "matmul": return matmul(xs[0], xs[1])
        case "transpose": return xs[0].transposed()
        case "permute": return xs[0].permuted(c.ints("axes")!)
        case "reshape": return xs[0].reshaped(c.ints("shape")!)
        case "broadcast_to": return xs[0].broadcast(to: c.ints("shape")!)
        case "concatenate": return concatenate(xs, axis: c.int("axis"))
        case "stack": return stack(xs, axis: c.int("axis"))
        case "slice": return xs[0][1..., stride(from: 0, to: xs[0].shape[1], by: 2), stride(from: 1, to: 4, by: 2)]
        case "index_select":
            return xs[0].indexSelect(Tensor(c.ints("indices")!.map(Double.init), dtype: .int32), axis: c.int("axis"))
        case "gather":
            let idx = Tensor(shape: c.ints("indicesShape")!, values: c.ints("indices")!.map { Int32($0) })
            return xs[0].gather(idx, axis: c.int("axis"))
        case "where": return select(xs[0] .> 0, xs[1], xs[2])
        case "greater": return (xs[0] .> xs[1]).cast(to: dtype)
        case "less_equal": return (xs[0] .<= xs[1]).cast(to: dtype)
        case "linspace": return Tensor.linspace(c.number("start"), c.number("end"), count: c.int("count"), dtype: dtype)
        case "arange": return Tensor.arange(c.number("start"), c.number("end"), step: c.number("step"), dtype: dtype)
        default: fatalError("no Nabla op for fixture \(c.op)")
        }
    }

    @Test("float64 forward values", arguments: OpFixture.all)
    func float64(_ c: OpFixture) {
        let result = Self.run(c, .float64)
        let failure = assertClose(result, c.output.shape, c.output.data, rtol: 1e-9, atol: 1e-12)
        #expect(failure == nil, "\(c.testDescription): \(failure ?? "")")
    }

    @Test("float32 forward values", arguments: OpFixture.all)
    func float32(_ c: OpFixture) {
        let result = Self.run(c, .float32)
        let failure = assertClose(result, c.output.shape, c.output.data, rtol: 2e-5, atol: 2e-5)
        #expect(failure == nil, "\(c.testDescription): \(failure ?? "")")
    }
}
