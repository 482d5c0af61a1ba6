/// One vertex of the autograd graph.
///
/// A leaf node belongs to a tensor created with `requiringGrad()` and holds its accumulated
/// gradient. An interior node belongs to an op's result: it holds the op's inputs' nodes and the
/// closure, written next to the op's forward code, that maps the result's gradient to the inputs'.
@usableFromInline
final class GradNode {
    /// The inputs' nodes, aligned with the gradients `backward` returns (nil: needs no gradient).
    var inputs: [GradNode?]
    /// Maps the gradient of the result to gradients of the inputs; nil for leaves and once released.
    var backward: ((Tensor) -> [Tensor?])?
    /// A leaf's accumulated gradient, or an interior node's pending gradient during a backward pass.
    var grad: Tensor?
    /// A leaf's row-sparse gradient from lookups that asked for one (kept apart from `grad`).
    var sparseGrad: RowSparseGradient?
    let isLeaf: Bool
    let shape: [Int]
    let dtype: DType
    /// Marks nodes already visited by the current backward pass's topological sort.
    var visitMark: UInt64 = 0
    /// The op that created the node, for error messages.
    let op: StaticString

    init(leafShape shape: [Int], dtype: DType) {
        self.inputs = []
        self.backward = nil
        self.isLeaf = true
        self.shape = shape
        self.dtype = dtype
        self.op = "leaf"
    }

    init(op: StaticString, shape: [Int], dtype: DType, inputs: [GradNode?], backward: @escaping (Tensor) -> [Tensor?]) {
        self.inputs = inputs
        self.backward = backward
        self.isLeaf = false
        self.shape = shape
        self.dtype = dtype
        self.op = op
    }

    /// Adds `g` to this node's gradient (the sum over every path that reaches it).
    @inline(__always)
    func accumulate(_ g: Tensor) {
        nablaPrecondition(g.shape == shape, "autograd: \(op) produced a gradient of shape \(g.shape) for a tensor of shape \(shape)")
        if let existing = grad {
            grad = existing + g
        } else {
            grad = g.dtype == dtype ? g : g.cast(to: dtype)
        }
    }
}
