import Foundation
import Nabla

/// A training checkpoint: the weights, the optimizer's state, the epoch, the random generator's
/// state and the history, in one safetensors file written atomically (a kill at any instant leaves
/// the previous checkpoint or the new one, never a torn file).
///
/// ```swift
/// try TrainingCheckpoint.save(model, epoch: 3, history: history, to: url)
/// let (epoch, history) = try TrainingCheckpoint.restore(model, from: url)
/// try model.fit(x, y, epochs: 10, initialEpoch: epoch)
/// ```
public enum TrainingCheckpoint {
    /// Writes the checkpoint of `model` after `epoch` completed epochs.
    public static func save(_ model: Model, epoch: Int, history: [String: [Double]], to url: URL) throws(NablaError) {
        var tensors: [String: Tensor] = [:]
        for (k, v) in model.stateDict() { tensors["model/" + k] = v }
        if let optimizer = model.optimizer {
            for (k, v) in optimizer.state(for: model.trainableParameters) { tensors["optimizer/" + k] = v }
        }
        let historyJSON: String
        do {
            historyJSON = String(decoding: try JSONEncoder().encode(history), as: UTF8.self)
        } catch { throw .invalidState("checkpoint: cannot encode the history: \(error)") }
        let metadata = [
            "format": "nabla-checkpoint-1", "epoch": String(epoch), "model": model.name,
            "rng": RandomGenerator.current.state.map(String.init).joined(separator: ","), "history": historyJSON,
        ]
        do { try SafeTensors.write(tensors, metadata: metadata, to: url) } catch { throw .file(error) }
    }

    /// Restores weights, optimizer state and the current random generator from `url` into `model`
    /// (built and compiled as when it was saved); returns the completed epochs and the history.
    @discardableResult
    public static func restore(_ model: Model, from url: URL) throws(NablaError) -> (epoch: Int, history: [String: [Double]]) {
        let file: (tensors: [String: Tensor], metadata: [String: String])
        do { file = try SafeTensors.read(from: url) } catch { throw .file(error) }
        guard file.metadata["format"] == "nabla-checkpoint-1", let epoch = file.metadata["epoch"].flatMap(Int.init) else {
            throw .invalidState("\(url.path): not a Nabla checkpoint")
        }
        var weights: [String: Tensor] = [:], optimizerState: [String: Tensor] = [:]
        for (k, v) in file.tensors {
            if k.hasPrefix("model/") { weights[String(k.dropFirst(6))] = v }
            else if k.hasPrefix("optimizer/") { optimizerState[String(k.dropFirst(10))] = v }
        }
        try model.loadStateDict(weights)
        if let optimizer = model.optimizer, !optimizerState.isEmpty {
            try optimizer.loadState(optimizerState, for: model.trainableParameters)
        }
        if let rng = file.metadata["rng"] {
            let words = rng.split(separator: ",").compactMap { UInt64($0) }
            guard words.count == 4 else { throw .invalidState("\(url.path): bad random generator state") }
            RandomGenerator.current.state = words
        }
        var history: [String: [Double]] = [:]
        if let h = file.metadata["history"], let decoded = try? JSONDecoder().decode([String: [Double]].self, from: Data(h.utf8)) {
            history = decoded
        }
        return (epoch, history)
    }

    /// The checkpoint file name for `epoch`: `checkpoint-epoch-0007.safetensors`.
    public static func fileName(epoch: Int) -> String { "checkpoint-epoch-\(String(format: "%04d", epoch)).safetensors" }

    /// Checkpoints in `directory`, oldest first.
    public static func all(in directory: URL) -> [(epoch: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("checkpoint-epoch-"), name.hasSuffix(".safetensors"),
                  let e = Int(name.dropFirst("checkpoint-epoch-".count).dropLast(".safetensors".count)) else { return nil }
            return (e, directory.appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }

    /// The most recent checkpoint in `directory`, if any.
    public static func latest(in directory: URL) -> URL? { all(in: directory).last?.url }
}

/// Saves a checkpoint at the end of every epoch (or only when `monitor` improves), keeping the
/// last `keep` files; stale temporary files of interrupted writes are removed when training starts.
///
/// ```swift
/// try model.fit(x, y, epochs: 20, callbacks: [ModelCheckpoint(directory: dir, keep: 3)])
/// ```
public final class ModelCheckpoint: Callback, @unchecked Sendable {
    public let directory: URL
    public let monitor: String
    public let saveBestOnly: Bool
    public let keep: Int
    let mode: MonitorMode
    private var best = Double.nan
    private var history: [String: [Double]]
    /// The last error from writing, if a checkpoint could not be saved (training goes on).
    public private(set) var lastError: NablaError?

    /// - Parameters:
    ///   - directory: the folder that holds the checkpoints (created when missing).
    ///   - monitor: the logged value that decides which epoch is best (`val_loss`, `val_accuracy`, ...).
    ///   - saveBestOnly: write a checkpoint only when `monitor` improves.
    ///   - mode: whether larger or smaller `monitor` values are better (`auto` guesses from the name).
    ///   - keep: how many checkpoints to keep; older ones are removed.
    ///   - history: the history of the epochs before a resumed run, so checkpoints carry it all.
    public init(directory: URL, monitor: String = "val_loss", saveBestOnly: Bool = false, mode: MonitorMode = .auto,
                keep: Int = 3, history: [String: [Double]] = [:]) {
        self.directory = directory
        self.monitor = monitor
        self.saveBestOnly = saveBestOnly
        self.mode = mode.resolved(for: monitor)
        self.keep = Swift.max(1, keep)
        self.history = history
    }

    public override func onTrainBegin(logs: [String: Double]) {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        AtomicFile.removeStaleTemporaries(in: directory)
    }

    public override func onEpochEnd(_ epoch: Int, logs: [String: Double]) {
        for (k, v) in logs { history[k, default: []].append(v) }
        // A NaN loss must not overwrite the last good checkpoint.
        guard logs.values.allSatisfy(\.isFinite) else { return }
        if saveBestOnly {
            guard let value = logs[monitor] else { return }
            let improved = best.isNaN || (mode == .min ? value < best : value > best)
            guard improved else { return }
            best = value
        }
        guard let model else { return }
        do {
            try TrainingCheckpoint.save(model, epoch: epoch + 1, history: history,
                                        to: directory.appendingPathComponent(TrainingCheckpoint.fileName(epoch: epoch + 1)))
            lastError = nil
        } catch {
            lastError = error
            return
        }
        let files = TrainingCheckpoint.all(in: directory)
        for old in files.dropLast(keep) { try? FileManager.default.removeItem(at: old.url) }
    }
}
