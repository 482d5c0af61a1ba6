import ArgumentParser
import Foundation
import Nabla
import NablaData
import NablaNN

// Every command saves and opens models one way: `Model.save(to:)` and `Model.load(from:)`.
// What a model needs besides its layers travels in `Model.metadata`: the vocabulary of a language
// model, the labels and vectorizer of a text classifier. Folders written by earlier releases
// (`weights.safetensors` with `lm.json` or `text.json`) are read by `LegacyFolder` below and
// nowhere else.

/// A character-level language model that `Model.save` can write.
typealias LanguageModel = Model & CharacterModel

/// Opens a model folder written by `Model.save(to:)` or any `nabla ... --save`.
func loadModel(_ path: String) throws -> Model {
    let url = URL(fileURLWithPath: path)
    if !FileManager.default.fileExists(atPath: url.appendingPathComponent(ModelFiles.config).path), let legacy = LegacyFolder(path: path) {
        return try legacy.load()
    }
    return try Model.load(from: url)
}

/// What a command keeps in a model's metadata under one key — how its inputs are made and what its
/// outputs mean — so that `Model.load` gives back everything the command needs.
protocol ModelAssets: Codable {
    /// The metadata key.
    static var key: String { get }
    /// The command that writes such models, named in errors.
    static var writer: String { get }
}

extension ModelAssets {
    /// The assets of `model`, or nil when it has none.
    static func of(_ model: Model) throws -> Self? { try model.metadata[key].map { try $0.decode(Self.self) } }

    /// The assets of `model`; an error naming the folder and the command that writes them when it has none.
    static func required(_ model: Model, path: String) throws -> Self {
        guard let assets = try of(model) else { throw ValidationError("\(path): a \(model.typeName) without what \(writer) --save keeps with it") }
        return assets
    }

    func write(into model: Model) throws { model.metadata[Self.key] = try JSONValue(encoding: self) }
}

/// What `nabla lm` keeps in a language model's metadata: its characters and whether it learned lines.
struct LMAssets: ModelAssets {
    static let key = "language_model", writer = "nabla lm train"
    var vocabulary: CharacterVocabulary
    var lineMode: Bool

    /// The newline's id: it starts and ends every line.
    var newline: Int32 { (try? vocabulary.encode("\n").first) ?? 0 }
}

/// What `nabla text` keeps in a classifier's metadata: the vectorizer that maps texts to ids and the labels.
struct TextAssets: ModelAssets {
    static let key = "text_classifier", writer = "nabla text train"
    var classes: [String]
    var vectorizer: TextVectorization
}

/// A folder in the format of earlier releases: `weights.safetensors` beside `lm.json` (`nabla lm`)
/// or `text.json` (`nabla text`), whose settings rebuild the model. It loads as a `Model` with the
/// same metadata a current folder has; `nabla upgrade` rewrites it in the current format.
struct LegacyFolder {
    let path: String
    let description: String

    /// Nil when `path` holds neither description.
    init?(path: String) {
        guard let name = ["lm.json", "text.json"].first(where: { FileManager.default.fileExists(atPath: URL(fileURLWithPath: path).appendingPathComponent($0).path) })
        else { return nil }
        self.path = path
        description = name
    }

    func load() throws -> Model {
        let url = URL(fileURLWithPath: path)
        guard let data = FileManager.default.contents(atPath: url.appendingPathComponent(description).path) else {
            throw ValidationError("\(path)/\(description): cannot be read")
        }
        let model: Model
        do {
            if description == "lm.json" {
                model = try JSONDecoder().decode(LMConfig.self, from: data).make()
            } else {
                let config = try JSONDecoder().decode(TextModelConfig.self, from: data)
                model = config.make()
                try config.assets.write(into: model)
                try model.compile(optimizer: Adam(), loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
            }
        } catch let e as ValidationError { throw e } catch {
            throw ValidationError("\(path)/\(description): not what an earlier nabla wrote (\(error))")
        }
        try model.loadStateDict(try SafeTensors.read(from: url.appendingPathComponent("weights.safetensors")).tensors)
        model.eval()
        return model
    }
}

/// `nabla upgrade PATH`: rewrites a folder of an earlier release in the current format.
struct Upgrade: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Rewrite a model folder of an earlier release (lm.json or text.json) in the current format.")

    @Argument(help: "The model folder.")
    var model: String

    func run() throws {
        guard let legacy = LegacyFolder(path: model) else { throw ValidationError("\(model): holds neither lm.json nor text.json; nothing to upgrade") }
        let loaded = try legacy.load()
        try loaded.save(to: URL(fileURLWithPath: model))
        for old in [legacy.description, "weights.safetensors"] { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: model).appendingPathComponent(old).path) }
        print("\(model): rewritten as \(ModelFiles.config) and \(ModelFiles.weights)")
    }
}
