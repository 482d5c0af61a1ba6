// Making tensors: from Swift values and arrays, and the NumPy-style constructors.

extension Tensor {
    /// A tensor with `shape` holding `values` in row-major order.
    ///
    /// ```swift
    /// let x = Tensor(shape: [2, 2], values: [1, 2, 3, 4] as [Double])   // float64
    /// ```
    public init<T: TensorElement>(shape: [Int], values: [T]) {
        self.init(shape: shape, typedValues: values)
    }

    /// A float32 tensor with `shape` holding `values`: `Tensor(shape: [2, 2], values: [1, 2, 3, 4])`.
    public init(shape: [Int], values: [Float]) {
        self.init(shape: shape, typedValues: values)
    }

    private init<T: TensorElement>(shape: [Int], typedValues values: [T]) {
        nablaPrecondition(shape.allSatisfy { $0 >= 0 }, "Tensor(shape:values:): negative dimension in \(shape)")
        let n = Shape.elementCount(shape)
        nablaPrecondition(n == values.count, "Tensor(shape:values:): shape \(shape) needs \(n) values, got \(values.count)")
        self.init(uninitializedShape: shape, dtype: T.dtype)
        let dst = pointer(T.self)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { dst.update(from: base, count: n) }
        }
    }

    /// A 1-D tensor whose dtype is the element type of `values`.
    ///
    /// ```swift
    /// let labels: [Int32] = [3, 1, 4]
    /// Tensor(values: labels).dtype   // int32
    /// ```
    public init<T: TensorElement>(values: [T]) { self.init(shape: [values.count], typedValues: values) }

    // Literals make float32 tensors, as in PyTorch: the unlabelled initialisers take Float only,
    // so that `Tensor([0.5, 1.5])` is not silently float64. Other dtypes are asked for by name.

    /// A float32 scalar: `Tensor(3)`.
    public init(_ value: Float) { self.init(shape: [], typedValues: [value]) }

    /// A 1-D float32 tensor: `Tensor([0, 1, 2])`.
    public init(_ values: [Float]) { self.init(shape: [values.count], typedValues: values) }

    /// A 2-D float32 tensor from rows: `Tensor([[1, 2], [2, 3], [3, 4]])`.
    public init(_ rows: [[Float]]) { self.init(nested: rows) }

    /// A 3-D float32 tensor from nested arrays.
    public init(_ planes: [[[Float]]]) { self.init(nested3: planes) }

    /// A scalar of `dtype`: `Tensor(0.1, dtype: .float64)`.
    public init(_ value: Double, dtype: DType) { self = Tensor.full([], value: value, dtype: dtype) }

    /// A 1-D tensor of `dtype`: `Tensor([1, 0, 2], dtype: .int32)`.
    public init(_ values: [Double], dtype: DType) {
        self = Tensor(shape: [values.count], typedValues: values).cast(to: dtype)
    }

    /// A 2-D tensor of `dtype`: `Tensor([[0.1, 0.2]], dtype: .float64)`.
    public init(_ rows: [[Double]], dtype: DType) { self = Tensor(nested: rows).cast(to: dtype) }

    /// A 3-D tensor of `dtype`.
    public init(_ planes: [[[Double]]], dtype: DType) { self = Tensor(nested3: planes).cast(to: dtype) }

    private init<T: TensorElement>(nested rows: [[T]]) {
        let cols = rows.first?.count ?? 0
        for (i, r) in rows.enumerated() {
            nablaPrecondition(r.count == cols, "Tensor: row \(i) has \(r.count) elements, row 0 has \(cols)")
        }
        self.init(shape: [rows.count, cols], typedValues: rows.flatMap { $0 })
    }

    private init<T: TensorElement>(nested3 planes: [[[T]]]) {
        let rows = planes.first?.count ?? 0
        let cols = planes.first?.first?.count ?? 0
        for (i, p) in planes.enumerated() {
            nablaPrecondition(p.count == rows && p.allSatisfy { $0.count == cols },
                         "Tensor: plane \(i) is not \(rows) x \(cols) like plane 0")
        }
        self.init(shape: [planes.count, rows, cols], typedValues: planes.flatMap { $0.flatMap { $0 } })
    }

    // MARK: Constructors

    /// A tensor of `shape` with every element `value`.
    ///
    /// ```swift
    /// Tensor.full([2, 3], value: 0.5)
    /// ```
    public static func full(_ shape: [Int], value: Double, dtype: DType = .float32) -> Tensor {
        nablaPrecondition(shape.allSatisfy { $0 >= 0 }, "full: negative dimension in \(shape)")
        let t = Tensor(uninitializedShape: shape, dtype: dtype)
        let n = t.count
        switch dtype {
        case .float32: t.pointer(Float.self).update(repeating: Float(value), count: n)
        case .float64: t.pointer(Double.self).update(repeating: value, count: n)
        case .int32: t.pointer(Int32.self).update(repeating: Int32(nablaDouble: value), count: n)
        case .bool: t.pointer(Bool.self).update(repeating: value != 0, count: n)
        }
        return t
    }

    /// A tensor of zeros: `Tensor.zeros([3, 4])`.
    public static func zeros(_ shape: [Int], dtype: DType = .float32) -> Tensor {
        nablaPrecondition(shape.allSatisfy { $0 >= 0 }, "zeros: negative dimension in \(shape)")
        let t = Tensor(uninitializedShape: shape, dtype: dtype)
        t.rawPointer.initializeMemory(as: UInt8.self, repeating: 0, count: t.count * dtype.byteSize)
        return t
    }

    /// A tensor of ones: `Tensor.ones([3])`.
    public static func ones(_ shape: [Int], dtype: DType = .float32) -> Tensor {
        full(shape, value: 1, dtype: dtype)
    }

    /// Zeros with the shape and dtype of `other`.
    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape, dtype: other.dtype) }

    /// Ones with the shape and dtype of `other`.
    public static func ones(like other: Tensor) -> Tensor { ones(other.shape, dtype: other.dtype) }

    /// Values from `start` up to (not including) `end` in steps of `step`, as NumPy's `arange`.
    ///
    /// ```swift
    /// Tensor.arange(0, 5)              // [0, 1, 2, 3, 4]
    /// Tensor.arange(0, 1, step: 0.25)  // [0, 0.25, 0.5, 0.75]
    /// ```
    public static func arange(_ start: Double, _ end: Double, step: Double = 1, dtype: DType = .float32) -> Tensor {
        nablaPrecondition(step != 0, "arange: step must not be zero")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        let t = Tensor(uninitializedShape: [n], dtype: dtype)
        for i in 0..<n { t.setElement(start + Double(i) * step, at: i) }
        return t
    }

    /// `count` evenly spaced values from `start` to `end`, both included, as NumPy's `linspace`.
    public static func linspace(_ start: Double, _ end: Double, count: Int, dtype: DType = .float32) -> Tensor {
        nablaPrecondition(count >= 0, "linspace: count must not be negative, got \(count)")
        let t = Tensor(uninitializedShape: [count], dtype: dtype)
        let step = count > 1 ? (end - start) / Double(count - 1) : 0
        for i in 0..<count { t.setElement(i == count - 1 && count > 1 ? end : start + Double(i) * step, at: i) }
        return t
    }

    /// The `n` x `n` identity matrix (or `n` x `m` with ones on the diagonal).
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32) -> Tensor {
        let cols = m ?? n
        let t = zeros([n, cols], dtype: dtype)
        for i in 0..<Swift.min(n, cols) { t.setElement(1, at: i * cols + i) }
        return t
    }

    /// The same values as `dtype` (differentiable between floating types).
    ///
    /// ```swift
    /// Tensor([1.5, 2.5]).cast(to: .int32)   // [1, 2]
    /// ```
    public func cast(to target: DType) -> Tensor {
        if target == dtype { return self }
        let out = Tensor(uninitializedShape: shape, dtype: target)
        let n = count
        switch (dtype, target) {
        case (.float32, .float64):
            let s = pointer(Float.self), d = out.pointer(Double.self)
            for i in 0..<n { d[i] = Double(s[i]) }
        case (.float64, .float32):
            let s = pointer(Double.self), d = out.pointer(Float.self)
            for i in 0..<n { d[i] = Float(s[i]) }
        case (.int32, .float32):
            let s = pointer(Int32.self), d = out.pointer(Float.self)
            for i in 0..<n { d[i] = Float(s[i]) }
        case (.bool, .float32):
            let s = pointer(Bool.self), d = out.pointer(Float.self)
            for i in 0..<n { d[i] = s[i] ? 1 : 0 }
        default:
            for i in 0..<n { out.setElement(element(at: i), at: i) }
        }
        guard dtype.isFloatingPoint && target.isFloatingPoint else { return out }
        let source = dtype
        return out.recorded("cast", self) { g in [g.cast(to: source)] }
    }

    /// A contiguous copy with its own storage (no gradient link).
    public func copy() -> Tensor {
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        out.rawPointer.copyMemory(from: rawPointer, byteCount: count * dtype.byteSize)
        return out
    }
}
