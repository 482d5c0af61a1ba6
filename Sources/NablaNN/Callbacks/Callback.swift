import Nabla

/// Hooks into `fit`: override the events you need. `model` is set when training starts.
///
/// ```swift
/// final class PrintLoss: Callback {
///     override func onEpochEnd(_ epoch: Int, logs: [String: Double]) { print(epoch, logs["loss"]!) }
/// }
/// ```
open class Callback: @unchecked Sendable {
    /// The model being trained.
    public weak var model: Model?

    public init() {}

    open func onTrainBegin(logs: [String: Double]) {}
    open func onTrainEnd(logs: [String: Double]) {}
    open func onEpochBegin(_ epoch: Int, logs: [String: Double]) {}
    open func onEpochEnd(_ epoch: Int, logs: [String: Double]) {}
    open func onBatchBegin(_ batch: Int, logs: [String: Double]) {}
    open func onBatchEnd(_ batch: Int, logs: [String: Double]) {}
}

/// The record of a `fit`: every epoch's logs (loss, metrics, validation figures, learning rate).
///
/// ```swift
/// let history = try model.fit(x, y, epochs: 10, validationSplit: 0.2)
/// history.history["val_loss"]!.last
/// ```
public final class History: Callback, @unchecked Sendable {
    /// Each log key's value per epoch.
    public private(set) var history: [String: [Double]] = [:]
    /// The epochs recorded (0-based).
    public private(set) var epochs: [Int] = []

    public override func onEpochEnd(_ epoch: Int, logs: [String: Double]) {
        epochs.append(epoch)
        for (k, v) in logs { history[k, default: []].append(v) }
    }
}

/// Runs closures at training events.
///
/// ```swift
/// LambdaCallback(onEpochEnd: { epoch, logs in print(epoch, logs) })
/// ```
public final class LambdaCallback: Callback, @unchecked Sendable {
    let epochEnd: ((Int, [String: Double]) -> Void)?
    let batchEnd: ((Int, [String: Double]) -> Void)?
    let trainEnd: (([String: Double]) -> Void)?

    public init(onEpochEnd: ((Int, [String: Double]) -> Void)? = nil, onBatchEnd: ((Int, [String: Double]) -> Void)? = nil,
                onTrainEnd: (([String: Double]) -> Void)? = nil) {
        epochEnd = onEpochEnd
        batchEnd = onBatchEnd
        trainEnd = onTrainEnd
    }

    public override func onEpochEnd(_ epoch: Int, logs: [String: Double]) { epochEnd?(epoch, logs) }
    public override func onBatchEnd(_ batch: Int, logs: [String: Double]) { batchEnd?(batch, logs) }
    public override func onTrainEnd(logs: [String: Double]) { trainEnd?(logs) }
}

/// Whether a monitored quantity improves when it goes down (`loss`) or up (`accuracy`).
public enum MonitorMode: Sendable {
    case min, max, auto

    func resolved(for monitor: String) -> MonitorMode {
        guard self == .auto else { return self }
        return monitor.contains("acc") || monitor.contains("auc") || monitor.contains("precision") || monitor.contains("recall") ? .max : .min
    }
}

/// Stops training when `monitor` has not improved by `minDelta` for `patience` epochs, and can
/// put back the best epoch's weights.
///
/// ```swift
/// EarlyStopping(monitor: "val_loss", patience: 3, restoreBestWeights: true)
/// ```
public final class EarlyStopping: Callback, @unchecked Sendable {
    public let monitor: String, minDelta: Double, patience: Int, restoreBestWeights: Bool
    let mode: MonitorMode
    private var best = Double.nan, wait = 0, bestWeights: [String: Tensor]?
    /// The epoch at which training stopped, if it did.
    public private(set) var stoppedEpoch: Int?

    /// - Parameters:
    ///   - monitor: the logged value watched.
    ///   - minDelta: the least change that counts as an improvement.
    ///   - patience: epochs without improvement before stopping.
    ///   - mode: whether larger or smaller is better (`auto` guesses from the name).
    ///   - restoreBestWeights: put back the weights of the best epoch when stopping.
    public init(monitor: String = "val_loss", minDelta: Double = 0, patience: Int = 0, mode: MonitorMode = .auto,
                restoreBestWeights: Bool = false) {
        self.monitor = monitor
        self.minDelta = Swift.abs(minDelta)
        self.patience = patience
        self.mode = mode.resolved(for: monitor)
        self.restoreBestWeights = restoreBestWeights
    }

    public override func onTrainBegin(logs: [String: Double]) {
        best = .nan
        wait = 0
        stoppedEpoch = nil
        bestWeights = nil
    }

    public override func onEpochEnd(_ epoch: Int, logs: [String: Double]) {
        guard let value = logs[monitor] else { return }
        let improved = best.isNaN || (mode == .min ? value < best - minDelta : value > best + minDelta)
        if improved {
            best = value
            wait = 0
            if restoreBestWeights { bestWeights = model?.stateDict().mapValues { $0.copy() } }
        } else {
            wait += 1
            if wait >= patience && epoch > 0 {
                stoppedEpoch = epoch
                model?.stopTraining = true
            }
        }
    }

    public override func onTrainEnd(logs: [String: Double]) {
        if restoreBestWeights, let bestWeights, let model { try? model.loadStateDict(bestWeights) }
    }
}

/// Divides the learning rate by 1/`factor` when `monitor` stops improving for `patience` epochs.
public final class ReduceLROnPlateau: Callback, @unchecked Sendable {
    public let monitor: String, factor: Double, patience: Int, minDelta: Double, cooldown: Int, minLearningRate: Double
    let mode: MonitorMode
    private var best = Double.nan, wait = 0, cooldownLeft = 0

    public init(monitor: String = "val_loss", factor: Double = 0.1, patience: Int = 10, mode: MonitorMode = .auto,
                minDelta: Double = 1e-4, cooldown: Int = 0, minLearningRate: Double = 0) {
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.mode = mode.resolved(for: monitor)
        self.minDelta = minDelta
        self.cooldown = cooldown
        self.minLearningRate = minLearningRate
    }

    public override func onEpochEnd(_ epoch: Int, logs: [String: Double]) {
        guard let value = logs[monitor], let optimizer = model?.optimizer else { return }
        if cooldownLeft > 0 { cooldownLeft -= 1; wait = 0 }
        if best.isNaN || (mode == .min ? value < best - minDelta : value > best + minDelta) {
            best = value
            wait = 0
        } else if cooldownLeft == 0 {
            wait += 1
            if wait >= patience {
                optimizer.learningRate = Swift.max(optimizer.learningRate * factor, minLearningRate)
                cooldownLeft = cooldown
                wait = 0
            }
        }
    }
}

/// Sets the learning rate at the start of each epoch from `schedule(epoch, currentRate)`.
public final class LearningRateScheduler: Callback, @unchecked Sendable {
    let schedule: (Int, Double) -> Double

    public init(_ schedule: @escaping (Int, Double) -> Double) { self.schedule = schedule }

    public override func onEpochBegin(_ epoch: Int, logs: [String: Double]) {
        guard let optimizer = model?.optimizer else { return }
        optimizer.learningRate = schedule(epoch, optimizer.learningRate)
    }
}

/// Stops training as soon as a batch loss is NaN or infinite.
public final class TerminateOnNaN: Callback, @unchecked Sendable {
    public override init() {}

    public override func onBatchEnd(_ batch: Int, logs: [String: Double]) {
        if let loss = logs["loss"], !loss.isFinite { model?.stopTraining = true }
    }
}
