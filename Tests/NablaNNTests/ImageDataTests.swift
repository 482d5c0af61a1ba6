import CZlib
import Foundation
import Nabla
import NablaData
import NablaNN
import Testing

@Suite("Image data: IDX, MNIST, DataLoader, augmentation")
struct ImageDataTests {
    static let mnistDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data/mnist").path

    func idx(_ type: UInt8, _ shape: [Int], _ payload: [UInt8]) -> Data {
        var d = Data([0, 0, type, UInt8(shape.count)])
        for s in shape { d.append(contentsOf: [UInt8(s >> 24 & 0xFF), UInt8(s >> 16 & 0xFF), UInt8(s >> 8 & 0xFF), UInt8(s & 0xFF)]) }
        d.append(contentsOf: payload)
        return d
    }

    @Test("IDX files decode, and bad headers name the problem")
    func idxFiles() throws {
        let t = try IDX.decode(idx(0x08, [2, 3], [1, 2, 3, 250, 5, 6]), source: "t.idx")
        #expect(t.shape == [2, 3] && t.toArray(Int32.self) == [1, 2, 3, 250, 5, 6])
        let big = try IDX.decode(idx(0x0C, [1], [0, 0, 1, 0]), source: "t.idx")
        #expect(big.item(Int32.self) == 256)
        let cases: [(Data, String)] = [
            (Data([1, 2, 3]), "too short"),
            (Data([7, 0, 8, 1, 0, 0, 0, 1, 0]), "bad magic"),
            (idx(0x08, [2, 3], [1, 2, 3]), "expected 6 (truncated?)"),
            (idx(0x08, [65536, 65536, 65536], []), "too large"),
            (idx(0x42, [1], [0]), "unknown element type"),
            (Data([0x1F, 0x8B, 8, 0, 0, 0]), "corrupt or truncated gzip"),
        ]
        for (bytes, phrase) in cases {
            do { _ = try IDX.decode(bytes, source: "bad.idx"); Issue.record("accepted: \(phrase)") } catch {
                #expect(error.description.hasPrefix("bad.idx") && error.description.contains(phrase), "\(error.description)")
            }
        }
    }

    @Test("MNIST loads from the shared data folder", .enabled(if: FileManager.default.fileExists(atPath: mnistDir + "/t10k-labels-idx1-ubyte.gz"),
                                                          "../shared/data/mnist is not present"))
    func mnist() throws {
        let m = try MNIST(directory: Self.mnistDir)
        #expect(m.trainImages.shape == [60000, 28, 28, 1] && m.testImages.shape == [10000, 28, 28, 1])
        #expect(m.trainLabels.toArray(Int32.self).prefix(5) == [5, 0, 4, 1, 9])
        #expect(m.testImages.max().item(Float.self) == 1 && m.testImages.min().item(Float.self) == 0)
        do { _ = try MNIST.load("mnist", directory: "/nonexistent"); Issue.record("accepted") } catch {
            #expect(error.description.contains("no data found in /nonexistent") && error.description.contains("--data-dir"))
        }
    }

    @Test("DataLoader batches, shuffles reproducibly, drops the last batch, and prefetches the same batches")
    func loader() {
        let x = Tensor.arange(0, 10).reshaped([10, 1]), y = Tensor.arange(0, 10, dtype: .int32)
        let plain = DataLoader(TensorDataset(x, y), batchSize: 4, shuffle: false, prefetch: false)
        #expect(plain.batchCount == 3 && Array(plain.epoch()).map { $0.0.shape[0] } == [4, 4, 2])
        #expect(DataLoader(TensorDataset(x, y), batchSize: 4, dropLast: true).batchCount == 2)
        let a = DataLoader(TensorDataset(x, y), batchSize: 3, seed: 7), b = DataLoader(TensorDataset(x, y), batchSize: 3, prefetch: false, seed: 7)
        let orderA = Array(a.epoch()).flatMap { $0.1.toArray(Int32.self) }, orderB = Array(b.epoch()).flatMap { $0.1.toArray(Int32.self) }
        #expect(orderA == orderB && orderA.sorted() == Array(0..<10) && orderA != Array(0..<10))
        #expect(Array(a.epoch()).flatMap { $0.1.toArray(Int32.self) } != orderA)   // a new order each epoch
    }

    @Test("augmentation shifts and flips images")
    func augmentation() {
        var pixels = [Float](repeating: 0, count: 25)
        pixels[12] = 1   // centre of a 5x5 image
        let img = Tensor(shape: [1, 5, 5, 1], values: pixels)
        let shifted = ImageAugmentation(maxShift: 2, generator: RandomGenerator(seed: 3))(img)
        #expect(shifted.sum().item(Float.self) == 1)   // the bright pixel moved, it did not vanish or blur
        var left = [Float](repeating: 0, count: 25)
        left[10] = 1
        let flipped = ImageAugmentation(horizontalFlip: true, generator: RandomGenerator(seed: 1))
        let outs = (0..<8).map { _ in flipped(Tensor(shape: [1, 5, 5, 1], values: left)).toArray(Float.self) }
        #expect(outs.contains { $0[14] == 1 } && outs.contains { $0[10] == 1 })
    }

    @Test("fit accepts a DataLoader")
    func fitLoader() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 100))
        let x = Tensor.randomNormal([64, 3]), y = x.sum(axes: [1])
        let model = Sequential([Dense(units: 1, inputDim: 3)])
        try model.compile(optimizer: SGD(learningRate: 0.1), loss: "mse")
        let h = try model.fit(DataLoader(TensorDataset(x, y), batchSize: 16), epochs: 10, verbose: 0, validationData: (x, y))
        #expect(h.history["loss"]!.count == 10 && h.history["val_loss"]!.last! < 0.01)
    }
}

@Suite("Explaining predictions")
struct AttributionTests {
    @Test("integrated gradients add up to the change of the score; saliency has the image's shape")
    func completeness() throws {
        RandomGenerator.setCurrent(RandomGenerator(seed: 5))
        let model = Sequential([Conv2D(filters: 4, kernelSize: (3, 3), activation: .tanh), Flatten(), Dense(units: 3)], inputShape: [6, 6, 1])
        let image = Tensor.randomUniform([6, 6, 1])
        let ig = Attribution.integratedGradients(model, image: image, classIndex: 2, steps: 200)
        let change = Attribution.scores(model, image: image)[2].item(Double.self) - Attribution.scores(model, image: Tensor.zeros([6, 6, 1]))[2].item(Double.self)
        #expect(ig.shape == [6, 6])
        #expect(Swift.abs(ig.sum().item(Double.self) - change) < 0.01 * Swift.max(1, Swift.abs(change)))
        let s = Attribution.saliency(model, image: image, classIndex: 2)
        #expect(s.shape == [6, 6] && s.min().item(Float.self) >= 0)
    }

    @Test("PNG files have a valid signature, header and checksums")
    func png() {
        var img = RGBImage(width: 20, height: 10)
        img.drawText("7", x: 1, y: 1)
        #expect(img.get(2 + 0, 1) == (0, 0, 0) || img.get(1, 1) == (0, 0, 0))
        let data = [UInt8](img.pngData())
        #expect(Array(data[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(Array(data[12..<16]) == Array("IHDR".utf8) && data[16..<24] == [0, 0, 0, 20, 0, 0, 0, 10])
        let ihdr = Array(data[12..<29])
        let crc = UInt32(truncatingIfNeeded: crc32(0, ihdr, uInt(ihdr.count)))
        #expect(Array(data[29..<33]) == [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)])
        #expect(Array(Array(data.suffix(12))[4..<8]) == Array("IEND".utf8))
    }
}
