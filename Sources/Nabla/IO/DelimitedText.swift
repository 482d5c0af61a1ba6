import Foundation

/// Rows of a CSV or TSV file, read the way pandas and Keras users expect: any line ending, a
/// byte-order mark, RFC 4180 quoting, blank lines skipped, fields trimmed, and a header row detected
/// (or forced either way).
///
/// ```swift
/// let table = try DelimitedTable(path: "reviews.csv")
/// table.columnNames          // ["label", "text"]  (or column0, column1 without a header)
/// table.rows[0]              // ["pos", "Great, \"really\" great"]
/// table.lineNumbers[0]       // 2: where the row starts in the file, for error messages
/// ```
public struct DelimitedTable: Sendable, Equatable {
    /// Whether the first row is a header.
    public enum Header: Sendable, Equatable {
        /// Decided from the data (see ``DelimitedTable/detectHeader(_:)``).
        case auto
        case present
        case absent
    }

    /// How quotes are read.
    public enum Quoting: Sendable, Equatable {
        /// RFC 4180 when every quoted field in the file is well formed; otherwise (a file of sentences
        /// such as `"Wow" he said<TAB>1`) every field is read literally, quotes included.
        case auto
        case rfc4180
        case none
    }

    /// The file (or the description of in-memory data) the rows came from.
    public let source: String
    /// The separator byte (`,` or tab unless given).
    public let separator: UInt8
    /// Header names, or `column0`, `column1`, ... when there is no header.
    public let columnNames: [String]
    /// Whether the first row was taken as a header, and whether that was detected rather than told.
    public let hasHeader: Bool
    public let headerDetected: Bool
    /// Whether RFC 4180 quoting was applied.
    public let quoted: Bool
    /// The data rows (fields trimmed; rows may have more or fewer fields than `columnNames`).
    public let rows: [[String]]
    /// The 1-based line on which each row starts.
    public let lineNumbers: [Int]

    /// Reads `path`.
    ///
    /// - Parameters:
    ///   - path: the file.
    ///   - separator: the field separator; by default tab when the first lines hold a tab, else comma.
    ///   - header: whether the first row names the columns (detected by default).
    ///   - quoting: how double quotes are read.
    public init(path: String, separator: Character? = nil, header: Header = .auto, quoting: Quoting = .auto) throws(TextFileError) {
        try self.init(bytes: try TextFile.bytes(path), source: path, separator: separator, header: header, quoting: quoting)
    }

    /// Parses `bytes` as `init(path:)` parses a file; `source` names them in errors.
    public init(bytes raw: [UInt8], source: String, separator: Character? = nil, header: Header = .auto, quoting: Quoting = .auto) throws(TextFileError) {
        let bytes = try TextFile.normalise(raw, source: source)
        let sep: UInt8
        if let separator {
            guard let a = separator.asciiValue, a != 0x0A, a != 0x22 else { throw TextFileError(file: source, "the separator must be one ASCII character other than a quote or newline") }
            sep = a
        } else {
            sep = Self.sniffSeparator(bytes)
        }
        var parsed: (rows: [[String]], lines: [Int])?
        if quoting != .none { parsed = Self.parse(bytes, separator: sep, quoted: true) }
        if parsed == nil && quoting == .rfc4180 {
            throw TextFileError(file: source, "malformed quoting (a quote inside a quoted field must be doubled)")
        }
        self.quoted = parsed != nil
        let (allRows, allLines) = parsed ?? Self.parse(bytes, separator: sep, quoted: false)!
        guard !allRows.isEmpty else { throw TextFileError(file: source, "no rows: the file holds only blank lines") }
        let headerPresent: Bool
        switch header {
        case .auto: headerPresent = Self.detectHeader(allRows)
        case .present: headerPresent = true
        case .absent: headerPresent = false
        }
        self.source = source
        self.separator = sep
        hasHeader = headerPresent
        headerDetected = header == .auto && headerPresent
        // Without a header, the usual row length (a stray separator in one text does not add a column).
        var lengths: [Int: Int] = [:]
        for r in allRows { lengths[r.count, default: 0] += 1 }
        let width = lengths.max { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }!.key
        columnNames = headerPresent ? allRows[0] : (0..<width).map { "column\($0)" }
        rows = Array(allRows.dropFirst(headerPresent ? 1 : 0))
        lineNumbers = Array(allLines.dropFirst(headerPresent ? 1 : 0))
    }

    /// The index of the column named `nameOrIndex` (a header name, else a 0-based index), or an error
    /// listing the columns.
    ///
    /// - Parameter nameOrIndex: a header name or a 0-based column number.
    public func column(_ nameOrIndex: String) throws(TextFileError) -> Int {
        if let i = columnNames.firstIndex(of: nameOrIndex) { return i }
        if let i = columnNames.firstIndex(where: { $0.lowercased() == nameOrIndex.lowercased() }) { return i }
        if let i = Int(nameOrIndex), i >= 0, i < columnNames.count { return i }
        throw TextFileError(file: source, "no column \"\(nameOrIndex)\"; columns: \(columnNames.joined(separator: ", ")) (or an index 0–\(columnNames.count - 1))")
    }

