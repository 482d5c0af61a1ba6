import Nabla

/// The figures `evaluate` returns: the loss and each compiled metric. Prints as Keras does: the loss
/// alone when there are no metrics, else `[loss, metric, ...]`.
public struct Evaluation: CustomStringConvertible, Sendable {
    public let loss: Double
    /// Metric names and values, in compile order.
    public let metrics: [(name: String, value: Double)]

    /// A metric (or "loss") by name.
    public subscript(_ name: String) -> Double? {
        name == "loss" ? loss : metrics.first { $0.name == name }?.value
    }

    public var description: String {
        metrics.isEmpty ? "\(loss)" : "[" + ([loss] + metrics.map(\.value)).map { "\($0)" }.joined(separator: ", ") + "]"
    }
}

extension Model {
    // MARK: Checks before work

    /// Checks `inputs` and `targets` against the model before the first step.
    func checkData(_ inputs: [Tensor], _ targets: [Tensor]?) throws(NablaError) {
        guard let first = inputs.first else { throw .invalidArgument("\(name): no input data") }
        let n = first.shape.first ?? 0
        guard n > 0 else { throw .invalidArgument("\(name): the input has no samples (shape \(first.shape))") }
        for x in inputs where x.shape.first != n {
            throw .invalidArgument("\(name): inputs have different sample counts: \(inputs.map { $0.shape.first ?? 0 })")
        }
        for t in targets ?? [] where t.shape.first != n {
            throw .invalidArgument("\(name): \(n) input samples but \(t.shape.first ?? 0) targets (shapes \(first.shape) and \(t.shape))")
        }
        if let targets, isFunctional, targets.count != graphOutputs.count {
            throw .invalidArgument("\(name): the model has \(graphOutputs.count) outputs but \(targets.count) targets were given")
        }
        let shapes = inputs.map { Array($0.shape.dropFirst()) }
        if isFunctional {
            guard inputs.count == graphInputs.count else {
                throw .invalidArgument("\(name): expects \(graphInputs.count) inputs, got \(inputs.count)")
            }
            for (s, x) in zip(graphInputs, inputs) {
                let layer = s.layer as! InputLayer
                if Array(x.shape.dropFirst()) != layer.shape {
                    throw .shapeMismatch(layer: layer.name, expected: kerasShape([nil] + layer.shape), actual: kerasShape([nil] + x.shape.dropFirst().map { Optional($0) }))
                }
                if x.dtype != layer.dtype && !(x.dtype.isFloatingPoint && layer.dtype.isFloatingPoint) {
                    throw .dtypeMismatch(layer: layer.name, expected: layer.dtype, actual: x.dtype)
                }
            }
        } else {
            buildIfNeeded(shapes)
            try validate(inputShapes: shapes)
        }
        if let targets, let loss {
            for (i, y) in targets.enumerated() { try checkTargets(y, output: i, loss) }
        }
    }

    private func checkTargets(_ y: Tensor, output: Int, _ loss: any Loss) throws(NablaError) {
        let out = isFunctional ? graphOutputs[output].sampleShape : outputShape(for: expectedInputShapes ?? [Array(y.shape.dropFirst())])
        let outName = isFunctional ? graphOutputs[output].layer.name : (layers.last?.name ?? name)
        let ySample = Array(y.shape.dropFirst())
        if loss is SparseCategoricalCrossentropy {
            guard ySample.isEmpty || ySample == [1] else {
                throw .shapeMismatch(layer: outName, expected: "integer labels of shape (None,) for sparse_categorical_crossentropy",
                                     actual: kerasShape([nil] + ySample))
            }
            return
        }
        let fits = ySample == out || (ySample.isEmpty && out == [1]) || (ySample == [1] && out.isEmpty)
        if !fits {
            throw .shapeMismatch(layer: outName, expected: "targets of shape \(kerasShape([nil] + out)) to match the output",
                                 actual: kerasShape([nil] + ySample))
        }
    }

    private func requireCompiled() throws(NablaError) -> (Optimizer, any Loss) {
        guard let optimizer, let loss else {
            throw .invalidState("\(name): call compile(optimizer:loss:metrics:) before fit, evaluate or trainOnBatch")
        }
        return (optimizer, loss)
    }

    // MARK: Steps

