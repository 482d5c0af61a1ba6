/// Copies between a strided view and a contiguous buffer: the kernel behind permute, broadcast,
/// slicing and their gradients. Works on raw elements of 1, 4 or 8 bytes.
enum StridedCopy {
    /// dst[contiguous i] = src[offset + Σ index·strides] over `shape`.
    static func gather(from src: UnsafeMutableRawPointer, offset: Int, strides: [Int], shape: [Int],
                       to dst: UnsafeMutableRawPointer, elementSize: Int) {
        switch elementSize {
        case 8: run(src.assumingMemoryBound(to: UInt64.self), offset, strides, shape, dst.assumingMemoryBound(to: UInt64.self), scatter: false)
        case 4: run(src.assumingMemoryBound(to: UInt32.self), offset, strides, shape, dst.assumingMemoryBound(to: UInt32.self), scatter: false)
        default: run(src.assumingMemoryBound(to: UInt8.self), offset, strides, shape, dst.assumingMemoryBound(to: UInt8.self), scatter: false)
        }
    }

    /// dst[offset + Σ index·strides] = src[contiguous i] over `shape` (the inverse of `gather`).
    static func scatter(from src: UnsafeMutableRawPointer, to dst: UnsafeMutableRawPointer, offset: Int, strides: [Int],
                        shape: [Int], elementSize: Int) {
        switch elementSize {
        case 8: run(dst.assumingMemoryBound(to: UInt64.self), offset, strides, shape, src.assumingMemoryBound(to: UInt64.self), scatter: true)
        case 4: run(dst.assumingMemoryBound(to: UInt32.self), offset, strides, shape, src.assumingMemoryBound(to: UInt32.self), scatter: true)
        default: run(dst.assumingMemoryBound(to: UInt8.self), offset, strides, shape, src.assumingMemoryBound(to: UInt8.self), scatter: true)
        }
    }

    private static func run<T>(_ strided: UnsafeMutablePointer<T>, _ offset: Int, _ strides: [Int], _ shape: [Int],
                               _ flat: UnsafeMutablePointer<T>, scatter: Bool) {
        let rank = shape.count
        let total = Shape.elementCount(shape)
        guard total > 0 else { return }
        guard rank > 0 else {
            if scatter { strided[offset] = flat[0] } else { flat[0] = strided[offset] }
            return
        }
        let inner = shape[rank - 1], s = strides[rank - 1]
        var index = [Int](repeating: 0, count: rank)
        var pos = offset
        var out = 0
        let rows = total / inner
        for _ in 0..<rows {
            let src = strided + pos, dst = flat + out
            if scatter {
                if s == 1 { src.update(from: dst, count: inner) } else { for i in 0..<inner { src[i * s] = dst[i] } }
            } else {
                if s == 1 { dst.update(from: src, count: inner) } else { for i in 0..<inner { dst[i] = src[i * s] } }
            }
            out += inner
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                pos += strides[d]
                if index[d] < shape[d] { break }
                pos -= strides[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
    }
}
