import Nabla

/// A model that scores (user, item) pairs. Its input is an int32 tensor of user and item indices:
/// [batch, 2] gives each pair's score; [batch, 3] of (user, positive, negative) gives
/// `score(user, positive) − score(user, negative)`, which ``BPRLoss`` turns into Bayesian
/// personalised ranking. Its embedding tables have row-sparse gradients, so a step costs what the
/// batch touched, not the size of the catalogue.
///
/// ```swift
/// let model = MatrixFactorization(users: 1_000, items: 5_000, globalMean: 3.5)
/// let s = model.scores(users: [0, 0], items: [10, 11])     // two predicted ratings
/// let top = model.recommend(user: 0, count: 10, excluding: seen[0])
/// ```
public protocol Recommender: Model {
    /// Rows of the user tables.
    var userCount: Int { get }
    /// Rows of the item tables.
    var itemCount: Int { get }
    /// The score of each pair: int32 `users` [batch] and `items` [batch] → [batch].
    func score(users: Tensor, items: Tensor) -> Tensor
}

extension Recommender {
    /// The forward pass every recommender shares: pairs score, triples give the BPR difference.
    func pairForward(_ x: Tensor) -> Tensor {
        nablaPrecondition(x.rank == 2 && (x.shape[1] == 2 || x.shape[1] == 3),
                          "\(name): expects (user, item) pairs [batch, 2] or (user, positive, negative) triples [batch, 3], got \(x.shape)")
        let ids = x.dtype == .int32 ? x : x.cast(to: .int32)
        func column(_ k: Int32) -> Tensor { ids.indexSelect(Tensor(values: [k]), axis: 1).reshaped([-1]) }
        let users = column(0)
        let positive = score(users: users, items: column(1))
        return x.shape[1] == 2 ? positive : positive - score(users: users, items: column(2))
    }

    /// Checks the input is pairs or triples.
    func validatePairs(_ inputShapes: [[Int]]) throws(NablaError) {
        guard inputShapes.count == 1, inputShapes[0] == [2] || inputShapes[0] == [3] else {
            throw .shapeMismatch(layer: name, expected: "(None, 2) user-item pairs or (None, 3) triples", actual: kerasShape([nil] + inputShapes[0].map { Optional($0) }))
        }
    }

    /// Scores of (user, item) index pairs in inference mode, computed in batches.
    ///
    /// - Parameters:
    ///   - users: user indices.
    ///   - items: item indices, one per user entry.
    ///   - batchSize: pairs per forward pass.
    public func scores(users: [Int32], items: [Int32], batchSize: Int = 65_536) -> [Float] {
        nablaPrecondition(users.count == items.count, "\(name).scores: \(users.count) users for \(items.count) items")
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        var out: [Float] = []
        out.reserveCapacity(users.count)
        withNoGrad {
            var start = 0
            while start < users.count {
                let end = Swift.min(users.count, start + batchSize)
                let s = score(users: Tensor(values: Array(users[start..<end])), items: Tensor(values: Array(items[start..<end])))
                out += s.toArray(Float.self)
                start = end
            }
        }
        return out
    }

    /// The `count` best-scored items for `user`, highest first, leaving out `excluding` (the items
    /// the user has already seen).
    ///
    /// - Parameters:
    ///   - user: the user's index.
    ///   - count: how many items.
    ///   - excluding: item indices never to recommend.
    public func recommend(user: Int32, count: Int, excluding: Set<Int32> = []) -> [(item: Int32, score: Float)] {
        let candidates = (0..<Int32(itemCount)).filter { !excluding.contains($0) }
        let s = scores(users: [Int32](repeating: user, count: candidates.count), items: candidates)
        return candidates.indices.sorted { s[$0] > s[$1] || (s[$0] == s[$1] && $0 < $1) }.prefix(count).map { (candidates[$0], s[$0]) }
    }
}

