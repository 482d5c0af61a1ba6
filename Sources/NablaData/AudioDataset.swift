import Foundation
import Nabla

/// Labelled recordings: a folder of class subfolders (Keras's `audio_dataset_from_directory`), or
/// files whose names carry the label, speaker and index (`{label}_{speaker}_{index}.wav`, the Free
/// Spoken Digit Dataset's naming), with the splits speech work uses.
///
/// ```swift
/// let all = try AudioDataset(path: "fsdd/recordings")          // FSDD's naming is recognised
/// let (train, test) = all.split(testIndices: 0...4)            // FSDD's customary split
/// let (seen, unseen) = all.split(testSpeakers: ["theo"])       // speaker-independent
/// ```
public struct AudioDataset: Sendable {
    /// One recording.
    public struct Item: Equatable, Sendable {
        public let path: String
        public let label: String
        /// From the file name's pattern; nil for class folders.
        public let speaker: String?
        public let index: Int?
    }

    public let items: [Item]
    /// How the items were found, for the user.
    public let note: String

    /// - Parameters:
    ///   - items: the recordings.
    ///   - note: how they were found.
    public init(items: [Item], note: String = "") {
        self.items = items
        self.note = note
    }

    /// Reads a folder: class subfolders of `.wav` files when there are any, otherwise `.wav` files whose
    /// names follow `pattern`.
    /// - Parameters:
    ///   - path: the folder.
    ///   - pattern: the file name without `.wav`, with `{label}` (required), `{speaker}` and `{index}`
    ///     (digits) between literal text; FSDD's `{label}_{speaker}_{index}` by default.
    public init(path: String, pattern: String = "{label}_{speaker}_{index}") throws(DataError) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .fileNotFound(path: path) }
        guard isDirectory.boolValue else { throw .invalid("\(path): not a folder of .wav files") }
        let entries = ((try? fm.contentsOfDirectory(atPath: path)) ?? []).sorted()
        let folders = entries.filter { name in
            var dir: ObjCBool = false
            return fm.fileExists(atPath: path + "/" + name, isDirectory: &dir) && dir.boolValue && !name.hasPrefix(".")
        }
        let wavs = entries.filter { $0.lowercased().hasSuffix(".wav") }
        if !folders.isEmpty {
            var items: [Item] = []
            for folder in folders {
                let files = ((try? fm.contentsOfDirectory(atPath: path + "/" + folder)) ?? []).filter { $0.lowercased().hasSuffix(".wav") }.sorted()
                items += files.map { Item(path: path + "/" + folder + "/" + $0, label: folder, speaker: nil, index: nil) }
            }
            guard !items.isEmpty else { throw .invalid("\(path): its subfolders hold no .wav files") }
            self.init(items: items, note: "\(items.count) recordings in \(folders.count) class folders")
            return
        }
        guard !wavs.isEmpty else { throw .invalid("\(path): no .wav files and no class subfolders") }
        let matcher = try FileNamePattern(pattern)
        var items: [Item] = []
        for name in wavs {
            guard let fields = matcher.match(String(name.dropLast(4))) else {
                throw .invalid("\(path)/\(name): expected \(pattern).wav or class subfolders")
            }
            items.append(Item(path: path + "/" + name, label: fields.label, speaker: fields.speaker, index: fields.index))
        }
        let speakers = Set(items.compactMap(\.speaker)).count
        self.init(items: items, note: "\(items.count) recordings named \(pattern).wav" + (speakers > 0 ? ", \(speakers) speakers" : ""))
    }

    /// The labels, sorted.
    public var labels: [String] { Array(Set(items.map(\.label))).sorted() }
    /// The speakers, sorted (empty for class folders).
    public var speakers: [String] { Array(Set(items.compactMap(\.speaker))).sorted() }

    /// Recordings whose index is in `testIndices` test; the rest train (FSDD's customary split: 0...4).
    /// - Parameters:
    ///   - testIndices: the recording indices held out.
    public func split(testIndices: ClosedRange<Int>) -> (train: AudioDataset, test: AudioDataset) {
        let test = items.filter { $0.index.map(testIndices.contains) ?? false }
        return (AudioDataset(items: items.filter { !($0.index.map(testIndices.contains) ?? false) }), AudioDataset(items: test))
    }

    /// The given speakers' recordings test; the others train (speaker-independent evaluation).
    /// - Parameters:
    ///   - testSpeakers: the speakers held out.
    public func split(testSpeakers: Set<String>) -> (train: AudioDataset, test: AudioDataset) {
        let isTest = { (item: Item) in item.speaker.map(testSpeakers.contains) ?? false }
        return (AudioDataset(items: items.filter { !isTest($0) }), AudioDataset(items: items.filter(isTest)))
    }

    /// A seeded random `testFraction` of the recordings tests.
    /// - Parameters:
    ///   - testFraction: the share held out.
    ///   - seed: the shuffle's seed.
    public func split(testFraction: Double, seed: UInt64) -> (train: AudioDataset, test: AudioDataset) {
        let order = RandomGenerator(seed: seed).permutation(items.count)
        let cut = items.count - Int(Double(items.count) * testFraction)
        return (AudioDataset(items: order[..<cut].map { items[$0] }), AudioDataset(items: order[cut...].map { items[$0] }))
    }
}

