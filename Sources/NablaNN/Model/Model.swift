import Nabla

/// A Keras-style model: a graph of layers (functional, from `Input`), a stack of layers
/// (``Sequential``), or your own subclass that overrides `forward`. It trains with `compile` and
/// `fit`, and `evaluate`s, `predict`s and prints a `summary()`.
///
/// ```swift
/// let inputs = Input(shape: [2])
/// let hidden = Dense(units: 3, activation: .linear)(inputs)
/// let outputs = Dense(units: 1, activation: .linear)(hidden)
/// let model = Model(inputs: inputs, outputs: outputs)
/// try model.compile(optimizer: "adam", loss: "mse")
/// try model.fit(xTrain, yTrain, epochs: 100)
/// ```
open class Model: Layer {
    /// The layers in execution order (inputs first for functional models).
    public internal(set) var layers: [Layer] = []
    let graphInputs: [SymbolicTensor]
    let graphOutputs: [SymbolicTensor]
    /// The execution plan of a functional model: symbolic tensors in topological order.
    let plan: [SymbolicTensor]

    // Set by `compile`.
    public internal(set) var optimizer: Optimizer?
    public internal(set) var loss: (any Loss)?
    public internal(set) var metrics: [Metric] = []
    var metricNames: [String] = []
    /// Set by a callback (EarlyStopping, TerminateOnNaN) to end `fit` after the current batch or epoch.
    public var stopTraining = false
    /// What a model needs besides its layers to be used, saved in `config.json` with it: the
    /// vocabulary that maps text to ids, the class labels, how inputs were prepared. `nabla lm` and
    /// `nabla text` keep their vocabularies here, so `Model.load` gives back a model ready to use.
    ///
    /// ```swift
    /// model.metadata["labels"] = ["ham", "spam"]
    /// try model.save(to: url)                       // Model.load(from: url).metadata["labels"]
    /// ```
    public var metadata: [String: JSONValue] = [:]

    /// A functional model from symbolic inputs to outputs (any DAG, several inputs and outputs).
    /// - Parameters:
    ///   - inputs: the `Input` tensors the graph starts from.
    ///   - outputs: the symbolic tensors it computes.
    ///   - name: the model's name.
    public init(inputs: [SymbolicTensor], outputs: [SymbolicTensor], name: String? = nil) {
        graphInputs = inputs
        graphOutputs = outputs
        plan = Model.topologicalOrder(outputs)
        super.init(name: name ?? LayerNames.unique("functional"))
        var seen = Set<ObjectIdentifier>()
        for t in plan where !seen.contains(ObjectIdentifier(t.layer)) {
            seen.insert(ObjectIdentifier(t.layer))
            layers.append(t.layer)
        }
        structureDidChange()
        for i in inputs {
            nablaPrecondition(i.layer is InputLayer, "Model: every input must come from Input(shape:)")
        }
        buildIfNeeded(inputs.map(\.sampleShape))
    }

    /// A functional model with one input and one output.
    public convenience init(inputs: SymbolicTensor, outputs: SymbolicTensor, name: String? = nil) {
        self.init(inputs: [inputs], outputs: [outputs], name: name)
    }

    /// A model defined by subclassing: override `forward(_:)`.
    public override init(name: String? = nil) {
        graphInputs = []
        graphOutputs = []
        plan = []
        super.init(name: name)
    }

    open override var typeName: String { "Functional" }

    /// Whether the model is a graph of symbolic tensors.
    public var isFunctional: Bool { !graphOutputs.isEmpty }

    /// Per-sample input shapes the model expects, where known.
    open var expectedInputShapes: [[Int]]? {
        isFunctional ? graphInputs.map(\.sampleShape) : builtInputShapes
    }

    public override func outputShape(for inputShapes: [[Int]]) -> [Int] {
        isFunctional ? graphOutputs[0].sampleShape : inputShapes[0]
    }

