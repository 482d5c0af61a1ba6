import Foundation
import Nabla
import NablaData
import NablaNN

/// `text_train`: the fastText model of `nabla text train` on SMS spam (its 80/20 split, seed 42), ten
/// epochs without early stopping, through the command's own training path, as
/// `scripts/fasttext_text_train.py` trains the fasttext package (dimension 64, word bigrams, ten
/// epochs, the same thread count).
enum TextBenchmark {
    static func dataPath() -> String? {
        let candidates = [ProcessInfo.processInfo.environment["NABLA_SMS_SPAM"], "../shared/data/sms-spam/SMSSpamCollection",
                          "shared/data/sms-spam/SMSSpamCollection"].compactMap { $0 }
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    static func run() -> BenchResult {
        guard let path = dataPath(), let all = try? LabelledTexts(path: path),
              let command = try? TextTrain.parse(["--data", path, "--model", "fasttext", "--epochs", "10", "--validation-split", "0",
                                                  "--verbose", "0", "--seed", "42"]) else {
            FileHandle.standardError.write("text_train: SMS spam not found (set NABLA_SMS_SPAM to the SMSSpamCollection file)\n".data(using: .utf8)!)
            return BenchResult(workload: "text_train", fields: [])
        }
        let (train, test) = TextTrain.holdOut(all, seed: command.seed)
        let classes = Array(Set(train.labels)).sorted()
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Int32($0)) })
        let start = ContinuousClock.now
        let (config, trained) = try! command.fit(train, validation: nil, epochs: command.epochs, classes: classes, log: { _ in })
        let total = seconds(ContinuousClock.now - start)
        let accuracy = try! trained.model.evaluate(config.vectorizer(test.texts), Tensor(values: test.labels.map { index[$0]! }),
                                                   batchSize: 256, verbose: 0)["accuracy"] ?? 0
        return BenchResult(workload: "text_train", fields: [("train_seconds", total), ("fit_seconds", trained.fitSeconds),
                                                            ("epoch_ms", trained.fitSeconds * 100), ("test_accuracy", accuracy),
                                                            ("threads", Double(Parallel.threadCount))])
    }

    private static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
}
