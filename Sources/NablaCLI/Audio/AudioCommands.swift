import ArgumentParser
import Foundation
import Nabla
import NablaData
import NablaNN

/// `nabla audio`: spoken-word recognition from WAV files.
struct AudioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audio", abstract: "Speech: train a recogniser on WAV files, classify recordings, draw a spectrogram.",
        subcommands: [AudioTrain.self, AudioPredict.self, AudioShow.self])
}

/// What an audio model keeps in its metadata: how to turn a recording into its input, and the labels.
struct AudioAssets: ModelAssets {
    static let key = "audio_classifier", writer = "nabla audio train"
    var settings: AudioFeatureSettings
    var labels: [String]
    /// What the model does with a recording (nil in models saved before there was a choice: classify).
    var task: AudioTask?
}

/// What `nabla audio train` trains.
enum AudioTask: String, Codable {
    /// One word per recording: class probabilities.
    case classify
    /// Several words per recording: a CTC recogniser of the word sequence.
    case sequence
}

struct AudioTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a spoken-word recogniser and report the test accuracy.",
        discussion: """
        --data is a folder of class subfolders of .wav files, or of files named {label}_{speaker}_{index}.wav (the Free Spoken
        Digit Dataset's naming). The test split: the given --test-speakers; otherwise recordings with index 0-4 (FSDD's
        customary split) when the names carry indices; otherwise a seeded 20%. Clips become mono at 8 kHz, padded or cut to
        one second, then log-mel spectrograms (40 mels, n_fft 512, hop 128) or MFCCs, standardised with the training set's
        statistics. A small CNN learns from them; --augment adds delays, noise, speed changes and SpecAugment masks.
        """)

    @Option(help: "A folder of class subfolders of .wav files, or of {label}_{speaker}_{index}.wav files.")
    var data: String
    @Option(help: "File names without .wav, for folders without class subfolders: {label}, {speaker}, {index} between literal text.")
    var pattern = "{label}_{speaker}_{index}"
    @Option(help: "Comma-separated speakers to hold out for the test (speaker-independent evaluation).")
    var testSpeakers: String?
    @Option(help: "logmel (default) or mfcc.")
    var features = "logmel"
    @Option(help: "classify (one word per recording, default) or sequence (CTC over utterances of 2-5 joined recordings).")
    var task = "classify"
    @Option(help: "sequence: optimisation steps of 16 utterances.")
    var steps = 2000
    @Option(help: "Passes over the training recordings.")
    var epochs = 30
    @Option(help: "Recordings per gradient step.")
    var batchSize = 32
    @Option(help: "Adam's peak learning rate (a cosine decay takes it to 2% by the last step).")
    var learningRate = 2e-3
    @Flag(inversion: .prefixedNo, help: "Augment the training recordings (delay, noise, speed, SpecAugment masks; off by default: it needs more epochs).")
    var augment = false
    @Flag(help: "Subtract each band's mean over the clip (cepstral mean normalisation; for unseen speakers).")
    var clipNormalization = false
    @Option(help: "Random seed.")
    var seed: UInt64 = 42
    @Option(help: "0 silent, 1 progress bar, 2 one line per epoch.")
    var verbose = 2
    @Option(help: "Save the model and its feature settings into this folder.")
    var save: String?

    func validate() throws {
        guard AudioFeatureSettings.Kind(rawValue: features) != nil else { throw ValidationError("--features must be logmel or mfcc, got '\(features)'") }
        guard AudioTask(rawValue: task) != nil else { throw ValidationError("--task must be classify or sequence, got '\(task)'") }
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
        guard epochs > 0, batchSize > 0, learningRate > 0 else { throw ValidationError("--epochs, --batch-size and --learning-rate must be positive") }
    }

    func run() throws {
        RandomGenerator.global.seed(seed)
        let all = try AudioDataset(path: data, pattern: pattern)
        print(all.note)
        let (train, test): (AudioDataset, AudioDataset)
        if let testSpeakers {
            let names = Set(testSpeakers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            let unknown = names.subtracting(all.speakers)
            guard unknown.isEmpty else { throw ValidationError("--test-speakers: \(unknown.sorted().joined(separator: ", ")) not among \(all.speakers.joined(separator: ", "))") }
            (train, test) = all.split(testSpeakers: names)
            print("test: the recordings of \(names.sorted().joined(separator: ", "))")
        } else if all.items.allSatisfy({ $0.index != nil }) {
            (train, test) = all.split(testIndices: 0...4)
            print("test: recordings with index 0-4 (FSDD's customary split)")
        } else {
            (train, test) = all.split(testFraction: 0.2, seed: seed)
            print("test: a seeded 20% of the recordings")
        }
        guard !train.items.isEmpty, !test.items.isEmpty else { throw ValidationError("\(data): the split leaves no training or no test recordings") }
        let labels = all.labels
        if AudioTask(rawValue: task) == .sequence { return try trainSequence(train: train, test: test, labels: labels) }
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, Int32($0)) })
        var settings = AudioFeatureSettings(kind: AudioFeatureSettings.Kind(rawValue: features)!)
        settings.clipNormalization = clipNormalization
        let start = ProgressBar.now()
        let trainWaves = try train.waveforms(settings), testWaves = try test.waveforms(settings)
        // Standardise with the training set's statistics (kept in the model for prediction).
        let raw = AudioFeatureDataset(waveforms: trainWaves, labels: train.items.map { index[$0.label]! }, settings: settings).allFeatures
        settings.mean = raw.mean().item(Double.self)
        settings.deviation = Swift.max(raw.standardDeviation().item(Double.self), 1e-6)
        print("\(train.items.count) training and \(test.items.count) test recordings, \(labels.count) labels; "
              + "features \(settings.shape) per clip (\(String(format: "%.2f", ProgressBar.now() - start)) s to read and transform)")

        let model = Self.makeModel(inputShape: settings.shape + [1], classes: labels.count)
        // A cosine decay to 2% of the rate by the last step: the final weights settle instead of ending
        // wherever the last large steps left them (a constant rate gave 0.91 on one seed, 0.99 on another).
        let optimizer = Adam(learningRate: learningRate)
        let stepsPerEpoch = (train.items.count + batchSize - 1) / batchSize
        optimizer.schedule = CosineDecay(initialLearningRate: learningRate, decaySteps: epochs * stepsPerEpoch, alpha: 0.02)
        try model.compile(optimizer: optimizer, loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
        print(model.summary())
        let trainSet = AudioFeatureDataset(waveforms: trainWaves, labels: train.items.map { index[$0.label]! }, settings: settings,
                                           augmentation: augment ? AudioAugmentation() : nil, seed: seed)
        let testSet = AudioFeatureDataset(waveforms: testWaves, labels: test.items.map { index[$0.label]! }, settings: settings)
        let (testX, testY) = testSet.batch(Array(0..<testSet.count))
        let fitStart = ProgressBar.now()
        try model.fit(DataLoader(trainSet, batchSize: batchSize, shuffle: true, seed: seed), epochs: epochs, verbose: verbose)
        let seconds = ProgressBar.now() - fitStart
        let result = try model.evaluate(testX, testY, batchSize: 256, verbose: 0)
        if let save {
            try AudioAssets(settings: settings, labels: labels, task: .classify).write(into: model)
            try model.save(to: URL(fileURLWithPath: save))
            print("saved the model and its feature settings to \(save)")
        }
        print("training time: \(String(format: "%.1f", seconds)) s")
        print("test loss: \(String(format: "%.4f", result.loss))")
        print("test accuracy: \(String(format: "%.4f", result["accuracy"] ?? 0))")
    }

    /// `--task sequence`: a `SpeechRecognizer` trained with CTC on utterances of 2-5 training recordings
    /// joined with random pauses and levels, built afresh for every step; reports the digit (word)
    /// error rate — edit distance over reference length — on utterances built only from test recordings.
    func trainSequence(train: AudioDataset, test: AudioDataset, labels: [String]) throws {
        var settings = AudioFeatureSettings(kind: .logmel)
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, Int32($0)) })
        func builder(_ set: AudioDataset) throws -> SpokenSequenceBuilder {
            SpokenSequenceBuilder(recordings: try set.items.map { try settings.mono(WAVFile.read(from: URL(fileURLWithPath: $0.path))) },
                                  labels: set.items.map { index[$0.label]! }, sampleRate: settings.sampleRate)
        }
        let (trainUtterances, testUtterances) = (try builder(train), try builder(test))
        let g = RandomGenerator(seed: seed)
        // Standardise with the statistics of a sample of training utterances.
        let sample = (0..<64).map { _ in AudioFeatures.logMelSpectrogram(trainUtterances.make(generator: g).samples, sampleRate: settings.sampleRate,
                                                                         settings: settings.stft, mels: settings.mels) }
        let joined = concatenate(sample, axis: 0)
        settings.mean = joined.mean().item(Double.self)
        settings.deviation = Swift.max(joined.standardDeviation().item(Double.self), 1e-6)
        let model = SpeechRecognizer(bands: settings.mels, classes: labels.count + 1)
        print(model.summary())
        let optimizer = Adam(learningRate: learningRate)
        optimizer.globalClipNorm = 5
        optimizer.schedule = CosineDecay(initialLearningRate: learningRate, decaySteps: steps, alpha: 0.02)
        /// A batch: features [batch, frames, bands, 1] padded with zeros (the mean), the frames the model
        /// outputs for each, and the targets (word + 1: class 0 is the blank).
        func batch(_ utterances: [(samples: [Float], words: [Int32])]) -> (Tensor, [Int], Tensor, [Int]) {
            let features = utterances.map { settings.features($0.samples) }
            let longest = features.map { $0.shape[0] }.max()! + 1
            let padded = features.map { f in concatenate([f, Tensor.zeros([longest - f.shape[0], settings.mels])], axis: 0) }
            let x = stack(padded, axis: 0).reshaped([utterances.count, longest, settings.mels, 1])
            let words = utterances.map(\.words), width = words.map(\.count).max()!
            let targets = Tensor(shape: [utterances.count, width], values: words.flatMap { w in w.map { $0 + 1 } + [Int32](repeating: 0, count: width - w.count) })
            return (x, features.map { model.outputFrames($0.shape[0]) }, targets, words.map(\.count))
        }
        let start = ProgressBar.now()
        var recent: [Double] = []
        model.train()
        for step in 1...steps {
            let (x, frames, targets, lengths) = batch((0..<16).map { _ in trainUtterances.make(generator: g) })
            let logProbs = logSoftmax(model(x), axis: -1).permuted([1, 0, 2])
            let loss = ctcLoss(logProbs: logProbs, targets: targets, inputLengths: frames, targetLengths: lengths, zeroInfinity: true)
            loss.backward()
            optimizer.update(model)
            recent.append(loss.item(Double.self))
            if recent.count > 100 { recent.removeFirst() }
            if verbose > 0 && (step % 100 == 0 || step == steps) {
                print("step \(step)/\(steps)  ctc loss \(String(format: "%.4f", recent.reduce(0, +) / Double(recent.count)))  "
                      + "\(String(format: "%.1f", ProgressBar.now() - start)) s")
                fflush(nil)
            }
        }
        let seconds = ProgressBar.now() - start
        // Test utterances from test recordings only, the same ones for every run with this seed.
        model.eval()
        let tg = RandomGenerator(seed: 2024)
        var errors = 0, reference = 0
        for _ in 0..<20 {
            let utterances = (0..<16).map { _ in testUtterances.make(generator: tg) }
            let (x, frames, _, _) = batch(utterances)
            let logits = withNoGrad { model(x) }
            for (i, u) in utterances.enumerated() {
                let decoded = CTCDecoder.greedy(logits[i][0..<frames[i]]).map { Int32($0 - 1) }
                errors += editDistance(decoded, u.words)
                reference += u.words.count
            }
        }
        if let save {
            try AudioAssets(settings: settings, labels: labels, task: .sequence).write(into: model)
            try model.save(to: URL(fileURLWithPath: save))
            print("saved the model and its feature settings to \(save)")
        }
        print("training time: \(String(format: "%.1f", seconds)) s")
        print("test utterances: 320 of 2-5 words (\(reference) words)")
        print("digit error rate: \(String(format: "%.4f", Double(errors) / Double(reference)))")
    }

    /// Three convolution blocks (3×3, batch norm, ReLU, 2×2 max pooling), then the flattened map (it
    /// keeps the order of the sounds in time, which a digit's identity depends on), a ReLU layer with
    /// dropout, and class logits.
    static func makeModel(inputShape: [Int], classes: Int) -> Model {
        var layers: [Layer] = []
        for filters in [16, 32, 64] {
            layers += [Conv2D(filters: filters, kernelSize: (3, 3), padding: .same, useBias: false), BatchNormalization(), Activation(.relu),
                       MaxPooling2D(poolSize: (2, 2))]
        }
        layers += [Flatten(), Dropout(rate: 0.3), Dense(units: 64, activation: .relu), Dropout(rate: 0.3), Dense(units: classes)]
        return Sequential(layers, inputShape: inputShape, name: "audio_cnn")
    }
}

