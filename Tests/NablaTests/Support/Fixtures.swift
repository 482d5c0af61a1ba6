import Foundation
import Testing
import Nabla

/// One NumPy reference case from Tests/Fixtures/ops.json (written by scripts/make_fixtures.py).
struct OpFixture: CustomTestStringConvertible, Sendable {
    struct Array: Sendable {
        let shape: [Int]
        let data: [Double]
        func tensor(_ dtype: DType) -> Tensor { Tensor(shape: shape, values: data).cast(to: dtype) }
    }

    let index: Int
    let op: String
    let inputs: [Array]
    let output: Array
    let params: [String: ParamValue]

    var testDescription: String { "#\(index) \(op) \(inputs.map(\.shape)) \(params.keys.sorted().map { "\($0)=\(params[$0]!)" }.joined(separator: " "))" }

    enum ParamValue: Sendable, CustomStringConvertible {
        case number(Double), numbers([Double]), bool(Bool), null
        var description: String {
            switch self {
            case .number(let v): "\(v)"
            case .numbers(let v): "\(v)"
            case .bool(let b): "\(b)"
            case .null: "nil"
            }
        }
    }

    func number(_ key: String) -> Double {
        if case .number(let v) = params[key] { return v }
        fatalError("fixture \(op): missing number \(key)")
    }
    func int(_ key: String) -> Int { Int(number(key)) }
    func ints(_ key: String) -> [Int]? {
        if case .numbers(let v) = params[key] { return v.map { Int($0) } }
        return nil
    }
    func bool(_ key: String) -> Bool {
        // Foundation on Linux reads JSON booleans as numbers.
        switch params[key] {
        case .bool(let b): return b
        case .number(let v): return v != 0
        default: return false
        }
    }

    /// All cases, loaded once.
    static let all: [OpFixture] = load()

    static var fixturesDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    private static func load() -> [OpFixture] {
        let url = fixturesDirectory.appendingPathComponent("ops.json")
        guard let data = try? Data(contentsOf: url),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let cases = root["cases"] as? [[String: Any]] else {
            fatalError("cannot read \(url.path); run python3 scripts/make_fixtures.py")
        }
        func array(_ any: Any?) -> Array {
            let d = any as! [String: Any]
            return Array(shape: (d["shape"] as! [Any]).map { ($0 as! NSNumber).intValue },
                         data: (d["data"] as! [Any]).map { ($0 as! NSNumber).doubleValue })
        }
        return cases.enumerated().map { i, c in
            var params: [String: ParamValue] = [:]
            for (k, v) in c["params"] as? [String: Any] ?? [:] {
                if v is NSNull { params[k] = .null }
                else if let b = v as? Bool, !(v is Int), String(describing: type(of: v)).contains("Bool") { params[k] = .bool(b) }
                else if let n = v as? NSNumber { params[k] = .number(n.doubleValue) }
                else if let a = v as? [Any] { params[k] = .numbers(a.map { ($0 as! NSNumber).doubleValue }) }
            }
            return OpFixture(index: i, op: c["op"] as! String, inputs: (c["inputs"] as! [Any]).map(array), output: array(c["output"]), params: params)
        }
    }
}

/// Whether `actual` matches `expected` elementwise within `atol + rtol·|expected|`.
func assertClose(_ actual: Tensor, _ expectedShape: [Int], _ expected: [Double], rtol: Double, atol: Double) -> String? {
    guard actual.shape == expectedShape else { return "shape \(actual.shape), expected \(expectedShape)" }
    let got = actual.toArray(Double.self)
    for (i, (g, e)) in zip(got, expected).enumerated() {
        if !(Swift.abs(g - e) <= atol + rtol * Swift.abs(e)) { return "element \(i): \(g), expected \(e)" }
    }
    return nil
}
