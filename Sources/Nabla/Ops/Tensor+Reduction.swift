// Reductions over any set of axes: sum, mean, max, min, argmax/argmin, variance, standard
// deviation, logsumexp. Kernels reduce one contiguous block of axes, viewed as [outer, r, inner].

enum ReduceOp { case sum, max, min }

extension Tensor {
    /// The shape after reducing `axes`, keeping them as size 1.
    static func keptShape(_ shape: [Int], _ axes: [Int]) -> [Int] {
        var s = shape
        for a in axes { s[a] = 1 }
        return s
    }

    /// The shape after reducing `axes`, dropping them.
    static func droppedShape(_ shape: [Int], _ axes: [Int]) -> [Int] {
        shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    }

    /// The raw reduction (no autograd); the result has the kept shape.
    func reduceKernel(_ op: ReduceOp, axes: [Int], name: String) -> Tensor {
        nablaPrecondition(dtype.isFloatingPoint, "\(name): needs a float32 or float64 tensor, got \(dtype); use cast(to:)")
        if axes.isEmpty { return self }
        for a in axes {
            nablaPrecondition(shape[a] > 0 || op == .sum, "\(name): cannot reduce over the empty axis \(a) of \(shape)")
        }
        // Split the axes into runs of consecutive axes, reduce the last run first.
        var runs: [[Int]] = []
        for a in axes {
            if let last = runs.last?.last, last == a - 1 { runs[runs.count - 1].append(a) } else { runs.append([a]) }
        }
        var current = self
        for run in runs.reversed() {
            let first = run[0], last = run[run.count - 1]
            let outer = Shape.elementCount(Array(current.shape[..<first]))
            let r = Shape.elementCount(Array(current.shape[first...last]))
            let inner = Shape.elementCount(Array(current.shape[(last + 1)...]))
            let out = Tensor(uninitializedShape: Tensor.keptShape(current.shape, run), dtype: dtype)
            switch dtype {
            case .float32: Tensor.reduceRun(op, current.pointer(Float.self), out.pointer(Float.self), outer, r, inner)
            default: Tensor.reduceRun(op, current.pointer(Double.self), out.pointer(Double.self), outer, r, inner)
            }
            current = out
        }
        return current
    }

