import CZlib
import Foundation

/// Reads and writes NumPy's `.npz` archives: a ZIP file of `.npy` members, stored (`np.savez`) or
/// deflated (`np.savez_compressed`), ZIP64 fields included.
///
/// ```swift
/// try NumPyArchive.write(["x": x, "y": y], to: url, compressed: true)
/// let arrays = try NumPyArchive.read(from: url)     // ["x": ..., "y": ...]
/// ```
public enum NumPyArchive {
    /// - Parameters:
    ///   - url: the `.npz` file (stored or deflated members).
    public static func read(from url: URL) throws(TensorFileError) -> [String: Tensor] {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw TensorFileError(file: url.path, "cannot read: \(error.localizedDescription)")
        }
        return try decode(data, file: url.path)
    }

    /// Decodes `.npz` bytes.
    public static func decode(_ data: Data, file: String = "<data>") throws(TensorFileError) -> [String: Tensor] {
        let r = ByteReader(data, file: file)
        // The end-of-central-directory record is in the last 65,557 bytes.
        var eocd = -1
        var i = data.count - 22
        while i >= Swift.max(0, data.count - 65_557) {
            if try r.uint(at: i, 4) == 0x0605_4B50 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw TensorFileError(file: file, "not a ZIP archive (no end-of-central-directory record)") }
        var entries = Int(try r.uint(at: eocd + 10, 2))
        var cdSize = Int(try r.uint(at: eocd + 12, 4)), cdOffset = Int(try r.uint(at: eocd + 16, 4))
        if entries == 0xFFFF || cdOffset == 0xFFFF_FFFF || cdSize == 0xFFFF_FFFF {
            // ZIP64: the locator sits just before the end record.
            guard eocd >= 20, try r.uint(at: eocd - 20, 4) == 0x0706_4B50 else { throw r.error("ZIP64 locator missing", at: eocd) }
            let z64 = try r.uint(at: eocd - 12, 8)
            guard z64 < UInt64(data.count), try r.uint(at: Int(z64), 4) == 0x0606_4B50 else { throw r.error("bad ZIP64 end record", at: eocd - 12) }
            entries = Int(clamping: try r.uint(at: Int(z64) + 32, 8))
            cdSize = Int(clamping: try r.uint(at: Int(z64) + 40, 8))
            cdOffset = Int(clamping: try r.uint(at: Int(z64) + 48, 8))
        }
        guard cdOffset >= 0, cdSize >= 0, cdOffset <= data.count, cdSize <= data.count - cdOffset, entries <= cdSize / 46 else {
            throw r.error("the central directory (\(entries) entries, \(cdSize) bytes at \(cdOffset)) does not fit the file", at: eocd)
        }
        var out: [String: Tensor] = [:]
        var p = cdOffset
        for _ in 0..<entries {
            guard try r.uint(at: p, 4) == 0x0201_4B50 else { throw r.error("bad central directory entry", at: p) }
            let method = try r.uint(at: p + 10, 2)
            let crc = UInt32(try r.uint(at: p + 16, 4))
            var compressed = try r.uint(at: p + 20, 4), size = try r.uint(at: p + 24, 4)
            let nameLength = Int(try r.uint(at: p + 28, 2)), extraLength = Int(try r.uint(at: p + 30, 2)), commentLength = Int(try r.uint(at: p + 32, 2))
            var local = try r.uint(at: p + 42, 4)
            var reader = r
            reader.offset = p + 46
            let nameData = try reader.bytes(nameLength)
            guard let name = String(data: nameData, encoding: .utf8) else { throw r.error("member name is not UTF-8", at: p + 46) }
            // ZIP64 extra field: the 0xFFFFFFFF fields follow in order.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = try r.uint(at: e, 2), len = Int(try r.uint(at: e + 2, 2))
                if id == 1 {
                    var q = e + 4
                    if size == 0xFFFF_FFFF { size = try r.uint(at: q, 8); q += 8 }
                    if compressed == 0xFFFF_FFFF { compressed = try r.uint(at: q, 8); q += 8 }
                    if local == 0xFFFF_FFFF { local = try r.uint(at: q, 8) }
                }
                e += 4 + len
            }
            p = extraEnd + commentLength
            guard local < UInt64(data.count), try r.uint(at: Int(local), 4) == 0x0403_4B50 else {
                throw r.error("member \(name): bad local header", at: Int(clamping: local))
            }
            let dataStart = Int(local) + 30 + Int(try r.uint(at: Int(local) + 26, 2)) + Int(try r.uint(at: Int(local) + 28, 2))
            guard compressed <= UInt64(data.count), dataStart <= data.count - Int(compressed) else {
                throw r.error("member \(name): \(compressed) bytes of data run past the end of the file", at: dataStart)
            }
            // Deflate cannot expand more than 1032:1, so a larger claim is a lie (and a huge allocation).
            let plausible = method == 0 ? compressed : compressed * 1032 + 1024
            guard size <= plausible else { throw r.error("member \(name): claims \(size) bytes uncompressed from \(compressed)", at: p) }
            let raw = data[(data.startIndex + dataStart)..<(data.startIndex + dataStart + Int(compressed))]
            let member: Data
            switch method {
            case 0: member = Data(raw)
            case 8: member = try inflate(raw, expectedSize: Int(size), file: file, name: name, offset: dataStart)
            default: throw r.error("member \(name): unsupported compression method \(method)", at: p)
            }
            guard member.count == Int(size) else { throw r.error("member \(name): \(member.count) bytes, expected \(size)", at: dataStart) }
            guard crc32(member) == crc else { throw r.error("member \(name): CRC mismatch (corrupt data)", at: dataStart) }
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            out[key] = try NumPyFile.decode(member, file: "\(file)/\(name)")
        }
        return out
    }

    /// The `.npz` bytes of `arrays`, stored or deflated.
    public static func encode(_ arrays: [String: Tensor], compressed: Bool = false) -> Data {
        var out = Data(), central = Data()
        var count = 0
        for name in arrays.keys.sorted() {
            let member = NumPyFile.encode(arrays[name]!)
            let stored = compressed ? deflate(member) : member
            let method: UInt16 = compressed ? 8 : 0
            let crc = crc32(member)
            let fileName = Data((name + ".npy").utf8)
            let offset = out.count
            func common(_ d: inout Data) {
                d.appendLittleEndian(UInt16(20))          // version needed
                d.appendLittleEndian(UInt16(0x0800))      // flags: UTF-8 names
                d.appendLittleEndian(method)
                d.appendLittleEndian(UInt16(0))           // time
                d.appendLittleEndian(UInt16(0x21))        // date: 1980-01-01
                d.appendLittleEndian(crc)
                d.appendLittleEndian(UInt32(stored.count))
                d.appendLittleEndian(UInt32(member.count))
                d.appendLittleEndian(UInt16(fileName.count))
                d.appendLittleEndian(UInt16(0))           // extra length
            }
            out.appendLittleEndian(UInt32(0x0403_4B50))
            common(&out)
            out.append(fileName)
            out.append(stored)
            central.appendLittleEndian(UInt32(0x0201_4B50))
            central.appendLittleEndian(UInt16(20))        // version made by
            common(&central)
            central.appendLittleEndian(UInt16(0))         // comment length
            central.appendLittleEndian(UInt16(0))         // disk
            central.appendLittleEndian(UInt16(0))         // internal attributes
            central.appendLittleEndian(UInt32(0))         // external attributes
            central.appendLittleEndian(UInt32(offset))
            central.append(fileName)
            count += 1
        }
        let cdOffset = out.count
        out.append(central)
        out.appendLittleEndian(UInt32(0x0605_4B50))
        out.appendLittleEndian(UInt16(0))
        out.appendLittleEndian(UInt16(0))
        out.appendLittleEndian(UInt16(count))
        out.appendLittleEndian(UInt16(count))
        out.appendLittleEndian(UInt32(central.count))
        out.appendLittleEndian(UInt32(cdOffset))
        out.appendLittleEndian(UInt16(0))
        return out
    }

    /// Writes `arrays` to `url` atomically (`compressed` as `np.savez_compressed`).
    /// - Parameters:
    ///   - arrays: arrays by member name.
    ///   - url: the file, replaced atomically.
    ///   - compressed: deflate the members (as `numpy.savez_compressed`).
    public static func write(_ arrays: [String: Tensor], to url: URL, compressed: Bool = false) throws(TensorFileError) {
        try AtomicFile.write(encode(arrays, compressed: compressed), to: url)
    }

    // MARK: zlib

    static func crc32(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { raw in
            var crc: uLong = CZlib.crc32(0, nil, 0)
            var offset = 0
            while offset < raw.count {
                let n = Swift.min(raw.count - offset, Int(UInt32.max / 2))
                crc = CZlib.crc32(crc, raw.baseAddress!.assumingMemoryBound(to: Bytef.self) + offset, uInt(n))
                offset += n
            }
            return UInt32(truncatingIfNeeded: crc)
        }
    }

    static func deflate(_ data: Data) -> Data {
        var stream = z_stream()
        deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(data.count)))
        var out = Data(count: bound)
        let produced: Int = data.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(src.count)
                stream.next_out = dst.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(dst.count)
                CZlib.deflate(&stream, Z_FINISH)
                return Int(stream.total_out)
            }
        }
        out.count = produced
        return out
    }

    static func inflate(_ data: Data, expectedSize: Int, file: String, name: String, offset: Int) throws(TensorFileError) -> Data {
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw TensorFileError(file: file, offset: offset, "member \(name): cannot start zlib")
        }
        defer { inflateEnd(&stream) }
        var out = Data(count: expectedSize)
        let status: Int32 = data.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(src.count)
                stream.next_out = dst.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(dst.count)
                return CZlib.inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == expectedSize else {
            throw TensorFileError(file: file, offset: offset, "member \(name): corrupt deflate data (zlib status \(status))")
        }
        return out
    }
}