/// Biased matrix factorisation for explicit ratings (Koren, Bell & Volinsky 2009; scikit-surprise's
/// `SVD`): `rating ≈ globalMean + userBias + itemBias + userFactors · itemFactors`, trained on
/// squared error with an L2 penalty on the rows each batch touches (``Layer/addLoss(_:)``) —
/// separate weights for the biases and the factors, because on sparse data the biases carry most
/// of what can be learned and need less shrinkage than the factors.
///
/// ```swift
/// let model = MatrixFactorization(users: train.userIDs.count, items: train.itemIDs.count, globalMean: train.meanRating)
/// try model.compile(optimizer: Adam(learningRate: 0.01), loss: "mse", metrics: ["rmse"])
/// try model.fit(train.pairs, train.ratingTensor, batchSize: 1024, epochs: 20)
/// ```
public final class MatrixFactorization: Model, Recommender {
    public let userCount: Int
    public let itemCount: Int
    public let factors: Int
    /// The constant every prediction starts from (the training set's mean rating).
    public let globalMean: Double
    /// L2 weight on a batch's user and item factor rows (per rating, averaged over the batch).
    public let factorL2: Double
    /// L2 weight on a batch's user and item biases.
    public let biasL2: Double
    public let userFactors: Embedding
    public let itemFactors: Embedding
    public let userBiases: Embedding
    public let itemBiases: Embedding

    /// - Parameters:
    ///   - users: the number of users (rows of the user tables).
    ///   - items: the number of items.
    ///   - factors: the size of the latent vectors.
    ///   - globalMean: the training set's mean rating.
    ///   - factorL2: the L2 weight on the factor rows a batch touches.
    ///   - biasL2: the L2 weight on the biases a batch touches.
    ///   - name: the model's name.
    public init(users: Int, items: Int, factors: Int = 32, globalMean: Double = 0, factorL2: Double = 1, biasL2: Double = 0.1, name: String? = nil) {
        nablaPrecondition(users > 0 && items > 0 && factors > 0, "MatrixFactorization: users, items and factors must be positive")
        (userCount, itemCount, self.factors, self.globalMean, self.factorL2, self.biasL2) = (users, items, factors, globalMean, factorL2, biasL2)
        // Factors start small and random (Surprise: N(0, 0.1)) so that the dot product starts near zero
        // but its gradient does not; biases start at zero.
        userFactors = Embedding(inputDim: users, outputDim: factors, initializer: .randomNormal(std: 0.1), sparse: true)
        itemFactors = Embedding(inputDim: items, outputDim: factors, initializer: .randomNormal(std: 0.1), sparse: true)
        userBiases = Embedding(inputDim: users, outputDim: 1, initializer: .zeros, sparse: true)
        itemBiases = Embedding(inputDim: items, outputDim: 1, initializer: .zeros, sparse: true)
        super.init(name: name ?? "matrix_factorization")
    }

    public override var typeName: String { "MatrixFactorization" }

    public override var config: [String: JSONValue] {
        ["users": JSONValue(userCount), "items": JSONValue(itemCount), "factors": JSONValue(factors), "global_mean": JSONValue(globalMean),
         "factor_l2": JSONValue(factorL2), "bias_l2": JSONValue(biasL2)]
    }

    public override func validate(inputShapes: [[Int]]) throws(NablaError) { try validatePairs(inputShapes) }
    public override func outputShape(for inputShapes: [[Int]]) -> [Int] { [] }
    public override func forward(_ x: Tensor) -> Tensor { pairForward(x) }

    public func score(users: Tensor, items: Tensor) -> Tensor {
        let p = userFactors(users), q = itemFactors(items)
        let bu = userBiases(users).reshaped([-1]), bi = itemBiases(items).reshaped([-1])
        if factorL2 > 0 || biasL2 > 0 {
            addLoss(factorL2 * (rowDot(p, p) + rowDot(q, q)).mean() + biasL2 * (bu * bu + bi * bi).mean())
        }
        return rowDot(p, q) + bu + bi + globalMean
    }
}

