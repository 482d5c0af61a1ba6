/// Shape arithmetic shared by the ops: element counts, strides, broadcasting, axis normalisation,
/// and the checks that produce Nabla's shape errors.
public enum Shape {
    /// The product of the dimensions (1 for a scalar).
    @inline(__always)
    public static func elementCount(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape { n &*= d }
        return n
    }

    /// Row-major strides, in elements.
    public static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    /// The NumPy broadcast of two shapes, or a ``ShapeError`` naming `op` and both shapes.
    ///
    /// ```swift
    /// try Shape.broadcast([3, 1], [4], op: "add")   // [3, 4]
    /// ```
    public static func broadcast(_ a: [Int], _ b: [Int], op: String) throws(ShapeError) -> [Int] {
        if a == b { return a }
        let n = max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            if da == db || db == 1 {
                out[i] = da
            } else if da == 1 {
                out[i] = db
            } else {
                throw ShapeError(op: op, message: "\(a) and \(b) cannot be broadcast: dimension \(i) is \(da) and \(db)")
            }
        }
        return out
    }

    /// Broadcast strides of `shape` read as `target` (0 where a dimension is repeated).
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape)
        var out = [Int](repeating: 0, count: target.count)
        let offset = target.count - shape.count
        for i in 0..<shape.count {
            out[i + offset] = shape[i] == 1 ? 0 : own[i]
        }
        return out
    }

    /// An axis in `-rank..<rank` made non-negative, or a trap naming `op`.
    @inline(__always)
    static func normalize(axis: Int, rank: Int, op: String) -> Int {
        let a = axis < 0 ? axis + rank : axis
        nablaPrecondition(a >= 0 && a < max(rank, 1), "\(op): axis \(axis) is out of range for a tensor of rank \(rank)")
        return a
    }

    /// Sorted, unique, non-negative axes; `nil` means all axes.
    static func normalize(axes: [Int]?, rank: Int, op: String) -> [Int] {
        guard let axes else { return Array(0..<rank) }
        let norm = axes.map { normalize(axis: $0, rank: rank, op: op) }
        let sorted = Array(Set(norm)).sorted()
        nablaPrecondition(sorted.count == norm.count, "\(op): axes \(axes) repeat an axis")
        return sorted
    }

    /// The result shape of `matmul(a, b)` (NumPy rules: 1-D operands are promoted, batch dimensions
    /// broadcast), or a ``ShapeError`` naming both shapes.
    ///
    /// ```swift
    /// try Shape.matmul([3], [2, 2])
    /// // ShapeError: matmul: [3] and [2, 2] do not fit: inner dimensions 3 and 2 differ
    /// ```
    public static func matmul(_ a: [Int], _ b: [Int]) throws(ShapeError) -> [Int] {
        guard !a.isEmpty, !b.isEmpty else {
            throw ShapeError(op: "matmul", message: "\(a) and \(b) do not fit: both operands need at least one dimension")
        }
        let ka = a[a.count - 1]
        let kb = b.count == 1 ? b[0] : b[b.count - 2]
        guard ka == kb else {
            throw ShapeError(op: "matmul", message: "\(a) and \(b) do not fit: inner dimensions \(ka) and \(kb) differ")
        }
        let batchA = a.count > 2 ? Array(a[..<(a.count - 2)]) : []
        let batchB = b.count > 2 ? Array(b[..<(b.count - 2)]) : []
        let batch: [Int]
        do {
            batch = try broadcast(batchA, batchB, op: "matmul")
        } catch {
            throw ShapeError(op: "matmul", message: "\(a) and \(b) do not fit: batch dimensions \(batchA) and \(batchB) cannot be broadcast")
        }
        var out = batch
        if a.count >= 2 { out.append(a[a.count - 2]) }
        if b.count >= 2 { out.append(b[b.count - 1]) }
        return out
    }
}

/// A shape that does not fit an op, with a message naming the op and the shapes involved.
///
/// ```swift
/// do { _ = try Shape.matmul([3], [2, 2]) } catch { print(error) }
/// // matmul: [3] and [2, 2] do not fit: inner dimensions 3 and 2 differ
/// ```
public struct ShapeError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The op (or layer) that rejected the shapes.
    public let op: String
    /// What is wrong, naming the shapes.
    public let message: String

    public init(op: String, message: String) {
        self.op = op
        self.message = message
    }

    public var description: String { "\(op): \(message)" }
}

/// Unwraps a shape computation inside an op that traps on programmer errors, with its message.
@inline(__always)
func shapeOrTrap<T>(_ body: () throws(ShapeError) -> T) -> T {
    do { return try body() } catch { fatalError(error.description) }
}

/// Stops the program with `message` when `condition` is false — in release builds too, where
/// Swift's `precondition` drops its message. Every module uses it for programmer errors (a shape
/// that cannot fit, a negative size), so that the message says what went wrong in any build.
@inline(__always)
package func nablaPrecondition(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                       file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
