import ArgumentParser
import Foundation
import Nabla
import NablaData
import NablaNN

/// The settings of a training run, kept in the checkpoint folder so that `--resume` can continue it.
/// The models `nabla train --model` builds.
enum TrainModelKind: String, Codable {
    /// Dense layers with ReLU over the flattened features.
    case mlp
    /// Two convolution blocks and a dense head, for square images.
    case cnn
}

struct RunConfig: Codable, Equatable {
    var dataset = "digits"
    var labelColumn: String?
    /// Whether the CSV file's first row is a header (nil: detected).
    var header: Bool?
    var dataDir: String?
    var model = TrainModelKind.mlp
    var augment = false
    var hidden = "256,128"
    var epochs = 30
    var batchSize = 32
    var optimizer = "adam"
    var learningRate: Double?
    var testSplit = 0.2
    var validationSplit = 0.1
    var seed: UInt64 = 42

    static let fileName = "run.json"

    /// The run description kept in `folder`: nil when there is none; an error naming the file when
    /// it is not a run description.
    static func read(from folder: URL) throws -> RunConfig? {
        let file = folder.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        do { return try JSONDecoder().decode(RunConfig.self, from: data) } catch {
            throw ValidationError("\(file.path): not a run description: \(error.localizedDescription)")
        }
    }

    /// Writes the description into `folder` atomically.
    func write(to folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: folder.appendingPathComponent(Self.fileName))
    }

    func hiddenSizes() throws -> [Int] {
        let parts = hidden.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let sizes = parts.compactMap { Int($0) }
        guard sizes.count == parts.count, sizes.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--hidden must be positive integers separated by commas, got '\(hidden)'")
        }
        return sizes
    }
}

/// The data of a run: features, labels, class count, and the train/test split (seeded, or the
/// official one for MNIST and Fashion-MNIST). Images are [N, H, W, 1] for the CNN.
struct RunData {
    let train: (x: Tensor, y: Tensor)
    let test: (x: Tensor, y: Tensor)
    let features: Int
    let classes: Int
    /// Per-sample shape of the inputs.
    let sampleShape: [Int]
    /// How a CSV file's first row was read, for the user.
    var headerNote: String?

    init(_ config: RunConfig) throws {
        if config.dataset == "mnist" || config.dataset == "fashion-mnist" {
            let m = try MNIST.load(config.dataset, directory: config.dataDir)
            let flat = config.model != .cnn
            func shape(_ t: Tensor) -> Tensor { flat ? t.reshaped([t.shape[0], -1]) : t }
            train = (shape(m.trainImages), m.trainLabels)
            test = (shape(m.testImages), m.testLabels)
            sampleShape = Array(train.x.shape.dropFirst())
            features = sampleShape.reduce(1, *)
            classes = 10
            return
        }
        var x: Tensor, y: Tensor, classes: Int
        if config.dataset == "digits" {
            (x, y) = Digits.load()
            classes = Digits.classCount
        } else {
            let csv = try CSVDataset(path: config.dataset, labelColumn: config.labelColumn,
                                     header: config.header.map { $0 ? .present : .absent } ?? .auto)
            headerNote = csv.headerNote
            guard csv.classNames.count >= 2 else { throw ValidationError("\(config.dataset): the label column has only one class") }
            (x, y, classes) = (csv.features, csv.labels, csv.classNames.count)
        }
        features = x.shape[1]
        if config.model == .cnn {
            let side = Int(Double(features).squareRoot())
            guard side * side == features else { throw ValidationError("--model cnn needs square images; \(config.dataset) has \(features) features") }
            x = x.reshaped([x.shape[0], side, side, 1])
        }
        (train, test) = trainTestSplit(x, y, testFraction: config.testSplit, seed: config.seed)
        sampleShape = Array(x.shape.dropFirst())
        self.classes = classes
    }
}

