import Foundation
import Nabla
import NablaData
import Testing

/// Reading interactions in the formats recommender data comes in, splitting them, sampling
/// negatives, and the ranking metrics against hand-computed cases.
@Suite("Interactions, splits, negative sampling and ranking metrics")
struct InteractionsTests {
    func read(_ text: String, bom: Bool = false, format: Interactions.Format = .auto, columns: Interactions.Columns = .init(),
              implicit: Bool = false) throws -> Interactions {
        try Interactions(bytes: (bom ? [0xEF, 0xBB, 0xBF] : []) + Array(text.utf8), source: "ratings.dat", format: format, columns: columns, implicit: implicit)
    }

    @Test("MovieLens/MovieTweetings `::` files with string ids, CRLF endings and a BOM")
    func movieLensFormat() throws {
        let d = try read("u1::0114709::8::1365029107\r\nu2::0114709::6::1365029108\r\n\r\nu1::2345::10::1365029109\r\n", bom: true)
        #expect(d.count == 3)
        #expect(d.users == [0, 1, 0] && d.items == [0, 0, 1])
        #expect(d.ratings == [8, 6, 10])
        #expect(d.timestamps == [1_365_029_107, 1_365_029_108, 1_365_029_109])
        #expect(d.userIDs.ids == ["u1", "u2"] && d.itemIDs.ids == ["0114709", "2345"])   // leading zeros kept: ids are strings
        #expect(d.lineNumbers == [1, 2, 4])
        #expect(d.hasRatings)
    }

    @Test("MovieLens 100K's u.data, and CSV files with headers and named columns")
    func delimitedFormats() throws {
        let udata = try read("196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t377\t1\t878887116\n")
        #expect(udata.users == [0, 1, 0] && udata.ratings == [3, 3, 1] && udata.timestamps.count == 3)
        let csv = try read("movieId,rating,userId,timestamp\nm1,4.5,alice,10\nm2,3,bob,11\n")
        #expect(csv.userIDs.ids == ["alice", "bob"] && csv.itemIDs.ids == ["m1", "m2"] && csv.ratings == [4.5, 3])
        let named = try read("who;what;stars\na;x;1\nb;y;2\n", columns: .init(user: "who", item: "what", rating: "stars"))
        #expect(named.userIDs.ids == ["a", "b"] && named.ratings == [1, 2])
        let implicitPairs = try read("user,item\na,x\na,y\nb,x\n")
        #expect(!implicitPairs.hasRatings && implicitPairs.count == 3)
        let forcedImplicit = try read("u1::i1::5::1\n", implicit: true)
        #expect(!forcedImplicit.hasRatings)
    }

