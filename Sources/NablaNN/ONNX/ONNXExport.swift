import Foundation
import Nabla

/// Builds an ONNX graph: named values, weights as initializers, and nodes.
final class ONNXGraphBuilder {
    var graph = ONNXGraph()
    let opset: Int
    private var counter = 0

    init(opset: Int) { self.opset = opset }

    func fresh(_ base: String) -> String {
        counter += 1
        return "\(base)_\(counter)"
    }

    /// Adds `tensor` as an initializer and returns its name.
    func constant(_ base: String, _ tensor: Tensor) -> String {
        let name = fresh(base)
        graph.initializers.append(ONNXTensor(name: name, tensor))
        return name
    }

    func constantInts(_ base: String, _ values: [Int]) -> String {
        let name = fresh(base)
        graph.initializers.append(ONNXTensor(name: name, int64s: values))
        return name
    }

    /// Adds a node and returns its (first) output's name.
    @discardableResult
    func node(_ op: String, _ inputs: [String], _ attributes: [String: ONNXAttributeValue] = [:], outputs: Int = 1) -> String {
        let out = (0..<outputs).map { _ in fresh(op.lowercased()) }
        graph.nodes.append(ONNXNode(opType: op, inputs: inputs, outputs: out, name: fresh("node_" + op), attributes: attributes))
        return out[0]
    }

    /// `x` through `activation`.
    func activation(_ f: ActivationFunction, _ x: String) throws(NablaError) -> String {
        switch f {
        case .linear: return x
        case .relu: return node("Relu", [x])
        case .sigmoid: return node("Sigmoid", [x])
        case .tanh: return node("Tanh", [x])
        case .softmax: return node("Softmax", [x], ["axis": .int(-1)])
        case .logSoftmax: return node("LogSoftmax", [x], ["axis": .int(-1)])
        case .elu: return node("Elu", [x], ["alpha": .float(1)])
        case .selu: return node("Selu", [x])
        case .softplus: return node("Softplus", [x])
        case .leakyRelu: return node("LeakyRelu", [x], ["alpha": .float(0.2)])
        case .swish, .silu: return node("Mul", [x, node("Sigmoid", [x])])
        case .gelu:
            // The exact GELU, 0.5·x·(1 + erf(x/√2)): ONNX has a Gelu op only from opset 20.
            let scaled = node("Div", [x, constant("sqrt2", Tensor(Float(2).squareRoot()))])
            let onePlus = node("Add", [node("Erf", [scaled]), constant("one", Tensor(Float(1)))])
            return node("Mul", [node("Mul", [x, onePlus]), constant("half", Tensor(Float(0.5)))])
        }
    }
}

extension Model {
    /// Writes the model as an ONNX file (opset 17 by default) that ONNX Runtime, and any runtime that
    /// reads ONNX, runs as Nabla predicts: inference mode (dropout removed, batch normalization with
    /// its moving statistics), a dynamic batch dimension, and Nabla's channels-last layout kept — the
    /// exported model takes NHWC images as Nabla does, with Transposes around each convolution and
    /// pooling, which ONNX defines on NCHW. A layer with no ONNX form is an error naming it.
    ///
    /// ```swift
    /// try model.exportONNX(to: URL(fileURLWithPath: "digits.onnx"))
    /// // python: onnxruntime.InferenceSession("digits.onnx").run(None, {"input": x})
    /// ```
    /// - Parameters:
    ///   - url: the `.onnx` file to write (atomically).
    ///   - opset: the ONNX opset, 17 to 20.
    public func exportONNX(to url: URL, opset: Int = 17) throws(NablaError) {
        let bytes = try onnxBytes(opset: opset)
        do { try AtomicFile.write(Data(bytes), to: url) } catch { throw .invalidArgument("cannot write \(url.path): \(error)") }
    }

