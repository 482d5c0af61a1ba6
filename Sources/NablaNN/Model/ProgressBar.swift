#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keras 3's progress display for `fit`, `evaluate` and `predict`:
///
/// ```
/// 25/25 ━━━━━━━━━━━━━━━━━━━━ 3s 111ms/step - accuracy: 0.4825 - loss: 0.7159      (verbose 1)
/// 25/25 - 3s - 111ms/step - accuracy: 0.4825 - loss: 0.7159                       (verbose 2)
/// ```
///
/// With verbose 1 the line is redrawn in place on a terminal; elsewhere (a log file, a pipe) only
/// the finished line is written, once per epoch. Verbose 0 prints nothing.
public struct ProgressBar {
    public let target: Int
    public let verbose: Int
    let isTerminal: Bool
    let write: (String) -> Void
    let clock: () -> Double
    private let start: Double
    private var lastDraw = -1.0

    public init(target: Int, verbose: Int, isTerminal: Bool = ProgressBar.stdoutIsTerminal,
                write: @escaping (String) -> Void = ProgressBar.writeToStandardOutput,
                clock: @escaping () -> Double = ProgressBar.now) {
        self.target = target
        self.verbose = verbose
        self.isTerminal = isTerminal
        self.write = write
        self.clock = clock
        self.start = clock()
    }

    /// Writes to standard output at once, in order with `print` (whose buffer it flushes).
    public static func writeToStandardOutput(_ text: String) {
        print(text, terminator: "")
        fflush(nil)
    }

    /// Whether standard output is a terminal (where the bar redraws in place).
    public static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) != 0 }

    /// Seconds on a monotonic clock.
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Reports that `current` steps are done, with the running `values`. The last step's line is
    /// written by `finish` (fit adds validation figures to it first); evaluate and predict finish here.
    public mutating func update(_ current: Int, values: [(String, Double)], finishing: Bool = true) {
        if current >= target && !finishing { return }
        draw(current, values: values)
    }

    /// Writes the finished line (with any validation figures).
    public mutating func finish(_ current: Int, values: [(String, Double)]) {
        draw(Swift.max(current, target), values: values)
    }

    private mutating func draw(_ current: Int, values: [(String, Double)]) {
        let finished = current >= target
        let t = clock()
        switch verbose {
        case 1:
            if isTerminal {
                guard finished || t - lastDraw >= 0.05 else { return }
                lastDraw = t
                write("\r" + line(current, values: values, elapsed: t - start, color: true) + (finished ? "\n" : ""))
            } else if finished {
                write(line(current, values: values, elapsed: t - start, color: false) + "\n")
            }
        case 2:
            if finished { write(ProgressBar.terse(current, target, values: values, elapsed: t - start) + "\n") }
        default:
            break
        }
    }

    /// The verbose-1 line.
    func line(_ current: Int, values: [(String, Double)], elapsed: Double, color: Bool) -> String {
        let digits = String(target).count
        let count = String(repeating: " ", count: Swift.max(0, digits - String(current).count)) + "\(current)/\(target)"
        let width = 20
        let done = target > 0 ? Swift.min(width, Int(Double(width) * Double(current) / Double(target))) : width
        let bar: String
        if color {
            bar = "\u{1B}[1m" + String(repeating: "━", count: done) + "\u{1B}[0m"
                + "\u{1B}[2m" + String(repeating: "━", count: width - done) + "\u{1B}[0m"
        } else {
            bar = String(repeating: "━", count: width)
        }
        let perStep = current > 0 ? elapsed / Double(current) : 0
        let time = current >= target ? elapsed : perStep * Double(target - current)
        return "\(count) \(bar) \(Int(time.rounded()))s \(ProgressBar.stepTime(perStep))" + ProgressBar.metrics(values)
    }

    /// The verbose-2 line.
    static func terse(_ current: Int, _ target: Int, values: [(String, Double)], elapsed: Double) -> String {
        let perStep = current > 0 ? elapsed / Double(current) : 0
        return "\(current)/\(target) - \(Int(elapsed.rounded()))s - \(stepTime(perStep))" + metrics(values)
    }

    /// `111ms/step`, `56us/step` or `2s/step`, as Keras rounds them.
    static func stepTime(_ seconds: Double) -> String {
        if seconds >= 1 || seconds == 0 { return "\(Int(seconds.rounded()))s/step" }
        if seconds >= 1e-3 { return "\(Int((seconds * 1e3).rounded()))ms/step" }
        return "\(Int((seconds * 1e6).rounded()))us/step"
    }

    /// ` - name: 0.1234` for each value (scientific below 1e-3, as Keras).
    static func metrics(_ values: [(String, Double)]) -> String {
        values.map { " - \($0.0): \(format($0.1))" }.joined()
    }

    static func format(_ v: Double) -> String {
        if v != 0 && Swift.abs(v) < 1e-3 { return String(cFormat: "%.4e", v) }
        return String(cFormat: "%.4f", v)
    }
}

extension String {
    /// printf-style formatting of one Double.
    init(cFormat: String, _ value: Double) {
        var buffer = [CChar](repeating: 0, count: 64)
        _ = withVaList([value]) { vsnprintf(&buffer, buffer.count, cFormat, $0) }
        self = String(cString: buffer)
    }
}
