import Foundation

/// Band-limited resampling between any two integer rates, torchaudio's `resample` (windowed sinc,
/// Hann window, 6 zero crossings, roll-off 0.99): both rates are divided by their gcd g, and each of the
/// new/g output phases has its own filter, applied with a stride of orig/g.
///
/// ```swift
/// let clip16k = Resampler(from: 8_000, to: 16_000).resample(clip.mono)
/// ```
public struct Resampler: Sendable {
    public let originalRate: Int
    public let newRate: Int
    private let orig: Int, new: Int, width: Int
    /// One filter per output phase, each of 2·width + orig taps.
    private let kernels: [[Double]]

    /// - Parameters:
    ///   - originalRate: the input's samples per second.
    ///   - newRate: the output's samples per second.
    ///   - zeroCrossings: the filter's half-width in zero crossings (torchaudio's lowpass_filter_width).
    ///   - rolloff: the cut-off as a fraction of the lower Nyquist frequency.
    public init(from originalRate: Int, to newRate: Int, zeroCrossings: Int = 6, rolloff: Double = 0.99) {
        nablaPrecondition(originalRate > 0 && newRate > 0, "resample: rates must be positive, got \(originalRate) and \(newRate)")
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        let g = gcd(originalRate, newRate)
        self.originalRate = originalRate
        self.newRate = newRate
        orig = originalRate / g
        new = newRate / g
        let base = Double(Swift.min(orig, new)) * rolloff
        width = Int((Double(zeroCrossings) * Double(orig) / base).rounded(.up))
        let (o, n, w, z) = (orig, new, width, Double(zeroCrossings))
        kernels = (0..<n).map { phase in
            (0..<(2 * w + o)).map { k in
                var t = (Double(-phase) / Double(n) + Double(k - w) / Double(o)) * base
                t = Swift.min(Swift.max(t, -z), z)
                let window = pow(cos(t * Double.pi / z / 2), 2)
                t *= Double.pi
                return (t == 0 ? 1 : sin(t) / t) * window * base / Double(o)
            }
        }
    }

    /// `samples` at the new rate: ⌈new·count/orig⌉ samples.
    /// - Parameters:
    ///   - samples: the signal at the original rate.
    public func resample(_ samples: [Float]) -> [Float] {
        guard orig != new else { return samples }
        let count = samples.count, taps = 2 * width + orig
        let blocks = count / orig + 1
        let target = (new * count + orig - 1) / orig
        var out = [Float](repeating: 0, count: Swift.min(blocks * new, target))
        for m in 0..<blocks {
            for phase in 0..<new {
                let index = m * new + phase
                guard index < out.count else { break }
                let kernel = kernels[phase]
                var acc = 0.0
                // Input position of tap k: m·orig + k − width (zero outside the signal).
                let first = m * orig - width
                let lo = Swift.max(0, -first), hi = Swift.min(taps, count - first)
                if lo < hi { for k in lo..<hi { acc += kernel[k] * Double(samples[first + k]) } }
                out[index] = Float(acc)
            }
        }
        return out
    }
}
