import Foundation

/// Where a training step's time goes, as `torch.profiler`'s table: run any program with
/// `NABLA_PROFILE=1` and, when it exits, a table of each layer's forward pass, each op's backward pass,
/// the loss, the optimizer step and the wait for data — calls, total milliseconds and share — goes to
/// standard error. Measurements do not overlap (a layer made of layers is not counted on top of them).
///
/// ```sh
/// NABLA_PROFILE=1 swift run -c release nabla train --epochs 5
/// ```
/// ```swift
/// Profiler.isEnabled = true           // or in code
/// try model.fit(x, y, epochs: 1)
/// print(Profiler.report())
/// ```
public enum Profiler {
    /// Whether measurements are taken (from `NABLA_PROFILE` at start-up).
    nonisolated(unsafe) public static var isEnabled: Bool = {
        guard let v = ProcessInfo.processInfo.environment["NABLA_PROFILE"], !v.isEmpty, v != "0" else { return false }
        atexit { FileHandle.standardError.write(Data((Profiler.report() + "\n").utf8)) }
        return true
    }()

    nonisolated(unsafe) private static var totals: [String: (calls: Int, seconds: Double)] = [:]
    private static let lock = Lock()

    /// Runs `body`, adding its time to `name`'s row when profiling is on.
    /// - Parameters:
    ///   - name: the row, e.g. "Dense forward".
    ///   - body: the work measured.
    @inline(__always)
    public static func measure<R>(_ name: @autoclosure () -> String, _ body: () throws -> R) rethrows -> R {
        guard isEnabled else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        defer { record(name(), seconds: Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9) }
        return try body()
    }

    /// Adds one call of `seconds` to `name`'s row.
    /// - Parameters:
    ///   - name: the row.
    ///   - seconds: the time taken.
    public static func record(_ name: String, seconds: Double) {
        lock.withLock {
            let old = totals[name] ?? (0, 0)
            totals[name] = (old.calls + 1, old.seconds + seconds)
        }
    }

    /// Forgets every measurement.
    public static func reset() { lock.withLock { totals = [:] } }

    /// The rows so far: name, calls and seconds, the longest first.
    public static var rows: [(name: String, calls: Int, seconds: Double)] {
        lock.withLock { totals.map { ($0.key, $0.value.calls, $0.value.seconds) } }.sorted { $0.seconds > $1.seconds }
    }

    /// The table: op, calls, total ms and share of the measured time.
    public static func report() -> String {
        let rows = self.rows, total = rows.reduce(0) { $0 + $1.seconds }
        let width = Swift.max(24, rows.map(\.name.count).max() ?? 0)
        func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
            let fill = String(repeating: " ", count: Swift.max(0, n - s.count))
            return left ? s + fill : fill + s
        }
        var lines = ["NABLA_PROFILE: \(String(format: "%.1f", total * 1000)) ms measured",
                     pad("op", width, left: true) + pad("calls", 10) + pad("total ms", 12) + pad("share", 9)]
        for r in rows {
            lines.append(pad(r.name, width, left: true) + pad("\(r.calls)", 10) + pad(String(format: "%.2f", r.seconds * 1000), 12)
                         + pad(String(format: "%.1f%%", total > 0 ? 100 * r.seconds / total : 0), 9))
        }
        return lines.joined(separator: "\n")
    }
}
