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
    public func ints(_ key: String) throws(NablaError) -> [Int] {
        guard let v = values[key]?.ints else { throw .invalidArgument("\(className) \(name): config field \"\(key)\" must be a list of integers") }
        return v
    }
}
