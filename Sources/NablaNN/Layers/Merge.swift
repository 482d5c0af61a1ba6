import Nabla

/// Joins its inputs along `axis` (of the per-sample shape when positive, counting the batch as 0).
public final class Concatenate: Layer {
    public let axis: Int

    /// - Parameters:
    ///   - axis: the axis to join along (−1: the last).
    ///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
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

    public override var config: [String: JSONValue] { ["axis": JSONValue(axis)] }
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

/// Keras's `Dot`: the dot products of two inputs along one axis of each, sample by sample — for
/// samples [n] and [n], one number ([batch, 1]); for sequences [t, d] and [u, d] with axes (2, 2), the
/// [t, u] matrix of every pair. With `normalize`, both are L2-normalised along their axes first (cosine
/// similarity). Recommendation models score a user vector against an item vector this way.
///
/// ```swift
/// let user = Input(shape: [32]), item = Input(shape: [32])
/// let score = Dot(axes: (1, 1))([user, item])          // [batch, 1]
/// ```
public final class Dot: Layer {
    /// The axis of each input's sample shape (1-based: the batch is axis 0, as in Keras).
    public let axes: (Int, Int)
    public let normalize: Bool

    /// - Parameters:
    ///   - axes: the axis of the first and of the second input to sum over (1-based, negative from the end).
    ///   - normalize: L2-normalise both along those axes first (cosine similarity).
    ///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
    public init(axes: (Int, Int), normalize: Bool = false, name: String? = nil) {
        self.axes = axes
        self.normalize = normalize
        super.init(name: name)
    }

    /// Both inputs' axes as 0-based positions in the per-sample shapes.
    private func sampleAxes(_ shapes: [[Int]]) -> (Int, Int) {
        func resolve(_ a: Int, _ rank: Int) -> Int { a < 0 ? a + rank : a - 1 }
        return (resolve(axes.0, shapes[0].count), resolve(axes.1, shapes[1].count))
    }

    public override func validate(inputShapes: [[Int]]) throws(NablaError) {
        guard inputShapes.count == 2, (1...2).contains(inputShapes[0].count), inputShapes[0].count == inputShapes[1].count else {
            throw .invalidArgument("\(name): Dot takes two inputs of one sample rank, 1 or 2, got \(inputShapes.map { kerasShape([nil] + $0) })")
        }
        let (a, b) = sampleAxes(inputShapes)
        guard (0..<inputShapes[0].count).contains(a), (0..<inputShapes[1].count).contains(b), inputShapes[0][a] == inputShapes[1][b] else {
            throw .shapeMismatch(layer: name, expected: "axes \(axes) of equal size", actual: "\(kerasShape([nil] + inputShapes[0])) and \(kerasShape([nil] + inputShapes[1]))")
        }
    }

    public override func outputShape(for inputShapes: [[Int]]) -> [Int] {
        guard inputShapes[0].count == 2 else { return [1] }
        let (a, b) = sampleAxes(inputShapes)
        return [inputShapes[0][1 - a], inputShapes[1][1 - b]]
    }

    public override func forward(_ inputs: [Tensor]) -> Tensor {
        nablaPrecondition(inputs.count == 2, "\(name): Dot takes two inputs, got \(inputs.count)")
        var (x, y) = (inputs[0], inputs[1])
        let (a, b) = sampleAxes([Array(x.shape.dropFirst()), Array(y.shape.dropFirst())])
        if normalize {
            x = x / sqrt(maximum(square(x).sum(axes: [a + 1], keepDims: true), Tensor(1e-12, dtype: x.dtype)))
            y = y / sqrt(maximum(square(y).sum(axes: [b + 1], keepDims: true), Tensor(1e-12, dtype: y.dtype)))
        }
        if x.rank == 2 { return (x * y).sum(axes: [1], keepDims: true) }
        // [batch, t, d]: put x's summed axis last and y's first, then one batched matmul.
        return matmul(a == 1 ? x : x.transposed(), b == 0 ? y : y.transposed())
    }

    public override var config: [String: JSONValue] { ["axes": JSONValue([axes.0, axes.1]), "normalize": JSONValue(normalize)] }
}

extension Dot: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let axes = try c.ints("axes")
        guard axes.count == 2, axes.allSatisfy({ (-2...2).contains($0) && $0 != 0 }) else {
            throw .invalidArgument("Dot \(c.name): config field \"axes\" must be two axes in -2...2 other than 0, got \(axes)")
        }
        return Dot(axes: (axes[0], axes[1]), normalize: try c.bool("normalize"), name: c.name)
    }
}

extension Concatenate: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer { Concatenate(axis: try c.int("axis"), name: c.name) }
}

extension Add: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer { Add(name: c.name) }
}
