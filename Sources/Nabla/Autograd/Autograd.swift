import CNablaKernels

// MARK: - Gradient mode

/// Whether ops on this thread record the graph for gradients (true unless inside ``withNoGrad(_:)``).
@inline(__always)
public var isGradEnabled: Bool { nabla_grad_enabled() != 0 }

/// Runs `body` without recording the autograd graph: results do not require gradients.
///
/// ```swift
/// let y = withNoGrad { model(x) }      // inference: no graph is kept
/// ```
@inline(__always)
/// - Parameters:
///   - body: the computation run without recording.
public func withNoGrad<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
    let previous = nabla_grad_enabled()
    nabla_set_grad_enabled(0)
    defer { nabla_set_grad_enabled(previous) }
    return try body()
}

/// Runs `body` with graph recording switched on, even inside ``withNoGrad(_:)``.
@inline(__always)
public func withGradEnabled<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
    let previous = nabla_grad_enabled()
    nabla_set_grad_enabled(1)
    defer { nabla_set_grad_enabled(previous) }
    return try body()
}

// MARK: - Recording ops

extension Tensor {
    /// Attaches an interior node to this freshly computed result when gradients are being recorded
    /// and any input requires them; otherwise returns the result unchanged.
    ///
    /// `backward` must not capture the result with its node (that would be a cycle): capture the
    /// node-less value the op computed, as every op here does.
    @inline(__always)
    func recorded(_ op: StaticString, _ a: Tensor, backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard a.node != nil, nabla_grad_enabled() != 0 else { return self }
        var out = self
        out.node = GradNode(op: op, shape: shape, dtype: dtype, inputs: [a.node], backward: backward)
        return out
    }

    @inline(__always)
    func recorded(_ op: StaticString, _ a: Tensor, _ b: Tensor, backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard a.node != nil || b.node != nil, nabla_grad_enabled() != 0 else { return self }
        var out = self
        out.node = GradNode(op: op, shape: shape, dtype: dtype, inputs: [a.node, b.node], backward: backward)
        return out
    }

    func recorded(_ op: StaticString, _ inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard nabla_grad_enabled() != 0, inputs.contains(where: { $0.node != nil }) else { return self }
        var out = self
        out.node = GradNode(op: op, shape: shape, dtype: dtype, inputs: inputs.map(\.node), backward: backward)
        return out
    }
}

// MARK: - Leaves, gradients, backward

extension Tensor {
    /// Whether gradients flow to (a leaf) or through (an op result) this tensor.
    public var requiresGrad: Bool { node != nil }

    /// Whether this tensor is a leaf of the graph (made by the user, not by an op that records).
    public var isLeaf: Bool { node?.isLeaf ?? true }

    /// A copy of this tensor that is a new leaf of the graph: `backward()` accumulates into its `grad`.
    ///
    /// ```swift
    /// let w = Tensor([1.0, 2.0]).requiringGrad()
    /// (w * w).sum().backward()
    /// w.grad!   // [2, 4]
    /// ```
    /// - Parameters:
    ///   - requires: whether gradients flow to this tensor.
    public func requiringGrad(_ requires: Bool = true) -> Tensor {
        var out = self
        if requires {
            nablaPrecondition(dtype.isFloatingPoint, "requiringGrad: only float32 and float64 tensors can require gradients, not \(dtype)")
            out.node = GradNode(leafShape: shape, dtype: dtype)
        } else {
            out.node = nil
        }
        return out
    }

    /// The same values, cut from the graph: no gradient flows through the result.
    public func detached() -> Tensor {
        Tensor(shape: shape, dtype: dtype, storage: storage)
    }

    /// The gradient accumulated by `backward()` into this leaf, or nil if none has arrived (a
    /// row-sparse part, see `sparseGrad`, is added in densely).
    public var grad: Tensor? {
        guard let node, node.isLeaf else { return nil }
        guard let sparse = node.sparseGrad else { return node.grad }
        return node.grad.map { $0 + sparse.dense() } ?? sparse.dense()
    }

    /// Clears this leaf's accumulated gradient (dense and sparse).
    public func zeroGrad() {
        if let node, node.isLeaf {
            node.grad = nil
            node.sparseGrad = nil
        }
    }

    /// Replaces this leaf's gradient (for optimizers and gradient clipping).
    public func setGrad(_ g: Tensor?) {
        guard let node, node.isLeaf else { return }
        if let g {
            nablaPrecondition(g.shape == shape, "setGrad: gradient of shape \(g.shape) for a tensor of shape \(shape)")
        }
        node.grad = g?.detached()
        node.sparseGrad = nil
    }

    /// Computes the gradient of this tensor with respect to every leaf that requires gradients,
    /// accumulating it into their `grad`, and then releases the graph.
    ///
    /// For a tensor with more than one element, pass the gradient of the final objective with respect
    /// to it as `gradient` (as PyTorch's `backward(gradient)`).
    ///
    /// ```swift
    /// let x = Tensor([1.0, 2.0, 3.0]).requiringGrad()
    /// let y = (x * x).sum()
    /// y.backward()
    /// x.grad!      // [2, 4, 6]
    /// ```
    /// - Parameters:
    ///   - gradient: the gradient of the final result with respect to this tensor (1 for a scalar loss when nil).
    public func backward(_ gradient: Tensor? = nil) {
        backward(gradient, watching: [], whenReady: { _ in })
    }

