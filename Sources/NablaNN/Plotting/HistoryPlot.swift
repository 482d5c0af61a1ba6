import Foundation
import Nabla

/// Training curves as an SVG picture: one panel per quantity (loss, then each metric), training as a
/// solid line and validation as a dashed one, with axes, ticks, grid, legend and title — no Python.
///
/// ```swift
/// let svg = HistoryPlot.svg(history.history, title: "digits MLP")
/// try svg.write(toFile: "training.svg", atomically: true, encoding: .utf8)
/// ```
public enum HistoryPlot {
    static let panelWidth = 420.0, panelHeight = 300.0
    static let margin = (left: 64.0, right: 16.0, top: 56.0, bottom: 52.0)
    static let trainColor = "#1f77b4", validationColor = "#ff7f0e"

    /// The SVG document for `history` (series by name, one value per epoch; `val_x` pairs with `x`).
    public static func svg(_ history: [String: [Double]], title: String = "Training history") -> String {
        let quantities = history.keys.filter { !$0.hasPrefix("val_") && $0 != "epoch" && $0 != "learning_rate" }
            .sorted { a, b in a == "loss" ? true : (b == "loss" ? false : a < b) }
        let panels = quantities.isEmpty ? [""] : quantities
        let width = Double(panels.count) * (panelWidth + margin.left + margin.right)
        let height = panelHeight + margin.top + margin.bottom + 36
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(fmt(width))" height="\(fmt(height))" viewBox="0 0 \(fmt(width)) \(fmt(height))" font-family="Helvetica, Arial, sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(fmt(width / 2))" y="24" text-anchor="middle" font-size="18" font-weight="bold">\(escape(title))</text>

            """
        for (i, q) in panels.enumerated() {
            let x0 = Double(i) * (panelWidth + margin.left + margin.right) + margin.left
            out += panel(q, train: history[q] ?? [], validation: history["val_" + q] ?? [], x0: x0, y0: margin.top)
        }
        return out + "</svg>\n"
    }

    static func panel(_ name: String, train: [Double], validation: [Double], x0: Double, y0: Double) -> String {
        let values = (train + validation).filter(\.isFinite)
        let epochs = Swift.max(train.count, validation.count)
        var out = "<g>\n"
        out += "<text x=\"\(fmt(x0 + panelWidth / 2))\" y=\"\(fmt(y0 - 12))\" text-anchor=\"middle\" font-size=\"14\">\(escape(name.isEmpty ? "no data" : name))</text>\n"
        guard !values.isEmpty, epochs > 0 else { return out + "</g>\n" }
        var lo = values.min()!, hi = values.max()!
        if lo == hi { lo -= 0.5; hi += 0.5 }
        let yTicks = niceTicks(lo, hi, count: 5)
        lo = Swift.min(lo, yTicks.first!); hi = Swift.max(hi, yTicks.last!)
        let xTicks = niceTicks(1, Double(Swift.max(epochs, 2)), count: 6).filter { $0 >= 1 && $0 <= Double(epochs) && $0 == $0.rounded() }
        func px(_ epoch: Double) -> Double { x0 + (epochs == 1 ? panelWidth / 2 : (epoch - 1) / Double(epochs - 1) * panelWidth) }
        func py(_ v: Double) -> Double { y0 + panelHeight - (v - lo) / (hi - lo) * panelHeight }
        // Grid, ticks and labels.
        for t in yTicks {
            out += "<line x1=\"\(fmt(x0))\" y1=\"\(fmt(py(t)))\" x2=\"\(fmt(x0 + panelWidth))\" y2=\"\(fmt(py(t)))\" stroke=\"#e0e0e0\"/>\n"
            out += "<text x=\"\(fmt(x0 - 6))\" y=\"\(fmt(py(t) + 4))\" text-anchor=\"end\" font-size=\"11\">\(tickLabel(t, step: yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1))</text>\n"
        }
        for t in xTicks {
            out += "<line x1=\"\(fmt(px(t)))\" y1=\"\(fmt(y0 + panelHeight))\" x2=\"\(fmt(px(t)))\" y2=\"\(fmt(y0 + panelHeight + 5))\" stroke=\"black\"/>\n"
            out += "<text x=\"\(fmt(px(t)))\" y=\"\(fmt(y0 + panelHeight + 18))\" text-anchor=\"middle\" font-size=\"11\">\(Int(t))</text>\n"
        }
        out += "<rect x=\"\(fmt(x0))\" y=\"\(fmt(y0))\" width=\"\(fmt(panelWidth))\" height=\"\(fmt(panelHeight))\" fill=\"none\" stroke=\"black\"/>\n"
        out += "<text x=\"\(fmt(x0 + panelWidth / 2))\" y=\"\(fmt(y0 + panelHeight + 38))\" text-anchor=\"middle\" font-size=\"12\">epoch</text>\n"
        out += "<text transform=\"translate(\(fmt(x0 - 48)),\(fmt(y0 + panelHeight / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">\(escape(name))</text>\n"
        // Series.
        func series(_ data: [Double], color: String, dashed: Bool) -> String {
            let points = data.enumerated().filter { $0.element.isFinite }.map { "\(fmt(px(Double($0.offset + 1)))),\(fmt(py($0.element)))" }
            guard !points.isEmpty else { return "" }
            var s = "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dashed ? " stroke-dasharray=\"6 4\"" : "") points=\"\(points.joined(separator: " "))\"/>\n"
            for p in points {
                let c = p.split(separator: ",")
                s += "<circle cx=\"\(c[0])\" cy=\"\(c[1])\" r=\"2.5\" fill=\"\(color)\"/>\n"
            }
            return s
        }
        out += series(train, color: trainColor, dashed: false)
        out += series(validation, color: validationColor, dashed: true)
        // Legend, in the corner the curves leave free: bottom right when they end high.
        let tail = train.suffix(Swift.max(1, train.count / 3)).filter(\.isFinite)
        let endsHigh = !tail.isEmpty && tail.reduce(0, +) / Double(tail.count) > (lo + hi) / 2
        let entries = (train.isEmpty ? 0 : 1) + (validation.isEmpty ? 0 : 1)
        var ly = endsHigh ? y0 + panelHeight - 10 - Double(entries - 1) * 16 - 4 : y0 + 14
        out += "<rect x=\"\(fmt(x0 + panelWidth - 116))\" y=\"\(fmt(ly - 10))\" width=\"108\" height=\"\(fmt(Double(entries) * 16 + 4))\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#c0c0c0\"/>\n"
        for (label, color, present, dashed) in [("training", trainColor, !train.isEmpty, false), ("validation", validationColor, !validation.isEmpty, true)] where present {
            out += "<line x1=\"\(fmt(x0 + panelWidth - 110))\" y1=\"\(fmt(ly))\" x2=\"\(fmt(x0 + panelWidth - 86))\" y2=\"\(fmt(ly))\" stroke=\"\(color)\" stroke-width=\"2\"\(dashed ? " stroke-dasharray=\"6 4\"" : "")/>\n"
            out += "<text x=\"\(fmt(x0 + panelWidth - 80))\" y=\"\(fmt(ly + 4))\" font-size=\"11\">\(label)</text>\n"
            ly += 16
        }
        return out + "</g>\n"
    }

    /// About `count` round tick values covering [lo, hi] (1, 2 or 5 times a power of ten apart).
    static func niceTicks(_ lo: Double, _ hi: Double, count: Int) -> [Double] {
        let raw = (hi - lo) / Double(Swift.max(count - 1, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2.0, 5.0, 10.0].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let start = floor(lo / step) * step
        var ticks: [Double] = []
        var t = start
        while t <= hi + step * 1e-9 {
            ticks.append((t / step).rounded() * step)
            t += step
        }
        if ticks.last! < hi { ticks.append(ticks.last! + step) }
        return ticks
    }

    static func tickLabel(_ v: Double, step: Double) -> String {
        let decimals = Swift.max(0, Int(-floor(log10(Swift.abs(step)))))
        return String(format: "%.\(decimals)f", v)
    }

    static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// The history in a CSV file written by ``CSVLogger`` (`epoch` then one column per quantity).
    public static func readCSV(_ path: String) throws(NablaError) -> [String: [Double]] {
        let table: DelimitedTable
        do { table = try DelimitedTable(path: path, separator: ",", header: .present, quoting: .none) } catch { throw .invalidState(error.description) }
        let header = table.columnNames
        guard header.count >= 2 else { throw .invalidState("\(path): no header line with at least two columns") }
        var out: [String: [Double]] = [:]
        for (fields, line) in zip(table.rows, table.lineNumbers) {
            guard fields.count == header.count else { throw .invalidState("\(path):\(line): \(fields.count) fields, expected \(header.count)") }
            for (name, f) in zip(header, fields) where name != "epoch" {
                guard let v = Double(f) else { throw .invalidState("\(path):\(line): column \(name): \"\(f)\" is not a number") }
                out[name, default: []].append(v)
            }
        }
        return out
    }
}
