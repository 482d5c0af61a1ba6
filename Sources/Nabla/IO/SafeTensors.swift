import Foundation

/// Reads and writes the safetensors format (Hugging Face's): an 8-byte little-endian header length,
/// a JSON header naming each tensor's dtype, shape and data offsets (plus optional `__metadata__`
/// strings), then the raw little-endian data. Files written here load in Python's `safetensors`,
/// and files from PyTorch load here; every rule of the format is checked when reading.
///
/// ```swift
/// try SafeTensors.write(["weight": w, "bias": b], metadata: ["format": "pt"], to: url)
/// let (tensors, metadata) = try SafeTensors.read(from: url)
/// ```
public enum SafeTensors {
    /// Headers larger than this are refused (the reference implementation's limit is 100 MB).
    public static let maxHeaderBytes = 100_000_000

    static let dtypeNames: [String: FileElementType] = [
        "F32": .float32, "F64": .float64, "F16": .float16, "BF16": .bfloat16, "I32": .int32, "I64": .int64,
        "I16": .int16, "I8": .int8, "U8": .uint8, "BOOL": .bool,
    ]

    static func name(for dtype: DType) -> String {
        switch dtype {
        case .float32: "F32"
        case .float64: "F64"
        case .int32: "I32"
        case .bool: "BOOL"
        }
    }

