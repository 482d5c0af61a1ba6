import Foundation
import Nabla

/// Writes TensorBoard event files: TFRecord framing (length, masked CRC-32C, payload, masked
/// CRC-32C) around `Event` protocol buffers carrying scalar summaries, encoded by hand so that
/// no protobuf library is needed.
///
/// ```swift
/// let writer = try EventFileWriter(directory: URL(fileURLWithPath: "logs/train"))
/// writer.addScalar("epoch_loss", 0.42, step: 3)
/// writer.flush()
/// ```
public final class EventFileWriter: @unchecked Sendable {
    public let url: URL
    private let handle: FileHandle

    public init(directory: URL) throws(NablaError) {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw .invalidState("\(directory.path): cannot create the log folder: \(error.localizedDescription)")
        }
        let host = ProcessInfo.processInfo.hostName
        let name = "events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        url = directory.appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: url.path, contents: nil), let h = FileHandle(forWritingAtPath: url.path) else {
            throw .invalidState("\(url.path): cannot create the event file")
        }
        handle = h
        var event = ProtoWriter()
        event.double(1, Date().timeIntervalSince1970)
        event.string(3, "brain.Event:2")
        write(event.bytes)
    }

    deinit { try? handle.close() }

    /// Appends one scalar at `step`.
    public func addScalar(_ tag: String, _ value: Double, step: Int, wallTime: Double = Date().timeIntervalSince1970) {
        var v = ProtoWriter()
        v.string(1, tag)
        v.float(2, Float(value))
        var summary = ProtoWriter()
        summary.data(1, v.bytes)
        var event = ProtoWriter()
        event.double(1, wallTime)
        event.int(2, step)
        event.data(5, summary.bytes)
        write(event.bytes)
    }

    /// Pushes written events to disk.
    public func flush() { try? handle.synchronize() }

    private func write(_ payload: [UInt8]) {
        var record = [UInt8]()
        let length = UInt64(payload.count)
        let lengthBytes = (0..<8).map { UInt8((length >> (8 * UInt64($0))) & 0xFF) }
        record += lengthBytes
        record += littleEndian(CRC32C.masked(lengthBytes))
        record += payload
        record += littleEndian(CRC32C.masked(payload))
        handle.write(Data(record))
    }

    private func littleEndian(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xFF) } }
}

/// CRC-32C (Castagnoli), as TFRecord framing uses it, with TensorFlow's masking.
enum CRC32C {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    static func masked(_ bytes: [UInt8]) -> UInt32 {
        let c = checksum(bytes)
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }
}

/// Logs training to TensorBoard as Keras does: `train/` and `validation/` folders under `logDir`,
/// scalars `epoch_loss`, `epoch_<metric>` and `epoch_learning_rate` per epoch, and `batch_<name>`
/// per batch when `updateFrequency` is `.batch`.
///
/// ```swift
/// try model.fit(x, y, epochs: 10, validationSplit: 0.2, callbacks: [try TensorBoard(logDir: "logs")])
/// // tensorboard --logdir logs
/// ```
public final class TensorBoard: Callback, @unchecked Sendable {
    public enum UpdateFrequency: Sendable { case epoch, batch }

    public let logDir: URL
    public let updateFrequency: UpdateFrequency
    private let train: EventFileWriter
    private let validation: EventFileWriter
    private var globalBatch = 0

    public init(logDir: String, updateFrequency: UpdateFrequency = .epoch) throws(NablaError) {
        self.logDir = URL(fileURLWithPath: logDir)
        self.updateFrequency = updateFrequency
        train = try EventFileWriter(directory: self.logDir.appendingPathComponent("train"))
        validation = try EventFileWriter(directory: self.logDir.appendingPathComponent("validation"))
    }

    public override func onBatchEnd(_ batch: Int, logs: [String: Double]) {
        globalBatch += 1
        guard updateFrequency == .batch else { return }
        for (k, v) in logs where k != "batch_loss" { train.addScalar("batch_" + k, v, step: globalBatch) }
    }

    public override func onEpochEnd(_ epoch: Int, logs: [String: Double]) {
        for (k, v) in logs {
            if k.hasPrefix("val_") { validation.addScalar("epoch_" + k.dropFirst(4), v, step: epoch) }
            else { train.addScalar("epoch_" + k, v, step: epoch) }
        }
        if let lr = model?.optimizer?.learningRate { train.addScalar("epoch_learning_rate", lr, step: epoch) }
        train.flush()
        validation.flush()
    }
}
