/// A tensor file that cannot be read or written, naming the file, where in it, and what is wrong.
///
/// ```swift
/// do { _ = try SafeTensors.read(from: url) } catch { print(error) }
/// // weights.safetensors: at byte 8: header length 18446744073709551615 exceeds the file size 120
/// ```
public struct TensorFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file (or a description of the source for in-memory data).
    public let file: String
    /// The byte offset of the problem, when one applies.
    public let offset: Int?
    public let message: String

    public init(file: String, offset: Int? = nil, _ message: String) {
        self.file = file
        self.offset = offset
        self.message = message
    }

    public var description: String {
        offset.map { "\(file): at byte \($0): \(message)" } ?? "\(file): \(message)"
    }
}