    /// `backward()` that calls `ready(i)` as soon as the gradient of `leaves[i]` is final — when the
    /// last op that reads it has passed its gradient back — while the rest of the graph is still being
    /// walked. Data-parallel training starts reducing a bucket of gradients across processes there, as
    /// PyTorch DDP's hooks do, overlapping communication with the rest of the backward pass. Leaves
    /// the graph does not reach are reported at the end.
    ///
    /// ```swift
    /// loss.backward(watching: parameters.map(\.value)) { i in buckets.gradientReady(i) }
    /// ```
    /// - Parameters:
    ///   - gradient: the seed gradient (ones for a scalar when nil).
    ///   - leaves: the leaf tensors to report.
    ///   - ready: called once per leaf, with its index in `leaves`.
    public func backward(_ gradient: Tensor? = nil, watching leaves: [Tensor], whenReady ready: (Int) -> Void) {
        guard let root = node else {
            fatalError("backward: the tensor does not require gradients (no input was made with requiringGrad(), or it was computed inside withNoGrad)")
        }
        let seed: Tensor
        if let gradient {
            nablaPrecondition(gradient.shape == shape, "backward: gradient of shape \(gradient.shape) for a tensor of shape \(shape)")
            seed = gradient.detached()
        } else {
            nablaPrecondition(count == 1, "backward: called on a tensor of shape \(shape); pass a gradient for non-scalar outputs")
            seed = Tensor.ones(shape, dtype: dtype)
        }
        if root.isLeaf {
            root.accumulate(seed)
            for i in leaves.indices { ready(i) }
            return
        }
        let order = Autograd.topologicalOrder(from: root)
        // For each watched leaf, the step of the walk after which nothing more flows into it.
        var watched: [ObjectIdentifier: [Int]] = [:]
        for (i, leaf) in leaves.enumerated() {
            if let n = leaf.node { watched[ObjectIdentifier(n), default: []].append(i) }
        }
        var readyAfter: [Int: [Int]] = [:], reported = Set<Int>()
        if !watched.isEmpty {
            var last: [ObjectIdentifier: Int] = [:]
            for (step, node) in order.reversed().enumerated() where !node.isLeaf {
                for case let input? in node.inputs where watched[ObjectIdentifier(input)] != nil { last[ObjectIdentifier(input)] = step }
            }
            for (id, step) in last { readyAfter[step, default: []] += watched[id]! }
        }
        root.grad = seed
        withNoGrad {
            for (step, node) in order.reversed().enumerated() {
                defer {
                    for i in readyAfter[step] ?? [] where reported.insert(i).inserted { ready(i) }
                }
                guard let g = node.grad else { continue }
                if node.isLeaf { continue }
                guard let fn = node.backward else {
                    fatalError("backward: the graph through \(node.op) was already released by an earlier backward()")
                }
                node.grad = nil
                let grads = Profiler.isEnabled ? Profiler.measure("\(node.op) backward") { fn(g) } : fn(g)
                for (input, gi) in zip(node.inputs, grads) {
                    if let input, let gi { input.accumulate(gi) }
                }
                node.backward = nil
                node.inputs = []
            }
        }
        for i in leaves.indices where !reported.contains(i) { ready(i) }
    }
}

/// The graph walk behind `backward()`.
enum Autograd {
    nonisolated(unsafe) private static var passCounter: UInt64 = 0
    private static let counterLock = Lock()

    /// Nodes reachable from `root`, each after all of its inputs.
    static func topologicalOrder(from root: GradNode) -> [GradNode] {
        counterLock.lock()
        passCounter &+= 1
        let mark = passCounter
        counterLock.unlock()
        var order: [GradNode] = []
        var stack: [(GradNode, Int)] = [(root, 0)]
        root.visitMark = mark
        while let (node, next) = stack.last {
            if next < node.inputs.count {
                stack[stack.count - 1].1 = next + 1
                if let child = node.inputs[next], child.visitMark != mark {
                    child.visitMark = mark
                    stack.append((child, 0))
                }
            } else {
                stack.removeLast()
                order.append(node)
            }
        }
        return order
    }
}

// MARK: - Functional gradients

/// The value of `f` at `inputs` and its gradient with respect to each input.
///
/// `f` must return a single-element tensor. Inputs that `f` does not use get zero gradients.
///
/// ```swift
/// let (value, grads) = valueAndGradient(at: [Tensor([3.0])]) { xs in (xs[0] * xs[0]).sum() }
/// // value 9, grads[0] = [6]
/// ```
/// - Parameters:
///   - inputs: the point.
///   - f: a scalar function of the tensors.
public func valueAndGradient(at inputs: [Tensor], of f: ([Tensor]) -> Tensor) -> (value: Tensor, gradients: [Tensor]) {
    let leaves = inputs.map { $0.detached().requiringGrad() }
    let value = withGradEnabled { f(leaves) }
    if value.requiresGrad { value.backward() }
    let grads = leaves.map { $0.grad ?? Tensor.zeros($0.shape, dtype: $0.dtype) }
    return (value.detached(), grads)
}

/// The gradient of the single-element result of `f` with respect to `x`.
///
/// ```swift
/// let g = gradient(at: Tensor([1.0, 2.0])) { x in (x * x).sum() }   // [2, 4]
/// ```
/// - Parameters:
///   - x: the point.
///   - f: a scalar function of one tensor.
public func gradient(at x: Tensor, of f: (Tensor) -> Tensor) -> Tensor {
    valueAndGradient(at: [x]) { f($0[0]) }.gradients[0]
}

extension Tensor {
    /// The autograd node, as an opaque object, so tests can check that graphs are released.
    public var internalNodeForTesting: AnyObject? { node }
}
