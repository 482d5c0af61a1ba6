import Nabla
import Testing

@Suite("Autograd graph")
struct AutogradTests {
    @Test("a tensor used twice gets the sum of both paths")
    func reuse() {
        let x = Tensor([1, 2, 3], dtype: .float64).requiringGrad()
        let y = (x * x + x * 3).sum()
        y.backward()
        #expect(x.grad!.toArray(Double.self) == [5, 7, 9])
    }

    @Test("gradients of broadcast operands are summed back to their shapes")
    func broadcasting() {
        let a = Tensor.ones([2, 3], dtype: .float64).requiringGrad()
        let b = Tensor([10, 20, 30], dtype: .float64).requiringGrad()
        let c = Tensor(2, dtype: .float64).requiringGrad()
        ((a * b) + c).sum().backward()
        #expect(a.grad!.toArray(Double.self) == [10, 20, 30, 10, 20, 30])
        #expect(b.grad!.shape == [3])
        #expect(b.grad!.toArray(Double.self) == [2, 2, 2])
        #expect(c.grad!.shape == [])
        #expect(c.grad!.item(Double.self) == 6)
    }

    @Test("gradients accumulate over two backward calls until cleared")
    func accumulation() {
        let w = Tensor([1, -2], dtype: .float64).requiringGrad()
        (w * 3).sum().backward()
        (w * w).sum().backward()
        #expect(w.grad!.toArray(Double.self) == [3 + 2, 3 - 4])
        w.zeroGrad()
        #expect(w.grad == nil)
    }

    @Test("no-gradient scope records nothing")
    func noGrad() {
        let w = Tensor([1, 2]).requiringGrad()
        let y = withNoGrad { (w * 2).sum() }
        #expect(!y.requiresGrad)
        #expect(!isGradEnabledInside())
        #expect(isGradEnabled)
        let z = withNoGrad { withGradEnabled { (w * 2).sum() } }
        #expect(z.requiresGrad)
    }

    private func isGradEnabledInside() -> Bool { withNoGrad { isGradEnabled } }

    @Test("detach cuts the graph")
    func detach() {
        let x = Tensor([2, 3], dtype: .float64).requiringGrad()
        let y = (x * x.detached()).sum()   // d/dx = x.detached(), the detached path adds nothing
        y.backward()
        #expect(x.grad!.toArray(Double.self) == [2, 3])
        #expect(!x.detached().requiresGrad)
    }

    @Test("the graph is released after backward")
    func release() {
        weak var node: AnyObject?
        do {
            let x = Tensor([1, 2]).requiringGrad()
            let y = exp(x).sum()
            node = y.internalNodeForTesting
            #expect(node != nil)
            y.backward()
        }
        #expect(node == nil)
    }

    @Test("functional value and gradient")
    func functional() {
        let (value, grads) = valueAndGradient(at: [Tensor([3], dtype: .float64), Tensor([4], dtype: .float64)]) { xs in
            (xs[0] * xs[0] * xs[1]).sum()
        }
        #expect(value.item(Double.self) == 36)
        #expect(grads[0].toArray(Double.self) == [24])
        #expect(grads[1].toArray(Double.self) == [9])
        let unused = valueAndGradient(at: [Tensor([1]), Tensor([2, 3])]) { xs in xs[0].sum() }
        #expect(unused.gradients[1].toArray(Float.self) == [0, 0])
        #expect(gradient(at: Tensor([1, 2])) { ($0 * $0).sum() }.toArray(Float.self) == [2, 4])
    }

    @Test("backward with an explicit gradient for a non-scalar output")
    func explicitSeed() {
        let x = Tensor([1, 2], dtype: .float64).requiringGrad()
        (x * 5).backward(Tensor([1, 10], dtype: .float64))
        #expect(x.grad!.toArray(Double.self) == [5, 50])
    }

    @Test("casting between float types passes gradients back")
    func castGradient() {
        let x = Tensor([1.5, 2.5]).requiringGrad()
        let y = (x.cast(to: .float64) * 2).sum()
        y.backward()
        #expect(x.grad!.dtype == .float32)
        #expect(x.grad!.toArray(Float.self) == [2, 2])
    }
}
