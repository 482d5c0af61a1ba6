import Nabla

/// The base of every layer and model: finds its parameters and child modules by reflection,
/// names them with stable dotted paths, counts them, switches train/eval mode and freezes them.
///
/// ```swift
/// let net = Sequential([Dense(units: 4, inputDim: 2), Dense(units: 1)])
/// net.namedParameters().map(\.name)   // ["layers.0.kernel", "layers.0.bias", "layers.1.kernel", "layers.1.bias"]
/// net.parameterCount                  // 17
/// ```
open class Module: @unchecked Sendable {
    /// Whether the module is in training mode (dropout active, batch statistics updated).
    public private(set) var isTraining = true
    /// Reflection is slow (dynamic casts of every stored property), so its result is kept until the
    /// module's structure changes.
    private var reflected: Reflected?

    public init() {}

    /// Parameters declared directly by this module (not its children), with their property names.
    open func ownParameters() -> [(name: String, parameter: Parameter)] {
        reflection().parameters
    }

    /// Child modules, with their property names (arrays as `name.index`).
    open func children() -> [(name: String, module: Module)] {
        reflection().children
    }

    /// Call after replacing a parameter or child module property, so that they are found again.
    /// (Building a layer and `Sequential.add` do this themselves.)
    public func structureDidChange() { reflected = nil }

    private func reflection() -> Reflected {
        if let reflected { return reflected }
        let r = Module.reflect(self)
        reflected = r
        return r
    }

    /// Every parameter of this module and its descendants, with dotted names.
    public func namedParameters() -> [(name: String, parameter: Parameter)] {
        var out = ownParameters()
        var seen = Set(out.map { ObjectIdentifier($0.parameter) })
        for (childName, child) in children() {
            for (name, p) in child.namedParameters() where !seen.contains(ObjectIdentifier(p)) {
                seen.insert(ObjectIdentifier(p))
                out.append((childName + "." + name, p))
            }
        }
        return out
    }

    /// Every parameter, in the order of `namedParameters()`.
    public var parameters: [Parameter] { namedParameters().map(\.parameter) }

    /// The parameters that optimizers update.
    public var trainableParameters: [Parameter] { parameters.filter(\.trainable) }

    /// The number of scalars in all parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// The number of scalars in trainable parameters.
    public var trainableParameterCount: Int { trainableParameters.reduce(0) { $0 + $1.value.count } }

    /// Switches this module and its descendants to training (true) or inference (false) mode.
    public func train(_ on: Bool = true) {
        isTraining = on
        for (_, c) in children() { c.train(on) }
    }

    /// Inference mode: `train(false)`.
    public func eval() { train(false) }

    /// Stops (or resumes) training of every parameter.
    public func freeze(_ frozen: Bool = true) {
        for p in parameters { p.trainable = !frozen }
    }

    /// Clears the gradients of every parameter.
    public func zeroGrad() {
        for p in parameters { p.value.zeroGrad() }
    }

    /// Every parameter's value by dotted name (what saving writes).
    public func stateDict() -> [String: Tensor] {
        Dictionary(namedParameters().map { ($0.name, $0.parameter.value.detached()) }, uniquingKeysWith: { a, _ in a })
    }

    /// Replaces parameters by dotted name. Every problem (missing, unexpected, wrong shape or dtype)
    /// is reported at once and nothing is changed unless all fit.
    public func loadStateDict(_ state: [String: Tensor], strict: Bool = true) throws(NablaError) {
        let named = namedParameters()
        var problems: [String] = []
        for (name, p) in named {
            guard let t = state[name] else {
                if strict { problems.append("missing \(name) \(p.shape)") }
                continue
            }
            if t.shape != p.shape { problems.append("\(name): shape \(t.shape), expected \(p.shape)") }
            else if t.dtype != p.value.dtype { problems.append("\(name): dtype \(t.dtype), expected \(p.value.dtype)") }
        }
        if strict {
            let known = Set(named.map(\.name))
            for key in state.keys.sorted() where !known.contains(key) { problems.append("unexpected \(key)") }
        }
        guard problems.isEmpty else { throw .weightsMismatch(problems) }
        for (name, p) in named { if let t = state[name] { p.assign(t) } }
    }

    // MARK: Reflection

    struct Reflected {
        var parameters: [(name: String, parameter: Parameter)] = []
        var children: [(name: String, module: Module)] = []
    }

    static func reflect(_ object: Module) -> Reflected {
        var out = Reflected()
        var mirror: Mirror? = Mirror(reflecting: object)
        var mirrors: [Mirror] = []
        while let m = mirror {
            mirrors.append(m)
            mirror = m.superclassMirror
        }
        // Base-class properties first, so inherited parameters keep stable positions.
        for m in mirrors.reversed() {
            for child in m.children {
                guard var label = child.label else { continue }
                if label.hasPrefix("$__lazy_storage_$_") { label.removeFirst("$__lazy_storage_$_".count) }
                if label.hasPrefix("_") { label.removeFirst() }
                collect(child.value, label, &out)
            }
        }
        return out
    }

    private static func collect(_ value: Any, _ label: String, _ out: inout Reflected) {
        switch value {
        case let p as Parameter: out.parameters.append((label, p))
        case let m as Module: out.children.append((label, m))
        case let ps as [Parameter]: for (i, p) in ps.enumerated() { out.parameters.append(("\(label).\(i)", p)) }
        case let ms as [Module]: for (i, m) in ms.enumerated() { out.children.append(("\(label).\(i)", m)) }
        case let opt as Parameter?: if let p = opt { out.parameters.append((label, p)) }
        case let opt as Module?: if let m = opt { out.children.append((label, m)) }
        default: break
        }
    }
}
