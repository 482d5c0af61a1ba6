import ArgumentParser
import Foundation
import Nabla
import NablaData
import NablaNN

/// `nabla text`: text classification from `label<TAB>text` lines.
struct TextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "text", abstract: "Text classification: train on label<TAB>text lines, then classify new texts.",
        subcommands: [TextTrain.self, TextPredict.self])
}

/// Labelled texts read from a file of `label<TAB>text` lines.
struct LabelledTexts {
    var labels: [String] = []
    var texts: [String] = []

    /// Reads `path`; blank lines are skipped, a line without a tab is an error naming its line.
    init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("\(path): cannot read the file") }
        guard let content = String(data: data, encoding: .utf8) ?? String(data: data, encoding: .isoLatin1) else {
            throw ValidationError("\(path): not text")
        }
        for (number, line) in content.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let row = line.hasSuffix("\r") ? line.dropLast() : line
            if row.allSatisfy(\.isWhitespace) { continue }
            guard let tab = row.firstIndex(of: "\t"), tab != row.startIndex else {
                throw ValidationError("\(path):\(number + 1): expected label<TAB>text, got '\(row.prefix(40))'")
            }
            labels.append(String(row[..<tab]))
            texts.append(String(row[row.index(after: tab)...]))
        }
        guard !texts.isEmpty else { throw ValidationError("\(path): no label<TAB>text lines") }
    }

    init(labels: [String], texts: [String]) {
        self.labels = labels
        self.texts = texts
    }

    /// The rows at `indices`.
    func subset(_ indices: some Sequence<Int>) -> LabelledTexts {
        let i = Array(indices)
        return LabelledTexts(labels: i.map { labels[$0] }, texts: i.map { texts[$0] })
    }
}

/// What a `text` folder records besides the weights.
struct TextModelConfig: Codable {
    var classes: [String]
    var vectorizer: TextVectorization
    var embedding: Int
    var hidden: Int

    static func folder(_ path: String) -> ModelFolder { ModelFolder(path: path, descriptionName: "text.json", writer: "nabla text train") }

    func make() -> TextClassifier {
        TextClassifier(vocabulary: vectorizer.vocabulary.count, classes: classes.count, embeddingSize: embedding, hiddenUnits: hidden)
    }
}

struct TextTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a text classifier (word and bigram embeddings, averaged) and report the test accuracy.")

    @Option(help: "Training lines: label<TAB>text, any label names.")
    var data: String
    @Option(help: "Test lines in the same format (default: a random 20% of --data is held out).")
    var test: String?
    @Option var epochs = 12
    @Option var batchSize = 32
    @Option var learningRate = 1e-3
    @Option(help: "Largest vocabulary (words and bigrams), most frequent first.")
    var maxTokens = 30_000
    @Option(help: "Tokens read from each text.")
    var length = 128
    @Option var embedding = 64
    @Option var hidden = 64
    @Option(help: "Random seed.")
    var seed: UInt64 = 42
    @Option(help: "0 silent, 1 progress bar, 2 one line per epoch.")
    var verbose = 2
    @Option(help: "Save the model, its vocabulary and labels into this folder.")
    var save: String?

    func validate() throws {
        guard epochs > 0, batchSize > 0, maxTokens > 2, length > 0, embedding > 0, hidden > 0 else {
            throw ValidationError("--epochs, --batch-size, --length, --embedding and --hidden must be positive, --max-tokens above 2")
        }
    }

    func run() throws {
        RandomGenerator.global.seed(seed)
        let all = try LabelledTexts(path: data)
        let (train, held): (LabelledTexts, LabelledTexts)
        if let test {
            (train, held) = (all, try LabelledTexts(path: test))
        } else {
            let order = RandomGenerator(seed: seed).permutation(all.texts.count)
            let cut = all.texts.count * 4 / 5
            (train, held) = (all.subset(order[..<cut]), all.subset(order[cut...]))
        }
        let classes = Array(Set(train.labels)).sorted()
        guard classes.count >= 2 else { throw ValidationError("\(data): needs at least two labels, found \(classes)") }
        let classIndex = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Int32($0)) })
        if let unknown = held.labels.first(where: { classIndex[$0] == nil }) {
            throw ValidationError("\(test ?? data): label '\(unknown)' does not occur in the training lines")
        }
        var vectorizer = TextVectorization(maxTokens: maxTokens, outputSequenceLength: length, ngrams: 2, foldDigits: true)
        vectorizer.adapt(train.texts)
        let config = TextModelConfig(classes: classes, vectorizer: vectorizer, embedding: embedding, hidden: hidden)
        let model = config.make()
        try model.compile(optimizer: Adam(learningRate: learningRate), loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
        let x = vectorizer(train.texts), y = Tensor(values: train.labels.map { classIndex[$0]! })
        let testX = vectorizer(held.texts), testY = Tensor(values: held.labels.map { classIndex[$0]! })
        let counts = classes.map { c in "\(c) \(train.labels.filter { $0 == c }.count)" }.joined(separator: ", ")
        print("\(train.texts.count) training texts (\(counts)), \(held.texts.count) test texts, vocabulary \(vectorizer.vocabulary.count)")
        let start = ProgressBar.now()
        try model.fit(x, y, batchSize: batchSize, epochs: epochs, verbose: verbose)
        let seconds = ProgressBar.now() - start
        let result = try model.evaluate(testX, testY, batchSize: 256, verbose: 0)
        if let save {
            try TextModelConfig.folder(save).save(model, description: config)
            print("saved the model, its vocabulary and labels to \(save)")
        }
        print("training time: \(String(format: "%.1f", seconds)) s")
        print("test loss: \(String(format: "%.4f", result.loss))")
        print("test accuracy: \(String(format: "%.4f", result["accuracy"] ?? 0))")
    }
}

struct TextPredict: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "Classify texts with a model saved by nabla text train --save.")

    @Argument(help: "The folder written by nabla text train --save.")
    var model: String
    @Argument(help: "Texts to classify.")
    var texts: [String]

    func run() throws {
        let folder = TextModelConfig.folder(model)
        let config = try folder.description(TextModelConfig.self)
        let classifier = config.make()
        try folder.loadWeights(into: classifier)
        let probabilities = withNoGrad { softmax(classifier(config.vectorizer(texts)), axis: -1) }
        for (i, text) in texts.enumerated() {
            let p = probabilities[i].toArray(Double.self)
            let best = p.indices.max { p[$0] < p[$1] }!
            print("\(config.classes[best])\t\(String(format: "%.4f", p[best]))\t\(text)")
        }
    }
}
