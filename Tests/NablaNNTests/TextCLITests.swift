import Foundation
import Nabla
import Testing

/// `nabla text train` and `nabla train` on the same data written as users' files come: every variant
/// must train to the identical test accuracy with the same seed.
@Suite("nabla text and train on messy files", .enabled(if: CLI.binary != nil, "build the nabla executable first (swift build)"))
struct MessyFileCLITests {
    static let rows: [(String, String)] = (0..<160).map { i in
        let good = ["great", "love", "excellent", "fine", "happy"], bad = ["awful", "hate", "broken", "poor", "sad"]
        let positive = i % 2 == 0
        let words = positive ? good : bad
        return (positive ? "pos" : "neg", "\(words[i % 5]) and \(words[(i / 2) % 5]), item \(i % 13), \"quoted\" here")
    }

    static func write(_ rows: [(String, String)], ending: String, bom: Bool, header: Bool, labelLast: Bool, quoted: Bool, separator: String,
                      to url: URL) throws {
        func q(_ s: String) -> String { quoted ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
        var lines = header ? [labelLast ? "text\(separator)label" : "label\(separator)text"] : []
        for (i, (label, text)) in rows.enumerated() {
            lines.append(labelLast ? q(text) + separator + q(label) : q(label) + separator + q(text))
            if i % 17 == 5 { lines.append("") }
        }
        try Data((bom ? [0xEF, 0xBB, 0xBF] : []) + Array((lines.joined(separator: ending) + ending).utf8)).write(to: url)
    }

    static func accuracy(_ output: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix("test accuracy:") }.map(String.init)
    }

