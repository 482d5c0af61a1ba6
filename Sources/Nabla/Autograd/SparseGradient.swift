import CNablaKernels

/// A gradient that is zero except on some rows of a table: the gradient an embedding lookup
/// produces, holding only the rows a batch used (PyTorch's `sparse=True`, TensorFlow's
/// `IndexedSlices`). Each row appears once.
///
/// ```swift
/// let table = Tensor.randomNormal([50_000, 64]).requiringGrad()
/// embeddingLookup(table, ids, sparseGradient: true).sum().backward()
/// table.sparseGrad!.rows          // the distinct ids of the batch
/// table.sparseGrad!.values.shape  // [rows.count, 64]
/// ```
public struct RowSparseGradient: @unchecked Sendable {
    /// The distinct row indices, int32 [k].
    public let rows: Tensor
    /// The gradient of each of those rows, [k, columns...].
    public let values: Tensor
    /// The shape of the table.
    public let denseShape: [Int]
    /// Elements per row: the dense shape's product after the first axis.
    public var rowWidth: Int { denseShape.dropFirst().reduce(1, *) }

    public init(rows: Tensor, values: Tensor, denseShape: [Int]) {
        nablaPrecondition(rows.dtype == .int32 && rows.rank == 1 && values.shape.first == rows.count,
                          "RowSparseGradient: \(rows.count) rows for values of shape \(values.shape)")
        self.rows = rows
        self.values = values
        self.denseShape = denseShape
    }

    /// The gradient as a dense tensor of `denseShape`.
    public func dense() -> Tensor {
        let out = Tensor.zeros(denseShape, dtype: values.dtype)
        let width = values.count / Swift.max(rows.count, 1)
        let r = rows.pointer(Int32.self)
        switch values.dtype {
        case .float32: Self.scatter(values.pointer(Float.self), into: out.pointer(Float.self), r, rows.count, width)
        default: Self.scatter(values.pointer(Double.self), into: out.pointer(Double.self), r, rows.count, width)
        }
        return out
    }

    private static func scatter<T: FloatingElement>(_ v: UnsafeMutablePointer<T>, into out: UnsafeMutablePointer<T>, _ rows: UnsafeMutablePointer<Int32>,
                                                    _ k: Int, _ width: Int) {
        for i in 0..<k {
            let dst = out + Int(rows[i]) * width, src = v + i * width
            for c in 0..<width { dst[c] += src[c] }
        }
    }

    /// The sum of two sparse gradients of the same table (rows merged).
    public static func + (a: RowSparseGradient, b: RowSparseGradient) -> RowSparseGradient {
        let ids = concatenate([a.rows, b.rows], axis: 0)
        let values = concatenate([a.values, b.values], axis: 0)
        return coalescing(rows: ids, values: values, denseShape: a.denseShape)
    }

    /// Sums the values of repeated rows (float32 through the C kernel; float64 in Swift).
    public static func coalescing(rows: Tensor, values: Tensor, denseShape: [Int]) -> RowSparseGradient {
        let n = rows.count, width = values.count / Swift.max(n, 1)
        if values.dtype == .float32 {
            let outRows = Tensor(uninitializedShape: [n], dtype: .int32)
            let outValues = Tensor(uninitializedShape: [n, width], dtype: .float32)
            let k = nabla_embedding_bag_backward_f32(rows.pointer(Int32.self), n, 1, -1, 0, values.pointer(Float.self), width, denseShape[0],
                                                     outRows.pointer(Int32.self), outValues.pointer(Float.self))
            nablaPrecondition(k >= 0, "RowSparseGradient: out of memory")
            // The first k rows, over the same storage: a prefix of a contiguous buffer needs no copy.
            return RowSparseGradient(rows: Tensor(shape: [k], dtype: .int32, storage: outRows.storage),
                                     values: Tensor(shape: [k] + Array(denseShape.dropFirst()), dtype: .float32, storage: outValues.storage),
                                     denseShape: denseShape)
        }
        var slot: [Int32: Int] = [:]
        var order: [Int32] = []
        let r = rows.pointer(Int32.self), v = values.pointer(Double.self)
        var sums: [Double] = []
        for i in 0..<n {
            if let s = slot[r[i]] {
                for c in 0..<width { sums[s * width + c] += v[i * width + c] }
            } else {
                slot[r[i]] = order.count
                order.append(r[i])
                sums += UnsafeBufferPointer(start: v + i * width, count: width)
            }
        }
        return RowSparseGradient(rows: Tensor(values: order), values: Tensor(shape: [order.count] + Array(denseShape.dropFirst()), values: sums),
                                 denseShape: denseShape)
    }
}

extension Tensor {
    /// The row-sparse gradient accumulated into this leaf by lookups made with `sparseGradient: true`,
    /// or nil. `grad` includes it (densified); optimizers read it to update only those rows.
    public var sparseGrad: RowSparseGradient? {
        guard let node, node.isLeaf else { return nil }
        return node.sparseGrad
    }

    /// Whether this leaf's whole gradient is row-sparse (no dense part), so that an optimizer may
    /// update only `sparseGrad.rows`.
    public var isGradSparseOnly: Bool {
        guard let node, node.isLeaf else { return false }
        return node.grad == nil && node.sparseGrad != nil
    }

