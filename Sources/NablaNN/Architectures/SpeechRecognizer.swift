import Nabla

/// A convolutional-recurrent recogniser for CTC: two 3×3 convolution blocks over a spectrogram
/// [batch, frames, bands, 1] (the first pools time and frequency by 2, the second frequency only), each
/// frame's feature maps joined, a bidirectional GRU over the frames, and per-frame class logits (class
/// 0 is CTC's blank). Train it with `ctcLoss` on `logSoftmax` of its output; decode with `CTCDecoder`.
///
/// ```swift
/// let model = SpeechRecognizer(bands: 40, classes: 11)           // blank + ten digits
/// let logits = model(features)                                   // [batch, frames/2, 11]
/// let loss = ctcLoss(logProbs: logSoftmax(logits, axis: -1).permuted([1, 0, 2]), targets: digits,
///                    inputLengths: frames.map { $0 / 2 }, targetLengths: lengths)
/// ```
public final class SpeechRecognizer: Model {
    public let bands: Int
    public let conv1: Conv2D, norm1: BatchNormalization, pool1: Pooling2D
    public let conv2: Conv2D, norm2: BatchNormalization, pool2: Pooling2D
    public let recurrent: Bidirectional
    public let output: Dense

    /// - Parameters:
    ///   - bands: spectrogram bands per frame (a multiple of 4).
    ///   - classes: output classes, the blank included.
    ///   - filters: feature maps of the second convolution (the first has half).
    ///   - units: GRU units in each direction.
    ///   - name: the model's name.
    public init(bands: Int, classes: Int, filters: Int = 32, units: Int = 96, name: String? = nil) {
        nablaPrecondition(bands % 4 == 0 && bands > 0 && classes > 1, "SpeechRecognizer: bands \(bands) must be a positive multiple of 4, classes \(classes) at least 2")
        self.bands = bands
        conv1 = Conv2D(filters: Swift.max(filters / 2, 1), kernelSize: (3, 3), padding: .same, useBias: false)
        norm1 = BatchNormalization()
        pool1 = MaxPooling2D(poolSize: (2, 2))
        conv2 = Conv2D(filters: filters, kernelSize: (3, 3), padding: .same, useBias: false)
        norm2 = BatchNormalization()
        pool2 = MaxPooling2D(poolSize: (1, 2))
        recurrent = Bidirectional(GRU(units: units, returnSequences: true))
        output = Dense(units: classes, inputDim: 2 * units)
        super.init(name: name ?? "speech_recognizer")
        conv1.buildIfNeeded([[8, bands, 1]])
        norm1.buildIfNeeded([[8, bands, conv1.filters]])
        conv2.buildIfNeeded([[4, bands / 2, conv1.filters]])
        norm2.buildIfNeeded([[4, bands / 2, filters]])
        recurrent.forwardLayer.buildIfNeeded([[2, bands / 4 * filters]])
        recurrent.backwardLayer.buildIfNeeded([[2, bands / 4 * filters]])
    }

    public override var typeName: String { "SpeechRecognizer" }

    public override var config: [String: JSONValue] {
        ["bands": JSONValue(bands), "classes": JSONValue(output.units), "filters": JSONValue(conv2.filters), "units": JSONValue(recurrent.forwardLayer.units)]
    }

    /// Output frames for `frames` input frames.
    /// - Parameters:
    ///   - frames: spectrogram frames.
    public func outputFrames(_ frames: Int) -> Int { frames / 2 }

    public override func forward(_ x: Tensor) -> Tensor {
        var h = pool1(relu(norm1(conv1(x))))
        h = pool2(relu(norm2(conv2(h))))
        let (b, t) = (h.shape[0], h.shape[1])
        return output(recurrent(h.reshaped([b, t, -1])))
    }
}

extension SpeechRecognizer: ConfigurableLayer {
    public static func fromConfig(_ c: LayerConfig) throws(NablaError) -> Layer {
        let (bands, classes, filters, units) = (try c.positive("bands"), try c.positive("classes"), try c.positive("filters"), try c.positive("units"))
        guard bands % 4 == 0, classes > 1 else { throw .invalidArgument("SpeechRecognizer \(c.name): bands \(bands) must be a multiple of 4, classes at least 2") }
        try c.checkTable(bands / 4 * filters + 4 * units, 6 * units)
        return SpeechRecognizer(bands: bands, classes: classes, filters: filters, units: units, name: c.name)
    }
}
