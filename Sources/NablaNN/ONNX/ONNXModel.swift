import Foundation
import Nabla

/// The parts of an ONNX model (onnx.proto) that Nabla writes and reads: a graph of nodes over named
/// values, with its weights as initializers.
struct ONNXTensor {
    /// ONNX's element types that Nabla handles.
    enum ElementType: Int { case float = 1, uint8 = 2, int8 = 3, int32 = 6, int64 = 7, bool = 9, double = 11 }

    var name: String
    var dims: [Int]
    var type: ElementType
    /// Values as doubles (exact for every element type Nabla handles at these sizes).
    var values: [Double]

    init(name: String, dims: [Int], type: ElementType, values: [Double]) {
        (self.name, self.dims, self.type, self.values) = (name, dims, type, values)
    }

    /// A float32 or int tensor from a Nabla tensor.
    init(name: String, _ t: Tensor) {
        self.name = name
        dims = t.shape
        switch t.dtype {
        case .int32: type = .int64; values = t.toArray(Int32.self).map(Double.init)
        case .float64: type = .double; values = t.toArray(Double.self)
        default: type = .float; values = t.toArray(Float.self).map(Double.init)
        }
    }

    init(name: String, int64s: [Int], dims: [Int]? = nil) {
        self.init(name: name, dims: dims ?? [int64s.count], type: .int64, values: int64s.map(Double.init))
    }

    var tensor: Tensor {
        switch type {
        case .float:
            let v: [Float] = values.map { Float($0) }
            return Tensor(shape: dims, values: v)
        case .double:
            return Tensor(shape: dims, values: values)
        default:
            let v: [Int32] = values.map { Int32(clamping: Self.integer($0)) }
            return Tensor(shape: dims, values: v)
        }
    }

    var ints: [Int] { values.map(Self.integer) }

    /// `d` as an integer, saturating (a hostile file may hold any double where an integer belongs).
    static func integer(_ d: Double) -> Int {
        guard d.isFinite else { return 0 }
        return d >= 9.2e18 ? Int.max : d <= -9.2e18 ? Int.min : Int(d)
    }

    func encode(_ w: inout ProtoWriter) {
        w.packedInts(1, dims)
        w.int(2, type.rawValue)
        w.string(8, name)
        var raw: [UInt8] = []
        switch type {
        case .float: for v in values { withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { raw += $0 } }
        case .double: for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { raw += $0 } }
        case .int64: for v in values { withUnsafeBytes(of: Int64(Self.integer(v)).littleEndian) { raw += $0 } }
        case .int32: for v in values { withUnsafeBytes(of: Int32(clamping: Self.integer(v)).littleEndian) { raw += $0 } }
        case .uint8, .int8, .bool: raw = values.map { UInt8(truncatingIfNeeded: Self.integer($0)) }
        }
        w.data(9, raw)
    }

    static func decode(_ r: ProtoReader) throws(NablaError) -> ONNXTensor {
        var dims: [Int] = [], typeCode = 0, name = "", raw: ArraySlice<UInt8>?, floats: [Float] = [], ints: [Int] = [], doubles: [Double] = []
        for (f, v) in try r.fields() {
            switch f {
            case 1: dims += try v.ints(r)
            case 2: typeCode = v.int ?? 0
            case 8: name = v.string ?? ""
            case 9: raw = v.slice
            case 4: floats += try v.floats(r)
            case 5, 7: ints += try v.ints(r)
            case 10:
                if let b = v.slice {
                    guard b.count % 8 == 0 else { throw r.error("packed doubles of \(b.count) bytes", at: b.startIndex) }
                    doubles += stride(from: b.startIndex, to: b.endIndex, by: 8).map { k in
                        Double(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[k + $1]) << (8 * UInt64($1)) })
                    }
                }
            case 13, 14: throw r.error("tensor '\(name)' keeps its data in an external file, which Nabla does not read", at: r.base)
            default: break
            }
        }
        guard let type = ElementType(rawValue: typeCode) else {
            throw .invalidArgument("\(r.source): tensor '\(name)' has element type \(typeCode), which Nabla does not read (float, double, int8/32/64, uint8, bool)")
        }
        guard dims.allSatisfy({ $0 >= 0 }) else { throw r.error("tensor '\(name)' has negative dimensions \(dims)", at: r.base) }
        var count = 1
        for d in dims {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o, p <= 1 << 31 else { throw r.error("tensor '\(name)' of shape \(dims) is too large", at: r.base) }
            count = p
        }
        var values: [Double]
        if let raw {
            let size: Int
            switch type {
            case .float, .int32: size = 4
            case .double, .int64: size = 8
            case .uint8, .int8, .bool: size = 1
            }
            guard raw.count == count * size else { throw r.error("tensor '\(name)' has \(raw.count) bytes for \(count) values of \(size) bytes", at: raw.startIndex) }
            values = []
            values.reserveCapacity(count)
            var k = raw.startIndex
            for _ in 0..<count {
                var bits: UInt64 = 0
                for b in 0..<size { bits |= UInt64(raw[k + b]) << (8 * UInt64(b)) }
                k += size
                switch type {
                case .float: values.append(Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits))))
                case .double: values.append(Double(bitPattern: bits))
                case .int64: values.append(Double(Int64(bitPattern: bits)))
                case .int32: values.append(Double(Int32(truncatingIfNeeded: bits)))
                case .int8: values.append(Double(Int8(truncatingIfNeeded: bits)))
                case .uint8, .bool: values.append(Double(bits))
                }
            }
        } else {
            values = type == .float ? floats.map(Double.init) : type == .double ? doubles : ints.map(Double.init)
            guard values.count == count else { throw r.error("tensor '\(name)' has \(values.count) values for shape \(dims)", at: r.base) }
        }
        return ONNXTensor(name: name, dims: dims, type: type, values: values)
    }
}

