import Foundation
import Nabla

/// A classification data set from a CSV file: numeric feature columns and one label column (any
/// values; they become class indices in sorted order).
///
/// ```swift
/// let data = try CSVDataset(path: "iris.csv", labelColumn: "species")
/// data.features.shape      // [150, 4]
/// data.classNames          // ["setosa", "versicolor", "virginica"]
/// ```
public struct CSVDataset: Sendable {
    /// [samples, features] float32.
    public let features: Tensor
    /// [samples] int32 class indices into `classNames`.
    public let labels: Tensor
    public let featureNames: [String]
    public let classNames: [String]

    /// Reads `path`. The first line is a header when any of its fields is not a number. The label
    /// column is named by header name or 0-based index; by default `label`, or else the last column.
    /// With `featuresOnly`, every column is a feature and `labels` is empty.
    public init(path: String, labelColumn: String? = nil, featuresOnly: Bool = false) throws(DataError) {
        guard FileManager.default.fileExists(atPath: path) else { throw .fileNotFound(path: path) }
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path: path, reason: "cannot open") }
        try self.init(data: data, source: path, labelColumn: labelColumn, featuresOnly: featuresOnly)
    }

    /// Parses CSV bytes (`source` names them in errors), as `init(path:)` does a file.
    public init(data: Data, source: String, labelColumn: String? = nil, featuresOnly: Bool = false) throws(DataError) {
        let path = source
        guard let text = String(data: data, encoding: .utf8) else { throw .unreadable(path: path, reason: "not UTF-8 text") }
        var lines = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
        guard let first = lines.first else { throw .invalid("\(path): the file is empty") }
        let hasHeader = first.contains { Double($0) == nil }
        let header = hasHeader ? first : (0..<first.count).map { "column\($0)" }
        if hasHeader { lines.removeFirst() }
        guard !lines.isEmpty else { throw .invalid("\(path): no data rows after the header") }
        guard header.count >= (featuresOnly ? 1 : 2) else { throw .invalid("\(path): needs at least \(featuresOnly ? 1 : 2) columns") }
        let labelIndex: Int
        if featuresOnly {
            labelIndex = -1
        } else if let labelColumn {
            if let i = header.firstIndex(of: labelColumn) { labelIndex = i }
            else if let i = Int(labelColumn), i >= 0, i < header.count { labelIndex = i }
            else { throw .invalid("\(path): no label column \"\(labelColumn)\"; columns: \(header.joined(separator: ", "))") }
        } else {
            labelIndex = header.firstIndex(of: "label") ?? header.count - 1
        }
        var values: [Float] = [], rawLabels: [String] = []
        values.reserveCapacity(lines.count * (header.count - 1))
        for (i, fields) in lines.enumerated() {
            let lineNumber = i + (hasHeader ? 2 : 1)
            guard fields.count == header.count else {
                throw .malformed(path: path, line: lineNumber, reason: "\(fields.count) fields, expected \(header.count)")
            }
            for (j, f) in fields.enumerated() where j != labelIndex {
                guard let v = Float(f), v.isFinite else {
                    throw .malformed(path: path, line: lineNumber, reason: "column \(header[j]): \"\(f)\" is not a number")
                }
                values.append(v)
            }
            if labelIndex >= 0 { rawLabels.append(fields[labelIndex]) }
        }
        let classes = Array(Set(rawLabels)).sorted { a, b in
            if let x = Double(a), let y = Double(b) { return x < y }
            return a < b
        }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Int32($0)) })
        features = Tensor(shape: [lines.count, header.count - (labelIndex >= 0 ? 1 : 0)], values: values)
        labels = Tensor(values: rawLabels.map { index[$0]! })
        featureNames = header.enumerated().filter { $0.offset != labelIndex }.map(\.element)
        classNames = classes
    }
}

/// Splits samples into a training and a held-out part after a seeded shuffle.
///
/// ```swift
/// let (train, test) = trainTestSplit(x, y, testFraction: 0.2, seed: 42)
/// ```
public func trainTestSplit(_ x: Tensor, _ y: Tensor, testFraction: Double, seed: UInt64)
    -> (train: (x: Tensor, y: Tensor), test: (x: Tensor, y: Tensor)) {
    let n = x.shape[0]
    let order = RandomGenerator(seed: seed).permutation(n)
    let testCount = Int((Double(n) * testFraction).rounded())
    let test = Tensor(values: order[..<testCount].map { Int32($0) })
    let train = Tensor(values: order[testCount...].map { Int32($0) })
    return ((x.indexSelect(train), y.indexSelect(train)), (x.indexSelect(test), y.indexSelect(test)))
}
