import Foundation

/// Sound in memory: each channel's samples as floats in [−1, 1] at `sampleRate` samples per second.
///
/// ```swift
/// let clip = try WAVFile.read(from: URL(fileURLWithPath: "0_george_0.wav"))
/// let mono = clip.mono                       // channels averaged
/// let x = clip.monoTensor                    // [frames] float32
/// ```
public struct AudioClip: Equatable, Sendable {
    public var sampleRate: Int
    /// One array per channel, all of one length.
    public var channels: [[Float]]

    /// - Parameters:
    ///   - sampleRate: samples per second (positive).
    ///   - channels: each channel's samples, all of one length.
    public init(sampleRate: Int, channels: [[Float]]) {
        nablaPrecondition(sampleRate > 0, "AudioClip: the sample rate must be positive, got \(sampleRate)")
        nablaPrecondition(!channels.isEmpty && channels.allSatisfy { $0.count == channels[0].count },
                          "AudioClip: needs at least one channel, all of one length")
        self.sampleRate = sampleRate
        self.channels = channels
    }

    /// A one-channel clip.
    /// - Parameters:
    ///   - samples: the samples.
    ///   - sampleRate: samples per second.
    public init(mono samples: [Float], sampleRate: Int) { self.init(sampleRate: sampleRate, channels: [samples]) }

    /// Samples per channel.
    public var frameCount: Int { channels[0].count }
    /// Length in seconds.
    public var duration: Double { Double(frameCount) / Double(sampleRate) }

    /// The channels averaged into one (the samples themselves for a mono clip).
    public var mono: [Float] {
        guard channels.count > 1 else { return channels[0] }
        let scale = 1 / Float(channels.count)
        return (0..<frameCount).map { i in channels.reduce(0) { $0 + $1[i] } * scale }
    }

    /// The mono samples as a [frames] float32 tensor.
    public var monoTensor: Tensor { Tensor(shape: [frameCount], values: mono) }
}

/// RIFF/WAVE files: PCM 8-bit unsigned and 16/24/32-bit signed, IEEE float 32/64-bit, plain or
/// `WAVE_FORMAT_EXTENSIBLE`, any sample rate and channel count. Chunks other than `fmt ` and `data`
/// (LIST, fact, cue, ...) are skipped, odd-sized chunks with their pad byte. A truncated, inconsistent or
/// hostile file is a ``TensorFileError`` naming the file, the byte offset and the problem.
///
/// ```swift
/// let clip = try WAVFile.read(from: URL(fileURLWithPath: "speech.wav"))
/// try WAVFile.write(clip, to: URL(fileURLWithPath: "copy.wav"), encoding: .pcm16)
/// ```
public enum WAVFile {
    /// How samples are stored.
    public enum Encoding: Equatable, Sendable {
        case pcm8, pcm16, pcm24, pcm32, float32, float64

        var bits: Int {
            switch self {
            case .pcm8: 8
            case .pcm16: 16
            case .pcm24: 24
            case .pcm32, .float32: 32
            case .float64: 64
            }
        }
        var isFloat: Bool { self == .float32 || self == .float64 }
    }

