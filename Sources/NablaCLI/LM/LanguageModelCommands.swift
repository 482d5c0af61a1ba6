import ArgumentParser
import Foundation
import Nabla
import NablaData
import NablaNN

/// `nabla lm`: character-level language models.
struct LM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm", abstract: "Character-level language models: train on a text file, then sample.",
        subcommands: [LMTrain.self, LMSample.self])
}

/// The language models `nabla lm train --model` builds.
enum LMKind: String, CaseIterable, Codable, ExpressibleByArgument {
    case bigram, mlp, rnn, lstm, gru, transformer

    /// The recurrent cell, for the recurrent models.
    var cell: RecurrentCell? {
        switch self {
        case .rnn: .simple
        case .lstm: .lstm
        case .gru: .gru
        default: nil
        }
    }

    /// Whether the model reads a fixed number of previous tokens (bigram, MLP) rather than the whole window.
    var readsFixedContext: Bool { self == .bigram || self == .mlp }

    /// Tokens of context when `--context` is not given.
    var defaultContext: Int {
        switch self {
        case .bigram: 1
        case .mlp: 3
        case .transformer: 16
        default: 32
        }
    }
}

/// The settings that shape a language model: what `nabla lm train` builds from its options (and what
/// `lm.json` held in the folders of earlier releases).
struct LMConfig: Codable {
    var model: LMKind
    var vocabulary: CharacterVocabulary
    var context: Int
    var lineMode: Bool
    var layers = 4, heads = 4, width = 64, embedding = 10, hidden = 200
    // Added later; optional so that older lm.json files still load.
    var bias: Bool?
    var tied: Bool?
    var initialization: String?
    var dropout: Double?

    /// The newline's id: it starts and ends every line.
    var newline: Int32 { (try? vocabulary.encode("\n").first) ?? 0 }

    /// The model with these settings, its vocabulary and line mode in its metadata.
    func make() throws -> LanguageModel {
        let lm: LanguageModel = switch model {
        case .bigram: BigramModel(vocabulary: vocabulary.count)
        case .mlp: MLPLanguageModel(vocabulary: vocabulary.count, context: context, embeddingSize: embedding, hiddenUnits: hidden, padToken: newline)
        case .rnn, .lstm, .gru: RecurrentLanguageModel(model.cell!, vocabulary: vocabulary.count, context: context, embeddingSize: embedding, units: hidden)
        case .transformer: GPT(vocabulary: vocabulary.count, context: context, layers: layers, heads: heads, dModel: width,
                     useBias: bias ?? true, tiedEmbedding: tied ?? false,
                     initialization: initialization.flatMap(GPT.Initialization.init(rawValue:)) ?? .nanoGPT,
                     dropout: dropout ?? 0)
        }
        try LMAssets(vocabulary: vocabulary, lineMode: lineMode).write(into: lm)
        return lm
    }
}

/// A named set of defaults that reproduces a reference configuration; explicit options override it.
struct LMPreset {
    var model = LMKind.mlp, steps = 2000, batchSize = 32, learningRate = 1e-3
    var context: Int?, layers = 4, heads = 4, width = 64, embedding: Int?, hidden: Int?
    var bias = true, tied = false, weightDecay = 0.0, decayMatricesOnly = false, beta2 = 0.999, epsilon = 1e-8
    var clip: Double?, warmup = 0, minLearningRate: Double?, examples: String?, evalBatches = 20
    var initialization = "nanoGPT"
    var dropout = 0.0
    var valLines: Int?