/// A file-name pattern such as `{label}_{speaker}_{index}`: placeholders between literal text.
struct FileNamePattern {
    private enum Part { case literal(String), label, speaker, index }
    private let parts: [Part]

    init(_ pattern: String) throws(DataError) {
        var parts: [Part] = [], rest = Substring(pattern)
        while let open = rest.firstIndex(of: "{") {
            if open > rest.startIndex { parts.append(.literal(String(rest[..<open]))) }
            guard let close = rest[open...].firstIndex(of: "}") else { throw .invalid("pattern \(pattern): an unclosed {") }
            switch rest[rest.index(after: open)..<close] {
            case "label": parts.append(.label)
            case "speaker": parts.append(.speaker)
            case "index": parts.append(.index)
            case let other: throw .invalid("pattern \(pattern): unknown field {\(other)} (label, speaker, index)")
            }
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        guard parts.contains(where: { if case .label = $0 { true } else { false } }) else { throw .invalid("pattern \(pattern): needs {label}") }
        self.parts = parts
    }

    /// The fields of `name`, or nil when it does not follow the pattern. A field ends where the next
    /// literal text first appears (the last field takes the rest).
    func match(_ name: String) -> (label: String, speaker: String?, index: Int?)? {
        var rest = Substring(name), label: String?, speaker: String?, index: Int?
        for (i, part) in parts.enumerated() {
            if case .literal(let text) = part {
                guard rest.hasPrefix(text) else { return nil }
                rest = rest.dropFirst(text.count)
                continue
            }
            var value = rest
            if i + 1 < parts.count, case .literal(let next) = parts[i + 1] {
                guard let r = rest.range(of: next) else { return nil }
                value = rest[..<r.lowerBound]
            }
            guard !value.isEmpty else { return nil }
            rest = rest[value.endIndex...]
            switch part {
            case .label: label = String(value)
            case .speaker: speaker = String(value)
            case .index: guard let n = Int(value) else { return nil }; index = n
            case .literal: break
            }
        }
        guard rest.isEmpty, let label else { return nil }
        return (label, speaker, index)
    }
}

/// How recordings become model inputs: mono at `sampleRate`, padded or cut to `seconds`, then log-mel
/// spectrograms or MFCCs [frames, features], standardised with the training set's mean and deviation.
public struct AudioFeatureSettings: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable { case logmel, mfcc }

    public var kind: Kind = .logmel
    public var sampleRate = 8000
    public var seconds = 1.0
    public var nFFT = 512
    public var hopLength = 128
    public var mels = 40
    public var mfccCount = 20
    /// Subtracted from every feature (the training set's mean).
    public var mean = 0.0
    /// Divides every centred feature (the training set's standard deviation).
    public var deviation = 1.0
    /// Subtract each band's mean over the clip's sounding frames before standardising (cepstral mean
    /// normalisation: it removes a microphone's or a voice's constant spectral tilt).
    public var clipNormalization = false

    /// - Parameters:
    ///   - kind: log-mel spectrograms or MFCCs.
    public init(kind: Kind = .logmel) { self.kind = kind }

