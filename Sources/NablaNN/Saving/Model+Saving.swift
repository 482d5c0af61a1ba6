import Foundation
import Nabla

/// What `Model.save(to:)` writes into its folder.
public enum ModelFiles {
    public static let config = "config.json"
    public static let weights = "model.safetensors"
}

extension NablaError {
    static func file(_ e: TensorFileError) -> NablaError { .invalidState(e.description) }
}

extension Model {
    // MARK: Architecture

    /// The architecture as JSON-ready values: the model's class, its layers and how they connect,
    /// and the compile settings.
    public func architecture() throws(NablaError) -> JSONValue {
        var root: [String: JSONValue] = ["name": .string(name), "format": "nabla-model-1"]
        // Refuse up front what Model.load could not rebuild, rather than write a folder that fails later.
        func checkLoadable(_ l: Layer, _ className: String) throws(NablaError) {
            guard LayerRegistry.isRegistered(className) else {
                throw .invalidState("\(name): cannot save layer \(l.name) (\(className)): Model.load could not rebuild it; "
                                    + "register it first with LayerRegistry.register(\"\(className)\") { config in ... }")
            }
        }
        func layerEntry(_ l: Layer) -> [String: JSONValue] {
            var e: [String: JSONValue] = ["class_name": .string(l.typeName), "name": .string(l.name), "config": .object(l.config)]
            if let shapes = l.builtInputShapes { e["built_input_shapes"] = .array(shapes.map { JSONValue($0) }) }
            return e
        }
        if isFunctional {
            root["class_name"] = "Functional"
            var seen = Set<ObjectIdentifier>()
            var entries: [JSONValue] = []
            for t in plan {
                guard !seen.contains(ObjectIdentifier(t.layer)) else {
                    throw .invalidState("\(name): layer \(t.layer.name) is called more than once; saving shared layers is not supported")
                }
                seen.insert(ObjectIdentifier(t.layer))
                if !(t.layer is InputLayer) { try checkLoadable(t.layer, t.layer.typeName) }
                var e = layerEntry(t.layer)
                if let input = t.layer as? InputLayer {
                    e["class_name"] = "InputLayer"
                    e["config"] = ["shape": JSONValue(input.shape), "dtype": .string(input.dtype.rawValue)]
                }
                e["inbound"] = .array(t.inputs.map { .string($0.layer.name) })
                entries.append(.object(e))
            }
            root["layers"] = .array(entries)
            root["inputs"] = .array(graphInputs.map { .string($0.layer.name) })
            root["outputs"] = .array(graphOutputs.map { .string($0.layer.name) })
        } else if self is Sequential {
            root["class_name"] = "Sequential"
            for l in layers { try checkLoadable(l, l.typeName) }
            root["layers"] = .array(layers.map { .object(layerEntry($0)) })
            if let shape = expectedInputShapes?.first { root["input_shape"] = JSONValue(shape) }
        } else {
            try checkLoadable(self, typeName)
            root["class_name"] = .string(typeName)
            root["config"] = .object(config)
            if let shapes = builtInputShapes { root["built_input_shapes"] = .array(shapes.map { JSONValue($0) }) }
        }
        if !metadata.isEmpty { root["metadata"] = .object(metadata) }
        if let optimizer, let loss {
            root["compile"] = ["optimizer": .string(optimizer.name), "learning_rate": .number(optimizer.learningRate),
                               "loss": .string(loss.name), "from_logits": .bool(Model.fromLogits(loss)),
                               "metrics": .array(metrics.map { .string($0.name) })]
        }
        return .object(root)
    }

