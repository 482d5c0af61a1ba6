/// A source of training batches, one pass per epoch: what `Model.fit` accepts besides tensors.
/// NablaData's `DataLoader` is one; any type that can produce (input, target) batches can be.
///
/// ```swift
/// let loader = DataLoader(TensorDataset(x, y), batchSize: 64, shuffle: true)
/// try model.fit(loader, epochs: 10)
/// ```
public protocol BatchSource {
    /// Batches per epoch.
    var batchCount: Int { get }
    /// The batches of one epoch, in order; called once per epoch.
    func epoch() -> AnyIterator<(Tensor, Tensor)>
}