    private enum CodingKeys: String, CodingKey {
        case kind, sampleRate, seconds, nFFT, hopLength, mels, mfccCount, mean, deviation, clipNormalization
    }

    /// Reads saved settings; fields a model saved before they existed take their defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AudioFeatureSettings()
        kind = try c.decodeIfPresent(Kind.self, forKey: .kind) ?? d.kind
        sampleRate = try c.decodeIfPresent(Int.self, forKey: .sampleRate) ?? d.sampleRate
        seconds = try c.decodeIfPresent(Double.self, forKey: .seconds) ?? d.seconds
        nFFT = try c.decodeIfPresent(Int.self, forKey: .nFFT) ?? d.nFFT
        hopLength = try c.decodeIfPresent(Int.self, forKey: .hopLength) ?? d.hopLength
        mels = try c.decodeIfPresent(Int.self, forKey: .mels) ?? d.mels
        mfccCount = try c.decodeIfPresent(Int.self, forKey: .mfccCount) ?? d.mfccCount
        mean = try c.decodeIfPresent(Double.self, forKey: .mean) ?? d.mean
        deviation = try c.decodeIfPresent(Double.self, forKey: .deviation) ?? d.deviation
        clipNormalization = try c.decodeIfPresent(Bool.self, forKey: .clipNormalization) ?? d.clipNormalization
        guard sampleRate > 0, nFFT > 0, hopLength > 0, mels > 0, seconds > 0, deviation > 0, mfccCount > 0, mfccCount <= mels else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "audio feature settings out of range"))
        }
    }

    /// Samples per clip.
    public var length: Int { Int((seconds * Double(sampleRate)).rounded()) }
    /// The STFT framing.
    public var stft: STFTSettings { STFTSettings(nFFT: nFFT, hopLength: hopLength) }
    /// The shape of one clip's features.
    public var shape: [Int] { [stft.frameCount(length), kind == .mfcc ? mfccCount : mels] }

    /// A clip as mono samples at `sampleRate`, its own length.
    /// - Parameters:
    ///   - clip: the recording.
    public func mono(_ clip: AudioClip) -> [Float] {
        clip.sampleRate == sampleRate ? clip.mono : Resampler(from: clip.sampleRate, to: sampleRate).resample(clip.mono)
    }

    /// A clip as mono samples at `sampleRate`, padded with zeros or cut to `length`.
    /// - Parameters:
    ///   - clip: the recording.
    public func waveform(_ clip: AudioClip) -> [Float] {
        var x = mono(clip)
        if x.count > length { x.removeLast(x.count - length) } else { x += [Float](repeating: 0, count: length - x.count) }
        return x
    }

    /// One waveform's standardised features, [frames, features] float32.
    /// - Parameters:
    ///   - waveform: `length` samples at `sampleRate`.
    public func features(_ waveform: [Float]) -> Tensor {
        let logMel = AudioFeatures.logMelSpectrogram(waveform, sampleRate: sampleRate, settings: stft, mels: mels)
        var f = kind == .mfcc ? AudioFeatures.mfcc(logMel, count: mfccCount) : logMel
        if clipNormalization {
            // Sounding frames: any band within 60 dB of the clip's loudest (padding sits at the 80 dB floor).
            let loud = logMel.max(axes: [1]), top = logMel.max().item(Double.self)
            let sounding = (loud .> Tensor(top - 60, dtype: .float32)).cast(to: .float32).reshaped([-1, 1])
            let bandMean = (f * sounding).sum(axes: [0], keepDims: true) / Swift.max(sounding.sum().item(Double.self), 1)
            f = f - bandMean
        }
        return (f - mean) / deviation
    }
}

/// Waveform augmentation for speech, drawn per clip: a time shift, noise mixed at a random SNR, a speed
/// change by resampling, and SpecAugment's time and frequency masks on the features.
public struct AudioAugmentation: Codable, Equatable, Sendable {
    /// The largest delay, in seconds, within the zeros that pad the clip.
    public var maxShift = 0.1
    /// Noise at an SNR drawn from this range in dB, over the recording's non-silent span (nil: none).
    public var noiseSNR: ClosedRange<Double>? = 20...40
    /// Speed factors drawn from this range (1: none).
    public var speed: ClosedRange<Double> = 0.95...1.05
    /// SpecAugment: this many time masks of up to `timeMaskWidth` frames, frequency masks of up to `frequencyMaskWidth` bands.
    public var timeMasks = 1, timeMaskWidth = 5, frequencyMasks = 1, frequencyMaskWidth = 4

