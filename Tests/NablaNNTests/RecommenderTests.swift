import Foundation
import Nabla
import NablaData
import NablaNN
import Testing

/// Recommender models on data whose answer is known: synthetic ratings with a known noise floor,
/// and implicit feedback with planted user groups.
@Suite("Recommenders", .serialized)
struct RecommenderTests {
    @Test("biased MF on synthetic low-rank ratings: test RMSE within 5% of the noise floor")
    func matrixFactorizationReachesNoiseFloor() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 5))
        // 500 users, 200 items, 60% of the pairs rated: enough ratings per row that estimation error is
        // small beside the noise. The settings are those `nabla recommend train` chooses on this data.
        let data = SyntheticRatings(users: 500, items: 200, ratings: 60_000, rank: 3, noise: 0.5, seed: 11)
        let (train, test) = data.interactions.split(.random(testFraction: 0.1, seed: 42))
        let model = MatrixFactorization(users: train.userIDs.count, items: train.itemIDs.count, factors: 4, globalMean: train.meanRating,
                                        factorL2: 0.03, biasL2: 0.01)
        try model.compile(optimizer: Adam(learningRate: 0.01), loss: "mse")
        try model.fit(train.pairs, train.ratingTensor, batchSize: 1024, epochs: 20, verbose: 0)
        let (rmse, _) = ratingErrors(predicted: model.scores(users: test.users, items: test.items), actual: test.ratings)
        let meanOnly = ratingErrors(predicted: [Float](repeating: Float(train.meanRating), count: test.count), actual: test.ratings).rmse
        #expect(rmse <= 1.05 * data.noise, "test rmse \(rmse) against noise \(data.noise) (global mean: \(meanOnly))")
    }

    @Test("addLoss: MF's L2 on the touched rows is in the training loss and not in evaluate's")
    func addedLossInTrainingOnly() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 6))
        let model = MatrixFactorization(users: 4, items: 5, factors: 3, globalMean: 0, factorL2: 0.7, biasL2: 0)
        let x = Tensor(shape: [3, 2], values: [Int32]([0, 1, 3, 4, 0, 4])), y = Tensor([1, 2, 3] as [Float])
        try model.compile(optimizer: SGD(learningRate: 0), loss: "mse")
        let p = model.userFactors.embeddings!.value.toArray(Float.self), q = model.itemFactors.embeddings!.value.toArray(Float.self)
        var mse = 0.0, l2 = 0.0
        for (r, (u, i)) in [(0, 1), (3, 4), (0, 4)].enumerated() {
            let pu = p[(u * 3)..<(u * 3 + 3)].map(Double.init), qi = q[(i * 3)..<(i * 3 + 3)].map(Double.init)
            let score = zip(pu, qi).reduce(0) { $0 + $1.0 * $1.1 }
            mse += (score - Double([1, 2, 3][r])) * (score - Double([1, 2, 3][r])) / 3
            l2 += (pu.reduce(0) { $0 + $1 * $1 } + qi.reduce(0) { $0 + $1 * $1 }) / 3
        }
        let trained = try model.trainOnBatch(x, y)["loss"]!
        #expect(Swift.abs(trained - (mse + 0.7 * l2)) < 1e-5, "\(trained) vs \(mse) + 0.7 × \(l2)")
        let evaluated = try model.evaluate(x, y, verbose: 0).loss
        #expect(Swift.abs(evaluated - mse) < 1e-5)
    }

    /// 200 users in eight groups; each group's users interact with 20 of the 50 items of its own
    /// eighth of a 400-item catalogue, so a model that learns the groups ranks a held-out item above
    /// most of the 99 sampled negatives (about 7 of which come from the user's group).
    func plantedGroups() -> (train: Interactions, test: Interactions) {
        let rng = RandomGenerator(seed: 9)
        var users: [String] = [], items: [String] = [], times: [Double] = []
        for u in 0..<200 {
            var chosen = Set<Int>()
            while chosen.count < 20 { chosen.insert((u % 8) * 50 + rng.nextInt(below: 50)) }
            for (t, i) in chosen.sorted().enumerated() {
                users.append("u\(u)"); items.append("i\(i)"); times.append(Double(t * 1000 + rng.nextInt(below: 1000)))
            }
        }
        return Interactions(users: users, items: items, timestamps: times).split(.leaveLastOut)
    }

    @Test("NeuMF (BCE), MF (BPR) and two towers beat popularity on planted groups; recommend skips seen items")
    func implicitModels() throws {
        let (train, test) = plantedGroups()
        let popularity = RankingMetrics.sampled(test: test, train: train, k: 10, seed: 1, score: RankingMetrics.popularityScorer(train))
        let (u, i) = (train.userIDs.count, train.itemIDs.count)
        let cases: [(String, any Recommender, Bool)] = [
            ("neumf bce", NeuMF(users: u, items: i), false),
            ("mf bpr", MatrixFactorization(users: u, items: i, factors: 16, factorL2: 0, biasL2: 0), true),
            ("two-tower bce", TwoTower(users: u, items: i, embeddingSize: 16, towerUnits: [16, 16]), false),
        ]
        for (name, model, bpr) in cases {
            RandomGenerator.setCurrent(RandomGenerator(seed: 7))
            if bpr { try model.compile(optimizer: Adam(learningRate: 0.01), loss: BPRLoss()) }
            else { try model.compile(optimizer: Adam(learningRate: 0.01), loss: BinaryCrossentropy(fromLogits: true)) }
            let sampler = NegativeSampler(train, mode: bpr ? .pairwise : .pointwise(negatives: 4), batchSize: 128, generator: RandomGenerator(seed: 8))
            try model.fit(sampler, epochs: 15, verbose: 0)
            let m = RankingMetrics.sampled(test: test, train: train, k: 10, seed: 1) { model.scores(users: $0, items: $1) }
            #expect(m.hitRate > popularity.hitRate + 0.3 && m.ndcg > popularity.ndcg + 0.15, "\(name): \(m) against popularity \(popularity)")
            let seen = train.itemsByUser()[0]
            let top = model.recommend(user: 0, count: 10, excluding: seen)
            #expect(top.count == 10 && top.allSatisfy { !seen.contains($0.item) })
            #expect(zip(top, top.dropFirst()).allSatisfy { $0.score >= $1.score })
        }
    }

    @Test("a recommender refuses inputs that are not pairs or triples, naming itself")
    func inputShapes() throws {
        let model = MatrixFactorization(users: 3, items: 3)
        try model.compile(optimizer: "adam", loss: "mse")
        #expect(throws: NablaError.self) { try model.fit(Tensor.zeros([4, 5], dtype: .int32), Tensor.zeros([4]), verbose: 0) }
    }
}
