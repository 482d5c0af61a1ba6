import Foundation
import Nabla

/// User or item ids of any kind (numbers, IMDb title numbers, strings) mapped to dense indices
/// 0, 1, 2, ... in order of first appearance — the rows of a recommender's embedding tables. Saved
/// with a model so that `nabla recommend top --user ID` finds the user's row again.
///
/// ```swift
/// var users = IDIndex()
/// users.insert("u42")          // 0
/// users.insert("u7")           // 1
/// users.index(of: "u42")       // 0
/// users[1]                     // "u7"
/// ```
public struct IDIndex: Codable, Equatable, Sendable {
    public private(set) var ids: [String] = []
    private var positions: [String: Int32] = [:]

    /// - Parameter ids: the ids in index order (duplicates keep their first position).
    public init(ids: [String] = []) {
        for id in ids { insert(id) }
    }

    public var count: Int { ids.count }

    /// The index of `id`, or nil when it was never seen.
    ///
    /// - Parameter id: a user or item id as written in the file.
    public func index(of id: String) -> Int32? { positions[id] }

    /// The index of `id`, added at the end when new.
    ///
    /// - Parameter id: a user or item id as written in the file.
    @discardableResult
    public mutating func insert(_ id: String) -> Int32 {
        if let p = positions[id] { return p }
        let p = Int32(ids.count)
        ids.append(id)
        positions[id] = p
        return p
    }

    public subscript(index: Int32) -> String { ids[Int(index)] }

    public init(from decoder: Decoder) throws {
        self.init(ids: try decoder.singleValueContainer().decode([String].self))
        guard count == ids.count else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "IDIndex: duplicate ids"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(ids)
    }
}

/// Who rated or used what: one row per interaction (user, item, and a rating and a time when the
/// file has them), read from the formats recommender data comes in — MovieLens's `u.data`
/// (tab-separated) and `ratings.dat` (`user::item::rating::time`), MovieTweetings (the same `::`
/// format), and CSV/TSV files with a header and named columns. Ids of any kind are mapped to
/// indices (``IDIndex``); a bad row is an error naming the file and line.
///
/// ```swift
/// let all = try Interactions(path: "ml-100k/u.data")                  // format detected
/// let (train, test) = all.split(.random(testFraction: 0.1, seed: 42))
/// train.users[0], train.items[0], train.ratings[0]                    // indices and a rating
/// ```
public struct Interactions: Sendable {
    /// How the file is laid out.
    public enum Format: String, CaseIterable, Sendable {
        /// `::` separators when the first line has them, else a delimited file as `.delimited`.
        case auto
        /// MovieLens 1M/10M and MovieTweetings: `user::item::rating::time`, no header.
        case movielens
        /// MovieLens 100K's `u.data`: `user<TAB>item<TAB>rating<TAB>time`, no header.
        case udata
        /// CSV or TSV (separator sniffed); columns by header name, or user, item, rating, time by
        /// position when there is no header.
        case delimited
    }

    /// Which columns of a delimited file hold what: header names or 0-based positions; nil picks the
    /// usual names (`user`/`userId`/`user_id`, `item`/`movieId`/`product`..., `rating`/`score`,
    /// `timestamp`/`time`), else positions 0, 1, 2, 3.
    public struct Columns: Sendable, Equatable {
        public var user: String?
        public var item: String?
        public var rating: String?
        public var time: String?

        /// - Parameters:
        ///   - user: the user column.
        ///   - item: the item column.
        ///   - rating: the rating column (none: implicit data).
        ///   - time: the timestamp column.
        public init(user: String? = nil, item: String? = nil, rating: String? = nil, time: String? = nil) {
            (self.user, self.item, self.rating, self.time) = (user, item, rating, time)
        }
    }

