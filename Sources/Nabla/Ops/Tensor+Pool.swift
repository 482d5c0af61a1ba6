import CNablaKernels

/// Max or average pooling over NHWC windows.
public enum PoolKind: Sendable { case max, average }

/// Pools `x` [N, H, W, C] over windows of `geometry` (padding counts as absent: it never wins a max
/// and is left out of averages, as Keras's "same" pooling does).
///
/// ```swift
/// pool2d(x, .max, geometry: Conv2DGeometry(kernel: (2, 2), stride: (2, 2)))
/// ```
/// - Parameters:
///   - x: images [batch, height, width, channels].
///   - kind: `.max` or `.average`.
///   - g: the geometry: window, strides and padding.
public func pool2d(_ x: Tensor, _ kind: PoolKind, geometry g: Conv2DGeometry) -> Tensor {
    nablaPrecondition(x.rank == 4 && x.dtype.isFloatingPoint, "pool2d: input must be a floating [batch, height, width, channels], got \(x.shape) \(x.dtype)")
    let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (oh, ow) = g.outputSize(h, w)
    nablaPrecondition(oh > 0 && ow > 0, "pool2d: input \(x.shape) is smaller than the window \(g.kernel)")
    let out = Tensor(uninitializedShape: [n, oh, ow, c], dtype: x.dtype)
    // For max pooling, the flat input index of each winner (for the gradient).
    let winners = kind == .max ? Tensor(uninitializedShape: [n, oh, ow, c], dtype: .int32) : nil
    if x.dtype == .float32 && kind == .max {
        nabla_maxpool2d_f32(x.pointer(Float.self), out.pointer(Float.self), winners!.pointer(Int32.self), n, h, w, c, oh, ow,
                            g.kernel.h, g.kernel.w, g.stride.h, g.stride.w, g.dilation.h, g.dilation.w, g.padding.top, g.padding.left)
    } else if x.dtype == .float32 { poolForward(x.pointer(Float.self), out.pointer(Float.self), winners?.pointer(Int32.self), x.shape, g, kind) }
    else { poolForward(x.pointer(Double.self), out.pointer(Double.self), winners?.pointer(Int32.self), x.shape, g, kind) }
    let shape = x.shape
    return out.recorded("pool2d", x) { gOut in
        if gOut.dtype == .float32 && kind == .max {
            let dx = Tensor(uninitializedShape: shape, dtype: .float32)
            let images = Swift.max(shape[0], 1)
            nabla_maxpool2d_backward_f32(gOut.pointer(Float.self), dx.pointer(Float.self), winners!.pointer(Int32.self), shape[0],
                                         gOut.count / images, dx.count / images)
            return [dx]
        }
        let dx = Tensor.zeros(shape, dtype: gOut.dtype)
        if gOut.dtype == .float32 { poolBackward(gOut.pointer(Float.self), dx.pointer(Float.self), winners?.pointer(Int32.self), shape, g, kind) }
        else { poolBackward(gOut.pointer(Double.self), dx.pointer(Double.self), winners?.pointer(Int32.self), shape, g, kind) }
        return [dx]
    }
}

/// Calls `body(iy, ix)` for each in-bounds input position of output window (y, x); returns how many.
@inline(__always)
private func forEachInWindow(_ y: Int, _ x: Int, _ g: Conv2DGeometry, _ h: Int, _ w: Int, _ body: (Int, Int) -> Void) -> Int {
    var count = 0
    for i in 0..<g.kernel.h {
        let iy = y * g.stride.h - g.padding.top + i * g.dilation.h
        if iy < 0 || iy >= h { continue }
        for j in 0..<g.kernel.w {
            let ix = x * g.stride.w - g.padding.left + j * g.dilation.w
            if ix < 0 || ix >= w { continue }
            body(iy, ix)
            count += 1
        }
    }
    return count
}

private func poolForward<T: FloatingElement>(_ x: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>, _ win: UnsafeMutablePointer<Int32>?,
                                             _ shape: [Int], _ g: Conv2DGeometry, _ kind: PoolKind) {
    let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
    let (oh, ow) = g.outputSize(h, w)
    Parallel.forEachRange(n * oh, grain: Swift.max(1, 8192 / Swift.max(ow * c * g.kernel.h * g.kernel.w, 1))) { rows in
        for r in rows {
            let b = r / oh, y = r % oh
            for xo in 0..<ow {
                let o = out + ((b * oh + y) * ow + xo) * c
                switch kind {
                case .max:
                    let wi = win! + ((b * oh + y) * ow + xo) * c
                    var first = true
                    _ = forEachInWindow(y, xo, g, h, w) { iy, ix in
                        let base = ((b * h + iy) * w + ix) * c
                        if first {
                            for ch in 0..<c { o[ch] = x[base + ch]; wi[ch] = Int32(base + ch) }
                            first = false
                        } else {
                            for ch in 0..<c where x[base + ch] > o[ch] || x[base + ch].isNaN {
                                o[ch] = x[base + ch]
                                wi[ch] = Int32(base + ch)
                            }
                        }
                    }
                case .average:
                    for ch in 0..<c { o[ch] = 0 }
                    let count = forEachInWindow(y, xo, g, h, w) { iy, ix in
                        let base = ((b * h + iy) * w + ix) * c
                        for ch in 0..<c { o[ch] += x[base + ch] }
                    }
                    let scale = 1 / T(Swift.max(count, 1))
                    for ch in 0..<c { o[ch] *= scale }
                }
            }
        }
    }
}

private func poolBackward<T: FloatingElement>(_ gOut: UnsafeMutablePointer<T>, _ dx: UnsafeMutablePointer<T>, _ win: UnsafeMutablePointer<Int32>?,
                                              _ shape: [Int], _ g: Conv2DGeometry, _ kind: PoolKind) {
    let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
    let (oh, ow) = g.outputSize(h, w)
    // Windows of one image may overlap, images never do: parallel over images.
    Parallel.forEachRange(n, grain: Swift.max(1, 8192 / Swift.max(oh * ow * c, 1))) { images in
        for b in images {
            for y in 0..<oh {
                for xo in 0..<ow {
                    let o = ((b * oh + y) * ow + xo) * c
                    switch kind {
                    case .max:
                        for ch in 0..<c { dx[Int(win![o + ch])] += gOut[o + ch] }
                    case .average:
                        let count = forEachInWindow(y, xo, g, h, w) { _, _ in }
                        let scale = 1 / T(Swift.max(count, 1))
                        _ = forEachInWindow(y, xo, g, h, w) { iy, ix in
                            let base = ((b * h + iy) * w + ix) * c
                            for ch in 0..<c { dx[base + ch] += gOut[o + ch] * scale }
                        }
                    }
                }
            }
        }
    }
}
