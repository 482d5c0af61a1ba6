import Nabla

/// Max or average pooling over 2-D windows of channels-last images.
public final class Pooling2D: Layer {
    public let kind: PoolKind
    public let poolSize: (Int, Int)
    public let strides: (Int, Int)
    public let padding: Padding

    public init(_ kind: PoolKind, poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid, name: String? = nil) {
        self.kind = kind
        self.poolSize = poolSize
        self.strides = strides ?? poolSize
        self.padding = padding
        super.init(name: name ?? LayerNames.unique(kind == .max ? "max_pooling2d" : "average_pooling2d"))
    }

    public override var typeName: String { kind == .max ? "MaxPooling2D" : "AveragePooling2D" }

    func geometry(_ h: Int, _ w: Int) -> Conv2DGeometry {
        padding == .same ? .same(kernel: poolSize, stride: strides, input: (h, w)) : Conv2DGeometry(kernel: poolSize, stride: strides)
    }

    public override func outputShape(for inputShapes: [[Int]]) -> [Int] {
        let s = inputShapes[0]
        guard s.count == 3 else { return s }
        let (oh, ow) = geometry(s[0], s[1]).outputSize(s[0], s[1])
        return [oh, ow, s[2]]
    }

    public override func validate(inputShapes: [[Int]]) throws(NablaError) {
        let s = inputShapes[0]
        guard s.count == 3 else { throw .shapeMismatch(layer: name, expected: "(None, height, width, channels)", actual: kerasShape([nil] + s)) }
        let (oh, ow) = geometry(s[0], s[1]).outputSize(s[0], s[1])
        if oh <= 0 || ow <= 0 { throw .shapeMismatch(layer: name, expected: "an image of at least the pool size \(poolSize)", actual: kerasShape([nil] + s)) }
    }

    public override func forward(_ x: Tensor) -> Tensor { pool2d(x, kind, geometry: geometry(x.shape[1], x.shape[2])) }

    public override var config: [String: JSONValue] {
        ["pool_size": JSONValue([poolSize.0, poolSize.1]), "strides": JSONValue([strides.0, strides.1]), "padding": JSONValue(padding.rawValue)]
    }
}

/// Keras's MaxPooling2D: `MaxPooling2D(poolSize: (2, 2))`.
/// - Parameters:
///   - poolSize: the window (height, width).
///   - strides: steps between windows (default: the window).
///   - padding: `.valid` or `.same`.
///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
public func MaxPooling2D(poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid, name: String? = nil) -> Pooling2D {
    Pooling2D(.max, poolSize: poolSize, strides: strides, padding: padding, name: name)
}

/// Keras's AveragePooling2D.
/// - Parameters:
///   - poolSize: the window (height, width).
///   - strides: steps between windows (default: the window).
///   - padding: `.valid` or `.same`.
///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
public func AveragePooling2D(poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid, name: String? = nil) -> Pooling2D {
    Pooling2D(.average, poolSize: poolSize, strides: strides, padding: padding, name: name)
}

/// Max or average pooling over windows of sequences [batch, steps, channels].
public final class Pooling1D: Layer {
    public let pool: Pooling2D

    public init(_ kind: PoolKind, poolSize: Int = 2, strides: Int? = nil, padding: Padding = .valid, name: String? = nil) {
        pool = Pooling2D(kind, poolSize: (1, poolSize), strides: (1, strides ?? poolSize), padding: padding)
        super.init(name: name ?? LayerNames.unique(kind == .max ? "max_pooling1d" : "average_pooling1d"))
    }

    public override var typeName: String { pool.kind == .max ? "MaxPooling1D" : "AveragePooling1D" }
    public override func outputShape(for inputShapes: [[Int]]) -> [Int] { Array(pool.outputShape(for: [[1] + inputShapes[0]]).dropFirst()) }
    public override func forward(_ x: Tensor) -> Tensor { pool(x.unsqueezed(axis: 1)).squeezed(axes: [1]) }

    /// The 2-D pooling's settings with each window and stride as its width alone.
    public override var config: [String: JSONValue] { pool.config.mapValues { $0.array?.last ?? $0 } }
}

/// Keras's MaxPooling1D.
/// - Parameters:
///   - poolSize: the window in steps.
///   - strides: steps between windows (default: the window).
///   - padding: `.valid` or `.same`.
///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
public func MaxPooling1D(poolSize: Int = 2, strides: Int? = nil, padding: Padding = .valid, name: String? = nil) -> Pooling1D {
    Pooling1D(.max, poolSize: poolSize, strides: strides, padding: padding, name: name)
}

