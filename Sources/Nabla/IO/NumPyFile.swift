import Foundation

/// Reads and writes NumPy's `.npy` format (versions 1.0, 2.0 and 3.0): a magic string, a version,
/// a header that is a Python dict literal (`descr`, `fortran_order`, `shape`), then the raw data.
///
/// ```swift
/// try NumPyFile.write(x, to: URL(fileURLWithPath: "x.npy"))
/// let y = try NumPyFile.read(from: URL(fileURLWithPath: "x.npy"))
/// ```
public enum NumPyFile {
    static let magic = Data([0x93] + Array("NUMPY".utf8))

    /// - Parameters:
    ///   - url: the `.npy` file.
    public static func read(from url: URL) throws(TensorFileError) -> Tensor {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw TensorFileError(file: url.path, "cannot read: \(error.localizedDescription)")
        }
        return try decode(data, file: url.path)
    }

    /// Decodes `.npy` bytes (`file` names the source in errors).
    public static func decode(_ data: Data, file: String = "<data>") throws(TensorFileError) -> Tensor {
        var r = ByteReader(data, file: file)
        guard try r.bytes(6) == magic else { throw r.error("not a .npy file (bad magic)", at: 0) }
        let major = try r.uint(1), minor = try r.uint(1)
        guard (1...3).contains(major), minor == 0 else { throw r.error("unsupported .npy version \(major).\(minor)", at: 6) }
        let headerLength = Int(try r.uint(major == 1 ? 2 : 4))
        let headerStart = r.offset
        let headerBytes = try r.bytes(headerLength)
        guard let header = String(data: headerBytes, encoding: major == 3 ? .utf8 : .ascii) else {
            throw r.error("the header is not \(major == 3 ? "UTF-8" : "ASCII")", at: headerStart)
        }
        let parsed = try parseHeader(header, file: file, offset: headerStart)
        let shape = try validatedShape(parsed.shape, elementSize: parsed.type.byteSize, limitBytes: r.remaining, file: file,
                                       offset: headerStart, name: "array")
        let bytes = try r.bytes(Shape.elementCount(shape) * parsed.type.byteSize)
        if parsed.fortranOrder && shape.count > 1 {
            // Column-major data is the row-major data of the reversed shape, transposed back.
            let t = try Tensor.decode(bytes, type: parsed.type, shape: shape.reversed(), littleEndian: parsed.littleEndian, file: file, offset: r.offset)
            return t.permuted(Array((0..<shape.count).reversed())).detached()
        }
        return try Tensor.decode(bytes, type: parsed.type, shape: shape, littleEndian: parsed.littleEndian, file: file, offset: headerStart + headerLength)
    }

    /// The `.npy` bytes of `tensor` (version 1.0, or 2.0 if the header needs it).
    public static func encode(_ tensor: Tensor) -> Data {
        let descr: String = switch tensor.dtype {
        case .float32: "<f4"
        case .float64: "<f8"
        case .int32: "<i4"
        case .bool: "|b1"
        }
        let shape = tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        let version: UInt8 = header.utf8.count + 11 < 65536 ? 1 : 2
        let prefix = 6 + 2 + (version == 1 ? 2 : 4)
        while (prefix + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out = magic
        out.append(version)
        out.append(0)
        if version == 1 { out.appendLittleEndian(UInt16(header.utf8.count)) } else { out.appendLittleEndian(UInt32(header.utf8.count)) }
        out.append(Data(header.utf8))
        out.append(tensor.littleEndianBytes)
        return out
    }

    /// Writes `tensor` to `url` atomically.
    /// - Parameters:
    ///   - tensor: the array to write.
    ///   - url: the file, replaced atomically.
    public static func write(_ tensor: Tensor, to url: URL) throws(TensorFileError) {
        try AtomicFile.write(encode(tensor), to: url)
    }

    // MARK: Header

    struct Header {
        var type: FileElementType
        var littleEndian: Bool
        var fortranOrder: Bool
        var shape: [Int]
    }

    /// Parses the dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
    static func parseHeader(_ text: String, file: String, offset: Int) throws(TensorFileError) -> Header {
        func fail(_ m: String) -> TensorFileError { TensorFileError(file: file, offset: offset, m) }
        func value(after key: String) -> Substring? {
            for quote in ["'", "\""] {
                if let r = text.range(of: "\(quote)\(key)\(quote)") {
                    var rest = text[r.upperBound...].drop { $0 == " " }
                    guard rest.first == ":" else { return nil }
                    rest = rest.dropFirst().drop { $0 == " " }
                    return rest
                }
            }
            return nil
        }
        guard let d = value(after: "descr"), let q = d.first, q == "'" || q == "\"", let end = d.dropFirst().firstIndex(of: q) else {
            throw fail("the header has no descr: \(text.prefix(80))")
        }
        let descr = String(d[d.index(after: d.startIndex)..<end])
        guard descr.count >= 3 else { throw fail("unsupported descr '\(descr)'") }
        let order = descr.first!
        let code = String(descr.dropFirst())
        let types: [String: FileElementType] = ["f4": .float32, "f8": .float64, "f2": .float16, "i4": .int32, "i8": .int64,
                                                "i2": .int16, "i1": .int8, "u1": .uint8, "b1": .bool]
        guard "<>|=".contains(order), let type = types[code] else {
            throw fail("unsupported descr '\(descr)' (Nabla reads f2, f4, f8, i1, i2, i4, i8, u1 and b1)")
        }
        guard let f = value(after: "fortran_order") else { throw fail("the header has no fortran_order") }
        let fortran: Bool
        if f.hasPrefix("True") { fortran = true } else if f.hasPrefix("False") { fortran = false } else { throw fail("fortran_order is neither True nor False") }
        guard let s = value(after: "shape"), s.first == "(", let close = s.firstIndex(of: ")") else { throw fail("the header has no shape tuple") }
        let inside = s[s.index(after: s.startIndex)..<close]
        var shape: [Int] = []
        for part in inside.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let n = Int(trimmed.hasSuffix("L") ? String(trimmed.dropLast()) : trimmed) else { throw fail("shape entry '\(trimmed)' is not an integer") }
            shape.append(n)
        }
        return Header(type: type, littleEndian: order != ">", fortranOrder: fortran, shape: shape)
    }
}
