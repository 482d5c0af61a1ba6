// A printed form like NumPy's: nested brackets, columns aligned, long tensors summarised.

extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    /// The elements, NumPy style.
    ///
    /// ```swift
    /// print(Tensor([[1, 2.5], [3, 4]]))
    /// // [[1.  2.5]
    /// //  [3.  4. ]]
    /// ```
    public var description: String { formatted() }

    /// The elements, NumPy style, with floating values rounded to `precision` decimals
    /// (as NumPy's `set_printoptions(precision:)`); nil prints the shortest exact form.
    ///
    /// ```swift
    /// Tensor([0.6, 1.3000001]).formatted(precision: 4)   // [0.6 1.3]
    /// ```
    public func formatted(precision: Int? = nil) -> String {
        let summarize = count > 1000
        let texts = (0..<count).map { i -> String in
            var v = element(at: i)
            if let precision, dtype.isFloatingPoint, v.isFinite {
                let scale = Double.pow10(precision)
                v = (v * scale).rounded() / scale
            }
            return formatElement(v, rounded: precision != nil)
        }
        let (intPart, fracPart) = texts.reduce((0, 0)) { acc, t in
            let parts = Tensor.splitPoint(t)
            return (Swift.max(acc.0, parts.0.count), Swift.max(acc.1, parts.1.count))
        }
        func cell(_ i: Int) -> String {
            let (a, b) = Tensor.splitPoint(texts[i])
            let left = String(repeating: " ", count: intPart - a.count) + a
            return left + b + String(repeating: " ", count: fracPart - b.count)
        }
        if rank == 0 { return texts.first ?? "" }
        let strides = Shape.strides(shape)
        func render(_ dim: Int, _ offset: Int, _ indent: Int) -> String {
            let n = shape[dim]
            var positions = Array(0..<n)
            var ellipsisAt: Int? = nil
            if summarize && n > 6 { positions = [0, 1, 2, n - 3, n - 2, n - 1]; ellipsisAt = 3 }
            var parts: [String] = []
            for (k, i) in positions.enumerated() {
                if k == ellipsisAt { parts.append("...") }
                let off = offset + i * strides[dim]
                parts.append(dim == rank - 1 ? cell(off) : render(dim + 1, off, indent + 1))
            }
            if dim == rank - 1 { return "[" + parts.joined(separator: " ") + "]" }
            let sep = String(repeating: "\n", count: rank - dim - 1) + String(repeating: " ", count: indent + 1)
            return "[" + parts.joined(separator: sep) + "]"
        }
        return render(0, 0, 0)
    }

    /// The elements with shape and dtype: `Tensor([1. 2.], shape: [2], dtype: float32)`.
    public var debugDescription: String {
        "Tensor(\(description), shape: \(shape), dtype: \(dtype)\(requiresGrad ? ", requiresGrad: true" : ""))"
    }

    private func formatElement(_ v: Double, rounded: Bool) -> String {
        switch dtype {
        case .bool: return v != 0 ? "True" : "False"
        case .int32: return String(Int(v))
        case .float32, .float64:
            if v.isNaN { return "nan" }
            if v.isInfinite { return v > 0 ? "inf" : "-inf" }
            if v == v.rounded() && Swift.abs(v) < 1e16 { return String(Int(v)) + "." }
            let text = dtype == .float32 && !rounded ? "\(Float(v))" : "\(v)"
            return text.hasSuffix(".0") ? String(text.dropLast()) : text
        }
    }

    /// The text before and from the decimal point (aligning columns on it).
    private static func splitPoint(_ s: String) -> (Substring, Substring) {
        if let i = s.firstIndex(of: ".") { return (s[..<i], s[i...]) }
        return (s[...], "")
    }
}

extension Double {
    static func pow10(_ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<Swift.max(n, 0) { r *= 10 }
        return r
    }
}