    /// The ONNX file's bytes (see ``exportONNX(to:opset:)``).
    ///
    /// - Parameter opset: the ONNX opset, 17 to 20.
    public func onnxBytes(opset: Int = 17) throws(NablaError) -> [UInt8] {
        guard (17...20).contains(opset) else { throw .invalidArgument("exportONNX: opset \(opset) is not supported (17 to 20)") }
        if let imported = self as? ONNXGraphModel { return imported.encodedWithCurrentWeights() }
        let b = ONNXGraphBuilder(opset: opset)
        b.graph.name = name
        var outputs: [(name: String, shape: [Int])] = []
        if isFunctional {
            var values: [ObjectIdentifier: String] = [:]
            for (k, s) in graphInputs.enumerated() {
                let input = s.layer as! InputLayer
                let inputName = graphInputs.count == 1 ? "input" : "input_\(k)"
                b.graph.inputs.append(ONNXValueInfo(name: inputName, type: input.dtype == .float32 || input.dtype == .float64 ? .float : .int32,
                                                    dims: [nil] + input.shape.map { Optional($0) }))
                values[ObjectIdentifier(s)] = inputName
            }
            for s in plan where values[ObjectIdentifier(s)] == nil {
                let args = s.inputs.map { values[ObjectIdentifier($0)]! }
                values[ObjectIdentifier(s)] = try exportLayer(s.layer, args, inputShapes: s.inputs.map(\.sampleShape), b)
            }
            outputs = graphOutputs.map { (values[ObjectIdentifier($0)]!, $0.sampleShape) }
        } else if let sequential = self as? Sequential, let shape = builtInputShapes?.first {
            var current = "input"
            var currentShape = shape
            let isIDs = sequential.layers.first is Embedding || sequential.layers.first is EmbeddingBag
            b.graph.inputs.append(ONNXValueInfo(name: "input", type: isIDs ? .int32 : .float, dims: [nil] + shape.map { Optional($0) }))
            for layer in sequential.layers {
                current = try exportLayer(layer, [current], inputShapes: [currentShape], b)
                currentShape = layer.outputShape(for: [currentShape])
            }
            outputs = [(current, currentShape)]
        } else if let shape = builtInputShapes?.first, let body = try exportModelBody(b, inputShape: shape) {
            outputs = [body]
        } else if builtInputShapes == nil && !isFunctional {
            throw .invalidState("\(name): build the model (fit or predict once, or give the input shape) before exporting it to ONNX")
        } else {
            throw .invalidArgument("\(name): a \(typeName) has no ONNX export yet; Sequential and functional models of the supported layers export")
        }
        for (k, (value, shape)) in outputs.enumerated() {
            let outName = outputs.count == 1 ? "output" : "output_\(k)"
            b.node("Identity", [value])
            b.graph.nodes[b.graph.nodes.count - 1].outputs = [outName]
            b.graph.outputs.append(ONNXValueInfo(name: outName, type: .float, dims: [nil] + shape.map { Optional($0) }))
        }
        return ONNXFile(graph: b.graph, opset: opset).encoded()
    }

