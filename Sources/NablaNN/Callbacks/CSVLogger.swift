import Foundation
import Nabla

/// Writes one CSV row per epoch (`epoch,` then the log keys in sorted order), as Keras's CSVLogger.
///
/// ```swift
/// try model.fit(x, y, epochs: 5, callbacks: [CSVLogger(path: "training.csv")])
/// ```
public final class CSVLogger: Callback, @unchecked Sendable {
    public let path: String
    public let append: Bool
    private var keys: [String]?
    private var handle: FileHandle?

    public init(path: String, append: Bool = false) {
        self.path = path
        self.append = append
    }

    public override func onTrainBegin(logs: [String: Double]) {
        keys = nil
        if !append || !FileManager.default.fileExists(atPath: path) {
            FileManager.default.createFile(atPath: path, contents: nil)
        } else {
            keys = (try? DelimitedTable(path: path, separator: ",", header: .present, quoting: .none))?.columnNames.dropFirst().map { $0 }
        }
        handle = FileHandle(forWritingAtPath: path)
        handle?.seekToEndOfFile()
    }

    public override func onEpochEnd(_ epoch: Int, logs: [String: Double]) {
        if keys == nil {
            keys = logs.keys.sorted()
            write("epoch," + keys!.joined(separator: ",") + "\n")
        }
        let values = keys!.map { logs[$0].map { "\($0)" } ?? "" }
        write("\(epoch)," + values.joined(separator: ",") + "\n")
    }

    public override func onTrainEnd(logs: [String: Double]) {
        try? handle?.close()
        handle = nil
    }

    private func write(_ s: String) {
        handle?.write(Data(s.utf8))
    }
}