    /// A line for the user that says how the file was read, e.g. `reviews.csv: header row "label, text"
    /// (detected; --no-header reads it as data)`.
    public var headerNote: String {
        guard hasHeader else { return "\(source): no header row" }
        return "\(source): header row \"\(columnNames.joined(separator: ", "))\"" + (headerDetected ? " (detected; --no-header reads it as data)" : "")
    }

    /// The separator that splits the first lines most consistently into two or more fields (tab,
    /// comma or semicolon, quotes respected; ties go to tab, then comma); comma for one column.
    static func sniffSeparator(_ bytes: [UInt8]) -> UInt8 {
        var end = Swift.min(bytes.count, 1 << 16)
        if end < bytes.count, let lf = bytes[..<end].lastIndex(of: 0x0A) { end = lf + 1 }
        let head = Array(bytes[..<end])
        var best: (separator: UInt8, score: Double) = (0x2C, 0)
        for candidate: UInt8 in [0x09, 0x2C, 0x3B] where head.contains(candidate) {
            guard let rows = (parse(head, separator: candidate, quoted: true) ?? parse(head, separator: candidate, quoted: false))?.rows.prefix(200),
                  !rows.isEmpty else { continue }
            var lengths: [Int: Int] = [:]
            for r in rows { lengths[r.count, default: 0] += 1 }
            let (width, count) = lengths.max { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }!
            guard width >= 2 else { continue }
            let score = Double(count) / Double(rows.count)
            if score > best.score + 1e-9 { best = (candidate, score) }
        }
        return best.separator
    }

    /// The rows of `bytes` (LF endings) and the line each starts on; with `quoted`, nil when a quoted
    /// field is malformed.
    static func parse(_ b: [UInt8], separator sep: UInt8, quoted: Bool) -> (rows: [[String]], lines: [Int])? {
        var rows: [[String]] = [], lines: [Int] = []
        var row: [String] = []
        var line = 1, rowLine = 1
        var i = 0
        let n = b.count
        var field: [UInt8] = []
        @inline(__always) func isSpace(_ c: UInt8) -> Bool { (c == 0x20 || c == 0x09 || c == 0x0B || c == 0x0C) && c != sep }
        func finishRow() {
            // A row of empty fields is a blank line.
            if !row.allSatisfy(\.isEmpty) {
                rows.append(row)
                lines.append(rowLine)
            }
            row = []
        }
        while i <= n {
            // Start of a field: skip leading blanks.
            while i < n && isSpace(b[i]) { i += 1 }
            field.removeAll(keepingCapacity: true)
            if quoted && i < n && b[i] == 0x22 {
                i += 1
                var closed = false
                while i < n {
                    let c = b[i]
                    if c == 0x22 {
                        if i + 1 < n && b[i + 1] == 0x22 { field.append(0x22); i += 2; continue }
                        i += 1
                        closed = true
                        break
                    }
                    if c == 0x0A { line += 1 }
                    field.append(c)
                    i += 1
                }
                guard closed else { return nil }
                while i < n && isSpace(b[i]) { i += 1 }
                guard i == n || b[i] == sep || b[i] == 0x0A else { return nil }
                // Surrounding whitespace goes inside quotes too, so that a quoted and an unquoted copy
                // of the same file read the same.
                row.append(String(decoding: field, as: UTF8.self).trimmingCharacters(in: .whitespaces))
            } else {
                let start = i
                while i < n && b[i] != sep && b[i] != 0x0A { i += 1 }
                var end = i
                while end > start && isSpace(b[end - 1]) { end -= 1 }
                row.append(String(decoding: b[start..<end], as: UTF8.self))
            }
            if i >= n {
                finishRow()
                break
            }
            if b[i] == 0x0A {
                finishRow()
                line += 1
                rowLine = line
                i += 1
                if i == n { break }
            } else {
                i += 1   // the separator
            }
        }
        return (rows, lines)
    }

    /// Whether the first row is a header, as users of pandas and csv.Sniffer expect: it is when some
    /// column holds numbers in every other row but not in the first, or when some column holds few
    /// distinct values (labels) and the first row's value is not one of them, or when every field of
    /// the first row is a usual column name (label, text, ...).
    public static func detectHeader(_ rows: [[String]]) -> Bool {
        guard let first = rows.first else { return false }
        let usual: Set<String> = ["label", "labels", "class", "category", "target", "sentiment", "y", "text", "sentence", "message",
                                  "review", "content", "document", "body", "comment", "tweet", "title", "id"]
        if !first.isEmpty && first.allSatisfy({ usual.contains($0.lowercased()) }) { return true }
        let rest = rows.dropFirst().prefix(10_000)
        guard !rest.isEmpty else { return false }
        for (j, head) in first.enumerated() {
            let values = rest.compactMap { j < $0.count ? $0[j] : nil }
            guard values.count == rest.count, Double(head) == nil, !head.isEmpty else { continue }
            if values.allSatisfy({ Double($0) != nil }) { return true }
            let distinct = Set(values)
            if distinct.count <= Swift.max(2, values.count / 10) && values.count >= 4 && !distinct.contains(head) { return true }
        }
        return false
    }
}
