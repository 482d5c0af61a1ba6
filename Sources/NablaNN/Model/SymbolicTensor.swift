import Nabla

/// A placeholder for a batch of data in a functional model: it has a shape (batch left free) and
/// remembers which layer produced it from which inputs. Calling a layer on it records the graph.
///
/// ```swift
/// let inputs = Input(shape: [2])
/// let hidden = Dense(units: 3)(inputs)
/// hidden.shape   // [nil, 3]
/// ```
public final class SymbolicTensor: @unchecked Sendable {
    /// The shape, with `nil` for the batch dimension.
    public let shape: [Int?]
    public let dtype: DType
    /// The layer that produced it (an ``InputLayer`` for model inputs) and that layer's inputs.
    public let layer: Layer
    public let inputs: [SymbolicTensor]

    init(shape: [Int?], dtype: DType, layer: Layer, inputs: [SymbolicTensor]) {
        self.shape = shape
        self.dtype = dtype
        self.layer = layer
        self.inputs = inputs
    }

    /// The shape of one sample.
    public var sampleShape: [Int] { shape.dropFirst().map { $0 ?? 1 } }
}

/// A symbolic model input with per-sample `shape` (Keras's `Input`).
///
/// ```swift
/// let inputs = Input(shape: [784])
/// ```
public func Input(shape: [Int], dtype: DType = .float32, name: String? = nil) -> SymbolicTensor {
    let layer = InputLayer(shape: shape, dtype: dtype, name: name)
    return SymbolicTensor(shape: [nil] + shape, dtype: dtype, layer: layer, inputs: [])
}

/// The layer behind a model input: it checks and passes data through.
public final class InputLayer: Layer {
    public let shape: [Int]
    public let dtype: DType

    public init(shape: [Int], dtype: DType = .float32, name: String? = nil) {
        self.shape = shape
        self.dtype = dtype
        super.init(name: name ?? LayerNames.unique("input_layer"))
        buildIfNeeded([shape])
    }
}

extension Layer {
    /// Applies the layer to a symbolic tensor: builds it and records the call in the graph.
    public func callAsFunction(_ x: SymbolicTensor) -> SymbolicTensor { self([x]) }

    /// Applies a multi-input layer to symbolic tensors.
    public func callAsFunction(_ xs: [SymbolicTensor]) -> SymbolicTensor {
        let shapes = xs.map(\.sampleShape)
        buildIfNeeded(shapes)
        do {
            try validate(inputShapes: shapes)
        } catch {
            fatalError(error.description)
        }
        let out = outputShape(for: shapes)
        return SymbolicTensor(shape: [nil] + out.map { Optional($0) }, dtype: xs[0].dtype, layer: self, inputs: xs)
    }
}
