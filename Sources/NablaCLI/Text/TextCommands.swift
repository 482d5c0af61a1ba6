import ArgumentParser
import Foundation
import Nabla
import NablaData
import NablaNN

/// `nabla text`: text classification from labelled text files.
struct TextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "text", abstract: "Text classification: train on labelled texts (CSV or TSV), then classify new texts.",
        subcommands: [TextTrain.self, TextPredict.self])
}

/// The text classifiers `nabla text train --model` builds.
enum TextModelKind: String, CaseIterable, Codable, ExpressibleByArgument {
    /// fastText: averaged word and hashed bigram vectors, linear output.
    case fasttext
    /// Kim's CNN: convolutions of widths 3, 4, 5, max over time.
    case cnn
    /// A bidirectional LSTM with max pooling.
    case bilstm
    /// A two-block Transformer encoder with mean pooling.
    case transformer
    /// Averaged word and bigram embeddings through a ReLU layer (the classifier of earlier releases).
    case average

    /// The vectorizer each model reads: fastText hashes bigrams into buckets beside the word vocabulary;
    /// the sequence models read words in order.
    func vectorizer(maxTokens: Int?, length: Int?, characterNgrams: ClosedRange<Int>? = nil) -> TextVectorization {
        switch self {
        case .fasttext:
            TextVectorization(maxTokens: maxTokens ?? 100_000, outputSequenceLength: length ?? (characterNgrams == nil ? 256 : 1024), ngrams: 2, foldDigits: true, hashBuckets: -1,
                              characterNgrams: characterNgrams)
        case .average:
            TextVectorization(maxTokens: maxTokens ?? 30_000, outputSequenceLength: length ?? 128, ngrams: 2, foldDigits: true)
        case .cnn, .bilstm, .transformer:
            TextVectorization(maxTokens: maxTokens ?? 30_000, outputSequenceLength: length ?? 64, foldDigits: true)
        }
    }

    var defaultLearningRate: Double {
        switch self {
        case .fasttext: 0.002
        case .average, .cnn, .bilstm: 1e-3
        case .transformer: 5e-4
        }
    }
}

/// The settings a text classifier is built from (and what `text.json` held in the folders of
/// earlier releases).
struct TextModelConfig: Codable {
    var model: TextModelKind
    var classes: [String]
    var vectorizer: TextVectorization
    var embedding: Int
    var hidden: Int
    /// Dropout before the output layer (nil: the model's default).
    var dropout: Double?

    /// The vectorizer and labels, as saved in the model's metadata.
    var assets: TextAssets { TextAssets(classes: classes, vectorizer: vectorizer) }

    func make() -> Model {
        let v = vectorizer.inputDimension, k = classes.count
        switch model {
        case .fasttext: return FastTextClassifier(vocabulary: v, classes: k, dimension: embedding, dropoutRate: dropout ?? 0)
        case .cnn: return TextCNN(vocabulary: v, classes: k, embeddingSize: embedding, filters: hidden, dropoutRate: dropout ?? 0.5)
        case .bilstm: return BiLSTMClassifier(vocabulary: v, classes: k, embeddingSize: embedding, units: hidden, dropoutRate: dropout ?? 0.5)
        case .transformer:
            return TransformerTextClassifier(vocabulary: v, classes: k, maxLength: vectorizer.outputSequenceLength, width: embedding,
                                             dropoutRate: dropout ?? 0.1)
        case .average: return TextClassifier(vocabulary: v, classes: k, embeddingSize: embedding, hiddenUnits: hidden, dropoutRate: dropout ?? 0.3)
        }
    }
}

extension TextModelConfig {
    /// Reads `text.json` of earlier releases; folders written before there was a choice of model hold
    /// the averaging classifier.
    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(model: try c.decodeIfPresent(TextModelKind.self, forKey: .model) ?? .average, classes: try c.decode([String].self, forKey: .classes),
                  vectorizer: try c.decode(TextVectorization.self, forKey: .vectorizer), embedding: try c.decode(Int.self, forKey: .embedding),
                  hidden: try c.decode(Int.self, forKey: .hidden), dropout: try c.decodeIfPresent(Double.self, forKey: .dropout))
    }
}

