// The founding document's mathematics, done right: forward and backward propagation for the
// worked example 2 → 3 → 1 with linear activations and loss (o − y)², every derivative computed by
// Nabla's autograd. Then the article's own shape mistake, reported as a clear error.
import Nabla

/// o = f(x·W + b). Throws the same shape error `matmul` would stop on, so a caller can show it.
func forwardPropagation(_ x: Tensor, _ w: Tensor, _ b: Tensor, _ f: (Tensor) -> Tensor) throws -> Tensor {
    _ = try Shape.matmul(x.shape, w.shape)
    return f(matmul(x, w) + b)
}

/// The loss (o − y)² of the two-layer network and the gradients of every parameter.
func backwardPropagation(_ x: Tensor, _ y: Tensor, _ w1: Tensor, _ b1: Tensor, _ w2: Tensor, _ b2: Tensor,
                         _ f: (Tensor) -> Tensor) throws -> (hidden: Tensor, output: Tensor, loss: Tensor, grads: [String: Tensor]) {
    let params = [w1, b1, w2, b2].map { $0.requiringGrad() }
    let hidden = try forwardPropagation(x, params[0], params[1], f)
    let output = try forwardPropagation(hidden, params[2], params[3], f)
    let loss = square(output - y).sum()
    // ∂L/∂o, read off the graph by treating o as an input of the loss.
    let dLdo = gradient(at: output) { o in square(o - y).sum() }
    loss.backward()
    return (hidden, output, loss, ["o": dLdo, "W1": params[0].grad!, "b1": params[1].grad!, "W2": params[2].grad!, "b2": params[3].grad!])
}

let linear: (Tensor) -> Tensor = { $0 }
let x = Tensor([1, 2])
// The article writes W1 as 3×2 (one row per hidden neuron); with x as a row vector the layer is x·W1ᵀ.
let w1 = Tensor([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]).T
let b1 = Tensor([0.1, 0.2, 0.3])
let w2 = Tensor([[0.7], [0.7], [0.7]])
let b2 = Tensor([0.4])
let y = Tensor([0])

do {
    let r = try backwardPropagation(x, y, w1, b1, w2, b2, linear)
    // Float32 arithmetic leaves round-off in the 7th digit; print four decimals, as the article does.
    func show(_ t: Tensor) -> String { t.formatted(precision: 4) }
    print("hidden h = W1·x + b1 =", show(r.hidden))
    print("output o =", show(r.output))
    print("loss L = (o - y)^2 =", show(r.loss))
    print("dL/do = 2(o - y) =", show(r.grads["o"]!))
    print("dL/dW2 = dL/do · h =", show(r.grads["W2"]!.reshaped([3])))
    print("dL/db2 =", show(r.grads["b2"]!))
    print("dL/dW1 (one row per hidden neuron) =")
    print(show(r.grads["W1"]!.T))
    print("dL/db1 =", show(r.grads["b1"]!))
} catch {
    print("error:", error)
}

// The article multiplies an input of shape [3] by a weight matrix of shape [2, 2].
print("\nThe article's test: an input of shape [3] times a [2, 2] weight matrix")
do {
    _ = try forwardPropagation(Tensor([1, 2, 3]), Tensor([[1, 2], [3, 4]]), Tensor([0, 0]), linear)
} catch {
    print("error:", error)
}
