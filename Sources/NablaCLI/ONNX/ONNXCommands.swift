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
