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

/// What an `lm` folder records besides the weights.
struct LMConfig: Codable {
    var model: String
    var vocabulary: CharacterVocabulary
    var context: Int
    var lineMode: Bool
    var layers = 4, heads = 4, width = 64, embedding = 10, hidden = 200

    func make() -> any CharacterModel {
        switch model {
        case "bigram": BigramModel(vocabulary: vocabulary.count)
        case "mlp": MLPLanguageModel(vocabulary: vocabulary.count, context: context, embeddingSize: embedding, hiddenUnits: hidden)
        default: GPT(vocabulary: vocabulary.count, context: context, layers: layers, heads: heads, dModel: width)
        }
    }
}

struct LMTrain: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train a character model on a text file and report the validation loss.")

    @Option(help: "The text: one example per line (like names.txt) or one running text.")
    var data: String
    @Option(help: "bigram, mlp or transformer.")
    var model = "mlp"
    @Option(help: "Optimisation steps.")
    var steps = 2000
    @Option(help: "Sequences per step.")
    var batchSize = 32
    @Option(help: "Tokens of context (mlp: the tokens it reads; transformer: the block size).")
    var context: Int?
    @Option(help: "Adam's learning rate.")
    var learningRate = 1e-3
    @Option(help: "Transformer layers, heads and width.")
    var layers = 4
    @Option var heads = 4
    @Option var width = 64
    @Option(help: "Random seed.")
    var seed: UInt64 = 42
    @Option(help: "Print the losses every this many steps (0: only at the end).")
    var evalEvery = 500
    @Option(help: "Save the model into this folder.")
    var save: String?

    func validate() throws {
        guard ["bigram", "mlp", "transformer"].contains(model) else { throw ValidationError("--model must be bigram, mlp or transformer, got '\(model)'") }
        guard steps > 0, batchSize > 0 else { throw ValidationError("--steps and --batch-size must be positive") }
        if let context, context < 1 { throw ValidationError("--context must be positive") }
    }

    func run() throws {
        guard let text = try? String(contentsOfFile: data, encoding: .utf8) else { throw ValidationError("\(data): cannot read it as UTF-8 text") }
        guard text.count > 100 else { throw ValidationError("\(data): \(text.count) characters are too few to train on") }
        RandomGenerator.global.seed(seed)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let lineMode = lines.count > 100 && Double(text.count) / Double(lines.count) < 40
        let (train, val): (String, String)
        if lineMode {
            let order = RandomGenerator(seed: seed).permutation(lines.count)
            let cut = lines.count * 9 / 10
            train = order[..<cut].map { lines[$0] + "\n" }.joined()
            val = order[cut...].map { lines[$0] + "\n" }.joined()
        } else {
            let cut = text.index(text.startIndex, offsetBy: text.count * 9 / 10)
            (train, val) = (String(text[..<cut]), String(text[cut...]))
        }
        let vocabulary = CharacterVocabulary(text: text + "\n")
        let config = LMConfig(model: model, vocabulary: vocabulary, context: context ?? (model == "mlp" ? 3 : (model == "bigram" ? 1 : 16)),
                              lineMode: lineMode, layers: layers, heads: heads, width: width)
        let lm = config.make()
        let trainTokens = try vocabulary.encode(train), valTokens = try vocabulary.encode(val)
        let window = model == "transformer" ? config.context : 16
        let adam = Adam(learningRate: learningRate)
        let parameters = lm.trainableParameters
        func valLoss() -> Double {
            let g = RandomGenerator(seed: 1234)
            return withNoGrad {
                (0..<10).map { _ in
                    let (x, y) = languageModelBatch(valTokens, context: window, batchSize: 64, generator: g)
                    return lm.loss(x, y).item(Double.self)
                }.reduce(0, +) / 10
            }
        }
        print("\(lineMode ? "\(lines.count) lines" : "\(text.count) characters"), vocabulary \(vocabulary.count), \(model) with \(lm.parameterCount) parameters")
        let start = ProgressBar.now()
        var recent: [Double] = []
        for step in 1...steps {
            let (x, y) = languageModelBatch(trainTokens, context: window, batchSize: batchSize)
            let loss = lm.loss(x, y)
            loss.backward()
            adam.apply(to: parameters)
            recent.append(loss.item(Double.self))
            if recent.count > 100 { recent.removeFirst() }
            if evalEvery > 0 && (step % evalEvery == 0 || step == steps) {
                let elapsed = ProgressBar.now() - start
                print("step \(step)/\(steps): train loss \(String(format: "%.4f", recent.reduce(0, +) / Double(recent.count))), val loss \(String(format: "%.4f", valLoss())), \(Int(Double(step * batchSize * window) / elapsed)) tokens/s")
            }
        }
        let v = valLoss()
        if let save {
            let dir = URL(fileURLWithPath: save)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try SafeTensors.write(lm.stateDict(), to: dir.appendingPathComponent("weights.safetensors"))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(try encoder.encode(config), to: dir.appendingPathComponent("lm.json"))
            print("saved the model to \(save)")
        }
        print("training time: \(String(format: "%.1f", ProgressBar.now() - start)) s")
        print("val loss: \(String(format: "%.4f", v))")
    }
}

struct LMSample: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sample", abstract: "Generate text from a saved character model.")

    @Argument(help: "The folder written by nabla lm train --save.")
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

    func run() throws {
        let dir = URL(fileURLWithPath: model)
        guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent("lm.json").path) else {
            throw ValidationError("\(model): no lm.json there (was it written by nabla lm train --save?)")
        }
        let config = try JSONDecoder().decode(LMConfig.self, from: data)
        let lm = config.make()
        try lm.loadStateDict(try SafeTensors.read(from: dir.appendingPathComponent("weights.safetensors")).tensors)
        lm.eval()
        let rng = RandomGenerator(seed: seed)
        let newline = try config.vocabulary.encode("\n")[0]
        for _ in 0..<count {
            var tokens = [newline] + (try config.vocabulary.encode(prompt))
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
