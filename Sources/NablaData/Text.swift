import Foundation
import Nabla

/// The characters of a text as token ids, in sorted order (nanoGPT's and makemore's vocabulary).
///
/// ```swift
/// let vocab = CharacterVocabulary(text: "hello")
/// vocab.encode("hell")          // [1, 0, 2, 2]
/// vocab.decode([3, 0])          // "oe"
/// ```
public struct CharacterVocabulary: Codable, Equatable, Sendable {
    public let characters: [Character]
    private let index: [Character: Int32]

    public init(text: String) {
        self.init(characters: Array(Set(text)).sorted())
    }

    public init(characters: [Character]) {
        self.characters = characters
        index = Dictionary(uniqueKeysWithValues: characters.enumerated().map { ($1, Int32($0)) })
    }

    public var count: Int { characters.count }

    /// Token ids of `text`; characters outside the vocabulary are an error naming them.
    public func encode(_ text: String) throws(DataError) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(text.count)
        for ch in text {
            guard let i = index[ch] else { throw .invalid("character \(ch.debugDescription) is not in the vocabulary of \(count)") }
            out.append(i)
        }
        return out
    }

    public func decode(_ ids: [Int32]) -> String {
        String(ids.map { $0 >= 0 && Int($0) < characters.count ? characters[Int($0)] : "?" })
    }

    enum CodingKeys: String, CodingKey { case characters }
    public init(from decoder: Decoder) throws {
        let s = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .characters)
        self.init(characters: Array(s))
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(String(characters), forKey: .characters)
    }
}

/// Keras's TextVectorization for word-level models: lowercasing and punctuation stripping, a
/// vocabulary of the `maxTokens` most frequent words (0 is padding, 1 is "[UNK]"), and sequences
/// padded or cut to `outputSequenceLength`.
///
/// ```swift
/// let v = TextVectorization(maxTokens: 10_000, outputSequenceLength: 40)
/// v.adapt(trainingTexts)
/// let ids = v(["Free entry now!"])      // [1, 40] int32
/// ```
public struct TextVectorization: Codable, Equatable, Sendable {
    public let maxTokens: Int
    public let outputSequenceLength: Int
    public let lowercase: Bool
    public let stripPunctuation: Bool
    /// Also emit word n-grams up to this length (Keras's `ngrams`): 2 adds "free entry" after "free", "entry".
    public let ngrams: Int
    /// Write every ASCII digit as 0, so that numbers of one shape share a token ("09061701461" and
    /// "08000930705" both become "00000000000"): useful where phone numbers and prices are signals.
    public let foldDigits: Bool
    /// When positive, n-grams of two or more words are not in the vocabulary but hashed (FNV-1a) into
    /// this many ids after it, as fastText does: the vocabulary holds words only, and no n-gram is lost.
    /// With `hashBuckets` −1 (automatic), `adapt` picks a power of two near twice the number of
    /// distinct n-grams, up to 2^18: small corpora keep a small table, large ones few collisions.
    public private(set) var hashBuckets: Int
    /// fastText's subwords: with hash buckets, every word also emits its character n-grams of these
    /// lengths (of `<word>`, so that prefixes and suffixes are marked), hashed like word n-grams.
    public let characterNgrams: ClosedRange<Int>?
    public private(set) var vocabulary: [String] = ["", "[UNK]"]
    private var index: [String: Int32] = [:]

    public init(maxTokens: Int = 20_000, outputSequenceLength: Int = 64, lowercase: Bool = true, stripPunctuation: Bool = true, ngrams: Int = 1,
                foldDigits: Bool = false, hashBuckets: Int = 0, characterNgrams: ClosedRange<Int>? = nil) {
        self.maxTokens = maxTokens
        self.outputSequenceLength = outputSequenceLength
        self.lowercase = lowercase
        self.stripPunctuation = stripPunctuation
        self.ngrams = Swift.max(1, ngrams)
        self.foldDigits = foldDigits
        self.hashBuckets = Swift.max(-1, hashBuckets)
        self.characterNgrams = hashBuckets != 0 ? characterNgrams.map { Swift.max(1, $0.lowerBound)...Swift.max(1, $0.upperBound) } : nil
    }

    /// The ids this vectorizer produces: the vocabulary and then the hash buckets (an embedding's `inputDim`).
    public var inputDimension: Int { vocabulary.count + Swift.max(0, hashBuckets) }