    /// - Parameters:
    ///   - maxShift: the largest time shift in seconds.
    public init(maxShift: Double = 0.1) { self.maxShift = maxShift }

    /// An augmented copy of `x` (length kept).
    /// - Parameters:
    ///   - x: the waveform.
    ///   - sampleRate: its rate.
    ///   - g: the source of randomness.
    public func waveform(_ x: [Float], sampleRate: Int, generator g: RandomGenerator) -> [Float] {
        var y = x
        let factor = speed.lowerBound + (speed.upperBound - speed.lowerBound) * g.nextDouble()
        if Swift.abs(factor - 1) > 0.005 {
            // Playing faster is resampling to a lower rate: rates in steps of 1% keep the filters small.
            let target = Int((100 / factor).rounded())
            y = Resampler(from: 100, to: target).resample(y)
        }
        y = fit(y, x.count)
        // Shift later only, into the zeros that pad the clip: an earlier start would cut the word's onset.
        let room = y.count - 1 - (y.lastIndex(where: { $0 != 0 }) ?? (y.count - 1))
        let limit = Swift.min(Int(maxShift * Double(sampleRate)), room)
        if limit > 0 {
            let shift = g.nextInt(below: limit + 1)
            y = (0..<y.count).map { i in i >= shift ? y[i - shift] : 0 }
        }
        // Noise over the recording itself, not the zeros that pad it to length (test clips keep exact
        // silence there), at an SNR measured on that span.
        if let noiseSNR, let last = y.lastIndex(where: { $0 != 0 }), let first = y.firstIndex(where: { $0 != 0 }) {
            let span = first...last
            let snr = noiseSNR.lowerBound + (noiseSNR.upperBound - noiseSNR.lowerBound) * g.nextDouble()
            let power = y[span].reduce(0.0) { $0 + Double($1) * Double($1) } / Double(span.count)
            let scale = (power / pow(10, snr / 10)).squareRoot()
            let noise = Tensor.randomNormal([span.count], dtype: .float64, generator: g).toArray(Double.self)
            for (k, i) in span.enumerated() { y[i] += Float(scale * noise[k]) }
        }
        return y
    }

    /// SpecAugment's masks on features [frames, bands]: masked entries become `fill` (0, the mean after standardisation).
    /// - Parameters:
    ///   - features: one clip's features.
    ///   - g: the source of randomness.
    ///   - fill: the value of masked entries.
    public func mask(_ features: Tensor, generator g: RandomGenerator, fill: Float = 0) -> Tensor {
        let (frames, bands) = (features.shape[0], features.shape[1])
        var v = features.toArray(Float.self)
        for _ in 0..<timeMasks where timeMaskWidth > 0 {
            let w = g.nextInt(below: timeMaskWidth + 1), start = g.nextInt(below: Swift.max(frames - w, 1))
            for t in start..<Swift.min(start + w, frames) { for b in 0..<bands { v[t * bands + b] = fill } }
        }
        for _ in 0..<frequencyMasks where frequencyMaskWidth > 0 {
            let w = g.nextInt(below: frequencyMaskWidth + 1), start = g.nextInt(below: Swift.max(bands - w, 1))
            for t in 0..<frames { for b in start..<Swift.min(start + w, bands) { v[t * bands + b] = fill } }
        }
        return Tensor(shape: features.shape, values: v)
    }

    private func fit(_ x: [Float], _ n: Int) -> [Float] {
        x.count >= n ? Array(x[..<n]) : x + [Float](repeating: 0, count: n - x.count)
    }
}

/// Decoded, fixed-length waveforms and their labels as a `Dataset`: each batch computes its features
/// [batch, frames, features, 1] (augmented when `augmentation` is set), on the DataLoader's background
/// thread.
public struct AudioFeatureDataset: Dataset, @unchecked Sendable {
    public let waveforms: [[Float]]
    public let labels: [Int32]
    public let settings: AudioFeatureSettings
    public let augmentation: AudioAugmentation?
    private let generator: RandomGenerator

