import Foundation

/// A text file that cannot be read, naming the file, the line (when one applies) and the problem.
///
/// ```swift
/// do { _ = try TextFile.read("reviews.tsv") } catch { print(error) }
/// // reviews.tsv:12: invalid UTF-8 at byte 301
/// ```
public struct TextFileError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String
    /// The 1-based line, when the problem has one.
    public let line: Int?
    public let message: String

    public init(file: String, line: Int? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)" }
}

/// The one way Nabla reads users' text files: UTF-8 (invalid bytes are an error naming the line), a
/// byte-order mark dropped, and LF, CRLF and lone CR line endings all read as LF — so that a file
/// saved on Windows or classic Mac OS reads exactly as the same file saved on Linux.
///
/// ```swift
/// let corpus = try TextFile.read("input.txt")            // "\r\n" already "\n"
/// for line in try TextFile.lines("names.txt") { ... }     // blank lines dropped, whitespace trimmed
/// ```
public enum TextFile {
    /// The file's bytes, or an error for a missing file, a directory, an unreadable or an empty file.
    public static func bytes(_ path: String) throws(TextFileError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw TextFileError(file: path, "no such file") }
        guard !isDirectory.boolValue else { throw TextFileError(file: path, "is a directory, not a file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw TextFileError(file: path, "cannot read the file (permissions?)") }
        guard !data.isEmpty else { throw TextFileError(file: path, "the file is empty") }
        return [UInt8](data)
    }

    /// The text of `path` with LF line endings and no byte-order mark.
    ///
    /// - Parameter path: the file to read.
    public static func read(_ path: String) throws(TextFileError) -> String {
        try decode(try bytes(path), source: path)
    }

    /// The non-blank lines of `path`, each trimmed of surrounding whitespace, with their 1-based numbers.
    ///
    /// - Parameter path: the file to read.
    public static func lines(_ path: String) throws(TextFileError) -> [(number: Int, text: String)] {
        var out: [(Int, String)] = []
        for (i, line) in splitLines(try read(path), omittingEmpty: false).enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if !t.isEmpty { out.append((i + 1, t)) }
        }
        return out
    }

    /// The lines of `text`, split at LF, CRLF and lone CR alike (in Swift "\r\n" is one Character,
    /// so splitting on "\n" alone would read a Windows file as one line).
    ///
    /// - Parameters:
    ///   - text: any text, normalised or not.
    ///   - omittingEmpty: drop empty lines (their numbering is then lost).
    public static func splitLines<S: StringProtocol>(_ text: S, omittingEmpty: Bool = true) -> [S.SubSequence] {
        text.split(omittingEmptySubsequences: omittingEmpty) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
    }

    /// `bytes` as text: the byte-order mark dropped, endings normalised to LF, UTF-8 checked.
    ///
    /// - Parameters:
    ///   - bytes: the raw file contents.
    ///   - source: names the data in errors (usually the path).
    public static func decode(_ bytes: [UInt8], source: String) throws(TextFileError) -> String {
        let normalised = try normalise(bytes, source: source)
        return String(decoding: normalised, as: UTF8.self)
    }

    /// `bytes` with the byte-order mark dropped and CRLF/CR turned into LF, after checking that they
    /// are valid UTF-8 (an error names the line and byte offset of the first invalid sequence).
    public static func normalise(_ bytes: [UInt8], source: String) throws(TextFileError) -> [UInt8] {
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        if let bad = firstInvalidUTF8(bytes, from: start) {
            let line = 1 + bytes[start..<bad].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            throw TextFileError(file: source, line: line, "invalid UTF-8 at byte \(bad); save the file as UTF-8")
        }
        if bytes[start...].firstIndex(of: 0x0D) == nil { return Array(bytes[start...]) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count - start)
        var i = start
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x0D {
                out.append(0x0A)
                if i + 1 < bytes.count && bytes[i + 1] == 0x0A { i += 1 }
            } else {
                out.append(b)
            }
            i += 1
        }
        return out
    }

    /// The offset of the first byte that does not start a well-formed UTF-8 sequence (overlong forms,
    /// surrogates and code points above U+10FFFF included), or nil.
    package static func firstInvalidUTF8(_ b: [UInt8], from start: Int) -> Int? {
        var i = start
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            let length: Int, low: UInt8, high: UInt8
            switch c {
            case 0xC2...0xDF: (length, low, high) = (2, 0x80, 0xBF)
            case 0xE0: (length, low, high) = (3, 0xA0, 0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (length, low, high) = (3, 0x80, 0xBF)
            case 0xED: (length, low, high) = (3, 0x80, 0x9F)
            case 0xF0: (length, low, high) = (4, 0x90, 0xBF)
            case 0xF1...0xF3: (length, low, high) = (4, 0x80, 0xBF)
            case 0xF4: (length, low, high) = (4, 0x80, 0x8F)
            default: return i
            }
            guard i + length <= n, (low...high).contains(b[i + 1]) else { return i }
            for k in 2..<length where !(0x80...0xBF).contains(b[i + k]) { return i }
            i += length
        }
        return nil
    }
}