    /// The ONNX nodes of one layer applied to `inputs`; returns the output value's name.
    /// - Parameter masked: the caller exports the mask an `Embedding(maskZero:)` starts (the text models do).
    private func exportLayer(_ layer: Layer, _ inputs: [String], inputShapes: [[Int]], _ b: ONNXGraphBuilder, masked: Bool = false) throws(NablaError) -> String {
        let x = inputs.first ?? ""
        switch layer {
        case is InputLayer, is Dropout, is SpatialDropout2D:
            return x
        case let d as Dense:
            let w = b.constant("\(d.name)_kernel", d.kernel!.value)
            let rank = (inputShapes.first?.count ?? 1) + 1
            var y: String
            if rank == 2 {
                y = b.node("Gemm", [x, w] + (d.bias.map { [b.constant("\(d.name)_bias", $0.value)] } ?? []))
            } else {
                y = b.node("MatMul", [x, w])
                if let bias = d.bias { y = b.node("Add", [y, b.constant("\(d.name)_bias", bias.value)]) }
            }
            return try b.activation(d.activation, y)
        case let a as Activation:
            return try b.activation(a.activation, x)
        case is Flatten:
            return b.node("Flatten", [x], ["axis": .int(1)])
        case let r as Reshape:
            return b.node("Reshape", [x, b.constantInts("shape", [0] + r.targetShape)])
        case let c as Concatenate:
            let rank = (inputShapes.first?.count ?? 0) + 1
            return b.node("Concat", inputs, ["axis": .int(c.axis < 0 ? c.axis + rank : c.axis)])
        case is Add:
            return b.node("Sum", inputs)
        case let e as Embedding:
            guard !e.maskZero || masked else {
                throw .invalidArgument("\(e.name): an Embedding with maskZero has no ONNX export yet (the mask would be lost, and the graph silently differ on padded input)")
            }
            return b.node("Gather", [b.constant("\(e.name)_embeddings", e.embeddings!.value), x], ["axis": .int(0)])
        case let r as Recurrent:
            return try exportRecurrent([r], x, b)
        case let bi as Bidirectional:
            guard !bi.forwardLayer.goBackwards else { throw .invalidArgument("\(bi.name): a Bidirectional over a layer that goes backwards has no ONNX export") }
            return try exportRecurrent([bi.forwardLayer, bi.backwardLayer], x, b)
        case let e as EmbeddingBag:
            // The mean of each row's vectors over its non-padding ids (id 0), as fastText averages.
            let vectors = b.node("Gather", [b.constant("\(e.name)_embeddings", e.embeddings!.value), x], ["axis": .int(0)])
            return maskedPooling(.average, vectors, tokenMask(x, b), b)
        case let z as ZeroPadding2D:
            let p = z.padding
            return b.node("Pad", [x, b.constantInts("pads", [0, p.top, p.left, 0, 0, p.bottom, p.right, 0])], ["mode": .string("constant")])
        case let u as UpSampling2D:
            let scales = b.fresh("scales")
            b.graph.initializers.append(ONNXTensor(name: scales, dims: [4], type: .float, values: [1, Double(u.size.0), Double(u.size.1), 1]))
            return b.node("Resize", [x, "", scales], ["mode": .string("nearest"), "nearest_mode": .string("floor"),
                                                      "coordinate_transformation_mode": .string("asymmetric")])
        case let d as Dot where inputShapes.count == 2 && inputShapes[0].count == 1:
            var (p, q) = (inputs[0], inputs[1])
            if d.normalize {
                func unit(_ v: String) -> String {
                    let norm = b.node("Sqrt", [b.node("Max", [b.node("ReduceSum", [b.node("Mul", [v, v]), b.constantInts("axes", [-1])], ["keepdims": .int(1)]),
                                                             b.constant("tiny", Tensor(Float(1e-12)))])])
                    return b.node("Div", [v, norm])
                }
                (p, q) = (unit(p), unit(q))
            }
            return b.node("ReduceSum", [b.node("Mul", [p, q]), b.constantInts("axes", [-1])], ["keepdims": .int(1)])
        case let c as Conv2D:
            return try exportConvolution(c, x, b)
        case let c as Conv1D:
            // [batch, steps, channels] → [batch, 1, steps, channels], the 2-D convolution, and back.
            let raised = b.node("Unsqueeze", [x, b.constantInts("axes", [1])])
            return b.node("Squeeze", [try exportConvolution(c.conv, raised, b), b.constantInts("axes", [1])])
        case let p as Pooling2D:
            return exportPooling(p, x, b)
        case let p as Pooling1D:
            let raised = b.node("Unsqueeze", [x, b.constantInts("axes", [1])])
            return b.node("Squeeze", [exportPooling(p.pool, raised, b), b.constantInts("axes", [1])])
        case let g as GlobalPooling:
            let rank = (inputShapes.first?.count ?? 2) + 1
            let axes = Array(1..<(rank - 1))
            // Opset 18 moved the reduction axes from an attribute to an input.
            if b.opset >= 18 { return b.node(g.kind == .max ? "ReduceMax" : "ReduceMean", [x, b.constantInts("axes", axes)], ["keepdims": .int(0)]) }
            return b.node(g.kind == .max ? "ReduceMax" : "ReduceMean", [x], ["axes": .ints(axes), "keepdims": .int(0)])
        case let n as BatchNormalization:
            // Inference: one multiply and one add per channel (the last axis), precomputed.
            let variance = n.movingVariance!.value, mean = n.movingMean!.value
            let invStd = 1 / sqrt(variance + n.epsilon)
            let scale = (n.gamma.map { $0.value * invStd } ?? invStd)
            let shift = (n.beta?.value ?? Tensor.zeros(like: mean)) - mean * scale
            return b.node("Add", [b.node("Mul", [x, b.constant("\(n.name)_scale", scale)]), b.constant("\(n.name)_shift", shift)])
        case let m as MultiHeadAttention:
            return try exportAttention(m, x, steps: inputShapes.first?.first ?? 1, b)
        case let t as TransformerBlock:
            let steps = inputShapes.first ?? [1]
            let h = b.node("Add", [x, try exportLayer(t.attention, [try exportLayer(t.norm1, [x], inputShapes: [steps], b)], inputShapes: [steps], b)])
            let normed = try exportLayer(t.norm2, [h], inputShapes: [steps], b)
            let mlp = try exportLayer(t.contract, [try exportLayer(t.expand, [normed], inputShapes: [steps], b)], inputShapes: [steps.dropLast() + [t.expand.units]], b)
            return b.node("Add", [h, mlp])
        case let p as PositionalEmbedding:
            let steps = inputShapes.first?.first ?? p.maxLength
            return b.node("Add", [x, b.constant("\(p.name)_positions", p.table!.value[0..<steps].copy())])
        case let n as LayerNormalization:
            let width = inputShapes.first?.last ?? 1
            let gamma = n.gamma?.value ?? Tensor.ones([width]), beta = n.beta?.value ?? Tensor.zeros([width])
            return b.node("LayerNormalization", [x, b.constant("\(n.name)_gamma", gamma), b.constant("\(n.name)_beta", beta)],
                          ["axis": .int(-1), "epsilon": .float(Float(n.epsilon))])
        default:
            throw .invalidArgument("\(layer.name): a \(layer.typeName) layer has no ONNX export yet (exported: Dense, Activation, Dropout, "
                                   + "Flatten, Reshape, ZeroPadding2D, UpSampling2D, Concatenate, Add, Dot of vectors, Embedding, EmbeddingBag, recurrent layers, "
                                   + "attention, Transformer blocks, positional embeddings, Conv1D/2D, pooling, global pooling, BatchNormalization, LayerNormalization)")
        }
    }

