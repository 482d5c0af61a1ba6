import Foundation
import Nabla
import NablaData
import NablaNN
import Testing

/// The `nabla` executable, run as a user would (it is built by `swift build`, which .ci/run runs first).
enum CLI {
    static let binary: URL? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for config in ["debug", "release"] {
            let url = root.appendingPathComponent(".build/\(config)/nabla")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }()

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = binary!
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

@Suite("nabla command line", .enabled(if: CLI.binary != nil, "build the nabla executable first (swift build)"))
struct CLITests {
    @Test("bad arguments and files give one line and a non-zero exit")
    func errors() throws {
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-bad-\(UUID().uuidString).csv")
        try "a,b,label\n1,2,x\n3,oops,y\n".write(to: bad, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: bad) }
        let cases: [([String], String)] = [
            (["train", "--epochs", "0"], "nabla: error: --epochs must be positive, got 0\n"),
            (["train", "--dataset", "/nonexistent/data.csv"], "nabla: error: /nonexistent/data.csv: no such file\n"),
            (["train", "--dataset", bad.path], "nabla: error: \(bad.path):3: column b: \"oops\" is not a number\n"),
            (["train", "--optimizer", "adamx"], "nabla: error: unknown optimizer \"adamx\"; valid names: adagrad, adam, adamw, rmsprop, sgd\n"),
            (["train", "--bogus"], "nabla: error: Unknown option '--bogus'\n"),
        ]
        for (args, message) in cases {
            let r = try CLI.run(args)
            #expect(r.status != 0, "\(args)")
            #expect(r.stderr == message, "\(args)")
        }
    }

    @Test("train on a CSV file with a named label column")
    func csvTraining() throws {
        // Two well-separated Gaussian blobs, labels as words.
        var lines = ["x1,x2,kind"]
        for i in 0..<200 {
            let blue = i % 2 == 0
            let cx = blue ? -2.0 : 2.0
            lines.append("\(cx + Double(i % 7) * 0.1),\(Double(i % 5) * 0.1 - 0.2),\(blue ? "blue" : "red")")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-blobs-\(UUID().uuidString).csv")
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try CLI.run(["train", "--dataset", file.path, "--label-column", "kind", "--epochs", "20", "--learning-rate", "0.05", "--hidden", "8", "--verbose", "0"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("test accuracy: 1.0000"), "\(r.stdout)")
    }

    @Test("help explains the options")
    func help() throws {
        let r = try CLI.run(["train", "--help"])
        #expect(r.status == 0)
        for option in ["--dataset", "--hidden", "--epochs", "--batch-size", "--optimizer", "--learning-rate", "--seed"] {
            #expect(r.stdout.contains(option), "\(option)")
        }
    }
}

@Suite("Crash-safe training", .enabled(if: CLI.binary != nil, "build the nabla executable first (swift build)"))
struct KillAndResumeTests {
    @Test("a run killed with SIGKILL at random moments and resumed ends bit-identical to an uninterrupted run")
    func killAndResume() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-kill-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let args = ["--epochs", "30", "--hidden", "48", "--seed", "5", "--verbose", "0"]
        let straight = try CLI.run(["train"] + args + ["--checkpoint-dir", root.appendingPathComponent("a").path,
                                                       "--save", root.appendingPathComponent("model-a").path])
        #expect(straight.status == 0, "\(straight.stderr)")

        var rng = SystemRandomNumberGenerator()
        let checkpoints = root.appendingPathComponent("b"), model = root.appendingPathComponent("model-b").path
        var kills = 0, attempts = 0, resumedFromCheckpoint = 0
        var finished = false
        func checkpointCount() -> Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: checkpoints.path)) ?? []).filter { $0.hasPrefix("checkpoint-epoch-") }.count
        }
        func newestEpoch() -> Int { TrainingCheckpoint.latest(in: checkpoints).flatMap { Int($0.lastPathComponent.filter(\.isNumber)) } ?? 0 }
        while !finished && attempts < 40 {
            attempts += 1
            if attempts > 1 && checkpointCount() > 0 { resumedFromCheckpoint += 1 }
            let process = Process()
            process.executableURL = CLI.binary!
            process.arguments = attempts == 1
                ? ["train"] + args + ["--checkpoint-dir", checkpoints.path, "--save", model]
                : ["train", "--resume", checkpoints.path, "--save", model, "--verbose", "0"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            let before = newestEpoch()
            try process.run()
            if kills < 3 {
                // Kill at a random moment after this attempt has written a new checkpoint, so each
                // resume starts from one (and may interrupt the next checkpoint's write).
                let deadline = Date().addingTimeInterval(60)
                while process.isRunning && newestEpoch() <= before && Date() < deadline { usleep(2_000) }
                usleep(UInt32.random(in: 0...20_000, using: &rng))
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    kills += 1
                }
            }
            process.waitUntilExit()
            finished = process.terminationReason == .exit && process.terminationStatus == 0
        }
        #expect(finished)
        #expect(kills >= 2, "the run finished before it could be killed twice; make it longer")
        #expect(resumedFromCheckpoint >= 1, "no resume started from a checkpoint")
        let a = try Data(contentsOf: root.appendingPathComponent("model-a/model.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: model).appendingPathComponent("model.safetensors"))
        #expect(a == b, "weights differ after \(kills) kills")
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: checkpoints.path))?.filter { $0.hasPrefix(".nabla-tmp-") } ?? []
        #expect(leftovers.isEmpty)
    }
}

