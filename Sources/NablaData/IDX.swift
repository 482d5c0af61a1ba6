import CZlib
import Foundation
import Nabla

/// Reads IDX files (the MNIST format: a big-endian header `0 0 type rank`, one big-endian 32-bit size
/// per dimension, then the data), plain or gzip-compressed, with every header field checked.
///
/// ```swift
/// let images = try IDX.read(path: "train-images-idx3-ubyte.gz")   // [60000, 28, 28] int32 0...255
/// ```
public enum IDX {
    /// Files larger than this after decompression are refused (MNIST's largest is 47 MB).
    public static let maxBytes = 1 << 31

    public static func read(path: String) throws(DataError) -> Tensor {
        guard FileManager.default.fileExists(atPath: path) else { throw .fileNotFound(path: path) }
        guard let raw = FileManager.default.contents(atPath: path) else { throw .unreadable(path: path, reason: "cannot open") }
        return try decode(raw, source: path)
    }

    /// Decodes IDX bytes, gunzipping them first when they start with the gzip magic.
    public static func decode(_ raw: Data, source: String) throws(DataError) -> Tensor {
        let data = raw.count >= 2 && raw[raw.startIndex] == 0x1F && raw[raw.startIndex + 1] == 0x8B ? try gunzip(raw, source: source) : raw
        func u32(_ at: Int) -> Int {
            let i = data.startIndex + at
            return Int(data[i]) << 24 | Int(data[i + 1]) << 16 | Int(data[i + 2]) << 8 | Int(data[i + 3])
        }
        guard data.count >= 4 else { throw .malformed(path: source, line: 0, reason: "at byte 0: \(data.count) bytes, too short for an IDX header") }
        let b = data.startIndex
        guard data[b] == 0, data[b + 1] == 0 else { throw .malformed(path: source, line: 0, reason: "at byte 0: bad magic (not an IDX file)") }
        let type = data[b + 2], rank = Int(data[b + 3])
        let sizes: [UInt8: Int] = [0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8]
        guard let size = sizes[type] else { throw .malformed(path: source, line: 0, reason: "at byte 2: unknown element type 0x\(String(type, radix: 16))") }
        guard rank >= 1, rank <= 8, data.count >= 4 + 4 * rank else {
            throw .malformed(path: source, line: 0, reason: "at byte 3: rank \(rank) with \(data.count) bytes of file")
        }
        let shape = (0..<rank).map { u32(4 + 4 * $0) }
        var count = 1
        for d in shape {
            let (m, o) = count.multipliedReportingOverflow(by: d)
            guard !o, m <= maxBytes else { throw .malformed(path: source, line: 0, reason: "at byte 4: shape \(shape) is too large") }
            count = m
        }
        let start = 4 + 4 * rank
        guard data.count - start == count * size else {
            throw .malformed(path: source, line: 0, reason: "at byte \(start): \(data.count - start) bytes of data for shape \(shape), expected \(count * size) (truncated?)")
        }
        let values: [Int32] = data.withUnsafeBytes { p -> [Int32] in
            (0..<count).map { i -> Int32 in
                let o = start + i * size
                switch type {
                case 0x08: return Int32(p[o])
                case 0x09: return Int32(Int8(bitPattern: p[o]))
                case 0x0B: return Int32(Int16(bitPattern: UInt16(p[o]) << 8 | UInt16(p[o + 1])))
                case 0x0C: return Int32(bitPattern: UInt32(p[o]) << 24 | UInt32(p[o + 1]) << 16 | UInt32(p[o + 2]) << 8 | UInt32(p[o + 3]))
                default:   // floats and doubles are rare in IDX; keep their integer part (NaN as 0)
                    let d: Double
                    if size == 4 {
                        d = Double(Float(bitPattern: UInt32(p[o]) << 24 | UInt32(p[o + 1]) << 16 | UInt32(p[o + 2]) << 8 | UInt32(p[o + 3])))
                    } else {
                        var bits: UInt64 = 0
                        for k in 0..<8 { bits = bits << 8 | UInt64(p[o + k]) }
                        d = Double(bitPattern: bits)
                    }
                    // Clamp before converting: Int(_:) traps on NaN and on values beyond its range.
                    guard !d.isNaN else { return 0 }
                    return Int32(Swift.min(Swift.max(d.rounded(.towardZero), Double(Int32.min)), Double(Int32.max)))
                }
            }
        }
        return Tensor(shape: shape, values: values)
    }

