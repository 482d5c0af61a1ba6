import ArgumentParser
import Foundation
import Nabla
import NablaData
import NablaNN

/// Loads a model folder written by `nabla train --save` or `Model.save(to:)`.
func loadModel(_ path: String) throws -> Model {
    try Model.load(from: URL(fileURLWithPath: path))
}

/// `nabla evaluate PATH`: the loss and accuracy of a saved model on the test split of the data it was
/// trained on, or on a whole data set given with --dataset.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Evaluate a saved model on its test split or on a given data set.")

    @Argument(help: "The model folder (from nabla train --save).")
    var model: String

    @Option(help: "Evaluate on this whole data set ('digits' or a CSV file) instead of the model's test split.")
    var dataset: String?

    @Option(help: "For a CSV file: the label column.")
    var labelColumn: String?

    func run() throws {
        let m = try loadModel(model)
        guard m.loss != nil else { throw ValidationError("\(model): the model was saved without compile settings; cannot evaluate") }
        let x: Tensor, y: Tensor, what: String
        if let dataset {
            if dataset == "digits" { (x, y) = Digits.load() } else {
                let csv = try CSVDataset(path: dataset, labelColumn: labelColumn)
                (x, y) = (csv.features, csv.labels)
            }
            what = "\(dataset) (\(x.shape[0]) samples)"
        } else {
            guard let config = (try? RunConfig.read(from: URL(fileURLWithPath: model))) ?? nil else {
                throw ValidationError("\(model): no \(RunConfig.fileName) to find its data; pass --dataset")
            }
            let run = try RunData(config)
            (x, y) = run.test
            what = "the test split of \(config.dataset) (\(x.shape[0]) samples)"
        }
        let result = try m.evaluate(x, y, batchSize: 256, verbose: 0)
        print("evaluated on \(what)")
        print("test loss: \(String(format: "%.4f", result.loss))")
        for (name, value) in result.metrics { print("test \(name): \(String(format: "%.4f", value))") }
    }
}

/// `nabla predict PATH --input FILE`: the model's outputs for the rows of a .npy or .csv file.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a saved model on the rows of a .npy or .csv file.")

    @Argument(help: "The model folder (from nabla train --save).")
    var model: String

    @Option(help: "The input: a .npy array of samples, or a CSV file of numeric features (one sample per row).")
    var input: String

    @Option(help: "Write the raw outputs to this .npy file instead of printing the predicted classes.")
    var output: String?

    func run() throws {
        let m = try loadModel(model)
        let x: Tensor
        if input.hasSuffix(".npy") {
            x = try NumPyFile.read(from: URL(fileURLWithPath: input)).cast(to: .float32)
        } else {
            let csv = try CSVDataset(path: input, featuresOnly: true)
            x = csv.features
        }
        let out = try m.predict(x, batchSize: 256)
        if let output {
            try NumPyFile.write(out, to: URL(fileURLWithPath: output))
            print("wrote \(out.shape) outputs to \(output)")
            return
        }
        if out.rank == 2 && out.shape[1] > 1 {
            for (i, c) in out.argmax(axis: 1).toArray(Int32.self).enumerated() { print("\(i)\t\(c)") }
        } else {
            for (i, v) in out.flattened().toArray(Double.self).enumerated() { print("\(i)\t\(v)") }
        }
    }
}

/// `nabla summary PATH`: the Keras-style table of a saved model.
struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the layer table of a saved model.")

    @Argument(help: "The model folder.")
    var model: String

    func run() throws { print(try loadModel(model).summary()) }
}