/// Neural collaborative filtering (He et al., WWW 2017): a generalised matrix factorisation tower
/// (the element-wise product of user and item vectors) beside an MLP tower over concatenated user
/// and item vectors, joined by one output unit — a logit, for implicit feedback trained with binary
/// cross-entropy on sampled negatives (``BinaryCrossentropy`` with `fromLogits`) or with ``BPRLoss``.
/// Defaults follow the paper's code: 8 predictive factors, MLP layers 64 → 32 → 16 → 8.
///
/// ```swift
/// let model = NeuMF(users: 6_040, items: 3_706)
/// try model.compile(optimizer: Adam(learningRate: 1e-3), loss: BinaryCrossentropy(fromLogits: true))
/// try model.fit(NegativeSampler(train, mode: .pointwise(negatives: 4)), epochs: 10)
/// ```
public final class NeuMF: Model, Recommender {
    public let userCount: Int
    public let itemCount: Int
    public let gmfUsers: Embedding
    public let gmfItems: Embedding
    public let mlpUsers: Embedding
    public let mlpItems: Embedding
    public let mlp: [Dense]
    public let output: Dense

    /// - Parameters:
    ///   - users: the number of users.
    ///   - items: the number of items.
    ///   - factors: the size of the GMF vectors (the paper's predictive factors).
    ///   - mlpLayers: the MLP's widths; the first is the concatenated user and item vectors (half each).
    ///   - name: the model's name.
    public init(users: Int, items: Int, factors: Int = 8, mlpLayers: [Int] = [64, 32, 16, 8], name: String? = nil) {
        nablaPrecondition(users > 0 && items > 0 && factors > 0 && mlpLayers.count >= 1 && mlpLayers.allSatisfy { $0 > 0 } && mlpLayers[0] % 2 == 0,
                          "NeuMF: sizes must be positive and the first MLP width even, got factors \(factors), layers \(mlpLayers)")
        (userCount, itemCount) = (users, items)
        let e = Initializer.randomNormal(std: 0.01)
        gmfUsers = Embedding(inputDim: users, outputDim: factors, initializer: e, sparse: true)
        gmfItems = Embedding(inputDim: items, outputDim: factors, initializer: e, sparse: true)
        mlpUsers = Embedding(inputDim: users, outputDim: mlpLayers[0] / 2, initializer: e, sparse: true)
        mlpItems = Embedding(inputDim: items, outputDim: mlpLayers[0] / 2, initializer: e, sparse: true)
        mlp = zip(mlpLayers, mlpLayers.dropFirst()).map { Dense(units: $1, activation: .relu, inputDim: $0) }
        output = Dense(units: 1, kernelInitializer: .lecunUniform, inputDim: factors + mlpLayers.last!)
        super.init(name: name ?? "neumf")
    }

    public override var typeName: String { "NeuMF" }

    public override var config: [String: JSONValue] {
        ["users": JSONValue(userCount), "items": JSONValue(itemCount), "factors": JSONValue(gmfUsers.outputDim),
         "mlp_layers": .array([JSONValue(mlpUsers.outputDim * 2)] + mlp.map { JSONValue($0.units) })]
    }

    public override func validate(inputShapes: [[Int]]) throws(NablaError) { try validatePairs(inputShapes) }
    public override func outputShape(for inputShapes: [[Int]]) -> [Int] { [] }
    public override func forward(_ x: Tensor) -> Tensor { pairForward(x) }

    public func score(users: Tensor, items: Tensor) -> Tensor {
        let gmf = gmfUsers(users) * gmfItems(items)
        var h = concatenate([mlpUsers(users), mlpItems(items)], axis: -1)
        for layer in mlp { h = layer(h) }
        return output(concatenate([gmf, h], axis: -1)).reshaped([-1])
    }
}

/// A two-tower retrieval model (YouTube, Covington et al. 2016; TensorFlow Recommenders): a user
/// tower and an item tower, each an embedding followed by dense layers, scored by the dot product of
/// their outputs — so item vectors can be computed once and searched by nearest neighbour. For
/// implicit feedback with sampled negatives (cross-entropy on the logit) or BPR.
///
/// ```swift
/// let model = TwoTower(users: 10_000, items: 50_000, embeddingSize: 64, towerUnits: [64, 32])
/// ```
public final class TwoTower: Model, Recommender {
    public let userCount: Int
    public let itemCount: Int
    public let userEmbedding: Embedding
    public let itemEmbedding: Embedding
    public let userTower: [Dense]
    public let itemTower: [Dense]

