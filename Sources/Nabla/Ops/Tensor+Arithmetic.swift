// + − × ÷, power, maximum and minimum with NumPy broadcasting, and their gradients, which sum back
// over the broadcast dimensions to each operand's shape.

extension Tensor {
    /// The raw kernel of a broadcast binary op (no autograd).
    static func binaryKernel(_ f: BinaryFunction, _ a: Tensor, _ b: Tensor) -> Tensor {
        nablaPrecondition(a.dtype == b.dtype, "\(f.name): dtypes \(a.dtype) and \(b.dtype) differ; cast one with cast(to:)")
        nablaPrecondition(a.dtype != .bool, "\(f.name): not defined for bool tensors")
        if a.shape == b.shape || b.count == 1 || a.count == 1 {
            let shape = a.shape == b.shape ? a.shape
                : shapeOrTrap { () throws(ShapeError) in try Shape.broadcast(a.shape, b.shape, op: f.name) }
            let out = Tensor(uninitializedShape: shape, dtype: a.dtype)
            let sa = a.count == 1 && out.count != 1 ? 0 : 1
            let sb = b.count == 1 && out.count != 1 ? 0 : 1
            runFlat(f, a, sa, b, sb, out)
            return out
        }
        let plan = BroadcastPlan(a.shape, b.shape, op: f.name)
        let out = Tensor(uninitializedShape: plan.outShape, dtype: a.dtype)
        switch a.dtype {
        case .float32: runPlan(f, plan, a.pointer(Float.self), b.pointer(Float.self), out.pointer(Float.self))
        case .float64: runPlan(f, plan, a.pointer(Double.self), b.pointer(Double.self), out.pointer(Double.self))
        default:
            let ap = a.pointer(Int32.self), bp = b.pointer(Int32.self), op = out.pointer(Int32.self)
            plan.forEachRow { o, ao, sa, bo, sb, n in f.apply(ap + ao, sa, bp + bo, sb, op + o, n) }
        }
        return out
    }

    private static func runPlan<T: FloatingElement>(_ f: BinaryFunction, _ plan: BroadcastPlan, _ a: UnsafeMutablePointer<T>,
                                                    _ b: UnsafeMutablePointer<T>, _ o: UnsafeMutablePointer<T>) {
        plan.forEachRow { oo, ao, sa, bo, sb, n in f.apply(a + ao, sa, b + bo, sb, o + oo, n) }
    }

    private static func runFlat(_ f: BinaryFunction, _ a: Tensor, _ sa: Int, _ b: Tensor, _ sb: Int, _ out: Tensor) {
        let n = out.count
        switch a.dtype {
        case .float32:
            let ap = a.pointer(Float.self), bp = b.pointer(Float.self), op = out.pointer(Float.self)
            Parallel.forEachRange(n) { r in
                let s = r.lowerBound
                f.apply(ap + s * sa, sa, bp + s * sb, sb, op + s, r.count)
            }
        case .float64:
            let ap = a.pointer(Double.self), bp = b.pointer(Double.self), op = out.pointer(Double.self)
            Parallel.forEachRange(n) { r in
                let s = r.lowerBound
                f.apply(ap + s * sa, sa, bp + s * sb, sb, op + s, r.count)
            }
        default:
            f.apply(a.pointer(Int32.self), sa, b.pointer(Int32.self), sb, out.pointer(Int32.self), n)
        }
    }

    /// Sums `self` (a gradient of a broadcast result) down to `target`, the shape of one operand.
    ///
    /// ```swift
    /// Tensor.ones([4, 3]).sumToShape([3])   // [4, 4, 4]
    /// ```
    public func sumToShape(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        nablaPrecondition(lead >= 0, "sumToShape: cannot reduce \(shape) to the larger rank of \(target)")
        var axes = Array(0..<lead)
        for (i, d) in target.enumerated() where d == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
        let reduced = axes.isEmpty ? self : sum(axes: axes, keepDims: true)
        return reduced.reshaped(target)
    }

    static func binary(_ f: BinaryFunction, _ a: Tensor, _ b: Tensor) -> Tensor {
        let out = binaryKernel(f, a, b)
        guard a.node != nil || b.node != nil else { return out }
        let x = a.detached(), y = b.detached(), z = out
        return out.recorded("binary", a, b) { g in
            let (ga, gb) = f.gradients(g, x: x, y: y, z: z)
            return [a.node == nil ? nil : ga.sumToShape(x.shape), b.node == nil ? nil : gb.sumToShape(y.shape)]
        }
    }

    /// A scalar as a tensor of this tensor's dtype.
    @inline(__always)
    func scalarLike(_ v: Double) -> Tensor { Tensor.full([], value: v, dtype: dtype) }

    public static func + (a: Tensor, b: Tensor) -> Tensor { binary(.add, a, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { binary(.subtract, a, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { binary(.multiply, a, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { binary(.divide, a, b) }

    public static func + (a: Tensor, b: Double) -> Tensor { scalarOp(a, .add, b) }
    public static func - (a: Tensor, b: Double) -> Tensor { scalarOp(a, .add, -b) }
    public static func * (a: Tensor, b: Double) -> Tensor { scalarOp(a, .multiply, b) }
    public static func / (a: Tensor, b: Double) -> Tensor { scalarOp(a, .multiply, 1 / b) }
    public static func + (a: Double, b: Tensor) -> Tensor { scalarOp(b, .add, a) }
    public static func - (a: Double, b: Tensor) -> Tensor { scalarOp(-b, .add, a) }
    public static func * (a: Double, b: Tensor) -> Tensor { scalarOp(b, .multiply, a) }
    public static func / (a: Double, b: Tensor) -> Tensor { binary(.divide, b.scalarLike(a), b) }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }

    /// `x op s` for a Swift scalar: one pass, no scalar tensor, a gradient that needs no broadcast.
    @inline(__always)
    static func scalarOp(_ x: Tensor, _ f: BinaryFunction, _ s: Double) -> Tensor {
        let out = Tensor(uninitializedShape: x.shape, dtype: x.dtype)
        let n = x.count
        switch x.dtype {
        case .float32:
            var v = Float(s)
            let xp = x.pointer(Float.self), op = out.pointer(Float.self)
            withUnsafePointer(to: &v) { vp in
                Parallel.forEachRange(n) { r in f.apply(xp + r.lowerBound, 1, vp, 0, op + r.lowerBound, r.count) }
            }
        case .float64:
            var v = s
            let xp = x.pointer(Double.self), op = out.pointer(Double.self)
            withUnsafePointer(to: &v) { vp in
                Parallel.forEachRange(n) { r in f.apply(xp + r.lowerBound, 1, vp, 0, op + r.lowerBound, r.count) }
            }
        case .int32:
            var v = Int32(nablaDouble: s)
            withUnsafePointer(to: &v) { vp in f.apply(x.pointer(Int32.self), 1, vp, 0, out.pointer(Int32.self), n) }
        case .bool:
            fatalError("\(f.name): not defined for bool tensors")
        }
        guard x.node != nil else { return out }
        if f == .add { return out.recorded("add_scalar", x) { g in [g] } }
        return out.recorded("mul_scalar", x) { g in [g * s] }
    }
}

/// Elementwise `a` raised to `b`, with broadcasting.
public func pow(_ a: Tensor, _ b: Tensor) -> Tensor { Tensor.binary(.power, a, b) }
/// The elementwise larger of `a` and `b`, with broadcasting.
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { Tensor.binary(.maximum, a, b) }
/// The elementwise smaller of `a` and `b`, with broadcasting.
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { Tensor.binary(.minimum, a, b) }
