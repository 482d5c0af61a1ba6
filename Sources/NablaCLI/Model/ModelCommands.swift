import ArgumentParser
import Foundation
import Nabla
import NablaData
import NablaNN

/// `nabla evaluate PATH`: the loss and accuracy of a saved model on the test split of the data it was
/// trained on, or on a whole data set given with --dataset.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Evaluate a saved model on its test split or on a given data set.")

    @Argument(help: "The model folder (from nabla train --save).")
    var model: String

    @Option(help: "Evaluate on this whole data set ('digits' or a CSV file) instead of the model's test split; for a text classifier, a file of labelled texts; for a language model, a text file.")
    var dataset: String?

    @Option(help: "For a CSV file: the label column.")
    var labelColumn: String?

    func run() throws {
        let m = try loadModel(model)
        if let text = try TextAssets.of(m) { return try evaluateTexts(m, text) }
        if let lm = m as? LanguageModel { return try evaluateLanguageModel(lm) }
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

    /// A text classifier on a file of labelled texts, read as `nabla text train` reads its test file.
    func evaluateTexts(_ m: Model, _ assets: TextAssets) throws {
        guard let dataset else { throw ValidationError("\(model): a text classifier; pass --dataset FILE of labelled texts") }
        let texts = try LabelledTexts(path: dataset, labelColumn: labelColumn)
        let index = Dictionary(uniqueKeysWithValues: assets.classes.enumerated().map { ($1, Int32($0)) })
        let labels = try texts.labels.enumerated().map { i, label in
            guard let c = index[label] else { throw ValidationError("\(texts.origins[i]): label '\(label)' is not one the model knows (\(assets.classes.joined(separator: ", ")))") }
            return c
        }
        let logits = try m.predict(assets.vectorizer(texts.texts), batchSize: 256)
        let y = Tensor(values: labels)
        let loss = crossEntropy(logits: logits, labels: y).item(Double.self)
        let accuracy = (logits.argmax(axis: 1) .== y).cast(to: .float64).mean().item(Double.self)
        print("evaluated on \(dataset) (\(texts.count) texts)")
        print("test loss: \(String(format: "%.4f", loss))")
        print("test accuracy: \(String(format: "%.4f", accuracy))")
    }

    /// A language model's mean loss per character of a text file (each line as a sequence in line mode,
    /// windows of the running text otherwise).
    func evaluateLanguageModel(_ lm: LanguageModel) throws {
        guard let dataset else { throw ValidationError("\(model): a language model; pass --dataset TEXTFILE") }
        let assets = try LMAssets.required(lm, path: model)
        let text = try TextFile.read(dataset)
        let newline = assets.newline
        // Windows as `nabla lm train` validates: models of a fixed context slide over longer windows.
        let fixedContext = lm is BigramModel || lm is MLPLanguageModel
        var batches: [(Tensor, Tensor)] = []
        if assets.lineMode {
            let lines = try TextFile.splitLines(text).map { try assets.vocabulary.encode(String($0)) }
            let length = Swift.min((lines.map(\.count).max() ?? 1) + 1, fixedContext ? 64 : lm.context)
            batches = stride(from: 0, to: lines.count, by: 256).map { lineModelRows(lines[$0..<Swift.min($0 + 256, lines.count)], length: length, start: newline) }
        } else {
            let tokens = try assets.vocabulary.encode(text), window = fixedContext ? 16 : lm.context
            guard tokens.count > window else { throw ValidationError("\(dataset): shorter than one window of \(window) characters") }
            let starts = Array(stride(from: 0, to: tokens.count - window, by: window))
            for chunk in stride(from: 0, to: starts.count, by: 64) {
                let rows = starts[chunk..<Swift.min(chunk + 64, starts.count)]
                let x = rows.flatMap { tokens[$0..<($0 + window)] }, y = rows.flatMap { tokens[($0 + 1)...($0 + window)] }
                batches.append((Tensor(shape: [rows.count, window], values: x), Tensor(shape: [rows.count, window], values: y)))
            }
        }
        lm.eval()
        var total = 0.0, count = 0
        withNoGrad {
            for (x, y) in batches {
                let n = y.toArray(Int32.self).filter { $0 >= 0 }.count
                total += lm.loss(x, y).item(Double.self) * Double(n)
                count += n
            }
        }
        print("evaluated on \(dataset) (\(count) characters)")
        print("test loss: \(String(format: "%.4f", total / Double(Swift.max(count, 1))))")
    }
}

/// `nabla predict PATH --input FILE`: the model's outputs for the rows of a .npy or .csv file.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a saved model on the rows of a .npy or .csv file.")

    @Argument(help: "The model folder (from nabla train --save).")
    var model: String

    @Option(help: "The input: a .npy array of samples, or a CSV file of numeric features (one sample per row); for a text classifier or a language model, a text file with one text per line.")
    var input: String

    @Option(help: "Write the raw outputs to this .npy file instead of printing the predicted classes.")
    var output: String?

    func run() throws {
        let m = try loadModel(model)
        if try TextAssets.of(m) != nil || m is LanguageModel { return try predictTexts(m) }
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

    /// One line per text: a classifier's label and probability, or a language model's most likely
    /// next character and its probability.
    func predictTexts(_ m: Model) throws {
        let texts = TextFile.splitLines(try TextFile.read(input)).map(String.init)
        m.eval()
        if let assets = try TextAssets.of(m) {
            let p = withNoGrad { softmax(m(assets.vectorizer(texts)), axis: -1) }
            for (i, text) in texts.enumerated() {
                let row = p[i].toArray(Double.self), best = row.indices.max { row[$0] < row[$1] }!
                print("\(assets.classes[best])\t\(String(format: "%.4f", row[best]))\t\(text)")
            }
        } else if let lm = m as? LanguageModel {
            let assets = try LMAssets.required(lm, path: model)
            for text in texts {
                let ids: [Int32]
                do { ids = [assets.newline] + (try assets.vocabulary.encode(text)) } catch { throw ValidationError("\(input): \(error)") }
                let row = withNoGrad { softmax(lm.nextLogits(Tensor(shape: [1, ids.count], values: ids)), axis: -1) }[0].toArray(Double.self)
                let best = row.indices.max { row[$0] < row[$1] }!
                print("\(assets.vocabulary.decode([Int32(best)]).debugDescription)\t\(String(format: "%.4f", row[best]))\t\(text)")
            }
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
