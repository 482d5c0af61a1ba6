import Nabla

extension Model {
    /// Keras's summary table: each layer's name and type, output shape and parameter count (and,
    /// for functional models, what it is connected to), then the totals.
    ///
    /// ```swift
    /// print(model.summary())
    /// ```
    public func summary() -> String {
        var rows: [[String]] = []
        let functional = isFunctional
        if functional {
            for t in plan {
                let layer = t.layer
                let connected = t.inputs.isEmpty ? "-" : t.inputs.map { "\($0.layer.name)[0][0]" }.joined(separator: ", ")
                rows.append(["\(layer.name) (\(layer is InputLayer ? "InputLayer" : layer.typeName))",
                             kerasShape(t.shape), Model.grouped(layer.parameterCount), connected])
            }
        } else if layers.isEmpty {
            // A subclassed model (GPT, the text models): its layers in the order they are declared, by
            // property name (stable across save and load, unlike generated layer names), with the
            // output shape each was built for.
            for (property, child) in children() {
                guard let layer = child as? Layer else { continue }
                let out = layer.builtInputShapes.map { kerasShape([nil] + layer.outputShape(for: $0)) } ?? "?"
                rows.append(["\(property) (\(layer.typeName))", out, Model.grouped(layer.parameterCount)])
            }
        } else {
            var shape = expectedInputShapes?.first
            for layer in layers {
                let out = shape.map { layer.outputShape(for: [$0]) }
                rows.append(["\(layer.name) (\(layer.typeName))", out.map { kerasShape([nil] + $0) } ?? "?",
                             layer.isBuilt ? Model.grouped(layer.parameterCount) : "0 (unbuilt)"])
                shape = out
            }
        }
        let headers = functional ? ["Layer (type)", "Output Shape", "Param #", "Connected to"] : ["Layer (type)", "Output Shape", "Param #"]
        var widths = functional ? [27, 24, 16, 24] : [38, 29, 17]
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = Swift.max(widths[i], cell.count + 2) } }
        let rightAligned = 2
        func cells(_ values: [String]) -> [String] {
            values.enumerated().map { i, v in
                let pad = String(repeating: " ", count: widths[i] - 2 - v.count)
                return " " + (i == rightAligned ? pad + v : v + pad) + " "
            }
        }
        func rule(_ left: String, _ fill: String, _ mid: String, _ right: String) -> String {
            left + widths.map { String(repeating: fill, count: $0) }.joined(separator: mid) + right
        }
        var lines = ["Model: \"\(name)\""]
        lines.append(rule("┏", "━", "┳", "┓"))
        lines.append("┃" + cells(headers).joined(separator: "┃") + "┃")
        lines.append(rule("┡", "━", "╇", "┩"))
        for (i, row) in rows.enumerated() {
            lines.append("│" + cells(row).joined(separator: "│") + "│")
            lines.append(i == rows.count - 1 ? rule("└", "─", "┴", "┘") : rule("├", "─", "┼", "┤"))
        }
        let total = parameterCount, trainable = trainableParameterCount
        lines.append(" Total params: \(Model.grouped(total)) (\(Model.memory(total * 4)))")
        lines.append(" Trainable params: \(Model.grouped(trainable)) (\(Model.memory(trainable * 4)))")
        lines.append(" Non-trainable params: \(Model.grouped(total - trainable)) (\(Model.memory((total - trainable) * 4)))")
        return lines.joined(separator: "\n")
    }

    /// 1,474
    static func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, ch) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return String(out.reversed())
    }

    /// 5.76 KB, as Keras's readable_memory_size.
    static func memory(_ bytes: Int) -> String {
        var v = Double(bytes)
        var unit = 0
        let units = ["B", "KB", "MB", "GB", "TB"]
        while v >= 1024 && unit < units.count - 1 {
            v /= 1024
            unit += 1
        }
        return String(cFormat: "%.2f", v) + " " + units[unit]
    }
}
