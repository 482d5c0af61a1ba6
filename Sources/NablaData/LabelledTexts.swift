import Foundation
import Nabla

/// Labelled texts from a CSV or TSV file — `label<TAB>text`, `sentence<TAB>label`, a CSV with named
/// columns — read through `DelimitedTable`: any line ending, a byte-order mark, a header row
/// (detected or told), RFC 4180 quoting, blank lines and surrounding whitespace.
///
/// Without column names given, the label is a column named like one (`label`, `class`, `sentiment`,
/// ...) or else the column with the fewest distinct values; the text is a column named like one
/// (`text`, `sentence`, ...) or else the other column with the longest values. A row with more fields
/// than columns keeps the extra separators in its text when the text is the first or last column.
///
/// ```swift
/// let data = try LabelledTexts(path: "imdb_labelled.txt")        // sentence<TAB>label, no header
/// data.labels[0], data.texts[0]                                    // ("0", "A very, very, very slow-moving...")
/// let spam = try LabelledTexts(path: "spam.csv", labelColumn: "v1", textColumn: "v2")
/// ```
public struct LabelledTexts: Sendable, Equatable {
    public private(set) var labels: [String] = []
    public private(set) var texts: [String] = []
    /// The file and line of each row, for messages.
    public private(set) var origins: [String] = []
    /// How the file was read (header, columns), one line for the user; empty for in-memory rows.
    public private(set) var note = ""

    /// Reads `path`.
    ///
    /// - Parameters:
    ///   - path: a CSV/TSV file.
    ///   - header: whether the first row names the columns (detected by default).
    ///   - labelColumn: the label column's name or 0-based index (chosen from the data by default).
    ///   - textColumn: the text column's name or 0-based index (chosen from the data by default).
    ///   - separator: the field separator (tab or comma, sniffed by default).
    public init(path: String, header: DelimitedTable.Header = .auto, labelColumn: String? = nil, textColumn: String? = nil,
                separator: Character? = nil) throws(TextFileError) {
        try self.init(table: try DelimitedTable(path: path, separator: separator, header: header), labelColumn: labelColumn, textColumn: textColumn)
    }

    /// The labelled texts of a parsed table (see `init(path:...)`).
    /// - Parameters:
    ///   - table: the parsed rows.
    ///   - labelColumn: the label column by header name or 0-based index (default: by name, else the one with fewest distinct values).
    ///   - textColumn: the text column by name or index (default: by name, else the longest).
    public init(table: DelimitedTable, labelColumn: String? = nil, textColumn: String? = nil) throws(TextFileError) {
        let source = table.source
        let width = table.columnNames.count
        guard width >= 2 else {
            throw TextFileError(file: source, line: table.lineNumbers.first,
                                "needs a label and a text on each line, separated by a tab or comma; found one column")
        }
        let names = table.columnNames.map { $0.lowercased() }
        let labelNames = ["label", "labels", "class", "category", "target", "sentiment", "y"]
        let textNames = ["text", "sentence", "message", "review", "content", "document", "body", "comment", "tweet"]
        let sample = table.rows.prefix(5_000).filter { $0.count == width }
        func distinct(_ j: Int) -> Int { Set(sample.map { $0[j] }).count }
        func meanLength(_ j: Int) -> Double { Double(sample.reduce(0) { $0 + $1[j].utf8.count }) / Double(Swift.max(1, sample.count)) }

        let givenText = try textColumn.map { c throws(TextFileError) in try table.column(c) }
        let label: Int
        if let labelColumn { label = try table.column(labelColumn) }
        else if table.hasHeader, let i = labelNames.lazy.compactMap({ names.firstIndex(of: $0) }).first { label = i }
        else { label = (0..<width).filter { $0 != givenText }.min { distinct($0) < distinct($1) }! }
        let text: Int
        if let givenText { text = givenText }
        else if table.hasHeader, let i = textNames.lazy.compactMap({ names.firstIndex(of: $0) }).first(where: { $0 != label }) { text = i }
        else { text = (0..<width).filter { $0 != label }.max { meanLength($0) < meanLength($1) }! }
        guard label != text else { throw TextFileError(file: source, "the label and text columns are the same column (\(table.columnNames[label]))") }

        let sep = String(UnicodeScalar(table.separator))
        let sepName = table.separator == 0x09 ? "a tab" : table.separator == 0x2C ? "a comma" : "'\(sep)'"
        labels.reserveCapacity(table.rows.count)
        texts.reserveCapacity(table.rows.count)
        for (row, line) in zip(table.rows, table.lineNumbers) {
            var fields = row
            if fields.count > width {
                // Separators inside an unquoted text: they belong to the text when it is at an edge.
                let extra = fields.count - width
                if text == width - 1 {
                    fields = Array(fields[..<text]) + [fields[text...].joined(separator: sep)]
                } else if text == 0 {
                    fields = [fields[...extra].joined(separator: sep)] + Array(fields[(extra + 1)...])
                } else {
                    throw TextFileError(file: source, line: line, "\(row.count) fields, expected \(width)")
                }
            }
            guard fields.count == width else {
                throw TextFileError(file: source, line: line,
                                    "\(fields.count) field\(fields.count == 1 ? "" : "s"), expected \(width) separated by \(sepName) (\(table.columnNames.joined(separator: ", ")))")
            }
            guard !fields[label].isEmpty else { throw TextFileError(file: source, line: line, "empty label in column \(table.columnNames[label])") }
            labels.append(fields[label])
            texts.append(fields[text])
            origins.append("\(source):\(line)")
        }
        guard !texts.isEmpty else { throw TextFileError(file: source, "no labelled rows") }
        let how = labelColumn == nil && textColumn == nil ? "chosen from the data; --label-column/--text-column choose others" : "as asked"
        note = table.headerNote + "; label column \(table.columnNames[label]), text column \(table.columnNames[text]) (\(how))"
    }

    /// Rows given directly.
    public init(labels: [String], texts: [String]) {
        nablaPrecondition(labels.count == texts.count, "LabelledTexts: \(labels.count) labels for \(texts.count) texts")
        self.labels = labels
        self.texts = texts
        origins = labels.indices.map { "row \($0 + 1)" }
    }

    public var count: Int { texts.count }

    /// The rows at `indices`, in that order.
    public func subset(_ indices: some Sequence<Int>) -> LabelledTexts {
        var out = LabelledTexts(labels: [], texts: [])
        for i in indices {
            out.labels.append(labels[i])
            out.texts.append(texts[i])
            out.origins.append(origins[i])
        }
        out.note = note
        return out
    }

    /// These rows followed by `other`'s.
    public func appending(_ other: LabelledTexts) -> LabelledTexts {
        var out = self
        out.labels += other.labels
        out.texts += other.texts
        out.origins += other.origins
        out.note = [note, other.note].filter { !$0.isEmpty }.joined(separator: "\n")
        return out
    }
}