/// A node's attribute.
enum ONNXAttributeValue {
    case float(Float), int(Int), string(String), tensor(ONNXTensor), floats([Float]), ints([Int]), strings([String])
}

struct ONNXNode {
    var opType: String
    var inputs: [String]
    var outputs: [String]
    var name: String = ""
    var domain: String = ""
    var attributes: [String: ONNXAttributeValue] = [:]

    func encode(_ w: inout ProtoWriter) {
        for i in inputs { w.string(1, i) }
        for o in outputs { w.string(2, o) }
        if !name.isEmpty { w.string(3, name) }
        w.string(4, opType)
        for (key, value) in attributes.sorted(by: { $0.key < $1.key }) {
            w.message(5) { a in
                a.string(1, key)
                switch value {
                case let .float(f): a.float(2, f); a.int(20, 1)
                case let .int(i): a.int(3, i); a.int(20, 2)
                case let .string(s): a.string(4, s); a.int(20, 3)
                case let .tensor(t): a.message(5) { t.encode(&$0) }; a.int(20, 4)
                case let .floats(fs): for f in fs { a.float(7, f) }; a.int(20, 6)
                case let .ints(xs): a.packedInts(8, xs); a.int(20, 7)
                case let .strings(ss): for s in ss { a.string(9, s) }; a.int(20, 8)
                }
            }
        }
        if !domain.isEmpty { w.string(7, domain) }
    }

    static func decode(_ r: ProtoReader) throws(NablaError) -> ONNXNode {
        var node = ONNXNode(opType: "", inputs: [], outputs: [])
        for (f, v) in try r.fields() {
            switch f {
            case 1: node.inputs.append(v.string ?? "")
            case 2: node.outputs.append(v.string ?? "")
            case 3: node.name = v.string ?? ""
            case 4: node.opType = v.string ?? ""
            case 7: node.domain = v.string ?? ""
            case 5:
                guard let b = v.slice else { continue }
                let a = r.nested(b)
                var name = "", type = 0, f1: Float?, i1: Int?, s1: String?, t1: ONNXTensor?, fs: [Float] = [], xs: [Int] = [], ss: [String] = []
                for (af, av) in try a.fields() {
                    switch af {
                    case 1: name = av.string ?? ""
                    case 20: type = av.int ?? 0
                    case 2: f1 = av.float
                    case 3: i1 = av.int
                    case 4: s1 = av.string
                    case 5: if let tb = av.slice { t1 = try ONNXTensor.decode(a.nested(tb)) }
                    case 7: fs += try av.floats(a)
                    case 8: xs += try av.ints(a)
                    case 9: ss.append(av.string ?? "")
                    default: break
                    }
                }
                let value: ONNXAttributeValue?
                switch type {
                case 1: value = f1.map { .float($0) }
                case 2: value = i1.map { .int($0) }
                case 3: value = s1.map { .string($0) }
                case 4: value = t1.map { .tensor($0) }
                case 6: value = .floats(fs)
                case 7: value = .ints(xs)
                case 8: value = .strings(ss)
                default: value = f1.map { .float($0) } ?? i1.map { .int($0) } ?? s1.map { .string($0) } ?? t1.map { .tensor($0) }
                    ?? (!xs.isEmpty ? .ints(xs) : !fs.isEmpty ? .floats(fs) : nil)
                }
                if let value { node.attributes[name] = value }
            default: break
            }
        }
        return node
    }

    func int(_ key: String) -> Int? { if case let .int(v)? = attributes[key] { return v }; return nil }
    func float(_ key: String) -> Float? { if case let .float(v)? = attributes[key] { return v }; return nil }
    func ints(_ key: String) -> [Int]? { if case let .ints(v)? = attributes[key] { return v }; return nil }
    func string(_ key: String) -> String? { if case let .string(v)? = attributes[key] { return v }; return nil }
    func tensor(_ key: String) -> ONNXTensor? { if case let .tensor(v)? = attributes[key] { return v }; return nil }
}

