import Nabla

/// Which input pixels a prediction depends on: saliency maps (the gradient of the class score with
/// respect to the input) and integrated gradients (Sundararajan et al.: the input minus a baseline,
/// times the average gradient along the straight path between them).
///
/// ```swift
/// let heat = Attribution.saliency(model, image: x, classIndex: 7)                  // [H, W]
/// let ig = Attribution.integratedGradients(model, image: x, classIndex: 7, steps: 32)
/// ```
public enum Attribution {
    /// |∂ score / ∂ input|, the maximum over channels: [H, W] for an image [H, W, C] (or the input's
    /// shape for other models).
    public static func saliency(_ model: Model, image: Tensor, classIndex: Int) -> Tensor {
        let g = inputGradient(model, image.unsqueezed(axis: 0), classIndex: classIndex).squeezed(axes: [0])
        return reduceChannels(abs(g))
    }

    /// Integrated gradients from `baseline` (zeros by default) in `steps` steps, summed over channels.
    /// The attributions add up (approximately) to score(image) − score(baseline).
    public static func integratedGradients(_ model: Model, image: Tensor, classIndex: Int, steps: Int = 32, baseline: Tensor? = nil) -> Tensor {
        let base = baseline ?? Tensor.zeros(like: image)
        // All points of the path in one batch: baseline + α·(image − baseline), α at the midpoints.
        let alphas = Tensor((0..<steps).map { (Float($0) + 0.5) / Float(steps) }).reshaped([steps] + Array(repeating: 1, count: image.rank))
        let path = base.unsqueezed(axis: 0) + alphas * (image - base).unsqueezed(axis: 0)
        let grads = inputGradient(model, path, classIndex: classIndex).mean(axes: [0])
        let attributions = (image - base) * grads
        return image.rank == 3 ? attributions.sum(axes: [2]) : attributions
    }

    /// The class scores (model outputs) for one image.
    public static func scores(_ model: Model, image: Tensor) -> Tensor {
        withNoGrad { model.forwardAll([image.unsqueezed(axis: 0)])[0] }.squeezed(axes: [0])
    }

    static func inputGradient(_ model: Model, _ batch: Tensor, classIndex: Int) -> Tensor {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        return withGradEnabled {
            gradient(at: batch) { x in model.forwardAll([x])[0][.all, classIndex].sum() }
        }
    }

    static func reduceChannels(_ t: Tensor) -> Tensor { t.rank == 3 ? t.max(axes: [2]) : t }
}