    @Test("nabla text train: the same accuracy from every ending, BOM, header, quoting and column order")
    func textVariants() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-text-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var results: [String: String] = [:]
        var n = 0
        for ending in ["\n", "\r\n", "\r"] {
            for (bom, header) in [(false, false), (true, true)] {
                for (labelLast, quoted) in [(false, false), (true, true), (true, false)] {
                    for separator in quoted ? ["\t", ","] : ["\t"] {
                        let url = dir.appendingPathComponent("v\(n).txt")
                        n += 1
                        try Self.write(Self.rows, ending: ending, bom: bom, header: header, labelLast: labelLast, quoted: quoted, separator: separator, to: url)
                        let r = try CLI.run(["text", "train", "--data", url.path, "--epochs", "3", "--verbose", "0", "--seed", "3"])
                        #expect(r.status == 0, "\(url.lastPathComponent): \(r.stderr)")
                        results["ending \(ending.debugDescription) bom \(bom) header \(header) labelLast \(labelLast) quoted \(quoted) sep \(separator.debugDescription)"] =
                            Self.accuracy(r.stdout) ?? "none: \(r.stdout) \(r.stderr)"
                    }
                }
            }
        }
        #expect(results.count == 24)
        #expect(Set(results.values).count == 1, "\(results)")
        #expect(results.values.first?.hasPrefix("test accuracy: ") == true)
    }

    @Test("nabla train on a numeric CSV: the same accuracy from every ending, BOM and quoting")
    func csvVariants() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-csv-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows = (0..<120).map { i in ["\(Double(i % 11) * 0.3 - (i % 2 == 0 ? 2 : -2))", "\(Double(i % 7) * 0.2)", i % 2 == 0 ? "blue" : "red"] }
        var results = Set<String>()
        for (n, (ending, bom, quoted)) in [("\n", false, false), ("\r\n", true, false), ("\r", false, true), ("\r\n", true, true)].enumerated() {
            let q = { (s: String) in quoted ? "\"\(s)\"" : s }
            let text = (["x1,x2,kind"] + rows.map { $0.map(q).joined(separator: ",") }).joined(separator: ending) + ending
            let url = dir.appendingPathComponent("v\(n).csv")
            try Data((bom ? [0xEF, 0xBB, 0xBF] : []) + Array(text.utf8)).write(to: url)
            let r = try CLI.run(["train", "--dataset", url.path, "--label-column", "kind", "--epochs", "3", "--verbose", "0"])
            #expect(r.status == 0, "\(r.stderr)")
            results.insert(Self.accuracy(r.stdout) ?? "none: \(r.stderr)")
        }
        #expect(results.count == 1, "\(results)")
    }

    @Test("nabla lm train: a corpus with LF, CRLF or CR endings and a BOM trains identically")
    func languageModelCorpus() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-lm-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let names = (0..<120).map { i in ["emma", "olivia", "ava", "isabella", "sophia", "mia", "charlotte", "amelia"][i % 8] + String(repeating: "a", count: i % 3) }
        var outputs = Set<String>()
        for (n, (ending, bom)) in [("\n", false), ("\r\n", false), ("\r", false), ("\r\n", true)].enumerated() {
            let url = dir.appendingPathComponent("names\(n).txt")
            try Data((bom ? [0xEF, 0xBB, 0xBF] : []) + Array((names.joined(separator: ending) + ending).utf8)).write(to: url)
            let r = try CLI.run(["lm", "train", "--data", url.path, "--model", "bigram", "--steps", "20", "--seed", "1"])
            #expect(r.status == 0, "\(r.stderr)")
            outputs.insert(r.stdout.split(separator: "\n").filter { $0.contains("vocabulary") || $0.hasPrefix("val loss") }.joined(separator: "\n"))
        }
        #expect(outputs.count == 1, "\(outputs)")
        #expect(outputs.first?.contains("vocabulary 15,") == true, "\(outputs)")   // 14 letters and the newline, no "\r"
    }

    @Test("every text model trains, saves and predicts; a bad file is one line naming it")
    func models() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-text-models-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("train.tsv")
        try Self.write(Self.rows, ending: "\r\n", bom: false, header: false, labelLast: false, quoted: false, separator: "\t", to: data)
        for model in ["fasttext", "cnn", "bilstm", "transformer", "average"] {
            let folder = dir.appendingPathComponent(model).path
            let r = try CLI.run(["text", "train", "--data", data.path, "--model", model, "--epochs", "4", "--length", "16", "--verbose", "0",
                                 "--validation-split", "0", "--save", folder])
            #expect(r.status == 0, "\(model): \(r.stderr)")
            #expect(Self.accuracy(r.stdout) != nil, "\(model)")
            let p = try CLI.run(["text", "predict", folder, "love and great, item 1", "hate and awful, item 2"])
            #expect(p.status == 0, "\(model): \(p.stderr)")
            let labels = p.stdout.split(separator: "\n").map { $0.split(separator: "\t").first.map(String.init) ?? "" }
            #expect(labels.count == 2 && labels.allSatisfy { ["pos", "neg"].contains($0) }, "\(model): \(p.stdout)")
            if model == "fasttext" { #expect(labels == ["pos", "neg"], "\(p.stdout)") }
        }
        // fastText with plain sparse SGD, its own optimizer, learns the same toy data (SGD needs more
        // steps than Adam from the zero output layer: small batches, more epochs).
        let sgd = try CLI.run(["text", "train", "--data", data.path, "--optimizer", "sgd", "--learning-rate", "5", "--batch-size", "8",
                               "--epochs", "40", "--validation-split", "0", "--verbose", "0"])
        #expect(sgd.status == 0, "\(sgd.stderr)")
        #expect(Self.accuracy(sgd.stdout).flatMap { Double($0.dropFirst(15)) }.map { $0 > 0.9 } == true, "\(sgd.stdout)")
        let unknown = try CLI.run(["text", "train", "--data", data.path, "--optimizer", "adamx"])
        #expect(unknown.status != 0 && unknown.stderr.contains("unknown optimizer \"adamx\""), "\(unknown.stderr)")
        let bad = dir.appendingPathComponent("bad.tsv")
        try Data([0x70, 0x6F, 0x73, 0x09, 0x6F, 0x6B, 0x0D, 0x0A, 0x6E, 0x65, 0x67, 0x09, 0xFF, 0x0D, 0x0A]).write(to: bad)
        let r = try CLI.run(["text", "train", "--data", bad.path])
        #expect(r.status != 0 && r.stderr == "nabla: error: \(bad.path):2: invalid UTF-8 at byte 12; save the file as UTF-8\n")
    }
}
