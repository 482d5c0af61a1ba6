import ArgumentParser
import Foundation
import Nabla
import NablaData
import NablaNN

/// `nabla explain MODEL --image INDEX|FILE`: a PNG with the image beside the map of the pixels its
/// prediction depends on (saliency or integrated gradients), labelled with the predicted class.
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show which pixels an image model's prediction depends on (PNG).")

    @Argument(help: "The model folder (from nabla train --save), trained on images or digits.")
    var model: String

    @Option(help: "A test-set index of the model's data set, or a .npy image ([height, width] or [height, width, 1], values in [0, 1]).")
    var image: String

    @Option(help: "saliency (gradient magnitude) or integrated (integrated gradients from a black image).")
    var method = "integrated"

    @Option(name: .shortAndLong, help: "The PNG file to write.")
    var output = "explanation.png"

    func run() throws {
        guard method == "saliency" || method == "integrated" else { throw ValidationError("--method must be saliency or integrated, got '\(method)'") }
        let m = try loadModel(model)
        guard let shape = m.expectedInputShapes?.first else { throw ValidationError("\(model): the model does not record its input shape") }
        var x: Tensor, truth: Int32? = nil
        if let index = Int(image) {
            guard let config = (try? RunConfig.read(from: URL(fileURLWithPath: model))) ?? nil else {
                throw ValidationError("\(model): no \(RunConfig.fileName) to find its test set; pass --image FILE.npy")
            }
            let run = try RunData(config)
            guard index >= 0 && index < run.test.x.shape[0] else { throw ValidationError("--image \(index): the test set has \(run.test.x.shape[0]) images") }
            x = run.test.x[index]
            truth = run.test.y[index].item(Int32.self)
        } else {
            x = try NumPyFile.read(from: URL(fileURLWithPath: image)).cast(to: .float32)
        }
        guard x.count == shape.reduce(1, *) else { throw ValidationError("\(image): \(x.shape) does not fit the model's input \(shape)") }
        x = x.reshaped(shape)
        let scores = Attribution.scores(m, image: x)
        let probabilities = softmax(scores, axis: -1)
        let predicted = Int(scores.argmax().item(Int32.self))
        let attribution = method == "saliency"
            ? Attribution.saliency(m, image: x, classIndex: predicted)
            : relu(Attribution.integratedGradients(m, image: x, classIndex: predicted))
        // Both panels as [H, W] maps in [0, 1].
        let side = shape.count == 1 ? Int(Double(shape[0]).squareRoot()) : shape[0]
        let width = shape.count == 1 ? side : shape[1]
        guard side * width == attribution.count else { throw ValidationError("\(model): explain needs image inputs (got input shape \(shape))") }
        func rows(_ t: Tensor) -> [[Double]] {
            let v = t.toArray(Double.self)
            let hi = Swift.max(v.max() ?? 1, 1e-12)
            return (0..<side).map { r in (0..<width).map { v[r * width + $0] / hi } }
        }
        let pixels = x.reshaped([side, width, -1]).mean(axes: [2])
        let scale = Swift.max(1, 224 / Swift.max(side, width)), gap = 16, top = 44
        var png = RGBImage(width: 2 * width * scale + 3 * gap, height: side * scale + top + gap)
        png.drawMap(rows(pixels), x0: gap, y0: top, scale: scale, colormap: RGBImage.grey)
        png.drawMap(rows(attribution), x0: 2 * gap + width * scale, y0: top, scale: scale, colormap: RGBImage.heat)
        let p = probabilities[predicted].item(Double.self)
        var label = "predicted \(predicted) (p=\(String(format: "%.2f", p)))"
        if let truth { label += "  true \(truth)" }
        png.drawText(label, x: gap, y: 8, scale: 2)
        png.drawText(method == "saliency" ? "saliency" : "integrated gradients", x: 2 * gap + width * scale, y: 28, scale: 1)
        try AtomicFile.write(png.pngData(), to: URL(fileURLWithPath: output))
        print("predicted class \(predicted) with probability \(String(format: "%.4f", p))\(truth.map { ", true class \($0)" } ?? "")")
        print("wrote \(output)")
    }
}
