// Comparisons (bool results, NumPy broadcasting) and selection by a condition.

extension Tensor {
    static func compare(_ name: String, _ a: Tensor, _ b: Tensor, _ f: (Double, Double) -> Bool) -> Tensor {
        nablaPrecondition(a.dtype == b.dtype, "\(name): dtypes \(a.dtype) and \(b.dtype) differ")
        let plan = BroadcastPlan(a.shape, b.shape, op: name)
        let out = Tensor(uninitializedShape: plan.outShape, dtype: .bool)
        let op = out.pointer(Bool.self)
        switch a.dtype {
        case .float32:
            let ap = a.pointer(Float.self), bp = b.pointer(Float.self)
            plan.forEachRow { o, ao, sa, bo, sb, n in
                for i in 0..<n { op[o + i] = f(Double(ap[ao + i * sa]), Double(bp[bo + i * sb])) }
            }
        default:
            plan.forEachRow { o, ao, sa, bo, sb, n in
                for i in 0..<n { op[o + i] = f(a.element(at: ao + i * sa), b.element(at: bo + i * sb)) }
            }
        }
        return out
    }

    /// Elementwise `a == b` (bool tensor).
    public static func .== (a: Tensor, b: Tensor) -> Tensor { compare("equal", a, b) { $0 == $1 } }
    /// Elementwise `a != b` (bool tensor).
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { compare("not_equal", a, b) { $0 != $1 } }
    /// Elementwise `a < b` (bool tensor).
    public static func .< (a: Tensor, b: Tensor) -> Tensor { compare("less", a, b) { $0 < $1 } }
    /// Elementwise `a <= b` (bool tensor).
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { compare("less_equal", a, b) { $0 <= $1 } }
    /// Elementwise `a > b` (bool tensor).
    public static func .> (a: Tensor, b: Tensor) -> Tensor { compare("greater", a, b) { $0 > $1 } }
    /// Elementwise `a >= b` (bool tensor).
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { compare("greater_equal", a, b) { $0 >= $1 } }

    public static func .== (a: Tensor, b: Double) -> Tensor { a .== a.scalarLike(b) }
    public static func .!= (a: Tensor, b: Double) -> Tensor { a .!= a.scalarLike(b) }
    public static func .< (a: Tensor, b: Double) -> Tensor { a .< a.scalarLike(b) }
    public static func .<= (a: Tensor, b: Double) -> Tensor { a .<= a.scalarLike(b) }
    public static func .> (a: Tensor, b: Double) -> Tensor { a .> a.scalarLike(b) }
    public static func .>= (a: Tensor, b: Double) -> Tensor { a .>= a.scalarLike(b) }

    /// Elementwise logical not of a bool tensor.
    public static prefix func .! (a: Tensor) -> Tensor {
        nablaPrecondition(a.dtype == .bool, "logical_not: needs a bool tensor, got \(a.dtype)")
        let out = Tensor(uninitializedShape: a.shape, dtype: .bool)
        let s = a.pointer(Bool.self), d = out.pointer(Bool.self)
        for i in 0..<a.count { d[i] = !s[i] }
        return out
    }

    /// Whether every element is within `atol + rtol·|other|` of `other` (NumPy's `allclose`).
    public func isClose(to other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8) -> Bool {
        guard let shape = try? Shape.broadcast(self.shape, other.shape, op: "allclose"), shape == self.shape else { return false }
        let b = other.broadcast(to: shape)
        for i in 0..<count {
            let x = element(at: i), y = b.element(at: i)
            if x.isNaN || y.isNaN || Swift.abs(x - y) > atol + rtol * Swift.abs(y) { return false }
        }
        return true
    }
}

/// Elements of `a` where `condition` is true and of `b` elsewhere, all three broadcast together
/// (NumPy's and PyTorch's `where`). Gradients flow to `a` and `b`.
///
/// ```swift
/// select(x .> 0, x, Tensor(0))    // relu
/// ```
/// - Parameters:
///   - condition: where to take `a` (broadcasts).
///   - a: values where the condition holds.
///   - b: values elsewhere.
public func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
    nablaPrecondition(condition.dtype == .bool, "where: the condition must be a bool tensor, got \(condition.dtype)")
    nablaPrecondition(a.dtype == b.dtype, "where: dtypes \(a.dtype) and \(b.dtype) differ")
    let shape = shapeOrTrap { () throws(ShapeError) in
        try Shape.broadcast(try Shape.broadcast(condition.shape, a.shape, op: "where"), b.shape, op: "where")
    }
    let c = condition.broadcast(to: shape), x = a.detached().broadcast(to: shape), y = b.detached().broadcast(to: shape)
    let out = Tensor(uninitializedShape: shape, dtype: a.dtype)
    let cp = c.pointer(Bool.self)
    let bytes = a.dtype.byteSize
    let n = out.count
    switch bytes {
    case 8:
        let xp = x.pointer(UInt64.self), yp = y.pointer(UInt64.self), op = out.pointer(UInt64.self)
        for i in 0..<n { op[i] = cp[i] ? xp[i] : yp[i] }
    case 4:
        let xp = x.pointer(UInt32.self), yp = y.pointer(UInt32.self), op = out.pointer(UInt32.self)
        for i in 0..<n { op[i] = cp[i] ? xp[i] : yp[i] }
    default:
        let xp = x.pointer(UInt8.self), yp = y.pointer(UInt8.self), op = out.pointer(UInt8.self)
        for i in 0..<n { op[i] = cp[i] ? xp[i] : yp[i] }
    }
    let aShape = a.shape, bShape = b.shape
    return out.recorded("where", a, b) { g in
        let zero = Tensor.zeros([], dtype: g.dtype)
        return [select(c, g, zero).sumToShape(aShape), select(c, zero, g).sumToShape(bShape)]
    }
}
