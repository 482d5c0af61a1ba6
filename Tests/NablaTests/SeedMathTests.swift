import Nabla
import Testing

/// The worked example of SEED.md §4 (2 → 3 → 1, linear, loss (o − y)²), computed by autograd.
@Suite("Seed worked example")
struct SeedMathTests {
    @Test("forward values and every gradient match the corrected article", arguments: [DType.float32, .float64])
    func workedExample(_ dtype: DType) {
        let x = Tensor([1, 2], dtype: dtype)
        let w1 = Tensor([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], dtype: dtype).requiringGrad()
        let b1 = Tensor([0.1, 0.2, 0.3], dtype: dtype).requiringGrad()
        let w2 = Tensor([0.7, 0.7, 0.7], dtype: dtype).requiringGrad()
        let b2 = Tensor(0.4, dtype: dtype).requiringGrad()
        let h = matmul(w1, x) + b1
        let o = matmul(w2, h) + b2
        let loss = square(o - 0.0)
        loss.backward()
        let tol = dtype == .float32 ? 1e-5 : 1e-12
        func close(_ t: Tensor, _ expected: [Double]) -> Bool {
            zip(t.toArray(Double.self), expected).allSatisfy { Swift.abs($0 - $1) <= tol * Swift.max(1, Swift.abs($1)) }
                && t.count == expected.count
        }
        #expect(close(h, [0.6, 1.3, 2.0]))
        #expect(close(o, [3.13]))
        #expect(close(loss, [9.7969]))
        #expect(close(gradient(at: o) { square($0).sum() }, [6.26]))
        #expect(close(w2.grad!, [3.756, 8.138, 12.52]))
        #expect(close(b2.grad!, [6.26]))
        #expect(close(w1.grad!, [4.382, 8.764, 4.382, 8.764, 4.382, 8.764]))
        #expect(close(b1.grad!, [4.382, 4.382, 4.382]))
    }

    @Test("the article's shape mistake names both shapes")
    func shapeMistake() {
        #expect(throws: ShapeError(op: "matmul", message: "[3] and [2, 2] do not fit: inner dimensions 3 and 2 differ")) {
            try Shape.matmul([3], [2, 2])
        }
    }
}
