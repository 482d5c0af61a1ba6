import Foundation
import Nabla

// A small Protocol Buffers wire codec, enough for ONNX's messages and TensorBoard's events. Hand-written rather than
// swift-protobuf: the dozen ONNX messages Nabla reads and writes need varints, length-delimited
// fields and packed repeated numbers — about 150 lines — where swift-protobuf would add a package
// dependency and 10k lines of generated code for all of onnx.proto. Reading is defensive: every
// length is checked against the bytes left, nesting is bounded, and errors name the byte offset.

/// A protobuf message being written: fields appended in the order given.
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func key(_ field: Int, _ wire: Int) { varint(UInt64(field << 3 | wire)) }

    mutating func int(_ field: Int, _ value: Int) {
        key(field, 0)
        varint(UInt64(bitPattern: Int64(value)))
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
    }

    mutating func double(_ field: Int, _ value: Double) {
        key(field, 1)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
    }

    mutating func data(_ field: Int, _ value: [UInt8]) {
        key(field, 2)
        varint(UInt64(value.count))
        bytes += value
    }

    mutating func string(_ field: Int, _ value: String) { data(field, Array(value.utf8)) }

    mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        var inner = ProtoWriter()
        build(&inner)
        data(field, inner.bytes)
    }

    /// Packed repeated int64 (ONNX's `dims`, `ints`).
    mutating func packedInts(_ field: Int, _ values: [Int]) {
        var inner = ProtoWriter()
        for v in values { inner.varint(UInt64(bitPattern: Int64(v))) }
        data(field, inner.bytes)
    }
}

/// A field read from a message: its number and its value by wire type.
enum ProtoValue {
    case varint(UInt64)
    case fixed64(UInt64)
    case fixed32(UInt32)
    case bytes(ArraySlice<UInt8>)
}

/// Reads the fields of one message.
struct ProtoReader {
    let bytes: ArraySlice<UInt8>
    /// The offset of `bytes` in the whole file, for messages.
    let base: Int
    let source: String
    let depth: Int

    init(_ bytes: ArraySlice<UInt8>, source: String, depth: Int = 0) {
        self.bytes = bytes
        base = bytes.startIndex
        self.source = source
        self.depth = depth
    }

    func error(_ what: String, at offset: Int) -> NablaError {
        .invalidArgument("\(source): not a valid ONNX file: \(what) at byte \(offset)")
    }

    /// The fields in order; an error for a truncated or malformed message.
    func fields() throws(NablaError) -> [(field: Int, value: ProtoValue)] {
        guard depth < 64 else { throw error("messages nested too deeply", at: base) }
        var out: [(Int, ProtoValue)] = []
        var i = bytes.startIndex
        func varint() throws(NablaError) -> UInt64 {
            let start = i
            guard let v = Self.varint(bytes, at: &i) else { throw error("a truncated or overlong number", at: start) }
            return v
        }
        /// A fixed-width little-endian field's value (wire types 1 and 5).
        func fixed<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, field: Int, at start: Int) throws(NablaError) -> T {
            let size = MemoryLayout<T>.size
            guard bytes.endIndex - i >= size else { throw error("truncated \(size)-byte field \(field)", at: start) }
            var v: T = 0
            for k in 0..<size { v |= T(bytes[i + k]) << (8 * k) }
            i += size
            return v
        }
        while i < bytes.endIndex {
            let start = i
            let key = try varint()
            let field = Int(key >> 3), wire = Int(key & 7)
            guard field > 0, field < 1 << 29 else { throw error("field number \(field)", at: start) }
            switch wire {
            case 0: out.append((field, .varint(try varint())))
            case 1: out.append((field, .fixed64(try fixed(UInt64.self, field: field, at: start))))
            case 2:
                let n = try varint()
                guard n <= UInt64(bytes.endIndex - i) else { throw error("field \(field) of \(n) bytes runs past the end", at: start) }
                out.append((field, .bytes(bytes[i..<(i + Int(n))])))
                i += Int(n)
            case 5: out.append((field, .fixed32(try fixed(UInt32.self, field: field, at: start))))
            default:
                throw error("wire type \(wire) (field \(field))", at: start)
            }
        }
        return out
    }

    func nested(_ slice: ArraySlice<UInt8>) -> ProtoReader { ProtoReader(slice, source: source, depth: depth + 1) }

    /// The varint at `i` (which moves past it), or nil when it is truncated or longer than 10 bytes.
    static func varint(_ bytes: ArraySlice<UInt8>, at i: inout Int) -> UInt64? {
        var v: UInt64 = 0, shift: UInt64 = 0
        while i < bytes.endIndex && shift < 64 {
            let b = bytes[i]
            i += 1
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
        return nil
    }
}

extension ProtoValue {
    var int: Int? {
        if case let .varint(v) = self { return Int(truncatingIfNeeded: Int64(bitPattern: v)) }
        return nil
    }
    var float: Float? {
        if case let .fixed32(v) = self { return Float(bitPattern: v) }
        return nil
    }
    var slice: ArraySlice<UInt8>? {
        if case let .bytes(b) = self { return b }
        return nil
    }
    var string: String? { slice.map { String(decoding: $0, as: UTF8.self) } }

    /// A repeated int64 field: packed (bytes) or one varint.
    func ints(_ reader: ProtoReader) throws(NablaError) -> [Int] {
        switch self {
        case let .varint(v): return [Int(truncatingIfNeeded: Int64(bitPattern: v))]
        case let .bytes(b):
            var out: [Int] = [], i = b.startIndex
            while i < b.endIndex {
                let start = i
                guard let v = ProtoReader.varint(b, at: &i) else { throw reader.error("a truncated packed number", at: start) }
                out.append(Int(truncatingIfNeeded: Int64(bitPattern: v)))
            }
            return out
        default: throw reader.error("a list of integers of the wrong wire type", at: reader.base)
        }
    }

    /// A repeated float field: packed (bytes) or one fixed32.
    func floats(_ reader: ProtoReader) throws(NablaError) -> [Float] {
        switch self {
        case let .fixed32(v): return [Float(bitPattern: v)]
        case let .bytes(b):
            guard b.count % 4 == 0 else { throw reader.error("packed floats of \(b.count) bytes", at: b.startIndex) }
            return stride(from: b.startIndex, to: b.endIndex, by: 4).map { k in
                Float(bitPattern: UInt32(b[k]) | UInt32(b[k + 1]) << 8 | UInt32(b[k + 2]) << 16 | UInt32(b[k + 3]) << 24)
            }
        default: throw reader.error("a list of floats of the wrong wire type", at: reader.base)
        }
    }
}