/// Keras's AveragePooling1D.
/// - Parameters:
///   - poolSize: the window in steps.
///   - strides: steps between windows (default: the window).
///   - padding: `.valid` or `.same`.
///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
public func AveragePooling1D(poolSize: Int = 2, strides: Int? = nil, padding: Padding = .valid, name: String? = nil) -> Pooling1D {
    Pooling1D(.average, poolSize: poolSize, strides: strides, padding: padding, name: name)
}

/// The mean (or max) over every spatial position: [batch, ..., channels] → [batch, channels].
public final class GlobalPooling: Layer {
    public let kind: PoolKind

    public init(_ kind: PoolKind, name: String? = nil) {
        self.kind = kind
        super.init(name: name ?? LayerNames.unique(kind == .max ? "global_max_pooling" : "global_average_pooling"))
    }

    public override var typeName: String { kind == .max ? "GlobalMaxPooling" : "GlobalAveragePooling" }
    public override func outputShape(for inputShapes: [[Int]]) -> [Int] { [inputShapes[0].last ?? 1] }

    public override func forward(_ x: Tensor) -> Tensor {
        let axes = Array(1..<(x.rank - 1))
        return kind == .max ? x.max(axes: axes) : x.mean(axes: axes)
    }

    /// Pools a sequence [batch, steps, channels] over the steps where `mask` [batch, steps] is true
    /// only (Keras's masked GlobalAveragePooling1D); a row with no true step gives zeros (average).
    ///
    /// ```swift
    /// let pooled = GlobalAveragePooling1D()(embed(ids), mask: embed.computeMask(ids))
    /// ```
    public override func forward(_ x: Tensor, mask: Tensor?) -> Tensor {
        guard let mask else { return forward(x) }
        nablaPrecondition(x.rank == 3 && mask.shape == [x.shape[0], x.shape[1]],
                   "\(name): mask \(mask.shape) does not match the input \(x.shape): expected [\(x.shape.first ?? 0), \(x.shape.dropFirst().first ?? 0)]")
        let keep = (mask.dtype == .bool ? mask : mask .!= 0).unsqueezed(axis: 2)   // [B, T, 1]
        if kind == .max { return select(keep, x, Tensor(-Double.infinity, dtype: x.dtype)).max(axes: [1]) }
        let weights = keep.cast(to: x.dtype)
        return (x * weights).sum(axes: [1]) / maximum(weights.sum(axes: [1]), Tensor(1, dtype: x.dtype))
    }
}

/// Keras's GlobalAveragePooling1D (the same layer as the 2-D one; it also pools with a mask).
public func GlobalAveragePooling1D(name: String? = nil) -> GlobalPooling { GlobalPooling(.average, name: name) }
/// Keras's GlobalMaxPooling1D.
public func GlobalMaxPooling1D(name: String? = nil) -> GlobalPooling { GlobalPooling(.max, name: name) }
/// Keras's GlobalAveragePooling2D (and 1D: the same layer works for any rank).
public func GlobalAveragePooling2D(name: String? = nil) -> GlobalPooling { GlobalPooling(.average, name: name) }
/// Keras's GlobalMaxPooling2D.
public func GlobalMaxPooling2D(name: String? = nil) -> GlobalPooling { GlobalPooling(.max, name: name) }

extension Pooling2D: ConfigurableLayer {
    public static var classNames: [String] { ["MaxPooling2D", "AveragePooling2D"] }

    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        Pooling2D(c.className == "MaxPooling2D" ? .max : .average, poolSize: try c.pair("pool_size"), strides: try c.pair("strides"), padding: try c.padding(),
                  name: c.name)
    }
}

extension Pooling1D: ConfigurableLayer {
    public static var classNames: [String] { ["MaxPooling1D", "AveragePooling1D"] }

    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        Pooling1D(c.className == "MaxPooling1D" ? .max : .average, poolSize: try c.positive("pool_size"), strides: try c.positive("strides"),
                  padding: try c.padding(), name: c.name)
    }
}

extension GlobalPooling: ConfigurableLayer {
    public static var classNames: [String] { ["GlobalMaxPooling", "GlobalAveragePooling"] }

    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer { GlobalPooling(c.className == "GlobalMaxPooling" ? .max : .average, name: c.name) }
}
