#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The element type of a tensor.
///
/// ```swift
/// let x = Tensor.zeros([2, 3], dtype: .float64)
/// print(x.dtype)            // float64
/// ```
public enum DType: String, Sendable, CaseIterable, CustomStringConvertible {
    case float32, float64, int32, bool

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float32, .int32: 4
        case .float64: 8
        case .bool: 1
        }
    }

    /// Whether the type is `float32` or `float64` (the types gradients flow through).
    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

    public var description: String { rawValue }
}

/// A Swift type that can be an element of a tensor: `Float`, `Double`, `Int32` or `Bool`.
public protocol TensorElement: Sendable {
    /// The tensor dtype that stores this type.
    static var dtype: DType { get }
    /// Converts from the common interchange type (rounding or truncating as Swift's initialisers do).
    init(nablaDouble value: Double)
    /// The value as a `Double`.
    var nablaDouble: Double { get }
}

/// An element type with arithmetic: `Float`, `Double` and `Int32`.
public protocol TensorScalar: TensorElement, Numeric, Comparable {}

/// A floating-point element type with the elementary functions the ops need.
public protocol FloatingElement: TensorScalar, BinaryFloatingPoint {
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func log1p(_ x: Self) -> Self
    static func expm1(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func erf(_ x: Self) -> Self
    static func pow(_ x: Self, _ y: Self) -> Self
    static func sqrt(_ x: Self) -> Self
}

extension Float: FloatingElement {
    public static var dtype: DType { .float32 }
    public init(nablaDouble value: Double) { self = Float(value) }
    public var nablaDouble: Double { Double(self) }
    @inline(__always) public static func exp(_ x: Float) -> Float { expf(x) }
    @inline(__always) public static func log(_ x: Float) -> Float { logf(x) }
    @inline(__always) public static func log1p(_ x: Float) -> Float { log1pf(x) }
    @inline(__always) public static func expm1(_ x: Float) -> Float { expm1f(x) }
    @inline(__always) public static func tanh(_ x: Float) -> Float { tanhf(x) }
    @inline(__always) public static func erf(_ x: Float) -> Float { erff(x) }
    @inline(__always) public static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
    @inline(__always) public static func sqrt(_ x: Float) -> Float { x.squareRoot() }
}

extension Double: FloatingElement {
    public static var dtype: DType { .float64 }
    public init(nablaDouble value: Double) { self = value }
    public var nablaDouble: Double { self }
    @inline(__always) public static func exp(_ x: Double) -> Double { libm_exp(x) }
    @inline(__always) public static func log(_ x: Double) -> Double { libm_log(x) }
    @inline(__always) public static func log1p(_ x: Double) -> Double { libm_log1p(x) }
    @inline(__always) public static func expm1(_ x: Double) -> Double { libm_expm1(x) }
    @inline(__always) public static func tanh(_ x: Double) -> Double { libm_tanh(x) }
    @inline(__always) public static func erf(_ x: Double) -> Double { libm_erf(x) }
    @inline(__always) public static func pow(_ x: Double, _ y: Double) -> Double { libm_pow(x, y) }
    @inline(__always) public static func sqrt(_ x: Double) -> Double { x.squareRoot() }
}

// The C math library's Double functions (Glibc or Darwin), under names that do not collide with the static requirements.
@inline(__always) private func libm_exp(_ x: Double) -> Double { exp(x) }
@inline(__always) private func libm_log(_ x: Double) -> Double { log(x) }
@inline(__always) private func libm_log1p(_ x: Double) -> Double { log1p(x) }
@inline(__always) private func libm_expm1(_ x: Double) -> Double { expm1(x) }
@inline(__always) private func libm_tanh(_ x: Double) -> Double { tanh(x) }
@inline(__always) private func libm_erf(_ x: Double) -> Double { erf(x) }
@inline(__always) private func libm_pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }

extension Int32: TensorScalar {
    public static var dtype: DType { .int32 }
    public init(nablaDouble value: Double) { self = Int32(clamping: Int(value.rounded(.towardZero))) }
    public var nablaDouble: Double { Double(self) }
}

extension Bool: TensorElement {
    public static var dtype: DType { .bool }
    public init(nablaDouble value: Double) { self = value != 0 }
    public var nablaDouble: Double { self ? 1 : 0 }
}
