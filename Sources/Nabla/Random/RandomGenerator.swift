#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A seedable source of random numbers (xoshiro256**, seeded through SplitMix64), so that a seed
/// reproduces a run exactly. Its state can be read and restored (checkpoints do).
///
/// ```swift
/// let rng = RandomGenerator(seed: 42)
/// let w = Tensor.randomNormal([3, 3], generator: rng)
/// RandomGenerator.global.seed(42)     // seeds everything that uses the default generator
/// ```
public final class RandomGenerator: @unchecked Sendable {
    private var s0: UInt64 = 0, s1: UInt64 = 0, s2: UInt64 = 0, s3: UInt64 = 0
    private let lock = Lock()

    /// The process-wide generator. Seeded with 0 until ``seed(_:)`` is called.
    public static let global = RandomGenerator(seed: 0)

    /// The generator used when none is passed: the one installed on this thread by ``using(_:_:)``,
    /// else ``global``.
    public static var current: RandomGenerator {
        guard let p = pthread_getspecific(currentKey) else { return global }
        return Unmanaged<RandomGenerator>.fromOpaque(p).takeUnretainedValue()
    }

    /// Runs `body` with `generator` as this thread's ``current`` generator: every random draw that is
    /// not given a generator (initialisers, dropout, shuffling) uses it, so code that runs alongside
    /// other threads is still reproducible.
    ///
    /// ```swift
    /// let model = RandomGenerator.using(RandomGenerator(seed: 7)) { makeModel() }
    /// ```
    public static func using<R>(_ generator: RandomGenerator, _ body: () throws -> R) rethrows -> R {
        let previous = pthread_getspecific(currentKey)
        pthread_setspecific(currentKey, Unmanaged.passUnretained(generator).toOpaque())
        defer { pthread_setspecific(currentKey, previous) }
        return try withExtendedLifetime(generator) { try body() }
        // (setCurrent inside `body` would release this unretained value: use one or the other.)
    }

    /// Makes `generator` this thread's ``current`` generator from now on (nil: back to ``global``);
    /// tests that run in parallel use it to stay reproducible.
    public static func setCurrent(_ generator: RandomGenerator?) {
        if let old = pthread_getspecific(currentKey) { Unmanaged<RandomGenerator>.fromOpaque(old).release() }
        pthread_setspecific(currentKey, generator.map { Unmanaged.passRetained($0).toOpaque() })
    }

    private static let currentKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    public init(seed: UInt64) { reseed(seed) }

    /// Restarts the sequence from `seed`.
    public func seed(_ seed: UInt64) { lock.withLock { reseed(seed) } }

    private func reseed(_ seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// The four words of state, for saving.
    public var state: [UInt64] {
        get { lock.withLock { [s0, s1, s2, s3] } }
        set {
            nablaPrecondition(newValue.count == 4, "RandomGenerator.state: needs 4 words, got \(newValue.count)")
            lock.withLock { s0 = newValue[0]; s1 = newValue[1]; s2 = newValue[2]; s3 = newValue[3] }
        }
    }

    @inline(__always)
    private func nextUnlocked() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// The next 64 random bits.
    public func next() -> UInt64 { lock.withLock { nextUnlocked() } }

    /// Fills `n` values by calling `body` with a source of uniform doubles in [0, 1), under one lock.
    func withUniforms(_ body: (() -> Double) -> Void) {
        lock.withLock {
            body { Double(self.nextUnlocked() >> 11) * 0x1.0p-53 }
        }
    }

    /// A uniform integer in `0..<bound` without modulo bias.
    public func nextInt(below bound: Int) -> Int {
        nablaPrecondition(bound > 0, "nextInt(below:): bound must be positive")
        return lock.withLock {
            let b = UInt64(bound)
            let limit = UInt64.max - UInt64.max % b
            var v = nextUnlocked()
            while v >= limit { v = nextUnlocked() }
            return Int(v % b)
        }
    }

    /// A uniform double in [0, 1).
    public func nextDouble() -> Double { lock.withLock { Double(nextUnlocked() >> 11) * 0x1.0p-53 } }

    /// A random permutation of `0..<n` (Fisher–Yates).
    public func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, nextInt(below: i + 1)) }
        return p
    }
}