    /// Reads every tensor and the metadata of the file at `url`.
    /// - Parameters:
    ///   - url: the `.safetensors` file.
    public static func read(from url: URL) throws(TensorFileError) -> (tensors: [String: Tensor], metadata: [String: String]) {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw TensorFileError(file: url.path, "cannot read: \(error.localizedDescription)")
        }
        return try decode(data, file: url.path)
    }

    /// Decodes safetensors bytes (`file` names the source in errors).
    public static func decode(_ data: Data, file: String = "<data>") throws(TensorFileError) -> (tensors: [String: Tensor], metadata: [String: String]) {
        var reader = ByteReader(data, file: file)
        let headerLength = try reader.uint(8)
        guard headerLength <= UInt64(maxHeaderBytes), headerLength <= UInt64(reader.remaining) else {
            throw reader.error("header length \(headerLength) exceeds \(headerLength > UInt64(reader.remaining) ? "the file size \(data.count)" : "the limit of \(maxHeaderBytes) bytes")", at: 0)
        }
        let headerBytes = try reader.bytes(Int(headerLength))
        guard let headerText = String(data: headerBytes, encoding: .utf8) else { throw reader.error("the header is not UTF-8", at: 8) }
        guard headerText.first == "{" else { throw reader.error("the header is not a JSON object", at: 8) }
        try checkNesting(headerBytes, file: file)
        guard let json = try? JSONSerialization.jsonObject(with: headerBytes), let header = json as? [String: Any] else {
            throw reader.error("the header is not valid JSON", at: 8)
        }
        let dataStart = 8 + Int(headerLength)
        let dataLength = data.count - dataStart
        var metadata: [String: String] = [:]
        var entries: [(name: String, type: FileElementType, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw reader.error("__metadata__ must map strings to strings", at: 8) }
                for (k, v) in m {
                    guard let s = v as? String else { throw reader.error("__metadata__ value for \"\(k)\" is not a string", at: 8) }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any] else { throw reader.error("tensor \"\(name)\": entry is not an object", at: 8) }
            guard let dtypeName = info["dtype"] as? String, let type = dtypeNames[dtypeName] else {
                throw reader.error("tensor \"\(name)\": unsupported or missing dtype \(String(describing: info["dtype"] ?? "nil"))", at: 8)
            }
            guard let shapeAny = info["shape"] as? [Any], let offsetsAny = info["data_offsets"] as? [Any], offsetsAny.count == 2 else {
                throw reader.error("tensor \"\(name)\": needs a shape and two data_offsets", at: 8)
            }
            let dims = try integers(shapeAny, file: file, name: name)
            let offsets = try integers(offsetsAny, file: file, name: name)
            let shape = try validatedShape(dims, elementSize: type.byteSize, limitBytes: Swift.max(dataLength, 0), file: file, offset: 8, name: "tensor \"\(name)\"")
            guard offsets[0] >= 0, offsets[1] >= offsets[0], offsets[1] <= dataLength else {
                throw reader.error("tensor \"\(name)\": data_offsets \(offsets) lie outside the \(dataLength) data bytes", at: 8)
            }
            guard offsets[1] - offsets[0] == Shape.elementCount(shape) * type.byteSize else {
                throw reader.error("tensor \"\(name)\": \(offsets[1] - offsets[0]) bytes for shape \(shape) of \(dtypeName), expected \(Shape.elementCount(shape) * type.byteSize)", at: 8)
            }
            entries.append((name, type, shape, offsets[0], offsets[1]))
        }
        // The data must be covered exactly, without gaps or overlaps.
        var position = 0
        for e in entries.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            guard e.begin == position else {
                throw reader.error("tensor \"\(e.name)\" starts at data byte \(e.begin), expected \(position) (\(e.begin < position ? "overlap" : "gap"))", at: dataStart + e.begin)
            }
            position = e.end
        }
        guard position == dataLength else { throw reader.error("the tensors cover \(position) of \(dataLength) data bytes", at: dataStart + position) }
        var tensors: [String: Tensor] = [:]
        for e in entries {
            let bytes = data[(data.startIndex + dataStart + e.begin)..<(data.startIndex + dataStart + e.end)]
            tensors[e.name] = try Tensor.decode(bytes, type: e.type, shape: e.shape, littleEndian: true, file: file, offset: dataStart + e.begin)
        }
        return (tensors, metadata)
    }

    /// The safetensors bytes for `tensors` (sorted by name) and `metadata`.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> Data {
        var header = "{"
        var parts: [String] = []
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
            parts.append("\"__metadata__\":{\(m)}")
        }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            let size = t.count * t.dtype.byteSize
            parts.append("\(jsonString(name)):{\"dtype\":\"\(self.name(for: t.dtype))\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        header += parts.joined(separator: ",") + "}"
        var headerBytes = Data(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }   // pad with spaces, as the reference writer does
        var out = Data()
        out.reserveCapacity(8 + headerBytes.count + offset)
        out.appendLittleEndian(UInt64(headerBytes.count))
        out.append(headerBytes)
        for name in names { out.append(tensors[name]!.littleEndianBytes) }
        return out
    }

    /// Writes `tensors` and `metadata` to `url` atomically (a crash leaves the old file or the new one).
    /// - Parameters:
    ///   - tensors: tensors by name.
    ///   - metadata: string pairs stored in the header.
    ///   - url: the file, replaced atomically.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws(TensorFileError) {
        try AtomicFile.write(encode(tensors, metadata: metadata), to: url)
    }

    private static func integers(_ values: [Any], file: String, name: String) throws(TensorFileError) -> [Int] {
        var out: [Int] = []
        for v in values {
            guard let n = v as? NSNumber, n.doubleValue == n.doubleValue.rounded(), Swift.abs(n.doubleValue) < 9.0e15 else {
                throw TensorFileError(file: file, offset: 8, "tensor \"\(name)\": \(v) is not an integer")
            }
            out.append(n.intValue)
        }
        return out
    }

    /// Refuses JSON nested deeper than 8 levels (the format needs 3) before a parser sees it.
    private static func checkNesting(_ bytes: Data, file: String) throws(TensorFileError) {
        var depth = 0, inString = false, escaped = false
        for (i, b) in bytes.enumerated() {
            if inString {
                if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false }
                continue
            }
            switch b {
            case 0x22: inString = true
            case 0x7B, 0x5B:
                depth += 1
                if depth > 8 { throw TensorFileError(file: file, offset: 8 + i, "the header nests deeper than 8 levels") }
            case 0x7D, 0x5D: depth -= 1
            default: break
            }
        }
    }
}

/// A JSON string literal for `s`.
func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}
