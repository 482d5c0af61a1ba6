import Foundation

/// A window applied to each frame before its transform.
public enum WindowFunction: Equatable, Sendable {
    /// 0.5 − 0.5·cos(2πn/N): `periodic` (N = length, for spectral analysis, librosa's and PyTorch's
    /// default) or symmetric (N = length − 1).
    case hann(periodic: Bool)
    /// 0.54 − 0.46·cos(2πn/N), periodic or symmetric as Hann.
    case hamming(periodic: Bool)
    /// All ones.
    case rectangular

    /// The window's `length` values.
    /// - Parameters:
    ///   - length: the number of samples.
    public func values(_ length: Int) -> [Double] {
        func cosine(_ a: Double, _ periodic: Bool) -> [Double] {
            let denominator = Double(periodic ? length : Swift.max(length - 1, 1))
            return (0..<length).map { a - (1 - a) * cos(2 * Double.pi * Double($0) / denominator) }
        }
        switch self {
        case .hann(let periodic): return length == 1 ? [1] : cosine(0.5, periodic)
        case .hamming(let periodic): return length == 1 ? [1] : cosine(0.54, periodic)
        case .rectangular: return [Double](repeating: 1, count: length)
        }
    }
}

/// How a short-time Fourier transform frames a signal. librosa and torchaudio differ in their
/// defaults; ``librosa(nFFT:)`` and ``torchaudio(nFFT:)`` give each one's.
///
/// ```swift
/// let settings = STFTSettings(nFFT: 512, hopLength: 128)          // Hann, centred, zero padding
/// let power = AudioFeatures.spectrogram(samples, settings)       // [frames, 257]
/// ```
public struct STFTSettings: Equatable, Sendable {
    /// How the signal is extended at the ends when `center` is set.
    public enum PadMode: String, Sendable { case constant, reflect }

    public var nFFT: Int
    public var hopLength: Int
    /// The window's length, centred in the frame and zero elsewhere (at most `nFFT`).
    public var windowLength: Int
    public var window: WindowFunction
    /// Pad nFFT/2 samples at each end, so that frame t is centred on sample t·hop.
    public var center: Bool
    public var padMode: PadMode

    /// - Parameters:
    ///   - nFFT: samples per frame (the transform length; any length).
    ///   - hopLength: samples between frames (default nFFT/4, librosa's).
    ///   - windowLength: the window's length (default nFFT).
    ///   - window: the window (periodic Hann by default).
    ///   - center: pad the ends so frames are centred on their samples.
    ///   - padMode: zeros (librosa's default) or reflection (torchaudio's).
    public init(nFFT: Int, hopLength: Int? = nil, windowLength: Int? = nil, window: WindowFunction = .hann(periodic: true),
                center: Bool = true, padMode: PadMode = .constant) {
        nablaPrecondition(nFFT > 0, "STFT: nFFT must be positive, got \(nFFT)")
        self.nFFT = nFFT
        self.windowLength = windowLength ?? nFFT
        self.hopLength = hopLength ?? Swift.max(nFFT / 4, 1)
        self.window = window
        self.center = center
        self.padMode = padMode
        nablaPrecondition(self.hopLength > 0 && self.windowLength > 0 && self.windowLength <= nFFT,
                          "STFT: hop \(self.hopLength) and window \(self.windowLength) must be positive, the window at most nFFT \(nFFT)")
    }

    /// librosa's defaults: n_fft 2048, hop n_fft/4, Hann, centred with zeros.
    /// - Parameters:
    ///   - nFFT: samples per frame.
    public static func librosa(nFFT: Int = 2048) -> STFTSettings { STFTSettings(nFFT: nFFT) }

    /// torchaudio's defaults: n_fft 400, hop = window/2, Hann, centred with reflection.
    /// - Parameters:
    ///   - nFFT: samples per frame.
    public static func torchaudio(nFFT: Int = 400) -> STFTSettings {
        STFTSettings(nFFT: nFFT, hopLength: Swift.max(nFFT / 2, 1), padMode: .reflect)
    }

    /// Frequency bins per frame: nFFT/2 + 1.
    public var bins: Int { nFFT / 2 + 1 }

    /// Frames for a signal of `samples` samples.
    /// - Parameters:
    ///   - samples: the signal's length.
    public func frameCount(_ samples: Int) -> Int {
        let length = center ? samples + 2 * (nFFT / 2) : samples
        return length < nFFT ? 0 : 1 + (length - nFFT) / hopLength
    }

