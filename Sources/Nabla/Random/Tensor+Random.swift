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
    /// - Parameters:
    ///   - shape: the shape.
    ///   - mean: the mean.
    ///   - std: the standard deviation.
    ///   - dtype: float32 or float64.
    ///   - generator: the source of randomness.
    public static func randomNormal(_ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType = .float32,
                                    generator: RandomGenerator = .current) -> Tensor {
        sampled(shape, dtype, "randomNormal", generator) { uniform, t, n in
            var i = 0
            while i < n {
                let u1 = 1 - uniform(), u2 = uniform()
                let r = (-2 * Double.log(u1)).squareRoot()
                let theta = 2 * Double.pi * u2
                t.setElement(mean + std * r * cos(theta), at: i)
                if i + 1 < n { t.setElement(mean + std * r * sin(theta), at: i + 1) }
                i += 2
            }
        }
    }

    /// Samples uniformly from [`low`, `high`).
    /// - Parameters:
    ///   - shape: the shape.
    ///   - low: the smallest value.
    ///   - high: the bound, not reached.
    ///   - dtype: float32 or float64.
    ///   - generator: the source of randomness.
    public static func randomUniform(_ shape: [Int], low: Double = 0, high: Double = 1, dtype: DType = .float32,
                                     generator: RandomGenerator = .current) -> Tensor {
        sampled(shape, dtype, "randomUniform", generator) { uniform, t, n in
            for i in 0..<n { t.setElement(low + (high - low) * uniform(), at: i) }
        }
    }

    /// A new floating-point tensor whose `count` elements `fill` sets from the generator's uniforms.
    private static func sampled(_ shape: [Int], _ dtype: DType, _ op: String, _ generator: RandomGenerator,
                                _ fill: (_ uniform: () -> Double, _ t: Tensor, _ count: Int) -> Void) -> Tensor {
        nablaPrecondition(dtype.isFloatingPoint, "\(op): needs a floating dtype, got \(dtype)")
        let t = Tensor(uninitializedShape: shape, dtype: dtype)
        generator.withUniforms { uniform in withoutActuallyEscaping(uniform) { fill($0, t, t.count) } }
        return t
    }

    /// Uniform random integers in `low..<high`, as int32.
    ///
    /// ```swift
    /// let labels = Tensor.randomInt([32], low: 0, high: 10)
    /// ```
    /// - Parameters:
    ///   - shape: the shape.
    ///   - low: the smallest value.
    ///   - high: the bound, not reached.
    ///   - generator: the source of randomness.
    public static func randomInt(_ shape: [Int], low: Int, high: Int, generator: RandomGenerator = .current) -> Tensor {
        nablaPrecondition(high > low, "randomInt: empty range \(low)..<\(high)")
        let t = Tensor(uninitializedShape: shape, dtype: .int32)
        let p = t.pointer(Int32.self)
        for i in 0..<t.count { p[i] = Int32(low + generator.nextInt(below: high - low)) }
        return t
    }
}
