import CNablaKernels

/// Geometry of a 2-D convolution or pooling window over NHWC data.
public struct Conv2DGeometry: Sendable, Equatable {
    public var kernel: (h: Int, w: Int)
    public var stride: (h: Int, w: Int)
    public var dilation: (h: Int, w: Int)
    /// Zeros added before and after each spatial axis.
    public var padding: (top: Int, bottom: Int, left: Int, right: Int)

    public init(kernel: (Int, Int), stride: (Int, Int) = (1, 1), dilation: (Int, Int) = (1, 1),
                padding: (top: Int, bottom: Int, left: Int, right: Int) = (0, 0, 0, 0)) {
        self.kernel = (kernel.0, kernel.1)
        self.stride = (stride.0, stride.1)
        self.dilation = (dilation.0, dilation.1)
        self.padding = padding
    }

    /// Keras's "same" padding (output size ⌈input / stride⌉, extra zero at the end when odd).
    public static func same(kernel: (Int, Int), stride: (Int, Int) = (1, 1), dilation: (Int, Int) = (1, 1),
                            input: (Int, Int)) -> Conv2DGeometry {
        func pads(_ n: Int, _ k: Int, _ s: Int, _ d: Int) -> (Int, Int) {
            let out = (n + s - 1) / s
            let total = Swift.max((out - 1) * s + (k - 1) * d + 1 - n, 0)
            return (total / 2, total - total / 2)
        }
        let (t, b) = pads(input.0, kernel.0, stride.0, dilation.0), (l, r) = pads(input.1, kernel.1, stride.1, dilation.1)
        return Conv2DGeometry(kernel: kernel, stride: stride, dilation: dilation, padding: (t, b, l, r))
    }

    public func outputSize(_ h: Int, _ w: Int) -> (Int, Int) {
        let eh = (kernel.h - 1) * dilation.h + 1, ew = (kernel.w - 1) * dilation.w + 1
        return ((h + padding.top + padding.bottom - eh) / stride.h + 1, (w + padding.left + padding.right - ew) / stride.w + 1)
    }

    public static func == (a: Conv2DGeometry, b: Conv2DGeometry) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.dilation == b.dilation && a.padding == b.padding
    }
}

