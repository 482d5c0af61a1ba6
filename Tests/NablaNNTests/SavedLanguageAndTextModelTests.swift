import Foundation
import Nabla
import NablaData
import NablaNN
import Testing

/// Models saved by `nabla lm train` and `nabla text train` are `Model.save` folders: `Model.load`
/// opens them, `nabla summary`, `evaluate` and `predict` work on them, and folders of earlier releases
/// (weights.safetensors with lm.json or text.json) still load and upgrade.
@Suite("saved language and text models", .enabled(if: CLI.binary != nil, "build the nabla executable first (swift build)"))
struct SavedLanguageAndTextModelTests {
    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-saved-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func expectOK(_ r: (status: Int32, stdout: String, stderr: String), _ what: String) {
        #expect(r.status == 0, "\(what): \(r.stderr)")
    }

    @Test("a text classifier saved by nabla text train opens with Model.load, summary, evaluate and predict")
    func textModel() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("train.tsv")
        try MessyFileCLITests.write(MessyFileCLITests.rows, ending: "\n", bom: false, header: false, labelLast: false, quoted: false, separator: "\t", to: data)
        let folder = dir.appendingPathComponent("model").path
        expectOK(try CLI.run(["text", "train", "--data", data.path, "--epochs", "4", "--validation-split", "0", "--verbose", "0", "--save", folder]), "train")