    /// Multi-head self-attention as MatMul/Softmax: the packed projection split into heads, scaled
    /// dot products, the causal mask added as −∞ above the diagonal (the steps are the input's,
    /// fixed at export), the weighted values merged and projected.
    private func exportAttention(_ m: MultiHeadAttention, _ x: String, steps: Int, _ b: ONNXGraphBuilder) throws(NablaError) -> String {
        let hd = m.dModel / m.heads
        let qkv = try exportLayer(m.qkv, [x], inputShapes: [[steps, m.dModel]], b)
        let split = b.node("Transpose", [b.node("Reshape", [qkv, b.constantInts("shape", [0, 0, 3, m.heads, hd])])], ["perm": .ints([2, 0, 3, 1, 4])])
        func part(_ k: Int) -> String {
            let index = b.fresh("index")
            b.graph.initializers.append(ONNXTensor(name: index, dims: [], type: .int64, values: [Double(k)]))
            return b.node("Gather", [split, index], ["axis": .int(0)])
        }
        let (q, k, v) = (part(0), part(1), part(2))                       // [batch, heads, steps, hd]
        var scores = b.node("Mul", [b.node("MatMul", [q, b.node("Transpose", [k], ["perm": .ints([0, 1, 3, 2])])]),
                                    b.constant("scale", Tensor(Float(1 / Double(hd).squareRoot())))])
        if m.causal {
            let mask = (0..<steps).flatMap { i in (0..<steps).map { j in j <= i ? Float(0) : -Float.infinity } }
            scores = b.node("Add", [scores, b.constant("causal_mask", Tensor(shape: [steps, steps], values: mask))])
        }
        let attended = b.node("MatMul", [b.node("Softmax", [scores], ["axis": .int(-1)]), v])
        let merged = b.node("Reshape", [b.node("Transpose", [attended], ["perm": .ints([0, 2, 1, 3])]), b.constantInts("shape", [0, 0, m.dModel])])
        return try exportLayer(m.output, [merged], inputShapes: [[steps, m.dModel]], b)
    }

