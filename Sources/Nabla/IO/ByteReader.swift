import Foundation

/// Bounds-checked little-endian reading of a file's bytes: every read that would pass the end is
/// a ``TensorFileError`` with the file name and offset, never a crash.
struct ByteReader {
    let data: Data
    let file: String
    var offset = 0

    init(_ data: Data, file: String) {
        self.data = data
        self.file = file
    }

    var remaining: Int { data.count - offset }

    func error(_ message: String, at position: Int? = nil) -> TensorFileError {
        TensorFileError(file: file, offset: position ?? offset, message)
    }

    mutating func bytes(_ n: Int) throws(TensorFileError) -> Data {
        guard n >= 0, n <= remaining else {
            throw error("needs \(n) more bytes but the file has \(remaining) left (truncated?)")
        }
        let start = data.startIndex + offset
        offset += n
        return data[start..<(start + n)]
    }

    mutating func uint(_ size: Int) throws(TensorFileError) -> UInt64 {
        let b = try bytes(size)
        var v: UInt64 = 0
        for (i, byte) in b.enumerated() { v |= UInt64(byte) << (8 * UInt64(i)) }
        return v
    }

    func uint(at position: Int, _ size: Int) throws(TensorFileError) -> UInt64 {
        var copy = self
        copy.offset = position
        return try copy.uint(size)
    }
}

extension Data {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        var v = value.littleEndian
        Swift.withUnsafeBytes(of: &v) { append(contentsOf: $0) }
    }
}

/// Element types that files may hold, and how they become one of Nabla's dtypes.
enum FileElementType: Equatable {
    case float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8, bool

    var byteSize: Int {
        switch self {
        case .int8, .uint8, .bool: 1
        case .float16, .bfloat16, .int16: 2
        case .float32, .int32: 4
        case .float64, .int64: 8
        }
    }

    /// The Nabla dtype it is read into (narrower or wider types convert).
    var dtype: DType {
        switch self {
        case .float16, .bfloat16, .float32: .float32
        case .float64: .float64
        case .int8, .int16, .int32, .int64, .uint8: .int32
        case .bool: .bool
        }
    }

    static func forDType(_ d: DType) -> FileElementType {
        switch d {
        case .float32: .float32
        case .float64: .float64
        case .int32: .int32
        case .bool: .bool
        }
    }
}

extension Tensor {
    /// A tensor from raw element bytes of `type` (byte order `littleEndian`), converted to Nabla's dtype.
    static func decode(_ bytes: Data, type: FileElementType, shape: [Int], littleEndian: Bool, file: String, offset: Int) throws(TensorFileError) -> Tensor {
        let count = Shape.elementCount(shape)
        guard bytes.count == count * type.byteSize else {
            throw TensorFileError(file: file, offset: offset, "\(bytes.count) bytes of data for shape \(shape) of \(type), expected \(count * type.byteSize)")
        }
        let out = Tensor(uninitializedShape: shape, dtype: type.dtype)
        var failure: TensorFileError?
        bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            func load<U: FixedWidthInteger>(_: U.Type, _ i: Int) -> U {
                let v = raw.loadUnaligned(fromByteOffset: i * MemoryLayout<U>.size, as: U.self)
                return littleEndian ? U(littleEndian: v) : U(bigEndian: v)
            }
            switch type {
            case .float32:
                let p = out.pointer(UInt32.self)
                for i in 0..<count { p[i] = load(UInt32.self, i) }
            case .float64:
                let p = out.pointer(UInt64.self)
                for i in 0..<count { p[i] = load(UInt64.self, i) }
            case .int32:
                let p = out.pointer(UInt32.self)
                for i in 0..<count { p[i] = load(UInt32.self, i) }
            case .float16:
                let p = out.pointer(Float.self)
                for i in 0..<count { p[i] = Tensor.halfToFloat(load(UInt16.self, i)) }
            case .bfloat16:
                let p = out.pointer(Float.self)
                for i in 0..<count { p[i] = Float(bitPattern: UInt32(load(UInt16.self, i)) << 16) }
            case .int8:
                let p = out.pointer(Int32.self)
                for i in 0..<count { p[i] = Int32(Int8(bitPattern: raw[i])) }
            case .uint8:
                let p = out.pointer(Int32.self)
                for i in 0..<count { p[i] = Int32(raw[i]) }
            case .int16:
                let p = out.pointer(Int32.self)
                for i in 0..<count { p[i] = Int32(Int16(bitPattern: load(UInt16.self, i))) }
            case .int64:
                let p = out.pointer(Int32.self)
                for i in 0..<count {
                    let v = Int64(bitPattern: load(UInt64.self, i))
                    guard let narrow = Int32(exactly: v) else {
                        failure = TensorFileError(file: file, offset: offset + i * 8, "int64 value \(v) does not fit Nabla's int32")
                        return
                    }
                    p[i] = narrow
                }
            case .bool:
                let p = out.pointer(UInt8.self)
                for i in 0..<count {
                    guard raw[i] <= 1 else {
                        failure = TensorFileError(file: file, offset: offset + i, "bool byte \(raw[i]) is neither 0 nor 1")
                        return
                    }
                    p[i] = raw[i]
                }
            }
        }
        if let failure { throw failure }
        return out
    }

    /// The elements' bytes, little-endian (the byte order of every platform Nabla runs on), in the
    /// tensor's own dtype.
    var littleEndianBytes: Data { Data(bytes: rawPointer, count: count * dtype.byteSize) }

    /// IEEE 754 half precision to single.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int((h >> 10) & 0x1F), frac = UInt32(h & 0x3FF)
        if exp == 0 {
            let v = Float(frac) * 0x1p-24   // subnormal: frac · 2⁻²⁴
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (frac << 13)) }
        return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (frac << 13))
    }
}

/// Checks a shape read from a file: non-negative, and its element count neither overflows nor
/// exceeds what the file could hold.
func validatedShape(_ dims: [Int], elementSize: Int, limitBytes: Int, file: String, offset: Int, name: String) throws(TensorFileError) -> [Int] {
    var count = 1
    for d in dims {
        guard d >= 0 else { throw TensorFileError(file: file, offset: offset, "\(name): negative dimension \(d) in shape \(dims)") }
        let (m, overflow) = count.multipliedReportingOverflow(by: d)
        guard !overflow else { throw TensorFileError(file: file, offset: offset, "\(name): shape \(dims) overflows") }
        count = m
    }
    let (bytes, overflow) = count.multipliedReportingOverflow(by: elementSize)
    guard !overflow, bytes <= limitBytes else {
        throw TensorFileError(file: file, offset: offset, "\(name): shape \(dims) needs \(overflow ? "more than Int.max" : String(bytes)) bytes, the file holds \(limitBytes)")
    }
    return dims
}
