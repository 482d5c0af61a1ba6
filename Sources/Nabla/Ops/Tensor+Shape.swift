// Reshaping and reordering dimensions. Reshape shares storage; the others copy into a new
// contiguous tensor. Each op's gradient undoes it.

extension Tensor {
    /// The same elements with a new shape; one dimension may be -1 (inferred). Shares storage.
    ///
    /// ```swift
    /// Tensor.arange(0, 6).reshaped([2, -1])   // shape [2, 3]
    /// ```
    /// - Parameters:
    ///   - newShape: the new shape, with as many elements; one entry may be −1.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let i = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            nablaPrecondition(known > 0 && count % known == 0, "reshape: cannot reshape \(shape) (\(count) elements) to \(newShape)")
            target[i] = count / known
        }
        nablaPrecondition(target.allSatisfy { $0 >= 0 } && Shape.elementCount(target) == count,
                     "reshape: cannot reshape \(shape) (\(count) elements) to \(newShape)")
        if target == shape { return self }
        let inShape = shape
        return viewed(target).recorded("reshape", self) { g in [g.viewed(inShape)] }
    }

    /// The tensor as one dimension.
    public func flattened() -> Tensor { reshaped([count]) }

    /// Dimensions reordered: result dimension i is input dimension `axes[i]`.
    ///
    /// ```swift
    /// Tensor.zeros([2, 3, 4]).permuted([2, 0, 1]).shape   // [4, 2, 3]
    /// ```
    /// - Parameters:
    ///   - axes: the new order of the axes.
    public func permuted(_ axes: [Int]) -> Tensor {
        nablaPrecondition(axes.count == rank, "permute: \(axes) does not list the \(rank) axes of \(shape)")
        let norm = axes.map { Shape.normalize(axis: $0, rank: rank, op: "permute") }
        nablaPrecondition(Set(norm).count == rank, "permute: \(axes) is not a permutation of the axes of \(shape)")
        if norm == Array(0..<rank) { return self }
        let own = Shape.strides(shape)
        let outShape = norm.map { shape[$0] }
        let out = Tensor(uninitializedShape: outShape, dtype: dtype)
        StridedCopy.gather(from: rawPointer, offset: 0, strides: norm.map { own[$0] }, shape: outShape,
                           to: out.rawPointer, elementSize: dtype.byteSize)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in norm.enumerated() { inverse[a] = i }
        return out.recorded("permute", self) { g in [g.permuted(inverse)] }
    }

    /// The last two dimensions swapped (a matrix transpose), or `axis0` and `axis1` swapped.
    ///
    /// ```swift
    /// Tensor([[1, 2, 3]]).transposed().shape   // [3, 1]
    /// ```
    /// - Parameters:
    ///   - axis0: one axis to swap.
    ///   - axis1: the other.
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) -> Tensor {
        if rank < 2 { return self }
        var axes = Array(0..<rank)
        axes.swapAt(Shape.normalize(axis: axis0, rank: rank, op: "transpose"), Shape.normalize(axis: axis1, rank: rank, op: "transpose"))
        return permuted(axes)
    }

    /// The matrix transpose of a 2-D tensor.
    public var T: Tensor { transposed() }

    /// Size-1 dimensions removed: all of them, or those in `axes`.
    /// - Parameters:
    ///   - axes: the size-1 axes to drop (all when nil).
    public func squeezed(axes: [Int]? = nil) -> Tensor {
        if let axes {
            let norm = axes.map { Shape.normalize(axis: $0, rank: rank, op: "squeeze") }
            for a in norm { nablaPrecondition(shape[a] == 1, "squeeze: axis \(a) of \(shape) has size \(shape[a]), not 1") }
            return reshaped(shape.enumerated().filter { !norm.contains($0.offset) }.map(\.element))
        }
        return reshaped(shape.filter { $0 != 1 })
    }

    /// A size-1 dimension inserted at `axis` (which may be `rank`, or negative from the end).
    ///
    /// ```swift
    /// Tensor([1, 2, 3]).unsqueezed(axis: 0).shape   // [1, 3]
    /// ```
    /// - Parameters:
    ///   - axis: where the new size-1 axis goes.
    public func unsqueezed(axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        nablaPrecondition(a >= 0 && a <= rank, "unsqueeze: axis \(axis) is out of range for a tensor of rank \(rank)")
        var s = shape
        s.insert(1, at: a)
        return reshaped(s)
    }

    /// The tensor repeated along size-1 (or missing leading) dimensions to `target`, as NumPy's
    /// `broadcast_to`; the gradient sums back.
    ///
    /// ```swift
    /// Tensor([1, 2]).broadcast(to: [3, 2])   // three rows of [1, 2]
    /// ```
    /// - Parameters:
    ///   - target: a shape this one broadcasts to (NumPy rules).
    public func broadcast(to target: [Int]) -> Tensor {
        if target == shape { return self }
        let check = shapeOrTrap { () throws(ShapeError) in try Shape.broadcast(shape, target, op: "broadcast_to") }
        nablaPrecondition(check == target, "broadcast_to: \(shape) cannot be broadcast to \(target)")
        let out = Tensor(uninitializedShape: target, dtype: dtype)
        if count == 1 {
            switch dtype.byteSize {
            case 8: out.pointer(UInt64.self).update(repeating: pointer(UInt64.self)[0], count: out.count)
            case 4: out.pointer(UInt32.self).update(repeating: pointer(UInt32.self)[0], count: out.count)
            default: out.pointer(UInt8.self).update(repeating: pointer(UInt8.self)[0], count: out.count)
            }
        } else {
            StridedCopy.gather(from: rawPointer, offset: 0, strides: Shape.broadcastStrides(shape, to: target), shape: target,
                               to: out.rawPointer, elementSize: dtype.byteSize)
        }
        let inShape = shape
        return out.recorded("broadcast", self) { g in [g.sumToShape(inShape)] }
    }

    /// `broadcast(to:)` under PyTorch's name.
    public func expanded(to target: [Int]) -> Tensor { broadcast(to: target) }
}