    /// The window spread over a frame of nFFT samples (zero outside a shorter window).
    var frameWindow: [Double] {
        var w = [Double](repeating: 0, count: nFFT)
        let offset = (nFFT - windowLength) / 2
        for (i, v) in window.values(windowLength).enumerated() { w[offset + i] = v }
        return w
    }

    /// The index into the signal of each padded position, or −1 for a zero.
    func sourceIndex(_ position: Int, samples: Int) -> Int {
        guard center else { return position }
        let i = position - nFFT / 2
        if i >= 0 && i < samples { return i }
        switch padMode {
        case .constant: return -1
        case .reflect:
            guard samples > 1 else { return 0 }
            let period = 2 * (samples - 1)
            var r = i % period
            if r < 0 { r += period }
            return r < samples ? r : period - r
        }
    }
}

/// Mel scales: Slaney's (linear below 1 kHz, logarithmic above; librosa's default) or HTK's
/// (2595·log10(1 + f/700); torchaudio's default).
public enum MelScale: String, Sendable {
    case slaney, htk

    /// Hertz to mels.
    /// - Parameters:
    ///   - hz: a frequency.
    public func mel(_ hz: Double) -> Double {
        switch self {
        case .htk: return 2595 * log10(1 + hz / 700)
        case .slaney:
            let linear = hz / (200.0 / 3)
            return hz >= 1000 ? 15 + log(hz / 1000) / (log(6.4) / 27) : linear
        }
    }

    /// Mels to hertz.
    /// - Parameters:
    ///   - mel: a pitch in mels.
    public func hz(_ mel: Double) -> Double {
        switch self {
        case .htk: return 700 * (pow(10, mel / 2595) - 1)
        case .slaney: return mel >= 15 ? 1000 * exp((log(6.4) / 27) * (mel - 15)) : mel * 200.0 / 3
        }
    }
}

/// Audio features for models: spectrograms, mel filterbanks, decibels, MFCCs and their deltas, each
/// checked against librosa and torchaudio. Frames are rows: a spectrogram is [frames, bins] (librosa
/// and torchaudio return the transpose), ready for a Conv2D as [frames, mels, 1] or a recurrent layer.
///
/// ```swift
/// let clip = try WAVFile.read(from: url)
/// let logMel = AudioFeatures.logMelSpectrogram(clip.mono, sampleRate: clip.sampleRate,
///                                              settings: STFTSettings(nFFT: 512, hopLength: 128), mels: 64)
/// let mfcc = AudioFeatures.mfcc(logMel, count: 20)           // [frames, 20]
/// ```
public enum AudioFeatures {
    /// |STFT|^power of `samples`, [frames, nFFT/2 + 1] float32 (computed in Double).
    /// - Parameters:
    ///   - samples: the signal.
    ///   - settings: framing, window and padding.
    ///   - power: 2 for power (the default), 1 for magnitude.
    public static func spectrogram(_ samples: [Float], _ settings: STFTSettings, power: Double = 2) -> Tensor {
        let frames = settings.frameCount(samples.count), bins = settings.bins, n = settings.nFFT
        let out = Tensor(uninitializedShape: [frames, bins], dtype: .float32)
        let o = out.pointer(Float.self), window = settings.frameWindow
        let fft = FFT.shared(count: n)
        let sources = (0..<(n + (frames - 1) * settings.hopLength)).map { settings.sourceIndex($0, samples: samples.count) }
        var re = [Double](repeating: 0, count: n), im = [Double](repeating: 0, count: n)
        for t in 0..<frames {
            let start = t * settings.hopLength
            for k in 0..<n {
                let s = sources[start + k]
                re[k] = s < 0 ? 0 : Double(samples[s]) * window[k]
                im[k] = 0
            }
            fft.forward(&re, &im)
            for b in 0..<bins {
                let p = re[b] * re[b] + im[b] * im[b]
                o[t * bins + b] = Float(power == 2 ? p : power == 1 ? p.squareRoot() : Foundation.pow(p, power / 2))
            }
        }
        return out
    }

