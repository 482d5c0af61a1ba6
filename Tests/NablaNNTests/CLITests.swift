import Foundation
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