    /// Whether `backward()` left a gradient (dense or sparse) in this leaf.
    public var hasGrad: Bool {
        guard let node, node.isLeaf else { return false }
        return node.grad != nil || node.sparseGrad != nil
    }
}

extension GradNode {
    func accumulateSparse(_ g: RowSparseGradient) {
        sparseGrad = sparseGrad.map { $0 + g } ?? g
    }
}

/// Rows of `table` picked by `ids` (any shape): the result has shape ids.shape + table.shape[1...].
/// With `sparseGradient` (float32 leaf tables), the table's gradient is row-sparse — only the rows
/// used — so that an optimizer's step costs what the batch touched (`Tensor.sparseGrad`).
///
/// ```swift
/// let vectors = embeddingLookup(table, ids, sparseGradient: true)   // [batch, steps, 64]
/// ```
///
/// - Parameters:
///   - table: [rows, columns...] values.
///   - ids: int32 row indices.
///   - sparseGradient: give the table a row-sparse gradient instead of a dense one.
public func embeddingLookup(_ table: Tensor, _ ids: Tensor, sparseGradient: Bool = false) -> Tensor {
    guard sparseGradient, table.dtype == .float32, let leaf = table.node, leaf.isLeaf, isGradEnabled else {
        return table.indexSelect(ids, axis: 0)
    }
    let plain = table.detached().indexSelect(ids, axis: 0)
    let flat = ids.detached().reshaped([ids.count])
    let shape = table.shape
    return plain.recorded("embedding_lookup", table) { g in
        let width = g.count / Swift.max(flat.count, 1)
        leaf.accumulateSparse(.coalescing(rows: flat, values: g.reshaped([flat.count, width]), denseShape: shape))
        return [nil]
    }
}

/// The mean of the rows of `table` named in each row of `ids` [bags, length], skipping `paddingIndex`
/// (PyTorch's `EmbeddingBag(mode="mean")`, fastText's averaged input vectors): [bags, columns].
/// A bag of padding only gives zeros. With `sparseGradient`, the table's gradient is row-sparse.
///
/// ```swift
/// let sentence = embeddingBag(table, ids, paddingIndex: 0, sparseGradient: true)   // [batch, 64]
/// ```
///
/// - Parameters:
///   - table: [rows, columns] values.
///   - ids: int32 [bags, length] row indices.
///   - paddingIndex: an id that is not a row to average (nil: every id counts).
///   - sparseGradient: give the table a row-sparse gradient instead of a dense one.
public func embeddingBag(_ table: Tensor, _ ids: Tensor, paddingIndex: Int32? = 0, sparseGradient: Bool = false) -> Tensor {
    nablaPrecondition(ids.dtype == .int32 && ids.rank == 2 && table.rank == 2,
                      "embedding_bag: expected int32 ids [bags, length] and a table [rows, columns], got ids \(ids.shape) \(ids.dtype), table \(table.shape)")
    let (bags, length, rows, width) = (ids.shape[0], ids.shape[1], table.shape[0], table.shape[1])
    let pad = paddingIndex ?? -1
    let idp = ids.pointer(Int32.self)
    for i in 0..<ids.count where idp[i] != pad {
        nablaPrecondition(idp[i] >= 0 && Int(idp[i]) < rows, "embedding_bag: id \(idp[i]) is out of range for a table of \(rows) rows")
    }
    guard table.dtype == .float32 else {
        // Float64 (gradient checks): the same mean composed from differentiable ops.
        let keep = ids .!= Tensor(Double(pad), dtype: .int32)
        let mask = keep.cast(to: table.dtype)
        let safe = ids * keep.cast(to: .int32)
        let summed = (table.indexSelect(safe, axis: 0) * mask.reshaped([bags, length, 1])).sum(axes: [1])
        return summed / maximum(mask.sum(axes: [1], keepDims: true), Tensor(1.0, dtype: table.dtype))
    }
    let out = Tensor(uninitializedShape: [bags, width], dtype: .float32)
    nabla_embedding_bag_f32(table.pointer(Float.self), idp, bags, length, width, pad, out.pointer(Float.self))
    let kept = ids.detached()
    let leaf = sparseGradient ? table.node.flatMap { $0.isLeaf ? $0 : nil } : nil
    return out.recorded("embedding_bag", table) { g in
        let outRows = Tensor(uninitializedShape: [bags * length], dtype: .int32)
        let outValues = Tensor(uninitializedShape: [bags * length, width], dtype: .float32)
        let k = nabla_embedding_bag_backward_f32(kept.pointer(Int32.self), bags, length, pad, 1, g.pointer(Float.self), width, rows,
                                                 outRows.pointer(Int32.self), outValues.pointer(Float.self))
        nablaPrecondition(k >= 0, "embedding_bag: out of memory")
        let sparse = RowSparseGradient(rows: outRows[0..<k], values: outValues[0..<k], denseShape: [rows, width])
        if let leaf {
            leaf.accumulateSparse(sparse)
            return [nil]
        }
        return [sparse.dense()]
    }
}