    /// The id of one token.
    @inline(__always) func id(_ token: String) -> Int32 {
        if let i = index[token] { return i }
        if hashBuckets > 0 && Self.isHashed(token) {
            var h: UInt32 = 2_166_136_261
            for b in token.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
            return Int32(vocabulary.count + Int(h % UInt32(hashBuckets)))
        }
        return 1
    }

    /// ASCII punctuation and symbols (Unicode's categories P and S), looked up by byte.
    private static let asciiPunctuation: [Bool] = (0..<128).map { b in
        let u = Unicode.Scalar(UInt8(b))
        return CharacterSet.punctuationCharacters.contains(u) || CharacterSet.symbols.contains(u)
    }

    /// The words of standardised text: split at whitespace (and at punctuation and symbols when
    /// `stripPunctuation`), ASCII digits folded to 0 when `foldDigits`. One pass over the scalars,
    /// with the ASCII ones looked up in a table: this runs for every text of every corpus.
    func words(_ text: String) -> [String] {
        var out: [String] = []
        var word = String.UnicodeScalarView()
        func flush() {
            if !word.isEmpty {
                out.append(String(word))
                word = String.UnicodeScalarView()
            }
        }
        for u in text.unicodeScalars {
            if u.isASCII {
                let b = Int(u.value)
                if b == 0x20 || (0x09...0x0D).contains(b) || (stripPunctuation && Self.asciiPunctuation[b]) { flush(); continue }
                word.append(foldDigits && (0x30...0x39).contains(b) ? "0" : u)
            } else if u.properties.isWhitespace
                        || (stripPunctuation && (CharacterSet.punctuationCharacters.contains(u) || CharacterSet.symbols.contains(u))) {
                flush()
            } else {
                word.append(u)
            }
        }
        flush()
        return out
    }

    /// Word n-grams (which hold a space) and character n-grams (which start with U+0002) are hashed.
    @inline(__always) static func isHashed(_ token: String) -> Bool {
        token.utf8.first == 0x02 || token.utf8.contains(0x20)
    }

    /// The tokens of `text` after standardisation: its words, then its n-grams of 2 up to `ngrams` words.
    public func tokens(_ text: String) -> [String] {
        let words = self.words(lowercase ? text.lowercased() : text)
        var out = words
        if let range = characterNgrams {
            for w in words {
                let chars = Array("<" + w + ">")
                for n in range where chars.count >= n && n < chars.count {
                    for i in 0...(chars.count - n) { out.append("\u{2}" + String(chars[i..<(i + n)])) }
                }
            }
        }
        guard ngrams > 1 else { return out }
        for n in 2...ngrams where words.count >= n {
            for i in 0...(words.count - n) { out.append(words[i..<(i + n)].joined(separator: " ")) }
        }
        return out
    }