/// A graph input or output: a name, an element type and a shape whose dimensions may be symbolic.
struct ONNXValueInfo {
    var name: String
    var type: ONNXTensor.ElementType
    /// nil for a symbolic dimension (the batch).
    var dims: [Int?]

    func encode(_ w: inout ProtoWriter) {
        w.string(1, name)
        w.message(2) { t in
            t.message(1) { tt in
                tt.int(1, type.rawValue)
                tt.message(2) { s in
                    for d in dims { s.message(1) { dim in if let d { dim.int(1, d) } else { dim.string(2, "batch") } } }
                }
            }
        }
    }

    static func decode(_ r: ProtoReader) throws(NablaError) -> ONNXValueInfo {
        var info = ONNXValueInfo(name: "", type: .float, dims: [])
        for (f, v) in try r.fields() {
            if f == 1 { info.name = v.string ?? "" }
            guard f == 2, let tb = v.slice else { continue }
            for (tf, tv) in try r.nested(tb).fields() where tf == 1 {
                guard let ttb = tv.slice else { continue }
                let tt = r.nested(tb).nested(ttb)
                for (ttf, ttv) in try tt.fields() {
                    if ttf == 1, let code = ttv.int { info.type = ONNXTensor.ElementType(rawValue: code) ?? .float }
                    guard ttf == 2, let sb = ttv.slice else { continue }
                    for (sf, sv) in try tt.nested(sb).fields() where sf == 1 {
                        guard let db = sv.slice else { continue }
                        var value: Int?
                        for (df, dv) in try tt.nested(sb).nested(db).fields() where df == 1 { value = dv.int }
                        info.dims.append(value.flatMap { $0 > 0 ? $0 : nil })
                    }
                }
            }
        }
        return info
    }
}

struct ONNXGraph {
    var name = "nabla"
    var nodes: [ONNXNode] = []
    var initializers: [ONNXTensor] = []
    var inputs: [ONNXValueInfo] = []
    var outputs: [ONNXValueInfo] = []
}

/// A whole `.onnx` file.
struct ONNXFile {
    var graph: ONNXGraph
    var opset: Int
    var producer = "nabla"
    /// ONNX IR version 8 goes with opsets 14–18.
    var irVersion = 8

    func encoded() -> [UInt8] {
        var w = ProtoWriter()
        w.int(1, irVersion)
        w.string(2, producer)
        w.string(3, "0.1")
        w.message(7) { g in
            for n in graph.nodes { g.message(1) { n.encode(&$0) } }
            g.string(2, graph.name)
            for t in graph.initializers { g.message(5) { t.encode(&$0) } }
            for i in graph.inputs { g.message(11) { i.encode(&$0) } }
            for o in graph.outputs { g.message(12) { o.encode(&$0) } }
        }
        w.message(8) { o in o.string(1, ""); o.int(2, opset) }
        return w.bytes
    }

    static func decode(_ bytes: [UInt8], source: String) throws(NablaError) -> ONNXFile {
        let r = ProtoReader(bytes[...], source: source)
        var graph: ONNXGraph?, opset = 0, ir = 0, producer = ""
        for (f, v) in try r.fields() {
            switch f {
            case 1: ir = v.int ?? 0
            case 2: producer = v.string ?? ""
            case 7:
                guard let gb = v.slice else { continue }
                let gr = r.nested(gb)
                var g = ONNXGraph()
                for (gf, gv) in try gr.fields() {
                    guard let b = gv.slice else { continue }
                    switch gf {
                    case 1: g.nodes.append(try ONNXNode.decode(gr.nested(b)))
                    case 2: g.name = gv.string ?? ""
                    case 5: g.initializers.append(try ONNXTensor.decode(gr.nested(b)))
                    case 11: g.inputs.append(try ONNXValueInfo.decode(gr.nested(b)))
                    case 12: g.outputs.append(try ONNXValueInfo.decode(gr.nested(b)))
                    default: break
                    }
                }
                graph = g
            case 8:
                guard let ob = v.slice else { continue }
                var domain = "", version = 0
                for (of, ov) in try r.nested(ob).fields() {
                    if of == 1 { domain = ov.string ?? "" }
                    if of == 2 { version = ov.int ?? 0 }
                }
                if domain.isEmpty || domain == "ai.onnx" { opset = version }
            default: break
            }
        }
        guard let graph else { throw .invalidArgument("\(source): not an ONNX model (no graph)") }
        guard !graph.outputs.isEmpty else { throw .invalidArgument("\(source): the ONNX graph has no outputs") }
        return ONNXFile(graph: graph, opset: opset, producer: producer, irVersion: ir)
    }
}