    /// - Parameters:
    ///   - waveforms: clips of `settings.length` samples.
    ///   - labels: class indices.
    ///   - settings: how features are made.
    ///   - augmentation: random changes per clip and batch (none when nil).
    ///   - seed: the augmentation's seed.
    public init(waveforms: [[Float]], labels: [Int32], settings: AudioFeatureSettings, augmentation: AudioAugmentation? = nil, seed: UInt64 = 0) {
        nablaPrecondition(waveforms.count == labels.count, "AudioFeatureDataset: \(waveforms.count) clips but \(labels.count) labels")
        self.waveforms = waveforms
        self.labels = labels
        self.settings = settings
        self.augmentation = augmentation
        generator = RandomGenerator(seed: seed)
    }

    public var count: Int { waveforms.count }

    public func batch(_ indices: [Int]) -> (Tensor, Tensor) {
        let clips = indices.map { i -> Tensor in
            guard let augmentation else { return settings.features(waveforms[i]) }
            let x = augmentation.waveform(waveforms[i], sampleRate: settings.sampleRate, generator: generator)
            return augmentation.mask(settings.features(x), generator: generator)
        }
        let x = stack(clips, axis: 0)
        return (x.reshaped(x.shape + [1]), Tensor(values: indices.map { labels[$0] }))
    }

    /// Every clip's features without augmentation, [count, frames, features, 1].
    public var allFeatures: Tensor { batch(Array(0..<count)).0 }
}

extension AudioDataset {
    /// Reads and decodes every recording into `settings.length` samples at `settings.sampleRate`; a
    /// file that cannot be read is an error naming it.
    /// - Parameters:
    ///   - settings: the rate and length.
    public func waveforms(_ settings: AudioFeatureSettings) throws -> [[Float]] {
        try items.map { try settings.waveform(WAVFile.read(from: URL(fileURLWithPath: $0.path))) }
    }
}

/// Utterances of several words, built on the fly by joining single-word recordings with random pauses
/// and levels — how `nabla audio train --task sequence` makes training and test sequences of digits.
///
/// ```swift
/// let builder = SpokenSequenceBuilder(recordings: waves, labels: digits, sampleRate: 8000)
/// let (samples, words) = builder.make(generator: RandomGenerator(seed: 1))   // 2 to 5 words
/// ```
public struct SpokenSequenceBuilder: Sendable {
    /// Mono recordings at `sampleRate`, each one word.
    public let recordings: [[Float]]
    /// Each recording's word (a class index).
    public let labels: [Int32]
    public let sampleRate: Int
    /// Words per utterance.
    public var words: ClosedRange<Int> = 2...5
    /// Silence before, between and after words, in seconds.
    public var pause: ClosedRange<Double> = 0.05...0.3
    /// Each word's level relative to its recording.
    public var gain: ClosedRange<Double> = 0.6...1.4

    /// - Parameters:
    ///   - recordings: mono single-word recordings.
    ///   - labels: each recording's word.
    ///   - sampleRate: their rate.
    public init(recordings: [[Float]], labels: [Int32], sampleRate: Int) {
        nablaPrecondition(!recordings.isEmpty && recordings.count == labels.count, "SpokenSequenceBuilder: needs recordings, one label each")
        self.recordings = recordings
        self.labels = labels
        self.sampleRate = sampleRate
    }

    /// One utterance: its samples and its words in order.
    /// - Parameters:
    ///   - g: the source of randomness.
    public func make(generator g: RandomGenerator) -> (samples: [Float], words: [Int32]) {
        func draw(_ r: ClosedRange<Double>) -> Double { r.lowerBound + (r.upperBound - r.lowerBound) * g.nextDouble() }
        let count = words.lowerBound + g.nextInt(below: words.count)
        var samples: [Float] = [], spoken: [Int32] = []
        for _ in 0..<count {
            samples += [Float](repeating: 0, count: Int(draw(pause) * Double(sampleRate)))
            let i = g.nextInt(below: recordings.count), level = Float(draw(gain))
            samples += recordings[i].map { $0 * level }
            spoken.append(labels[i])
        }
        samples += [Float](repeating: 0, count: Int(draw(pause) * Double(sampleRate)))
        return (samples, spoken)
    }
}