/// How to read labelled text files, shared by `text train` and its test file.
struct TextFileOptions: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: "Whether the first row names the columns (detected by default).")
    var header: Bool?
    @Option(help: "The label column, by header name or 0-based index (default: a column named label/class/..., else the one with the fewest distinct values).")
    var labelColumn: String?
    @Option(help: "The text column, by header name or 0-based index (default: a column named text/sentence/..., else the longest).")
    var textColumn: String?

    func read(_ path: String) throws -> LabelledTexts {
        let mode: DelimitedTable.Header = header.map { $0 ? .present : .absent } ?? .auto
        let data = try LabelledTexts(path: path, header: mode, labelColumn: labelColumn, textColumn: textColumn)
        print(data.note)
        return data
    }
}

struct TextTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a text classifier and report the test accuracy.",
        discussion: """
        Files are CSV or TSV (tab-separated when the first lines hold a tab), with any line endings, an optional
        byte-order mark, an optional header row and RFC 4180 quotes; the label column may come first or last.
        Training stops early when the accuracy on a held-out tenth of the training texts stops improving; a fresh
        model then learns from all training texts for the best number of epochs (--no-refit keeps the first model).
        """)

    @Option(help: "Training files (repeat --data for several; they are read in turn).")
    var data: [String]
    @Option(help: "Test file (default: a random 20% of --data is held out).")
    var test: String?
    @OptionGroup var files: TextFileOptions
    @Option(help: "fasttext (default), cnn, bilstm, transformer or average.")
    var model: TextModelKind = .fasttext
    @Option(help: "Most epochs (training usually stops earlier).")
    var epochs = 20
    @Option var batchSize = 32
    @Option(help: "Learning rate (default: fasttext 0.002, transformer 5e-4, others 1e-3; Adam).")
    var learningRate: Double?
    @Option(help: "adam (default), sgd, adagrad, rmsprop or adamw; embeddings take sparse steps with sgd, adagrad and adam.")
    var optimizer = "adam"
    @Option(help: "Fraction of the training texts that decides early stopping (0: train every epoch, no early stopping).")
    var validationSplit = 0.1
    @Option(help: "Epochs without a better validation accuracy before training stops.")
    var patience = 3
    @Flag(inversion: .prefixedNo, help: "After early stopping, train a fresh model on all training texts for the best number of epochs.")
    var refit = true
    @Option(help: "Largest word vocabulary, most frequent first.")
    var maxTokens: Int?
    @Option(help: "Tokens read from each text (fasttext: words then bigrams).")
    var length: Int?
    @Option(help: "Vector size (fasttext's dimension, the embedding of the others).")
    var embedding = 64
    @Option(help: "Hidden size: CNN filters per width, LSTM units per direction, the averaging model's hidden layer.")
    var hidden = 100
    @Option(help: "fasttext: also hash each word's character n-grams of these lengths, e.g. 2-5 (fastText's -minn/-maxn; off by default).")
    var charNgrams: String?
    @Option(help: "Dropout before the output layer (default: fasttext 0, cnn and bilstm 0.5, transformer 0.1, average 0.3).")
    var dropout: Double?
    @Option(help: "Random seed.")
    var seed: UInt64 = 42
    @Option(help: "0 silent, 1 progress bar, 2 one line per epoch.")
    var verbose = 2
    @Option(help: "Save the model, its vocabulary and labels into this folder.")
    var save: String?

    func validate() throws {
        if let dropout, !(0..<1).contains(dropout) { throw ValidationError("--dropout must be in [0, 1), got \(dropout)") }
        guard !data.isEmpty else { throw ValidationError("--data names no file") }
        guard epochs > 0, batchSize > 0, embedding > 0, hidden > 0, patience >= 0 else {
            throw ValidationError("--epochs, --batch-size, --embedding and --hidden must be positive, --patience not negative")
        }
        if let maxTokens, maxTokens <= 2 { throw ValidationError("--max-tokens must be above 2") }
        if let length, length <= 0 { throw ValidationError("--length must be positive") }
        _ = try characterNgrams()
        guard (0..<1).contains(validationSplit) else { throw ValidationError("--validation-split must be in [0, 1), got \(validationSplit)") }
    }

    func run() throws {
        RandomGenerator.global.seed(seed)
        var all = try files.read(data[0])
        for path in data.dropFirst() { all = all.appending(try files.read(path)) }
        let (train, held): (LabelledTexts, LabelledTexts)
        if let test {
            (train, held) = (all, try files.read(test))
        } else {
            (train, held) = Self.holdOut(all, seed: seed)
        }
        let classes = Array(Set(train.labels)).sorted()
        guard classes.count >= 2 else { throw ValidationError("\(data[0]): needs at least two labels, found \(classes)") }
        let classIndex = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Int32($0)) })
        if let i = held.labels.firstIndex(where: { classIndex[$0] == nil }) {
            throw ValidationError("\(held.origins[i]): label '\(held.labels[i])' does not occur in the training texts")
        }
        // Early stopping watches a seeded part of the training texts, never the test texts.
        let order = RandomGenerator(seed: seed &+ 1).permutation(train.count)
        let validationCount = Int(Double(train.count) * validationSplit)
        let (fitting, watching) = (train.subset(order[validationCount...]), train.subset(order[..<validationCount]))

        let counts = classes.map { c in "\(c) \(train.labels.filter { $0 == c }.count)" }.joined(separator: ", ")
        print("\(train.count) training texts (\(counts)), \(validationCount) of them for early stopping, \(held.count) test texts")
        let start = ProgressBar.now()
        var (config, classifier) = try fit(fitting, validation: validationCount > 0 ? watching : nil, epochs: epochs, classes: classes)
        if refit, validationCount > 0, let best = classifier.bestEpochs {
            // The held-out tenth chose the number of epochs; the final model learns from every training text.
            print("training again on all \(train.count) training texts for the best \(best) epoch\(best == 1 ? "" : "s")")
            (config, classifier) = try fit(train, validation: nil, epochs: best, classes: classes)
        }
        let seconds = ProgressBar.now() - start
        let vectorizer = config.vectorizer
        let testX = vectorizer(held.texts), testY = Tensor(values: held.labels.map { classIndex[$0]! })
        let result = try classifier.model.evaluate(testX, testY, batchSize: 256, verbose: 0)
        if let save {
            try config.assets.write(into: classifier.model)
            try classifier.model.save(to: URL(fileURLWithPath: save))
            print("saved the model, its vocabulary and labels to \(save)")
        }
        print("training time: \(String(format: "%.2f", seconds)) s")
        print("test loss: \(String(format: "%.4f", result.loss))")
        print("test accuracy: \(String(format: "%.4f", result["accuracy"] ?? 0))")
    }

    /// `--char-ngrams MIN-MAX` as a range.
    func characterNgrams() throws -> ClosedRange<Int>? {
        guard let charNgrams else { return nil }
        let parts = charNgrams.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 2, parts[0] >= 1, parts[0] <= parts[1] else { throw ValidationError("--char-ngrams must be MIN-MAX such as 2-5, got '\(charNgrams)'") }
        return parts[0]...parts[1]
    }

    /// The seeded 80/20 split used when no test file is given (and by `nabla bench text_train`).
    static func holdOut(_ all: LabelledTexts, seed: UInt64) -> (train: LabelledTexts, test: LabelledTexts) {
        let order = RandomGenerator(seed: seed).permutation(all.count)
        let cut = all.count * 4 / 5
        return (all.subset(order[..<cut]), all.subset(order[cut...]))
    }

    /// A trained classifier, the seconds `Model.fit` took, and, when a validation set watched it, the
    /// epoch count with the best validation accuracy.
    struct Trained {
        let model: Model
        let fitSeconds: Double
        let bestEpochs: Int?
    }

    /// Adapts a vectorizer to `texts`, trains a fresh model of the chosen kind for at most `epochs`
    /// (with early stopping on `validation` when given) and returns it with its configuration;
    /// `log` takes the progress lines.
    func fit(_ texts: LabelledTexts, validation: LabelledTexts?, epochs: Int, classes: [String],
             log: (String) -> Void = { print($0) }) throws -> (TextModelConfig, Trained) {
        RandomGenerator.global.seed(seed)
        var vectorizer = model.vectorizer(maxTokens: maxTokens, length: length, characterNgrams: try characterNgrams())
        vectorizer.adapt(texts.texts)
        log("vocabulary \(vectorizer.vocabulary.count)" + (vectorizer.hashBuckets > 0 ? " words + \(vectorizer.hashBuckets) hashed n-gram buckets" : ""))
        let config = TextModelConfig(model: model, classes: classes, vectorizer: vectorizer, embedding: embedding, hidden: hidden, dropout: dropout)
        let classifier = config.make()
        let optimizer = try Optimizer.named(self.optimizer)
        optimizer.learningRate = learningRate ?? model.defaultLearningRate
        try classifier.compile(optimizer: optimizer, loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Int32($0)) })
        func tensors(_ t: LabelledTexts) -> (Tensor, Tensor) { (vectorizer(t.texts), Tensor(values: t.labels.map { index[$0]! })) }
        // Keras's default watches val_loss; for classification it bottoms out epochs before the accuracy
        // does (confident mistakes cost more loss while more texts come out right), so watch the accuracy.
        let stopper = EarlyStopping(monitor: "val_accuracy", patience: patience, restoreBestWeights: true)
        let (x, y) = tensors(texts)
        let start = ProgressBar.now()
        let history = try classifier.fit(x, y, batchSize: batchSize, epochs: epochs, verbose: verbose,
                                         validationData: validation.map(tensors), callbacks: validation == nil ? [] : [stopper])
        let fitSeconds = ProgressBar.now() - start
        if let stopped = stopper.stoppedEpoch { log("stopped early after epoch \(stopped + 1)") }
        // The number of epochs to refit with: the latest epoch within one validation text of the best
        // accuracy. A difference of one text is noise, and the refit sees a ninth more data per epoch.
        let accuracies = history.history["val_accuracy"] ?? []
        let tolerance = 1 / Double(Swift.max(validation?.count ?? 1, 1)) + 1e-9
        let best = accuracies.max().flatMap { top in accuracies.lastIndex { $0 >= top - tolerance } }.map { $0 + 1 }
        return (config, Trained(model: classifier, fitSeconds: fitSeconds, bestEpochs: best))
    }
}

struct TextPredict: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "Classify texts with a model saved by nabla text train --save.")

    @Argument(help: "The folder written by nabla text train --save.")
    var model: String
    @Argument(help: "Texts to classify.")
    var texts: [String]

    func run() throws {
        let classifier = try loadModel(model)
        guard let config = try TextAssets.of(classifier) else { throw ValidationError("\(model): a \(classifier.typeName) without a text vectorizer; not written by nabla text train") }
        let probabilities = withNoGrad { softmax(classifier(config.vectorizer(texts)), axis: -1) }
        for (i, text) in texts.enumerated() {
            let p = probabilities[i].toArray(Double.self)
            let best = p.indices.max { p[$0] < p[$1] }!
            print("\(config.classes[best])\t\(String(format: "%.4f", p[best]))\t\(text)")
        }
    }
}
