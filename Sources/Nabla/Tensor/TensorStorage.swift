import CNablaKernels

/// The memory behind one or more tensors: a 64-byte aligned buffer from Nabla's caching allocator.
///
/// Tensors share storage (a reshape, a detach) and never write into storage that another tensor
/// sees, except for optimizers updating parameters inside a no-gradient scope.
public final class TensorStorage: @unchecked Sendable {
    @usableFromInline let data: UnsafeMutableRawPointer
    @usableFromInline let byteCount: Int

    @usableFromInline init(byteCount: Int) {
        self.byteCount = byteCount
        guard let p = nabla_alloc(max(byteCount, 1)) else {
            fatalError("Nabla: out of memory allocating \(byteCount) bytes")
        }
        self.data = p
    }

    deinit { nabla_free(data, max(byteCount, 1)) }
}