    static let all: [String: LMPreset] = [
        // makemore's Transformer on names.txt.
        // makemore's Transformer and AdamW settings and its 1,000-name test split, trained longer with
        // dropout 0.2 and a cosine decay to 5e-5 (makemore itself: no dropout, constant rate; it
        // overfits names after ~10,000 steps at 2.00).
        "makemore": LMPreset(model: .transformer, steps: 80000, batchSize: 32, learningRate: 5e-4, context: 16, layers: 4, heads: 4, width: 64,
                             weightDecay: 0.01, beta2: 0.99, minLearningRate: 5e-5, examples: "lines", evalBatches: 100,
                             initialization: "pytorch", dropout: 0.2, valLines: 1000),
        // nanoGPT's CPU configuration of the Shakespeare character model.
        "nanogpt-cpu": LMPreset(model: .transformer, steps: 2000, batchSize: 12, learningRate: 1e-3, context: 64, layers: 4, heads: 4, width: 128,
                                bias: false, tied: true, weightDecay: 0.1, decayMatricesOnly: true, beta2: 0.99, clip: 1.0, warmup: 100,
                                minLearningRate: 1e-4, examples: "text", evalBatches: 200),
    ]
}

struct LMTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a character model on a text file and report the validation loss.",
        discussion: """
        Presets (explicit options override them):
          makemore     names: 4 layers, 4 heads, width 64, context 16, AdamW 5e-4 (β2 0.99) with cosine decay to 5e-5, weight decay 0.01, batch 32, dropout 0.2, 80,000 steps, 1,000 names validating.
          nanogpt-cpu  Shakespeare: 4 layers, 4 heads, width 128, no biases, tied embedding, context 64, batch 12, 2,000 steps, AdamW β2 0.99, weight decay 0.1, clipping 1.0, lr 1e-3 with 100 warm-up steps and cosine decay to 1e-4.
        """)

    @Option(help: "The text: one example per line (like names.txt) or one running text.")
    var data: String
    @Option(help: "bigram, mlp, rnn, lstm, gru or transformer (default mlp).")
    var model: String?
    @Option(help: "Reference configuration: makemore or nanogpt-cpu.")
    var preset: String?
    @Option(help: "'lines' (each line an example; a random 10% of lines validate) or 'text' (the last 10% validates). Default: lines when the average line is under 20 characters.")
    var examples: String?
    @Option(help: "Optimisation steps.")
    var steps: Int?
    @Option(help: "Sequences per step.")
    var batchSize: Int?
    @Option(help: "Tokens of context (mlp: the tokens it reads; others: the training window).")
    var context: Int?
    @Option(help: "Peak learning rate of AdamW.")
    var learningRate: Double?
    @Option(help: "Cosine-decay the learning rate to this value at the last step (default: constant).")
    var minLearningRate: Double?
    @Option(help: "Linear warm-up steps.")
    var warmup: Int?
    @Option(help: "Decoupled weight decay.")
    var weightDecay: Double?
    @Option(help: "Clip gradients to this global L2 norm.")
    var clip: Double?
    @Option(help: "Transformer layers, heads and width.")
    var layers: Int?
    @Option var heads: Int?
    @Option var width: Int?
    @Option(help: "Transformer dropout after the embeddings and on each residual branch.")
    var dropout: Double?
    @Option(help: "Embedding size of the mlp and recurrent models.")
    var embedding: Int?
    @Option(help: "Hidden units of the mlp and recurrent models.")
    var hidden: Int?
    @Option(help: "In line mode, hold out this many random lines for validation (default: 10%).")
    var valLines: Int?
    @Option(help: "Random seed.")
    var seed: UInt64 = 42
    @Option(help: "Print a progress line every this many steps.")
    var logEvery = 100
    @Option(help: "Also report the validation loss every this many steps (0: only at the end).")
    var evalEvery = 0
    @Option(help: "Random windows averaged for each validation loss in text mode (line mode uses every validation line).")
    var evalBatches: Int?
    @Option(help: "Save the model and its vocabulary into this folder.")
    var save: String?
    @Flag(help: "Train data-parallel across the processes of an mpirun job: --batch-size stays the global batch, split across ranks; rank 0 prints and saves. Needs a nabla built with NABLA_MPI=1.")
    var distributed = false

    func validate() throws {
        if let preset, LMPreset.all[preset] == nil { throw ValidationError("--preset must be makemore or nanogpt-cpu, got '\(preset)'") }
        if let model, LMKind(rawValue: model) == nil {
            throw ValidationError("--model must be one of \(LMKind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(model)'")
        }
        if let examples, !["lines", "text"].contains(examples) { throw ValidationError("--examples must be lines or text, got '\(examples)'") }
        if let dropout, !(0..<1).contains(dropout) { throw ValidationError("--dropout must be in [0, 1), got \(dropout)") }
        for (name, value) in [("--steps", steps), ("--batch-size", batchSize), ("--context", context), ("--layers", layers), ("--heads", heads),
                              ("--width", width), ("--embedding", embedding), ("--hidden", hidden)] {
            if let value, value < 1 { throw ValidationError("\(name) must be positive, got \(value)") }
        }
    }

    func run() throws {
        let cluster = distributed ? try DistributedRun.start() : nil
        defer { cluster?.end() }
        let primary = cluster?.isPrimary ?? true
        let text = try TextFile.read(data)
        guard text.count > 100 else { throw ValidationError("\(data): \(text.count) characters are too few to train on") }
        var p = preset.flatMap { LMPreset.all[$0] } ?? LMPreset()
        if let kind = model.flatMap(LMKind.init(rawValue:)), kind != p.model { p = LMPreset(model: kind) }   // another model: the preset's tuning does not apply
        let kind = p.model
        RandomGenerator.global.seed(seed)

        let lines = TextFile.splitLines(text).map(String.init)
        let lineMode = (examples ?? p.examples).map { $0 == "lines" } ?? (Double(text.count) / Double(Swift.max(lines.count, 1)) < 20)
        let recurrent = kind.cell != nil
        let config = LMConfig(model: kind, vocabulary: CharacterVocabulary(text: text + "\n"), context: context ?? p.context ?? kind.defaultContext,
                              lineMode: lineMode, layers: layers ?? p.layers, heads: heads ?? p.heads, width: width ?? p.width,
                              embedding: embedding ?? p.embedding ?? (recurrent ? 32 : 10), hidden: hidden ?? p.hidden ?? (recurrent ? 256 : 200),
                              bias: p.bias, tied: p.tied, initialization: p.initialization, dropout: dropout ?? p.dropout)
        let lm = try config.make()
        let (steps, batch) = (self.steps ?? p.steps, batchSize ?? p.batchSize)
        // Each step's sequences: in line mode, whole lines (makemore's examples: the newline, the line,
        // padding that does not count); in text mode, random windows of the running text (nanoGPT's).
        let window: Int
        let nextBatch: () -> (Tensor, Tensor)
        let validationBatches: [(Tensor, Tensor)]
        if lineMode {
            let order = RandomGenerator(seed: seed).permutation(lines.count)
            let held = valLines ?? p.valLines ?? lines.count - lines.count * 9 / 10
            guard held > 0, held < lines.count else { throw ValidationError("--val-lines must be between 1 and \(lines.count - 1), got \(held)") }
            let cut = lines.count - held
            let encoded = try lines.map { try config.vocabulary.encode($0) }
            let trainLines = order[..<cut].map { encoded[$0] }, valLines = order[cut...].map { encoded[$0] }
            let longest = (encoded.map(\.count).max() ?? 1) + 1
            window = kind.readsFixedContext ? Swift.min(longest, 64) : Swift.min(longest, config.context)
            let newline = config.newline
            nextBatch = { lineModelBatch(trainLines, length: window, batchSize: batch, start: newline) }
            validationBatches = stride(from: 0, to: valLines.count, by: 256).map {
                lineModelRows(valLines[$0..<Swift.min($0 + 256, valLines.count)], length: window, start: newline)
            }
        } else {
            let cut = text.index(text.startIndex, offsetBy: text.count * 9 / 10)
            let trainTokens = try config.vocabulary.encode(String(text[..<cut])), valTokens = try config.vocabulary.encode(String(text[cut...]))
            window = kind.readsFixedContext ? 16 : config.context
            guard valTokens.count > window + 1, trainTokens.count > window + 1 else {
                throw ValidationError("\(data): too little text for windows of \(window) characters")
            }
            nextBatch = { languageModelBatch(trainTokens, context: window, batchSize: batch) }
            let g = RandomGenerator(seed: 1234)
            validationBatches = (0..<(evalBatches ?? p.evalBatches)).map { _ in
                languageModelBatch(valTokens, context: window, batchSize: batch, generator: g)
            }
        }

        let optimizer = makeOptimizer(p, steps: steps)
        let parameters = lm.trainableParameters
        /// Mean loss per predicted character over the validation batches (padding excluded).
        func valLoss() -> Double {
            lm.eval()
            defer { lm.train() }
            var total = 0.0, count = 0
            withNoGrad {
                for (x, y) in validationBatches {
                    let n = y.toArray(Int32.self).filter { $0 >= 0 }.count
                    total += lm.loss(x, y).item(Double.self) * Double(n)
                    count += n
                }
            }
            return total / Double(Swift.max(count, 1))
        }
        if primary {
            print("\(lineMode ? "\(lines.count) lines" : "\(text.count) characters"), vocabulary \(config.vocabulary.count), "
                  + "\(kind) with \(lm.parameterCount) parameters, \(steps) steps of \(batch)×\(window) tokens")
        }
        try cluster?.parallel.prepare(lm, samples: text.count, batchSize: batch)
        var trainSeconds = 0.0, recent: [Double] = []
        for step in 1...steps {
            let start = ProgressBar.now()
            let (x, y) = nextBatch()
            let value: Double
            if let parallel = cluster?.parallel {
                value = try distributedStep(x, y, lm: lm, parallel: parallel, parameters: parameters, optimizer: optimizer)
            } else {
                let loss = lm.loss(x, y)
                loss.backward()
                optimizer.apply(to: parameters)
                value = loss.item(Double.self)
            }
            trainSeconds += ProgressBar.now() - start
            guard value.isFinite else { throw ValidationError("the loss became \(value) at step \(step): lower --learning-rate") }
            recent.append(value)
            if recent.count > logEvery { recent.removeFirst() }
            let logging = logEvery > 0 && (step % logEvery == 0 || step == steps)
            let evaluating = evalEvery > 0 && step % evalEvery == 0 && step != steps
            if primary && (logging || evaluating) {
                var line = "step \(step)/\(steps)  loss \(String(format: "%.4f", recent.reduce(0, +) / Double(recent.count)))"
                if evaluating { line += "  val loss \(String(format: "%.4f", valLoss()))" }
                line += "  lr \(String(format: "%.2e", optimizer.learningRate))  \(Int(Double(step * batch * window) / trainSeconds)) tokens/s  \(String(format: "%.1f", trainSeconds)) s"
                print(line)
                fflush(nil)
            }
        }
        guard primary else { return }
        let v = valLoss()
        if let save {
            try lm.save(to: URL(fileURLWithPath: save))
            print("saved the model and its vocabulary to \(save)")
        }
        print("training time: \(String(format: "%.1f", trainSeconds)) s")
        print("val loss: \(String(format: "%.4f", v))")
    }

    /// One data-parallel step of a custom loop, with the pieces `fit` uses: rank 0's batch given to
    /// every rank (their generators may drift apart through dropout), this rank's share of its rows,
    /// the bucketed gradient all-reduce weighted by predicted tokens (padding excluded), the step.
    /// Returns the global batch's mean loss.
    func distributedStep(_ x: Tensor, _ y: Tensor, lm: LanguageModel, parallel: DataParallel, parameters: [Parameter],
                         optimizer: Optimizer) throws -> Double {
        parallel.communicator.broadcastInPlace(x)
        parallel.communicator.broadcastInPlace(y)
        let rows = parallel.shard(Array(0..<x.shape[0])[...])
        let (lo, hi) = (rows.first ?? 0, (rows.last ?? -1) + 1)
        let (xs, ys) = (x[lo..<hi], y[lo..<hi])
        let tokens = hi > lo ? ys.toArray(Int32.self).filter { $0 >= 0 }.count : 0
        let loss = hi > lo && tokens > 0 ? lm.loss(xs, ys) : nil
        let sums = parallel.communicator.sum([Double(tokens), (loss?.item(Double.self) ?? 0) * Double(tokens)])
        parallel.backward(loss, parameters: parameters, localCount: tokens, globalCount: Int(sums[0]))
        optimizer.apply(to: parameters)
        parallel.checkReplicas(parameters)
        return sums[1] / Swift.max(sums[0], 1)
    }

    /// AdamW with the preset's β2, weight decay, clipping and warm-up/cosine schedule, each
    /// overridable from the command line.
    func makeOptimizer(_ p: LMPreset, steps: Int) -> Optimizer {
        let peak = learningRate ?? p.learningRate
        let optimizer = AdamW(learningRate: peak, weightDecay: weightDecay ?? p.weightDecay, beta2: p.beta2, epsilon: p.epsilon)
        if p.decayMatricesOnly { optimizer.decays = { $0.value.rank >= 2 } }
        optimizer.globalClipNorm = clip ?? p.clip
        let warm = warmup ?? p.warmup
        if let floor = minLearningRate ?? p.minLearningRate {
            // nanoGPT's schedule: lr·(step+1)/(warmup+1) while warming up, then a cosine to the floor.
            optimizer.schedule = CosineDecay(initialLearningRate: warm > 0 ? peak / Double(warm + 1) : peak, decaySteps: Swift.max(steps - warm, 1),
                                             alpha: floor / peak, warmupTarget: warm > 0 ? peak : nil, warmupSteps: warm)
        } else if warm > 0 {
            optimizer.schedule = CosineDecay(initialLearningRate: peak / Double(warm + 1), decaySteps: Int.max / 2, alpha: 1,
                                             warmupTarget: peak, warmupSteps: warm)
        }
        return optimizer
    }
}