    /// The loss summed over outputs (Keras's total loss for a multi-output model).
    func totalLoss(_ ys: [Tensor], _ outputs: [Tensor], _ loss: any Loss) -> Tensor {
        var total = loss(ys[0], outputs[0])
        for (y, o) in zip(ys.dropFirst(), outputs.dropFirst()) { total = total + loss(y, o) }
        return total
    }

    /// One optimisation step on a batch; returns the batch loss.
    @discardableResult
    func trainStep(_ inputs: [Tensor], _ ys: [Tensor], optimizer: Optimizer, loss: any Loss, parallel: DataParallel? = nil) -> Double {
        // Data-parallel: this rank's shard (possibly empty) and the bucketed all-reduce in the backward pass.
        let localCount = ys[0].shape[0]
        let globalCount = parallel.map { Int($0.communicator.sum([Double(localCount)])[0]) } ?? localCount
        _ = takeAddedLosses()   // anything added outside a step does not belong to this one
        let outputs = localCount > 0 || parallel == nil ? forwardAll(inputs) : []
        let total = outputs.isEmpty ? nil
            : Profiler.measure("loss forward") { takeAddedLosses().reduce(totalLoss(ys, outputs, loss)) { $0 + $1.reshaped([]) } }
        if let parallel {
            parallel.backward(total, parameters: trainableParameters, localCount: localCount, globalCount: globalCount)
        } else {
            total!.backward()
        }
        Profiler.measure("\(optimizer.name) step") { optimizer.update(self) }
        parallel?.checkReplicas(trainableParameters)
        if !outputs.isEmpty {
            Profiler.measure("metrics") { withNoGrad { for m in metrics { m.update(ys[0], outputs[0].detached()) } } }
        }
        return total?.item(Double.self) ?? 0
    }

    /// The losses the model's layers added (``Layer/addLoss(_:)``) since the last call, cleared.
    func takeAddedLosses() -> [Tensor] {
        guard Layer.lossesWereAdded else { return [] }
        var out: [Tensor] = []
        func visit(_ m: Module) {
            if let layer = m as? Layer, !layer.addedLosses.isEmpty {
                out += layer.addedLosses
                layer.addedLosses.removeAll()
            }
            for c in m.children() { visit(c.module) }
        }
        visit(self)
        return out
    }

    /// Rows `indices` of every tensor.
    static func rows(_ t: Tensor, _ indices: ArraySlice<Int>) -> Tensor {
        if indices.count == t.shape[0], indices.first == 0, indices.last == t.shape[0] - 1, indices.count < 2 || indices[indices.startIndex + 1] == 1 {
            return t
        }
        return t.indexSelect(Tensor(values: indices.map { Int32($0) }), axis: 0)
    }

    // MARK: fit

    /// Trains for `epochs` passes over the data, Keras's way: `validationSplit` takes the last
    /// fraction of the samples (before shuffling) to validate on; `shuffle` reorders the rest each
    /// epoch; callbacks see every batch and epoch. Returns the ``History``.
    ///
    /// ```swift
    /// let history = try model.fit(x, y, batchSize: 32, epochs: 10, validationSplit: 0.2)
    /// ```
    @discardableResult
    /// - Parameters:
    ///   - x: the inputs, samples along the first axis.
    ///   - y: the targets, one per sample.
    ///   - batchSize: samples per gradient step.
    ///   - epochs: passes over the training samples.
    ///   - verbose: 0 silent, 1 progress bar, 2 one line per epoch.
    ///   - validationSplit: the last fraction of the samples, held out to validate after each epoch.
    ///   - validationData: inputs and targets to validate on after each epoch (instead of a split).
    ///   - shuffle: reorder the training samples each epoch.
    ///   - callbacks: called at each batch and epoch (early stopping, checkpoints, logs).
    ///   - initialEpoch: the epoch to start counting from, when resuming.
    ///   - distributed: train data-parallel across the processes of a ``DataParallel`` group:
    ///     `batchSize` is the global batch, each rank takes its shard of it, gradients are averaged
    ///     over ranks, and only rank 0 shows progress (give the other ranks no logging callbacks).
    public func fit(_ x: Tensor, _ y: Tensor, batchSize: Int = 32, epochs: Int = 1, verbose: Int = 1,
                    validationSplit: Double = 0, validationData: (Tensor, Tensor)? = nil, shuffle: Bool = true,
                    callbacks: [Callback] = [], initialEpoch: Int = 0, distributed: DataParallel? = nil) throws(NablaError) -> History {
        try fit([x], [y], batchSize: batchSize, epochs: epochs, verbose: verbose, validationSplit: validationSplit,
                validationData: validationData.map { ([$0.0], [$0.1]) }, shuffle: shuffle, callbacks: callbacks, initialEpoch: initialEpoch,
                distributed: distributed)
    }

