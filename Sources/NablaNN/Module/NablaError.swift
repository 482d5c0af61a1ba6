import Nabla

/// The errors that Nabla's layers, models, optimizers and files throw: each names what is wrong.
public enum NablaError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Data does not fit a layer: the layer's name, what it expected and what it got.
    case shapeMismatch(layer: String, expected: String, actual: String)
    /// A dtype does not fit: where, expected and actual.
    case dtypeMismatch(layer: String, expected: DType, actual: DType)
    /// A string name (optimizer, loss, metric, activation, ...) that is not known, with the valid ones.
    case unknownName(kind: String, name: String, valid: [String])
    /// Weights that do not fit a model, every problem listed.
    case weightsMismatch([String])
    /// A model used before it can be: not compiled, not built, no data.
    case invalidState(String)
    /// An argument out of its range.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .shapeMismatch(layer, expected, actual):
            "\(layer): expected input shape \(expected), got \(actual)"
        case let .dtypeMismatch(layer, expected, actual):
            "\(layer): expected dtype \(expected), got \(actual)"
        case let .unknownName(kind, name, valid):
            "unknown \(kind) \"\(name)\"; valid names: \(valid.joined(separator: ", "))"
        case let .weightsMismatch(problems):
            "weights do not fit the model: " + problems.joined(separator: "; ")
        case let .invalidState(message), let .invalidArgument(message):
            message
        }
    }
}

/// Keras's spelling of a shape with a free batch dimension: `(None, 64)`.
func kerasShape(_ shape: [Int?]) -> String {
    let parts = shape.map { $0.map(String.init) ?? "None" }
    return "(" + parts.joined(separator: ", ") + (parts.count == 1 ? "," : "") + ")"
}