    /// Triangular mel filters, [nFFT/2 + 1, mels]: each column weighs the bins of one mel band
    /// (librosa.filters.mel transposed; torchaudio's melscale_fbanks).
    /// - Parameters:
    ///   - sampleRate: the signal's rate.
    ///   - nFFT: the transform length.
    ///   - mels: the number of bands.
    ///   - fMin: the lowest frequency.
    ///   - fMax: the highest frequency (default: half the sample rate).
    ///   - scale: Slaney (librosa's default) or HTK (torchaudio's default).
    ///   - slaneyNormalization: divide each filter by its width in Hz (librosa's default `norm='slaney'`).
    public static func melFilterbank(sampleRate: Int, nFFT: Int, mels: Int, fMin: Double = 0, fMax: Double? = nil,
                                     scale: MelScale = .slaney, slaneyNormalization: Bool = true) -> Tensor {
        let bins = nFFT / 2 + 1, top = fMax ?? Double(sampleRate) / 2
        let (low, high) = (scale.mel(fMin), scale.mel(top))
        let edges = (0..<(mels + 2)).map { scale.hz(low + (high - low) * Double($0) / Double(mels + 1)) }
        let out = Tensor.zeros([bins, mels], dtype: .float32)
        let o = out.pointer(Float.self)
        for b in 0..<bins {
            let f = Double(sampleRate) / 2 * Double(b) / Double(Swift.max(bins - 1, 1))
            for m in 0..<mels {
                let rising = (f - edges[m]) / (edges[m + 1] - edges[m]), falling = (edges[m + 2] - f) / (edges[m + 2] - edges[m + 1])
                var w = Swift.max(0, Swift.min(rising, falling))
                if slaneyNormalization { w *= 2 / (edges[m + 2] - edges[m]) }
                o[b * mels + m] = Float(w)
            }
        }
        return out
    }

    /// The power spectrogram through a mel filterbank, [frames, mels].
    /// - Parameters:
    ///   - samples: the signal.
    ///   - sampleRate: its rate.
    ///   - settings: framing, window and padding.
    ///   - mels: the number of bands.
    ///   - scale: the mel scale.
    ///   - slaneyNormalization: normalise each filter by its width (librosa's default).
    public static func melSpectrogram(_ samples: [Float], sampleRate: Int, settings: STFTSettings, mels: Int = 128,
                                      scale: MelScale = .slaney, slaneyNormalization: Bool = true) -> Tensor {
        let key = "mel \(sampleRate) \(settings.nFFT) \(mels) \(scale) \(slaneyNormalization)"
        let bank = AudioPlans.value(for: key) {
            melFilterbank(sampleRate: sampleRate, nFFT: settings.nFFT, mels: mels, scale: scale, slaneyNormalization: slaneyNormalization)
        }
        return matmul(spectrogram(samples, settings), bank)
    }

    /// The log-mel spectrogram in decibels (librosa: `power_to_db(melspectrogram(...), ref=1, top_db=80)`).
    /// - Parameters:
    ///   - samples: the signal.
    ///   - sampleRate: its rate.
    ///   - settings: framing, window and padding.
    ///   - mels: the number of bands.
    public static func logMelSpectrogram(_ samples: [Float], sampleRate: Int, settings: STFTSettings, mels: Int = 64) -> Tensor {
        powerToDecibels(melSpectrogram(samples, sampleRate: sampleRate, settings: settings, mels: mels))
    }

    /// Power to decibels: 10·log10(max(S, amin)) − 10·log10(max(ref, amin)), then (with `topDB`) no
    /// value more than `topDB` below the largest — librosa's power_to_db and torchaudio's AmplitudeToDB.
    /// - Parameters:
    ///   - s: a power spectrogram.
    ///   - ref: the power that becomes 0 dB.
    ///   - amin: the floor before the logarithm.
    ///   - topDB: the dynamic range kept (none when nil).
    public static func powerToDecibels(_ s: Tensor, ref: Double = 1, amin: Double = 1e-10, topDB: Double? = 80) -> Tensor {
        nablaPrecondition(amin > 0, "power_to_db: amin must be positive")
        var db = log(maximum(s, Tensor(amin, dtype: s.dtype))) * (10 / Foundation.log(10)) - 10 * log10(Swift.max(ref, amin))
        if let topDB {
            let floor = db.max().item(Double.self) - topDB
            db = maximum(db, Tensor(floor, dtype: s.dtype))
        }
        return db
    }

    /// Amplitude to decibels: `powerToDecibels(s², ref², amin², topDB)` (librosa's amplitude_to_db).
    /// - Parameters:
    ///   - s: a magnitude spectrogram.
    ///   - ref: the amplitude that becomes 0 dB.
    ///   - amin: the floor before the logarithm.
    ///   - topDB: the dynamic range kept (none when nil).
    public static func amplitudeToDecibels(_ s: Tensor, ref: Double = 1, amin: Double = 1e-5, topDB: Double? = 80) -> Tensor {
        powerToDecibels(square(s), ref: ref * ref, amin: amin * amin, topDB: topDB)
    }