/// 2-D convolution over NHWC input `x` [N, H, W, C] with kernel `w` [KH, KW, C/groups, F] and an
/// optional bias [F]: im2col then one GEMM per group; gradients by the transposed GEMMs and col2im.
///
/// ```swift
/// let y = conv2d(x, kernel, bias, geometry: Conv2DGeometry(kernel: (3, 3)))   // [N, H-2, W-2, F]
/// ```
/// - Parameters:
///   - x: images [batch, height, width, channels].
///   - w: the kernel [kh, kw, channels/groups, filters].
///   - bias: [filters], or nil.
///   - g: the geometry: window, strides, dilation and padding.
///   - groups: channel groups convolved separately.
///   - relu: apply max(0, ·) to the result inside the GEMM (each output tile as it is finished),
///     instead of in a second pass.
public func conv2d(_ x: Tensor, _ w: Tensor, _ bias: Tensor?, geometry g: Conv2DGeometry, groups: Int = 1, relu: Bool = false) -> Tensor {
    nablaPrecondition(x.rank == 4, "conv2d: input must be [batch, height, width, channels], got \(x.shape)")
    nablaPrecondition(w.rank == 4, "conv2d: kernel must be [kh, kw, channels/groups, filters], got \(w.shape)")
    nablaPrecondition(x.dtype == w.dtype && x.dtype.isFloatingPoint, "conv2d: dtypes \(x.dtype) and \(w.dtype)")
    let (n, h, wd, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let f = w.shape[3]
    nablaPrecondition(groups >= 1 && c % groups == 0 && f % groups == 0 && w.shape[2] == c / groups,
                      "conv2d: input \(x.shape) and kernel \(w.shape) do not fit with \(groups) groups")
    nablaPrecondition(w.shape[0] == g.kernel.h && w.shape[1] == g.kernel.w, "conv2d: kernel \(w.shape) does not match the window \(g.kernel)")
    let (oh, ow) = g.outputSize(h, wd)
    nablaPrecondition(oh > 0 && ow > 0, "conv2d: input \(x.shape) is smaller than the window \(g.kernel)")
    let cg = c / groups, fg = f / groups, k = g.kernel.h * g.kernel.w * cg
    if let bias {
        nablaPrecondition(bias.shape == [f] && bias.dtype == x.dtype, "conv2d: bias must be [\(f)] \(x.dtype), got \(bias.shape) \(bias.dtype)")
    }
    let out = Tensor(uninitializedShape: [n, oh, ow, f], dtype: x.dtype)
    let m = n * oh * ow
    let cols = Tensor(uninitializedShape: [m, k], dtype: x.dtype)
    for grp in 0..<groups {
        Im2Col.gather(x, cols, g, channelOffset: grp * cg, channels: cg, images: 0..<n)
        // Each output tile starts as the bias inside the GEMM, which adds the patches · kernel onto it.
        gemmStrided(cols, 0, false, w, grp * fg, false, out, grp * fg, m: m, n: fg, k: k, lda: k, ldb: f, ldc: f, beta: 0,
                    bias: bias, biasOffset: grp * fg, relu: relu)
    }
    // With one group the patches are still those of the input: the kernel gradient reuses them
    // instead of gathering them again (unless they are large enough that memory matters more).
    let keep = groups == 1 && m * k <= Conv2DChunks.keepLimit
    return record(out, x, w, bias, patches: keep ? cols : nil, geometry: g, groups: groups, relu: relu)
}

/// How the backward pass splits the batch for the input gradient: each chunk's patch gradients
/// (rows · k values, about 2 MiB, half in each core's L2 on a two-core machine) are computed and
/// added back into the input while they are in cache, where those of a whole batch went to memory
/// and back (9 MB for the second layer of `cnn_train`). The kernel gradient instead reuses the
/// patches kept from the forward pass, up to `keepLimit` values (measured: regathering them per
/// chunk, in cache, was slower than keeping them).
package struct Conv2DChunks {
    static let patchBytes = 1 << 21
    static let keepLimit = 1 << 25   // 128 MiB of float32
    package let ranges: [Range<Int>]
    let perChunk, pixels: Int

    package init(images n: Int, pixels: Int, k: Int, dtype: DType) {
        let per = Swift.max(1, Swift.min(n, Self.patchBytes / Swift.max(pixels * k * dtype.byteSize, 1)))
        self.perChunk = per
        self.pixels = pixels
        self.ranges = Swift.stride(from: 0, to: n, by: per).map { $0..<Swift.min(n, $0 + per) }
    }

    /// Room for one chunk's patches.
    func buffer(k: Int, dtype: DType) -> Tensor { Tensor(uninitializedShape: [perChunk * pixels, k], dtype: dtype) }
}

private func record(_ out: Tensor, _ x: Tensor, _ w: Tensor, _ bias: Tensor?, patches: Tensor?, geometry g: Conv2DGeometry,
                    groups: Int, relu: Bool) -> Tensor {
    let inputs = bias.map { [x, w, $0] } ?? [x, w]
    guard isGradEnabled, inputs.contains(where: { $0.requiresGrad }) else { return out }
    let xs = x.detached(), ws = w.detached()
    let kept = w.requiresGrad ? patches : nil
    let y = relu ? out.detached() : nil
    return out.recorded(relu ? "conv2d_relu" : "conv2d", inputs) { upstream in
        let (n, h, wd, c) = (xs.shape[0], xs.shape[1], xs.shape[2], xs.shape[3])
        let f = ws.shape[3], cg = c / groups, fg = f / groups
        let (oh, ow) = (upstream.shape[1], upstream.shape[2])
        let k = g.kernel.h * g.kernel.w * cg, m = n * oh * ow
        let (gOut, db) = epilogueGradients(upstream, reluOutput: y, rows: m, columns: f, bias: bias != nil)
        var dw: Tensor? = nil, dx: Tensor? = nil
        if w.requiresGrad {
            // Each group's GEMM writes its own columns of the kernel gradient whole (beta 0).
            dw = Tensor(uninitializedShape: ws.shape, dtype: ws.dtype)
            let cols = kept ?? Tensor(uninitializedShape: [m, k], dtype: xs.dtype)
            for grp in 0..<groups {
                if kept == nil { Im2Col.gather(xs, cols, g, channelOffset: grp * cg, channels: cg, images: 0..<n) }
                gemmStrided(cols, 0, true, gOut, grp * fg, false, dw!, grp * fg, m: k, n: fg, k: m, lda: k, ldb: f, ldc: f, beta: 0)
            }
        }
        if x.requiresGrad {
            dx = Tensor.zeros([n, h, wd, c], dtype: xs.dtype)
            let chunks = Conv2DChunks(images: n, pixels: oh * ow, k: k, dtype: xs.dtype)
            let cols = chunks.buffer(k: k, dtype: xs.dtype)
            for images in chunks.ranges {
                let r0 = images.lowerBound * oh * ow, rows = images.count * oh * ow
                for grp in 0..<groups {
                    gemmStrided(gOut, r0 * f + grp * fg, false, ws, grp * fg, true, cols, 0, m: rows, n: k, k: fg, lda: f, ldb: f, ldc: k, beta: 0)
                    Im2Col.scatterAdd(cols, dx!, g, channelOffset: grp * cg, channels: cg, images: images)
                }
            }
        }
        return bias == nil ? [dx, dw] : [dx, dw, db]
    }
}

/// Patch extraction for NHWC convolutions (and its adjoint): float32 in CNablaKernels' AVX2 loops,
/// float64 (gradient checks) in the generic Swift loop below.
enum Im2Col {
    static func native(_ x: Tensor, _ cols: Tensor, _ g: Conv2DGeometry, _ c0: Int, _ cg: Int, images: Range<Int>, scatter: Bool) {
        let (oh, ow) = g.outputSize(x.shape[1], x.shape[2])
        let image = x.shape[1] * x.shape[2] * x.shape[3]
        nabla_im2col_f32(x.pointer(Float.self) + images.lowerBound * image, cols.pointer(Float.self), images.count, x.shape[1], x.shape[2],
                         x.shape[3], oh, ow, g.kernel.h, g.kernel.w, g.stride.h, g.stride.w, g.dilation.h, g.dilation.w, g.padding.top,
                         g.padding.left, c0, cg, scatter ? 1 : 0)
    }

    /// The patches of `images` (rows of cols from 0, one per output pixel).
    static func gather(_ x: Tensor, _ cols: Tensor, _ g: Conv2DGeometry, channelOffset: Int, channels: Int, images: Range<Int>) {
        if x.dtype == .float32 { native(x, cols, g, channelOffset, channels, images: images, scatter: false) }
        else { generic(x, cols, g, channelOffset, channels, images: images, scatter: false) }
    }

    /// Adds the patches of `images` (rows of cols from 0) back into dx.
    static func scatterAdd(_ cols: Tensor, _ dx: Tensor, _ g: Conv2DGeometry, channelOffset: Int, channels: Int, images: Range<Int>) {
        if dx.dtype == .float32 { native(dx, cols, g, channelOffset, channels, images: images, scatter: true) }
        else { generic(dx, cols, g, channelOffset, channels, images: images, scatter: true) }
    }

    private static func generic(_ x: Tensor, _ cols: Tensor, _ g: Conv2DGeometry, _ c0: Int, _ cg: Int, images: Range<Int>, scatter: Bool) {
        var shape = x.shape
        shape[0] = images.count
        run(x.pointer(Double.self) + images.lowerBound * x.shape[1] * x.shape[2] * x.shape[3], cols.pointer(Double.self), shape, g, c0, cg,
            scatter: scatter)
    }

    private static func run<T: FloatingElement>(_ x: UnsafeMutablePointer<T>, _ cols: UnsafeMutablePointer<T>, _ shape: [Int],
                                                _ g: Conv2DGeometry, _ c0: Int, _ cg: Int, scatter: Bool) {
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let (oh, ow) = g.outputSize(h, w)
        let kh = g.kernel.h, kw = g.kernel.w, k = kh * kw * cg
        let rows = n * oh
        // Scatter-add may write one input position from several output rows: only gather runs in parallel.
        let body = { (range: Range<Int>) in
            for r in range {
                let b = r / oh, y = r % oh
                for xo in 0..<ow {
                    var col = cols + ((b * oh + y) * ow + xo) * k
                    for i in 0..<kh {
                        let iy = y * g.stride.h - g.padding.top + i * g.dilation.h
                        for j in 0..<kw {
                            let ix = xo * g.stride.w - g.padding.left + j * g.dilation.w
                            if iy >= 0 && iy < h && ix >= 0 && ix < w {
                                let src = x + ((b * h + iy) * w + ix) * c + c0
                                if scatter {
                                    for ch in 0..<cg { src[ch] += col[ch] }
                                } else {
                                    (col as UnsafeMutablePointer<T>).update(from: src, count: cg)
                                }
                            } else if !scatter {
                                for ch in 0..<cg { col[ch] = 0 }
                            }
                            col += cg
                        }
                    }
                }
            }
        }
        if scatter {
            // Rows of different images never overlap: parallel over images.
            Parallel.forEachRange(n, grain: Swift.max(1, 4096 / Swift.max(oh * ow * k, 1))) { imgs in
                body((imgs.lowerBound * oh)..<(imgs.upperBound * oh))
            }
        } else {
            Parallel.forEachRange(rows, grain: Swift.max(1, 16384 / Swift.max(ow * k, 1)), body)
        }
    }
}