    /// A recommender's scores for user and item index vectors [batch] → [batch].
    private func exportScore(_ m: any Recommender, _ users: String, _ items: String, _ b: ONNXGraphBuilder) throws(NablaError) -> String {
        func lookup(_ e: Embedding, _ ids: String) -> String {
            b.node("Gather", [b.constant("\(e.name)_embeddings", e.embeddings!.value), ids], ["axis": .int(0)])
        }
        func dot(_ a: String, _ c: String) -> String {
            b.node("ReduceSum", [b.node("Mul", [a, c]), b.constantInts("axes", [-1])], ["keepdims": .int(0)])
        }
        func flat(_ x: String) -> String { b.node("Squeeze", [x, b.constantInts("axes", [1])]) }
        switch m {
        case let mf as MatrixFactorization:
            let biases = b.node("Add", [flat(lookup(mf.userBiases, users)), flat(lookup(mf.itemBiases, items))])
            return b.node("Add", [b.node("Add", [dot(lookup(mf.userFactors, users), lookup(mf.itemFactors, items)), biases]),
                                  b.constant("global_mean", Tensor(Float(mf.globalMean)))])
        case let n as NeuMF:
            let gmf = b.node("Mul", [lookup(n.gmfUsers, users), lookup(n.gmfItems, items)])
            var h = b.node("Concat", [lookup(n.mlpUsers, users), lookup(n.mlpItems, items)], ["axis": .int(1)])
            var width = 2 * n.mlpUsers.outputDim
            for layer in n.mlp {
                h = try exportLayer(layer, [h], inputShapes: [[width]], b)
                width = layer.units
            }
            return flat(try exportLayer(n.output, [b.node("Concat", [gmf, h], ["axis": .int(1)])], inputShapes: [[n.gmfUsers.outputDim + width]], b))
        case let t as TwoTower:
            var u = lookup(t.userEmbedding, users), v = lookup(t.itemEmbedding, items)
            var width = t.userEmbedding.outputDim
            for (lu, li) in zip(t.userTower, t.itemTower) {
                u = try exportLayer(lu, [u], inputShapes: [[width]], b)
                v = try exportLayer(li, [v], inputShapes: [[width]], b)
                width = lu.units
            }
            return dot(u, v)
        default:
            throw .invalidArgument("\(m.name): a \(m.typeName) has no ONNX export yet")
        }
    }

    /// [batch, steps] ids → [batch, steps, 1] float: 1 at real tokens, 0 at padding (id 0).
    private func tokenMask(_ ids: String, _ b: ONNXGraphBuilder) -> (keep: String, weights: String) {
        let zero = b.fresh("zero")
        b.graph.initializers.append(ONNXTensor(name: zero, dims: [], type: .int32, values: [0]))
        let keep = b.node("Unsqueeze", [b.node("Not", [b.node("Equal", [ids, zero])]), b.constantInts("axes", [2])])
        return (keep, b.node("Cast", [keep], ["to": .int(1)]))
    }

    /// Pooling over the real tokens only, as Nabla's masked global pooling: the mean (zeros for a
    /// text of padding only) or the max (−∞ there).
    private func maskedPooling(_ kind: PoolKind, _ x: String, _ mask: (keep: String, weights: String), _ b: ONNXGraphBuilder) -> String {
        let axis = b.constantInts("axes", [1])
        if kind == .max {
            return b.node("ReduceMax", b.opset >= 18 ? [b.node("Where", [mask.keep, x, b.constant("minus_infinity", Tensor(-Float.infinity))]), axis]
                          : [b.node("Where", [mask.keep, x, b.constant("minus_infinity", Tensor(-Float.infinity))])],
                          b.opset >= 18 ? ["keepdims": .int(0)] : ["axes": .ints([1]), "keepdims": .int(0)])
        }
        let total = b.node("ReduceSum", [b.node("Mul", [x, mask.weights]), axis], ["keepdims": .int(0)])
        let count = b.node("ReduceSum", [mask.weights, axis], ["keepdims": .int(0)])
        return b.node("Div", [total, b.node("Max", [count, b.constant("one", Tensor(Float(1)))])])
    }

