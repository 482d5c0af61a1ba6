import Foundation
import Nabla

/// A model read from an ONNX file: the graph's nodes run in order with Nabla's differentiable ops,
/// its float initializers become trainable parameters (so it fine-tunes with `fit`), and it saves
/// and loads like any Nabla model. Reads graphs as `torch.onnx.export` and tf2onnx write them —
/// initializers, `Constant` nodes, `Identity`, `Shape`/`Gather`/`Unsqueeze`/`Concat` chains that
/// compute reshape targets, NCHW convolutions and pooling, `GRU`/`LSTM` — and Nabla's own exports.
/// Inputs keep the file's layout (NCHW images from PyTorch, NHWC from Nabla). An operator Nabla
/// does not run is one error listing every such operator in the graph, with its count.
///
/// ```swift
/// let model = try Model.importONNX(from: URL(fileURLWithPath: "mlp.onnx"))
/// let y = try model.predict(x)
/// try model.compile(optimizer: "adam", loss: SparseCategoricalCrossentropy(fromLogits: true))
/// try model.fit(x, labels, epochs: 1)
/// ```
public final class ONNXGraphModel: Model {
    let graph: ONNXGraph
    let opset: Int
    /// The float initializers, as parameters, by initializer name.
    private let weights: [(name: String, parameter: Parameter)]
    private let weightIndex: [String: Parameter]
    /// Integer (and other non-trainable) initializers.
    private let constants: [String: Tensor]
    /// The graph inputs that are not initializers: the model's inputs, in order.
    let inputNames: [String]

    static let supported: Set<String> = [
        "Identity", "Dropout", "Constant", "ConstantOfShape", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Reshape", "Flatten",
        "Transpose", "Cast", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Sum", "Pow", "Sqrt", "Neg", "Relu", "Sigmoid", "Tanh",
        "Softmax", "LogSoftmax", "Elu", "Selu", "Softplus", "LeakyRelu", "Erf", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool",
        "GlobalMaxPool", "ReduceMean", "ReduceMax", "BatchNormalization", "LayerNormalization", "GRU", "LSTM", "RNN", "Slice", "Equal", "Not", "Where", "Max", "Min", "ReduceSum", "Pad", "Resize",
    ]

    /// The inputs each operator cannot do without.
    static let minimumInputs: [String: Int] = [
        "Gemm": 2, "MatMul": 2, "Add": 2, "Sub": 2, "Mul": 2, "Div": 2, "Pow": 2, "Equal": 2, "Where": 3, "Max": 1, "Min": 1,
        "Conv": 2, "Reshape": 2, "Gather": 2, "GRU": 3, "LSTM": 3, "RNN": 3, "BatchNormalization": 5, "LayerNormalization": 2,
        "Slice": 3, "ConstantOfShape": 1, "Pad": 2,
    ]

