import CNablaMPI
import Foundation
import Nabla
import NablaNN

/// The processes of an `mpirun` job as a ``Communicator``, over Open MPI's `MPI_COMM_WORLD`. Built
/// only with `NABLA_MPI=1 swift build` where Open MPI is installed (`apt-get install libopenmpi-dev
/// openmpi-bin`, `brew install open-mpi`); the default build needs nothing but the toolchain.
///
/// A failed MPI call ends the whole job with one message naming the operation (`MPI_Abort`), so that
/// no rank is left waiting in a collective for a partner that is gone.
///
/// ```swift
/// let world = try MPICommunicator()      // mpirun -np 2 my-program
/// let parallel = DataParallel(world)
/// try model.fit(x, y, batchSize: 256, epochs: 10, distributed: parallel)
/// world.finalize()
/// ```
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    public let localSize: Int

    /// Initialises MPI (once per process).
    public init() throws(NablaError) {
        var r: Int32 = 0, s: Int32 = 0, l: Int32 = 0
        let rc = nabla_mpi_init(&r, &s, &l)
        guard rc == 0 else { throw .invalidState("MPI_Init failed: \(Self.describe(rc))") }
        (rank, size, localSize) = (Int(r), Int(s), Int(l))
    }

    /// Whether this process was started by an MPI launcher (`mpirun`, `srun`), judged from the
    /// environment that launchers set, before initialising anything.
    public static var launchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"].contains { env[$0] != nil }
    }

    static func describe(_ code: Int32) -> String {
        var text = [CChar](repeating: 0, count: 512)
        nabla_mpi_error_string(code, &text, Int32(text.count))
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Ends the whole job after a failed call, naming it.
    private func check(_ rc: Int32, _ what: String) {
        guard rc != 0 else { return }
        FileHandle.standardError.write(Data("nabla: rank \(rank): \(what) failed (\(Self.describe(rc))); ending the job\n".utf8))
        nabla_mpi_abort(1)
    }

    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) {
        check(nabla_mpi_allreduce_sum_f32(values.baseAddress, values.count), "MPI_Allreduce")
    }

    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) {
        check(nabla_mpi_allreduce_sum_f64(values.baseAddress, values.count), "MPI_Allreduce")
    }

    public func startAllReduceSum(_ values: UnsafeMutableBufferPointer<Float>) -> Int {
        let h = nabla_mpi_iallreduce_sum_f32(values.baseAddress, values.count)
        if h < 0 { check(-1, "MPI_Iallreduce") }
        return Int(h)
    }

    public func progress() { nabla_mpi_progress() }

    public func wait(_ handle: Int) { check(nabla_mpi_wait(Int32(handle)), "MPI_Wait") }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {
        check(nabla_mpi_broadcast(bytes.baseAddress, bytes.count, Int32(root)), "MPI_Bcast")
    }

    public func barrier() { check(nabla_mpi_barrier(), "MPI_Barrier") }

    /// Ends every process of the job with `code` (after an error on one rank that the others cannot see).
    ///
    /// - Parameter code: the exit status.
    public func abort(_ code: Int32 = 1) -> Never {
        nabla_mpi_abort(code)
        exit(code)
    }

    /// Shuts MPI down; call once, at the end.
    public func finalize() { nabla_mpi_finalize() }
}
