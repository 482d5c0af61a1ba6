import Foundation
import Nabla
import NablaData
import Testing

/// One small labelled data set written every way users' files come: line endings, byte-order mark,
/// header, quoting, separator and column order. Every variant must read back as the same rows.
enum TextVariants {
    /// Texts that every variant can hold (no separator, no leading quote).
    static let plain: [(String, String)] = (0..<24).map { i in
        let words = ["great phone", "terrible battery life", "works fine", "broke after a week", "love it so much", "never again"]
        return (i % 3 == 0 ? "neg" : "pos", "\(words[i % words.count]) number \(i) it's 5\" wide")
    }
    /// Texts only quoting can hold: separators, quotes at the start, line breaks inside.
    static let tricky: [(String, String)] = plain.enumerated().map { i, row in
        switch i % 4 {
        case 0: (row.0, "\"Quoted\" start, with comma\tand tab")
        case 1: (row.0, "two\nlines, \"here\"")
        case 2: (row.0, "  kept inside quotes? no: trimmed , x")
        default: row
        }
    }

    struct Variant: CustomStringConvertible {
        var ending: String, bom: Bool, header: Bool, quoting: Quoting, labelLast: Bool, separator: Character, blankLines: Bool
        enum Quoting: String { case none, minimal, all }
        var description: String {
            "ending \(ending.debugDescription) bom \(bom) header \(header) quoting \(quoting) labelLast \(labelLast) separator \(separator.debugDescription) blanks \(blankLines)"
        }
    }

