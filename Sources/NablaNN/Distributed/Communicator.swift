import Nabla

/// The collective operations of a group of processes that train one model together: each process
/// (a *rank*) holds a replica and a shard of the data. `NablaMPI`'s `MPICommunicator` implements it
/// over Open MPI (built with `NABLA_MPI=1`); ``SingleProcessCommunicator`` is the group of one.
///
/// ```swift
/// let group = try MPICommunicator()              // under mpirun -np 4
/// var sums: [Float] = [1, 2]
/// sums.withUnsafeMutableBufferPointer { group.allReduceSum($0) }   // [4, 8] on every rank
/// ```
public protocol Communicator: AnyObject {
    /// This process's index in the group, 0 ..< size.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// The processes of the group on this machine (threads per rank default to cores / this).
    var localSize: Int { get }
    /// Sums `values` over every rank, in place, on every rank.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>)
    /// Sums `values` over every rank, in place, on every rank.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>)
    /// Starts summing `values` over every rank without waiting; returns a handle for ``wait(_:)``.
    /// The buffer must stay alive and untouched until then.
    func startAllReduceSum(_ values: UnsafeMutableBufferPointer<Float>) -> Int
    /// Lets started operations advance (MPI progresses non-blocking collectives inside MPI calls).
    func progress()
    /// Waits for a started operation.
    func wait(_ handle: Int)
    /// Copies `root`'s bytes into every other rank's buffer.
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int)
    /// Waits until every rank has arrived.
    func barrier()
}

/// A group of one process: every collective is the identity. Lets code written for data-parallel
/// training run unchanged in one process.
public final class SingleProcessCommunicator: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public var localSize: Int { 1 }
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) {}
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) {}
    public func startAllReduceSum(_ values: UnsafeMutableBufferPointer<Float>) -> Int { 0 }
    public func progress() {}
    public func wait(_ handle: Int) {}
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {}
    public func barrier() {}
}

extension Communicator {
    /// The element-wise sum of `values` over every rank.
    ///
    /// - Parameter values: this rank's values (the same count on every rank).
    public func sum(_ values: [Double]) -> [Double] {
        var v = values
        v.withUnsafeMutableBufferPointer { allReduceSum($0) }
        return v
    }

    /// `tensor`'s values summed (or averaged, with `mean`) over every rank, as a new tensor.
    ///
    /// - Parameters:
    ///   - tensor: a float32 or float64 tensor of the same shape on every rank.
    ///   - mean: divide the sum by the number of ranks.
    public func allReduce(_ tensor: Tensor, mean: Bool = false) -> Tensor {
        nablaPrecondition(tensor.dtype == .float32 || tensor.dtype == .float64, "allReduce: float32 or float64 tensors, got \(tensor.dtype)")
        let out = tensor.copy()
        if tensor.dtype == .float32 {
            allReduceSum(UnsafeMutableBufferPointer(start: out.pointer(Float.self), count: out.count))
            if mean { out.scaleInPlace(by: 1 / Double(size)) }
        } else {
            allReduceSum(UnsafeMutableBufferPointer(start: out.pointer(Double.self), count: out.count))
            if mean { out.scaleInPlace(by: 1 / Double(size)) }
        }
        return out
    }

    /// Overwrites `tensor`'s values on every rank with `root`'s, in place (parameters at the start
    /// of data-parallel training).
    ///
    /// - Parameters:
    ///   - tensor: a tensor of the same shape and dtype on every rank.
    ///   - root: the rank whose values win.
    public func broadcastInPlace(_ tensor: Tensor, root: Int = 0) {
        broadcast(UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(tensor.pointer(UInt8.self)), count: tensor.count * tensor.dtype.byteSize), root: root)
    }
}
