import ArgumentParser
import Foundation
import Nabla
import NablaNN

/// `nabla export MODEL --onnx FILE`: a saved model as an ONNX file.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a saved model as an ONNX file (runs in ONNX Runtime; NHWC images, dynamic batch).")

    @Argument(help: "The model folder (from --save or Model.save).")
    var model: String
    @Option(help: "The .onnx file to write.")
    var onnx: String
    @Option(help: "The ONNX opset, 17 to 20.")
    var opset = 17

    func run() throws {
        let m = try loadModel(model)
        try m.exportONNX(to: URL(fileURLWithPath: onnx), opset: opset)
        print("wrote \(onnx) (opset \(opset))")
    }
}

/// `nabla import FILE.onnx --save MODEL`: an ONNX file as a Nabla model folder.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Read an ONNX file (torch.onnx.export, tf2onnx, nabla export) into a Nabla model folder that predicts, trains and saves.")

    @Argument(help: "The .onnx file.")
    var file: String
    @Option(help: "The model folder to write.")
    var save: String

    func run() throws {
        let model = try Model.importONNX(from: URL(fileURLWithPath: file))
        try model.save(to: URL(fileURLWithPath: save))
        let operators = model.operatorCounts.sorted { $0.key < $1.key }
        print("read \(file): \(operators.reduce(0) { $0 + $1.value }) nodes (" + operators.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
              + "), \(model.parameterCount) parameters; saved to \(save)")
    }
}
