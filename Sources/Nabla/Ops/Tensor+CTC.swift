import Foundation

/// How a batch of losses becomes one value, as PyTorch's `reduction`.
public enum LossReduction: String, Sendable {
    /// One loss per sample.
    case none
    case sum
    /// For CTC: each loss divided by its target length, then the mean over the batch (PyTorch's rule).
    case mean
}

/// Connectionist temporal classification (Graves et al. 2006), as `torch.nn.functional.ctc_loss`: the
/// negative log-likelihood of each target sequence summed over every alignment of it to the input
/// frames (blanks between and around labels, repeats merged), by the forward–backward recursion in
/// log space. The gradient with respect to the log-probabilities is the exact partial derivative,
/// −γ (the alignments' posterior of each label at each frame); through a log-softmax it gives
/// softmax − γ, the gradient PyTorch reports for the logits.
///
/// ```swift
/// let logProbs = logSoftmax(logits, axis: -1)                    // [frames, batch, classes]
/// let loss = ctcLoss(logProbs: logProbs, targets: targets,       // targets [batch, longest] int32
///                    inputLengths: [50, 42], targetLengths: [4, 3])
/// ```
/// - Parameters:
///   - logProbs: log-probabilities [frames, batch, classes] (a log-softmax over classes).
///   - targets: label ids [batch, longest target] int32, padded beyond each target's length.
///   - inputLengths: the frames that count in each sample.
///   - targetLengths: each target's length.
///   - blank: the blank's class index.
///   - reduction: `.mean` (PyTorch's default), `.sum` or `.none` ([batch]).
///   - zeroInfinity: give impossible alignments (a target too long for its frames) loss 0 and no
///     gradient instead of infinity.
public func ctcLoss(logProbs: Tensor, targets: Tensor, inputLengths: [Int], targetLengths: [Int], blank: Int = 0,
                    reduction: LossReduction = .mean, zeroInfinity: Bool = false) -> Tensor {
    nablaPrecondition(logProbs.rank == 3 && logProbs.dtype.isFloatingPoint, "ctc_loss: log-probabilities must be [frames, batch, classes], got \(logProbs.shape)")
    let (frames, batch, classes) = (logProbs.shape[0], logProbs.shape[1], logProbs.shape[2])
    nablaPrecondition(targets.dtype == .int32 && targets.rank == 2 && targets.shape[0] == batch,
                      "ctc_loss: targets must be [batch, longest] int32 for a batch of \(batch), got \(targets.shape) \(targets.dtype)")
    nablaPrecondition(inputLengths.count == batch && targetLengths.count == batch, "ctc_loss: needs \(batch) input and target lengths")
    nablaPrecondition(blank >= 0 && blank < classes, "ctc_loss: blank \(blank) is outside 0..<\(classes)")
    let lp = logProbs.cast(to: .float64).toArray(Double.self), labels = targets.toArray(Int32.self), longest = targets.shape[1]
    var losses = [Double](repeating: 0, count: batch)
    var grad = [Double](repeating: 0, count: lp.count)   // d(loss_n)/d(lp[t, n, c])
    for n in 0..<batch {
        let T = inputLengths[n], S = targetLengths[n]
        nablaPrecondition(T >= 0 && T <= frames && S >= 0 && S <= longest, "ctc_loss: sample \(n): input length \(T) or target length \(S) out of range")
        let target = (0..<S).map { Int(labels[n * longest + $0]) }
        nablaPrecondition(target.allSatisfy { $0 >= 0 && $0 < classes && $0 != blank }, "ctc_loss: sample \(n): target \(target) holds the blank or a class outside 0..<\(classes)")
        let extended = (0..<(2 * S + 1)).map { $0 % 2 == 0 ? blank : target[$0 / 2] }
        let L = extended.count
        func at(_ t: Int, _ c: Int) -> Double { lp[(t * batch + n) * classes + c] }
        guard T > 0 else { losses[n] = S == 0 ? 0 : .infinity; continue }
        var alpha = [Double](repeating: -.infinity, count: T * L), beta = alpha
        alpha[0] = at(0, blank)
        if L > 1 { alpha[1] = at(0, extended[1]) }
        for t in 1..<T {
            for s in 0..<L {
                var a = alpha[(t - 1) * L + s]
                if s > 0 { a = logAdd(a, alpha[(t - 1) * L + s - 1]) }
                if s > 1 && extended[s] != blank && extended[s] != extended[s - 2] { a = logAdd(a, alpha[(t - 1) * L + s - 2]) }
                alpha[t * L + s] = a + at(t, extended[s])
            }
        }
        beta[(T - 1) * L + L - 1] = at(T - 1, extended[L - 1])
        if L > 1 { beta[(T - 1) * L + L - 2] = at(T - 1, extended[L - 2]) }
        for t in stride(from: T - 2, through: 0, by: -1) {
            for s in 0..<L {
                var b = beta[(t + 1) * L + s]
                if s + 1 < L { b = logAdd(b, beta[(t + 1) * L + s + 1]) }
                if s + 2 < L && extended[s + 2] != blank && extended[s + 2] != extended[s] { b = logAdd(b, beta[(t + 1) * L + s + 2]) }
                beta[t * L + s] = b + at(t, extended[s])
            }
        }
        let logLikelihood = L > 1 ? logAdd(alpha[(T - 1) * L + L - 1], alpha[(T - 1) * L + L - 2]) : alpha[(T - 1) * L]
        guard logLikelihood > -.infinity else { losses[n] = .infinity; continue }
        losses[n] = -logLikelihood
        // γ_t(c) = Σ_{s: l'(s) = c} exp(α_t(s) + β_t(s) − lp[t, c] − log p): α and β both hold lp[t, l'(s)].
        for t in 0..<T {
            var mass = [Double](repeating: -.infinity, count: classes)
            for s in 0..<L { mass[extended[s]] = logAdd(mass[extended[s]], alpha[t * L + s] + beta[t * L + s]) }
            for c in 0..<classes where mass[c] > -.infinity {
                grad[(t * batch + n) * classes + c] = -exp(mass[c] - at(t, c) - logLikelihood)
            }
        }
    }
    if zeroInfinity { for n in 0..<batch where losses[n] == .infinity { losses[n] = 0 } }
    // What each sample's loss is multiplied by in the reduced value (and so in its gradient).
    let weights = (0..<batch).map { n in reduction == .mean ? 1 / (Double(Swift.max(targetLengths[n], 1)) * Double(batch)) : 1 }
    let value: Tensor = switch reduction {
    case .none: Tensor(shape: [batch], values: losses).cast(to: logProbs.dtype)
    case .sum, .mean: Tensor(zip(losses, weights).reduce(0) { $0 + $1.0 * $1.1 }, dtype: logProbs.dtype)
    }
    let dtype = logProbs.dtype
    return value.recorded("ctc_loss", logProbs) { g in
        let upstream = g.cast(to: .float64).toArray(Double.self)
        var out = [Double](repeating: 0, count: lp.count)
        for n in 0..<batch where losses[n].isFinite {   // infinite (or zeroed) losses pass no gradient
            let scale = (reduction == .none ? upstream[n] : upstream[0]) * weights[n]
            for t in 0..<inputLengths[n] {
                for c in 0..<classes { out[(t * batch + n) * classes + c] = grad[(t * batch + n) * classes + c] * scale }
            }
        }
        return [Tensor(shape: [frames, batch, classes], values: out).cast(to: dtype)]
    }
}

