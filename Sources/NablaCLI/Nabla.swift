import ArgumentParser
import Foundation
import Nabla

struct NablaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nabla",
        abstract: "Nabla: deep learning in Swift — train, evaluate and benchmark models.",
        subcommands: [Train.self, Evaluate.self, Predict.self, Summary.self, Plot.self, Explain.self, LM.self, TextCommand.self, Bench.self, Upgrade.self, AudioCommand.self, RecommendCommand.self, Export.self, Import.self],
        defaultSubcommand: nil
    )
}

/// Runs the command; any error becomes one line on standard error and a non-zero exit status
/// (help and version requests print in full).
@main
enum Main {
    static func main() {
        do {
            var command = try NablaCommand.parseAsRoot()
            try command.run()
        } catch {
            let code = NablaCommand.exitCode(for: error)
            if code == .success {
                print(NablaCommand.fullMessage(for: error))
                exit(0)
            }
            let message = TextFile.splitLines(NablaCommand.message(for: error)).first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("nabla: error: \(message)\n".utf8))
            exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }
}
