import Foundation
import Nabla
import Testing

/// CTC against torch.nn.functional.ctc_loss (Tests/Fixtures/audio/ctc.npz, float64), and its decoders.
@Suite("CTC loss and decoding")
struct CTCTests {
    static let fixture: [String: Tensor] = {
        do { return try NumPyArchive.read(from: AudioTests.directory.appendingPathComponent("ctc.npz")) } catch { fatalError("\(error)") }
    }()

    func difference(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.toArray(Double.self), b.toArray(Double.self)).map { Swift.abs($0 - $1) }.max() ?? 0
    }

    @Test("value and gradient equal PyTorch's for every reduction, with an impossible alignment zeroed", arguments: ["none", "sum", "mean"])
    func againstPyTorch(reduction: String) {
        let f = Self.fixture
        let logits = f["logits"]!.requiringGrad()
        let inputs = f["input_lengths"]!.toArray(Double.self).map { Int($0) }, lengths = f["target_lengths"]!.toArray(Double.self).map { Int($0) }
        let loss = ctcLoss(logProbs: logSoftmax(logits, axis: -1), targets: f["targets"]!, inputLengths: inputs, targetLengths: lengths,
                           reduction: LossReduction(rawValue: reduction)!, zeroInfinity: true)
        #expect(difference(loss, f["loss_\(reduction)"]!) < 1e-10, "\(loss) vs \(f["loss_\(reduction)"]!)")
        (reduction == "none" ? loss.sum() : loss).backward()
        #expect(difference(logits.grad!, f["grad_\(reduction)"]!) < 1e-10)
    }

    @Test("an impossible alignment is infinite without zeroInfinity; float32 gives the float64 value")
    func infinityAndFloat32() {
        let f = Self.fixture
        let lp = logSoftmax(f["logits"]!, axis: -1)
        let none = ctcLoss(logProbs: lp, targets: f["targets"]!, inputLengths: [12, 9, 3], targetLengths: [4, 2, 3], reduction: .none)
        #expect(none.toArray(Double.self)[2] == .infinity && none.toArray(Double.self)[0].isFinite)
        let single = ctcLoss(logProbs: lp.cast(to: .float32), targets: f["targets"]!, inputLengths: [12, 9, 3], targetLengths: [4, 2, 3],
                             zeroInfinity: true)
        #expect(Swift.abs(single.item(Double.self) - f["loss_mean"]!.item(Double.self)) < 1e-5)
    }

    @Test("greedy decoding merges repeats and drops blanks; beam search finds the likelier sequence greedy misses")
    func decoding() {
        // Frames' best classes: 1 1 0 1 2 2 0 → [1, 1, 2].
        let best = [1, 1, 0, 1, 2, 2, 0]
        let scores = Tensor(shape: [7, 3], values: best.flatMap { b in (0..<3).map { $0 == b ? 2.0 : 0.0 } })
        #expect(CTCDecoder.greedy(scores) == [1, 1, 2])
        #expect(CTCDecoder.beamSearch(logSoftmax(scores * 5, axis: -1)) == [1, 1, 2])
        // Two frames, P(blank) = 0.4 each, P(a) = 0.35, P(b) = 0.25: greedy says "" (0.16), but "a" has
        // 0.35·0.4 + 0.4·0.35 + 0.35·0.35 = 0.4025.
        let p = Tensor(shape: [2, 3], values: [0.4, 0.35, 0.25, 0.4, 0.35, 0.25]).cast(to: .float64)
        #expect(CTCDecoder.greedy(log(p)) == [])
        #expect(CTCDecoder.beamSearch(log(p), beamWidth: 4) == [1])
    }
}