struct AudioPredict: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "Print the three likeliest labels of each recording.")

    @Argument(help: "The model folder written by nabla audio train --save.")
    var model: String
    @Argument(help: "WAV files, at any sample rate and channel count.")
    var files: [String]

    func run() throws {
        let m = try loadModel(model)
        let assets = try AudioAssets.required(m, path: model)
        m.eval()
        for file in files {
            let clip = try WAVFile.read(from: URL(fileURLWithPath: file))
            if assets.task == .sequence, let recognizer = m as? SpeechRecognizer {
                let f = assets.settings.features(assets.settings.mono(clip))
                let logits = withNoGrad { recognizer(f.reshaped([1] + f.shape + [1])) }[0]
                print("\(file)\t" + CTCDecoder.beamSearch(logSoftmax(logits, axis: -1)).map { assets.labels[$0 - 1] }.joined(separator: " "))
                continue
            }
            let x = assets.settings.features(assets.settings.waveform(clip))
            let p = withNoGrad { softmax(m(x.reshaped([1] + x.shape + [1])), axis: -1) }[0].toArray(Double.self)
            let top = p.indices.sorted { p[$0] > p[$1] }.prefix(3)
            print("\(file)\t" + top.map { "\(assets.labels[$0]) \(String(format: "%.4f", p[$0]))" }.joined(separator: "\t"))
        }
    }
}