@Suite("nabla commands around a saved model", .enabled(if: CLI.binary != nil, "build the nabla executable first (swift build)"))
struct SavedModelCLITests {
    @Test("train --save, then evaluate, predict, summary and plot")
    func savedModel() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let model = root.appendingPathComponent("model").path, csv = root.appendingPathComponent("h.csv").path
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let train = try CLI.run(["train", "--epochs", "3", "--hidden", "32", "--verbose", "0", "--save", model,
                                 "--csv-log", csv, "--plot", root.appendingPathComponent("c.svg").path])
        #expect(train.status == 0, "\(train.stderr)")
        let accuracy = train.stdout.split(separator: "\n").last { $0.hasPrefix("test accuracy:") }
        let eval = try CLI.run(["evaluate", model])
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.contains("the test split of digits (359 samples)"))
        #expect(accuracy != nil && eval.stdout.contains(String(accuracy!)))
        let summary = try CLI.run(["summary", model])
        #expect(summary.stdout.hasPrefix("Model: \"") && summary.stdout.contains(" Total params: 2,410 (9.41 KB)"))
        let input = root.appendingPathComponent("x.npy")
        try NumPyFile.write(Digits.sample(3), to: input)
        let predict = try CLI.run(["predict", model, "--input", input.path])
        #expect(predict.status == 0 && predict.stdout.split(separator: "\n").count == 3, "\(predict.stderr)")
        let plot = try CLI.run(["plot", csv, "-o", root.appendingPathComponent("p.svg").path])
        #expect(plot.status == 0 && FileManager.default.fileExists(atPath: root.appendingPathComponent("p.svg").path))
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("c.svg").path))
        let missing = try CLI.run(["evaluate", root.appendingPathComponent("nothing").path])
        #expect(missing.status != 0 && missing.stderr.contains("config.json: no such file"))
    }
}

@Suite("nabla explain", .enabled(if: CLI.binary != nil, "build the nabla executable first (swift build)"))
struct ExplainCLITests {
    @Test("a CNN trained on the digits explains a test image in a PNG")
    func explain() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-explain-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let model = root.appendingPathComponent("cnn").path, png = root.appendingPathComponent("e.png").path
        let train = try CLI.run(["train", "--model", "cnn", "--epochs", "3", "--verbose", "0", "--save", model])
        #expect(train.status == 0, "\(train.stderr)")
        let r = try CLI.run(["explain", model, "--image", "5", "-o", png])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("true class 6"))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: png))
        #expect(bytes.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
        let bad = try CLI.run(["explain", model, "--image", "99999", "-o", png])
        #expect(bad.status != 0 && bad.stderr.contains("the test set has 359 images"))
    }
}

