import CNablaKernels

/// Nabla's thread pool, shared by GEMM and the large elementwise ops and reductions.
///
/// ```swift
/// Parallel.threadCount = 1      // run everything on the calling thread
/// ```
public enum Parallel {
    /// Threads used by parallel kernels (the calling thread included). Defaults to all cores.
    public static var threadCount: Int {
        get { Int(nabla_thread_count()) }
        set { nabla_set_thread_count(Int32(newValue)) }
    }

    /// Elements below which an elementwise op stays on one thread.
    package static let elementwiseGrain = 1 << 15

    /// Runs `body` over contiguous parts of `0..<n`, in parallel when each part gets at least
    /// `grain` items.
    @inline(__always)
    package static func forEachRange(_ n: Int, grain: Int = elementwiseGrain, _ body: (Range<Int>) -> Void) {
        if n < 2 * grain || nabla_thread_count() < 2 {
            body(0..<n)
            return
        }
        withoutActuallyEscaping(body) { escaping in
            var box = escaping
            withUnsafeMutablePointer(to: &box) { ptr in
                nabla_parallel_for(n, grain, 1, { ctx, begin, end in
                    let fn = ctx!.assumingMemoryBound(to: ((Range<Int>) -> Void).self).pointee
                    fn(begin..<end)
                }, ptr)
            }
        }
    }
}