    /// Reads an ONNX file's bytes.
    ///
    /// - Parameters:
    ///   - bytes: the `.onnx` file's contents.
    ///   - source: names the file in errors.
    ///   - name: the model's name.
    public init(bytes: [UInt8], source: String = "<onnx>", name: String? = nil) throws(NablaError) {
        let file = try ONNXFile.decode(bytes, source: source)
        var counts: [String: Int] = [:]
        for n in file.graph.nodes where !Self.supported.contains(n.opType) || !(n.domain.isEmpty || n.domain == "ai.onnx") {
            counts[n.domain.isEmpty ? n.opType : "\(n.domain).\(n.opType)", default: 0] += 1
        }
        guard counts.isEmpty else {
            throw .invalidArgument("\(source): operators Nabla does not run: " + counts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
        }
        // The graph must compute each value before it is read, give each operator its inputs, and compute
        // its outputs: checked here, so that a broken file is an error now rather than a stop at predict.
        var known = Set(file.graph.initializers.map(\.name) + file.graph.inputs.map(\.name))
        for (k, n) in file.graph.nodes.enumerated() {
            let present = n.inputs.filter { !$0.isEmpty }
            if let missing = present.first(where: { !known.contains($0) }) {
                throw .invalidArgument("\(source): node \(k) (\(n.opType)) reads '\(missing)', which no earlier node, input or initializer provides")
            }
            let needed = Self.minimumInputs[n.opType] ?? (n.opType == "Constant" || n.opType == "Sum" || n.opType == "Concat" ? 0 : 1)
            guard n.inputs.prefix(needed).allSatisfy({ !$0.isEmpty }) && n.inputs.count >= needed else {
                throw .invalidArgument("\(source): node \(k) (\(n.opType)) has \(present.count) inputs; it needs at least \(needed)")
            }
            if n.opType == "Constant" && n.tensor("value") == nil && n.float("value_float") == nil && n.int("value_int") == nil
                && n.ints("value_ints") == nil && n.attributes["value_floats"] == nil {
                throw .invalidArgument("\(source): node \(k) (Constant) has no value Nabla reads")
            }
            for o in n.outputs where !o.isEmpty { known.insert(o) }
        }
        if let missing = file.graph.outputs.first(where: { !known.contains($0.name) }) {
            throw .invalidArgument("\(source): the graph never computes its output '\(missing.name)'")
        }
        graph = file.graph
        opset = file.opset
        // Moving statistics of batch normalization are not trained by gradient.
        let statistics = Set(file.graph.nodes.filter { $0.opType == "BatchNormalization" }.flatMap { $0.inputs.dropFirst(3) })
        var w: [(String, Parameter)] = [], c: [String: Tensor] = [:]
        for t in file.graph.initializers {
            if t.type == .float || t.type == .double {
                let p = Parameter(t.type == .float ? t.tensor : t.tensor.cast(to: .float32))
                if statistics.contains(t.name) { p.trainable = false }
                w.append((t.name, p))
            } else {
                c[t.name] = t.tensor
            }
        }
        weights = w
        weightIndex = Dictionary(w, uniquingKeysWith: { a, _ in a })
        constants = c
        let initialized = Set(file.graph.initializers.map(\.name))
        inputNames = file.graph.inputs.map(\.name).filter { !initialized.contains($0) }
        guard !inputNames.isEmpty else { throw .invalidArgument("\(source): the ONNX graph has no inputs") }
        super.init(name: name ?? "onnx_model")
        for n in file.graph.nodes where n.opType == "Conv" || n.opType == "MaxPool" || n.opType == "AveragePool" {
            if n.int("ceil_mode") ?? 0 != 0 { throw .invalidArgument("\(source): \(n.opType) with ceil_mode is not supported") }
        }
    }

    public override var typeName: String { "ONNXGraphModel" }

    /// How many nodes of each operator the graph holds, by operator name.
    public var operatorCounts: [String: Int] { Dictionary(graph.nodes.map { ($0.opType, 1) }, uniquingKeysWith: +) }

    public override func ownParameters() -> [(name: String, parameter: Parameter)] { weights }

    /// The file (without its float weights, which are the parameters) as base64, and the weights' shapes.
    public override var config: [String: JSONValue] {
        var stripped = graph
        stripped.initializers = graph.initializers.filter { $0.type != .float && $0.type != .double }
        let bytes = ONNXFile(graph: stripped, opset: opset).encoded()
        return ["onnx": JSONValue(Data(bytes).base64EncodedString()),
                "weights": .array(graph.initializers.filter { $0.type == .float || $0.type == .double }.map { t in
                    .object(["name": JSONValue(t.name), "shape": JSONValue(t.dims)])
                })]
    }

    /// The graph as read, with the weights as they are now (after fine-tuning), in its own opset.
    func encodedWithCurrentWeights() -> [UInt8] {
        var g = graph
        g.initializers = g.initializers.map { t in
            guard let p = weightIndex[t.name] else { return t }
            return ONNXTensor(name: t.name, t.type == .double ? p.value.cast(to: .float64) : p.value)
        }
        return ONNXFile(graph: g, opset: opset).encoded()
    }

    public override var expectedInputShapes: [[Int]]? {
        let infos = inputNames.compactMap { n in graph.inputs.first { $0.name == n } }
        guard infos.allSatisfy({ $0.dims.dropFirst().allSatisfy { $0 != nil } }) else { return nil }
        return infos.map { $0.dims.dropFirst().map { $0! } }
    }

    public override func validate(inputShapes: [[Int]]) throws(NablaError) {
        guard inputShapes.count == inputNames.count else {
            throw .shapeMismatch(layer: name, expected: "\(inputNames.count) inputs", actual: "\(inputShapes.count) inputs")
        }
        for (shape, n) in zip(inputShapes, inputNames) {
            guard let info = graph.inputs.first(where: { $0.name == n }) else { continue }
            let want = Array(info.dims.dropFirst())
            guard want.count == shape.count, zip(want, shape).allSatisfy({ $0.0 == nil || $0.0 == $0.1 }) else {
                throw .shapeMismatch(layer: "\(name) input \(n)", expected: kerasShape([nil] + want), actual: kerasShape([nil] + shape.map { Optional($0) }))
            }
        }
    }

    public override func outputShape(for inputShapes: [[Int]]) -> [Int] {
        graph.outputs.first.map { $0.dims.dropFirst().map { $0 ?? 1 } } ?? []
    }

    public override func forward(_ x: Tensor) -> Tensor { forwardAll([x])[0] }

    public override func forward(_ inputs: [Tensor]) -> Tensor { forwardAll(inputs)[0] }

    public override func forwardAll(_ inputs: [Tensor]) -> [Tensor] {
        nablaPrecondition(inputs.count == inputNames.count, "\(name): expects \(inputNames.count) inputs, got \(inputs.count)")
        var env: [String: Tensor] = constants
        for (k, w) in weights { env[k] = w.value }
        for (n, x) in zip(inputNames, inputs) { env[n] = x }
        for node in graph.nodes {
            let args = node.inputs.map { $0.isEmpty ? nil : env[$0] }
            let results = run(node, args)
            for (o, r) in zip(node.outputs, results) where !o.isEmpty { env[o] = r }
        }
        return graph.outputs.map { out in
            guard let v = env[out.name] else { nablaPrecondition(false, "\(name): the graph never computes its output \(out.name)"); return Tensor(0) }
            return v
        }
    }

    // MARK: Operators

    private func ints(_ t: Tensor?) -> [Int] { t.map { $0.dtype.isFloatingPoint ? $0.toArray(Double.self).map(ONNXTensor.integer) : $0.toArray(Int32.self).map(Int.init) } ?? [] }

    private func axis(_ a: Int, _ rank: Int) -> Int { a < 0 ? a + rank : a }

    private func float(_ t: Tensor) -> Tensor { t.dtype == .float32 ? t : t.cast(to: .float32) }

    /// Tensors that broadcast as NumPy does; integer tensors meeting floats become floats.
    private func binary(_ a: Tensor, _ b: Tensor, _ f: (Tensor, Tensor) -> Tensor) -> Tensor {
        if a.dtype == b.dtype { return f(a, b) }
        return f(float(a), float(b))
    }

    private func run(_ n: ONNXNode, _ a: [Tensor?]) -> [Tensor] {
        func arg(_ i: Int) -> Tensor {
            guard i < a.count, let t = a[i] else {
                nablaPrecondition(false, "\(name): \(n.opType) node \(n.name) is missing input \(i)")
                return Tensor(0)
            }
            return t
        }
        func optional(_ i: Int) -> Tensor? { i < a.count ? a[i] : nil }
        switch n.opType {
        case "Identity", "Dropout": return [arg(0)]
        case "Constant":
            if let t = n.tensor("value") { return [t.tensor] }
            if let f = n.float("value_float") { return [Tensor(f)] }
            if let i = n.int("value_int") { return [Tensor(values: [Int32(clamping: i)]).reshaped([])] }
            if let fs = n.attributes["value_floats"], case let .floats(v) = fs { return [Tensor(shape: [v.count], values: v)] }
            if let xs = n.ints("value_ints") { return [Tensor(values: xs.map { Int32(clamping: $0) })] }
            nablaPrecondition(false, "\(name): Constant node \(n.name) has no value Nabla reads")
            return [Tensor(0)]
        case "ConstantOfShape":
            let shape = ints(arg(0)), value = n.tensor("value")
            let v = value?.values.first ?? 0
            if let value, value.type != .float && value.type != .double {
                return [Tensor(shape: shape, values: [Int32](repeating: Int32(clamping: ONNXTensor.integer(v)), count: shape.reduce(1, *)))]
            }
            return [Tensor.full(shape, value: v)]
        case "Shape":
            return [Tensor(values: arg(0).shape.map { Int32($0) })]
        case "Cast":
            let to = n.int("to") ?? 1
            if to == 9 { return [arg(0).dtype == .bool ? arg(0) : arg(0) .!= Tensor(0, dtype: arg(0).dtype)] }
            return [to == 1 || to == 11 ? float(arg(0)) : (arg(0).dtype == .int32 ? arg(0) : arg(0).cast(to: .int32))]
        case "Gather":
            let data = arg(0), ax = axis(n.int("axis") ?? 0, data.rank), size = data.shape[ax]
            let idx = ints(arg(1)).map { Int32($0 < 0 ? $0 + size : $0) }
            let indices = Tensor(shape: arg(1).shape, values: idx)
            return [data.indexSelect(indices, axis: ax)]
        case "Unsqueeze":
            var t = arg(0)
            let axes = (optional(1).map(ints) ?? n.ints("axes") ?? []).map { axis($0, t.rank + 1) }.sorted()
            for ax in axes { t = t.unsqueezed(axis: ax) }
            return [t]
        case "Squeeze":
            let t = arg(0)
            guard let axes = optional(1).map(ints) ?? n.ints("axes") else { return [t.squeezed()] }
            return [t.squeezed(axes: axes.map { axis($0, t.rank) })]
        case "Concat":
            let parts = a.compactMap { $0 }
            let ax = axis(n.int("axis") ?? 0, parts[0].rank)
            return [parts.allSatisfy({ $0.dtype == parts[0].dtype }) ? concatenate(parts, axis: ax) : concatenate(parts.map(float), axis: ax)]
        case "Reshape":
            let x = arg(0)
            var shape = ints(arg(1))
            for (i, d) in shape.enumerated() where d == 0 && (n.int("allowzero") ?? 0) == 0 { shape[i] = x.shape[i] }
            return [x.reshaped(shape)]
        case "Flatten":
            let x = arg(0), ax = axis(n.int("axis") ?? 1, x.rank)
            return [x.reshaped([x.shape[..<ax].reduce(1, *), x.shape[ax...].reduce(1, *)])]
        case "Transpose":
            let x = arg(0)
            return [x.permuted(n.ints("perm") ?? Array((0..<x.rank).reversed()))]
        case "Gemm":
            var x = arg(0), w = arg(1)
            if (n.int("transA") ?? 0) != 0 { x = x.transposed() }
            if (n.int("transB") ?? 0) != 0 { w = w.transposed() }
            var y = matmul(x, w)
            if let alpha = n.float("alpha"), alpha != 1 { y = y * Double(alpha) }
            if let c = optional(2) { y = y + (n.float("beta").map { $0 == 1 ? c : c * Double($0) } ?? c) }
            return [y]
        case "MatMul": return [matmul(arg(0), arg(1))]
        case "Add": return [binary(arg(0), arg(1), +)]
        case "Sub": return [binary(arg(0), arg(1), -)]
        case "Mul": return [binary(arg(0), arg(1), *)]
        case "Div": return [binary(arg(0), arg(1), /)]
        case "Sum": return [a.compactMap { $0 }.dropFirst().reduce(arg(0), +)]
        case "Pow": return [pow(arg(0), arg(1).toArray(Double.self)[0])]
        case "Sqrt": return [sqrt(arg(0))]
        case "Neg": return [-arg(0)]
        case "Relu": return [relu(arg(0))]
        case "Sigmoid": return [sigmoid(arg(0))]
        case "Tanh": return [tanh(arg(0))]
        case "Softmax": return [softmax(arg(0), axis: n.int("axis") ?? -1)]
        case "LogSoftmax": return [logSoftmax(arg(0), axis: n.int("axis") ?? -1)]
        case "Elu": return [elu(arg(0), alpha: Double(n.float("alpha") ?? 1))]
        case "Selu": return [selu(arg(0))]
        case "Softplus": return [softplus(arg(0))]
        case "LeakyRelu": return [leakyRelu(arg(0), alpha: Double(n.float("alpha") ?? 0.01))]
        case "Erf": return [Self.erf(arg(0))]
        case "Conv": return [convolution(n, arg(0), arg(1), optional(2))]
        case "MaxPool", "AveragePool": return [pooling(n, arg(0))]
        case "GlobalAveragePool", "GlobalMaxPool":
            let x = arg(0), axes = Array(2..<x.rank)
            return [n.opType == "GlobalMaxPool" ? x.max(axes: axes, keepDims: true) : x.mean(axes: axes, keepDims: true)]
        case "Pad":
            var t = arg(0)
            nablaPrecondition((n.string("mode") ?? "constant") == "constant", "\(name): Pad supports the constant mode only, got \(n.string("mode") ?? "")")
            let pads = optional(1).map(ints) ?? n.ints("pads") ?? []
            let value = optional(2).map { $0.toArray(Double.self).first ?? 0 } ?? 0
            let rank = t.rank
            for ax in 0..<rank where pads.count == 2 * rank {
                let (before, after) = (pads[ax], pads[ax + rank])
                if before < 0 { t = t.narrowed(axis: ax, start: -before, length: t.shape[ax] + before) }
                if after < 0 { t = t.narrowed(axis: ax, start: 0, length: t.shape[ax] + after) }
                var parts: [Tensor] = []
                func filler(_ k: Int) -> Tensor { var shape = t.shape; shape[ax] = k; return Tensor.full(shape, value: value, dtype: t.dtype) }
                if before > 0 { parts.append(filler(before)) }
                parts.append(t)
                if after > 0 { parts.append(filler(after)) }
                if parts.count > 1 { t = concatenate(parts, axis: ax) }
            }
            return [t]
        case "Resize":
            // Nearest-neighbour upsampling by whole factors (what UpSampling layers export): each element repeated.
            var t = arg(0)
            let scales = (optional(2).map { $0.toArray(Double.self) } ?? []).isEmpty
                ? zip(ints(optional(3)), t.shape).map { Double($0) / Double($1) } : optional(2)!.toArray(Double.self)
            nablaPrecondition((n.string("mode") ?? "nearest") == "nearest" && scales.count == t.rank && scales.allSatisfy { $0 >= 1 && $0 == $0.rounded() },
                              "\(name): Resize is supported for nearest upsampling by whole factors only")
            for (ax, f) in scales.enumerated() where f > 1 {
                let indices = (0..<t.shape[ax]).flatMap { Array(repeating: Int32($0), count: Int(f)) }
                t = t.indexSelect(Tensor(values: indices), axis: ax)
            }
            return [t]
        case "Equal": return [binary(arg(0), arg(1)) { $0 .== $1 }]
        case "Not": return [(arg(0).dtype == .bool ? arg(0).cast(to: .int32) : arg(0)) .== Tensor(0, dtype: arg(0).dtype == .bool ? .int32 : arg(0).dtype)]
        case "Where": return [select(arg(0), arg(1), arg(2))]
        case "Max": return [a.compactMap { $0 }.dropFirst().reduce(arg(0)) { binary($0, $1, maximum) }]
        case "Min": return [a.compactMap { $0 }.dropFirst().reduce(arg(0)) { binary($0, $1, minimum) }]
        case "ReduceSum":
            let x = arg(0)
            let axes = (optional(1).map(ints) ?? n.ints("axes") ?? Array(0..<x.rank)).map { axis($0, x.rank) }
            let summed = x.dtype.isFloatingPoint ? x.sum(axes: axes, keepDims: (n.int("keepdims") ?? 1) != 0)
                : x.cast(to: .float32).sum(axes: axes, keepDims: (n.int("keepdims") ?? 1) != 0).cast(to: x.dtype)
            return [summed]
        case "ReduceMean", "ReduceMax":
            let x = arg(0)
            let axes = (optional(1).map(ints) ?? n.ints("axes") ?? Array(0..<x.rank)).map { axis($0, x.rank) }
            let keep = (n.int("keepdims") ?? 1) != 0
            return [n.opType == "ReduceMax" ? x.max(axes: axes, keepDims: keep) : x.mean(axes: axes, keepDims: keep)]
        case "BatchNormalization":
            let x = arg(0)
            var shape = [Int](repeating: 1, count: x.rank)
            shape[1] = x.shape[1]
            let eps = Double(n.float("epsilon") ?? 1e-5)
            let scale = arg(1).reshaped(shape), bias = arg(2).reshaped(shape), mean = arg(3).reshaped(shape), variance = arg(4).reshaped(shape)
            return [(x - mean) / sqrt(variance + eps) * scale + bias]
        case "LayerNormalization":
            let x = arg(0)
            nablaPrecondition(axis(n.int("axis") ?? -1, x.rank) == x.rank - 1, "\(name): LayerNormalization over more than the last axis is not supported")
            return [layerNorm(x, gamma: arg(1), beta: optional(2), epsilon: Double(n.float("epsilon") ?? 1e-5))]
        case "GRU", "LSTM", "RNN": return recurrent(n, a)
        case "Slice":
            // Each sliced axis by index selection: any starts, ends and steps, negative ones included.
            var t = arg(0)
            let starts = ints(arg(1)), ends = ints(arg(2))
            let axes = optional(3).map(ints) ?? Array(0..<starts.count), stepsList = optional(4).map(ints) ?? [Int](repeating: 1, count: starts.count)
            for (k, ax0) in axes.enumerated() {
                let ax = axis(ax0, t.rank), size = t.shape[ax], step = stepsList[k]
                nablaPrecondition(step != 0, "\(name): Slice with a step of 0")
                func clampIndex(_ v: Int, _ lo: Int, _ hi: Int) -> Int { Swift.min(Swift.max(v < 0 ? v + size : v, lo), hi) }
                let start = step > 0 ? clampIndex(starts[k], 0, size) : clampIndex(starts[k], -1, size - 1)
                let end = step > 0 ? clampIndex(ends[k], 0, size) : clampIndex(ends[k], -1, size - 1)
                let picked = Array(stride(from: start, to: end, by: step)).map { Int32($0) }
                t = t.indexSelect(Tensor(values: picked), axis: ax)
            }
            return [t]
        default:
            nablaPrecondition(false, "\(name): operator \(n.opType) is not supported")
            return [Tensor(0)]
        }
    }

    /// erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), composed of differentiable ops.
    static func erf(_ x: Tensor) -> Tensor {
        let s = sign(x), z = abs(x)
        let t = 1 / (z * 0.3275911 + 1)
        let poly = t * (t * (t * (t * (t * 1.061405429 - 1.453152027) + 1.421413741) - 0.284496736) + 0.254829592)
        return s * (1 - poly * exp(-(z * z)))
    }

    /// Padding of an NCHW convolution or pooling: explicit `pads`, or SAME_UPPER/SAME_LOWER/VALID.
    private func geometry(_ n: ONNXNode, kernel: (Int, Int), input: (Int, Int)) -> Conv2DGeometry {
        let strides = n.ints("strides") ?? [1, 1], dilations = n.ints("dilations") ?? [1, 1]
        let s = (strides[0], strides.count > 1 ? strides[1] : strides[0]), d = (dilations[0], dilations.count > 1 ? dilations[1] : dilations[0])
        switch n.string("auto_pad") ?? "NOTSET" {
        case "SAME_UPPER": return .same(kernel: kernel, stride: s, dilation: d, input: input)
        case "SAME_LOWER":
            var g = Conv2DGeometry.same(kernel: kernel, stride: s, dilation: d, input: input)
            g.padding = (g.padding.bottom, g.padding.top, g.padding.right, g.padding.left)
            return g
        default:
            let p = n.ints("pads") ?? [0, 0, 0, 0]
            return Conv2DGeometry(kernel: kernel, stride: s, dilation: d, padding: p.count == 4 ? (p[0], p[2], p[1], p[3]) : (0, 0, 0, 0))
        }
    }

    /// An NCHW convolution through Nabla's NHWC one; 1-D convolutions as height-1 images.
    private func convolution(_ n: ONNXNode, _ x: Tensor, _ w: Tensor, _ b: Tensor?) -> Tensor {
        let oneD = x.rank == 3
        let x4 = oneD ? x.unsqueezed(axis: 2) : x, w4 = oneD ? w.unsqueezed(axis: 2) : w
        var node = n
        if oneD {
            for key in ["strides", "dilations"] { if let v = n.ints(key) { node.attributes[key] = .ints([1] + v) } }
            if let p = n.ints("pads"), p.count == 2 { node.attributes["pads"] = .ints([0, p[0], 0, p[1]]) }
        }
        let g = geometry(node, kernel: (w4.shape[2], w4.shape[3]), input: (x4.shape[2], x4.shape[3]))
        let y = conv2d(x4.permuted([0, 2, 3, 1]), w4.permuted([2, 3, 1, 0]), b, geometry: g, groups: n.int("group") ?? 1).permuted([0, 3, 1, 2])
        return oneD ? y.squeezed(axes: [2]) : y
    }

    private func pooling(_ n: ONNXNode, _ x: Tensor) -> Tensor {
        let oneD = x.rank == 3
        let x4 = oneD ? x.unsqueezed(axis: 2) : x
        var node = n
        var k = n.ints("kernel_shape") ?? [1, 1]
        if oneD {
            k = [1] + k
            if let v = n.ints("strides") { node.attributes["strides"] = .ints([1] + v) }
            if let p = n.ints("pads"), p.count == 2 { node.attributes["pads"] = .ints([0, p[0], 0, p[1]]) }
        }
        let g = geometry(node, kernel: (k[0], k[1]), input: (x4.shape[2], x4.shape[3]))
        let padded = g.padding != (0, 0, 0, 0)
        nablaPrecondition(!(n.opType == "AveragePool" && padded && (n.int("count_include_pad") ?? 0) != 0),
                          "\(name): AveragePool counting padding (count_include_pad=1) is not supported")
        let y = pool2d(x4.permuted([0, 2, 3, 1]), n.opType == "MaxPool" ? .max : .average, geometry: g).permuted([0, 3, 1, 2])
        return oneD ? y.squeezed(axes: [2]) : y
    }

    /// ONNX's GRU (gates z, r, h; `linear_before_reset` as PyTorch exports it) and LSTM (gates i, o,
    /// f, c), forward, reverse or bidirectional, over X [steps, batch, input]; outputs Y [steps,
    /// directions, batch, hidden] and the last states [directions, batch, hidden].
    private func recurrent(_ n: ONNXNode, _ a: [Tensor?]) -> [Tensor] {
        let lstm = n.opType == "LSTM", simple = n.opType == "RNN"
        let x = a[0]!, w = a[1]!, r = a[2]!
        let gates = lstm ? 4 : simple ? 1 : 3
        let hidden = n.int("hidden_size") ?? r.shape[2]
        let directions = w.shape[0], steps = x.shape[0], batch = x.shape[1]
        let reverseOnly = n.string("direction") == "reverse"
        let b: Tensor? = a.count > 3 ? a[3] : nil
        // sequence_lens: a row's steps from its length on neither change the state nor output anything.
        let lengths: Tensor? = a.count > 4 ? a[4].map { ($0.dtype == .int32 ? $0 : $0.cast(to: .int32)).reshaped([batch, 1]) } : nil
        let h0: Tensor? = a.count > 5 ? a[5] : nil
        let c0: Tensor? = lstm && a.count > 6 ? a[6] : nil
        nablaPrecondition(!(lstm && a.count > 7 && a[7] != nil), "\(name): LSTM with peepholes is not supported")
        let linearBeforeReset = (n.int("linear_before_reset") ?? 0) != 0
        var ys: [Tensor] = [], lastH: [Tensor] = [], lastC: [Tensor] = []
        for dir in 0..<directions {
            let wd = w.narrowed(axis: 0, start: dir, length: 1).reshaped([gates * hidden, -1])
            let rd = r.narrowed(axis: 0, start: dir, length: 1).reshaped([gates * hidden, hidden])
            let bd = b?.narrowed(axis: 0, start: dir, length: 1).reshaped([2 * gates * hidden])
            let wb = bd?.narrowed(axis: 0, start: 0, length: gates * hidden), rb = bd?.narrowed(axis: 0, start: gates * hidden, length: gates * hidden)
            var h = h0?.narrowed(axis: 0, start: dir, length: 1).reshaped([batch, hidden]) ?? Tensor.zeros([batch, hidden])
            var c = c0?.narrowed(axis: 0, start: dir, length: 1).reshaped([batch, hidden]) ?? Tensor.zeros([batch, hidden])
            // The input's part of every gate for every step at once.
            var xw = matmul(x.reshaped([steps * batch, -1]), wd.transposed())
            if let wb { xw = xw + wb }
            xw = xw.reshaped([steps, batch, gates * hidden])
            var outputs = [Tensor?](repeating: nil, count: steps)
            let backwards = reverseOnly || dir == 1
            for k in 0..<steps {
                let t = backwards ? steps - 1 - k : k
                let (hBefore, cBefore) = (h, c)
                let xt = xw.narrowed(axis: 0, start: t, length: 1).reshaped([batch, gates * hidden])
                var hr = matmul(h, rd.transposed())
                if let rb { hr = hr + rb }
                func part(_ m: Tensor, _ g: Int) -> Tensor { m.narrowed(axis: 1, start: g * hidden, length: hidden) }
                if simple {
                    h = tanh(xt + hr)
                } else if lstm {
                    let i = sigmoid(part(xt, 0) + part(hr, 0)), o = sigmoid(part(xt, 1) + part(hr, 1))
                    let f = sigmoid(part(xt, 2) + part(hr, 2)), candidate = tanh(part(xt, 3) + part(hr, 3))
                    c = f * c + i * candidate
                    h = o * tanh(c)
                } else {
                    let z = sigmoid(part(xt, 0) + part(hr, 0)), reset = sigmoid(part(xt, 1) + part(hr, 1))
                    let candidate: Tensor
                    if linearBeforeReset {
                        candidate = tanh(part(xt, 2) + reset * part(hr, 2))
                    } else {
                        var recurrentPart = matmul(reset * h, rd.narrowed(axis: 0, start: 2 * hidden, length: hidden).transposed())
                        if let rb { recurrentPart = recurrentPart + rb.narrowed(axis: 0, start: 2 * hidden, length: hidden) }
                        candidate = tanh(part(xt, 2) + recurrentPart)
                    }
                    h = (1 - z) * candidate + z * h
                }
                if let lengths {
                    let live = lengths .> Double(t)                                   // [batch, 1]
                    h = select(live, h, hBefore)
                    c = select(live, c, cBefore)
                    outputs[t] = select(live, h, Tensor.zeros([batch, hidden]))
                } else {
                    outputs[t] = h
                }
            }
            ys.append(stack(outputs.map { $0! }, axis: 0))      // [steps, batch, hidden]
            lastH.append(h)
            lastC.append(c)
        }
        let y = stack(ys, axis: 1)                                 // [steps, directions, batch, hidden]
        return [y, stack(lastH, axis: 0)] + (lstm ? [stack(lastC, axis: 0)] : [])
    }
}

extension ONNXGraphModel: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        guard let encoded = Data(base64Encoded: try c.string("onnx")) else { throw .invalidArgument("ONNXGraphModel \(c.name): config field \"onnx\" is not base64") }
        guard case let .array(list)? = c.values["weights"] else { throw .invalidArgument("ONNXGraphModel \(c.name): config field \"weights\" must be a list") }
        var file = try ONNXFile.decode([UInt8](encoded), source: "\(c.name) config")
        var total = 0
        for item in list {
            guard let name = item["name"]?.string, let shape = item["shape"]?.ints, shape.allSatisfy({ $0 >= 0 }) else {
                throw .invalidArgument("ONNXGraphModel \(c.name): each weight needs a name and a shape")
            }
            let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
            total = total > Model.maxParameters - count ? Int.max : total + count
            guard total <= Model.maxParameters else { throw .invalidArgument("ONNXGraphModel \(c.name): the weights are too large") }
            file.graph.initializers.append(ONNXTensor(name: name, dims: shape, type: .float, values: [Double](repeating: 0, count: count)))
        }
        return try ONNXGraphModel(bytes: file.encoded(), source: "\(c.name) config", name: c.name)
    }
}

extension Model {
    /// Reads an ONNX file as an ``ONNXGraphModel``: the same predictions as the framework that wrote
    /// it, trainable with `fit`.
    ///
    /// ```swift
    /// let model = try Model.importONNX(from: URL(fileURLWithPath: "torch_cnn.onnx"))
    /// ```
    /// - Parameter url: the `.onnx` file.
    public static func importONNX(from url: URL) throws(NablaError) -> ONNXGraphModel {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw .invalidArgument("\(url.path): cannot read the file") }
        return try ONNXGraphModel(bytes: [UInt8](data), source: url.lastPathComponent)
    }
}