    static var all: [Variant] {
        var out: [Variant] = []
        for ending in ["\n", "\r\n", "\r"] {
            for bom in [false, true] {
                for header in [false, true] {
                    for quoting in [Variant.Quoting.none, .minimal, .all] {
                        for labelLast in [false, true] {
                            for separator: Character in ["\t", ","] {
                                out.append(Variant(ending: ending, bom: bom, header: header, quoting: quoting, labelLast: labelLast,
                                                   separator: separator, blankLines: labelLast == bom))
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    static func field(_ s: String, _ v: Variant) -> String {
        switch v.quoting {
        case .none: return s
        case .all: return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        case .minimal:
            let needs = s.contains(v.separator) || s.contains("\"") || s.contains("\n") || s.first == " " || s.last == " "
            return needs ? field(s, Variant(ending: v.ending, bom: v.bom, header: v.header, quoting: .all, labelLast: v.labelLast,
                                             separator: v.separator, blankLines: v.blankLines)) : s
        }
    }

    /// The file's bytes for `rows` written as `v`.
    static func bytes(_ rows: [(String, String)], _ v: Variant) -> [UInt8] {
        var lines: [String] = []
        func line(_ label: String, _ text: String) -> String {
            let (l, t) = (field(label, v), field(text, v))
            return v.labelLast ? "\(t)\(v.separator)\(l)" : "\(l)\(v.separator)\(t)"
        }
        if v.header { lines.append(line("label", "text")) }
        for (i, r) in rows.enumerated() {
            lines.append(line(r.0, r.1) + (i % 5 == 1 && v.quoting == .none ? "   " : ""))
            if v.blankLines && i % 7 == 3 { lines.append(i % 2 == 0 ? "" : "  ") }
        }
        let text = lines.joined(separator: v.ending) + v.ending
        return (v.bom ? [0xEF, 0xBB, 0xBF] : []) + Array(text.utf8)
    }

    /// What a reader must return: fields trimmed, line breaks inside quotes as LF.
    static func expected(_ rows: [(String, String)]) -> (labels: [String], texts: [String]) {
        (rows.map(\.0), rows.map { $0.1.trimmingCharacters(in: .whitespaces) })
    }
}

@Suite("Reading users' text files")
struct TextReadingTests {
    @Test("every combination of endings, BOM, header, quoting, separator and column order reads the same rows")
    func variants() throws {
        for v in TextVariants.all {
            let rows = v.quoting == .none || v.separator == "," && v.quoting == .none ? TextVariants.plain : TextVariants.tricky
            let data = TextVariants.bytes(rows, v)
            let table: DelimitedTable
            do { table = try DelimitedTable(bytes: data, source: "variant") } catch { Issue.record("\(v): \(error)"); continue }
            #expect(table.hasHeader == v.header, "\(v)")
            let read: LabelledTexts
            do { read = try LabelledTexts(table: table) } catch { Issue.record("\(v): \(error)"); continue }
            let want = TextVariants.expected(rows)
            #expect(read.labels == want.labels, "\(v)")
            #expect(read.texts == want.texts, "\(v)")
        }
    }

    @Test("header detection: a numeric column, a label column, usual names; forced either way")
    func headers() throws {
        func header(_ s: String, _ mode: DelimitedTable.Header = .auto) throws -> Bool {
            try DelimitedTable(bytes: Array(s.utf8), source: "t", header: mode).hasHeader
        }
        #expect(try header("a,b\n1,2\n3,4\n"))
        #expect(try !header("1,2\n3,4\n"))
        #expect(try header("sentence\tscore\ngood\t1\nbad\t0\nok\t1\nmeh\t0\n"))
        #expect(try header("kind\tmessage\nham\thi\nspam\twin\nham\tyo\nham\tok\n"))
        #expect(try !header("ham\thi\nspam\twin\nham\tyo\nham\tok\n"))
        #expect(try header("Label\tText\n"))
        #expect(try !header("label\ttext\nham\thi\n", .absent))
        #expect(try header("ham\thi\nspam\twin\n", .present))
    }

    @Test("files with the label column last and sentences holding quotes read literally (UCI sentiment layout)")
    func literalQuotes() throws {
        let s = "\"Wow\" he said, it was fine.  \t1\nNot \"good\".\t0\n\"Hated it.\t0\nLoved it!\t1\n"
        let read = try LabelledTexts(table: try DelimitedTable(bytes: Array(s.utf8), source: "t"))
        #expect(read.labels == ["1", "0", "0", "1"])
        #expect(read.texts == ["\"Wow\" he said, it was fine.", "Not \"good\".", "\"Hated it.", "Loved it!"])
        let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/data/sentiment-sentences/imdb_labelled.txt")
        if FileManager.default.fileExists(atPath: shared.path) {
            let imdb = try LabelledTexts(path: shared.path)
            #expect(imdb.count == 1000 && Set(imdb.labels) == ["0", "1"])
        }
    }

    @Test("columns by name or index, and extra separators kept in a text at the edge")
    func columns() throws {
        let s = "id,sentiment,review\n1,pos,good\n2,neg,bad\n3,pos,fine\n4,neg,awful\n"
        let t = try DelimitedTable(bytes: Array(s.utf8), source: "t")
        let byName = try LabelledTexts(table: t)
        #expect(byName.labels == ["pos", "neg", "pos", "neg"] && byName.texts == ["good", "bad", "fine", "awful"])
        let byIndex = try LabelledTexts(table: t, labelColumn: "1", textColumn: "2")
        #expect(byIndex.labels == byName.labels && byIndex.texts == byName.texts)
        #expect(throws: TextFileError.self) { try LabelledTexts(table: t, labelColumn: "stars") }
        let tabs = try LabelledTexts(table: try DelimitedTable(bytes: Array("ham\ta\tb\nspam\tc\nham\td\n".utf8), source: "t"))
        #expect(tabs.texts == ["a\tb", "c", "d"])
    }

    @Test("bad files: one message naming the file and line")
    func errors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-text-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func message(_ body: () throws -> Void) -> String {
            do { try body() } catch { return "\(error)" }
            return "no error"
        }
        let bad = dir.appendingPathComponent("bad.tsv")
        try Data([0x68, 0x61, 0x6D, 0x09, 0x6F, 0x6B, 0x0A, 0x73, 0x70, 0x61, 0x6D, 0x09, 0xC3, 0x28, 0x0A]).write(to: bad)
        #expect(message { _ = try LabelledTexts(path: bad.path) } == "\(bad.path):2: invalid UTF-8 at byte 12; save the file as UTF-8")
        let empty = dir.appendingPathComponent("empty.tsv")
        try Data().write(to: empty)
        #expect(message { _ = try LabelledTexts(path: empty.path) } == "\(empty.path): the file is empty")
        #expect(message { _ = try LabelledTexts(path: dir.path) } == "\(dir.path): is a directory, not a file")
        #expect(message { _ = try LabelledTexts(path: dir.path + "/none.tsv") } == "\(dir.path)/none.tsv: no such file")
        let short = dir.appendingPathComponent("short.tsv")
        try "ham\thi\r\nspam\twin\r\nno label here\r\n".write(to: short, atomically: true, encoding: .utf8)
        #expect(message { _ = try LabelledTexts(path: short.path) } == "\(short.path):3: 1 field, expected 2 separated by a tab (column0, column1)")
        let blank = dir.appendingPathComponent("blank.tsv")
        try "\n  \r\n".write(to: blank, atomically: true, encoding: .utf8)
        #expect(message { _ = try LabelledTexts(path: blank.path) } == "\(blank.path): no rows: the file holds only blank lines")
    }

    @Test("TextFile: CRLF, CR and a BOM read as LF text; lines numbered as in an editor")
    func textFile() throws {
        #expect(try TextFile.decode([0xEF, 0xBB, 0xBF] + Array("a\r\nb\rc\n".utf8), source: "t") == "a\nb\nc\n")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-lines-\(UUID().uuidString).txt")
        try "emma\r\n\r\n olivia \r\nava".write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let lines = try TextFile.lines(url.path)
        #expect(lines.map(\.number) == [1, 3, 4] && lines.map(\.text) == ["emma", "olivia", "ava"])
    }

    @Test("numeric CSV: the same features and labels from every variant")
    func csvVariants() throws {
        let rows = (0..<12).map { i in ["\(Double(i) * 0.5)", "\(i * i)", i % 2 == 0 ? "even" : "odd"] }
        var reference: CSVDataset?
        for ending in ["\n", "\r\n", "\r"] {
            for bom in [false, true] {
                for quoted in [false, true] {
                    let q = { (s: String) in quoted ? "\"\(s)\"" : s }
                    let text = (["x,y,label"] + rows.map { $0.map(q).joined(separator: ",") }).joined(separator: ending) + ending
                    let data = Data((bom ? [0xEF, 0xBB, 0xBF] : []) + Array(text.utf8))
                    let csv = try CSVDataset(data: data, source: "v")
                    if let r = reference {
                        #expect(csv.features.toArray(Float.self) == r.features.toArray(Float.self))
                        #expect(csv.labels.toArray(Int32.self) == r.labels.toArray(Int32.self) && csv.classNames == r.classNames)
                    } else {
                        #expect(csv.features.shape == [12, 2] && csv.classNames == ["even", "odd"])
                        reference = csv
                    }
                }
            }
        }
    }
}
