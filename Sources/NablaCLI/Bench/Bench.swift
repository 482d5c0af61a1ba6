import ArgumentParser
import Nabla
import NablaNN

/// `nabla bench WORKLOAD...`: the reference workloads of WORKLOADS.md, one JSON line per figure.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run reference workloads and print one JSON line per figure.",
        discussion: "Workloads: \(Workload.allCases.map(\.rawValue).joined(separator: ", ")). Build with -c release for meaningful figures."
    )

    @Argument(help: "Workloads to run (default: all).")
    var workloads: [Workload] = []

    @Option(help: "Threads to use (default: all cores).")
    var threads: Int?

    func run() throws {
        if let threads { Parallel.threadCount = threads }
        for w in workloads.isEmpty ? Workload.allCases : workloads {
            for line in w.run() { print(line.json) }
        }
    }
}

enum Workload: String, CaseIterable, ExpressibleByArgument {
    case gemm
    case opOverhead = "op_overhead"
    case mlpSmall = "mlp_small"
    case mlpMedium = "mlp_medium"
    case seedKeras = "seed_keras"
    case cnnTrain = "cnn_train"
    case gptTrain = "gpt_train"
    case textTrain = "text_train"
    case audioFeatures = "audio_features"
    case recommend

    func run() -> [BenchResult] {
        switch self {
        case .gemm: GemmBenchmark.run()
        case .opOverhead: [OpOverheadBenchmark.run()]
        case .mlpSmall: MLPBenchmark.run(name: "mlp_small", hidden: [128], batch: 32)
        case .mlpMedium: MLPBenchmark.run(name: "mlp_medium", hidden: [512, 512], batch: 128)
        case .seedKeras: [SeedKerasBenchmark.run()]
        case .cnnTrain: [CNNBenchmark.run()]
        case .gptTrain: [GPTBenchmark.run()]
        case .textTrain: [TextBenchmark.run()]
        case .audioFeatures: [AudioBenchmark.run()]
        case .recommend: [RecommendBenchmark.run()]
        }
    }
}

/// One JSON line: `{"workload": NAME, key: value, ...}` with keys in the given order.
struct BenchResult {
    let workload: String
    let fields: [(String, Double)]

    var json: String {
        let body = fields.map { key, value in
            let v = value == value.rounded() && Swift.abs(value) < 1e15 ? String(Int(value)) : String(format3(value))
            return "\"\(key)\": \(v)"
        }
        return "{\"workload\": \"\(workload)\"" + (body.isEmpty ? "" : ", " + body.joined(separator: ", ")) + "}"
    }

    private func format3(_ v: Double) -> String {
        let scaled = (v * 1000).rounded() / 1000
        return "\(scaled)"
    }
}

/// Seconds taken by `body`, by the monotonic clock.
func measure(_ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    let d = clock.measure(body)
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