    /// `fit` for a model with several inputs and one output.
    @discardableResult
    public func fit(_ inputs: [Tensor], _ y: Tensor, batchSize: Int = 32, epochs: Int = 1, verbose: Int = 1,
                    validationSplit: Double = 0, validationData: ([Tensor], Tensor)? = nil, shuffle: Bool = true,
                    callbacks: [Callback] = [], initialEpoch: Int = 0, distributed: DataParallel? = nil) throws(NablaError) -> History {
        try fit(inputs, [y], batchSize: batchSize, epochs: epochs, verbose: verbose, validationSplit: validationSplit,
                validationData: validationData.map { ($0.0, [$0.1]) }, shuffle: shuffle, callbacks: callbacks, initialEpoch: initialEpoch,
                distributed: distributed)
    }

    /// `fit` for a model with several inputs and several outputs: one target per output, and the
    /// loss is the sum of the loss of each output (metrics are reported for the first output).
    @discardableResult
    public func fit(_ inputs: [Tensor], _ targets: [Tensor], batchSize: Int = 32, epochs: Int = 1, verbose: Int = 1,
                    validationSplit: Double = 0, validationData: ([Tensor], [Tensor])? = nil, shuffle: Bool = true,
                    callbacks: [Callback] = [], initialEpoch: Int = 0, distributed: DataParallel? = nil) throws(NablaError) -> History {
        _ = try requireCompiled()
        guard !targets.isEmpty else { throw .invalidArgument("fit: no targets") }
        guard batchSize > 0 else { throw .invalidArgument("fit: batchSize must be positive, got \(batchSize)") }
        guard validationSplit >= 0 && validationSplit < 1 else { throw .invalidArgument("fit: validationSplit must be in [0, 1), got \(validationSplit)") }
        try checkData(inputs, targets)
        if let (vx, vy) = validationData { try checkData(vx, vy) }

        let n = targets[0].shape[0]
        let trainCount = validationSplit > 0 ? Int((Double(n) * (1 - validationSplit)).rounded(.down)) : n
        guard trainCount > 0 else { throw .invalidArgument("fit: validationSplit \(validationSplit) leaves no training samples of \(n)") }
        var validation = validationData
        if validationData == nil && trainCount < n {
            let rest = Array(trainCount..<n)[...]
            validation = (inputs.map { Model.rows($0, rest) }, targets.map { Model.rows($0, rest) })
        }

        let plan = IndexBatches(count: trainCount, batchSize: batchSize)
        if let distributed { try distributed.prepare(self, samples: trainCount, batchSize: batchSize) }
        return try runEpochs(steps: plan.batchCount, epochs: epochs, verbose: verbose, validation: validation, validationBatchSize: batchSize,
                             callbacks: callbacks, initialEpoch: initialEpoch, checkFirstBatch: false, distributed: distributed) {
            // The global batches are one process's: rank 0's permutation, given to every rank (their
            // generators may have drifted apart through dropout); each rank then takes its shard.
            var epoch = plan.epoch(shuffledBy: shuffle ? .current : nil)
            if let distributed, shuffle { epoch = plan.batches(of: distributed.fromPrimary(epoch.flatMap { $0 })) }
            var batches = epoch.makeIterator()
            return AnyIterator {
                batches.next().map { batch in
                    let idx = distributed?.shard(batch) ?? batch
                    return (inputs.map { Model.rows($0, idx) }, targets.map { Model.rows($0, idx) })
                }
            }
        }
    }