    /// Reads a WAV file.
    /// - Parameters:
    ///   - url: the file.
    public static func read(from url: URL) throws(TensorFileError) -> AudioClip {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TensorFileError(file: url.path, "cannot be read: \(error.localizedDescription)")
        }
        return try decode(data, file: url.path)
    }

    /// Decodes the bytes of a WAV file; `file` names it in errors.
    /// - Parameters:
    ///   - data: the whole file.
    ///   - file: the name errors give it.
    public static func decode(_ data: Data, file: String = "<wav>") throws(TensorFileError) -> AudioClip {
        var r = ByteReader(data, file: file)
        guard data.count >= 12 else { throw r.error("\(data.count) bytes are too few for a WAV header (12)", at: 0) }
        guard try r.bytes(4) == Data("RIFF".utf8) else { throw r.error("not a RIFF file (no \"RIFF\" at the start)", at: 0) }
        _ = try r.uint(4)   // RIFF size: often wrong in the wild; the chunks are checked instead
        guard try r.bytes(4) == Data("WAVE".utf8) else { throw r.error("a RIFF file, but not WAVE", at: 8) }
        var format: (encoding: Encoding, channels: Int, rate: Int, blockAlign: Int)?
        while r.remaining >= 8 {
            let start = r.offset
            let id = String(decoding: try r.bytes(4), as: UTF8.self)
            let size = Int(try r.uint(4))
            guard size <= r.remaining else {
                throw r.error("chunk \"\(id)\" declares \(size) bytes but only \(r.remaining) follow (truncated?)", at: start)
            }
            switch id {
            case "fmt ":
                format = try readFormat(&r, size: size, at: start)
            case "data":
                guard let format else { throw r.error("the data chunk comes before any fmt chunk", at: start) }
                return try samples(try r.bytes(size), format, file: file, at: start + 8)
            default:
                _ = try r.bytes(size)
            }
            if size % 2 == 1 && r.remaining > 0 { _ = try r.bytes(1) }   // pad byte of an odd-sized chunk
        }
        throw r.error(format == nil ? "no fmt chunk" : "no data chunk", at: r.offset)
    }

    private static func readFormat(_ r: inout ByteReader, size: Int, at start: Int) throws(TensorFileError) -> (Encoding, Int, Int, Int) {
        guard size >= 16 else { throw r.error("fmt chunk of \(size) bytes is shorter than 16", at: start) }
        let body = r.offset
        var tag = Int(try r.uint(2))
        let channels = Int(try r.uint(2)), rate = Int(try r.uint(4))
        _ = try r.uint(4)   // byte rate
        let blockAlign = Int(try r.uint(2)), bits = Int(try r.uint(2))
        if tag == 0xFFFE {
            guard size >= 40 else { throw r.error("WAVE_FORMAT_EXTENSIBLE fmt chunk of \(size) bytes is shorter than 40", at: start) }
            _ = try r.uint(2)   // cbSize
            _ = try r.uint(2)   // valid bits
            _ = try r.uint(4)   // channel mask
            tag = Int(try r.uint(2))   // the sub-format GUID begins with the format tag
            _ = try r.bytes(14)
        }
        _ = try r.bytes(size - (r.offset - body))
        let names = [2: "ADPCM", 6: "A-law", 7: "µ-law", 0x11: "IMA ADPCM", 0x31: "GSM 6.10", 0x50: "MPEG", 0x55: "MP3"]
        guard tag == 1 || tag == 3 else {
            throw r.error("unsupported codec \(names[tag] ?? "format \(tag)") (only PCM and IEEE float)", at: body)
        }
        guard channels >= 1 && channels <= 256 else { throw r.error("\(channels) channels", at: body + 2) }
        guard rate >= 1 && rate <= 10_000_000 else { throw r.error("sample rate \(rate) is not a usable rate", at: body + 4) }
        let encoding: Encoding
        switch (tag, bits) {
        case (1, 8): encoding = .pcm8
        case (1, 16): encoding = .pcm16
        case (1, 24): encoding = .pcm24
        case (1, 32): encoding = .pcm32
        case (3, 32): encoding = .float32
        case (3, 64): encoding = .float64
        default: throw r.error("unsupported \(tag == 1 ? "PCM" : "float") sample size of \(bits) bits", at: body + 14)
        }
        guard blockAlign == channels * bits / 8 else {
            throw r.error("block align \(blockAlign) does not match \(channels) channels of \(bits) bits", at: body + 12)
        }
        return (encoding, channels, rate, blockAlign)
    }

    private static func samples(_ bytes: Data, _ f: (encoding: Encoding, channels: Int, rate: Int, blockAlign: Int), file: String,
                                at offset: Int) throws(TensorFileError) -> AudioClip {
        guard bytes.count % f.blockAlign == 0 else {
            throw TensorFileError(file: file, offset: offset,
                                  "data of \(bytes.count) bytes is not a whole number of \(f.blockAlign)-byte frames (truncated?)")
        }
        let frames = bytes.count / f.blockAlign, width = f.encoding.bits / 8
        var channels = [[Float]](repeating: [Float](repeating: 0, count: frames), count: f.channels)
        bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            for c in 0..<f.channels {
                channels[c].withUnsafeMutableBufferPointer { out in
                    for i in 0..<frames {
                        let o = i * f.blockAlign + c * width
                        out[i] = sample(raw, o, f.encoding)
                    }
                }
            }
        }
        return AudioClip(sampleRate: f.rate, channels: channels)
    }

    @inline(__always)
    private static func sample(_ p: UnsafeRawBufferPointer, _ o: Int, _ e: Encoding) -> Float {
        switch e {
        case .pcm8: return (Float(p[o]) - 128) / 128
        case .pcm16: return Float(Int16(bitPattern: UInt16(p[o]) | UInt16(p[o + 1]) << 8)) / 32768
        case .pcm24:
            let v = Int32(bitPattern: (UInt32(p[o]) << 8 | UInt32(p[o + 1]) << 16 | UInt32(p[o + 2]) << 24)) >> 8
            return Float(v) / 8_388_608
        case .pcm32:
            let v = Int32(bitPattern: UInt32(p[o]) | UInt32(p[o + 1]) << 8 | UInt32(p[o + 2]) << 16 | UInt32(p[o + 3]) << 24)
            return Float(Double(v) / 2_147_483_648)
        case .float32:
            return Float(bitPattern: UInt32(p[o]) | UInt32(p[o + 1]) << 8 | UInt32(p[o + 2]) << 16 | UInt32(p[o + 3]) << 24)
        case .float64:
            var bits: UInt64 = 0
            for k in 0..<8 { bits |= UInt64(p[o + k]) << (8 * UInt64(k)) }
            return Float(Double(bitPattern: bits))
        }
    }

    /// The bytes of a WAV file holding `clip` (PCM samples are clipped to [−1, 1] and rounded).
    /// - Parameters:
    ///   - clip: the sound.
    ///   - encoding: how samples are stored (16-bit PCM by default).
    public static func encode(_ clip: AudioClip, encoding: Encoding = .pcm16) -> Data {
        let width = encoding.bits / 8, blockAlign = width * clip.channels.count
        let dataBytes = blockAlign * clip.frameCount
        var out = Data()
        out.append(contentsOf: Array("RIFF".utf8))
        out.appendLittleEndian(UInt32(36 + dataBytes + dataBytes % 2))
        out.append(contentsOf: Array("WAVEfmt ".utf8))
        out.appendLittleEndian(UInt32(16))
        out.appendLittleEndian(UInt16(encoding.isFloat ? 3 : 1))
        out.appendLittleEndian(UInt16(clip.channels.count))
        out.appendLittleEndian(UInt32(clip.sampleRate))
        out.appendLittleEndian(UInt32(clip.sampleRate * blockAlign))
        out.appendLittleEndian(UInt16(blockAlign))
        out.appendLittleEndian(UInt16(encoding.bits))
        out.append(contentsOf: Array("data".utf8))
        out.appendLittleEndian(UInt32(dataBytes))
        out.reserveCapacity(out.count + dataBytes + 1)
        for i in 0..<clip.frameCount {
            for channel in clip.channels {
                let x = channel[i], c = Swift.min(Swift.max(Double(x), -1), 1)
                switch encoding {
                case .pcm8: out.append(UInt8(Swift.min(255, Swift.max(0, (c * 128 + 128).rounded()))))
                case .pcm16: out.appendLittleEndian(Int16(Swift.min(32767, (c * 32768).rounded())))
                case .pcm24:
                    let v = Int32(Swift.min(8_388_607, (c * 8_388_608).rounded()))
                    out.append(contentsOf: [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v >> 16)])
                case .pcm32: out.appendLittleEndian(Int32(Swift.min(2_147_483_647, (c * 2_147_483_648).rounded())))
                case .float32: out.appendLittleEndian(x.bitPattern)
                case .float64: out.appendLittleEndian(Double(x).bitPattern)
                }
            }
        }
        if dataBytes % 2 == 1 { out.append(0) }
        return out
    }

    /// Writes `clip` as a WAV file, atomically.
    /// - Parameters:
    ///   - clip: the sound.
    ///   - url: the file.
    ///   - encoding: how samples are stored (16-bit PCM by default).
    public static func write(_ clip: AudioClip, to url: URL, encoding: Encoding = .pcm16) throws(TensorFileError) {
        try AtomicFile.write(encode(clip, encoding: encoding), to: url)
    }
}
