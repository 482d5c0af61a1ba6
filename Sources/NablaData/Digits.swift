import Foundation
import Nabla

/// The UCI handwritten digits, embedded in the package: 1,797 images of 8×8 pixels (values 0...16)
/// with labels 0...9. Nabla's default data set, so `nabla train` needs no files.
///
/// ```swift
/// let (images, labels) = Digits.load()     // [1797, 64] float32 in [0, 1], [1797] int32
/// ```
public enum Digits {
    public static let sampleCount = 1797
    public static let featureCount = 64
    public static let classCount = 10

    /// The first `count` images, [count, 64] (for examples and tests).
    public static func sample(_ count: Int) -> Tensor { load().images[0..<count] }

    /// The images scaled to [0, 1] ([1797, 64] float32) and their labels ([1797] int32).
    public static func load() -> (images: Tensor, labels: Tensor) {
        guard let data = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters),
              data.count == sampleCount * (featureCount + 1) else {
            fatalError("Digits: the embedded data is corrupt (regenerate with scripts/embed_digits.py)")
        }
        var pixels = [Float](), labels = [Int32]()
        pixels.reserveCapacity(sampleCount * featureCount)
        labels.reserveCapacity(sampleCount)
        for row in 0..<sampleCount {
            let base = row * (featureCount + 1)
            for i in 0..<featureCount { pixels.append(Float(data[base + i]) / 16) }
            labels.append(Int32(data[base + featureCount]))
        }
        return (Tensor(shape: [sampleCount, featureCount], values: pixels), Tensor(values: labels))
    }
}