    /// - Parameters:
    ///   - users: the number of users.
    ///   - items: the number of items.
    ///   - embeddingSize: the size of the id embeddings.
    ///   - towerUnits: each tower's dense widths (ReLU between, the last linear): the last is the
    ///     size of the vectors whose dot product is the score.
    ///   - name: the model's name.
    public init(users: Int, items: Int, embeddingSize: Int = 64, towerUnits: [Int] = [64, 32], name: String? = nil) {
        nablaPrecondition(users > 0 && items > 0 && embeddingSize > 0 && towerUnits.allSatisfy { $0 > 0 },
                          "TwoTower: sizes must be positive, got embedding \(embeddingSize), towers \(towerUnits)")
        (userCount, itemCount) = (users, items)
        let e = Initializer.randomNormal(std: 0.05)
        userEmbedding = Embedding(inputDim: users, outputDim: embeddingSize, initializer: e, sparse: true)
        itemEmbedding = Embedding(inputDim: items, outputDim: embeddingSize, initializer: e, sparse: true)
        func tower() -> [Dense] {
            let widths = [embeddingSize] + towerUnits
            return towerUnits.indices.map { k in Dense(units: widths[k + 1], activation: k + 1 < towerUnits.count ? .relu : .linear, inputDim: widths[k]) }
        }
        userTower = tower()
        itemTower = tower()
        super.init(name: name ?? "two_tower")
    }

    public override var typeName: String { "TwoTower" }

    public override var config: [String: JSONValue] {
        ["users": JSONValue(userCount), "items": JSONValue(itemCount), "embedding_size": JSONValue(userEmbedding.outputDim),
         "tower_units": .array(userTower.map { JSONValue($0.units) })]
    }

    public override func validate(inputShapes: [[Int]]) throws(NablaError) { try validatePairs(inputShapes) }
    public override func outputShape(for inputShapes: [[Int]]) -> [Int] { [] }
    public override func forward(_ x: Tensor) -> Tensor { pairForward(x) }

    public func score(users: Tensor, items: Tensor) -> Tensor {
        var u = userEmbedding(users), v = itemEmbedding(items)
        for layer in userTower { u = layer(u) }
        for layer in itemTower { v = layer(v) }
        return rowDot(u, v)
    }
}

extension MatrixFactorization: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let (u, i, f) = (try c.count("users"), try c.count("items"), try c.positive("factors"))
        try c.checkTable(u + i, f + 1)
        let (l2f, l2b) = (try c.double("factor_l2"), try c.double("bias_l2"))
        guard l2f >= 0, l2b >= 0 else { throw .invalidArgument("MatrixFactorization \(c.name): L2 weights must be ≥ 0") }
        return MatrixFactorization(users: u, items: i, factors: f, globalMean: try c.double("global_mean"), factorL2: l2f, biasL2: l2b, name: c.name)
    }
}

extension NeuMF: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let (u, i, f, layers) = (try c.count("users"), try c.count("items"), try c.positive("factors"), try c.ints("mlp_layers"))
        guard !layers.isEmpty, layers.count <= 64, layers.allSatisfy({ $0 > 0 && $0 <= 1 << 16 }), layers[0] % 2 == 0 else {
            throw .invalidArgument("NeuMF \(c.name): mlp_layers must be 1 to 64 positive widths, the first even, got \(layers)")
        }
        try c.checkTable(u + i, f + layers[0] / 2)
        return NeuMF(users: u, items: i, factors: f, mlpLayers: layers, name: c.name)
    }
}

extension TwoTower: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let (u, i, e, units) = (try c.count("users"), try c.count("items"), try c.positive("embedding_size"), try c.ints("tower_units"))
        guard !units.isEmpty, units.count <= 64, units.allSatisfy({ $0 > 0 && $0 <= 1 << 16 }) else {
            throw .invalidArgument("TwoTower \(c.name): tower_units must be 1 to 64 positive widths, got \(units)")
        }
        try c.checkTable(u + i, e)
        return TwoTower(users: u, items: i, embeddingSize: e, towerUnits: units, name: c.name)
    }
}