    /// Trains on the batches of `source` (a `DataLoader`, say), one pass per epoch; validation, callbacks
    /// and the returned ``History`` are as for tensors.
    ///
    /// ```swift
    /// try model.fit(DataLoader(TensorDataset(x, y), batchSize: 64), epochs: 10, validationData: (xTest, yTest))
    /// ```
    @discardableResult
    /// - Parameters:
    ///   - source: the batches of each epoch (a `DataLoader`).
    ///   - epochs: passes over the source.
    ///   - verbose: 0 silent, 1 progress bar, 2 one line per epoch.
    ///   - validationData: inputs and targets to validate on after each epoch.
    ///   - callbacks: called at each batch and epoch.
    ///   - initialEpoch: the epoch to start counting from, when resuming.
    public func fit(_ source: some BatchSource, epochs: Int = 1, verbose: Int = 1, validationData: (Tensor, Tensor)? = nil,
                    callbacks: [Callback] = [], initialEpoch: Int = 0) throws(NablaError) -> History {
        _ = try requireCompiled()
        if let (vx, vy) = validationData { try checkData([vx], [vy]) }
        return try runEpochs(steps: source.batchCount, epochs: epochs, verbose: verbose,
                             validation: validationData.map { ([$0.0], [$0.1]) }, validationBatchSize: 256,
                             callbacks: callbacks, initialEpoch: initialEpoch, checkFirstBatch: true) {
            let batches = source.epoch()
            return AnyIterator { batches.next().map { ([$0.0], [$0.1]) } }
        }
    }

    /// The epoch loop shared by every `fit`: callbacks, progress, one optimisation step per batch of
    /// `epochBatches()` (called once per epoch, after the epoch's callbacks and progress line), then
    /// validation.
    private func runEpochs(steps: Int, epochs: Int, verbose requestedVerbose: Int, validation: ([Tensor], [Tensor])?, validationBatchSize: Int,
                           callbacks: [Callback], initialEpoch: Int, checkFirstBatch: Bool, distributed: DataParallel? = nil,
                           epochBatches: () -> AnyIterator<([Tensor], [Tensor])>) throws(NablaError) -> History {
        let (optimizer, loss) = try requireCompiled()
        let verbose = distributed.map { $0.isPrimary ? requestedVerbose : 0 } ?? requestedVerbose
        let history = History()
        let all = [history] + callbacks
        for c in all { c.model = self }
        stopTraining = false
        for c in all { c.onTrainBegin(logs: [:]) }
        var lastLogs: [String: Double] = [:]
        var checked = !checkFirstBatch
        for epoch in initialEpoch..<epochs {
            train()
            for c in all { c.onEpochBegin(epoch, logs: [:]) }
            if verbose >= 1 { ProgressBar.writeToStandardOutput("Epoch \(epoch + 1)/\(epochs)\n") }
            var bar = ProgressBar(target: steps, verbose: verbose)
            for m in metrics { m.reset() }
            var lossSum = 0.0, seen = 0, step = 0
            let batches = epochBatches()
            while let (xs, ys) = Profiler.measure("next batch", { batches.next() }) {
                if !checked { try checkData(xs, ys); checked = true }
                for c in all { c.onBatchBegin(step, logs: [:]) }
                let count = ys[0].shape[0]
                let batchLoss = trainStep(xs, ys, optimizer: optimizer, loss: loss, parallel: distributed)
                lossSum += batchLoss * Double(count)
                seen += count
                var logs = ["loss": lossSum / Double(Swift.max(seen, 1))]
                for m in metrics { logs[m.name] = m.result() }
                // Every rank reports the figures of the whole data seen so far, so that callbacks decide alike.
                if let distributed { logs = distributed.average(logs, count: seen) }
                bar.update(step + 1, values: Model.ordered(logs), finishing: false)
                for c in all { c.onBatchEnd(step, logs: logs.merging(["batch_loss": batchLoss]) { a, _ in a }) }
                lastLogs = logs
                step += 1
                if stopTraining { break }
            }
            eval()
            if let (vx, vy) = validation {
                let v = try evaluate(vx, vy, batchSize: validationBatchSize, verbose: 0)
                lastLogs["val_loss"] = v.loss
                for (k, value) in v.metrics { lastLogs["val_" + k] = value }
            }
            bar.finish(steps, values: Model.ordered(lastLogs))
            for c in all { c.onEpochEnd(epoch, logs: lastLogs) }
            if stopTraining { break }
        }
        eval()
        for c in all { c.onTrainEnd(logs: lastLogs) }
        return history
    }

    /// Keras sorts the figures by name, which puts `val_` figures last.
    static func ordered(_ logs: [String: Double]) -> [(String, Double)] {
        logs.keys.sorted().map { ($0, logs[$0]!) }
    }

    // MARK: evaluate, predict

