import Nabla

/// Joins its inputs along `axis` (of the per-sample shape when positive, counting the batch as 0).
public final class Concatenate: Layer {
    public let axis: Int

    /// - Parameters:
    ///   - axis: the axis to join along (−1: the last).
    ///   - name: name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
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

extension Concatenate: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer { Concatenate(axis: try c.int("axis"), name: c.name) }
}

extension Add: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer { Add(name: c.name) }
}
