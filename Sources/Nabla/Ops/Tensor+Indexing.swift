// Slicing with ranges and steps, index selection and gathering, one-hot encoding.

/// One dimension of a slice: `count` entries from `start`, every `step`-th.
struct SliceSpec: Equatable {
    var start: Int
    var count: Int
    var step: Int
}

/// One entry of a tensor subscript.
public enum TensorIndex: Sendable {
    /// One position (negative counts from the end); the dimension is removed.
    case index(Int)
    /// Positions from `start` (default 0) to `end` (default: the size, excluded), every `step`.
    case range(start: Int?, end: Int?, step: Int)
    /// As many whole dimensions as needed to fill the rest of the subscript.
    case ellipsis
    /// A new dimension of size 1.
    case newAxis
}

/// A value that can appear in a tensor subscript: `Int`, Swift's ranges, `stride(from:to:by:)`
/// and the ``TensorIndex`` cases `.all`, `.ellipsis`, `.newAxis`.
///
/// ```swift
/// x[0]                              // first row
/// x[1..<3, .all]                    // rows 1 and 2
/// x[.ellipsis, 0]                   // first entry of the last axis
/// x[stride(from: 0, to: 10, by: 2)] // every other row
/// ```
public protocol TensorIndexConvertible {
    var tensorIndex: TensorIndex { get }
}

extension TensorIndex: TensorIndexConvertible {
    public var tensorIndex: TensorIndex { self }
}

extension TensorIndexConvertible where Self == TensorIndex {
    /// The whole dimension.
    public static var all: TensorIndex { .range(start: nil, end: nil, step: 1) }
}

extension Int: TensorIndexConvertible {
    public var tensorIndex: TensorIndex { .index(self) }
}
extension Range<Int>: TensorIndexConvertible {
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: upperBound, step: 1) }
}
extension ClosedRange<Int>: TensorIndexConvertible {
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: upperBound + 1, step: 1) }
}
extension PartialRangeFrom<Int>: TensorIndexConvertible {
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: nil, step: 1) }
}
extension PartialRangeUpTo<Int>: TensorIndexConvertible {
    public var tensorIndex: TensorIndex { .range(start: nil, end: upperBound, step: 1) }
}
extension PartialRangeThrough<Int>: TensorIndexConvertible {
    public var tensorIndex: TensorIndex { .range(start: nil, end: upperBound + 1, step: 1) }
}
extension StrideTo<Int>: TensorIndexConvertible {
    public var tensorIndex: TensorIndex {
        // StrideTo hides its bounds; read them back from its elements.
        var it = makeIterator()
        guard let first = it.next() else { return .range(start: 0, end: 0, step: 1) }
        let second = it.next()
        let step = second.map { $0 - first } ?? 1
        let last = reversed().first ?? first
        return .range(start: first, end: last + 1, step: Swift.max(step, 1))
    }
}

extension Tensor {
    /// A slice of the tensor, NumPy style (see ``TensorIndexConvertible``). Gradients flow back
    /// into the sliced positions.
    ///
    /// ```swift
    /// let x = Tensor.arange(0, 12).reshaped([3, 4])
    /// x[1]                 // [4, 5, 6, 7]
    /// x[0..<2, 1...]       // [[1, 2, 3], [5, 6, 7]]
    /// x[.all, stride(from: 0, to: 4, by: 2)]   // columns 0 and 2
    /// ```
    public subscript(_ indices: any TensorIndexConvertible...) -> Tensor {
        self[indices.map(\.tensorIndex)]
    }

    /// A slice from an array of ``TensorIndex`` entries.
    public subscript(indices indices: [TensorIndex]) -> Tensor { self[indices] }