/// log(eᵃ + eᵇ) without overflow.
@inline(__always) private func logAdd(_ a: Double, _ b: Double) -> Double {
    if a == -.infinity { return b }
    if b == -.infinity { return a }
    return Swift.max(a, b) + log1p(exp(-Swift.abs(a - b)))
}

/// Decoding a CTC model's per-frame scores into label sequences.
public enum CTCDecoder {
    /// The best label at each frame, repeats merged and blanks dropped.
    /// - Parameters:
    ///   - scores: one sample's [frames, classes] scores (logits or log-probabilities).
    ///   - blank: the blank's class index.
    public static func greedy(_ scores: Tensor, blank: Int = 0) -> [Int] {
        let best = scores.argmax(axis: 1).toArray(Int32.self).map(Int.init)
        var out: [Int] = [], previous = -1
        for c in best {
            if c != previous && c != blank { out.append(c) }
            previous = c
        }
        return out
    }

    /// Prefix beam search: the `beamWidth` most probable label prefixes are extended frame by frame,
    /// each prefix's probability summed over the alignments that end in a blank and in its last label.
    /// - Parameters:
    ///   - logProbs: one sample's [frames, classes] log-probabilities.
    ///   - beamWidth: prefixes kept per frame.
    ///   - blank: the blank's class index.
    public static func beamSearch(_ logProbs: Tensor, beamWidth: Int = 8, blank: Int = 0) -> [Int] {
        let (frames, classes) = (logProbs.shape[0], logProbs.shape[1])
        let lp = logProbs.cast(to: .float64).toArray(Double.self)
        // prefix → (log P ending in blank, log P ending in its last label)
        var beams: [[Int]: (Double, Double)] = [[]: (0, -.infinity)]
        for t in 0..<frames {
            var next: [[Int]: (Double, Double)] = [:]
            func add(_ p: [Int], blankPart: Double = -.infinity, labelPart: Double = -.infinity) {
                let old = next[p] ?? (-.infinity, -.infinity)
                next[p] = (logAdd(old.0, blankPart), logAdd(old.1, labelPart))
            }
            for (prefix, (pb, pl)) in beams {
                let total = logAdd(pb, pl)
                for c in 0..<classes {
                    let p = lp[t * classes + c]
                    if c == blank { add(prefix, blankPart: total + p); continue }
                    if let last = prefix.last, last == c {
                        add(prefix + [c], labelPart: pb + p)   // a repeat needs a blank between
                        add(prefix, labelPart: pl + p)         // or it merges with the last label
                    } else {
                        add(prefix + [c], labelPart: total + p)
                    }
                }
            }
            beams = Dictionary(uniqueKeysWithValues: next.sorted { logAdd($0.value.0, $0.value.1) > logAdd($1.value.0, $1.value.1) }
                .prefix(beamWidth).map { ($0.key, $0.value) })
        }
        return beams.max { logAdd($0.value.0, $0.value.1) < logAdd($1.value.0, $1.value.1) }?.key ?? []
    }
}
