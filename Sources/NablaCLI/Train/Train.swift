import ArgumentParser
import Foundation
import Nabla
import NablaData
import NablaNN

/// `nabla train`: trains a classifier (an MLP) on the embedded digits or on a CSV file, holds out a
/// test split, and reports the test accuracy.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a classifier and report its accuracy on a held-out test split.",
        discussion: """
            With no arguments, trains a 64-256-128-10 MLP on the 1,797 handwritten digits embedded in Nabla \
            (8x8 images, UCI, CC BY 4.0) and prints `test accuracy: 0.XXXX`.
            """
    )

    @Option(help: "The data: 'digits' (embedded) or the path of a CSV file with numeric features and a label column.")
    var dataset = "digits"

    @Option(help: "For a CSV file: the label column, by header name or 0-based index (default: 'label', else the last column).")
    var labelColumn: String?

    @Option(help: "Hidden layer sizes, comma-separated (each a Dense layer with ReLU).")
    var hidden = "256,128"

    @Option(help: "Passes over the training data.")
    var epochs = 30

    @Option(help: "Samples per gradient step.")
    var batchSize = 32

    @Option(help: "Optimizer: adam, adamw, sgd, rmsprop or adagrad.")
    var optimizer = "adam"

    @Option(help: "Learning rate (default: the optimizer's Keras default, 0.001 for adam).")
    var learningRate: Double?

    @Option(help: "Fraction of the samples held out for the final test.")
    var testSplit = 0.2

    @Option(help: "Fraction of the training samples used for validation after each epoch.")
    var validationSplit = 0.1

    @Option(help: "Random seed: the same seed reproduces the run exactly.")
    var seed: UInt64 = 42

    @Option(help: "Progress output: 0 silent, 1 progress bar, 2 one line per epoch.")
    var verbose = 1

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        guard testSplit > 0 && testSplit < 1 else { throw ValidationError("--test-split must be between 0 and 1, got \(testSplit)") }
        guard validationSplit >= 0 && validationSplit < 1 else { throw ValidationError("--validation-split must be in [0, 1), got \(validationSplit)") }
        guard (0...2).contains(verbose) else { throw ValidationError("--verbose must be 0, 1 or 2, got \(verbose)") }
        _ = try hiddenSizes()
        if let learningRate, !(learningRate > 0) { throw ValidationError("--learning-rate must be positive, got \(learningRate)") }
    }

    func hiddenSizes() throws -> [Int] {
        let parts = hidden.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let sizes = parts.compactMap { Int($0) }
        guard sizes.count == parts.count, sizes.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--hidden must be positive integers separated by commas, got '\(hidden)'")
        }
        return sizes
    }

    func run() throws {
        RandomGenerator.global.seed(seed)
        let (x, y, classes) = try loadData()
        let (train, test) = trainTestSplit(x, y, testFraction: testSplit, seed: seed)
        var layers: [Layer] = []
        for (i, units) in try hiddenSizes().enumerated() {
            layers.append(Dense(units: units, activation: .relu, inputDim: i == 0 ? x.shape[1] : nil))
        }
        layers.append(Dense(units: classes))
        let model = Sequential(layers)
        let opt = try Optimizer.named(optimizer)
        if let learningRate { opt.learningRate = learningRate }
        try model.compile(optimizer: opt, loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
        if verbose > 0 {
            print(model.summary())
            print("data: \(dataset), \(train.x.shape[0]) training and \(test.x.shape[0]) test samples, \(x.shape[1]) features, \(classes) classes")
        }
        try model.fit(train.x, train.y, batchSize: batchSize, epochs: epochs, verbose: verbose, validationSplit: validationSplit)
        let result = try model.evaluate(test.x, test.y, batchSize: 256, verbose: 0)
        print("test loss: \(String(format: "%.4f", result.loss))")
        print("test accuracy: \(String(format: "%.4f", result["accuracy"] ?? 0))")
    }

    private func loadData() throws -> (Tensor, Tensor, Int) {
        if dataset == "digits" {
            let (images, labels) = Digits.load()
            return (images, labels, Digits.classCount)
        }
        let csv = try CSVDataset(path: dataset, labelColumn: labelColumn)
        guard csv.classNames.count >= 2 else { throw ValidationError("\(dataset): the label column has only one class") }
        return (csv.features, csv.labels, csv.classNames.count)
    }
}

