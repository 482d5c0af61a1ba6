import Foundation

/// A JSON value: the configuration of a layer or model as saved in `config.json`.
public enum JSONValue: Codable, Equatable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
                       ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral,
                       ExpressibleByDictionaryLiteral {
    case number(Double), string(String), bool(Bool), array([JSONValue]), object([String: JSONValue]), null

    public init(integerLiteral v: Int) { self = .number(Double(v)) }
    public init(floatLiteral v: Double) { self = .number(v) }
    public init(stringLiteral v: String) { self = .string(v) }
    public init(booleanLiteral v: Bool) { self = .bool(v) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(Dictionary(uniqueKeysWithValues: elements)) }
    public init(_ ints: [Int]) { self = .array(ints.map { .number(Double($0)) }) }
    public init(_ n: Int) { self = .number(Double(n)) }
    public init(_ x: Double) { self = .number(x) }
    public init(_ b: Bool) { self = .bool(b) }
    public init(_ s: String) { self = .string(s) }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .bool(let b): try c.encode(b)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        case .null: try c.encodeNil()
        }
    }

    public var double: Double? { if case .number(let n) = self { n } else { nil } }
    public var int: Int? { double.flatMap { $0 == $0.rounded() && Swift.abs($0) < 1e15 ? Int($0) : nil } }
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var object: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    public var ints: [Int]? {
        guard let a = array else { return nil }
        let v = a.compactMap(\.int)
        return v.count == a.count ? v : nil
    }
    public subscript(key: String) -> JSONValue? { object?[key] }
}

/// Reads typed fields of a layer's configuration, with errors that name the layer and the field.
public struct LayerConfig {
    public let className: String
    public let name: String
    public let values: [String: JSONValue]

    public func int(_ key: String) throws(NablaError) -> Int {
        guard let v = values[key]?.int else { throw .invalidArgument("\(className) \(name): config field \"\(key)\" must be an integer") }
        return v
    }
    /// An integer in 1...2²⁴ (a layer size).
    public func positive(_ key: String) throws(NablaError) -> Int {
        let v = try int(key)
        guard v > 0 && v <= 1 << 24 else { throw .invalidArgument("\(className) \(name): config field \"\(key)\" must be in 1...16777216, got \(v)") }
        return v
    }
    /// Two positive integers (a window size or stride).
    public func pair(_ key: String) throws(NablaError) -> (Int, Int) {
        let v = try ints(key)
        guard v.count == 2, v.allSatisfy({ $0 > 0 && $0 <= 1 << 16 }) else {
            throw .invalidArgument("\(className) \(name): config field \"\(key)\" must be two positive integers, got \(v)")
        }
        return (v[0], v[1])
    }
    public func double(_ key: String) throws(NablaError) -> Double {
        guard let v = values[key]?.double, v.isFinite else { throw .invalidArgument("\(className) \(name): config field \"\(key)\" must be a finite number") }
        return v
    }
    public func bool(_ key: String) throws(NablaError) -> Bool {
        guard let v = values[key]?.bool else { throw .invalidArgument("\(className) \(name): config field \"\(key)\" must be true or false") }
        return v
    }
    /// A flag that older files may lack: nil when absent, an error when present but not a Boolean.
    public func optionalBool(_ key: String) throws(NablaError) -> Bool? {
        guard values[key] != nil else { return nil }
        return try bool(key)
    }
    public func string(_ key: String) throws(NablaError) -> String {
        guard let v = values[key]?.string else { throw .invalidArgument("\(className) \(name): config field \"\(key)\" must be a string") }
        return v
    }
    /// An integer size at most `Model.maxParameters` (a table's rows, a vocabulary).
    public func count(_ key: String) throws(NablaError) -> Int {
        let v = try int(key)
        guard v > 0 && v <= Model.maxParameters else { throw .invalidArgument("\(className) \(name): config field \"\(key)\" must be in 1...\(Model.maxParameters), got \(v)") }
        return v
    }
    /// A rate in [0, 1) (dropout).
    public func rate(_ key: String) throws(NablaError) -> Double {
        let v = try double(key)
        guard v >= 0 && v < 1 else { throw .invalidArgument("\(className) \(name): config field \"\(key)\" must be in [0, 1), got \(v)") }
        return v
    }
    /// A field that older files may lack.
    public func has(_ key: String) -> Bool { values[key] != nil }
    /// Checks that a layer of `rows` × `columns` parameters stays within `Model.maxParameters`.
    public func checkTable(_ rows: Int, _ columns: Int) throws(NablaError) {
        let (n, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard !overflow, n <= Model.maxParameters else { throw .invalidArgument("\(className) \(name): \(rows) x \(columns) is too large") }
    }
    /// A Transformer stack's `layers` and `heads` with its width under `widthKey`, checked to divide
    /// into heads and, with `rows` more rows of embeddings, to stay within `Model.maxParameters`.
    public func transformerShape(width widthKey: String, rows: Int) throws(NablaError) -> (layers: Int, heads: Int, width: Int) {
        let (layers, heads, width) = (try int("layers"), try positive("heads"), try positive(widthKey))
        guard width % heads == 0, (0...1024).contains(layers) else {
            throw .invalidArgument("\(className) \(name): \(layers) layers of width \(width) in \(heads) heads cannot be built")
        }
        try checkTable(rows + 12 * layers * width, width)
        return (layers, heads, width)
    }
    /// A convolution's `filters` and `groups`, checked to divide.
    public func filtersAndGroups() throws(NablaError) -> (filters: Int, groups: Int) {
        let (filters, groups) = (try positive("filters"), try positive("groups"))
        guard filters % groups == 0 else { throw .invalidArgument("\(className) \(name): \(filters) filters do not divide into \(groups) groups") }
        return (filters, groups)
    }
    /// Settings `string(key)` names by raw value, e.g. `padding`.
    public func choice<T: RawRepresentable>(_ key: String, _: T.Type) throws(NablaError) -> T where T.RawValue == String {
        let s = try string(key)
        guard let v = T(rawValue: s) else { throw .invalidArgument("\(className) \(name): config field \"\(key)\" cannot be \"\(s)\"") }
        return v
    }
    public func ints(_ key: String) throws(NablaError) -> [Int] {
        guard let v = values[key]?.ints else { throw .invalidArgument("\(className) \(name): config field \"\(key)\" must be a list of integers") }
        return v
    }
}

extension JSONValue {
    /// Any `Encodable` value as JSON, for ``Model/metadata`` (a vocabulary, a vectorizer's settings).
    ///
    /// ```swift
    /// model.metadata["vectorizer"] = try JSONValue(encoding: vectorizer)
    /// let back = try model.metadata["vectorizer"]!.decode(TextVectorization.self)
    /// ```
    /// - Parameters:
    ///   - value: the value to encode.
    public init(encoding value: some Encodable) throws(NablaError) {
        do { self = try JSONDecoder().decode(JSONValue.self, from: try JSONEncoder().encode(value)) } catch {
            throw .invalidArgument("cannot encode \(type(of: value)) as JSON: \(error)")
        }
    }

    /// Decodes this JSON as a `T`; the error names the type and what did not fit.
    /// - Parameters:
    ///   - type: the type to decode.
    public func decode<T: Decodable>(_ type: T.Type) throws(NablaError) -> T {
        do { return try JSONDecoder().decode(T.self, from: try JSONEncoder().encode(self)) } catch {
            throw .invalidState("metadata is not a \(T.self): \(error)")
        }
    }
}