    subscript(_ indices: [TensorIndex]) -> Tensor {
        let consumed = indices.filter { if case .newAxis = $0 { return false }; if case .ellipsis = $0 { return false }; return true }.count
        let ellipses = indices.filter { if case .ellipsis = $0 { return true }; return false }.count
        nablaPrecondition(ellipses <= 1, "subscript: at most one ellipsis")
        nablaPrecondition(consumed <= rank, "subscript: \(consumed) indices for a tensor of rank \(rank) and shape \(shape)")
        var expanded: [TensorIndex] = []
        for i in indices {
            if case .ellipsis = i {
                expanded += Array(repeating: .range(start: nil, end: nil, step: 1), count: rank - consumed)
            } else {
                expanded.append(i)
            }
        }
        var specs: [SliceSpec] = []
        var finalShape: [Int] = []
        var d = 0
        for i in expanded {
            switch i {
            case .newAxis:
                finalShape.append(1)
            case .index(let k):
                let size = shape[d]
                let p = k < 0 ? k + size : k
                nablaPrecondition(p >= 0 && p < size, "subscript: index \(k) is out of range for axis \(d) of size \(size)")
                specs.append(SliceSpec(start: p, count: 1, step: 1))
                d += 1
            case .range(let s, let e, let step):
                nablaPrecondition(step > 0, "subscript: step \(step) must be positive")
                let size = shape[d]
                func clampBound(_ v: Int?, _ def: Int) -> Int {
                    guard let v else { return def }
                    let p = v < 0 ? v + size : v
                    return Swift.min(Swift.max(p, 0), size)
                }
                let lo = clampBound(s, 0), hi = clampBound(e, size)
                let n = hi > lo ? (hi - lo + step - 1) / step : 0
                specs.append(SliceSpec(start: lo, count: n, step: step))
                finalShape.append(n)
                d += 1
            case .ellipsis:
                break
            }
        }
        while d < rank {
            specs.append(SliceSpec(start: 0, count: shape[d], step: 1))
            finalShape.append(shape[d])
            d += 1
        }
        return slice(specs).reshaped(finalShape)
    }

    /// The strided sub-tensor described by one spec per dimension.
    func slice(_ specs: [SliceSpec]) -> Tensor {
        let outShape = specs.map(\.count)
        if specs == shape.map({ SliceSpec(start: 0, count: $0, step: 1) }) { return self }
        let own = Shape.strides(shape)
        var offset = 0
        var strides: [Int] = []
        for (d, s) in specs.enumerated() {
            offset += s.start * own[d]
            strides.append(s.step * own[d])
        }
        let out = Tensor(uninitializedShape: outShape, dtype: dtype)
        StridedCopy.gather(from: rawPointer, offset: offset, strides: strides, shape: outShape, to: out.rawPointer, elementSize: dtype.byteSize)
        let inShape = shape
        return out.recorded("slice", self) { g in
            let dx = Tensor.zeros(inShape, dtype: g.dtype)
            StridedCopy.scatter(from: g.rawPointer, to: dx.rawPointer, offset: offset, strides: strides, shape: outShape, elementSize: g.dtype.byteSize)
            return [dx]
        }
    }

    /// Entries of `axis` picked by integer `indices` (NumPy's `take`, PyTorch's `index_select`
    /// generalised to any index shape): the axis is replaced by the indices' dimensions.
    ///
    /// ```swift
    /// let table = Tensor([[0, 0], [1, 1], [2, 2]])
    /// table.indexSelect(Tensor([2, 0], dtype: .int32), axis: 0)   // [[2, 2], [0, 0]]
    /// ```
    /// - Parameters:
    ///   - indices: int32 positions along `axis`.
    ///   - axis: the axis to pick from.
    public func indexSelect(_ indices: Tensor, axis: Int = 0) -> Tensor {
        nablaPrecondition(indices.dtype == .int32, "index_select: indices must be int32, got \(indices.dtype)")
        let a = Shape.normalize(axis: axis, rank: rank, op: "index_select")
        let outer = Shape.elementCount(Array(shape[..<a])), size = shape[a], inner = Shape.elementCount(Array(shape[(a + 1)...]))
        let idx = indices.pointer(Int32.self), m = indices.count
        for j in 0..<m {
            nablaPrecondition(idx[j] >= 0 && Int(idx[j]) < size, "index_select: index \(idx[j]) is out of range for axis \(a) of size \(size)")
        }
        let outShape = Array(shape[..<a]) + indices.shape + Array(shape[(a + 1)...])
        let out = Tensor(uninitializedShape: outShape, dtype: dtype)
        let bytes = inner * dtype.byteSize
        if dtype.byteSize == 4 && inner <= 64 {
            // Narrow rows of 4-byte elements (embedding rows, biases): a plain loop beats a memcpy call per row.
            let src = rawPointer.assumingMemoryBound(to: UInt32.self), dst = out.rawPointer.assumingMemoryBound(to: UInt32.self)
            for o in 0..<outer {
                for j in 0..<m {
                    let from = src + (o * size + Int(idx[j])) * inner, to = dst + (o * m + j) * inner
                    for c in 0..<inner { to[c] = from[c] }
                }
            }
        } else {
            for o in 0..<outer {
                for j in 0..<m {
                    (out.rawPointer + (o * m + j) * bytes).copyMemory(from: rawPointer + (o * size + Int(idx[j])) * bytes, byteCount: bytes)
                }
            }
        }
        let inShape = shape
        let kept = indices.detached() // the closure must own the indices' storage
        return out.recorded("index_select", self) { g in
            let idx = kept.pointer(Int32.self)
            let dx = Tensor.zeros(inShape, dtype: g.dtype)
            switch g.dtype {
            case .float32: Tensor.indexAdd(g.pointer(Float.self), dx.pointer(Float.self), idx, outer, m, size, inner)
            default: Tensor.indexAdd(g.pointer(Double.self), dx.pointer(Double.self), idx, outer, m, size, inner)
            }
            return [dx]
        }
    }