    /// How a data set is cut into training and test interactions.
    public enum Split: Sendable, Equatable {
        /// The rows shuffled by Python's `random.Random(seed).shuffle` (the core's `PythonRandom`), the last
        /// `testFraction` for testing: the same split as that shuffle of the file's lines in Python.
        case random(testFraction: Double = 0.1, seed: UInt64 = 42)
        /// Each user's latest interaction (by time, else the last line) held out, for users with at
        /// least two: the protocol of the NCF paper.
        case leaveLastOut
        /// Everything from the time that leaves `testFraction` of the rows after it, held out.
        case temporal(testFraction: Double = 0.1)
    }

    /// User index per row.
    public private(set) var users: [Int32] = []
    /// Item index per row.
    public private(set) var items: [Int32] = []
    /// Rating per row; empty for implicit data.
    public private(set) var ratings: [Float] = []
    /// Time per row (seconds, as written); empty when the data has none.
    public private(set) var timestamps: [Double] = []
    /// The file line of each row, for messages.
    public private(set) var lineNumbers: [Int] = []
    public private(set) var userIDs: IDIndex
    public private(set) var itemIDs: IDIndex
    /// The file (or description) the rows came from.
    public let source: String

    /// The number of rows.
    public var count: Int { users.count }
    /// Whether the rows carry ratings (explicit feedback) rather than bare pairs.
    public var hasRatings: Bool { !ratings.isEmpty || users.isEmpty }

    /// Reads `path`.
    ///
    /// - Parameters:
    ///   - path: the ratings or interactions file.
    ///   - format: its layout (detected by default).
    ///   - columns: which columns of a delimited file hold what.
    ///   - implicit: read only who-used-what, ignoring any rating column.
    ///   - userIDs: an index to extend (a training set's, when reading its test file), so that the
    ///     same id gets the same index in both.
    ///   - itemIDs: the same for items.
    public init(path: String, format: Format = .auto, columns: Columns = Columns(), implicit: Bool = false,
                userIDs: IDIndex = IDIndex(), itemIDs: IDIndex = IDIndex()) throws(TextFileError) {
        try self.init(bytes: try TextFile.bytes(path), source: path, format: format, columns: columns, implicit: implicit,
                      userIDs: userIDs, itemIDs: itemIDs)
    }

    /// Parses `bytes` as `init(path:)` parses a file; `source` names them in errors.
    ///
    /// - Parameters:
    ///   - bytes: the file's contents.
    ///   - source: names the data in errors.
    ///   - format: its layout (detected by default).
    ///   - columns: which columns of a delimited file hold what.
    ///   - implicit: read only who-used-what.
    ///   - userIDs: an index to extend.
    ///   - itemIDs: an index to extend.
    public init(bytes: [UInt8], source: String, format: Format = .auto, columns: Columns = Columns(), implicit: Bool = false,
                userIDs: IDIndex = IDIndex(), itemIDs: IDIndex = IDIndex()) throws(TextFileError) {
        self.source = source
        self.userIDs = userIDs
        self.itemIDs = itemIDs
        let bytes = try TextFile.normalise(bytes, source: source)
        var layout = format
        if layout == .auto {
            let firstLine = bytes.prefix { $0 != 0x0A }
            layout = Self.containsDoubleColon(firstLine) ? .movielens : .delimited
        }
        let table: DelimitedTable
        let fields: (user: Int, item: Int, rating: Int?, time: Int?)
        switch layout {
        case .movielens, .udata:
            // `::` becomes one separator byte (0x1F, the ASCII unit separator, which text never holds)
            // so that the shared delimited reader does the rest.
            let data = layout == .movielens ? Self.replacingDoubleColons(bytes) : bytes
            table = try DelimitedTable(bytes: data, source: source, separator: layout == .movielens ? "\u{1F}" : "\t", header: .absent, quoting: .none)
            fields = (0, 1, implicit ? nil : 2, 3)
        case .delimited, .auto:
            var t = try DelimitedTable(bytes: bytes, source: source)
            // A header of column names only (`user,item`) cannot be told from data by the values
            // below it; the usual interaction column names settle it.
            if !t.hasHeader, let first = t.rows.first, first.allSatisfy({ Self.usualNames.contains(Self.normalisedName($0)) }) {
                t = try DelimitedTable(bytes: bytes, source: source, separator: Character(Unicode.Scalar(t.separator)), header: .present)
            }
            table = t
            fields = try Self.resolve(columns, in: table, implicit: implicit)
        }
        try read(table, fields: fields)
    }

