import Foundation
import Nabla
import NablaData
import NablaNN
import Testing

/// Replays the fuzzers' seed corpus and every input a fuzzer ever found (Tests/Fixtures/FuzzRegressions)
/// through the matching reader: each must give a value or a thrown error, never a crash.
@Suite("Fuzz corpus and regressions")
struct FuzzRegressionTests {
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    static func inputs(_ target: String) -> [URL] {
        [tests.appendingPathComponent("Fuzz/corpus/\(target)"), tests.appendingPathComponent("Fixtures/FuzzRegressions/\(target)")]
            .flatMap { dir in ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).map { dir.appendingPathComponent($0) } }
    }

    @Test("every reader survives every recorded input", arguments: ["safetensors", "numpy", "numpyarchive", "modelconfig", "csv", "idx", "labelledtext", "wav", "interactions", "onnx"])
    func replay(_ target: String) throws {
        let files = Self.inputs(target)
        #expect(!files.isEmpty)
        var accepted = 0
        for url in files {
            let data = try Data(contentsOf: url)
            let ok: Bool
            switch target {
            case "safetensors": ok = (try? SafeTensors.decode(data)) != nil
            case "numpy": ok = (try? NumPyFile.decode(data)) != nil
            case "numpyarchive": ok = (try? NumPyArchive.decode(data)) != nil
            case "wav": ok = (try? WAVFile.decode(data)) != nil
            case "modelconfig": ok = (try? Model.fromConfiguration(data)) != nil
            case "idx": ok = (try? IDX.decode(data, source: url.lastPathComponent)) != nil
            case "onnx": ok = (try? ONNXGraphModel(bytes: [UInt8](data), source: url.lastPathComponent)) != nil
            case "interactions":
                let loaded = Interactions.Format.allCases.compactMap { try? Interactions(bytes: [UInt8](data), source: url.lastPathComponent, format: $0) }
                for d in loaded { _ = d.split(.leaveLastOut); _ = d.split(.random()); _ = d.split(.temporal()) }
                ok = !loaded.isEmpty
            case "labelledtext":
                ok = (try? DelimitedTable(bytes: [UInt8](data), source: url.lastPathComponent)).flatMap { try? LabelledTexts(table: $0) } != nil
            default: ok = (try? CSVDataset(data: data, source: url.lastPathComponent)) != nil
            }
            if ok { accepted += 1 }
        }
        // The seed corpus holds valid files, so at least those load.
        #expect(accepted >= 1, "\(target): no input loaded")
    }
}