    /// The loss and metrics over `x`, `y`, in inference mode.
    ///
    /// ```swift
    /// print("Test loss:", try model.evaluate(xTest, yTest))
    /// ```
    @discardableResult
    /// - Parameters:
    ///   - x: the inputs.
    ///   - y: the targets.
    ///   - batchSize: samples per forward pass.
    ///   - verbose: 0 silent, 1 progress bar.
    public func evaluate(_ x: Tensor, _ y: Tensor, batchSize: Int = 32, verbose: Int = 1) throws(NablaError) -> Evaluation {
        try evaluate([x], [y], batchSize: batchSize, verbose: verbose)
    }

    /// `evaluate` for a model with several inputs and one output.
    @discardableResult
    public func evaluate(_ inputs: [Tensor], _ y: Tensor, batchSize: Int = 32, verbose: Int = 1) throws(NablaError) -> Evaluation {
        try evaluate(inputs, [y], batchSize: batchSize, verbose: verbose)
    }

    /// `evaluate` for a model with several inputs and outputs (one target per output).
    @discardableResult
    public func evaluate(_ inputs: [Tensor], _ targets: [Tensor], batchSize: Int = 32, verbose: Int = 1) throws(NablaError) -> Evaluation {
        let (_, loss) = try requireCompiled()
        guard !targets.isEmpty else { throw .invalidArgument("evaluate: no targets") }
        try checkData(inputs, targets)
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        for m in metrics { m.reset() }
        let n = targets[0].shape[0]
        let plan = IndexBatches(count: n, batchSize: batchSize)
        var bar = ProgressBar(target: plan.batchCount, verbose: verbose)
        var lossSum = 0.0
        withNoGrad {
            for (step, idx) in plan.epoch(shuffledBy: nil).enumerated() {
                let ys = targets.map { Model.rows($0, idx) }
                let outputs = forwardAll(inputs.map { Model.rows($0, idx) })
                lossSum += totalLoss(ys, outputs, loss).item(Double.self) * Double(idx.count)
                for m in metrics { m.update(ys[0], outputs[0]) }
                var logs = ["loss": lossSum / Double((idx.last ?? 0) + 1)]
                for m in metrics { logs[m.name] = m.result() }
                bar.update(step + 1, values: Model.ordered(logs))
            }
        }
        return Evaluation(loss: lossSum / Double(n), metrics: metrics.map { ($0.name, $0.result()) })
    }

    /// The model's outputs for `x`, computed in batches in inference mode.
    ///
    /// ```swift
    /// let probabilities = try model.predict(xTest)
    /// ```
    /// - Parameters:
    ///   - x: the inputs.
    ///   - batchSize: samples per forward pass.
    ///   - verbose: 0 silent, 1 progress bar.
    public func predict(_ x: Tensor, batchSize: Int = 32, verbose: Int = 0) throws(NablaError) -> Tensor {
        try predict([x], batchSize: batchSize, verbose: verbose)
    }

    /// `predict` for a model with several inputs (the first output).
    public func predict(_ inputs: [Tensor], batchSize: Int = 32, verbose: Int = 0) throws(NablaError) -> Tensor {
        try predictAll(inputs, batchSize: batchSize, verbose: verbose)[0]
    }

    /// Every output of the model for `inputs`, computed in batches in inference mode.
    public func predictAll(_ inputs: [Tensor], batchSize: Int = 32, verbose: Int = 0) throws(NablaError) -> [Tensor] {
        try checkData(inputs, nil)
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        let plan = IndexBatches(count: inputs[0].shape[0], batchSize: batchSize)
        var bar = ProgressBar(target: plan.batchCount, verbose: verbose)
        var parts: [[Tensor]] = []
        withNoGrad {
            for (step, idx) in plan.epoch(shuffledBy: nil).enumerated() {
                parts.append(forwardAll(inputs.map { Model.rows($0, idx) }))
                bar.update(step + 1, values: [])
            }
        }
        return (0..<(parts.first?.count ?? 0)).map { k in
            parts.count == 1 ? parts[0][k] : concatenate(parts.map { $0[k] }, axis: 0)
        }
    }

    /// One training step on one batch; returns the loss and metrics of that batch.
    @discardableResult
    /// - Parameters:
    ///   - x: one batch of inputs.
    ///   - y: its targets.
    public func trainOnBatch(_ x: Tensor, _ y: Tensor) throws(NablaError) -> [String: Double] {
        let (optimizer, loss) = try requireCompiled()
        try checkData([x], [y])
        train()
        for m in metrics { m.reset() }
        var logs = ["loss": trainStep([x], [y], optimizer: optimizer, loss: loss)]
        for m in metrics { logs[m.name] = m.result() }
        return logs
    }
}
