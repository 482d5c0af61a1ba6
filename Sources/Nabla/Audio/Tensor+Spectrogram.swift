import Foundation

/// The power (or magnitude) spectrogram as a differentiable op, so that a model can learn from raw
/// waveforms: signals [batch, samples] (or [samples]) → [batch, frames, nFFT/2 + 1] (or [frames, bins]).
/// It is composed from primitive ops — frames gathered with `indexSelect` (padding included), the
/// window multiplied in, the DFT as two matmuls with cosine and sine matrices — so autograd derives the
/// gradient. `AudioFeatures.spectrogram` computes the same values with an FFT for data pipelines.
///
/// ```swift
/// let waves = Tensor.randomNormal([8, 8000]).requiringGrad()
/// let power = stftPower(waves, settings: STFTSettings(nFFT: 512, hopLength: 128))   // [8, 63, 257]
/// ```
/// - Parameters:
///   - signal: [batch, samples] or [samples], float32 or float64.
///   - settings: framing, window and padding.
///   - power: 2 for power, 1 for magnitude (other exponents work; gradients need nonzero bins).
public func stftPower(_ signal: Tensor, settings: STFTSettings, power: Double = 2) -> Tensor {
    nablaPrecondition(signal.dtype.isFloatingPoint && (signal.rank == 1 || signal.rank == 2),
                      "stft: needs a floating [batch, samples] or [samples] signal, got \(signal.shape) \(signal.dtype)")
    let x = signal.rank == 1 ? signal.unsqueezed(axis: 0) : signal
    let (batch, samples, n) = (x.shape[0], x.shape[1], settings.nFFT)
    let frames = settings.frameCount(samples), bins = settings.bins
    nablaPrecondition(frames > 0, "stft: \(samples) samples are fewer than one frame of \(n)")
    // One zero appended at index `samples` stands for every padded position.
    let extended = concatenate([x, Tensor.zeros([batch, 1], dtype: x.dtype)], axis: 1)
    var positions = [Int32](repeating: 0, count: frames * n)
    for t in 0..<frames {
        for k in 0..<n {
            let s = settings.sourceIndex(t * settings.hopLength + k, samples: samples)
            positions[t * n + k] = Int32(s < 0 ? samples : s)
        }
    }
    let framed = extended.indexSelect(Tensor(values: positions), axis: 1).reshaped([batch, frames, n])
    let windowed = framed * Tensor(shape: [n], values: settings.frameWindow).cast(to: x.dtype)
    let (cosines, sines) = AudioPlans.value(for: "dft \(n)") { () -> ([Double], [Double]) in
        var cosines = [Double](repeating: 0, count: n * bins), sines = [Double](repeating: 0, count: n * bins)
        for k in 0..<n {
            for b in 0..<bins {
                let angle = 2 * Double.pi * Double((k * b) % n) / Double(n)
                cosines[k * bins + b] = cos(angle)
                sines[k * bins + b] = sin(angle)
            }
        }
        return (cosines, sines)
    }
    let re = matmul(windowed, Tensor(shape: [n, bins], values: cosines).cast(to: x.dtype))
    let im = matmul(windowed, Tensor(shape: [n, bins], values: sines).cast(to: x.dtype))
    var out = re * re + im * im
    if power == 1 { out = sqrt(out) } else if power != 2 { out = pow(out, power / 2) }
    return signal.rank == 1 ? out.squeezed(axes: [0]) : out
}