    /// Interactions from ids in memory (strings of any kind), for tests and programs that hold their
    /// data already.
    ///
    /// - Parameters:
    ///   - users: the user id of each interaction.
    ///   - items: the item id of each interaction.
    ///   - ratings: the ratings, or nil for implicit data.
    ///   - timestamps: the times, or nil.
    public init(users: [String], items: [String], ratings: [Float]? = nil, timestamps: [Double]? = nil) {
        nablaPrecondition(users.count == items.count && (ratings?.count ?? users.count) == users.count
                          && (timestamps?.count ?? users.count) == users.count, "Interactions: columns of different lengths")
        source = "memory"
        userIDs = IDIndex()
        itemIDs = IDIndex()
        for (u, i) in zip(users, items) {
            self.users.append(userIDs.insert(u))
            self.items.append(itemIDs.insert(i))
        }
        self.ratings = ratings ?? []
        self.timestamps = timestamps ?? []
        lineNumbers = Array(1..<(users.count + 1))
    }

    static let userNames = ["user", "userid", "users", "uid", "customer", "customerid", "visitorid"]
    static let itemNames = ["item", "itemid", "movie", "movieid", "product", "productid", "iid", "track", "trackid", "song", "artist"]
    static let ratingNames = ["rating", "ratings", "score", "stars", "value"]
    static let timeNames = ["timestamp", "time", "date", "datetime", "ts"]
    static let usualNames = Set(userNames + itemNames + ratingNames + timeNames)

    /// A column name lowercased without underscores and spaces (`user_id`, `User Id` → `userid`).
    static func normalisedName(_ s: String) -> String {
        s.lowercased().replacingOccurrences(of: "_", with: "").replacingOccurrences(of: " ", with: "")
    }

    private static func containsDoubleColon(_ b: some Collection<UInt8>) -> Bool {
        var previous: UInt8 = 0
        for c in b {
            if c == 0x3A && previous == 0x3A { return true }
            previous = c
        }
        return false
    }