    /// The number of real tokens per text (at least 1), for the recurrent ops' `sequence_lens`: the
    /// padding is taken to trail the text, as TextVectorization writes it.
    private func tokenCounts(_ mask: (keep: String, weights: String), _ b: ONNXGraphBuilder) -> String {
        let counts = b.node("ReduceSum", [b.node("Squeeze", [mask.weights, b.constantInts("axes", [2])]), b.constantInts("axes", [1])], ["keepdims": .int(0)])
        return b.node("Cast", [b.node("Max", [counts, b.constant("one", Tensor(Float(1)))])], ["to": .int(6)])
    }

    /// The graph of a ready-made model class on its input ("input"), or nil for a class without one.
    private func exportModelBody(_ b: ONNXGraphBuilder, inputShape shape: [Int]) throws(NablaError) -> (String, [Int])? {
        func ids() { b.graph.inputs.append(ONNXValueInfo(name: "input", type: .int32, dims: [nil] + shape.map { Optional($0) })) }
        switch self {
        case let g as GPT:
            ids()
            var h = try exportLayer(g.positions, [try exportLayer(g.tokens, ["input"], inputShapes: [shape], b)], inputShapes: [shape + [g.dModel]], b)
            for block in g.blocks { h = try exportLayer(block, [h], inputShapes: [shape + [g.dModel]], b) }
            h = try exportLayer(g.norm, [h], inputShapes: [shape + [g.dModel]], b)
            if let head = g.head { return (try exportLayer(head, [h], inputShapes: [shape + [g.dModel]], b), shape + [g.vocabulary]) }
            // Tied output: the token table, transposed.
            return (b.node("MatMul", [h, b.constant("\(g.tokens.name)_transposed", g.tokens.embeddings!.value.transposed().copy())]), shape + [g.vocabulary])
        case let m as BigramModel:
            ids()
            return (try exportLayer(m.table, ["input"], inputShapes: [shape], b), shape + [m.table.outputDim])
        case let m as MLPLanguageModel:
            ids()
            let e = try exportLayer(m.embedding, ["input"], inputShapes: [shape], b)
            let flat = b.node("Flatten", [e], ["axis": .int(1)])
            let h = try exportLayer(m.hidden, [flat], inputShapes: [[shape.reduce(1, *) * m.embedding.outputDim]], b)
            return (try exportLayer(m.output, [h], inputShapes: [[m.hidden.units]], b), [m.output.units])
        case let m as TextClassifier:
            ids()
            let mask = tokenMask("input", b)
            let e = try exportLayer(m.embedding, ["input"], inputShapes: [shape], b, masked: true)
            let h = try exportLayer(m.hidden, [maskedPooling(m.pooling.kind, e, mask, b)], inputShapes: [[m.embedding.outputDim]], b)
            return (try exportLayer(m.output, [h], inputShapes: [[m.hidden.units]], b), [m.output.units])
        case let m as FastTextClassifier:
            ids()
            let mask = tokenMask("input", b)
            let vectors = b.node("Gather", [b.constant("\(m.bag.name)_embeddings", m.bag.embeddings!.value), "input"], ["axis": .int(0)])
            return (try exportLayer(m.output, [maskedPooling(.average, vectors, mask, b)], inputShapes: [[m.bag.outputDim]], b), [m.output.units])
        case let m as TextCNN:
            ids()
            let mask = tokenMask("input", b)
            let e = try exportLayer(m.embedding, ["input"], inputShapes: [shape], b, masked: true)
            let features = try m.convolutions.map { c throws(NablaError) in
                maskedPooling(m.pooling.kind, try exportLayer(c, [e], inputShapes: [shape + [m.embedding.outputDim]], b), mask, b)
            }
            let width = m.convolutions.reduce(0) { $0 + $1.conv.filters }
            return (try exportLayer(m.output, [b.node("Concat", features, ["axis": .int(1)])], inputShapes: [[width]], b), [m.output.units])
        case let m as BiLSTMClassifier:
            ids()
            let mask = tokenMask("input", b)
            let e = try exportLayer(m.embedding, ["input"], inputShapes: [shape], b, masked: true)
            let r = try exportRecurrent([m.recurrent.forwardLayer, m.recurrent.backwardLayer], e, b, lengths: tokenCounts(mask, b))
            return (try exportLayer(m.output, [maskedPooling(m.pooling.kind, r, mask, b)], inputShapes: [[2 * m.recurrent.forwardLayer.units]], b), [m.output.units])
        case let m as TransformerTextClassifier:
            ids()
            let mask = tokenMask("input", b)
            let width = m.embedding.outputDim
            var h = try exportLayer(m.positions, [try exportLayer(m.embedding, ["input"], inputShapes: [shape], b, masked: true)], inputShapes: [shape + [width]], b)
            for block in m.blocks { h = try exportLayer(block, [h], inputShapes: [shape + [width]], b) }
            h = try exportLayer(m.norm, [h], inputShapes: [shape + [width]], b)
            return (try exportLayer(m.output, [maskedPooling(m.pooling.kind, h, mask, b)], inputShapes: [[width]], b), [m.output.units])
        case let m as SpeechRecognizer:
            b.graph.inputs.append(ONNXValueInfo(name: "input", type: .float, dims: [nil] + shape.map { Optional($0) }))
            var h = "input", s = shape
            for layer in [m.conv1, m.norm1, Activation(.relu), m.pool1, m.conv2, m.norm2, Activation(.relu), m.pool2] as [Layer] {
                h = try exportLayer(layer, [h], inputShapes: [s], b)
                s = layer.outputShape(for: [s])
            }
            let sequence = b.node("Reshape", [h, b.constantInts("shape", [0, s[0], s[1] * s[2]])])
            let r = try exportRecurrent([m.recurrent.forwardLayer, m.recurrent.backwardLayer], sequence, b)
            return (try exportLayer(m.output, [r], inputShapes: [[s[0], 2 * m.recurrent.forwardLayer.units]], b), [s[0], m.output.units])
        case let m as any Recommender:
            // (user, item) pairs [batch, 2] → scores [batch]; (user, positive, negative) triples → differences.
            ids()
            func column(_ k: Int) -> String {
                let index = b.fresh("column")
                b.graph.initializers.append(ONNXTensor(name: index, dims: [], type: .int64, values: [Double(k)]))
                return b.node("Gather", ["input", index], ["axis": .int(1)])
            }
            let users = column(0)
            var score = try exportScore(m, users, column(1), b)
            if shape == [3] { score = b.node("Sub", [score, try exportScore(m, users, column(2), b)]) }
            return (score, [])
        case let m as RecurrentLanguageModel:
            ids()
            let e = try exportLayer(m.embedding, ["input"], inputShapes: [shape], b)
            let r = try exportLayer(m.recurrent, [e], inputShapes: [shape + [m.embedding.outputDim]], b)
            return (try exportLayer(m.head, [r], inputShapes: [shape + [m.recurrent.units]], b), shape + [m.head.units])
        default:
            return nil
        }
    }

