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

    @Option(help: "Threads to use (default: all cores; under --distributed, cores / ranks on the machine).")
    var threads: Int?

    @Flag(help: "Run mlp_small, mlp_medium and cnn_train data-parallel across an mpirun job (same global batch; rank 0 prints).")
    var distributed = false

    func run() throws {
        let cluster = distributed ? try DistributedRun.start() : nil
        defer { cluster?.end() }
        if let threads { Parallel.threadCount = threads }
        let chosen = workloads.isEmpty ? (cluster == nil ? Workload.allCases : Workload.distributable) : workloads
        if cluster != nil, let other = chosen.first(where: { !Workload.distributable.contains($0) }) {
            throw ValidationError("--distributed runs \(Workload.distributable.map(\.rawValue).joined(separator: ", ")), not \(other.rawValue)")
        }
        for w in chosen {
            for line in w.run(parallel: cluster?.parallel) where cluster?.isPrimary ?? true { print(line.json) }
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

    /// The workloads `nabla bench --distributed` runs across ranks.
    static let distributable: [Workload] = [.mlpSmall, .mlpMedium, .cnnTrain]

    func run(parallel: DataParallel? = nil) -> [BenchResult] {
        switch self {
        case .gemm: GemmBenchmark.run()
        case .opOverhead: [OpOverheadBenchmark.run()]
        case .mlpSmall: MLPBenchmark.run(name: "mlp_small", hidden: [128], batch: 32, parallel: parallel)
        case .mlpMedium: MLPBenchmark.run(name: "mlp_medium", hidden: [512, 512], batch: 128, parallel: parallel)
        case .seedKeras: [SeedKerasBenchmark.run()]
        case .cnnTrain: [CNNBenchmark.run(parallel: parallel)]
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
/// One classification training step of a benchmark on the global batch, rows `j ..< j + batch`: all of
/// them in one process, or this rank's share under `--distributed`, with the gradients averaged over
/// the ranks (DataParallel's bucketed all-reduce) before the optimizer step.
func benchmarkStep(_ xs: Tensor, _ ys: Tensor, rows j: Int, batch: Int, parameters: [Parameter], optimizer: Optimizer,
                   parallel: DataParallel?, logits: (Tensor) -> Tensor) {
    guard let parallel else {
        crossEntropy(logits: logits(xs[j..<(j + batch)]), labels: ys[j..<(j + batch)]).backward()
        optimizer.apply(to: parameters)
        return
    }
    let mine = parallel.shard(Array(j..<(j + batch))[...])
    let (lo, hi) = (mine.first ?? j, (mine.last ?? j - 1) + 1)
    let loss = hi > lo ? crossEntropy(logits: logits(xs[lo..<hi]), labels: ys[lo..<hi]) : nil
    parallel.backward(loss, parameters: parameters, localCount: hi - lo, globalCount: batch)
    optimizer.apply(to: parameters)
}

/// Seconds `body` takes; under `--distributed`, from a barrier to a barrier, so that the figure is the
/// slowest rank's.
func measure(_ parallel: DataParallel?, _ body: () -> Void) -> Double {
    parallel?.communicator.barrier()
    return measure {
        body()
        parallel?.communicator.barrier()
    }
}

func measure(_ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    let d = clock.measure(body)
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
