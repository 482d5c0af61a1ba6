import CNablaKernels

/// An n-dimensional array of numbers with reverse-mode automatic differentiation.
///
/// A `Tensor` is a value: row-major elements of one ``DType`` in shared, immutable storage, plus
/// (when it takes part in a gradient computation) a link to the graph that produced it. Ops return
/// new tensors; copies are cheap and never alias writes.
///
/// ```swift
/// let x = Tensor([[1, 2], [3, 4]])          // float32, shape [2, 2]
/// let w = Tensor.randomNormal([2, 3]).requiringGrad()
/// let loss = relu(matmul(x, w)).sum()
/// loss.backward()
/// print(w.grad!.shape)                       // [2, 3]
/// ```
public struct Tensor: @unchecked Sendable {
    /// The size of each dimension; `[]` for a scalar.
    public let shape: [Int]
    /// The element type.
    public let dtype: DType
    /// The number of elements (the product of `shape`).
    public let count: Int
    @usableFromInline let storage: TensorStorage
    /// The autograd node: a leaf's gradient holder, or the op that produced this tensor.
    @usableFromInline var node: GradNode?

    /// A tensor over existing storage (no copy).
    @usableFromInline init(shape: [Int], dtype: DType, storage: TensorStorage) {
        self.shape = shape
        self.dtype = dtype
        self.count = Shape.elementCount(shape)
        self.storage = storage
        self.node = nil
    }

    /// A tensor with fresh, uninitialised storage.
    @usableFromInline init(uninitializedShape shape: [Int], dtype: DType) {
        let n = Shape.elementCount(shape)
        self.shape = shape
        self.dtype = dtype
        self.count = n
        self.storage = TensorStorage(byteCount: n * dtype.byteSize)
        self.node = nil
    }

    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// Whether the tensor holds a single value and has no dimensions.
    public var isScalar: Bool { shape.isEmpty }

    /// Typed pointer to the elements; the caller keeps `self` alive while using it. Package access:
    /// the optimizers in NablaNN update parameters in place through it.
    @inline(__always) @usableFromInline
    package func pointer<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        storage.data.assumingMemoryBound(to: T.self)
    }

    /// Raw pointer to the elements.
    @inline(__always) var rawPointer: UnsafeMutableRawPointer { storage.data }
}

// MARK: - Reading values out

extension Tensor {
    /// The elements in row-major order, converted to `T`.
    ///
    /// ```swift
    /// Tensor([[1, 2], [3, 4]]).toArray(Float.self)   // [1, 2, 3, 4]
    /// ```
    public func toArray<T: TensorElement>(_: T.Type = Float.self) -> [T] {
        if T.dtype == dtype {
            return Array(UnsafeBufferPointer(start: pointer(T.self), count: count))
        }
        var out = [T]()
        out.reserveCapacity(count)
        for i in 0..<count { out.append(T(nablaDouble: element(at: i))) }
        return out
    }

    /// The single value of a one-element tensor, converted to `T`.
    ///
    /// ```swift
    /// let loss = Tensor([1, 2, 3]).sum()
    /// loss.item(Float.self)    // 6.0
    /// ```
    public func item<T: TensorElement>(_: T.Type = Float.self) -> T {
        nablaPrecondition(count == 1, "item: tensor of shape \(shape) has \(count) elements, expected exactly 1")
        return T(nablaDouble: element(at: 0))
    }

    /// The element at flat (row-major) index `i`, as a `Double`.
    @usableFromInline func element(at i: Int) -> Double {
        switch dtype {
        case .float32: Double(pointer(Float.self)[i])
        case .float64: pointer(Double.self)[i]
        case .int32: Double(pointer(Int32.self)[i])
        case .bool: pointer(Bool.self)[i] ? 1 : 0
        }
    }

    /// Writes `value` (converted to this dtype) at flat index `i` of freshly made storage.
    @usableFromInline func setElement(_ value: Double, at i: Int) {
        switch dtype {
        case .float32: pointer(Float.self)[i] = Float(value)
        case .float64: pointer(Double.self)[i] = value
        case .int32: pointer(Int32.self)[i] = Int32(nablaDouble: value)
        case .bool: pointer(Bool.self)[i] = value != 0
        }
    }

    /// The element at a multi-dimensional index, as a `Double`.
    ///
    /// ```swift
    /// Tensor([[1, 2], [3, 4]]).scalar(at: [1, 0])   // 3.0
    /// ```
    public func scalar(at index: [Int]) -> Double {
        nablaPrecondition(index.count == rank, "scalar(at:): index \(index) has \(index.count) entries for a tensor of rank \(rank)")
        var flat = 0
        for (d, i) in index.enumerated() {
            nablaPrecondition(i >= 0 && i < shape[d], "scalar(at:): index \(i) is out of range for dimension \(d) of size \(shape[d])")
            flat = flat * shape[d] + i
        }
        return element(at: flat)
    }
}
