// In-place writes into a tensor's storage. Only optimizers may write into a parameter, and only
// outside gradient recording (the parameter stays the same autograd leaf), hence package access.

extension Tensor {
    /// Multiplies every element by `factor` in place (decoupled weight decay, clipping by norm).
    package func scaleInPlace(by factor: Double) {
        nablaPrecondition(dtype.isFloatingPoint, "scaleInPlace: needs a floating-point tensor, got \(dtype)")
        if dtype == .float32 {
            let p = pointer(Float.self), f = Float(factor)
            for i in 0..<count { p[i] *= f }
        } else {
            let p = pointer(Double.self)
            for i in 0..<count { p[i] *= factor }
        }
    }

    /// Limits every element to [−limit, limit] in place (clipping by value).
    package func clampInPlace(limit: Double) {
        for i in 0..<count {
            let v = element(at: i)
            if v > limit { setElement(limit, at: i) } else if v < -limit { setElement(-limit, at: i) }
        }
    }

    /// A tensor whose values the caller writes next, through `pointer` (the data-parallel gradient
    /// buckets unpack into them without zeroing first).
    package static func uninitialized(_ shape: [Int], dtype: DType = .float32) -> Tensor {
        Tensor(uninitializedShape: shape, dtype: dtype)
    }
}
