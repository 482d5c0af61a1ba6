/// A problem with a data file or a data set, naming the file and where in it.
public enum DataError: Error, CustomStringConvertible, Equatable, Sendable {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    /// A malformed line: the file, the 1-based line number and what is wrong.
    case malformed(path: String, line: Int, reason: String)
    case invalid(String)

    public var description: String {
        switch self {
        case .fileNotFound(let path): "\(path): no such file"
        case .unreadable(let path, let reason): "\(path): cannot read: \(reason)"
        case .malformed(let path, let line, let reason): "\(path):\(line): \(reason)"
        case .invalid(let message): message
        }
    }
}