    /// Builds the vocabulary from `texts`: the most frequent words first, ties in alphabetical order.
    public mutating func adapt(_ texts: [String]) {
        var counts: [String: Int] = [:]
        var ngrams = Set<String>()
        for t in texts {
            for w in tokens(t) {
                if hashBuckets != 0 && Self.isHashed(w) { if hashBuckets < 0 { ngrams.insert(w) } } else { counts[w, default: 0] += 1 }
            }
        }
        if hashBuckets < 0 {
            var buckets = 1024
            while buckets < 2 * ngrams.count && buckets < 1 << 18 { buckets *= 2 }
            hashBuckets = buckets
        }
        let words = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
        vocabulary = ["", "[UNK]"] + words.prefix(Swift.max(0, maxTokens - 2))
        index = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, Int32($0)) })
    }

    /// Token ids [texts.count, outputSequenceLength], int32.
    public func callAsFunction(_ texts: [String]) -> Tensor {
        var ids: [Int32] = []
        ids.reserveCapacity(texts.count * outputSequenceLength)
        for t in texts {
            var row = tokens(t).prefix(outputSequenceLength).map { id($0) }
            row += Array(repeating: 0, count: outputSequenceLength - row.count)
            ids += row
        }
        return Tensor(shape: [texts.count, outputSequenceLength], values: ids)
    }

    enum CodingKeys: String, CodingKey { case maxTokens, outputSequenceLength, lowercase, stripPunctuation, ngrams, foldDigits, hashBuckets, characterNgrams, vocabulary }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(maxTokens: try c.decode(Int.self, forKey: .maxTokens), outputSequenceLength: try c.decode(Int.self, forKey: .outputSequenceLength),
                  lowercase: try c.decode(Bool.self, forKey: .lowercase), stripPunctuation: try c.decode(Bool.self, forKey: .stripPunctuation),
                  ngrams: try c.decodeIfPresent(Int.self, forKey: .ngrams) ?? 1,
                  foldDigits: try c.decodeIfPresent(Bool.self, forKey: .foldDigits) ?? false,
                  hashBuckets: try c.decodeIfPresent(Int.self, forKey: .hashBuckets) ?? 0,
                  characterNgrams: try c.decodeIfPresent([Int].self, forKey: .characterNgrams).flatMap { $0.count == 2 && $0[0] <= $0[1] ? $0[0]...$0[1] : nil })
        vocabulary = try c.decode([String].self, forKey: .vocabulary)
        index = Dictionary(vocabulary.enumerated().map { ($1, Int32($0)) }, uniquingKeysWith: { a, _ in a })
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(maxTokens, forKey: .maxTokens)
        try c.encode(outputSequenceLength, forKey: .outputSequenceLength)
        try c.encode(lowercase, forKey: .lowercase)
        try c.encode(stripPunctuation, forKey: .stripPunctuation)
        try c.encode(ngrams, forKey: .ngrams)
        try c.encode(foldDigits, forKey: .foldDigits)
        try c.encode(hashBuckets, forKey: .hashBuckets)
        if let characterNgrams { try c.encode([characterNgrams.lowerBound, characterNgrams.upperBound], forKey: .characterNgrams) }
        try c.encode(vocabulary, forKey: .vocabulary)
    }
}

/// Random windows of a token stream for language modelling: inputs [batch, context] and the same
/// windows shifted by one as targets (nanoGPT's `get_batch`).
///
/// ```swift
/// let (x, y) = languageModelBatch(tokens, context: 64, batchSize: 12)
/// ```
public func languageModelBatch(_ tokens: [Int32], context: Int, batchSize: Int, generator: RandomGenerator = .current) -> (Tensor, Tensor) {
    nablaPrecondition(tokens.count > context, "languageModelBatch: \(tokens.count) tokens are not more than the context \(context)")
    var x: [Int32] = [], y: [Int32] = []
    x.reserveCapacity(batchSize * context)
    y.reserveCapacity(batchSize * context)
    for _ in 0..<batchSize {
        let start = generator.nextInt(below: tokens.count - context)
        x += tokens[start..<(start + context)]
        y += tokens[(start + 1)...(start + context)]
    }
    return (Tensor(shape: [batchSize, context], values: x), Tensor(shape: [batchSize, context], values: y))
}

/// Language-model rows of whole lines, as makemore builds them: inputs are `start` then the line's
/// tokens, targets are the line's tokens then `start` (which ends the line), both padded to `length`,
/// inputs with `start` and targets with −1 (for `crossEntropy(..., ignoreIndex: -1)`). Lines longer
/// than `length` are cut.
///
/// ```swift
/// let (x, y) = lineModelRows(names[0..<32], length: 16, start: newline)   // [32, 16] each
/// ```
public func lineModelRows(_ lines: some Collection<[Int32]>, length: Int, start: Int32) -> (Tensor, Tensor) {
    var x: [Int32] = [], y: [Int32] = []
    x.reserveCapacity(lines.count * length)
    y.reserveCapacity(lines.count * length)
    for line in lines {
        let input = ([start] + line).prefix(length), target = (line + [start]).prefix(length)
        x += input + Array(repeating: start, count: length - input.count)
        y += target + Array(repeating: -1, count: length - target.count)
    }
    return (Tensor(shape: [lines.count, length], values: x), Tensor(shape: [lines.count, length], values: y))
}

/// `batchSize` random lines (with replacement) as `lineModelRows`.
public func lineModelBatch(_ lines: [[Int32]], length: Int, batchSize: Int, start: Int32,
                           generator: RandomGenerator = .current) -> (Tensor, Tensor) {
    nablaPrecondition(!lines.isEmpty, "lineModelBatch: no lines")
    return lineModelRows((0..<batchSize).map { _ in lines[generator.nextInt(below: lines.count)] }, length: length, start: start)
}