    private static func indexAdd<T: FloatingElement>(_ g: UnsafeMutablePointer<T>, _ dx: UnsafeMutablePointer<T>, _ idx: UnsafeMutablePointer<Int32>,
                                                     _ outer: Int, _ m: Int, _ size: Int, _ inner: Int) {
        for o in 0..<outer {
            for j in 0..<m {
                let src = g + (o * m + j) * inner, dst = dx + (o * size + Int(idx[j])) * inner
                for i in 0..<inner { dst[i] += src[i] }
            }
        }
    }

    /// Values picked along `axis` by an index tensor of the same rank (PyTorch's `gather`,
    /// NumPy's `take_along_axis`): `out[i][j] = x[i][indices[i][j]]` for `axis` 1.
    ///
    /// ```swift
    /// let logp = Tensor([[0.1, 0.9], [0.8, 0.2]])
    /// logp.gather(Tensor([[1], [0]], dtype: .int32), axis: 1)   // [[0.9], [0.8]]
    /// ```
    /// - Parameters:
    ///   - indices: int32 positions, shaped as the result.
    ///   - axis: the axis the positions index.
    public func gather(_ indices: Tensor, axis: Int) -> Tensor {
        nablaPrecondition(indices.dtype == .int32, "gather: indices must be int32, got \(indices.dtype)")
        let a = Shape.normalize(axis: axis, rank: rank, op: "gather")
        nablaPrecondition(indices.rank == rank, "gather: indices of shape \(indices.shape) need the rank of \(shape)")
        for d in 0..<rank where d != a {
            nablaPrecondition(indices.shape[d] == shape[d], "gather: indices of shape \(indices.shape) and input \(shape) differ in axis \(d)")
        }
        let outer = Shape.elementCount(Array(shape[..<a])), size = shape[a], inner = Shape.elementCount(Array(shape[(a + 1)...]))
        let m = indices.shape[a]
        let idx = indices.pointer(Int32.self)
        for j in 0..<indices.count {
            nablaPrecondition(idx[j] >= 0 && Int(idx[j]) < size, "gather: index \(idx[j]) is out of range for axis \(a) of size \(size)")
        }
        let out = Tensor(uninitializedShape: indices.shape, dtype: dtype)
        let es = dtype.byteSize
        for o in 0..<outer {
            for j in 0..<m {
                for i in 0..<inner {
                    let k = Int(idx[(o * m + j) * inner + i])
                    (out.rawPointer + ((o * m + j) * inner + i) * es).copyMemory(from: rawPointer + ((o * size + k) * inner + i) * es, byteCount: es)
                }
            }
        }
        let inShape = shape
        let kept = indices.detached() // the closure must own the indices' storage
        return out.recorded("gather", self) { g in
            let idx = kept.pointer(Int32.self)
            let dx = Tensor.zeros(inShape, dtype: g.dtype)
            for o in 0..<outer {
                for j in 0..<m {
                    for i in 0..<inner {
                        let k = Int(idx[(o * m + j) * inner + i])
                        let src = (o * m + j) * inner + i, dst = (o * size + k) * inner + i
                        if g.dtype == .float32 {
                            dx.pointer(Float.self)[dst] += g.pointer(Float.self)[src]
                        } else {
                            dx.pointer(Double.self)[dst] += g.pointer(Double.self)[src]
                        }
                    }
                }
            }
            return [dx]
        }
    }
}

/// One-hot rows for integer class labels: shape `indices.shape + [depth]`.
///
/// ```swift
/// oneHot(Tensor([0, 2], dtype: .int32), depth: 3)   // [[1, 0, 0], [0, 0, 1]]
/// ```
/// - Parameters:
///   - indices: int32 class labels.
///   - depth: the number of classes.
///   - dtype: the result's dtype.
public func oneHot(_ indices: Tensor, depth: Int, dtype: DType = .float32) -> Tensor {
    nablaPrecondition(indices.dtype == .int32, "one_hot: indices must be int32, got \(indices.dtype)")
    let out = Tensor.zeros(indices.shape + [depth], dtype: dtype)
    let idx = indices.pointer(Int32.self)
    for j in 0..<indices.count {
        let k = Int(idx[j])
        nablaPrecondition(k >= 0 && k < depth, "one_hot: index \(k) is out of range for depth \(depth)")
        out.setElement(1, at: j * depth + k)
    }
    return out
}