    static func gunzip(_ data: Data, source: String) throws(DataError) -> Data {
        var stream = z_stream()
        guard inflateInit2_(&stream, 16 + 15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .unreadable(path: source, reason: "cannot start zlib")
        }
        defer { inflateEnd(&stream) }
        var out = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var status: Int32 = Z_OK
        data.withUnsafeBytes { src in
            stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(src.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { buf in
                    stream.next_out = buf.baseAddress
                    stream.avail_out = uInt(buf.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    out.append(buf.baseAddress!, count: buf.count - Int(stream.avail_out))
                }
            } while status == Z_OK && out.count <= maxBytes
        }
        guard status == Z_STREAM_END else {
            throw .malformed(path: source, line: 0, reason: "at byte \(stream.total_in): corrupt or truncated gzip data (zlib status \(status))")
        }
        return out
    }
}

/// MNIST and Fashion-MNIST from their four IDX files.
///
/// ```swift
/// let mnist = try MNIST(directory: "../shared/data/mnist")
/// mnist.trainImages.shape   // [60000, 28, 28, 1], float32 in [0, 1]
/// ```
public struct MNIST: Sendable {
    public let trainImages: Tensor, trainLabels: Tensor, testImages: Tensor, testLabels: Tensor

    /// Where a data set is looked for when no folder is given: `NABLA_DATA`, `../shared/data` and
    /// `./data` for both; Debian's `dataset-fashion-mnist` package for Fashion-MNIST.
    public static func searchPaths(for name: String) -> [String] {
        var paths: [String] = []
        if let env = ProcessInfo.processInfo.environment["NABLA_DATA"] { paths.append("\(env)/\(name)") }
        paths += ["../shared/data/\(name)", "data/\(name)"]
        if name == "fashion-mnist" { paths.append("/usr/share/datasets/fashion-mnist") }
        return paths
    }

    static let files = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]

    /// Loads the four files from `directory` (each `.gz` or plain); images scaled to [0, 1].
    public init(directory: String) throws(DataError) {
        func find(_ base: String) throws(DataError) -> String {
            for candidate in ["\(directory)/\(base).gz", "\(directory)/\(base)"] where FileManager.default.fileExists(atPath: candidate) {
                return candidate
            }
            throw .fileNotFound(path: "\(directory)/\(base).gz")
        }
        let t = try Self.files.map { (f: String) throws(DataError) -> Tensor in try IDX.read(path: try find(f)) }
        func images(_ x: Tensor, _ file: String) throws(DataError) -> Tensor {
            guard x.rank == 3 else { throw .invalid("\(directory)/\(file): images must be [count, rows, columns], got \(x.shape)") }
            return (x.cast(to: .float32) * (1.0 / 255)).reshaped(x.shape + [1])
        }
        trainImages = try images(t[0], Self.files[0])
        trainLabels = t[1]
        testImages = try images(t[2], Self.files[2])
        testLabels = t[3]
        guard trainLabels.shape == [trainImages.shape[0]], testLabels.shape == [testImages.shape[0]] else {
            throw .invalid("\(directory): \(trainImages.shape[0]) training images but labels \(trainLabels.shape); \(testImages.shape[0]) test images but labels \(testLabels.shape)")
        }
    }

    /// Finds and loads data set `name` ("mnist" or "fashion-mnist"), or explains where it was looked
    /// for and where to get it.
    public static func load(_ name: String, directory: String? = nil) throws(DataError) -> MNIST {
        let candidates = directory.map { [$0] } ?? searchPaths(for: name)
        for dir in candidates where FileManager.default.fileExists(atPath: "\(dir)/train-images-idx3-ubyte.gz") || FileManager.default.fileExists(atPath: "\(dir)/train-images-idx3-ubyte") {
            return try MNIST(directory: dir)
        }
        let source = name == "fashion-mnist"
            ? "get it from https://github.com/zalandoresearch/fashion-mnist or `apt install dataset-fashion-mnist`"
            : "get the four IDX files from http://yann.lecun.com/exdb/mnist/"
        throw .invalid("\(name): no data found in \(candidates.joined(separator: ", ")); \(source), or pass --data-dir")
    }
}
