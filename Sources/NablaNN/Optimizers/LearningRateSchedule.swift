#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A learning rate as a function of the optimizer's step count (0 for the first step).
///
/// ```swift
/// let optimizer = Adam()
/// optimizer.schedule = CosineDecay(initialLearningRate: 1e-4, decaySteps: 1900, alpha: 0.1,
///                                  warmupTarget: 1e-3, warmupSteps: 100)
/// ```
public protocol LearningRateSchedule: Sendable {
    func callAsFunction(_ step: Int) -> Double
}

/// lr · rate^(step / decaySteps), floored to whole periods when `staircase` (Keras's ExponentialDecay).
public struct ExponentialDecay: LearningRateSchedule {
    public let initialLearningRate: Double, decaySteps: Int, decayRate: Double, staircase: Bool
    public init(initialLearningRate: Double, decaySteps: Int, decayRate: Double, staircase: Bool = false) {
        self.initialLearningRate = initialLearningRate
        self.decaySteps = decaySteps
        self.decayRate = decayRate
        self.staircase = staircase
    }
    public func callAsFunction(_ step: Int) -> Double {
        var p = Double(step) / Double(decaySteps)
        if staircase { p = p.rounded(.down) }
        return initialLearningRate * pow(decayRate, p)
    }
}

/// lr · factor^⌊step / stepSize⌋ (PyTorch's StepLR).
public struct StepDecay: LearningRateSchedule {
    public let initialLearningRate: Double, stepSize: Int, factor: Double
    public init(initialLearningRate: Double, stepSize: Int, factor: Double = 0.1) {
        self.initialLearningRate = initialLearningRate
        self.stepSize = stepSize
        self.factor = factor
    }
    public func callAsFunction(_ step: Int) -> Double {
        initialLearningRate * pow(factor, Double(step / stepSize))
    }
}

/// Keras's CosineDecay: an optional linear warm-up from `initialLearningRate` to `warmupTarget` over
/// `warmupSteps`, then a cosine from the peak down to `alpha`·peak over `decaySteps`, flat after.
public struct CosineDecay: LearningRateSchedule {
    public let initialLearningRate: Double, decaySteps: Int, alpha: Double, warmupTarget: Double?, warmupSteps: Int
    public init(initialLearningRate: Double, decaySteps: Int, alpha: Double = 0, warmupTarget: Double? = nil, warmupSteps: Int = 0) {
        self.initialLearningRate = initialLearningRate
        self.decaySteps = decaySteps
        self.alpha = alpha
        self.warmupTarget = warmupTarget
        self.warmupSteps = warmupSteps
    }
    public func callAsFunction(_ step: Int) -> Double {
        let peak = warmupTarget ?? initialLearningRate
        if let target = warmupTarget, step < warmupSteps {
            return initialLearningRate + (target - initialLearningRate) * Double(step) / Double(warmupSteps)
        }
        let t = Double(Swift.min(step - (warmupTarget == nil ? 0 : warmupSteps), decaySteps)) / Double(decaySteps)
        let cosine = 0.5 * (1 + cos(Double.pi * t))
        return peak * ((1 - alpha) * cosine + alpha)
    }
}
