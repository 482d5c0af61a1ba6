import ArgumentParser
import Foundation
import Nabla
import NablaNN

/// `nabla plot HISTORY.csv -o FILE.svg`: training curves from a CSV history (as `--csv-log` or
/// CSVLogger writes it).
struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Draw training curves from a CSV history into an SVG file.")

    @Argument(help: "The CSV history: an epoch column, then loss, metrics and val_ columns.")
    var history: String

    @Option(name: .shortAndLong, help: "The SVG file to write.")
    var output: String

    @Option(help: "The title above the panels.")
    var title = "Training history"

    func run() throws {
        let h = try HistoryPlot.readCSV(history)
        try AtomicFile.write(Data(HistoryPlot.svg(h, title: title).utf8), to: URL(fileURLWithPath: output))
        print("wrote \(output)")
    }
}