@Suite("nabla lm", .enabled(if: CLI.binary != nil, "build the nabla executable first (swift build)"))
struct LanguageModelCLITests {
    @Test("train a character MLP on lines of names, then sample names")
    func trainAndSample() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-lm-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let syllables = ["ka", "ri", "no", "me", "la", "so", "ta", "vi"]
        let rng = RandomGenerator(seed: 4)
        let names = (0..<400).map { _ in (0..<(2 + rng.nextInt(below: 2))).map { _ in syllables[rng.nextInt(below: syllables.count)] }.joined() }
        let file = root.appendingPathComponent("names.txt")
        try names.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let model = root.appendingPathComponent("lm").path
        let train = try CLI.run(["lm", "train", "--data", file.path, "--model", "mlp", "--steps", "300", "--learning-rate", "0.01",
                                 "--eval-every", "0", "--save", model])
        #expect(train.status == 0, "\(train.stderr)")
        let loss = train.stdout.split(separator: "\n").last { $0.hasPrefix("val loss: ") }.flatMap { Double($0.dropFirst(10)) }
        #expect(loss != nil && loss! < 1.8, "\(train.stdout)")   // uniform over 13 symbols would be 2.56
        let sample = try CLI.run(["lm", "sample", model, "--count", "5", "--seed", "3"])
        #expect(sample.status == 0, "\(sample.stderr)")
        let lines = sample.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 5 && lines.allSatisfy { $0.allSatisfy { "karinomelsotv".contains($0) } })
        let bad = try CLI.run(["lm", "train", "--data", file.path, "--model", "cnn"])
        #expect(bad.status != 0 && bad.stderr.contains("--model must be one of bigram, mlp, rnn, lstm, gru, transformer, got 'cnn'"))
        let badPreset = try CLI.run(["lm", "train", "--data", file.path, "--preset", "gpt5"])
        #expect(badPreset.status != 0 && badPreset.stderr.contains("--preset must be makemore or nanogpt-cpu"))

        // A GRU model and the nanoGPT preset (tied embedding, no biases) train, save and sample.
        for args in [["--model", "gru", "--hidden", "32", "--context", "8", "--steps", "40"],
                     ["--preset", "nanogpt-cpu", "--steps", "30", "--context", "16", "--eval-batches", "2"]] {
            let folder = root.appendingPathComponent("lm-\(args[1])").path
            let run = try CLI.run(["lm", "train", "--data", file.path, "--log-every", "10", "--save", folder] + args)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("step 30/") && run.stdout.contains("tokens/s") && run.stdout.contains("val loss: "), "\(run.stdout)")
            let text = try CLI.run(["lm", "sample", folder, "--count", "2", "--length", "20", "--top-k", "3"])
            #expect(text.status == 0 && !text.stdout.isEmpty, "\(text.stderr)")
        }
    }
}

@Suite("nabla text", .enabled(if: CLI.binary != nil, "build the nabla executable first (swift build)"))
struct TextCLITests {
    @Test("train a classifier on label<TAB>text lines, report test accuracy, classify new texts")
    func trainAndPredict() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-text-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let rng = RandomGenerator(seed: 8)
        let filler = ["the", "a", "today", "we", "you", "it", "was", "then", "and", "so"]
        let cues = ["promo": ["free", "prize", "win", "cash"], "chat": ["lunch", "home", "mum", "later"]]
        var lines: [String] = []
        for i in 0..<600 {
            let label = i % 2 == 0 ? "promo" : "chat"
            var words = (0..<6).map { _ in filler[rng.nextInt(below: filler.count)] }
            words.insert(cues[label]![rng.nextInt(below: 4)], at: rng.nextInt(below: 6))
            lines.append("\(label)\t\(words.joined(separator: " "))")
        }
        let file = root.appendingPathComponent("texts.tsv")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let folder = root.appendingPathComponent("model").path
        let run = try CLI.run(["text", "train", "--data", file.path, "--verbose", "0", "--save", folder])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("480 training texts (chat 2"), "\(run.stdout)")
        let accuracy = run.stdout.split(separator: "\n").last { $0.hasPrefix("test accuracy: ") }.flatMap { Double($0.dropFirst(15)) }
        #expect(accuracy != nil && accuracy! > 0.95, "\(run.stdout)")
        let predicted = try CLI.run(["text", "predict", folder, "win cash today", "home for lunch"])
        #expect(predicted.status == 0, "\(predicted.stderr)")
        #expect(predicted.stdout.split(separator: "\n").map { $0.split(separator: "\t")[0] } == ["promo", "chat"], "\(predicted.stdout)")

        let bad = root.appendingPathComponent("bad.tsv")
        try "ham\thello\nno tab here\n".write(to: bad, atomically: true, encoding: .utf8)
        let failed = try CLI.run(["text", "train", "--data", bad.path])
        #expect(failed.status != 0 && failed.stderr == "nabla: error: \(bad.path):2: 1 field, expected 2 separated by a tab (column0, column1)\n", "\(failed.stderr)")
    }
}