    /// A recurrent layer (or a forward and a backward one, for Bidirectional) as ONNX's RNN, GRU or
    /// LSTM: Nabla's kernels [in, gates·units] in its gate order become ONNX's [directions,
    /// gates·hidden, in] in ONNX's (LSTM i, o, f, c; GRU z, r, h with `linear_before_reset`, which is
    /// Nabla's and PyTorch's reset-after GRU).
    private func exportRecurrent(_ layers: [Recurrent], _ x: String, _ b: ONNXGraphBuilder, lengths: String? = nil) throws(NablaError) -> String {
        let first = layers[0], u = first.units
        let order: [Int] = switch first.cell { case .lstm: [0, 3, 1, 2]; case .gru: [1, 0, 2]; case .simple: [0] }
        func reordered(_ t: Tensor) -> Tensor {   // the gate blocks of the last axis, in ONNX's order
            concatenate(order.map { t.narrowed(axis: t.rank - 1, start: $0 * u, length: u) }, axis: t.rank - 1)
        }
        let w = stack(layers.map { reordered($0.kernel!.value).transposed() }, axis: 0)
        let r = stack(layers.map { reordered($0.recurrentKernel!.value).transposed() }, axis: 0)
        let bias = stack(layers.map { concatenate([reordered($0.bias!.value), reordered($0.recurrentBias!.value)], axis: 0) }, axis: 0)
        let op = switch first.cell { case .lstm: "LSTM"; case .gru: "GRU"; case .simple: "RNN" }
        var attributes: [String: ONNXAttributeValue] = ["hidden_size": .int(u)]
        attributes["direction"] = .string(layers.count == 2 ? "bidirectional" : first.goBackwards ? "reverse" : "forward")
        if first.cell == .gru { attributes["linear_before_reset"] = .int(1) }
        let stepsFirst = b.node("Transpose", [x], ["perm": .ints([1, 0, 2])])
        let outputs = first.cell == .lstm ? 3 : 2
        let y = b.node(op, [stepsFirst, b.constant("\(first.name)_W", w.copy()), b.constant("\(first.name)_R", r.copy()),
                             b.constant("\(first.name)_B", bias.copy())] + (lengths.map { [$0] } ?? []), attributes, outputs: outputs)
        let yh = b.graph.nodes[b.graph.nodes.count - 1].outputs[1]
        let d = layers.count
        if first.returnSequences {
            // Y [steps, directions, batch, hidden] → [batch, steps, directions·hidden].
            var out = b.node("Reshape", [b.node("Transpose", [y], ["perm": .ints([2, 0, 1, 3])]), b.constantInts("shape", [0, 0, d * u])])
            if d == 1 && first.goBackwards {
                // Nabla gives a backwards layer's outputs in the order it read them; ONNX in time order.
                out = b.node("Slice", [out, b.constantInts("starts", [-1]), b.constantInts("ends", [Int(Int64.min)]), b.constantInts("axes", [1]),
                                       b.constantInts("steps", [-1])])
            }
            return out
        }
        // Y_h [directions, batch, hidden] → [batch, directions·hidden].
        return b.node("Reshape", [b.node("Transpose", [yh], ["perm": .ints([1, 0, 2])]), b.constantInts("shape", [0, d * u])])
    }

