/// The elementwise functions of two tensors, applied with NumPy broadcasting: each case's forward
/// loop and its gradients side by side, as `UnaryFunction` keeps its derivatives.
enum BinaryFunction: Sendable {
    case add, subtract, multiply, divide, power, maximum, minimum

    var name: String {
        switch self {
        case .add: "add"
        case .subtract: "subtract"
        case .multiply: "multiply"
        case .divide: "divide"
        case .power: "pow"
        case .maximum: "maximum"
        case .minimum: "minimum"
        }
    }

    /// o[i] = f(a[i·sa], b[i·sb]) with each stride 0 or 1; a loop per case so each vectorises.
    @inline(__always)
    func apply<T: FloatingElement>(_ a: UnsafePointer<T>, _ sa: Int, _ b: UnsafePointer<T>, _ sb: Int,
                                   _ o: UnsafeMutablePointer<T>, _ n: Int) {
        switch self {
        case .add: loop(a, sa, b, sb, o, n) { $0 + $1 }
        case .subtract: loop(a, sa, b, sb, o, n) { $0 - $1 }
        case .multiply: loop(a, sa, b, sb, o, n) { $0 * $1 }
        case .divide: loop(a, sa, b, sb, o, n) { $0 / $1 }
        case .power: loop(a, sa, b, sb, o, n) { T.pow($0, $1) }
        case .maximum: loop(a, sa, b, sb, o, n) { $0 >= $1 || $0.isNaN ? $0 : $1 }
        case .minimum: loop(a, sa, b, sb, o, n) { $0 <= $1 || $0.isNaN ? $0 : $1 }
        }
    }

    /// The gradients with respect to both operands, given the output gradient `g`, the operands `x`
    /// and `y` and the output `z` (before reduction to the operands' shapes).
    func gradients(_ g: Tensor, x: Tensor, y: Tensor, z: Tensor) -> (Tensor, Tensor) {
        switch self {
        case .add: return (g, g)
        case .subtract: return (g, -g)
        case .multiply: return (g * y, g * x)
        case .divide: return (g / y, -g * z / y)
        case .power: return (g * y * Tensor.binaryKernel(.power, x, y - 1), g * z * log(x))
        case .maximum, .minimum:
            let pickX = self == .maximum ? (x .>= y) : (x .<= y)
            let zero = Tensor.zeros([], dtype: g.dtype)
            return (select(pickX, g, zero), select(pickX, zero, g))
        }
    }

    /// The integer counterpart: division truncates and power is repeated multiplication.
    @inline(__always)
    func apply(_ a: UnsafePointer<Int32>, _ sa: Int, _ b: UnsafePointer<Int32>, _ sb: Int,
               _ o: UnsafeMutablePointer<Int32>, _ n: Int) {
        switch self {
        case .add: loop(a, sa, b, sb, o, n) { $0 &+ $1 }
        case .subtract: loop(a, sa, b, sb, o, n) { $0 &- $1 }
        case .multiply: loop(a, sa, b, sb, o, n) { $0 &* $1 }
        case .divide: loop(a, sa, b, sb, o, n) { $1 == 0 ? 0 : $0 / $1 }
        case .power: loop(a, sa, b, sb, o, n) { base, e in
                var r: Int32 = 1
                if e > 0 { for _ in 0..<e { r = r &* base } }
                return r
            }
        case .maximum: loop(a, sa, b, sb, o, n) { Swift.max($0, $1) }
        case .minimum: loop(a, sa, b, sb, o, n) { Swift.min($0, $1) }
        }
    }
}

@inline(__always)
func loop<T, U>(_ a: UnsafePointer<T>, _ sa: Int, _ b: UnsafePointer<T>, _ sb: Int,
                _ o: UnsafeMutablePointer<U>, _ n: Int, _ f: (T, T) -> U) {
    if sa == 1 && sb == 1 {
        for i in 0..<n { o[i] = f(a[i], b[i]) }
    } else if sa == 1 {
        let bv = b[0]
        for i in 0..<n { o[i] = f(a[i], bv) }
    } else if sb == 1 {
        let av = a[0]
        for i in 0..<n { o[i] = f(av, b[i]) }
    } else {
        let v = f(a[0], b[0])
        for i in 0..<n { o[i] = v }
    }
}

/// Walks the rows of a broadcast of two operands: for each output row of `inner` elements, calls
/// `body(outOffset, aOffset, aInnerStride, bOffset, bInnerStride, count)`.
struct BroadcastPlan {
    let outShape: [Int]
    let aStrides: [Int]
    let bStrides: [Int]

    init(_ a: [Int], _ b: [Int], op: String) {
        let out = shapeOrTrap { () throws(ShapeError) in try Shape.broadcast(a, b, op: op) }
        outShape = out
        aStrides = Shape.broadcastStrides(a, to: out)
        bStrides = Shape.broadcastStrides(b, to: out)
    }

    func forEachRow(_ body: (_ out: Int, _ a: Int, _ sa: Int, _ b: Int, _ sb: Int, _ n: Int) -> Void) {
        let rank = outShape.count
        guard rank > 0 else { body(0, 0, 1, 0, 1, 1); return }
        let inner = outShape[rank - 1]
        let sa = aStrides[rank - 1], sb = bStrides[rank - 1]
        let rows = inner == 0 ? 0 : Shape.elementCount(outShape) / inner
        var index = [Int](repeating: 0, count: rank)
        var ao = 0, bo = 0
        for row in 0..<rows {
            body(row * inner, ao, sa, bo, sb, inner)
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                ao += aStrides[d]
                bo += bStrides[d]
                if index[d] < outShape[d] { break }
                ao -= aStrides[d] * outShape[d]
                bo -= bStrides[d] * outShape[d]
                index[d] = 0
                d -= 1
            }
        }
    }
}
