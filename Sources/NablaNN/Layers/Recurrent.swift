import Nabla

/// The cell of a recurrent layer: one step from the input and the previous states to new states.
public enum RecurrentCell: String, Sendable {
    /// h' = tanh(x·W + h·U + b).
    case simple
    /// Hochreiter & Schmidhuber's LSTM, gates in Keras's (and PyTorch's) order i, f, g, o.
    case lstm
    /// Cho et al.'s GRU with the reset gate applied after the recurrent product (Keras's
    /// `reset_after=True`, PyTorch's GRU), gates in PyTorch's order r, z, n.
    case gru

    var gates: Int { switch self { case .simple: 1; case .lstm: 4; case .gru: 3 } }
}

/// A recurrent layer over sequences [batch, steps, features] with Keras's arguments: `units`,
/// `returnSequences` (all steps [batch, steps, units] or the last [batch, units]), `returnState`
/// (also the final states, through ``callWithState(_:initialState:mask:)``) and `goBackwards`.
///
/// ```swift
/// let lstm = Recurrent(.lstm, units: 64, returnSequences: true)
/// lstm(Tensor.zeros([8, 20, 16])).shape   // [8, 20, 64]
/// ```
public final class Recurrent: Layer {
    public let cell: RecurrentCell
    public let units: Int
    public let returnSequences: Bool
    public let returnState: Bool
    public let goBackwards: Bool
    /// [features, gates·units], [units, gates·units], and the input and recurrent biases [gates·units].
    public private(set) var kernel: Parameter?
    public private(set) var recurrentKernel: Parameter?
    public private(set) var bias: Parameter?
    public private(set) var recurrentBias: Parameter?

    /// - Parameters:
    ///   - cell: `.simple`, `.lstm` or `.gru`.
    ///   - units: the size of the hidden state.
    ///   - returnSequences: return the output of every step [batch, steps, units], not only the last.
    ///   - returnState: also return the final states (through `callWithState`).
    ///   - goBackwards: read the sequence from the end.
    ///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
    public init(_ cell: RecurrentCell, units: Int, returnSequences: Bool = false, returnState: Bool = false,
                goBackwards: Bool = false, name: String? = nil) {
        nablaPrecondition(units > 0, "\(cell): units must be positive")
        self.cell = cell
        self.units = units
        self.returnSequences = returnSequences
        self.returnState = returnState
        self.goBackwards = goBackwards
        super.init(name: name ?? LayerNames.unique(cell == .simple ? "simple_rnn" : cell.rawValue))
    }

    public override var typeName: String {
        switch cell {
        case .simple: "SimpleRNN"
        case .lstm: "LSTM"
        case .gru: "GRU"
        }
    }

    public override func build(inputShapes: [[Int]]) {
        let f = inputShapes[0].last ?? 1, g = cell.gates * units
        kernel = Parameter(Initializer.glorotUniform.make([f, g]))
        recurrentKernel = Parameter(Initializer.glorotUniform.make([units, g]))
        // Keras starts the LSTM forget gate's bias at 1 (unit_forget_bias).
        var b = [Float](repeating: 0, count: g)
        if cell == .lstm { for i in units..<(2 * units) { b[i] = 1 } }
        bias = Parameter(Tensor(shape: [g], values: b))
        recurrentBias = Parameter(Tensor.zeros([g]))
    }

    public override func outputShape(for inputShapes: [[Int]]) -> [Int] {
        returnSequences ? [inputShapes[0][0], units] : [units]
    }

    public override func validate(inputShapes: [[Int]]) throws(NablaError) {
        guard inputShapes[0].count == 2 else { throw .shapeMismatch(layer: name, expected: "(None, steps, features)", actual: kerasShape([nil] + inputShapes[0])) }
        if let kernel, inputShapes[0][1] != kernel.shape[0] {
            throw .shapeMismatch(layer: name, expected: "(None, steps, \(kernel.shape[0]))", actual: kerasShape([nil] + inputShapes[0]))
        }
    }

