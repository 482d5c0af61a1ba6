import Nabla

/// Randomly zeroes a fraction `rate` of the inputs during training and scales the rest by
/// 1/(1 − rate); does nothing at inference.
///
/// ```swift
/// Sequential([Dense(units: 64, activation: .relu), Dropout(rate: 0.5), Dense(units: 2)])
/// ```
public final class Dropout: Layer {
    public let rate: Double
    private let own: RandomGenerator?

    public init(rate: Double, seed: UInt64? = nil, name: String? = nil) {
        nablaCheck(rate >= 0 && rate < 1, "Dropout: rate must be in [0, 1), got \(rate)")
        self.rate = rate
        self.own = seed.map { RandomGenerator(seed: $0) }
        super.init(name: name)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        guard isTraining, rate > 0 else { return x }
        let keep = Tensor.randomUniform(x.shape, dtype: x.dtype, generator: own ?? .current) .>= Tensor(rate, dtype: x.dtype)
        return x * keep.cast(to: x.dtype) * (1 / (1 - rate))
    }
}

/// Flattens each sample to one dimension: [batch, a, b] → [batch, a·b].
public final class Flatten: Layer {
    public override init(name: String? = nil) { super.init(name: name) }

    public override func outputShape(for inputShapes: [[Int]]) -> [Int] { [inputShapes[0].reduce(1, *)] }

    public override func forward(_ x: Tensor) -> Tensor { x.reshaped([x.shape.first ?? 1, -1]) }
}

/// Reshapes each sample to `targetShape` (one entry may be -1).
public final class Reshape: Layer {
    public let targetShape: [Int]

    public init(_ targetShape: [Int], name: String? = nil) {
        self.targetShape = targetShape
        super.init(name: name)
    }

    public override func outputShape(for inputShapes: [[Int]]) -> [Int] {
        let n = inputShapes[0].reduce(1, *)
        guard let i = targetShape.firstIndex(of: -1) else { return targetShape }
        var s = targetShape
        s[i] = n / Swift.max(1, targetShape.filter { $0 != -1 }.reduce(1, *))
        return s
    }

    public override func validate(inputShapes: [[Int]]) throws(NablaError) {
        let n = inputShapes[0].reduce(1, *), out = outputShape(for: inputShapes)
        if out.reduce(1, *) != n {
            throw .shapeMismatch(layer: name, expected: "\(targetShape.reduce(1, *)) values per sample", actual: kerasShape([nil] + inputShapes[0]))
        }
    }

    public override func forward(_ x: Tensor) -> Tensor { x.reshaped([x.shape.first ?? 1] + targetShape) }
}

/// Joins its inputs along `axis` (of the per-sample shape when positive, counting the batch as 0).
public final class Concatenate: Layer {
    public let axis: Int

    public init(axis: Int = -1, name: String? = nil) {
        self.axis = axis
        super.init(name: name)
    }

    public override func outputShape(for inputShapes: [[Int]]) -> [Int] {
        var out = inputShapes[0]
        let a = axis < 0 ? axis + out.count : axis - 1
        out[a] = inputShapes.reduce(0) { $0 + $1[a] }
        return out
    }

    public override func validate(inputShapes: [[Int]]) throws(NablaError) {
        let a = axis < 0 ? axis + inputShapes[0].count : axis - 1
        for s in inputShapes {
            var x = s, y = inputShapes[0]
            guard x.count == y.count else { throw .shapeMismatch(layer: name, expected: kerasShape([nil] + y), actual: kerasShape([nil] + s)) }
            x[a] = 0; y[a] = 0
            if x != y { throw .shapeMismatch(layer: name, expected: kerasShape([nil] + inputShapes[0]), actual: kerasShape([nil] + s)) }
        }
    }

    public override func forward(_ inputs: [Tensor]) -> Tensor { concatenate(inputs, axis: axis) }
}

/// Adds its inputs elementwise.
public final class Add: Layer {
    public override init(name: String? = nil) { super.init(name: name) }

    public override func validate(inputShapes: [[Int]]) throws(NablaError) {
        for s in inputShapes where s != inputShapes[0] {
            throw .shapeMismatch(layer: name, expected: kerasShape([nil] + inputShapes[0]), actual: kerasShape([nil] + s))
        }
    }

    public override func forward(_ inputs: [Tensor]) -> Tensor { inputs.dropFirst().reduce(inputs[0], +) }
}
