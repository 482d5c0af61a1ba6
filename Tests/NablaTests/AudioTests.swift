import Foundation
import Nabla
import Testing

/// Audio files and features against librosa, torchaudio and soundfile (Tests/Fixtures/audio, written by
/// scripts/make_audio_fixtures.py).
@Suite("Audio: WAV files, FFT, spectrograms, mels, MFCCs, resampling")
struct AudioTests {
    static let directory = OpFixture.fixturesDirectory.appendingPathComponent("audio")
    static let features: [String: Tensor] = {
        do { return try NumPyArchive.read(from: directory.appendingPathComponent("features.npz")) } catch {
            fatalError("\(error); run python3 scripts/make_audio_fixtures.py")
        }
    }()
    static var signal: [Float] { features["signal"]!.toArray(Float.self) }

    /// Largest |a − b| relative to the largest |b| (spectra span many decades; this is the scale that matters).
    func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
        let x = a.toArray(Double.self), y = b.toArray(Double.self)
        #expect(x.count == y.count, "sizes \(a.shape) and \(b.shape)")
        let scale = y.map { Swift.abs($0) }.max() ?? 1
        return zip(x, y).map { Swift.abs($0 - $1) }.max()! / Swift.max(scale, 1e-300)
    }

    /// A reference stored as librosa's [features, frames], turned into Nabla's [frames, features].
    func reference(_ key: String) -> Tensor { Self.features[key]!.transposed().copy() }

    @Test("the FFT of any length equals the direct DFT", arguments: [1, 2, 8, 400, 401, 512, 997])
    func fft(length: Int) {
        let g = RandomGenerator(seed: UInt64(length))
        var re = (0..<length).map { _ in g.nextDouble() - 0.5 }, im = (0..<length).map { _ in g.nextDouble() - 0.5 }
        let (x, y) = (re, im)
        FFT(count: length).forward(&re, &im)
        var worst = 0.0
        for k in 0..<length {
            var sr = 0.0, si = 0.0
            for n in 0..<length {
                let a = -2 * Double.pi * Double((k * n) % length) / Double(length)
                sr += x[n] * cos(a) - y[n] * sin(a)
                si += x[n] * sin(a) + y[n] * cos(a)
            }
            worst = Swift.max(worst, Swift.abs(sr - re[k]), Swift.abs(si - im[k]))
        }
        #expect(worst < 1e-9 * Double(length), "length \(length): \(worst)")
    }

    @Test("windows: Hann and Hamming, periodic and symmetric, as librosa's")
    func windows() {
        #expect(relativeError(Tensor(values: WindowFunction.hann(periodic: false).values(64)), Self.features["window_hann_symmetric"]!) < 1e-12)
        #expect(relativeError(Tensor(values: WindowFunction.hamming(periodic: true).values(64)), Self.features["window_hamming_periodic"]!) < 1e-12)
    }

    @Test("power spectrograms: librosa (zero padding, n_fft 512 and 400) and torchaudio (reflection)")
    func spectrograms() {
        let x = Self.signal
        #expect(relativeError(AudioFeatures.spectrogram(x, STFTSettings(nFFT: 512, hopLength: 128)), reference("librosa_power_512")) < 1e-5)
        #expect(relativeError(AudioFeatures.spectrogram(x, STFTSettings(nFFT: 400, hopLength: 160)), reference("librosa_power_400")) < 1e-5)
        let hamming = STFTSettings(nFFT: 512, hopLength: 128, windowLength: 400, window: .hamming(periodic: true))
        #expect(relativeError(AudioFeatures.spectrogram(x, hamming, power: 1), reference("librosa_magnitude_hamming")) < 1e-5)
        #expect(relativeError(AudioFeatures.spectrogram(x, .torchaudio()), reference("torchaudio_power_400")) < 1e-5)
        #expect(STFTSettings(nFFT: 512, hopLength: 128).frameCount(x.count) == 24)
    }

    @Test("the differentiable stftPower equals the FFT spectrogram (and so librosa and torchaudio)")
    func differentiableSpectrogram() {
        let x = Tensor(values: Self.signal)
        for settings in [STFTSettings(nFFT: 512, hopLength: 128), STFTSettings.torchaudio()] {
            #expect(relativeError(stftPower(x, settings: settings), AudioFeatures.spectrogram(Self.signal, settings)) < 1e-5)
            #expect(relativeError(stftPower(x, settings: settings, power: 1), AudioFeatures.spectrogram(Self.signal, settings, power: 1)) < 1e-5)
        }
        let batch = stack([x, x * 0.5], axis: 0)
        let both = stftPower(batch, settings: STFTSettings(nFFT: 400, hopLength: 160))
        #expect(both.shape == [2, 19, 201])
        #expect(relativeError(both[1], reference("librosa_power_400") * 0.25) < 1e-5)
    }

    @Test("mel filterbanks: Slaney (librosa's default), HTK without normalisation, torchaudio's")
    func melFilterbanks() {
        let slaney = AudioFeatures.melFilterbank(sampleRate: 8000, nFFT: 512, mels: 40)
        #expect(relativeError(slaney, reference("librosa_mel_slaney")) < 1e-5)
        let htk = AudioFeatures.melFilterbank(sampleRate: 8000, nFFT: 512, mels: 40, scale: .htk, slaneyNormalization: false)
        #expect(relativeError(htk, reference("librosa_mel_htk")) < 1e-5)
        let torch = AudioFeatures.melFilterbank(sampleRate: 8000, nFFT: 400, mels: 40, scale: .htk, slaneyNormalization: false)
        #expect(relativeError(torch, Self.features["torchaudio_mel_fbanks"]!) < 1e-5)
        for hz in [0.0, 300, 999, 1000, 1001, 3999] {
            #expect(Swift.abs(MelScale.slaney.hz(MelScale.slaney.mel(hz)) - hz) < 1e-9)
            #expect(Swift.abs(MelScale.htk.hz(MelScale.htk.mel(hz)) - hz) < 1e-9)
        }
    }

    @Test("mel spectrograms, decibels, MFCCs (with lifter) and deltas: librosa's defaults")
    func librosaFeatures() {
        let settings = STFTSettings(nFFT: 512, hopLength: 128)
        let mel = AudioFeatures.melSpectrogram(Self.signal, sampleRate: 8000, settings: settings, mels: 40)
        #expect(relativeError(mel, reference("librosa_melspectrogram")) < 1e-5)
        let db = AudioFeatures.powerToDecibels(mel)
        #expect(relativeError(db, reference("librosa_power_to_db")) < 1e-4)
        #expect(relativeError(AudioFeatures.amplitudeToDecibels(sqrt(mel)), reference("librosa_amplitude_to_db")) < 1e-4)
        let mfcc = AudioFeatures.mfcc(db, count: 13)
        #expect(relativeError(mfcc, reference("librosa_mfcc")) < 1e-4)
        #expect(relativeError(AudioFeatures.mfcc(db, count: 13, lifter: 22), reference("librosa_mfcc_lifter")) < 1e-4)
        #expect(relativeError(AudioFeatures.deltas(reference("librosa_mfcc")), reference("librosa_delta")) < 1e-5)
    }

    @Test("mel spectrograms, decibels, MFCCs and deltas: torchaudio's defaults (HTK, reflection, n_fft 400)")
    func torchaudioFeatures() {
        let mel = AudioFeatures.melSpectrogram(Self.signal, sampleRate: 8000, settings: .torchaudio(), mels: 40, scale: .htk,
                                               slaneyNormalization: false)
        #expect(relativeError(mel, reference("torchaudio_melspectrogram")) < 1e-5)
        let db = AudioFeatures.powerToDecibels(mel)
        #expect(relativeError(db, reference("torchaudio_db")) < 1e-4)
        #expect(relativeError(AudioFeatures.dctMatrix(inputs: 40, outputs: 13), Self.features["torchaudio_dct"]!) < 1e-5)   // torchaudio builds it in float32
        #expect(relativeError(AudioFeatures.mfcc(db, count: 13), reference("torchaudio_mfcc")) < 1e-4)
        #expect(relativeError(AudioFeatures.deltas(reference("torchaudio_mfcc"), width: 5, edges: .replicate), reference("torchaudio_deltas")) < 1e-5)
    }

    @Test("resampling up and down equals torchaudio's", arguments: [(8000, 16000), (8000, 22050), (16000, 8000), (44100, 8000)])
    func resample(rates: (Int, Int)) {
        let input = Self.features["resample_in_\(rates.0)_\(rates.1)"]!.toArray(Float.self)
        let expected = Self.features["resample_\(rates.0)_\(rates.1)"]!
        let out = Resampler(from: rates.0, to: rates.1).resample(input)
        #expect(relativeError(Tensor(values: out), expected) < 1e-5, "\(rates)")
    }
}

