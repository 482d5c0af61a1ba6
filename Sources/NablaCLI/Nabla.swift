import ArgumentParser

@main
struct NablaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nabla",
        abstract: "Nabla: deep learning in Swift — train, evaluate and benchmark models.",
        subcommands: [Bench.self]
    )
}
