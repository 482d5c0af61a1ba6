import Foundation
import Nabla
import NablaNN

/// Tests/Fixtures/nn.json, written by scripts/make_nn_fixtures.py (PyTorch and NumPy references).
enum NNFixtures {
    nonisolated(unsafe) static let root: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/nn.json")
        guard let data = try? Data(contentsOf: url), let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            fatalError("cannot read \(url.path); run python3 scripts/make_nn_fixtures.py")
        }
        return json
    }()

    static func group(_ name: String) -> [String: Any] { root[name] as! [String: Any] }

    /// A fixture array as a float64 tensor.
    static func tensor(_ any: Any?, dtype: DType = .float64) -> Tensor {
        let d = any as! [String: Any]
        let shape = (d["shape"] as! [Any]).map { ($0 as! NSNumber).intValue }
        let data = (d["data"] as! [Any]).map { ($0 as! NSNumber).doubleValue }
        return Tensor(shape: shape, values: data).cast(to: dtype)
    }

    static func numbers(_ any: Any?) -> [Double] { (any as! [Any]).map { ($0 as! NSNumber).doubleValue } }
}

/// Largest elementwise difference between two tensors of the same shape (∞ if shapes differ).
func maxDifference(_ a: Tensor, _ b: Tensor) -> Double {
    guard a.shape == b.shape else { return .infinity }
    return zip(a.toArray(Double.self), b.toArray(Double.self)).map { Swift.abs($0 - $1) }.max() ?? 0
}

/// Central-difference check of d(sum(f·w))/d(parameter) for every parameter of `module`, in Float64.
func gradientCheck(_ module: Module, input: Tensor, _ f: (Tensor) -> Tensor) -> Double {
    let out = f(input)
    let weights = Tensor.randomUniform(out.shape, low: 0.5, high: 1.5, dtype: .float64, generator: RandomGenerator(seed: 3))
    func objective() -> Tensor { (f(input) * weights).sum() }
    module.zeroGrad()
    objective().backward()
    var worst = 0.0
    for p in module.trainableParameters {
        let analytic = p.grad!.toArray(Double.self)
        let values = p.value.toArray(Double.self)
        for i in 0..<values.count {
            var plus = values, minus = values
            plus[i] += 1e-6
            minus[i] -= 1e-6
            p.assign(Tensor(shape: p.shape, values: plus))
            let fp = withNoGrad { objective() }.item(Double.self)
            p.assign(Tensor(shape: p.shape, values: minus))
            let fm = withNoGrad { objective() }.item(Double.self)
            p.assign(Tensor(shape: p.shape, values: values))
            let numeric = (fp - fm) / 2e-6
            worst = Swift.max(worst, Swift.abs(numeric - analytic[i]) / (1 + Swift.abs(numeric)))
        }
    }
    return worst
}

/// Python 3 for the reference checks: whether modules import, and running a script.
enum Python {
    /// Whether `python3 -c "import <modules>"` succeeds.
    static func hasModules(_ modules: String...) -> Bool {
        (try? run(["-c", "import " + modules.joined(separator: ", ")]).status) == 0
    }

    /// Runs `python3 arguments...`; returns its exit status and its output (stdout and stderr together).
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
