import Foundation
import Nabla
import NablaData
import Testing

/// `nabla audio` on small synthetic recordings: three "words" (tone patterns) by three "speakers"
/// (pitch shifts), written as FSDD names `{label}_{speaker}_{index}.wav` and as class folders.
@Suite("nabla audio", .enabled(if: CLI.binary != nil, "build the nabla executable first (swift build)"))
struct AudioCLITests {
    /// A word: two tones one after the other, their frequencies set by the word and the speaker.
    static func recording(word: Int, speaker: Int, index: Int, rate: Int = 8000) -> AudioClip {
        let g = RandomGenerator(seed: UInt64(100 * word + 10 * speaker + index))
        let length = Int(Double(rate) * (0.35 + 0.1 * g.nextDouble()))
        let first = [400.0, 900.0, 1500.0][word] * (1 + 0.05 * Double(speaker)), second = [1200.0, 500.0, 2200.0][word] * (1 + 0.05 * Double(speaker))
        let samples = (0..<length).map { i -> Float in
            let t = Double(i) / Double(rate), f = i < length / 2 ? first : second
            return Float(0.4 * sin(2 * Double.pi * f * t) + 0.02 * (g.nextDouble() - 0.5))
        }
        return AudioClip(mono: samples, sampleRate: rate)
    }

    static func makeFSDD(in dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for word in 0..<3 {
            for (s, speaker) in ["ann", "bob", "cy"].enumerated() {
                for index in 0..<12 {
                    try WAVFile.write(recording(word: word, speaker: s, index: index), to: dir.appendingPathComponent("\(word)_\(speaker)_\(index).wav"))
                }
            }
        }
    }

    @Test("train on FSDD-named files with the customary split, save, predict (any sample rate), show")
    func trainPredictShow() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-audio-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("recordings")
        try Self.makeFSDD(in: data)
        let model = root.appendingPathComponent("model").path
        let train = try CLI.run(["audio", "train", "--data", data.path, "--epochs", "8", "--verbose", "0", "--save", model])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("test: recordings with index 0-4 (FSDD's customary split)"), "\(train.stdout)")
        #expect(train.stdout.contains("63 training and 45 test recordings, 3 labels"), "\(train.stdout)")
        let accuracy = train.stdout.split(separator: "\n").first { $0.hasPrefix("test accuracy: ") }.flatMap { Double($0.dropFirst(15)) }
        #expect(accuracy.map { $0 >= 0.9 } == true, "\(train.stdout)")

        // A 16 kHz stereo copy of a word-2 recording still reads as word 2.
        let clip = Self.recording(word: 2, speaker: 1, index: 3)
        let stereo = AudioClip(sampleRate: 16_000, channels: Array(repeating: Resampler(from: 8000, to: 16_000).resample(clip.mono), count: 2))
        let file = root.appendingPathComponent("probe.wav")
        try WAVFile.write(stereo, to: file, encoding: .float32)
        let predict = try CLI.run(["audio", "predict", model, file.path])
        #expect(predict.status == 0, "\(predict.stderr)")
        let fields = predict.stdout.split(separator: "\t")
        #expect(fields.count == 4 && fields[1].hasPrefix("2 "), "\(predict.stdout)")

        let picture = root.appendingPathComponent("probe.png").path
        let show = try CLI.run(["audio", "show", file.path, "-o", picture])
        #expect(show.status == 0 && show.stdout.contains("frames of 64 mel bands"), "\(show.stderr)")
        let png = try Data(contentsOf: URL(fileURLWithPath: picture))
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
    }

    @Test("--task sequence trains a CTC recogniser on joined utterances, saves it, and predicts word strings")
    func sequenceTask() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-audio-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("recordings")
        try Self.makeFSDD(in: data)
        let model = root.appendingPathComponent("seq").path
        let r = try CLI.run(["audio", "train", "--data", data.path, "--task", "sequence", "--steps", "3", "--save", model])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Model: \"speech_recognizer\"") && r.stdout.contains("recurrent (Bidirectional)") && r.stdout.contains("step 3/3  ctc loss"), "\(r.stdout)")
        let rate = r.stdout.split(separator: "\n").first { $0.hasPrefix("digit error rate: ") }.flatMap { Double($0.dropFirst(18)) }
        #expect(rate.map { $0 >= 0 } == true, "\(r.stdout)")
        // Two words joined: the prediction is a (possibly empty) string of known words.
        let joined = Self.recording(word: 0, speaker: 0, index: 1).mono + [Float](repeating: 0, count: 800) + Self.recording(word: 2, speaker: 0, index: 2).mono
        let file = root.appendingPathComponent("two.wav")
        try WAVFile.write(AudioClip(mono: joined, sampleRate: 8000), to: file)
        let p = try CLI.run(["audio", "predict", model, file.path])
        #expect(p.status == 0, "\(p.stderr)")
        let words = p.stdout.split(separator: "\t").last.map { $0.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) } } ?? []
        #expect(words.allSatisfy { ["0", "1", "2", ""].contains($0) }, "\(p.stdout)")
    }

    @Test("class folders, a held-out speaker, and bad files as one line")
    func foldersSpeakersErrors() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-audio-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let fsdd = root.appendingPathComponent("fsdd")
        try Self.makeFSDD(in: fsdd)
        let speaker = try CLI.run(["audio", "train", "--data", fsdd.path, "--test-speakers", "cy", "--epochs", "1", "--verbose", "0"])
        #expect(speaker.status == 0 && speaker.stdout.contains("test: the recordings of cy"), "\(speaker.stderr)")
        #expect(speaker.stdout.contains("72 training and 36 test recordings"), "\(speaker.stdout)")
        let unknown = try CLI.run(["audio", "train", "--data", fsdd.path, "--test-speakers", "zed"])
        #expect(unknown.status != 0 && unknown.stderr.contains("zed not among ann, bob, cy"), "\(unknown.stderr)")

        let folders = root.appendingPathComponent("folders")
        for word in ["yes", "no"] {
            let dir = folders.appendingPathComponent(word)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for i in 0..<10 { try WAVFile.write(Self.recording(word: word == "yes" ? 0 : 2, speaker: i % 3, index: i), to: dir.appendingPathComponent("\(i).wav")) }
        }
        let classes = try CLI.run(["audio", "train", "--data", folders.path, "--epochs", "1", "--verbose", "0"])
        #expect(classes.status == 0 && classes.stdout.contains("20 recordings in 2 class folders") && classes.stdout.contains("a seeded 20%"),
                "\(classes.stdout) \(classes.stderr)")

        // A truncated WAV among the recordings: one line naming it, non-zero exit, no crash.
        let bad = fsdd.appendingPathComponent("1_bob_7.wav")
        let bytes = try Data(contentsOf: bad)
        try bytes.prefix(bytes.count - 3).write(to: bad)
        let broken = try CLI.run(["audio", "train", "--data", fsdd.path, "--epochs", "1"])
        #expect(broken.status != 0 && broken.stderr.hasPrefix("nabla: error: \(bad.path): at byte 36: chunk \"data\" declares"), "\(broken.stderr)")
        #expect(broken.stderr.split(separator: "\n").count == 1)
    }
}