    private func exportConvolution(_ c: Conv2D, _ x: String, _ b: ONNXGraphBuilder) throws(NablaError) -> String {
        // Nabla's kernel [kh, kw, in/groups, out] becomes ONNX's [out, in/groups, kh, kw].
        let w = b.constant("\(c.name)_kernel", c.kernel!.value.permuted([3, 2, 0, 1]).copy())
        let nchw = b.node("Transpose", [x], ["perm": .ints([0, 3, 1, 2])])
        var attributes: [String: ONNXAttributeValue] = [
            "kernel_shape": .ints([c.kernelSize.0, c.kernelSize.1]), "strides": .ints([c.strides.0, c.strides.1]),
            "dilations": .ints([c.dilationRate.0, c.dilationRate.1]), "group": .int(c.groups),
        ]
        // Keras's "same" puts the odd padding pixel at the end, as ONNX's SAME_UPPER does.
        attributes["auto_pad"] = .string(c.padding == .same ? "SAME_UPPER" : "VALID")
        let y = b.node("Conv", [nchw, w] + (c.bias.map { [b.constant("\(c.name)_bias", $0.value)] } ?? []), attributes)
        return try b.activation(c.activation, b.node("Transpose", [y], ["perm": .ints([0, 2, 3, 1])]))
    }

    private func exportPooling(_ p: Pooling2D, _ x: String, _ b: ONNXGraphBuilder) -> String {
        let nchw = b.node("Transpose", [x], ["perm": .ints([0, 3, 1, 2])])
        var attributes: [String: ONNXAttributeValue] = [
            "kernel_shape": .ints([p.poolSize.0, p.poolSize.1]), "strides": .ints([p.strides.0, p.strides.1]),
            "auto_pad": .string(p.padding == .same ? "SAME_UPPER" : "VALID"),
        ]
        if p.kind == .average { attributes["count_include_pad"] = .int(0) }   // Keras averages the real pixels only
        let y = b.node(p.kind == .max ? "MaxPool" : "AveragePool", [nchw], attributes)
        return b.node("Transpose", [y], ["perm": .ints([0, 2, 3, 1])])
    }
}
