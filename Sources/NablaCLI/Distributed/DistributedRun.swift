import ArgumentParser
import Foundation
import Nabla
import NablaNN
#if canImport(NablaMPI)
import NablaMPI
#endif

/// `--distributed`: this process's place in an `mpirun` job, for the commands that train. Only rank 0
/// prints, logs, checkpoints and saves; every rank trains on its shard of each global batch.
struct DistributedRun {
    let parallel: DataParallel
    private let finish: () -> Void

    var isPrimary: Bool { parallel.isPrimary }

    /// Joins the job. Threads per rank default to the machine's cores over the ranks on this machine
    /// (NABLA_THREADS, when set, wins).
    static func start() throws -> DistributedRun {
        #if canImport(NablaMPI)
        let world = try MPICommunicator()
        if ProcessInfo.processInfo.environment["NABLA_THREADS"] == nil {
            Parallel.threadCount = Swift.max(1, ProcessInfo.processInfo.activeProcessorCount / Swift.max(1, world.localSize))
        }
        let parallel = DataParallel(world)
        parallel.verifyReplicas = ProcessInfo.processInfo.environment["NABLA_VERIFY_REPLICAS"] == "1"
        if parallel.isPrimary {
            print("distributed: \(world.size) processes (\(world.localSize) on this machine), \(Parallel.threadCount) thread\(Parallel.threadCount == 1 ? "" : "s") each")
        }
        return DistributedRun(parallel: parallel, finish: { world.finalize() })
        #else
        throw ValidationError("--distributed needs a nabla built with Open MPI: install it (apt-get install libopenmpi-dev openmpi-bin, "
                              + "or brew install open-mpi) and build with `NABLA_MPI=1 swift build -c release`")
        #endif
    }

    /// Leaves the job (MPI_Finalize).
    func end() { finish() }
}