    /// Saves the model into folder `url`: `config.json` (architecture and compile settings) and
    /// `model.safetensors` (every parameter by dotted name). Each file is written atomically.
    ///
    /// ```swift
    /// try model.save(to: URL(fileURLWithPath: "digits-model"))
    /// let again = try Model.load(from: URL(fileURLWithPath: "digits-model"))
    /// ```
    /// - Parameters:
    ///   - url: the folder; created when missing, its two files replaced atomically.
    public func save(to url: URL) throws(NablaError) {
        let json: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            json = try encoder.encode(try architecture())
        } catch let e as NablaError { throw e } catch { throw .invalidState("\(name): cannot encode the architecture: \(error)") }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw .invalidState("\(url.path): cannot create the folder: \(error.localizedDescription)")
        }
        do {
            try AtomicFile.write(json, to: url.appendingPathComponent(ModelFiles.config))
            try SafeTensors.write(stateDict(), metadata: ["format": "nabla", "model": name], to: url.appendingPathComponent(ModelFiles.weights))
        } catch { throw .file(error) }
    }

    /// Rebuilds a model saved with `save(to:)`, without the code that made it (subclassed models
    /// need their type registered with ``LayerRegistry``), loads its weights (checking every name,
    /// shape and dtype) and compiles it as it was compiled.
    /// - Parameters:
    ///   - url: a folder written by `save(to:)` (or by `nabla ... --save`).
    public static func load(from url: URL) throws(NablaError) -> Model {
        let configURL = url.appendingPathComponent(ModelFiles.config)
        guard let data = FileManager.default.contents(atPath: configURL.path) else {
            throw .invalidState("\(configURL.path): no such file (is \(url.path) a folder written by Model.save?)")
        }
        let (model, root) = try fromConfiguration(data, file: configURL.path)
        model.metadata = root["metadata"]?.object ?? [:]
        let weights: [String: Tensor]
        do { weights = try SafeTensors.read(from: url.appendingPathComponent(ModelFiles.weights)).tensors } catch { throw .file(error) }
        try model.loadStateDict(weights)
        if let c = root["compile"]?.object, let opt = c["optimizer"]?.string, let loss = c["loss"]?.string {
            let o = try Optimizer.named(opt)
            if let lr = c["learning_rate"]?.double { o.learningRate = lr }
            var l = try Losses.named(loss)
            if c["from_logits"]?.bool == true {
                switch l {
                case is BinaryCrossentropy: l = BinaryCrossentropy(fromLogits: true)
                case is CategoricalCrossentropy: l = CategoricalCrossentropy(fromLogits: true)
                case is SparseCategoricalCrossentropy: l = SparseCategoricalCrossentropy(fromLogits: true)
                default: break
                }
            }
            try model.compile(optimizer: o, loss: LossBox(loss: l), metrics: (c["metrics"]?.array ?? []).compactMap(\.string))
        }
        return model
    }

    /// Rebuilds a model from the bytes of a `config.json` (weights freshly initialised).
    /// - Parameters:
    ///   - data: the bytes of a `config.json`.
    ///   - file: the name errors give it.
    public static func fromConfiguration(_ data: Data, file: String = "<config>") throws(NablaError) -> (model: Model, config: JSONValue) {
        try checkNesting(data, file: file)
        let root: JSONValue
        do { root = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw .invalidState("\(file): not valid JSON: \(error.localizedDescription)")
        }
        return (try build(from: root, file: file), root)
    }

    /// Refuses JSON nested deeper than 32 levels before a recursive parser sees it.
    static func checkNesting(_ data: Data, file: String) throws(NablaError) {
        var depth = 0, inString = false, escaped = false
        for b in data {
            if inString {
                if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false }
                continue
            }
            if b == 0x22 { inString = true } else if b == 0x7B || b == 0x5B {
                depth += 1
                if depth > 32 { throw .invalidState("\(file): the JSON nests deeper than 32 levels") }
            } else if b == 0x7D || b == 0x5D { depth -= 1 }
        }
    }

    /// Limits that keep a hostile config from asking for absurd shapes or allocations.
    static let maxDimension = 1 << 24, maxSampleElements = 1 << 26, maxParameters = 1 << 28

    static func checkShape(_ shape: [Int], _ what: String, file: String) throws(NablaError) {
        guard shape.count <= 8 else { throw .invalidState("\(file): \(what): rank \(shape.count) is more than 8") }
        var n = 1
        for d in shape {
            guard d >= 0 && d <= maxDimension else { throw .invalidState("\(file): \(what): dimension \(d) is out of range") }
            n *= Swift.max(d, 1)
            guard n <= maxSampleElements else { throw .invalidState("\(file): \(what): shape \(shape) is too large") }
        }
    }

    /// Parameters a built-in layer would create for `shapes`, checked against the budget.
    static func checkBudget(_ layer: Layer, _ shapes: [[Int]], _ total: inout Int, file: String) throws(NablaError) {
        for s in shapes { try checkShape(s, "input of \(layer.name)", file: file) }
        let last = shapes.first?.last ?? 1
        let count: Int
        switch layer {
        case let d as Dense: count = last * d.units + d.units
        case let e as Embedding: count = e.inputDim * e.outputDim
        case is LayerNormalization, is BatchNormalization: count = 4 * last
        default: count = 0
        }
        total += count
        guard total <= maxParameters else { throw .invalidState("\(file): the model would need more than \(maxParameters) parameters") }
        let multiInput = layer is Concatenate || layer is Add || layer is Dot
        guard multiInput || shapes.count == 1 else { throw .invalidState("\(file): layer \(layer.name) takes one input, got \(shapes.count)") }
        if let c = layer as? Concatenate, let rank = shapes.first?.count {
            guard c.axis != 0, c.axis >= -rank, c.axis <= rank else { throw .invalidState("\(file): layer \(layer.name): axis \(c.axis) is out of range") }
            guard shapes.allSatisfy({ $0.count == rank }) else { throw .invalidState("\(file): layer \(layer.name): inputs of different ranks") }
        }
        if let r = layer as? Reshape {
            try checkShape(r.targetShape.map { $0 == -1 ? 1 : $0 }, "target shape of \(layer.name)", file: file)
            let known = r.targetShape.filter { $0 != -1 }.reduce(1, *), n = (shapes.first ?? []).reduce(1, *)
            guard r.targetShape.filter({ $0 == -1 }).count <= 1, known > 0,
                  r.targetShape.contains(-1) ? n % known == 0 : known == n else {
                throw .invalidState("\(file): layer \(layer.name): cannot reshape \(shapes.first ?? []) to \(r.targetShape)")
            }
        }
    }

    static func fromLogits(_ loss: any Loss) -> Bool {
        switch loss {
        case let l as BinaryCrossentropy: l.fromLogits
        case let l as CategoricalCrossentropy: l.fromLogits
        case let l as SparseCategoricalCrossentropy: l.fromLogits
        default: false
        }
    }

    static func build(from root: JSONValue, file: String) throws(NablaError) -> Model {
        func fail(_ m: String) -> NablaError { .invalidState("\(file): \(m)") }
        guard let className = root["class_name"]?.string else { throw fail("no class_name") }
        let modelName = root["name"]?.string
        func makeLayer(_ entry: JSONValue) throws(NablaError) -> Layer {
            guard let cls = entry["class_name"]?.string, let name = entry["name"]?.string, let cfg = entry["config"]?.object else {
                throw fail("a layer entry lacks class_name, name or config")
            }
            let layer = try LayerRegistry.make(LayerConfig(className: cls, name: name, values: cfg))
            if let shapes = entry["built_input_shapes"]?.array {
                let s = shapes.compactMap(\.ints)
                guard s.count == shapes.count, !s.isEmpty else { throw fail("layer \(name): built_input_shapes must be lists of integers") }
                var scratch = 0
                try checkBudget(layer, s, &scratch, file: file)
                layer.buildIfNeeded(s)
            }
            return layer
        }
        switch className {
        case "Sequential":
            var layers: [Layer] = []
            for e in root["layers"]?.array ?? [] { layers.append(try makeLayer(e)) }
            if var shape = root["input_shape"]?.ints ?? layers.first?.builtInputShapes?.first {
                var total = 0
                for layer in layers {
                    try checkBudget(layer, [shape], &total, file: file)
                    if layer.isBuilt { try layer.validate(inputShapes: [shape]) }
                    shape = layer.outputShape(for: [shape])
                }
            }
            return Sequential(layers, inputShape: root["input_shape"]?.ints, name: modelName)
        case "Functional":
            var tensors: [String: SymbolicTensor] = [:]
            var total = 0
            for e in root["layers"]?.array ?? [] {
                guard let name = e["name"]?.string else { throw fail("a layer entry has no name") }
                if e["class_name"]?.string == "InputLayer" {
                    guard let shape = e["config"]?["shape"]?.ints else { throw fail("input \(name) has no shape") }
                    try checkShape(shape, "input \(name)", file: file)
                    let dtype = DType(rawValue: e["config"]?["dtype"]?.string ?? "float32") ?? .float32
                    tensors[name] = Input(shape: shape, dtype: dtype, name: name)
                    continue
                }
                let layer = try makeLayer(e)
                let inbound = (e["inbound"]?.array ?? []).compactMap(\.string)
                var args: [SymbolicTensor] = []
                for i in inbound {
                    guard let t = tensors[i] else { throw fail("layer \(name) takes \(i), which is not defined before it") }
                    args.append(t)
                }
                guard !args.isEmpty else { throw fail("layer \(name) has no inbound layers") }
                let shapes = args.map(\.sampleShape)
                try checkBudget(layer, shapes, &total, file: file)
                layer.buildIfNeeded(shapes)
                try layer.validate(inputShapes: shapes)
                tensors[name] = layer(args)
            }
            let inputs = (root["inputs"]?.array ?? []).compactMap(\.string), outputs = (root["outputs"]?.array ?? []).compactMap(\.string)
            var ins: [SymbolicTensor] = [], outs: [SymbolicTensor] = []
            for i in inputs { guard let t = tensors[i] else { throw fail("unknown input \(i)") }; ins.append(t) }
            for o in outputs { guard let t = tensors[o] else { throw fail("unknown output \(o)") }; outs.append(t) }
            guard !ins.isEmpty, !outs.isEmpty else { throw fail("a functional model needs inputs and outputs") }
            return Model(inputs: ins, outputs: outs, name: modelName)
        default:
            let layer = try LayerRegistry.make(LayerConfig(className: className, name: modelName ?? className, values: root["config"]?.object ?? [:]))
            guard let model = layer as? Model else { throw fail("\(className) is registered but is not a Model") }
            if let shapes = root["built_input_shapes"]?.array?.compactMap(\.ints) { model.buildIfNeeded(shapes) }
            return model
        }
    }

    // MARK: Weights from other frameworks

    /// Loads weights by name into this model: `mapping` renames source tensors to parameter names
    /// (unmapped names are used as they are), and a 2-D source whose transpose fits a parameter is
    /// transposed (PyTorch's Linear stores [out, in], Dense's kernel is [in, out]). Every missing,
    /// unexpected or misshapen tensor is reported at once, and nothing changes unless all fit.
    ///
    /// ```swift
    /// let (state, _) = try SafeTensors.read(from: URL(fileURLWithPath: "torch_mlp.safetensors"))
    /// try model.loadWeights(state, mapping: ["0.weight": "layers.0.kernel", "0.bias": "layers.0.bias"])
    /// ```
    /// - Parameters:
    ///   - tensors: tensors by name, as `SafeTensors.read` gives them.
    ///   - mapping: source name to parameter name, for names that differ.
    ///   - ignoring: source names to skip (buffers, optimizer state).
    public func loadWeights(_ tensors: [String: Tensor], mapping: [String: String] = [:], ignoring: Set<String> = []) throws(NablaError) {
        let params = Dictionary(uniqueKeysWithValues: namedParameters().map { ($0.name, $0.parameter) })
        var renamed: [String: Tensor] = [:]
        var problems: [String] = []
        for (source, t) in tensors where !ignoring.contains(source) {
            let target = mapping[source] ?? source
            guard let p = params[target] else { problems.append("unexpected \(source)\(target != source ? " (as \(target))" : "")"); continue }
            var value = t.dtype == p.value.dtype ? t : (t.dtype.isFloatingPoint && p.value.dtype.isFloatingPoint ? t.cast(to: p.value.dtype) : t)
            if value.shape != p.shape && value.rank == 2 && value.shape.reversed() == p.shape { value = value.T.detached() }
            renamed[target] = value
        }
        for name in params.keys.sorted() where renamed[name] == nil { problems.append("missing \(name) \(params[name]!.shape)") }
        guard problems.isEmpty else { throw .weightsMismatch(problems.sorted()) }
        try loadStateDict(renamed)
    }
}

/// A loss value of unknown concrete type, for `compile`.
struct LossBox: LossConvertible {
    let loss: any Loss
    func makeLoss() -> any Loss { loss }
}
