import ArgumentParser
import Foundation
import Nabla
import NablaData
import NablaNN

/// `nabla recommend`: train a recommender on a ratings or interactions file, and list a user's top items.
struct RecommendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recommend", abstract: "Recommender systems: rating prediction and item ranking.",
        subcommands: [RecommendTrain.self, RecommendTop.self])
}

enum RecommenderKind: String, ExpressibleByArgument, CaseIterable {
    case mf, neumf
    case twoTower = "two-tower"
}

enum SplitKind: String, ExpressibleByArgument, CaseIterable {
    case random
    case leaveLastOut = "leave-last-out"
    case temporal
}

enum RankingProtocol: String, ExpressibleByArgument, CaseIterable {
    case sampled, full
}

enum RankingLoss: String, ExpressibleByArgument, CaseIterable {
    case bce, bpr
}

enum NegativeSampling: String, ExpressibleByArgument, CaseIterable {
    case uniform, popularity
}

extension Interactions.Format: ExpressibleByArgument {}

/// How an interactions file is read: shared by `train` (for `--ratings` and `--test`) and `top`.
struct InteractionFileOptions: ParsableArguments {
    @Option(help: "File layout: auto (default; `::` separators mean MovieLens's ratings.dat), movielens, udata or delimited (CSV/TSV).")
    var format: Interactions.Format = .auto
    @Option(help: "User column of a delimited file (header name or 0-based index; default: user, userId, user_id, ... or column 0).")
    var userColumn: String?
    @Option(help: "Item column (default: item, movieId, product, ... or column 1).")
    var itemColumn: String?
    @Option(help: "Rating column (default: rating, score, ... or column 2; none makes the data implicit).")
    var ratingColumn: String?
    @Option(help: "Timestamp column (default: timestamp, time, ... or column 3).")
    var timeColumn: String?
    @Flag(help: "Treat every row as a positive interaction and ignore ratings (implicit feedback).")
    var implicit = false

    func read(_ path: String, users: IDIndex = IDIndex(), items: IDIndex = IDIndex()) throws -> Interactions {
        try Interactions(path: path, format: format, columns: .init(user: userColumn, item: itemColumn, rating: ratingColumn, time: timeColumn),
                         implicit: implicit, userIDs: users, itemIDs: items)
    }
}

/// What `nabla recommend train --save` keeps in a recommender's metadata: the ids behind the table
/// rows, the items each user had in training (never recommended again), and the rating range.
struct RecommendAssets: ModelAssets {
    static let key = "recommender", writer = "nabla recommend train"
    var users: IDIndex
    var items: IDIndex
    var seen: [[Int32]]
    /// The training ratings' range (predictions are clipped to it), nil for implicit data.
    var ratingRange: [Float]?
}

