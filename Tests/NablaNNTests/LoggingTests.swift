import Foundation
import Nabla
@testable import NablaNN
import Testing

enum PythonTensorBoard {
    static let available = Python.hasModules("tensorboard.backend.event_processing.event_accumulator")
}

@Suite("TensorBoard and plots")
struct LoggingTests {
    @Test("CRC-32C and protobuf encoding match the reference values")
    func encoding() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        var w = ProtoWriter()
        w.int(2, 300)
        w.string(3, "hi")
        #expect(w.bytes == [0x10, 0xAC, 0x02, 0x1A, 0x02, 0x68, 0x69])
    }

    @Test("event files written during fit read back in TensorBoard", .enabled(if: PythonTensorBoard.available, "needs python3 with tensorboard (pip install tensorboard)"))
    func tensorBoard() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 100))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-tb-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = Sequential([Dense(units: 1, inputDim: 2)])
        try model.compile(optimizer: SGD(learningRate: 0.05), loss: "mse", metrics: ["mae"])
        let x = Tensor.randomNormal([40, 2]), y = x.sum(axes: [1])
        let h = try model.fit(x, y, batchSize: 10, epochs: 4, verbose: 0, validationSplit: 0.25, callbacks: [try TensorBoard(logDir: dir.path)])
        let (status, text) = try Python.run(["-c", """
            from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
            for d in ("train", "validation"):
                ea = EventAccumulator("\(dir.path)/" + d); ea.Reload()
                for tag in sorted(ea.Tags()["scalars"]):
                    print(d, tag, " ".join(repr(e.value) for e in ea.Scalars(tag)), " ".join(str(e.step) for e in ea.Scalars(tag)))
            """])
        #expect(status == 0, "\(text)")
        var read: [String: [Double]] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 10 else { continue }
            read["\(parts[0])/\(parts[1])"] = parts[2..<6].compactMap { Double($0) }
            #expect(parts[6..<10] == ["0", "1", "2", "3"])
        }
        #expect(Set(read.keys) == ["train/epoch_loss", "train/epoch_mae", "train/epoch_learning_rate", "validation/epoch_loss", "validation/epoch_mae"])
        for (k, key) in [("train/epoch_loss", "loss"), ("validation/epoch_loss", "val_loss"), ("validation/epoch_mae", "val_mae")] {
            let expected = h.history[key]!.map { Double(Float($0)) }
            #expect(read[k] == expected, "\(k)")
        }
    }

    @Test("training curves as SVG, and CSV histories with errors that name the line")
    func plot() throws {
        let svg = HistoryPlot.svg(["loss": [1, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.5, 0.8, 0.9]], title: "a <title>")
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("a &lt;title&gt;"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 3)
        #expect(svg.contains(">loss</text>") && svg.contains(">accuracy</text>") && svg.contains(">epoch</text>"))
        #expect(svg.contains(">training</text>") && svg.contains(">validation</text>"))
        #expect(HistoryPlot.niceTicks(0.03, 1.56, count: 5) == [0, 0.5, 1, 1.5, 2])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-h-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: file) }
        try "epoch,loss,val_loss\n0,1.5,1.6\n1,0.5,x\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: NablaError.invalidState("\(file.path):3: column val_loss: \"x\" is not a number")) { try HistoryPlot.readCSV(file.path) }
        try "epoch,loss,val_loss\n0,1.5,1.6\n1,0.5,0.9\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(try HistoryPlot.readCSV(file.path) == ["loss": [1.5, 0.5], "val_loss": [1.6, 0.9]])
    }
}