        let model = try Model.load(from: URL(fileURLWithPath: folder))
        #expect(model is FastTextClassifier)
        #expect(model.metadata["text_classifier"]?["classes"] == ["neg", "pos"])
        let summary = try CLI.run(["summary", folder])
        expectOK(summary, "summary")
        #expect(summary.stdout.contains("Model: \"fasttext\"") && summary.stdout.contains("bag (EmbeddingBag)"), "\(summary.stdout)")
        let evaluate = try CLI.run(["evaluate", folder, "--dataset", data.path])
        expectOK(evaluate, "evaluate")
        let accuracy = evaluate.stdout.split(separator: "\n").first { $0.hasPrefix("test accuracy: ") }.flatMap { Double($0.dropFirst(15)) }
        #expect(accuracy.map { $0 > 0.9 } == true, "\(evaluate.stdout)")
        let texts = dir.appendingPathComponent("texts.txt")
        try "love and great\r\nhate and awful\r\n".write(to: texts, atomically: true, encoding: .utf8)
        let predict = try CLI.run(["predict", folder, "--input", texts.path])
        expectOK(predict, "predict")
        #expect(predict.stdout.split(separator: "\n").map { $0.split(separator: "\t")[0] } == ["pos", "neg"], "\(predict.stdout)")
        let noData = try CLI.run(["evaluate", folder])
        #expect(noData.status != 0 && noData.stderr.contains("a text classifier; pass --dataset"), "\(noData.stderr)")
    }

    @Test("a language model saved by nabla lm train opens with Model.load, summary, evaluate and predict")
    func languageModel() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let names = dir.appendingPathComponent("names.txt")
        try (0..<300).map { ["anna", "bob", "otto", "ada"][$0 % 4] }.joined(separator: "\n").write(to: names, atomically: true, encoding: .utf8)
        let folder = dir.appendingPathComponent("lm").path
        expectOK(try CLI.run(["lm", "train", "--data", names.path, "--model", "gru", "--hidden", "16", "--steps", "60", "--learning-rate", "0.01",
                              "--save", folder]), "train")
        let model = try Model.load(from: URL(fileURLWithPath: folder))
        #expect((model as? RecurrentLanguageModel)?.recurrent.cell == .gru)
        #expect(model.metadata["language_model"]?["lineMode"] == true)
        let summary = try CLI.run(["summary", folder])
        #expect(summary.stdout.contains("recurrent (GRU)"), "\(summary.stdout)")
        let evaluate = try CLI.run(["evaluate", folder, "--dataset", names.path])
        expectOK(evaluate, "evaluate")
        let loss = evaluate.stdout.split(separator: "\n").first { $0.hasPrefix("test loss: ") }.flatMap { Double($0.dropFirst(11)) }
        #expect(loss.map { $0 < 1.5 } == true, "\(evaluate.stdout)")   // uniform over 9 symbols: 2.2
        let prompts = dir.appendingPathComponent("prompts.txt")
        try "ott\nbo\n".write(to: prompts, atomically: true, encoding: .utf8)
        let predict = try CLI.run(["predict", folder, "--input", prompts.path])
        expectOK(predict, "predict")
        #expect(predict.stdout.split(separator: "\n").map { $0.split(separator: "\t")[0] } == ["\"o\"", "\"b\""], "\(predict.stdout)")
    }

    @Test("folders written by earlier releases load, sample, predict and upgrade to the current format")
    func legacyFolders() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let encoder = JSONEncoder()

        // nabla lm train --save of earlier releases: lm.json and weights.safetensors.
        let vocabulary = CharacterVocabulary(text: "abc\n")
        let lmFolder = dir.appendingPathComponent("old-lm")
        try FileManager.default.createDirectory(at: lmFolder, withIntermediateDirectories: true)
        let vocabularyJSON = String(decoding: try encoder.encode(vocabulary), as: UTF8.self)
        try #"{"model": "mlp", "vocabulary": \#(vocabularyJSON), "context": 3, "lineMode": true, "layers": 4, "heads": 4, "width": 64, "embedding": 10, "hidden": 200}"#
            .write(to: lmFolder.appendingPathComponent("lm.json"), atomically: true, encoding: .utf8)
        let lm = MLPLanguageModel(vocabulary: vocabulary.count, context: 3, embeddingSize: 10, hiddenUnits: 200, padToken: try vocabulary.encode("\n")[0])
        try SafeTensors.write(lm.stateDict(), to: lmFolder.appendingPathComponent("weights.safetensors"))
        let before = try CLI.run(["lm", "sample", lmFolder.path, "--count", "3", "--seed", "5"])
        expectOK(before, "old lm sample")
        expectOK(try CLI.run(["summary", lmFolder.path]), "old lm summary")
        expectOK(try CLI.run(["upgrade", lmFolder.path]), "upgrade")
        #expect(!FileManager.default.fileExists(atPath: lmFolder.appendingPathComponent("lm.json").path))
        let upgraded = try Model.load(from: lmFolder)
        #expect(upgraded is MLPLanguageModel)
        let after = try CLI.run(["lm", "sample", lmFolder.path, "--count", "3", "--seed", "5"])
        #expect(after.stdout == before.stdout && !after.stdout.isEmpty)

        // nabla text train --save of earlier releases: text.json and weights.safetensors.
        var vectorizer = TextVectorization(maxTokens: 100, outputSequenceLength: 8, ngrams: 2, foldDigits: true, hashBuckets: 16)
        vectorizer.adapt(["good fine", "bad poor"])
        let textFolder = dir.appendingPathComponent("old-text")
        try FileManager.default.createDirectory(at: textFolder, withIntermediateDirectories: true)
        let vectorizerJSON = String(decoding: try encoder.encode(vectorizer), as: UTF8.self)
        try #"{"model": "fasttext", "classes": ["neg", "pos"], "vectorizer": \#(vectorizerJSON), "embedding": 4, "hidden": 8}"#
            .write(to: textFolder.appendingPathComponent("text.json"), atomically: true, encoding: .utf8)
        let classifier = FastTextClassifier(vocabulary: vectorizer.inputDimension, classes: 2, dimension: 4)
        let g = RandomGenerator(seed: 3)
        try SafeTensors.write(classifier.stateDict().mapValues { Tensor.randomNormal($0.shape, generator: g) }, to: textFolder.appendingPathComponent("weights.safetensors"))
        let old = try CLI.run(["text", "predict", textFolder.path, "good fine", "bad poor"])
        expectOK(old, "old text predict")
        expectOK(try CLI.run(["upgrade", textFolder.path]), "upgrade text")
        let new = try CLI.run(["text", "predict", textFolder.path, "good fine", "bad poor"])
        #expect(new.stdout == old.stdout && new.stdout.split(separator: "\n").count == 2, "\(old.stdout) vs \(new.stdout)")
        let nothing = try CLI.run(["upgrade", textFolder.path])
        #expect(nothing.status != 0 && nothing.stderr.contains("nothing to upgrade"))
    }
}
