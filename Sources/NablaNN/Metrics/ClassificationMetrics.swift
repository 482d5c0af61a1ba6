import Nabla

/// Counts of a binary classifier's outcomes at one threshold.
class ConfusionMetric: Metric, @unchecked Sendable {
    let threshold: Double
    var truePositives = 0.0, falsePositives = 0.0, falseNegatives = 0.0

    init(name: String, threshold: Double) {
        self.threshold = threshold
        super.init(name: name)
    }

    override func update(_ yTrue: Tensor, _ yPred: Tensor) {
        let t = matchRank(yTrue, yPred).toArray(Double.self), p = yPred.toArray(Double.self)
        for (y, s) in zip(t, p) {
            let positive = s > threshold
            if positive && y > 0.5 { truePositives += 1 } else if positive { falsePositives += 1 } else if y > 0.5 { falseNegatives += 1 }
        }
    }

    override func reset() {
        truePositives = 0
        falsePositives = 0
        falseNegatives = 0
    }
}

/// A ratio of confusion counts at one threshold: precision or recall.
public class ConfusionRatio: Metric, @unchecked Sendable {
    private let counts: ConfusionMetric
    private let ratio: (ConfusionMetric) -> (Double, Double)

    init(name: String, threshold: Double, ratio: @escaping (ConfusionMetric) -> (Double, Double)) {
        counts = ConfusionMetric(name: name, threshold: threshold)
        self.ratio = ratio
        super.init(name: name)
    }

    public override func update(_ yTrue: Tensor, _ yPred: Tensor) { counts.update(yTrue, yPred) }
    public override func result() -> Double {
        let (num, den) = ratio(counts)
        return den == 0 ? 0 : num / den
    }
    public override func reset() { counts.reset() }
}

/// TP / (TP + FP) of binary predictions at `threshold` (0.5).
public final class Precision: ConfusionRatio, @unchecked Sendable {
    public init(threshold: Double = 0.5, name: String = "precision") {
        super.init(name: name, threshold: threshold) { ($0.truePositives, $0.truePositives + $0.falsePositives) }
    }
}

/// TP / (TP + FN) of binary predictions at `threshold` (0.5).
public final class Recall: ConfusionRatio, @unchecked Sendable {
    public init(threshold: Double = 0.5, name: String = "recall") {
        super.init(name: name, threshold: threshold) { ($0.truePositives, $0.truePositives + $0.falseNegatives) }
    }
}

/// Area under the ROC curve of binary scores, from true/false-positive rates at `thresholds` evenly
/// spaced thresholds (Keras's 200), summed with the trapezoidal rule.
public final class AUC: Metric, @unchecked Sendable {
    public let thresholds: Int
    private var tp: [Double], fp: [Double], positives = 0.0, negatives = 0.0

    public init(thresholds: Int = 200, name: String = "auc") {
        self.thresholds = thresholds
        tp = Array(repeating: 0, count: thresholds)
        fp = Array(repeating: 0, count: thresholds)
        super.init(name: name)
    }

    private func threshold(_ i: Int) -> Double {
        // Keras: 0 − ε, evenly spaced interior points, 1 + ε.
        if i == 0 { return -1e-7 }
        if i == thresholds - 1 { return 1 + 1e-7 }
        return Double(i) / Double(thresholds - 1)
    }

    public override func update(_ yTrue: Tensor, _ yPred: Tensor) {
        let t = matchRank(yTrue, yPred).toArray(Double.self), p = yPred.toArray(Double.self)
        for (y, s) in zip(t, p) {
            let positive = y > 0.5
            if positive { positives += 1 } else { negatives += 1 }
            for i in 0..<thresholds where s > threshold(i) {
                if positive { tp[i] += 1 } else { fp[i] += 1 }
            }
        }
    }

    public override func result() -> Double {
        guard positives > 0, negatives > 0 else { return 0 }
        var area = 0.0
        for i in 0..<(thresholds - 1) {
            let tpr0 = tp[i] / positives, tpr1 = tp[i + 1] / positives
            let fpr0 = fp[i] / negatives, fpr1 = fp[i + 1] / negatives
            area += (fpr0 - fpr1) * (tpr0 + tpr1) / 2
        }
        return area
    }

    public override func reset() {
        tp = Array(repeating: 0, count: thresholds)
        fp = Array(repeating: 0, count: thresholds)
        positives = 0
        negatives = 0
    }
}