/// `nabla train`: trains a classifier (an MLP) on the embedded digits or on a CSV file, holds out a
/// test split, and reports the test accuracy; checkpoints, resumes and saves on request.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a classifier and report its accuracy on a held-out test split.",
        discussion: """
            With no arguments, trains a 64-256-128-10 MLP on the 1,797 handwritten digits embedded in Nabla \
            (8x8 images, UCI, CC BY 4.0) and prints `test accuracy: 0.XXXX`.
            """
    )

    @Option(help: "The data: 'digits' (embedded), 'mnist', 'fashion-mnist', or the path of a CSV file with numeric features and a label column.")
    var dataset = "digits"

    @Option(help: "Folder with the MNIST / Fashion-MNIST IDX files (default: $NABLA_DATA/NAME, ../shared/data/NAME, data/NAME, and /usr/share/datasets/fashion-mnist).")
    var dataDir: String?

    @Option(help: "Model: 'mlp' (Dense layers of --hidden) or 'cnn' (Conv 32 → pool → Conv 64 → pool → Dense 128, for images).")
    var model = "mlp"

    @Flag(help: "Augment training images with random shifts of up to 2 pixels and rotations of up to 10 degrees.")
    var augment = false

    @Option(help: "For a CSV file: the label column, by header name or 0-based index (default: 'label', else the last column).")
    var labelColumn: String?

    @Flag(inversion: .prefixedNo, help: "For a CSV file: whether the first row names the columns (detected by default).")
    var header: Bool?

    @Option(help: "Hidden layer sizes, comma-separated (each a Dense layer with ReLU).")
    var hidden = "256,128"

    @Option(help: "Passes over the training data (default: 30 for digits and CSV files, 15 for MNIST and Fashion-MNIST).")
    var epochs: Int?

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

    @Flag(help: "Train data-parallel across the processes of an mpirun job (mpirun -np N nabla train --distributed): --batch-size stays the global batch, split across ranks; rank 0 prints, checkpoints and saves. Needs a nabla built with NABLA_MPI=1.")
    var distributed = false

    @Option(help: "Write a checkpoint into this folder after every epoch (the last 3 are kept).")
    var checkpointDir: String?

    @Option(help: "Continue the run whose checkpoints are in this folder, with its settings (--epochs, when given, sets a new total).")
    var resume: String?

    @Option(help: "Save the trained model into this folder (config.json and model.safetensors).")
    var save: String?

    @Option(help: "Write TensorBoard event files (train/ and validation/) into this folder.")
    var tensorboard: String?

    @Option(help: "Draw the training curves (loss and accuracy, training and validation) into this SVG file.")
    var plot: String?

    @Option(help: "Write the per-epoch history as CSV to this file (what `nabla plot` reads).")
    var csvLog: String?

    var config: RunConfig {
        let image = dataset == "mnist" || dataset == "fashion-mnist"
        let kind = TrainModelKind(rawValue: model) ?? .mlp   // validate() has refused any other name
        return RunConfig(dataset: dataset, labelColumn: labelColumn, header: header, dataDir: dataDir, model: kind, augment: augment,
                  hidden: image && hidden == "256,128" && kind == .mlp ? "512,256" : hidden, epochs: epochs ?? (image ? 15 : 30), batchSize: batchSize,
                  optimizer: optimizer, learningRate: learningRate, testSplit: testSplit, validationSplit: validationSplit, seed: seed)
    }

    func validate() throws {
        if let epochs, epochs <= 0 { throw ValidationError("--epochs must be positive, got \(epochs)") }
        guard TrainModelKind(rawValue: model) != nil else { throw ValidationError("--model must be mlp or cnn, got '\(model)'") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        guard testSplit > 0 && testSplit < 1 else { throw ValidationError("--test-split must be between 0 and 1, got \(testSplit)") }
        guard validationSplit >= 0 && validationSplit < 1 else { throw ValidationError("--validation-split must be in [0, 1), got \(validationSplit)") }
        guard (0...2).contains(verbose) else { throw ValidationError("--verbose must be 0, 1 or 2, got \(verbose)") }
        _ = try config.hiddenSizes()
        if let learningRate, !(learningRate > 0) { throw ValidationError("--learning-rate must be positive, got \(learningRate)") }
    }

    func run() throws {
        let cluster = distributed ? try DistributedRun.start() : nil
        defer { cluster?.end() }
        let primary = cluster?.isPrimary ?? true
        let shown = primary ? verbose : 0
        var config = self.config
        var checkpoints = checkpointDir.map { URL(fileURLWithPath: $0) }
        if let resume {
            let dir = URL(fileURLWithPath: resume)
            guard let saved = try RunConfig.read(from: dir) else {
                throw ValidationError("--resume \(resume): no \(RunConfig.fileName) there (was it written by nabla train --checkpoint-dir?)")
            }
            config = saved
            if let epochs { config.epochs = epochs }
            checkpoints = dir
        }
        RandomGenerator.global.seed(config.seed)
        let data = try RunData(config)
        if shown > 0, let note = data.headerNote { print(note) }
        let model = try Train.makeModel(config, data)
        var initialEpoch = 0
        var callbacks: [Callback] = []
        var resumedHistory: [String: [Double]] = [:]
        if let dir = checkpoints {
            // Every rank restores the same checkpoint; only rank 0 writes them.
            if primary {
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                AtomicFile.removeStaleTemporaries(in: dir)
                if resume == nil || epochs != nil { try config.write(to: dir) }
            }
            var history: [String: [Double]] = [:]
            if resume != nil, let latest = TrainingCheckpoint.latest(in: dir) {
                (initialEpoch, history) = try TrainingCheckpoint.restore(model, from: latest)
                if shown > 0 { print("resuming from \(latest.lastPathComponent): \(initialEpoch) of \(config.epochs) epochs done") }
            }
            if primary { callbacks.append(ModelCheckpoint(directory: dir, keep: 3, history: history)) }
            resumedHistory = history
        }
        if primary, let tensorboard { callbacks.append(try TensorBoard(logDir: tensorboard)) }
        if primary, let csvLog { callbacks.append(CSVLogger(path: csvLog, append: initialEpoch > 0)) }
        if shown > 0 && initialEpoch == 0 {
            print(model.summary())
            print("data: \(config.dataset), \(data.train.x.shape[0]) training and \(data.test.x.shape[0]) test samples, \(data.features) features, \(data.classes) classes")
        }
        var history = resumedHistory
        if initialEpoch < config.epochs {
            let h: History
            if config.augment {
                guard cluster == nil else { throw ValidationError("--augment does not combine with --distributed yet") }
                // Validation from the end of the training data (as validationSplit does), augmentation on the rest.
                let n = data.train.x.shape[0], cut = Int(Double(n) * (1 - config.validationSplit))
                let augment = ImageAugmentation(maxShift: 2, maxRotation: 10)
                let loader = DataLoader(TensorDataset(data.train.x[..<cut], data.train.y[..<cut], transform: { augment($0) }),
                                        batchSize: config.batchSize, shuffle: true)
                h = try model.fit(loader, epochs: config.epochs, verbose: shown,
                                  validationData: cut < n ? (data.train.x[cut...], data.train.y[cut...]) : nil,
                                  callbacks: callbacks, initialEpoch: initialEpoch)
            } else {
                h = try model.fit(data.train.x, data.train.y, batchSize: config.batchSize, epochs: config.epochs, verbose: shown,
                                  validationSplit: config.validationSplit, callbacks: callbacks, initialEpoch: initialEpoch,
                                  distributed: cluster?.parallel)
            }
            for (k, v) in h.history { history[k, default: []] += v }
        }
        guard primary else { return }
        if let plot {
            let svg = HistoryPlot.svg(history, title: "nabla train — \(config.dataset), hidden \(config.hidden), \(config.optimizer)")
            try AtomicFile.write(Data(svg.utf8), to: URL(fileURLWithPath: plot))
            if shown > 0 { print("wrote the training curves to \(plot)") }
        }
        let result = try model.evaluate(data.test.x, data.test.y, batchSize: 256, verbose: 0)
        if let save {
            let url = URL(fileURLWithPath: save)
            try model.save(to: url)
            try config.write(to: url)
            if shown > 0 { print("saved the model to \(save)") }
        }
        print("test loss: \(String(format: "%.4f", result.loss))")
        print("test accuracy: \(String(format: "%.4f", result["accuracy"] ?? 0))")
    }

    static func makeModel(_ config: RunConfig, _ data: RunData) throws -> Model {
        var layers: [Layer] = []
        let images = config.dataset == "mnist" || config.dataset == "fashion-mnist"
        if config.model == .cnn {
            // Keras's MNIST convnet, with "same" padding for images too small to shrink twice.
            let pad: Padding = data.sampleShape[0] < 16 ? .same : .valid
            layers = [Conv2D(filters: 32, kernelSize: (3, 3), padding: pad, activation: .relu), MaxPooling2D(),
                      Conv2D(filters: 64, kernelSize: (3, 3), padding: pad, activation: .relu), MaxPooling2D(),
                      Flatten(), Dropout(rate: 0.3), Dense(units: 128, activation: .relu), Dropout(rate: 0.3)]
        } else {
            for (i, units) in try config.hiddenSizes().enumerated() {
                layers.append(Dense(units: units, activation: .relu, inputDim: i == 0 ? data.features : nil))
                if images { layers.append(Dropout(rate: 0.2)) }
            }
        }
        layers.append(Dense(units: data.classes))
        let model = Sequential(layers, inputShape: data.sampleShape)
        let opt = try Optimizer.named(config.optimizer)
        if let lr = config.learningRate { opt.learningRate = lr }
        try model.compile(optimizer: opt, loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
        return model
    }
}
