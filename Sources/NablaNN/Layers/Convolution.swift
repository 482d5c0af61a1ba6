import Nabla

/// How a convolution or pooling window treats the borders: `valid` (no padding) or `same`
/// (zeros so that the output size is ⌈input / stride⌉), as in Keras.
public enum Padding: String, Sendable { case valid, same }

/// A 2-D convolution over channels-last images [batch, height, width, channels] (Keras's layout,
/// chosen because each window's channels are contiguous, which makes im2col a run of copies).
/// The kernel is [kh, kw, channels/groups, filters]; `Conv2D.kernel(fromPyTorch:)` converts
/// PyTorch's [filters, channels/groups, kh, kw].
///
/// ```swift
/// let conv = Conv2D(filters: 32, kernelSize: (3, 3), activation: .relu)
/// conv(Tensor.zeros([8, 28, 28, 1])).shape    // [8, 26, 26, 32]
/// ```
public final class Conv2D: Layer {
    public let filters: Int
    public let kernelSize: (Int, Int)
    public let strides: (Int, Int)
    public let padding: Padding
    public let dilationRate: (Int, Int)
    public let groups: Int
    public let activation: ActivationFunction
    public let useBias: Bool
    public let kernelInitializer: Initializer
    public private(set) var kernel: Parameter?
    public private(set) var bias: Parameter?

    public init(filters: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1), padding: Padding = .valid,
                dilationRate: (Int, Int) = (1, 1), groups: Int = 1, activation: ActivationFunction = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, name: String? = nil) {
        nablaCheck(filters > 0 && kernelSize.0 > 0 && kernelSize.1 > 0 && strides.0 > 0 && strides.1 > 0 && dilationRate.0 > 0 && dilationRate.1 > 0,
                   "Conv2D: filters, kernel size, strides and dilation must be positive")
        nablaCheck(groups > 0 && filters % groups == 0, "Conv2D: filters \(filters) must divide into \(groups) groups")
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.padding = padding
        self.dilationRate = dilationRate
        self.groups = groups
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        super.init(name: name)
    }

    public override func build(inputShapes: [[Int]]) {
        let c = inputShapes[0].last ?? 1
        kernel = Parameter(kernelInitializer.make([kernelSize.0, kernelSize.1, Swift.max(c / groups, 1), filters]))
        if useBias { bias = Parameter(Tensor.zeros([filters])) }
    }

    func geometry(_ h: Int, _ w: Int) -> Conv2DGeometry {
        padding == .same
            ? .same(kernel: kernelSize, stride: strides, dilation: dilationRate, input: (h, w))
            : Conv2DGeometry(kernel: kernelSize, stride: strides, dilation: dilationRate)
    }

    public override func outputShape(for inputShapes: [[Int]]) -> [Int] {
        let s = inputShapes[0]
        guard s.count == 3 else { return s }
        let (oh, ow) = geometry(s[0], s[1]).outputSize(s[0], s[1])
        return [oh, ow, filters]
    }

    public override func validate(inputShapes: [[Int]]) throws(NablaError) {
        let s = inputShapes[0]
        guard s.count == 3 else { throw .shapeMismatch(layer: name, expected: "(None, height, width, channels)", actual: kerasShape([nil] + s)) }
        if let kernel, s[2] != kernel.shape[2] * groups {
            throw .shapeMismatch(layer: name, expected: "(None, height, width, \(kernel.shape[2] * groups))", actual: kerasShape([nil] + s))
        }
        let (oh, ow) = geometry(s[0], s[1]).outputSize(s[0], s[1])
        if oh <= 0 || ow <= 0 { throw .shapeMismatch(layer: name, expected: "an image of at least the kernel size \(kernelSize)", actual: kerasShape([nil] + s)) }
    }

    public override func forward(_ x: Tensor) -> Tensor {
        nablaCheck(x.rank == 4, "\(name): expected input shape (None, height, width, channels), got \(x.shape)")
        return activation(conv2d(x, kernel!.value, bias?.value, geometry: geometry(x.shape[1], x.shape[2]), groups: groups))
    }

    /// A PyTorch Conv2d weight [filters, channels/groups, kh, kw] in Nabla's layout [kh, kw, channels/groups, filters].
    public static func kernel(fromPyTorch w: Tensor) -> Tensor { w.permuted([2, 3, 1, 0]).detached() }
}

/// A 1-D convolution over sequences [batch, steps, channels], computed as a 2-D convolution of height 1.
public final class Conv1D: Layer {
    public let conv: Conv2D

    public init(filters: Int, kernelSize: Int, strides: Int = 1, padding: Padding = .valid, dilationRate: Int = 1, groups: Int = 1,
                activation: ActivationFunction = .linear, useBias: Bool = true, name: String? = nil) {
        conv = Conv2D(filters: filters, kernelSize: (1, kernelSize), strides: (1, strides), padding: padding,
                      dilationRate: (1, dilationRate), groups: groups, activation: activation, useBias: useBias)
        super.init(name: name)
    }

    public override func build(inputShapes: [[Int]]) { conv.buildIfNeeded([[1] + inputShapes[0]]) }

    public override func outputShape(for inputShapes: [[Int]]) -> [Int] { Array(conv.outputShape(for: [[1] + inputShapes[0]]).dropFirst()) }

    public override func validate(inputShapes: [[Int]]) throws(NablaError) {
        guard inputShapes[0].count == 2 else { throw .shapeMismatch(layer: name, expected: "(None, steps, channels)", actual: kerasShape([nil] + inputShapes[0])) }
        try conv.validate(inputShapes: [[1] + inputShapes[0]])
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let y = conv(x.unsqueezed(axis: 1))
        return y.squeezed(axes: [1])
    }
}

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
}

/// Keras's MaxPooling2D: `MaxPooling2D(poolSize: (2, 2))`.
public func MaxPooling2D(poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid, name: String? = nil) -> Pooling2D {
    Pooling2D(.max, poolSize: poolSize, strides: strides, padding: padding, name: name)
}

/// Keras's AveragePooling2D.
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
}

/// Keras's MaxPooling1D.
public func MaxPooling1D(poolSize: Int = 2, strides: Int? = nil, padding: Padding = .valid, name: String? = nil) -> Pooling1D {
    Pooling1D(.max, poolSize: poolSize, strides: strides, padding: padding, name: name)
}

/// Keras's AveragePooling1D.
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
        nablaCheck(x.rank == 3 && mask.shape == [x.shape[0], x.shape[1]],
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

/// Drops whole channels (feature maps) during training: the mask is [batch, 1, 1, channels].
public final class SpatialDropout2D: Layer {
    public let rate: Double

    public init(rate: Double, name: String? = nil) {
        nablaCheck(rate >= 0 && rate < 1, "SpatialDropout2D: rate must be in [0, 1), got \(rate)")
        self.rate = rate
        super.init(name: name)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        guard isTraining, rate > 0 else { return x }
        let shape = [x.shape[0]] + Array(repeating: 1, count: x.rank - 2) + [x.shape[x.rank - 1]]
        let keep = (Tensor.randomUniform(shape, dtype: x.dtype) .>= Tensor(rate, dtype: x.dtype)).cast(to: x.dtype)
        return x * keep * (1 / (1 - rate))
    }
}

/// Repeats each pixel `size` times along height and width (nearest-neighbour upsampling).
public final class UpSampling2D: Layer {
    public let size: (Int, Int)

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
}

/// Adds rows and columns of zeros around each image: ((top, bottom), (left, right)).
public final class ZeroPadding2D: Layer {
    public let padding: (top: Int, bottom: Int, left: Int, right: Int)

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
}
