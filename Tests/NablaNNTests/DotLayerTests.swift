import Foundation
import Nabla
import NablaNN
import Testing

@Suite("Dot: Keras's batch dot products")
struct DotLayerTests {
    func values(_ t: Tensor) -> [Double] { t.toArray(Double.self) }

    @Test("vectors: one dot product per sample; normalised, the cosine")
    func vectors() {
        let x = Tensor(shape: [2, 3], values: [1.0, 2, 3, 0, 1, 0]), y = Tensor(shape: [2, 3], values: [4.0, 5, 6, 0, 2, 0])
        let dot = Dot(axes: (1, 1))([x, y])
        #expect(dot.shape == [2, 1] && values(dot) == [32, 2])
        let cosine = values(Dot(axes: (-1, -1), normalize: true)([x, y]))
        #expect(Swift.abs(cosine[0] - 32 / (14.0.squareRoot() * 77.0.squareRoot())) < 1e-6 && Swift.abs(cosine[1] - 1) < 1e-6)
    }

    @Test("sequences: every pair of steps, for each choice of axes", arguments: [(2, 2), (1, 1), (2, 1), (1, 2)])
    func sequences(axes: (Int, Int)) {
        let g = RandomGenerator(seed: 4)
        // Shapes chosen so that the summed axes have equal sizes.
        let xs: [Int] = axes.0 == 2 ? [3, 4] : [4, 3], ys: [Int] = axes.1 == 2 ? [5, 4] : [4, 5]
        let x = Tensor.randomNormal([2] + xs, dtype: .float64, generator: g), y = Tensor.randomNormal([2] + ys, dtype: .float64, generator: g)
        let out = Dot(axes: axes)([x, y])
        #expect(out.shape == [2, 3, 5])
        let xv = values(x), yv = values(y), ov = values(out)
        var worst = 0.0
        for b in 0..<2 {
            for i in 0..<3 {
                for j in 0..<5 {
                    var sum = 0.0
                    for k in 0..<4 {
                        let xi = axes.0 == 2 ? b * 12 + i * 4 + k : b * 12 + k * 3 + i
                        let yi = axes.1 == 2 ? b * 20 + j * 4 + k : b * 20 + k * 5 + j
                        sum += xv[xi] * yv[yi]
                    }
                    worst = Swift.max(worst, Swift.abs(sum - ov[b * 15 + i * 5 + j]))
                }
            }
        }
        #expect(worst < 1e-12)
    }

    @Test("gradients match finite differences (float64), normalised included")
    func gradients() {
        let g = RandomGenerator(seed: 9)
        let x0 = Tensor.randomNormal([2, 3], dtype: .float64, generator: g), y0 = Tensor.randomNormal([2, 3], dtype: .float64, generator: g)
        let layer = Dot(axes: (1, 1), normalize: true)
        let x = x0.requiringGrad()
        (layer([x, y0]) * Tensor(shape: [2, 1], values: [1.5, -2.0])).sum().backward()
        let analytic = values(x.grad!)
        var base = values(x0)
        for i in 0..<6 {
            func f(_ d: Double) -> Double {
                var v = base
                v[i] += d
                return (layer([Tensor(shape: [2, 3], values: v), y0]) * Tensor(shape: [2, 1], values: [1.5, -2.0])).sum().item(Double.self)
            }
            #expect(Swift.abs((f(1e-6) - f(-1e-6)) / 2e-6 - analytic[i]) < 1e-6)
        }
        base = []
    }

    @Test("a two-tower model with Dot learns, and bad shapes are named")
    func twoTower() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 5))
        let user = Input(shape: [1], dtype: .int32, name: "user"), item = Input(shape: [1], dtype: .int32, name: "item")
        let u = Flatten()(Embedding(inputDim: 6, outputDim: 4)(user)), v = Flatten()(Embedding(inputDim: 8, outputDim: 4)(item))
        let model = Model(inputs: [user, item], outputs: [Dot(axes: (1, 1))([u, v])])
        try model.compile(optimizer: Adam(learningRate: 0.05), loss: "mse")
        let users = Tensor(shape: [48, 1], values: (0..<48).map { Int32($0 % 6) }), items = Tensor(shape: [48, 1], values: (0..<48).map { Int32($0 % 8) })
        let ratings = Tensor(shape: [48, 1], values: (0..<48).map { Float(($0 % 6) % 2 == ($0 % 8) % 2 ? 1 : -1) })
        let history = try model.fit([users, items], ratings, batchSize: 16, epochs: 60, verbose: 0)
        let losses = history.history["loss"]!
        #expect(losses.last! < 0.2 * losses.first!, "\(losses.first!) → \(losses.last!)")
        #expect(throws: NablaError.self) { try Dot(axes: (1, 1)).validate(inputShapes: [[3], [4]]) }
    }
}
