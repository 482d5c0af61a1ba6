import Nabla

/// Flattens each sample to one dimension: [batch, a, b] → [batch, a·b].
public final class Flatten: Layer {
    public override init(name: String? = nil) { super.init(name: name) }

    public override func outputShape(for inputShapes: [[Int]]) -> [Int] { [inputShapes[0].reduce(1, *)] }

    public override func forward(_ x: Tensor) -> Tensor { x.reshaped([x.shape.first ?? 1, -1]) }
}

/// Reshapes each sample to `targetShape` (one entry may be -1).
public final class Reshape: Layer {
    public let targetShape: [Int]

    /// - Parameters:
    ///   - targetShape: the per-sample shape; one entry may be −1.
    ///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
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

    public override var config: [String: JSONValue] { ["target_shape": JSONValue(targetShape)] }
}

/// Repeats each pixel `size` times along height and width (nearest-neighbour upsampling).
public final class UpSampling2D: Layer {
    public let size: (Int, Int)

    /// - Parameters:
    ///   - size: repeats along (height, width).
    ///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
    public init(size: (Int, Int) = (2, 2), name: String? = nil) {
        self.size = size
        super.init(name: name)
    }

    public override var typeName: String { "UpSampling2D" }
    public override func outputShape(for s: [[Int]]) -> [Int] { [s[0][0] * size.0, s[0][1] * size.1, s[0][2]] }

    public override func forward(_ x: Tensor) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        return x.reshaped([n, h, 1, w, 1, c]).broadcast(to: [n, h, size.0, w, size.1, c]).reshaped([n, h * size.0, w * size.1, c])
    }

    public override var config: [String: JSONValue] { ["size": JSONValue([size.0, size.1])] }
}

/// Adds rows and columns of zeros around each image: ((top, bottom), (left, right)).
public final class ZeroPadding2D: Layer {
    public let padding: (top: Int, bottom: Int, left: Int, right: Int)

    /// - Parameters:
    ///   - padding: rows and columns of zeros on each side.
    ///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
    public init(padding: (top: Int, bottom: Int, left: Int, right: Int) = (1, 1, 1, 1), name: String? = nil) {
        self.padding = padding
        super.init(name: name)
    }

    public override var typeName: String { "ZeroPadding2D" }
    public override func outputShape(for s: [[Int]]) -> [Int] {
        [s[0][0] + padding.top + padding.bottom, s[0][1] + padding.left + padding.right, s[0][2]]
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let (n, w, c) = (x.shape[0], x.shape[2], x.shape[3])
        var parts: [Tensor] = []
        if padding.top > 0 { parts.append(Tensor.zeros([n, padding.top, w, c], dtype: x.dtype)) }
        parts.append(x)
        if padding.bottom > 0 { parts.append(Tensor.zeros([n, padding.bottom, w, c], dtype: x.dtype)) }
        var y = parts.count == 1 ? x : concatenate(parts, axis: 1)
        let hh = y.shape[1]
        parts = []
        if padding.left > 0 { parts.append(Tensor.zeros([n, hh, padding.left, c], dtype: x.dtype)) }
        parts.append(y)
        if padding.right > 0 { parts.append(Tensor.zeros([n, hh, padding.right, c], dtype: x.dtype)) }
        y = parts.count == 1 ? y : concatenate(parts, axis: 2)
        return y
    }

    public override var config: [String: JSONValue] { ["padding": JSONValue([padding.top, padding.bottom, padding.left, padding.right])] }
}

extension Flatten: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer { Flatten(name: c.name) }
}

extension Reshape: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer { Reshape(try c.ints("target_shape"), name: c.name) }
}

extension UpSampling2D: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer { UpSampling2D(size: try c.pair("size"), name: c.name) }
}

extension ZeroPadding2D: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let p = try c.ints("padding")
        guard p.count == 4, p.allSatisfy({ $0 >= 0 && $0 <= 1 << 16 }) else { throw .invalidArgument("ZeroPadding2D \(c.name): padding must be 4 sizes") }
        return ZeroPadding2D(padding: (p[0], p[1], p[2], p[3]), name: c.name)
    }
}
