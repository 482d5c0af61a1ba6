import ArgumentParser
import Foundation
import Nabla
import NablaNN

/// The folders `nabla lm` and `nabla text` save: `weights.safetensors` and a JSON description
/// (`lm.json`, `text.json`) with what rebuilds the model — sizes, vocabulary, labels.
struct ModelFolder {
    let path: String
    /// The description's file name, e.g. "lm.json".
    let descriptionName: String
    /// The command that writes such folders, named in errors.
    let writer: String

    private var url: URL { URL(fileURLWithPath: path) }

    /// Writes the weights of `module` and `description`, each atomically.
    func save(_ module: Module, description: some Encodable) throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try SafeTensors.write(module.stateDict(), to: url.appendingPathComponent("weights.safetensors"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(description), to: url.appendingPathComponent(descriptionName))
    }

    /// Reads the description; a missing or foreign file is one error naming it.
    func description<D: Decodable>(_ type: D.Type) throws -> D {
        guard let data = FileManager.default.contents(atPath: url.appendingPathComponent(descriptionName).path) else {
            throw ValidationError("\(path): no \(descriptionName) there (was it written by \(writer) --save?)")
        }
        do { return try JSONDecoder().decode(D.self, from: data) } catch {
            throw ValidationError("\(path)/\(descriptionName): not what \(writer) writes (\(error))")
        }
    }

    /// Loads the saved weights into `module` (every mismatch reported at once) and sets it to inference.
    func loadWeights(into module: Module) throws {
        try module.loadStateDict(try SafeTensors.read(from: url.appendingPathComponent("weights.safetensors")).tensors)
        module.eval()
    }
}