    /// The orthonormal DCT-II matrix [inputs, outputs]: column k is √(2/N)·cos(π(n + ½)k/N), column 0
    /// scaled by 1/√2 (scipy's `dct(norm='ortho')`, torchaudio's create_dct).
    /// - Parameters:
    ///   - inputs: N, the length transformed.
    ///   - outputs: the coefficients kept.
    public static func dctMatrix(inputs: Int, outputs: Int) -> Tensor {
        let t = Tensor(uninitializedShape: [inputs, outputs], dtype: .float32), p = t.pointer(Float.self)
        for n in 0..<inputs {
            for k in 0..<outputs {
                let v = (2 / Double(inputs)).squareRoot() * cos(Double.pi * (Double(n) + 0.5) * Double(k) / Double(inputs))
                p[n * outputs + k] = Float(k == 0 ? v / 2.0.squareRoot() : v)
            }
        }
        return t
    }

    /// MFCCs of a log-mel spectrogram [frames, mels]: the orthonormal DCT-II of each frame, the first
    /// `count` coefficients, optionally liftered by 1 + (L/2)·sin(π(k + 1)/L) (librosa's `lifter`).
    /// - Parameters:
    ///   - logMel: decibels, [frames, mels].
    ///   - count: coefficients per frame.
    ///   - lifter: L; 0 for none.
    public static func mfcc(_ logMel: Tensor, count: Int = 20, lifter: Double = 0) -> Tensor {
        nablaPrecondition(logMel.rank == 2 && count <= logMel.shape[1], "mfcc: needs [frames, mels] with at least \(count) mels, got \(logMel.shape)")
        var c = matmul(logMel, dctMatrix(inputs: logMel.shape[1], outputs: count).cast(to: logMel.dtype))
        if lifter > 0 {
            let weights = (0..<count).map { 1 + lifter / 2 * sin(Double.pi * Double($0 + 1) / lifter) }
            c = c * Tensor(shape: [count], values: weights).cast(to: logMel.dtype)
        }
        return c
    }

    /// How ``deltas(_:width:edges:)`` treats the first and last frames.
    public enum DeltaEdges: Sendable {
        /// librosa's `delta(mode='interp')`: the edge frames take the slope fitted to the first (last) `width` frames.
        case interpolate
        /// torchaudio's compute_deltas: frames repeated beyond the ends.
        case replicate
    }

    /// Local slopes along frames of `x` [frames, features]: Σₙ n·(x[t+n] − x[t−n]) / (2·Σₙ n²) for
    /// n = 1...width/2 — librosa's `delta` (width 9) and torchaudio's compute_deltas (win_length 5).
    /// - Parameters:
    ///   - x: features, [frames, features].
    ///   - width: the odd window length, at least 3.
    ///   - edges: how the ends are handled.
    public static func deltas(_ x: Tensor, width: Int = 9, edges: DeltaEdges = .interpolate) -> Tensor {
        nablaPrecondition(width >= 3 && width % 2 == 1 && x.rank == 2, "deltas: needs an odd width ≥ 3 and [frames, features], got \(width), \(x.shape)")
        let values = x.cast(to: .float64), (frames, features) = (x.shape[0], x.shape[1]), half = width / 2
        let p = values.pointer(Double.self)
        let out = Tensor.zeros([frames, features], dtype: .float64), o = out.pointer(Double.self)
        let denominator = Double(2 * (1...half).reduce(0) { $0 + $1 * $1 })
        for t in 0..<frames {
            var centre = t
            if edges == .interpolate {
                guard frames >= width else { break }   // librosa refuses shorter inputs; the slopes stay 0
                centre = Swift.min(Swift.max(t, half), frames - 1 - half)
            }
            for n in 1...half {
                let ahead = Swift.min(centre + n, frames - 1), behind = Swift.max(centre - n, 0)
                for f in 0..<features { o[t * features + f] += Double(n) * (p[ahead * features + f] - p[behind * features + f]) }
            }
            for f in 0..<features { o[t * features + f] /= denominator }
        }
        return out.cast(to: x.dtype)
    }
}

/// Base-10 logarithm of a positive number, for decibel references.
private func log10(_ x: Double) -> Double { Foundation.log10(x) }
