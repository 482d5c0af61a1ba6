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
    /// How the header was read, one line for the user.
    public let headerNote: String

    /// Reads `path` through `DelimitedTable` (any line ending, a byte-order mark, quoting, blank
    /// lines). The first line is a header when it is detected as one (`header: .auto`) or told. The
    /// label column is named by header name or 0-based index; by default `label`, or else the last
    /// column. With `featuresOnly`, every column is a feature and `labels` is empty.
    ///
    /// - Parameters:
    ///   - path: the CSV (or TSV) file.
    ///   - labelColumn: the label column's name or index.
    ///   - featuresOnly: read every column as a feature.
    ///   - header: whether the first row names the columns.
    public init(path: String, labelColumn: String? = nil, featuresOnly: Bool = false, header: DelimitedTable.Header = .auto) throws(DataError) {
        let table: DelimitedTable
        do { table = try DelimitedTable(path: path, header: header) } catch {
            throw FileManager.default.fileExists(atPath: path) ? .invalid(error.description) : .fileNotFound(path: path)
        }
        try self.init(table: table, labelColumn: labelColumn, featuresOnly: featuresOnly)
    }

    /// Parses CSV bytes (`source` names them in errors), as `init(path:)` does a file.
    public init(data: Data, source: String, labelColumn: String? = nil, featuresOnly: Bool = false, header headerMode: DelimitedTable.Header = .auto) throws(DataError) {
        let table: DelimitedTable
        do { table = try DelimitedTable(bytes: [UInt8](data), source: source, header: headerMode) } catch { throw .invalid(error.description) }
        try self.init(table: table, labelColumn: labelColumn, featuresOnly: featuresOnly)
    }

    private init(table: DelimitedTable, labelColumn: String?, featuresOnly: Bool) throws(DataError) {
        let path = table.source
        let lines = table.rows
        let header = table.columnNames
        guard !lines.isEmpty else { throw .invalid("\(path): no data rows after the header") }
        guard header.count >= (featuresOnly ? 1 : 2) else { throw .invalid("\(path): needs at least \(featuresOnly ? 1 : 2) columns") }
        let labelIndex: Int
        if featuresOnly {
            labelIndex = -1
        } else if let labelColumn {
            do { labelIndex = try table.column(labelColumn) } catch { throw .invalid(error.description) }
        } else {
            labelIndex = header.firstIndex(of: "label") ?? header.count - 1
        }
        headerNote = table.headerNote
        var values: [Float] = [], rawLabels: [String] = []
        values.reserveCapacity(lines.count * (header.count - 1))
        for (i, fields) in lines.enumerated() {
            let lineNumber = table.lineNumbers[i]
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