struct RecommendTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a recommender and report test RMSE/MAE (ratings) or HR/NDCG@K (implicit feedback).",
        discussion: """
        Explicit ratings train biased matrix factorisation (mf) on squared error, reported as test RMSE and MAE
        (predictions clipped to the training ratings' range). Implicit data (no rating column, or --implicit) trains
        NeuMF by default on sampled negatives and reports hit rate, NDCG, recall and MAP at K under the NCF paper's
        protocol (each held-out item against 99 unseen items) or --protocol full (the whole catalogue), beside the
        popularity baseline. Without --test, explicit data is split at random (Python's random.Random(seed).shuffle
        of the lines, the last --test-fraction held out) and implicit data leave-last-out.
        """)

    @Option(help: "The ratings or interactions file (MovieLens ratings.dat or u.data, MovieTweetings, CSV/TSV).")
    var ratings: String
    @Option(help: "A test file in the same layout (default: split --ratings).")
    var test: String?
    @OptionGroup var file: InteractionFileOptions
    @Option(help: "mf (default for ratings), neumf (default for implicit data) or two-tower.")
    var model: RecommenderKind?
    @Option(help: "How to split without --test: random (default for ratings), leave-last-out (default for implicit) or temporal.")
    var split: SplitKind?
    @Option(help: "Share of the rows held out by the random and temporal splits.")
    var testFraction = 0.1
    @Option(help: "Latent factors: MF's vectors (default: chosen from 4, 8, 16, 32 on held-out training ratings), NeuMF's GMF vectors (default 8), the two-tower output (default 32).")
    var factors: Int?
    @Option(help: "Epochs (default: 20 for mf on ratings; for implicit models, chosen by early stopping on held-out training interactions).")
    var epochs: Int?
    @Option(help: "Ratings or positives per batch (default: 1024 for mf, 256 for implicit models).")
    var batchSize: Int?
    @Option(help: "Adam's learning rate (default: 0.01 for mf, 0.001 for implicit models).")
    var learningRate: Double?
    @Option(help: "MF: L2 weight on the factor rows a batch touches (default: chosen from 0.01, 0.03, 0.1, 0.3, 1 on held-out training ratings).")
    var factorL2: Double?
    @Option(help: "MF: L2 weight on the biases a batch touches (default: chosen from 0.01, 0.1, 0.3 on held-out training ratings).")
    var biasL2: Double?
    @Option(help: "Implicit: bce (sampled negatives, default) or bpr (pairwise ranking).")
    var loss: RankingLoss = .bce
    @Option(help: "Implicit: negatives drawn per positive for bce.")
    var negatives = 4
    @Option(help: "Implicit: uniform (default) or popularity-weighted negatives (count^0.75).")
    var sampling: NegativeSampling = .uniform
    @Option(help: "Implicit: sampled (each held-out item against 99 unseen items, default) or full ranking.")
    var `protocol`: RankingProtocol = .sampled
    @Option(help: "Implicit: the cut-off K of the ranking metrics.")
    var k = 10
    @Option(help: "Random seed (the split, the initial weights, the batches).")
    var seed: UInt64 = 42
    @Option(help: "0 silent, 1 progress bar, 2 one line per epoch.")
    var verbose = 2
    @Option(help: "Save the model with its user and item ids into this folder.")
    var save: String?

    func validate() throws {
        guard testFraction > 0, testFraction < 1 else { throw ValidationError("--test-fraction must be in (0, 1), got \(testFraction)") }
        for (name, v) in [("--factors", factors), ("--epochs", epochs), ("--batch-size", batchSize)] where v.map({ $0 <= 0 }) ?? false {
            throw ValidationError("\(name) must be positive")
        }
        guard k > 0, negatives >= 1 else { throw ValidationError("--k and --negatives must be positive") }
        guard factorL2 ?? 0 >= 0, biasL2 ?? 0 >= 0 else { throw ValidationError("--factor-l2 and --bias-l2 must not be negative") }
        if let learningRate, !(learningRate > 0) { throw ValidationError("--learning-rate must be positive") }
    }

    /// The training and test interactions, sharing one id index.
    func readData() throws -> (train: Interactions, test: Interactions, note: String) {
        let all = try file.read(ratings)
        let explicit = all.hasRatings && !file.implicit
        if let test {
            var train = all
            let held = try file.read(test, users: all.userIDs, items: all.itemIDs)
            train.adoptIndices(users: held.userIDs, items: held.itemIDs)
            return (train, held, "test file \(test)")
        }
        let kind = split ?? (explicit ? .random : .leaveLastOut)
        let cut: Interactions.Split
        switch kind {
        case .random: cut = .random(testFraction: testFraction, seed: seed)
        case .leaveLastOut: cut = .leaveLastOut
        case .temporal: cut = .temporal(testFraction: testFraction)
        }
        let (train, held) = all.split(cut)
        return (train, held, "\(kind.rawValue) split" + (kind == .leaveLastOut ? "" : " (\(Int((testFraction * 100).rounded()))% held out, seed \(seed))"))
    }

    func run() throws {
        RandomGenerator.global.seed(seed)
        let (train, test, note) = try readData()
        guard test.count > 0 else { throw ValidationError("\(ratings): the split left no test interactions") }
        let explicit = train.hasRatings && !file.implicit
        let kind = model ?? (explicit ? .mf : .neumf)
        print("\(train.count) training and \(test.count) test \(explicit ? "ratings" : "interactions") (\(note)); "
              + "\(train.userIDs.count) users, \(train.itemIDs.count) items")
        if explicit && kind != .mf { print("\(kind.rawValue) learns from implicit feedback: the ratings are read as interactions") }
        let ratingMode = explicit && kind == .mf
        var selectionSeconds = 0.0
        var mfSettings = MFSettings(factors: factors ?? 32, factorL2: factorL2 ?? 0.3, biasL2: biasL2 ?? 0.1)
        if ratingMode && (factors == nil || factorL2 == nil || biasL2 == nil) {
            let started = ProgressBar.now()
            mfSettings = try selectMatrixFactorization(train)
            selectionSeconds = ProgressBar.now() - started
        }
        var epochCount = epochs ?? 20
        if !ratingMode && epochs == nil {
            let started = ProgressBar.now()
            epochCount = try selectImplicitEpochs(kind, train)
            selectionSeconds = ProgressBar.now() - started
        }
        let recommender = try makeCompiled(kind, train: train, ratingMode: ratingMode, mf: mfSettings)
        print(recommender.summary())
        let start = ProgressBar.now()
        if ratingMode {
            try recommender.fit(train.pairs, train.ratingTensor, batchSize: batchSize ?? 1024, epochs: epochCount, verbose: verbose)
        } else {
            try recommender.fit(sampler(train), epochs: epochCount, verbose: verbose)
        }
        let seconds = ProgressBar.now() - start
        let range = train.ratings.isEmpty ? nil : [train.ratings.min()!, train.ratings.max()!]
        if let save {
            try RecommendAssets(users: train.userIDs, items: train.itemIDs, seen: train.itemsByUser().map { $0.sorted() },
                                ratingRange: ratingMode ? range : nil).write(into: recommender)
            try recommender.save(to: URL(fileURLWithPath: save))
            print("saved the model with its user and item ids to \(save)")
        }
        print(String(format: "training time: %.2f s (%.1f ms per epoch)", seconds, seconds * 1000 / Double(epochCount))
              + (selectionSeconds > 0 ? String(format: "; choosing the settings took %.2f s", selectionSeconds) : ""))
        if ratingMode {
            let predicted = recommender.scores(users: test.users, items: test.items).map { Swift.min(Swift.max($0, range![0]), range![1]) }
            let (rmse, mae) = ratingErrors(predicted: predicted, actual: test.ratings)
            let mean = Float(train.meanRating)
            let baseline = ratingErrors(predicted: [Float](repeating: mean, count: test.count), actual: test.ratings)
            print(String(format: "global mean baseline: rmse %.4f  mae %.4f", baseline.rmse, baseline.mae))
            print(String(format: "test rmse: %.4f  test mae: %.4f", rmse, mae))
        } else {
            let evaluate = { (score: ([Int32], [Int32]) -> [Float]) in
                self.protocol == .sampled ? RankingMetrics.sampled(test: test, train: train, negatives: 99, k: self.k, seed: self.seed, score: score)
                    : RankingMetrics.fullRanking(test: test, train: train, k: self.k, score: score)
            }
            let popular = evaluate(RankingMetrics.popularityScorer(train))
            let result = evaluate { recommender.scores(users: $0, items: $1) }
            print("popularity baseline: \(popular)")
            print("\(self.protocol == .sampled ? "sampled (99 negatives)" : "full ranking") over \(result.users) users")
            print(result)
        }
    }

    /// MF's factors and L2 weights where not given, chosen as a user of Surprise's GridSearchCV would:
    /// on a seeded tenth of the training ratings held out (never the test set), by coordinate descent
    /// — the factor L2 at 32 factors, the number of factors at that weight, the factor L2 again, then
    /// the bias L2. Sparse data such as MovieTweetings (a few ratings per user) wants strong shrinkage
    /// and gains nothing from factors; dense data with real structure wants little shrinkage.
    func selectMatrixFactorization(_ train: Interactions) throws -> MFSettings {
        let (fitting, watching) = train.split(.random(testFraction: 0.1, seed: seed &+ 1))
        let range = (fitting.ratings.min()!, fitting.ratings.max()!)
        var tried: [String] = [], memo: [MFSettings: Double] = [:]
        func validationRMSE(_ c: MFSettings) throws -> Double {
            if let known = memo[c] { return known }
            RandomGenerator.global.seed(seed)
            let m = MatrixFactorization(users: train.userIDs.count, items: train.itemIDs.count, factors: c.factors, globalMean: fitting.meanRating,
                                        factorL2: c.factorL2, biasL2: c.biasL2)
            try m.compile(optimizer: Adam(learningRate: learningRate ?? 0.01), loss: MeanSquaredError())
            try m.fit(fitting.pairs, fitting.ratingTensor, batchSize: batchSize ?? 1024, epochs: epochs ?? 20, verbose: 0)
            let predicted = m.scores(users: watching.users, items: watching.items).map { Swift.min(Swift.max($0, range.0), range.1) }
            let rmse = ratingErrors(predicted: predicted, actual: watching.ratings).rmse
            tried.append(String(format: "%d/%g/%g: %.4f", c.factors, c.factorL2, c.biasL2, rmse))
            memo[c] = rmse
            return rmse
        }
        var current = MFSettings(factors: factors ?? 32, factorL2: factorL2 ?? 0.3, biasL2: biasL2 ?? 0.1)
        func search(_ candidates: [MFSettings]) throws {
            current = try candidates.map { ($0, try validationRMSE($0)) }.min { $0.1 < $1.1 }!.0
        }
        let weights = [0.01, 0.03, 0.1, 0.3, 1]
        if factorL2 == nil { try search(weights.map { MFSettings(factors: current.factors, factorL2: $0, biasL2: current.biasL2) }) }
        if factors == nil { try search([4, 8, 16, 32].map { MFSettings(factors: $0, factorL2: current.factorL2, biasL2: current.biasL2) }) }
        if factorL2 == nil { try search(weights.map { MFSettings(factors: current.factors, factorL2: $0, biasL2: current.biasL2) }) }
        if biasL2 == nil { try search([0.01, 0.1, 0.3].map { MFSettings(factors: current.factors, factorL2: current.factorL2, biasL2: $0) }) }
        print("MF settings (factors/factor L2/bias L2) chosen on \(watching.count) held-out training ratings, validation rmse: " + tried.joined(separator: ", "))
        print("matrix factorisation: \(current.factors) factors, factor L2 \(current.factorL2), bias L2 \(current.biasL2)")
        RandomGenerator.global.seed(seed)
        return current
    }

    struct MFSettings: Hashable {
        var factors: Int
        var factorL2: Double
        var biasL2: Double
    }

    /// Negative-sampled batches of `positives` as the options ask.
    func sampler(_ positives: Interactions) -> NegativeSampler {
        NegativeSampler(positives, mode: loss == .bpr ? .pairwise : .pointwise(negatives: negatives), sampling: sampling == .uniform ? .uniform : .popularity(),
                        batchSize: batchSize ?? 256, generator: RandomGenerator(seed: seed &+ 1))
    }

    /// A fresh model of `kind` for `train`'s ids, compiled with Adam and the loss of the task.
    func makeCompiled(_ kind: RecommenderKind, train: Interactions, ratingMode: Bool, mf: MFSettings) throws -> any Recommender {
        RandomGenerator.global.seed(seed)
        let recommender = makeModel(kind, train: train, explicit: ratingMode, mf: mf)
        let optimizer = Adam(learningRate: learningRate ?? (ratingMode ? 0.01 : 0.001))
        if ratingMode {
            try recommender.compile(optimizer: optimizer, loss: MeanSquaredError())
        } else if loss == .bpr {
            try recommender.compile(optimizer: optimizer, loss: BPRLoss())
        } else {
            try recommender.compile(optimizer: optimizer, loss: BinaryCrossentropy(fromLogits: true))
        }
        return recommender
    }

    /// The number of epochs for an implicit model, chosen as early stopping chooses it: each training
    /// user's latest interaction held out (never the test set), one epoch at a time until NDCG@K under
    /// the sampled protocol has not improved for two epochs (at most 30). Implicit models overfit
    /// within a few epochs on sparse data, and how soon depends on the data.
    func selectImplicitEpochs(_ kind: RecommenderKind, _ train: Interactions) throws -> Int {
        let (fitting, watching) = train.split(.leaveLastOut)
        guard watching.count > 0 else { return 10 }
        let candidate = try makeCompiled(kind, train: train, ratingMode: false, mf: MFSettings(factors: factors ?? 32, factorL2: 0, biasL2: 0))
        let batches = sampler(fitting)
        var scores: [Double] = []
        while scores.count < 30 {
            try candidate.fit(batches, epochs: 1, verbose: 0)
            scores.append(RankingMetrics.sampled(test: watching, train: fitting, k: k, seed: seed &+ 2) { candidate.scores(users: $0, items: $1) }.ndcg)
            if let best = scores.indices.max(by: { scores[$0] < scores[$1] }), scores.count - 1 - best >= 2 { break }
        }
        let best = scores.indices.max { scores[$0] < scores[$1] }! + 1
        print("epochs chosen on \(watching.count) held-out training interactions (validation ndcg@\(k) per epoch: "
              + scores.map { String(format: "%.4f", $0) }.joined(separator: ", ") + "): \(best)")
        return best
    }

    func makeModel(_ kind: RecommenderKind, train: Interactions, explicit: Bool, mf: MFSettings) -> any Recommender {
        let (u, i) = (train.userIDs.count, train.itemIDs.count)
        switch kind {
        case .mf:
            return MatrixFactorization(users: u, items: i, factors: explicit ? mf.factors : factors ?? 32, globalMean: explicit ? train.meanRating : 0,
                                       factorL2: explicit ? mf.factorL2 : 0, biasL2: explicit ? mf.biasL2 : 0)
        case .neumf: return NeuMF(users: u, items: i, factors: factors ?? 8)
        case .twoTower: return TwoTower(users: u, items: i, towerUnits: [64, factors ?? 32])
        }
    }
}