struct LMSample: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sample", abstract: "Generate text from a saved character model.")

    @Argument(help: "The model folder written by nabla lm train --save.")
    var model: String
    @Option(help: "How many samples (lines in line mode).")
    var count = 10
    @Option(help: "Softmax temperature: below 1 is more conservative, above 1 more varied.")
    var temperature = 1.0
    @Option(help: "Sample only among the K most likely characters.")
    var topK: Int?
    @Option(help: "Text each sample starts with.")
    var prompt = ""
    @Option(help: "Characters per sample in running-text mode (line mode stops at the end of a line).")
    var length = 200
    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    func validate() throws {
        guard temperature > 0 else { throw ValidationError("--temperature must be positive, got \(temperature)") }
        if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1, got \(topK)") }
    }

    func run() throws {
        let loaded = try loadModel(model)
        guard let lm = loaded as? LanguageModel else { throw ValidationError("\(model): a \(loaded.typeName), not a language model") }
        let config = try LMAssets.required(lm, path: model)
        let rng = RandomGenerator(seed: seed)
        let newline = try config.vocabulary.encode("\n")[0]
        let start: [Int32]
        do { start = try config.vocabulary.encode(prompt) } catch { throw ValidationError("--prompt: \(error)") }
        for _ in 0..<count {
            var tokens = [newline] + start
            var generated: [Int32] = []
            for _ in 0..<(config.lineMode ? 100 : length) {
                let logits = withNoGrad { lm.nextLogits(Tensor(shape: [1, tokens.count], values: tokens)) }
                let next = Int32(sampleToken(logits[0], temperature: temperature, topK: topK, generator: rng))
                if config.lineMode && next == newline { break }
                tokens.append(next)
                generated.append(next)
            }
            print(prompt + config.vocabulary.decode(generated))
        }
    }
}