    public override func forward(_ x: Tensor) -> Tensor { callWithState(x).output }

    /// Runs over the steps where `mask` [batch, steps] is true; at masked (padded) steps the state
    /// and the output carry over from the previous step, as in Keras.
    public override func forward(_ x: Tensor, mask: Tensor?) -> Tensor { callWithState(x, mask: mask).output }

    /// A sequence output keeps the mask; a final state ends it.
    public override func outputMask(input x: Tensor, output y: Tensor, mask: Tensor?) -> Tensor? { returnSequences ? mask : nil }

    /// The output and the final states (h, and c for an LSTM), optionally starting from `initialState`
    /// and skipping the steps where `mask` [batch, steps] is false.
    /// - Parameters:
    ///   - x: the sequence [batch, steps, features].
    ///   - initialState: the starting states (LSTM: [h, c]); zeros when nil.
    ///   - mask: [batch, steps], false at padding: padded steps keep the state and output zeros.
    public func callWithState(_ x: Tensor, initialState: [Tensor]? = nil, mask: Tensor? = nil) -> (output: Tensor, states: [Tensor]) {
        buildIfNeeded([Array(x.shape.dropFirst())])
        nablaPrecondition(x.rank == 3, "\(name): expected input shape (None, steps, features), got \(x.shape)")
        let (b, t) = (x.shape[0], x.shape[1])
        let u = units
        // The input projection for every step at once: [B, T, gates·u].
        let projected = linear(x, kernel!.value, bias!.value)
        var h = initialState?.first ?? Tensor.zeros([b, u], dtype: x.dtype)
        var c = initialState.flatMap { $0.count > 1 ? $0[1] : nil } ?? Tensor.zeros([b, u], dtype: x.dtype)
        var outputs: [Tensor] = []
        if let mask {
            nablaPrecondition(mask.shape == [b, t], "\(name): mask \(mask.shape) does not match the input's [batch, steps] = [\(b), \(t)]")
        }
        let keep = mask.map { ($0.dtype == .bool ? $0 : $0 .!= 0).unsqueezed(axis: 2) }   // [B, T, 1]
        let steps = goBackwards ? Array((0..<t).reversed()) : Array(0..<t)
        for step in steps {
            let (hPrevious, cPrevious) = (h, c)
            let xp = projected[.all, step]                                                  // [B, gates·u]
            let hp = linear(h, recurrentKernel!.value, recurrentBias!.value)               // [B, gates·u]
            switch cell {
            case .simple:
                h = tanh(xp + hp)
            case .lstm:
                let z = (xp + hp).split(parts: 4, axis: 1)
                let i = sigmoid(z[0]), f = sigmoid(z[1]), g = tanh(z[2]), o = sigmoid(z[3])
                c = f * c + i * g
                h = o * tanh(c)
            case .gru:
                let xs = xp.split(parts: 3, axis: 1), hs = hp.split(parts: 3, axis: 1)
                let r = sigmoid(xs[0] + hs[0]), z = sigmoid(xs[1] + hs[1])
                let n = tanh(xs[2] + r * hs[2])
                h = (1 - z) * n + z * h
            }
            if let keep {
                let k = keep[.all, step]                                                     // [B, 1]
                h = select(k, h, hPrevious)
                if cell == .lstm { c = select(k, c, cPrevious) }
            }
            if returnSequences { outputs.append(h) }
        }
        let output = returnSequences ? stack(outputs, axis: 1) : h
        return (output, cell == .lstm ? [h, c] : [h])
    }

    public override var config: [String: JSONValue] {
        ["units": JSONValue(units), "return_sequences": JSONValue(returnSequences), "return_state": JSONValue(returnState), "go_backwards": JSONValue(goBackwards)]
    }
}

