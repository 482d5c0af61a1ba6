import Nabla

/// A trainable tensor owned by a module: a leaf of the autograd graph that optimizers update in
/// place. Modules find their parameters by reflection, so a layer only declares them.
///
/// ```swift
/// final class Scale: Layer {
///     let factor = Parameter(Tensor([1.0]))
///     override func forward(_ x: Tensor) -> Tensor { x * factor.value }
/// }
/// ```
public final class Parameter: @unchecked Sendable {
    /// The current value; it requires gradients while the parameter is trainable.
    public private(set) var value: Tensor
    /// Whether optimizers update it and gradients flow to it.
    public var trainable: Bool {
        didSet { value = value.detached().requiringGrad(trainable) }
    }

    public init(_ value: Tensor, trainable: Bool = true) {
        self.trainable = trainable
        self.value = value.detached().requiringGrad(trainable)
    }

    /// The gradient accumulated by the last `backward()` calls, if any.
    public var grad: Tensor? { value.grad }

    /// The shape of the value.
    public var shape: [Int] { value.shape }

    /// Replaces the value (loading weights): the new value becomes a fresh leaf.
    public func assign(_ newValue: Tensor) {
        value = newValue.detached().copy().requiringGrad(trainable)
    }
}
