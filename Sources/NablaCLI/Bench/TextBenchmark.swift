import Foundation
import Nabla
import NablaData
import NablaNN

/// `text_train`: the fastText model of `nabla text train` on SMS spam (80/20 split, seed 42), ten
/// epochs without early stopping, as `scripts/fasttext_text_train.py` trains the fasttext package
/// (dimension 64, word bigrams, ten epochs, the same thread count).
enum TextBenchmark {
    static func dataPath() -> String? {
        let candidates = [ProcessInfo.processInfo.environment["NABLA_SMS_SPAM"], "../shared/data/sms-spam/SMSSpamCollection",
                          "shared/data/sms-spam/SMSSpamCollection"].compactMap { $0 }
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    static func run() -> BenchResult {
        guard let path = dataPath(), let all = try? LabelledTexts(path: path) else {
            FileHandle.standardError.write("text_train: SMS spam not found (set NABLA_SMS_SPAM to the SMSSpamCollection file)\n".data(using: .utf8)!)
            return BenchResult(workload: "text_train", fields: [])
        }
        RandomGenerator.global.seed(42)
        let order = RandomGenerator(seed: 42).permutation(all.count)
        let cut = all.count * 4 / 5
        let (train, test) = (all.subset(order[..<cut]), all.subset(order[cut...]))
        let classes = Array(Set(train.labels)).sorted()
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Int32($0)) })
        let kind = TextModelKind.fasttext
        var vectorizer = kind.vectorizer(maxTokens: nil, length: nil)
        let start = ContinuousClock.now
        vectorizer.adapt(train.texts)
        let x = vectorizer(train.texts), y = Tensor(values: train.labels.map { index[$0]! })
        let model = TextModelConfig(model: kind, classes: classes, vectorizer: vectorizer, embedding: 64, hidden: 100).make()
        try! model.compile(optimizer: Adam(learningRate: kind.defaultLearningRate), loss: SparseCategoricalCrossentropy(fromLogits: true),
                           metrics: ["accuracy"])
        let fitStart = ContinuousClock.now
        try! model.fit(x, y, batchSize: 32, epochs: 10, verbose: 0)
        let fitSeconds = seconds(ContinuousClock.now - fitStart), total = seconds(ContinuousClock.now - start)
        let accuracy = try! model.evaluate(vectorizer(test.texts), Tensor(values: test.labels.map { index[$0]! }), batchSize: 256, verbose: 0)["accuracy"] ?? 0
        return BenchResult(workload: "text_train", fields: [("train_seconds", total), ("fit_seconds", fitSeconds), ("epoch_ms", fitSeconds * 100),
                                                            ("test_accuracy", accuracy), ("threads", Double(Parallel.threadCount))])
    }

    private static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
}