struct RecommendTop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top", abstract: "List a user's best-scored items (never ones the user had in training) from a model saved by nabla recommend train.")

    @Argument(help: "The model folder.")
    var modelPath: String
    @Option(help: "The user's id as written in the training file.")
    var user: String
    @Option(help: "How many items.")
    var count = 10
    @Option(help: "An item file with titles: MovieLens's movies.dat (id::title::genres) or u.item (id|title|...), or CSV with item and title columns.")
    var items: String?

    func run() throws {
        guard count > 0 else { throw ValidationError("--count must be positive") }
        guard let model = try loadModel(modelPath) as? any Recommender else { throw ValidationError("\(modelPath): not a recommender") }
        let assets = try RecommendAssets.required(model, path: modelPath)
        guard let u = assets.users.index(of: user) else {
            throw ValidationError("user \(user) is not in the model (\(assets.users.count) users, e.g. \(assets.users.ids.prefix(3).joined(separator: ", ")))")
        }
        let titles = try items.map { try ItemTitles.read($0) } ?? [:]
        let seen = Int(u) < assets.seen.count ? Set(assets.seen[Int(u)]) : []
        let best = model.recommend(user: u, count: count, excluding: seen)
        print("top \(best.count) for user \(user) (\(seen.count) items seen in training):")
        for (rank, (item, score)) in best.enumerated() {
            let id = assets.items[item]
            var s = score
            if let range = assets.ratingRange { s = Swift.min(Swift.max(s, range[0]), range[1]) }
            print(String(format: "%2d. %@  %.3f", rank + 1, titles[id].map { "\($0) [\(id)]" } ?? id, s))
        }
    }
}