    @Test("bad rows are errors naming the file and line")
    func badRows() {
        #expect(throws: TextFileError(file: "ratings.dat", line: 2, "the rating must be a number, found \"great\"")) {
            try read("u1::i1::5::1\nu2::i1::great::2\n")
        }
        #expect(throws: TextFileError(file: "ratings.dat", line: 3, "expected at least 2 fields (user::item::rating::time), found 1")) {
            try read("u1::i1::5::1\nu2::i1::4::2\nu3\n")
        }
        #expect(throws: TextFileError(file: "ratings.dat", line: 1, "the timestamp must be a number, found \"noon\"")) {
            try read("u1::i1::5::noon\n")
        }
        #expect(throws: TextFileError.self) { try read("user,item,rating\n") }          // no rows
        #expect(throws: TextFileError(file: "ratings.dat", line: 2, "invalid UTF-8 at byte 4; save the file as UTF-8")) {
            try Interactions(bytes: Array("a,b\n".utf8) + [0xFF] + Array("x,y\n".utf8), source: "ratings.dat")
        }
        #expect(throws: TextFileError(file: "ratings.dat", "no user column among [\"movie\", \"stars\"]; name it with --user-column")) {
            try read("movie,stars\nm,1\nn,2\n")
        }
    }

    @Test("the random split is Python's random.Random(42).shuffle of the lines, the last 10% held out")
    func randomSplit() throws {
        let text = (0..<20).map { "u\($0 % 3)::i\($0)::\($0 % 5)::\($0)" }.joined(separator: "\n")
        let (train, test) = try read(text).split(.random(testFraction: 0.1, seed: 42))
        // random.Random(42).shuffle(list(range(20))) ends with 0, 3: lines 1 and 4.
        #expect(test.lineNumbers == [1, 4])
        #expect(train.count == 18 && Set(train.lineNumbers + test.lineNumbers).count == 20)
        #expect(train.userIDs == test.userIDs)
    }

    @Test("leave-last-out holds out each user's latest interaction; temporal holds out the latest rows")
    func timeSplits() throws {
        let d = try read("a::x::1::5\na::y::1::9\na::z::1::7\nb::x::1::3\nc::y::1::1\nc::z::1::2\n")
        let (train, test) = d.split(.leaveLastOut)
        #expect(test.lineNumbers == [2, 6])        // a's time 9, c's time 2; b has one interaction and stays
        #expect(train.count == 4)
        let t = try read((1...10).map { "u::i\($0)::1::\($0)" }.joined(separator: "\n")).split(.temporal(testFraction: 0.3))
        #expect(t.test.timestamps == [8, 9, 10] && t.train.timestamps.max() == 7)
    }

    @Test("negative sampling: negatives are items the user never had; pointwise labels and BPR triples")
    func negativeSampling() throws {
        let d = try read((0..<40).map { "u\($0 % 4)::i\($0 % 10)::1::\($0)" }.joined(separator: "\n"))
        let seen = d.itemsByUser()
        for sampling in [NegativeSampler.Sampling.uniform, .popularity()] {
            let pointwise = NegativeSampler(d, mode: .pointwise(negatives: 3), sampling: sampling, batchSize: 8, generator: RandomGenerator(seed: 1))
            #expect(pointwise.batchCount == 5)
            var rows = 0
            for (x, y) in IteratorSequence(pointwise.epoch()) {
                let ids = x.toArray(Int32.self), labels = y.toArray(Float.self)
                #expect(x.shape[1] == 2 && labels.count == x.shape[0])
                for r in 0..<labels.count where labels[r] == 0 { #expect(!seen[Int(ids[2 * r])].contains(ids[2 * r + 1])) }
                #expect(labels.filter { $0 == 1 }.count * 3 == labels.filter { $0 == 0 }.count)
                rows += labels.count
            }
            #expect(rows == 40 * 4)
        }
        let pairwise = NegativeSampler(d, mode: .pairwise, batchSize: 16, generator: RandomGenerator(seed: 2))
        for (x, _) in IteratorSequence(pairwise.epoch()) {
            let ids = x.toArray(Int32.self)
            #expect(x.shape[1] == 3)
            for r in 0..<x.shape[0] {
                #expect(seen[Int(ids[3 * r])].contains(ids[3 * r + 1]) && !seen[Int(ids[3 * r])].contains(ids[3 * r + 2]))
            }
        }
    }

    @Test("HR, NDCG, recall and MAP at K for one user, worked by hand")
    func userFigures() {
        let close = { (a: Double, b: Double) in Swift.abs(a - b) < 1e-9 }
        let (trainText, testText) = ("u::i0::1::1\n", "u::i3::1::2\nu::i5::1::3\n")
        // Full ranking over 6 items with the score of item k being k: the user saw i0 in training, so
        // the candidates rank i5, i4, i3, i2, i1; the held-out i5 and i3 rank 0 and 2.
        var ids = IDIndex()
        for k in 0..<6 { ids.insert("i\(k)") }
        let train = try! Interactions(bytes: Array(trainText.utf8), source: "t", itemIDs: ids)
        let test = try! Interactions(bytes: Array(testText.utf8), source: "t", userIDs: train.userIDs, itemIDs: train.itemIDs)
        let m = RankingMetrics.fullRanking(test: test, train: train, k: 2) { _, items in items.map { Float($0) } }
        #expect(m.users == 1 && m.hitRate == 1)
        #expect(close(m.ndcg, 1 / (1 + 1 / log2(3.0))))        // DCG 1 (rank 0); ideal DCG 1 + 1/log2(3)
        #expect(close(m.recall, 0.5) && close(m.map, 0.5))     // one of two found; precision 1 at rank 0, over min(2, K)
        #expect(close(m.coverage, 2.0 / 6))                    // i5 and i4 recommended out of six items
        let deeper = RankingMetrics.fullRanking(test: test, train: train, k: 5) { _, items in items.map { Float($0) } }
        #expect(close(deeper.map, (1.0 / 1 + 2.0 / 3) / 2) && deeper.recall == 1)
    }

    @Test("the sampled protocol: a perfect scorer scores 1, a constant one 0, and negatives are unseen items")
    func sampledProtocol() throws {
        let text = (0..<200).map { "u\($0 % 20)::i\(($0 * 7) % 150)::1::\($0)" }.joined(separator: "\n")
        let (train, test) = try read(text).split(.leaveLastOut)
        let testItem = Dictionary(uniqueKeysWithValues: zip(test.users, test.items))
        var seenByUser = train.itemsByUser()
        for (u, i) in zip(test.users, test.items) { seenByUser[Int(u)].insert(i) }
        let perfect = RankingMetrics.sampled(test: test, train: train, negatives: 99, k: 10, seed: 3) { users, items in
            for (u, i) in zip(users, items) where i != testItem[u] { #expect(!seenByUser[Int(u)].contains(i)) }
            return zip(users, items).map { $0.1 == testItem[$0.0] ? 1 : 0 }
        }
        #expect(perfect.users == 20 && perfect.hitRate == 1 && perfect.ndcg == 1 && perfect.map == 1)
        let constant = RankingMetrics.sampled(test: test, train: train, k: 10) { users, _ in [Float](repeating: 0.5, count: users.count) }
        #expect(constant.hitRate == 0 && constant.ndcg == 0)
    }

    @Test("RMSE and MAE of predicted ratings")
    func ratingErrorFigures() {
        let (rmse, mae) = ratingErrors(predicted: [3.5, 4, 2], actual: [3, 5, 2])
        #expect(Swift.abs(rmse - (1.25 / 3).squareRoot()) < 1e-12 && Swift.abs(mae - 0.5) < 1e-12)
    }

    @Test("item titles from movies.dat and from MovieLens 100K's Latin-1 u.item")
    func titles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-titles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let dat = dir.appendingPathComponent("movies.dat"), item = dir.appendingPathComponent("u.item")
        try Data("0114709::Toy Story (1995)::Animation|Comedy\r\n0002844::Fantômas (1913)::Crime\r\n".utf8).write(to: dat)
        try Data([UInt8]("1|Toy Story (1995)|01-Jan-1995\n2|".utf8) + [0x4C, 0xE9, 0x6F, 0x6E] + [UInt8](" (1994)|x\n".utf8)).write(to: item)
        #expect(try ItemTitles.read(dat.path) == ["0114709": "Toy Story (1995)", "0002844": "Fantômas (1913)"])
        #expect(try ItemTitles.read(item.path)["2"] == "Léon (1994)")
    }
}