    /// Runs the model on one input per model input, returning one tensor per output.
    open func forwardAll(_ inputs: [Tensor]) -> [Tensor] {
        guard isFunctional else { return [forward(inputs)] }
        nablaPrecondition(inputs.count == graphInputs.count, "\(name): expects \(graphInputs.count) inputs, got \(inputs.count)")
        var values: [ObjectIdentifier: Tensor] = [:], masks: [ObjectIdentifier: Tensor] = [:]
        for (s, x) in zip(graphInputs, inputs) { values[ObjectIdentifier(s)] = x }
        for s in plan where values[ObjectIdentifier(s)] == nil {
            let args = s.inputs.map { values[ObjectIdentifier($0)]! }
            if args.count == 1 {
                let mask = masks[ObjectIdentifier(s.inputs[0])]
                let y = s.layer.forward(args[0], mask: mask)
                values[ObjectIdentifier(s)] = y
                masks[ObjectIdentifier(s)] = s.layer.outputMask(input: args[0], output: y, mask: mask)
            } else {
                let y = s.layer.forward(args)
                values[ObjectIdentifier(s)] = y
                masks[ObjectIdentifier(s)] = s.layer.outputMask(inputs: args, output: y, masks: s.inputs.map { masks[ObjectIdentifier($0)] })
            }
        }
        return graphOutputs.map { values[ObjectIdentifier($0)]! }
    }

    open override func forward(_ x: Tensor) -> Tensor { forwardAll([x])[0] }

    open override func forward(_ inputs: [Tensor]) -> Tensor {
        if isFunctional { return forwardAll(inputs)[0] }
        nablaPrecondition(inputs.count == 1, "\(name): expects 1 input, got \(inputs.count)")
        return forward(inputs[0])
    }

    static func topologicalOrder(_ outputs: [SymbolicTensor]) -> [SymbolicTensor] {
        var order: [SymbolicTensor] = []
        var visited = Set<ObjectIdentifier>()
        func visit(_ t: SymbolicTensor) {
            guard !visited.contains(ObjectIdentifier(t)) else { return }
            visited.insert(ObjectIdentifier(t))
            for i in t.inputs { visit(i) }
            order.append(t)
        }
        for o in outputs { visit(o) }
        return order
    }
}

/// A linear stack of layers.
///
/// ```swift
/// let model = Sequential([
///     Dense(units: 64, activation: .relu, inputDim: 20),
///     Dropout(rate: 0.5),
///     Dense(units: 2, activation: .softmax),
/// ])
/// ```
open class Sequential: Model {
    /// A stack of `layers`; the first may carry its input size (`inputDim:`), or the model builds
    /// on the first data it sees.
    /// - Parameters:
    ///   - layers: applied in order.
    ///   - inputShape: the per-sample input shape, to build every layer at once (otherwise on the first batch).
    ///   - name: the model's name.
    public init(_ layers: [Layer] = [], inputShape: [Int]? = nil, name: String? = nil) {
        super.init(name: name ?? LayerNames.unique("sequential"))
        self.layers = layers
        structureDidChange()
        // Built at once when the input size is known: given here, or by the first layer (`inputDim:`).
        if let shape = inputShape ?? layers.first?.builtInputShapes?.first { buildIfNeeded([shape]) }
    }

    open override var typeName: String { "Sequential" }

    /// Appends a layer.
    public func add(_ layer: Layer) {
        layers.append(layer)
        structureDidChange()
    }

    public override func build(inputShapes: [[Int]]) {
        var shape = inputShapes[0]
        for layer in layers {
            layer.buildIfNeeded([shape])
            shape = layer.outputShape(for: [shape])
        }
    }

    public override func outputShape(for inputShapes: [[Int]]) -> [Int] {
        layers.reduce(inputShapes[0]) { $1.outputShape(for: [$0]) }
    }

    open override var expectedInputShapes: [[Int]]? { builtInputShapes }

    public override func validate(inputShapes: [[Int]]) throws(NablaError) {
        var shape = inputShapes[0]
        for layer in layers {
            try layer.validate(inputShapes: [shape])
            shape = layer.outputShape(for: [shape])
        }
    }

    /// Runs the layers in turn, carrying a mask from `Embedding(maskZero:)` to the layers that use it.
    public override func forward(_ x: Tensor) -> Tensor {
        var (value, mask): (Tensor, Tensor?) = (x, nil)
        for layer in layers {
            let y = layer(value, mask: mask)
            mask = layer.outputMask(input: value, output: y, mask: mask)
            value = y
        }
        return value
    }

    public override func forwardAll(_ inputs: [Tensor]) -> [Tensor] { [forward(inputs[0])] }
}
