import Foundation
import Nabla
import NablaNN
import Testing

/// Optimizers on row-sparse gradients against the dense path.
@Suite("Sparse optimizer updates")
struct SparseOptimizerTests {
    /// Trains two copies of an EmbeddingBag + Dense model for `steps`, one with sparse gradients and
    /// one dense, and returns both tables.
    func train(_ make: () -> Optimizer, steps: Int) -> (sparse: Tensor, dense: Tensor) {
        var tables: [Tensor] = []
        let start = (EmbeddingBag(inputDim: 50, outputDim: 8), Dense(units: 3, inputDim: 8))
        for sparse in [true, false] {
            // Both copies start from the same weights.
            let bag = EmbeddingBag(inputDim: 50, outputDim: 8, sparse: sparse)
            let head = Dense(units: 3, inputDim: 8)
            try! bag.loadStateDict(start.0.stateDict().mapValues { $0.copy() })
            try! head.loadStateDict(start.1.stateDict().mapValues { $0.copy() })
            let optimizer = make()
            let rng = RandomGenerator(seed: 12)
            for _ in 0..<steps {
                // Each batch uses a few of the 50 rows; the rest get no gradient.
                let ids = Tensor(shape: [4, 6], values: (0..<24).map { _ in Int32(rng.nextInt(below: 12)) })
                let labels = Tensor(values: (0..<4).map { _ in Int32(rng.nextInt(below: 3)) })
                crossEntropy(logits: head(bag(ids)), labels: labels).backward()
                #expect(bag.embeddings!.value.isGradSparseOnly == sparse)
                optimizer.apply(to: [bag.embeddings!, head.kernel!, head.bias!])
            }
            tables.append(bag.embeddings!.value.copy())
        }
        return (tables[0], tables[1])
    }

    func maxDifference(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.toArray(Double.self), b.toArray(Double.self)).map { Swift.abs($0 - $1) }.max()!
    }

    @Test("SGD and Adagrad: the sparse step gives the dense result")
    func sameAsDense() {
        for make in [{ SGD(learningRate: 0.5) as Optimizer }, { Adagrad(learningRate: 0.1) as Optimizer }, { SGD(learningRate: 0.5, weightDecay: 0) as Optimizer }] {
            let (s, d) = train(make, steps: 20)
            #expect(maxDifference(s, d) < 1e-6, "\(make().name)")
            #expect(maxDifference(s, Tensor.zeros(like: s)) > 0.01)
        }
    }

    @Test("lazy Adam: the first step is dense Adam's; rows a batch skips keep their values")
    func lazyAdam() {
        let (s1, d1) = train({ Adam(learningRate: 0.01) }, steps: 1)
        #expect(maxDifference(s1, d1) < 1e-7)
        let (s, d) = train({ Adam(learningRate: 0.01) }, steps: 20)
        // Dense Adam keeps moving rows through their momentum after their last use; lazy Adam does not,
        // so the two differ, and rows 12..<50, never used, stay at their initial values in both.
        #expect(maxDifference(s, d) > 1e-4)
        #expect(maxDifference(s[12...], d[12...]) == 0)
    }
}
