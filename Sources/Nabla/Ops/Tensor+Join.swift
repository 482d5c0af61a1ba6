// Joining and splitting along an axis: concatenate, stack, split, narrow.

/// Tensors joined along an existing `axis`; all other dimensions must agree.
///
/// ```swift
/// concatenate([Tensor([[1, 2]]), Tensor([[3, 4]])], axis: 0)   // [[1, 2], [3, 4]]
/// ```
/// - Parameters:
///   - tensors: tensors whose shapes agree except along `axis`.
///   - axis: the axis to join along.
public func concatenate(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
    nablaPrecondition(!tensors.isEmpty, "concatenate: needs at least one tensor")
    let first = tensors[0]
    nablaPrecondition(first.rank > 0, "concatenate: cannot join scalars; use stack")
    let a = Shape.normalize(axis: axis, rank: first.rank, op: "concatenate")
    var outShape = first.shape
    outShape[a] = 0
    for (i, t) in tensors.enumerated() {
        nablaPrecondition(t.dtype == first.dtype, "concatenate: tensor \(i) is \(t.dtype), tensor 0 is \(first.dtype)")
        var s = t.shape, f = first.shape
        nablaPrecondition(s.count == f.count, "concatenate: tensor \(i) has shape \(t.shape), tensor 0 has \(first.shape): ranks differ")
        s[a] = 0; f[a] = 0
        nablaPrecondition(s == f, "concatenate: tensor \(i) has shape \(t.shape), tensor 0 has \(first.shape): only axis \(a) may differ")
        outShape[a] += t.shape[a]
    }
    let out = Tensor(uninitializedShape: outShape, dtype: first.dtype)
    let outer = Shape.elementCount(Array(outShape[..<a]))
    let inner = Shape.elementCount(Array(outShape[(a + 1)...]))
    let size = first.dtype.byteSize
    let outRow = outShape[a] * inner * size
    var column = 0
    for t in tensors {
        let chunk = t.shape[a] * inner * size
        for o in 0..<outer {
            (out.rawPointer + o * outRow + column).copyMemory(from: t.rawPointer + o * chunk, byteCount: chunk)
        }
        column += chunk
    }
    let sizes = tensors.map { $0.shape[a] }
    return out.recorded("concatenate", tensors) { g in
        var start = 0
        return sizes.map { n in
            defer { start += n }
            return g.narrowed(axis: a, start: start, length: n)
        }
    }
}

/// Tensors of one shape joined along a new `axis`.
///
/// ```swift
/// stack([Tensor([1, 2]), Tensor([3, 4])], axis: 0).shape   // [2, 2]
/// ```
/// - Parameters:
///   - tensors: tensors of one shape.
///   - axis: where the new axis goes.
public func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
    nablaPrecondition(!tensors.isEmpty, "stack: needs at least one tensor")
    for (i, t) in tensors.enumerated() {
        nablaPrecondition(t.shape == tensors[0].shape, "stack: tensor \(i) has shape \(t.shape), tensor 0 has \(tensors[0].shape)")
    }
    let a = axis < 0 ? axis + tensors[0].rank + 1 : axis
    return concatenate(tensors.map { $0.unsqueezed(axis: a) }, axis: a)
}

extension Tensor {
    /// `length` consecutive entries of `axis` from `start` (PyTorch's `narrow`).
    public func narrowed(axis: Int, start: Int, length: Int) -> Tensor {
        let a = Shape.normalize(axis: axis, rank: rank, op: "narrow")
        nablaPrecondition(start >= 0 && length >= 0 && start + length <= shape[a],
                     "narrow: \(start)..<\(start + length) is out of range for axis \(a) of \(shape)")
        var specs = shape.map { SliceSpec(start: 0, count: $0, step: 1) }
        specs[a] = SliceSpec(start: start, count: length, step: 1)
        return slice(specs)
    }

    /// The tensor cut along `axis` into parts of the given `sizes`, which must add up to its size.
    ///
    /// ```swift
    /// let parts = Tensor.arange(0, 5).split(sizes: [2, 3])   // [0, 1] and [2, 3, 4]
    /// ```
    /// - Parameters:
    ///   - sizes: the length of each part along `axis` (they add up to its size).
    ///   - axis: the axis to split.
    public func split(sizes: [Int], axis: Int = 0) -> [Tensor] {
        let a = Shape.normalize(axis: axis, rank: rank, op: "split")
        nablaPrecondition(sizes.reduce(0, +) == shape[a], "split: sizes \(sizes) add up to \(sizes.reduce(0, +)), axis \(a) of \(shape) has \(shape[a])")
        var start = 0
        return sizes.map { n in
            defer { start += n }
            return narrowed(axis: a, start: start, length: n)
        }
    }

    /// The tensor cut along `axis` into `parts` equal parts.
    /// - Parameters:
    ///   - parts: how many equal parts (must divide the axis).
    ///   - axis: the axis to split.
    public func split(parts: Int, axis: Int = 0) -> [Tensor] {
        let a = Shape.normalize(axis: axis, rank: rank, op: "split")
        nablaPrecondition(parts > 0 && shape[a] % parts == 0, "split: axis \(a) of \(shape) does not divide into \(parts) equal parts")
        return split(sizes: Array(repeating: shape[a] / parts, count: parts), axis: a)
    }
}