    private static func replacingDoubleColons(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == 0x3A, i + 1 < b.count, b[i + 1] == 0x3A {
                out.append(0x1F)
                i += 2
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return out
    }

    /// The column positions for `columns` in `table`: named ones looked up, the rest by the usual names
    /// or, without a header, by position.
    private static func resolve(_ columns: Columns, in table: DelimitedTable, implicit: Bool) throws(TextFileError)
        -> (user: Int, item: Int, rating: Int?, time: Int?) {
        let names = table.columnNames.map(normalisedName)
        func usual(_ candidates: [String]) -> Int? { names.firstIndex { candidates.contains($0) } }
        func pick(_ given: String?, _ candidates: [String], position: Int, required: Bool, what: String) throws(TextFileError) -> Int? {
            if let given { return try table.column(given) }
            if table.hasHeader {
                if let k = usual(candidates) { return k }
                if required {
                    throw TextFileError(file: table.source, "no \(what) column among \(table.columnNames); name it with --\(what)-column")
                }
                return nil
            }
            if position < table.columnNames.count { return position }
            if required {
                throw TextFileError(file: table.source, "expected a user and an item column, found \(table.columnNames.count) column(s) (is the separator right?)")
            }
            return nil
        }
        let user = try pick(columns.user, userNames, position: 0, required: true, what: "user")!
        let item = try pick(columns.item, itemNames, position: 1, required: true, what: "item")!
        let rating = implicit ? nil : try pick(columns.rating, ratingNames, position: 2, required: false, what: "rating")
        let time = try pick(columns.time, timeNames, position: 3, required: false, what: "time")
        return (user, item, rating, time)
    }

    private mutating func read(_ table: DelimitedTable, fields: (user: Int, item: Int, rating: Int?, time: Int?)) throws(TextFileError) {
        let layout = table.separator == 0x1F ? "user::item::rating::time" : table.columnNames.joined(separator: ", ")
        users.reserveCapacity(table.rows.count)
        items.reserveCapacity(table.rows.count)
        for (row, line) in zip(table.rows, table.lineNumbers) {
            let optionalNeeded = Swift.max(fields.user, fields.item) + 1
            guard row.count >= optionalNeeded else {
                throw TextFileError(file: table.source, line: line, "expected at least \(optionalNeeded) fields (\(layout)), found \(row.count)")
            }
            let u = row[fields.user], i = row[fields.item]
            guard !u.isEmpty, !i.isEmpty else { throw TextFileError(file: table.source, line: line, "empty user or item id") }
            if let r = fields.rating {
                guard r < row.count, let value = Float(row[r]), value.isFinite else {
                    let found = r < row.count ? "\"\(row[r])\"" : "nothing"
                    throw TextFileError(file: table.source, line: line, "the rating must be a number, found \(found)")
                }
                ratings.append(value)
            }
            if let t = fields.time, t < row.count {
                guard let value = Double(row[t]), value.isFinite else {
                    throw TextFileError(file: table.source, line: line, "the timestamp must be a number, found \"\(row[t])\"")
                }
                timestamps.append(value)
            }
            users.append(userIDs.insert(u))
            items.append(itemIDs.insert(i))
            lineNumbers.append(line)
        }
        if !timestamps.isEmpty && timestamps.count != users.count {
            throw TextFileError(file: table.source, "some rows have a timestamp and some do not (\(timestamps.count) of \(users.count))")
        }
        guard !users.isEmpty else { throw TextFileError(file: table.source, "no interactions") }
    }

    /// The rows at `indices`, with the same id indices.
    ///
    /// - Parameter indices: row positions.
    public func subset(_ indices: some Sequence<Int>) -> Interactions {
        var out = self
        let rows = Array(indices)
        out.users = rows.map { users[$0] }
        out.items = rows.map { items[$0] }
        out.ratings = ratings.isEmpty ? [] : rows.map { ratings[$0] }
        out.timestamps = timestamps.isEmpty ? [] : rows.map { timestamps[$0] }
        out.lineNumbers = rows.map { lineNumbers[$0] }
        return out
    }

    /// Makes this set's id indices `users` and `items` (supersets of its own, e.g. a test file's
    /// extended indices), so that the training set sizes its tables for every id.
    ///
    /// - Parameters:
    ///   - users: an index that extends `userIDs`.
    ///   - items: an index that extends `itemIDs`.
    public mutating func adoptIndices(users: IDIndex, items: IDIndex) {
        nablaPrecondition(users.ids.starts(with: userIDs.ids) && items.ids.starts(with: itemIDs.ids),
                          "Interactions.adoptIndices: the new indices must extend the old ones")
        userIDs = users
        itemIDs = items
    }

    /// The training and test rows of `split`.
    ///
    /// - Parameter split: how to cut.
    public func split(_ split: Split) -> (train: Interactions, test: Interactions) {
        var testRows: [Int]
        switch split {
        case let .random(fraction, seed):
            var order = Array(0..<count)
            var rng = PythonRandom(seed: seed)
            rng.shuffle(&order)
            let cut = Int(Double(count) * (1 - fraction))
            return (subset(order[..<cut]), subset(order[cut...]))
        case .leaveLastOut:
            var last = [Int](repeating: -1, count: userIDs.count), seen = [Int](repeating: 0, count: userIDs.count)
            for r in 0..<count {
                let u = Int(users[r])
                seen[u] += 1
                if last[u] < 0 || timestamps.isEmpty || timestamps[r] >= timestamps[last[u]] { last[u] = r }
            }
            testRows = (0..<userIDs.count).filter { seen[$0] >= 2 }.map { last[$0] }.sorted()
        case let .temporal(fraction):
            let order = timestamps.isEmpty ? Array(0..<count) : (0..<count).sorted { timestamps[$0] < timestamps[$1] || (timestamps[$0] == timestamps[$1] && $0 < $1) }
            let cut = Int(Double(count) * (1 - fraction))
            if timestamps.isEmpty { testRows = Array(order[cut...]) } else {
                let cutoff = cut < count ? timestamps[order[cut]] : .infinity
                testRows = (0..<count).filter { timestamps[$0] >= cutoff }
            }
        }
        let held = Set(testRows)
        return (subset((0..<count).filter { !held.contains($0) }), subset(testRows))
    }

    /// The items each user interacted with, by user index (sized to `userIDs`).
    public func itemsByUser() -> [Set<Int32>] {
        var out = [Set<Int32>](repeating: [], count: userIDs.count)
        for (u, i) in zip(users, items) { out[Int(u)].insert(i) }
        return out
    }

    /// How many rows name each item, by item index (sized to `itemIDs`).
    public func itemCounts() -> [Int] {
        var out = [Int](repeating: 0, count: itemIDs.count)
        for i in items { out[Int(i)] += 1 }
        return out
    }

    /// The mean rating (0 for implicit data).
    public var meanRating: Double { ratings.isEmpty ? 0 : ratings.reduce(0.0) { $0 + Double($1) } / Double(ratings.count) }

    /// The pairs as an int32 tensor [count, 2] of (user, item) indices: a recommender's input.
    public var pairs: Tensor {
        var v = [Int32](repeating: 0, count: 2 * count)
        for r in 0..<count { v[2 * r] = users[r]; v[2 * r + 1] = items[r] }
        return Tensor(shape: [count, 2], values: v)
    }

    /// The ratings as a float32 tensor [count].
    public var ratingTensor: Tensor { Tensor(shape: [count], values: ratings) }
}

/// Item titles by item id, from the item files that come with rating data: MovieLens's and
/// MovieTweetings's `movies.dat` (`id::title::genres`), MovieLens 100K's `u.item` (`id|title|...`,
/// Latin-1 encoded), or a CSV/TSV with `item`/`movieId` and `title` columns.
///
/// ```swift
/// let titles = try ItemTitles.read("movietweetings/movies.dat")
/// titles["0114709"]       // "Toy Story (1995)"
/// ```
public enum ItemTitles {
    /// - Parameter path: the item file.
    public static func read(_ path: String) throws(TextFileError) -> [String: String] {
        var bytes = try TextFile.bytes(path)
        if TextFile.firstInvalidUTF8(bytes, from: 0) != nil {
            // MovieLens 100K's u.item is Latin-1: each byte is the code point of the same value.
            bytes = Array(String(bytes.map { Character(Unicode.Scalar($0)) }).utf8)
        }
        let firstLine = bytes.prefix { $0 != 0x0A }
        let table: DelimitedTable
        if firstLine.contains(0x3A) && String(decoding: firstLine, as: UTF8.self).contains("::") {
            let joined = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "::", with: "\u{1F}")
            table = try DelimitedTable(bytes: Array(joined.utf8), source: path, separator: "\u{1F}", header: .absent, quoting: .none)
        } else if firstLine.contains(0x7C) {
            table = try DelimitedTable(bytes: bytes, source: path, separator: "|", header: .absent, quoting: .none)
        } else {
            table = try DelimitedTable(bytes: bytes, source: path)
        }
        var id = 0, title = 1
        if table.hasHeader {
            let names = table.columnNames.map { $0.lowercased().replacingOccurrences(of: "_", with: "") }
            guard let t = names.firstIndex(where: { ["title", "name", "moviename", "itemname"].contains($0) }) else {
                throw TextFileError(file: path, "no title column among \(table.columnNames)")
            }
            title = t
            id = names.firstIndex { ["item", "itemid", "movie", "movieid", "id", "product", "productid"].contains($0) } ?? 0
        }
        var out: [String: String] = [:]
        for (row, line) in zip(table.rows, table.lineNumbers) {
            guard row.count > Swift.max(id, title) else { throw TextFileError(file: path, line: line, "expected an id and a title, found \(row.count) field(s)") }
            out[row[id]] = row[title]
        }
        return out
    }
}
