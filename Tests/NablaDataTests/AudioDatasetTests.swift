import Foundation
import Nabla
import NablaData
import Testing

@Suite("AudioDataset: file-name patterns, class folders, splits")
struct AudioDatasetTests {
    func folder(_ names: [String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-audioset-\(UUID().uuidString)")
        for name in names {
            let url = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try WAVFile.write(AudioClip(mono: [0.1, -0.1], sampleRate: 8000), to: url)
        }
        return dir
    }

    @Test("FSDD names, a custom pattern, and the splits by index, speaker and fraction")
    func patternsAndSplits() throws {
        let fsdd = try folder(["0_ann_0.wav", "0_ann_7.wav", "1_bob_3.wav", "1_bob_12.wav", "9_ann_4.wav"])
        defer { try? FileManager.default.removeItem(at: fsdd) }
        let all = try AudioDataset(path: fsdd.path)
        #expect(all.labels == ["0", "1", "9"] && all.speakers == ["ann", "bob"])
        let (train, test) = all.split(testIndices: 0...4)
        #expect(Set(test.items.map { URL(fileURLWithPath: $0.path).lastPathComponent }) == ["0_ann_0.wav", "1_bob_3.wav", "9_ann_4.wav"])
        #expect(train.items.count == 2)
        #expect(all.split(testSpeakers: ["bob"]).test.items.allSatisfy { $0.speaker == "bob" })
        let random = all.split(testFraction: 0.4, seed: 1)
        #expect(random.test.items.count == 2 && random.train.items.count == 3)

        let custom = try folder(["spk-ann-yes-01.wav", "spk-bob-no-2.wav"])
        defer { try? FileManager.default.removeItem(at: custom) }
        let named = try AudioDataset(path: custom.path, pattern: "spk-{speaker}-{label}-{index}")
        #expect(named.items.map(\.label).sorted() == ["no", "yes"] && named.items.compactMap(\.index).sorted() == [1, 2])
        #expect(throws: DataError.self) { _ = try AudioDataset(path: custom.path) }   // not FSDD names
        #expect(throws: DataError.self) { _ = try AudioDataset(path: custom.path, pattern: "{speaker}-{word}") }
    }

    @Test("class subfolders give the labels; an empty folder is an error")
    func classFolders() throws {
        let dir = try folder(["yes/a.wav", "yes/b.wav", "no/c.wav"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let set = try AudioDataset(path: dir.path)
        #expect(set.labels == ["no", "yes"] && set.items.count == 3 && set.speakers.isEmpty)
        #expect(set.note == "3 recordings in 2 class folders")
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect(throws: DataError.self) { _ = try AudioDataset(path: empty.path) }
    }

    @Test("clips become one second at 8 kHz; augmentation keeps the length and the silence at the end")
    func waveformsAndAugmentation() {
        let settings = AudioFeatureSettings()
        let clip = AudioClip(sampleRate: 16_000, channels: [[Float](repeating: 0.5, count: 4000), [Float](repeating: -0.5, count: 4000)])
        let x = settings.waveform(clip)
        #expect(x.count == 8000 && x[3000...].allSatisfy { $0 == 0 })   // mono mix is 0, then padding
        let tone = AudioClip(mono: (0..<3000).map { Float(0.3 * sin(Double($0) * 0.3)) }, sampleRate: 8000)
        let y = AudioAugmentation().waveform(settings.waveform(tone), sampleRate: 8000, generator: RandomGenerator(seed: 2))
        #expect(y.count == 8000 && y[4500...].allSatisfy { $0 == 0 }, "noise stays out of the padding; a delay is at most 0.1 s")
        #expect(settings.features(x).shape == settings.shape && settings.shape == [63, 40])
    }

    @Test("clip normalisation: every band's mean over the sounding frames is zero; a louder copy gives the same features")
    func clipNormalization() {
        var settings = AudioFeatureSettings()
        settings.clipNormalization = true
        let tone = (0..<4000).map { Float(0.2 * sin(Double($0) * 0.25) + 0.1 * sin(Double($0) * 1.1)) }
        let f = settings.features(settings.waveform(AudioClip(mono: tone, sampleRate: 8000)))
        // The sounding frames, by the rule: some band within 60 dB of the clip's loudest.
        let logMel = AudioFeatures.logMelSpectrogram(settings.waveform(AudioClip(mono: tone, sampleRate: 8000)), sampleRate: 8000,
                                                     settings: settings.stft, mels: settings.mels).toArray(Double.self)
        let top = logMel.max()!, rows = (0..<63).filter { t in (0..<40).contains { logMel[t * 40 + $0] > top - 60 } }
        #expect(rows.count > 25 && rows.count < 40, "\(rows)")
        let values = f.toArray(Double.self)
        for band in 0..<40 { #expect(Swift.abs(rows.map { values[$0 * 40 + band] }.reduce(0, +) / Double(rows.count)) < 1e-3) }
        let louder = settings.features(settings.waveform(AudioClip(mono: tone.map { $0 * 3 }, sampleRate: 8000)))
        #expect(zip(f.toArray(Double.self), louder.toArray(Double.self)).map { Swift.abs($0 - $1) }.max()! < 1e-3)
    }

    @Test("saved feature settings: missing fields take their defaults, impossible values are refused")
    func settingsDecoding() throws {
        let old = #"{"kind": "mfcc", "sampleRate": 16000, "seconds": 1.5, "nFFT": 400, "hopLength": 160, "mels": 40, "mfccCount": 13, "mean": -30, "deviation": 12}"#
        let s = try JSONDecoder().decode(AudioFeatureSettings.self, from: Data(old.utf8))
        #expect(s.kind == .mfcc && s.sampleRate == 16000 && s.mfccCount == 13 && !s.clipNormalization && s.shape == [151, 13])
        let back = try JSONDecoder().decode(AudioFeatureSettings.self, from: JSONEncoder().encode(s))
        #expect(back == s)
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(AudioFeatureSettings.self, from: Data(#"{"nFFT": 0}"#.utf8)) }
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(AudioFeatureSettings.self, from: Data(#"{"mfccCount": 90}"#.utf8)) }
    }
}