/// Keras's SimpleRNN.
/// - Parameters:
///   - units: the size of the hidden state.
///   - returnSequences: return every step's output.
///   - returnState: also return the final state.
///   - goBackwards: read the sequence from the end.
///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
public func SimpleRNN(units: Int, returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false, name: String? = nil) -> Recurrent {
    Recurrent(.simple, units: units, returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards, name: name)
}
/// Keras's LSTM.
/// - Parameters:
///   - units: the size of the hidden and cell states.
///   - returnSequences: return every step's output.
///   - returnState: also return the final states.
///   - goBackwards: read the sequence from the end.
///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
public func LSTM(units: Int, returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false, name: String? = nil) -> Recurrent {
    Recurrent(.lstm, units: units, returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards, name: name)
}
/// Keras's GRU (reset_after=True).
/// - Parameters:
///   - units: the size of the hidden state.
///   - returnSequences: return every step's output.
///   - returnState: also return the final state.
///   - goBackwards: read the sequence from the end.
///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
public func GRU(units: Int, returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false, name: String? = nil) -> Recurrent {
    Recurrent(.gru, units: units, returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards, name: name)
}

/// Runs a recurrent layer forwards and a copy backwards and concatenates their outputs (Keras's
/// `Bidirectional` with merge mode "concat"); with `returnSequences`, the backward outputs are
/// put back in forward time order.
public final class Bidirectional: Layer {
    public let forwardLayer: Recurrent
    public let backwardLayer: Recurrent

    /// - Parameters:
    ///   - layer: the forward layer; a copy reading backwards is made beside it, and the two outputs are concatenated.
    ///   - name: the layer's name (unique in the process by default, as Keras's `dense`, `dense_1`).
    public init(_ layer: Recurrent, name: String? = nil) {
        forwardLayer = layer
        backwardLayer = Recurrent(layer.cell, units: layer.units, returnSequences: layer.returnSequences, goBackwards: !layer.goBackwards)
        super.init(name: name)
    }

    /// Builds both directions, so that a rebuilt model has every weight before they are loaded.
    public override func build(inputShapes: [[Int]]) {
        forwardLayer.buildIfNeeded(inputShapes)
        backwardLayer.buildIfNeeded(inputShapes)
    }

    public override func outputShape(for inputShapes: [[Int]]) -> [Int] {
        var s = forwardLayer.outputShape(for: inputShapes)
        s[s.count - 1] *= 2
        return s
    }

    public override func forward(_ x: Tensor) -> Tensor { run(x, mask: nil) }

    /// Both directions skipping the steps where `mask` [batch, steps] is false.
    public override func forward(_ x: Tensor, mask: Tensor?) -> Tensor { run(x, mask: mask) }

    public override func outputMask(input x: Tensor, output y: Tensor, mask: Tensor?) -> Tensor? {
        forwardLayer.returnSequences ? mask : nil
    }

    private func run(_ x: Tensor, mask: Tensor?) -> Tensor {
        let f = forwardLayer.callWithState(x, mask: mask).output
        var b = backwardLayer.callWithState(x, mask: mask).output
        if backwardLayer.returnSequences {
            let t = b.shape[1]
            b = b.indexSelect(Tensor(values: (0..<t).reversed().map { Int32($0) }), axis: 1)
        }
        return concatenate([f, b], axis: -1)
    }

    public override var config: [String: JSONValue] { ["layer": JSONValue(layer: forwardLayer)] }
}

extension Recurrent: ConfigurableLayer {
    public static var classNames: [String] { ["SimpleRNN", "LSTM", "GRU"] }

    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let cell: RecurrentCell = switch c.className { case "LSTM": .lstm; case "GRU": .gru; default: .simple }
        return Recurrent(cell, units: try c.positive("units"), returnSequences: try c.bool("return_sequences"), returnState: try c.bool("return_state"),
                         goBackwards: try c.bool("go_backwards"), name: c.name)
    }
}

extension Bidirectional: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        guard let layer = try c.layer("layer") as? Recurrent else { throw .invalidArgument("Bidirectional \(c.name): wraps a layer that is not recurrent") }
        return Bidirectional(layer, name: c.name)
    }
}
