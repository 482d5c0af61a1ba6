#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Tensor {
    /// Samples from a normal distribution N(`mean`, `std`²) (Box–Muller).
    ///
    /// ```swift
    /// RandomGenerator.global.seed(0)
    /// let w = Tensor.randomNormal([784, 128], std: 0.05)
    /// ```
    public static func randomNormal(_ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType = .float32,
                                    generator: RandomGenerator = .current) -> Tensor {
        nablaPrecondition(dtype.isFloatingPoint, "randomNormal: needs a floating dtype, got \(dtype)")
        let t = Tensor(uninitializedShape: shape, dtype: dtype)
        let n = t.count
        generator.withUniforms { uniform in
            var i = 0
            while i < n {
                let u1 = 1 - uniform(), u2 = uniform()
                let r = (-2 * Foundation_log(u1)).squareRoot()
                let theta = 2 * Double.pi * u2
                t.setElement(mean + std * r * cos(theta), at: i)
                if i + 1 < n { t.setElement(mean + std * r * sin(theta), at: i + 1) }
                i += 2
            }
        }
        return t
    }

    /// Samples uniformly from [`low`, `high`).
    public static func randomUniform(_ shape: [Int], low: Double = 0, high: Double = 1, dtype: DType = .float32,
                                     generator: RandomGenerator = .current) -> Tensor {
        nablaPrecondition(dtype.isFloatingPoint, "randomUniform: needs a floating dtype, got \(dtype)")
        let t = Tensor(uninitializedShape: shape, dtype: dtype)
        let n = t.count
        generator.withUniforms { uniform in
            for i in 0..<n { t.setElement(low + (high - low) * uniform(), at: i) }
        }
        return t
    }

    /// Uniform random integers in `low..<high`, as int32.
    ///
    /// ```swift
    /// let labels = Tensor.randomInt([32], low: 0, high: 10)
    /// ```
    public static func randomInt(_ shape: [Int], low: Int, high: Int, generator: RandomGenerator = .current) -> Tensor {
        nablaPrecondition(high > low, "randomInt: empty range \(low)..<\(high)")
        let t = Tensor(uninitializedShape: shape, dtype: .int32)
        let p = t.pointer(Int32.self)
        for i in 0..<t.count { p[i] = Int32(low + generator.nextInt(below: high - low)) }
        return t
    }
}

@inline(__always) private func Foundation_log(_ x: Double) -> Double { log(x) }
