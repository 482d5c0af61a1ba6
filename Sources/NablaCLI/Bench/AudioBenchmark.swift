import Foundation
import Nabla
import NablaData

/// `audio_features`: log-mel spectrograms (n_fft 512, hop 128, 64 mels, 8 kHz, in decibels) of every
/// FSDD recording, reading and decoding the files included — the work `scripts/audio_features_reference.py`
/// times for librosa and torchaudio. Files are spread over the thread pool.
enum AudioBenchmark {
    static func dataPath() -> String? {
        let candidates = [ProcessInfo.processInfo.environment["NABLA_FSDD"], "../shared/data/fsdd/recordings", "shared/data/fsdd/recordings"]
        return candidates.compactMap { $0 }.first { FileManager.default.fileExists(atPath: $0) }
    }

    static func run() -> BenchResult {
        guard let path = dataPath(), let files = try? FileManager.default.contentsOfDirectory(atPath: path).filter({ $0.hasSuffix(".wav") }).sorted(),
              !files.isEmpty else {
            FileHandle.standardError.write("audio_features: FSDD not found (set NABLA_FSDD to its recordings folder)\n".data(using: .utf8)!)
            return BenchResult(workload: "audio_features", fields: [])
        }
        let settings = STFTSettings(nFFT: 512, hopLength: 128)
        func pass() -> (seconds: Double, frames: Int) {
            var frames = [Int](repeating: 0, count: files.count)
            let seconds = frames.withUnsafeMutableBufferPointer { counts in
                measure {
                    Parallel.forEachRange(files.count, grain: 16) { range in
                        for i in range {
                            guard let clip = try? WAVFile.read(from: URL(fileURLWithPath: path + "/" + files[i])) else { continue }
                            counts[i] = AudioFeatures.logMelSpectrogram(clip.mono, sampleRate: clip.sampleRate, settings: settings, mels: 64).shape[0]
                        }
                    }
                }
            }
            return (seconds, frames.reduce(0, +))
        }
        _ = pass()   // warm: file cache, filterbank, allocator
        let (seconds, frames) = pass()
        return BenchResult(workload: "audio_features", fields: [("files", Double(files.count)), ("seconds", seconds),
                                                                ("files_per_s", Double(files.count) / seconds), ("frames", Double(frames)),
                                                                ("threads", Double(Parallel.threadCount))])
    }
}