    static func reduceRun<T: FloatingElement>(_ op: ReduceOp, _ x: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>,
                                              _ outer: Int, _ r: Int, _ inner: Int) {
        if r == 0 {
            out.update(repeating: 0, count: outer * inner)
            return
        }
        let perOuter = r * inner
        if inner == 1 {
            Parallel.forEachRange(outer, grain: Swift.max(1, Parallel.elementwiseGrain / Swift.max(r, 1))) { range in
                for o in range { out[o] = reduceContiguous(op, x + o * r, r) }
            }
            return
        }
        let byOuter = outer >= 2
        let total = byOuter ? outer : inner
        let grain = Swift.max(1, Parallel.elementwiseGrain / Swift.max(byOuter ? perOuter : r, 1))
        Parallel.forEachRange(total, grain: grain) { range in
            let outers = byOuter ? range : 0..<outer
            let cols = byOuter ? 0..<inner : range
            for o in outers {
                let base = x + o * perOuter + cols.lowerBound
                let dst = out + o * inner + cols.lowerBound
                let w = cols.count
                dst.update(from: base, count: w)
                for j in 1..<r {
                    let row = base + j * inner
                    switch op {
                    case .sum: for i in 0..<w { dst[i] += row[i] }
                    case .max: for i in 0..<w where row[i] > dst[i] || row[i].isNaN { dst[i] = row[i] }
                    case .min: for i in 0..<w where row[i] < dst[i] || row[i].isNaN { dst[i] = row[i] }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func reduceContiguous<T: FloatingElement>(_ op: ReduceOp, _ x: UnsafeMutablePointer<T>, _ n: Int) -> T {
        switch op {
        case .sum:
            // Eight partial sums: vectorisable, and more accurate than one running sum.
            var s0: T = 0, s1: T = 0, s2: T = 0, s3: T = 0, s4: T = 0, s5: T = 0, s6: T = 0, s7: T = 0
            var i = 0
            while i + 8 <= n {
                s0 += x[i]; s1 += x[i + 1]; s2 += x[i + 2]; s3 += x[i + 3]
                s4 += x[i + 4]; s5 += x[i + 5]; s6 += x[i + 6]; s7 += x[i + 7]
                i += 8
            }
            while i < n { s0 += x[i]; i += 1 }
            return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
        case .max:
            var m = x[0]
            for i in 1..<Swift.max(n, 1) where x[i] > m || x[i].isNaN { m = x[i] }
            return m
        case .min:
            var m = x[0]
            for i in 1..<Swift.max(n, 1) where x[i] < m || x[i].isNaN { m = x[i] }
            return m
        }
    }

    /// A view of the same storage with another shape, without a graph node (for kernels).
    @inline(__always)
    func viewed(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, dtype: dtype, storage: storage) }

    // MARK: Public reductions

    /// The sum over `axes` (all when nil), keeping reduced axes as size 1 if `keepDims`.
    ///
    /// ```swift
    /// let x = Tensor([[1, 2], [3, 4]])
    /// x.sum()                              // 10
    /// x.sum(axes: [0])                     // [4, 6]
    /// x.sum(axes: [1], keepDims: true)     // [[3], [7]]
    /// ```
    /// - Parameters:
    ///   - axes: the axes to reduce (all when nil); negative counts from the end.
    ///   - keepDims: keep each reduced axis with size 1, for broadcasting back.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let ax = Shape.normalize(axes: axes, rank: rank, op: "sum")
        let kept = reduceKernel(.sum, axes: ax, name: "sum")
        let out = keepDims ? kept : kept.viewed(Tensor.droppedShape(shape, ax))
        let inShape = shape, keptShape = kept.shape
        return out.recorded("sum", self) { g in [g.viewed(keptShape).broadcast(to: inShape)] }
    }

    /// The sum over one axis.
    /// - Parameters:
    ///   - axis: the axis to reduce; negative counts from the end.
    ///   - keepDims: keep the reduced axis with size 1.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// The mean over `axes` (all when nil).
    ///
    /// ```swift
    /// Tensor([[1, 2], [3, 4]]).mean(axes: [0])   // [2, 3]
    /// ```
    /// - Parameters:
    ///   - axes: the axes to reduce (all when nil); negative counts from the end.
    ///   - keepDims: keep each reduced axis with size 1, for broadcasting back.
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let ax = Shape.normalize(axes: axes, rank: rank, op: "mean")
        let n = ax.reduce(1) { $0 * shape[$1] }
        return sum(axes: ax, keepDims: keepDims) * (1 / Double(Swift.max(n, 1)))
    }

    /// The mean over one axis.
    /// - Parameters:
    ///   - axis: the axis to reduce; negative counts from the end.
    ///   - keepDims: keep the reduced axis with size 1.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// The largest element over `axes` (all when nil). The gradient is shared equally by ties.
    /// - Parameters:
    ///   - axes: the axes to reduce (all when nil); negative counts from the end.
    ///   - keepDims: keep each reduced axis with size 1, for broadcasting back.
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { extremum(.max, axes, keepDims, "max") }

    /// The largest element over one axis.
    /// - Parameters:
    ///   - axis: the axis to reduce; negative counts from the end.
    ///   - keepDims: keep the reduced axis with size 1.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor { max(axes: [axis], keepDims: keepDims) }

    /// The smallest element over `axes` (all when nil). The gradient is shared equally by ties.
    /// - Parameters:
    ///   - axes: the axes to reduce (all when nil); negative counts from the end.
    ///   - keepDims: keep each reduced axis with size 1, for broadcasting back.
    public func min(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { extremum(.min, axes, keepDims, "min") }

    /// The smallest element over one axis.
    /// - Parameters:
    ///   - axis: the axis to reduce; negative counts from the end.
    ///   - keepDims: keep the reduced axis with size 1.
    public func min(axis: Int, keepDims: Bool = false) -> Tensor { min(axes: [axis], keepDims: keepDims) }

    private func extremum(_ op: ReduceOp, _ axes: [Int]?, _ keepDims: Bool, _ name: String) -> Tensor {
        let ax = Shape.normalize(axes: axes, rank: rank, op: name)
        let kept = reduceKernel(op, axes: ax, name: name)
        let out = keepDims ? kept : kept.viewed(Tensor.droppedShape(shape, ax))
        let x = detached(), keptShape = kept.shape
        return out.recorded("max", self) { g in
            let mask = (x .== kept).cast(to: x.dtype)
            let share = mask / mask.sum(axes: ax, keepDims: true)
            return [g.viewed(keptShape) * share]
        }
    }

    /// The index of the largest element along `axis` (of the flattened tensor when nil), as int32.
    ///
    /// ```swift
    /// Tensor([[1, 5, 2], [7, 0, 3]]).argmax(axis: 1)   // [1, 0]
    /// ```
    /// - Parameters:
    ///   - axis: the axis searched (the flattened tensor when nil).
    ///   - keepDims: keep the axis with size 1.
    public func argmax(axis: Int? = nil, keepDims: Bool = false) -> Tensor { argExtremum(axis, keepDims, greater: true) }

    /// The index of the smallest element along `axis` (of the flattened tensor when nil), as int32.
    /// - Parameters:
    ///   - axis: the axis searched (the flattened tensor when nil).
    ///   - keepDims: keep the axis with size 1.
    public func argmin(axis: Int? = nil, keepDims: Bool = false) -> Tensor { argExtremum(axis, keepDims, greater: false) }

    private func argExtremum(_ axis: Int?, _ keepDims: Bool, greater: Bool) -> Tensor {
        let name = greater ? "argmax" : "argmin"
        guard let axis else {
            return reshaped([count]).argExtremum(0, false, greater: greater)
        }
        let a = Shape.normalize(axis: axis, rank: rank, op: name)
        nablaPrecondition(shape[a] > 0, "\(name): axis \(a) of \(shape) is empty")
        let outer = Shape.elementCount(Array(shape[..<a])), r = shape[a], inner = Shape.elementCount(Array(shape[(a + 1)...]))
        let kept = Tensor.keptShape(shape, [a])
        let out = Tensor(uninitializedShape: keepDims ? kept : Tensor.droppedShape(shape, [a]), dtype: .int32)
        let op = out.pointer(Int32.self)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = element(at: o * r * inner + i), bestIndex = 0
                for j in 1..<r {
                    let v = element(at: (o * r + j) * inner + i)
                    if greater ? (v > best) : (v < best) { best = v; bestIndex = j }
                }
                op[o * inner + i] = Int32(bestIndex)
            }
        }
        return out
    }

    /// The variance over `axes` (all when nil); `correction` 0 divides by N (NumPy's default),
    /// 1 by N − 1 (PyTorch's default).
    ///
    /// ```swift
    /// Tensor([1, 2, 3, 4]).variance()   // 1.25
    /// ```
    /// - Parameters:
    ///   - axes: the axes to reduce (all when nil); negative counts from the end.
    ///   - keepDims: keep each reduced axis with size 1, for broadcasting back.
    ///   - correction: subtracted from the count in the denominator (1: the unbiased estimate).
    public func variance(axes: [Int]? = nil, keepDims: Bool = false, correction: Int = 0) -> Tensor {
        let ax = Shape.normalize(axes: axes, rank: rank, op: "variance")
        let n = ax.reduce(1) { $0 * shape[$1] }
        let centered = self - mean(axes: ax, keepDims: true)
        return square(centered).sum(axes: ax, keepDims: keepDims) * (1 / Double(Swift.max(n - correction, 1)))
    }

    /// The standard deviation over `axes` (all when nil), with the same `correction` as ``variance(axes:keepDims:correction:)``.
    /// - Parameters:
    ///   - axes: the axes to reduce (all when nil); negative counts from the end.
    ///   - keepDims: keep each reduced axis with size 1, for broadcasting back.
    ///   - correction: subtracted from the count in the denominator.
    public func standardDeviation(axes: [Int]? = nil, keepDims: Bool = false, correction: Int = 0) -> Tensor {
        sqrt(variance(axes: axes, keepDims: keepDims, correction: correction))
    }

    /// log(Σ exp(x)) over `axes`, computed without overflow.
    ///
    /// ```swift
    /// Tensor([1000, 1000]).logSumExp()   // 1000.6931
    /// ```
    /// - Parameters:
    ///   - axes: the axes to reduce (all when nil); negative counts from the end.
    ///   - keepDims: keep each reduced axis with size 1, for broadcasting back.
    public func logSumExp(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let ax = Shape.normalize(axes: axes, rank: rank, op: "logsumexp")
        let m = reduceKernel(.max, axes: ax, name: "logsumexp")
        let finite = select(m.isFiniteMask(), m, Tensor.zeros([], dtype: dtype))
        let out = log(exp(self - finite).sum(axes: ax, keepDims: true)) + finite
        return keepDims ? out : out.reshaped(Tensor.droppedShape(shape, ax))
    }

    /// True where the element is finite.
    func isFiniteMask() -> Tensor {
        let out = Tensor(uninitializedShape: shape, dtype: .bool)
        let o = out.pointer(Bool.self)
        for i in 0..<count { o[i] = element(at: i).isFinite }
        return out
    }
}