struct AudioShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Draw a recording's waveform above its log-mel spectrogram (PNG).")

    @Argument(help: "A WAV file.")
    var file: String
    @Option(name: .shortAndLong, help: "The PNG file to write.")
    var output = "spectrogram.png"
    @Option(help: "Mel bands.")
    var mels = 64

    func run() throws {
        let clip = try WAVFile.read(from: URL(fileURLWithPath: file))
        let x = clip.mono
        let settings = STFTSettings(nFFT: 512, hopLength: 128)
        let logMel = AudioFeatures.logMelSpectrogram(x, sampleRate: clip.sampleRate, settings: settings, mels: mels)   // [frames, mels]
        let (frames, bands) = (logMel.shape[0], logMel.shape[1])
        let column = Swift.max(2, 480 / Swift.max(frames, 1)), left = 60, top = 30, waveHeight = 120, gap = 30, bandHeight = 3
        let width = left + frames * column + 20, height = top + waveHeight + gap + bands * bandHeight + 50
        var png = RGBImage(width: width, height: height)
        // The bitmap font has letters, digits and a little punctuation; other characters become spaces.
        let title = URL(fileURLWithPath: file).lastPathComponent.map { $0.isLetter || $0.isNumber || $0 == "." ? $0 : " " }
        png.drawText(String(title), x: left, y: 8, scale: 2)
        // The waveform: each pixel column shows the min...max of its samples.
        let plotWidth = frames * column, per = Swift.max(1, x.count / Swift.max(plotWidth, 1))
        for px in 0..<plotWidth {
            let chunk = x[Swift.min(px * per, x.count)..<Swift.min((px + 1) * per, x.count)]
            guard let lo = chunk.min(), let hi = chunk.max() else { continue }
            let y0 = top + Int((1 - Double(hi)) / 2 * Double(waveHeight)), y1 = top + Int((1 - Double(lo)) / 2 * Double(waveHeight))
            for y in Swift.max(top, y0)...Swift.min(top + waveHeight, Swift.max(y0, y1)) { png.set(left + px, y, (30, 60, 160)) }
        }
        // The spectrogram, low frequencies at the bottom, decibels scaled to [0, 1].
        let db = logMel.toArray(Double.self), low = db.min() ?? 0, high = db.max() ?? 1
        let rows = (0..<bands).map { b in (0..<frames).map { t in (db[t * bands + (bands - 1 - b)] - low) / Swift.max(high - low, 1e-9) } }
        let y0 = top + waveHeight + gap
        for (r, row) in rows.enumerated() {
            for (t, v) in row.enumerated() {
                for dy in 0..<bandHeight { for dx in 0..<column { png.set(left + t * column + dx, y0 + r * bandHeight + dy, RGBImage.heat(v)) } }
            }
        }
        // Axes: seconds under the spectrogram, hertz beside it.
        let seconds = Double(x.count) / Double(clip.sampleRate)
        for i in 0...4 {
            let s = seconds * Double(i) / 4
            png.drawText(String(format: "%.2fs", s), x: left + Int(Double(plotWidth - 1) * Double(i) / 4) - 10, y: y0 + bands * bandHeight + 8, scale: 1)
        }
        let scale = MelScale.slaney, topMel = scale.mel(Double(clip.sampleRate) / 2)
        for i in 0...4 {
            let hz = scale.hz(topMel * Double(i) / 4)
            png.drawText("\(Int(hz))", x: 4, y: y0 + bands * bandHeight - Int(Double(bands * bandHeight) * Double(i) / 4) - 4, scale: 1)
        }
        png.drawText("Hz", x: 4, y: y0 - 12, scale: 1)
        try AtomicFile.write(png.pngData(), to: URL(fileURLWithPath: output))
        print("wrote \(output): \(String(format: "%.2f", seconds)) s, \(frames) frames of \(bands) mel bands")
    }
}

/// Levenshtein distance: insertions, deletions and substitutions turning `a` into `b`.
func editDistance<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
    guard !a.isEmpty else { return b.count }
    var row = Array(0...b.count)
    for i in 1...a.count {
        var diagonal = row[0]
        row[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            let above = row[j]
            row[j] = Swift.min(above + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1))
            diagonal = above
        }
    }
    return row[b.count]
}
