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

    /// - Parameters:
    ///   - filters: output channels.
    ///   - kernelSize: the window (height, width).
    ///   - strides: steps between windows (vertical, horizontal).
    ///   - padding: `.valid` (no padding) or `.same` (output size ⌈input / stride⌉).
    ///   - dilationRate: spacing between window taps (vertical, horizontal).
    ///   - groups: split channels into this many groups convolved separately (channels and filters must divide).
    ///   - activation: applied to the output.
    ///   - useBias: whether to add a bias per filter.
    ///   - kernelInitializer: how the kernel starts.
    ///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
    public init(filters: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1), padding: Padding = .valid,
                dilationRate: (Int, Int) = (1, 1), groups: Int = 1, activation: ActivationFunction = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, name: String? = nil) {
        nablaPrecondition(filters > 0 && kernelSize.0 > 0 && kernelSize.1 > 0 && strides.0 > 0 && strides.1 > 0 && dilationRate.0 > 0 && dilationRate.1 > 0,
                   "Conv2D: filters, kernel size, strides and dilation must be positive")
        nablaPrecondition(groups > 0 && filters % groups == 0, "Conv2D: filters \(filters) must divide into \(groups) groups")
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
        nablaPrecondition(x.rank == 4, "\(name): expected input shape (None, height, width, channels), got \(x.shape)")
        let g = geometry(x.shape[1], x.shape[2])
        // ReLU, the usual case, is applied inside the convolution's GEMM as each output tile is finished.
        if activation == .relu { return conv2d(x, kernel!.value, bias?.value, geometry: g, groups: groups, relu: true) }
        return activation(conv2d(x, kernel!.value, bias?.value, geometry: g, groups: groups))
    }

    /// A PyTorch Conv2d weight [filters, channels/groups, kh, kw] in Nabla's layout [kh, kw, channels/groups, filters].
    public static func kernel(fromPyTorch w: Tensor) -> Tensor { w.permuted([2, 3, 1, 0]).detached() }

    public override var config: [String: JSONValue] {
        ["filters": JSONValue(filters), "kernel_size": JSONValue([kernelSize.0, kernelSize.1]), "strides": JSONValue([strides.0, strides.1]),
         "padding": JSONValue(padding.rawValue), "dilation_rate": JSONValue([dilationRate.0, dilationRate.1]), "groups": JSONValue(groups),
         "activation": JSONValue(activation.rawValue), "use_bias": JSONValue(useBias)]
    }
}

/// A 1-D convolution over sequences [batch, steps, channels], computed as a 2-D convolution of height 1.
public final class Conv1D: Layer {
    public let conv: Conv2D

    /// - Parameters:
    ///   - filters: output channels.
    ///   - kernelSize: the window in steps.
    ///   - strides: steps between windows.
    ///   - padding: `.valid` or `.same`.
    ///   - dilationRate: spacing between window taps.
    ///   - groups: channel groups convolved separately.
    ///   - activation: applied to the output.
    ///   - useBias: whether to add a bias per filter.
    ///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
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

    /// The 2-D convolution's settings with each window, stride and dilation as its width alone.
    public override var config: [String: JSONValue] {
        conv.config.mapValues { $0.array?.last ?? $0 }
    }
}

extension Conv2D: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let (filters, groups) = try c.filtersAndGroups()
        return Conv2D(filters: filters, kernelSize: try c.pair("kernel_size"), strides: try c.pair("strides"), padding: try c.padding(),
                      dilationRate: try c.pair("dilation_rate"), groups: groups, activation: try c.activation(), useBias: try c.bool("use_bias"), name: c.name)
    }
}

extension Conv1D: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let (filters, groups) = try c.filtersAndGroups()
        return Conv1D(filters: filters, kernelSize: try c.positive("kernel_size"), strides: try c.positive("strides"), padding: try c.padding(),
                      dilationRate: try c.positive("dilation_rate"), groups: groups, activation: try c.activation(), useBias: try c.bool("use_bias"), name: c.name)
    }
}