@Suite("WAV files")
struct WAVTests {
    static let expected: [String: Tensor] = {
        do { return try NumPyArchive.read(from: AudioTests.directory.appendingPathComponent("wav_expected.npz")) } catch { fatalError("\(error)") }
    }()

    @Test("every encoding soundfile writes reads as soundfile decodes it",
          arguments: ["pcm8_mono", "pcm16_stereo", "pcm24_mono", "pcm32_stereo", "float32_mono", "float64_stereo", "extensible_3ch"])
    func encodings(name: String) throws {
        let clip = try WAVFile.read(from: AudioTests.directory.appendingPathComponent(name + ".wav"))
        let reference = Self.expected[name]!   // [frames, channels]
        #expect(clip.sampleRate == Int(Self.expected[name + "_rate"]!.item(Double.self)))
        #expect(clip.channels.count == reference.shape[1] && clip.frameCount == reference.shape[0])
        let ours = Tensor(shape: [clip.channels.count, clip.frameCount], values: clip.channels.flatMap { $0 }).transposed()
        #expect(maxAbsDifference(ours, reference) < 1e-7, "\(name)")
    }

    func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.toArray(Double.self), b.toArray(Double.self)).map { Swift.abs($0 - $1) }.max() ?? 0
    }

    @Test("write then read gives the samples back in every encoding")
    func roundTrip() throws {
        let g = RandomGenerator(seed: 5)
        let clip = AudioClip(sampleRate: 12_345, channels: (0..<2).map { _ in (0..<101).map { _ in Float(g.nextDouble() * 1.8 - 0.9) } })
        for (encoding, tolerance) in [(WAVFile.Encoding.pcm8, 1.0 / 128), (.pcm16, 1.0 / 32768), (.pcm24, 1e-6), (.pcm32, 1e-7), (.float32, 0), (.float64, 0)] {
            let back = try WAVFile.decode(WAVFile.encode(clip, encoding: encoding))
            #expect(back.sampleRate == 12_345 && back.channels.count == 2 && back.frameCount == 101)
            let worst = zip(back.channels.flatMap { $0 }, clip.channels.flatMap { $0 }).map { Swift.abs(Double($0) - Double($1)) }.max()!
            #expect(worst <= tolerance, "\(encoding): \(worst)")
        }
        #expect(AudioClip(sampleRate: 8000, channels: [[1, 0.5], [0, -0.5]]).mono == [0.5, 0])
    }

    /// A 16-bit mono header with `data` bytes of samples; `tweak` edits the header.
    func wav(samples: Int = 4, tweak: (inout [UInt8]) -> Void = { _ in }) -> Data {
        var b = [UInt8](WAVFile.encode(AudioClip(mono: [Float](repeating: 0.25, count: samples), sampleRate: 8000)))
        tweak(&b)
        return Data(b)
    }

    @Test("unknown chunks are skipped, odd sizes with their pad byte")
    func chunks() throws {
        var b = [UInt8](wav())
        let list: [UInt8] = Array("LIST".utf8) + [3, 0, 0, 0, 65, 66, 67, 0]   // 3 bytes and a pad byte
        b.insert(contentsOf: list, at: 36)
        let clip = try WAVFile.decode(Data(b))
        #expect(clip.frameCount == 4 && clip.channels[0][0] == 0.25)
    }

    @Test("bad files: one error naming the offset and the problem")
    func badFiles() {
        func message(_ data: Data) -> String {
            do { _ = try WAVFile.decode(data, file: "x.wav"); return "no error" } catch { return error.description }
        }
        #expect(message(Data("RIFX".utf8)) == "x.wav: at byte 0: 4 bytes are too few for a WAV header (12)")
        #expect(message(wav().prefix(50)) == "x.wav: at byte 36: chunk \"data\" declares 8 bytes but only 6 follow (truncated?)")
        #expect(message(wav { $0[24...27] = [0, 0, 0, 0] }) == "x.wav: at byte 24: sample rate 0 is not a usable rate")
        #expect(message(wav { $0[20] = 6 }) == "x.wav: at byte 20: unsupported codec A-law (only PCM and IEEE float)")
        #expect(message(wav { $0[20] = 0x55 }) == "x.wav: at byte 20: unsupported codec MP3 (only PCM and IEEE float)")
        #expect(message(wav { $0[40] = 0xFF; $0[41] = 0xFF }).contains("chunk \"data\" declares 65535 bytes but only 8 follow"))
        #expect(message(wav { $0[40] = 7 }).contains("data of 7 bytes is not a whole number of 2-byte frames"))
        #expect(message(wav { $0[0...3] = [0x4F, 0x67, 0x67, 0x53] }) == "x.wav: at byte 0: not a RIFF file (no \"RIFF\" at the start)")
        #expect(message(wav { $0[12...15] = Array("junk".utf8)[...] }) == "x.wav: at byte 36: the data chunk comes before any fmt chunk")
        #expect(message(wav().prefix(36)) == "x.wav: at byte 36: no data chunk")
    }
}
