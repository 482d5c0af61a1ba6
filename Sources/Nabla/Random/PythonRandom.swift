/// Python's `random.Random`: the Mersenne Twister (MT19937) seeded as CPython seeds it from an
/// integer, with its `shuffle` and `randbelow`. Nabla's own generator is xoshiro256**; this one
/// exists so that a split described as "`random.Random(42).shuffle` of the lines" (as benchmark
/// protocols and papers describe theirs) is the same split in Swift as in Python, line for line.
///
/// ```swift
/// var rng = PythonRandom(seed: 42)
/// var lines = ["a", "b", "c", "d"]
/// rng.shuffle(&lines)            // the order Python's random.Random(42).shuffle gives
/// ```
public struct PythonRandom: Sendable {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    /// - Parameter seed: the integer given to `random.Random(seed)`.
    public init(seed: UInt64) {
        // CPython splits abs(seed) into 32-bit words, least significant first, and calls init_by_array.
        var key: [UInt32] = [UInt32(truncatingIfNeeded: seed)]
        if seed >> 32 != 0 { key.append(UInt32(truncatingIfNeeded: seed >> 32)) }
        initialise(19_650_218)
        var i = 1, j = 0
        for _ in 0..<Swift.max(624, key.count) {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_664_525)) &+ key[j] &+ UInt32(j)
            i += 1; j += 1
            if i >= 624 { state[0] = state[623]; i = 1 }
            if j >= key.count { j = 0 }
        }
        for _ in 0..<623 {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_566_083_941)) &- UInt32(i)
            i += 1
            if i >= 624 { state[0] = state[623]; i = 1 }
        }
        state[0] = 0x8000_0000
    }

    private mutating func initialise(_ s: UInt32) {
        state[0] = s
        for i in 1..<624 { state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i) }
        index = 624
    }

    private mutating func twist() {
        for i in 0..<624 {
            let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7FFF_FFFF)
            state[i] = state[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1) == 0 ? 0 : 0x9908_B0DF)
        }
        index = 0
    }

    /// The next 32 random bits (`genrand_uint32`).
    public mutating func nextUInt32() -> UInt32 {
        if index >= 624 { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    /// A uniform integer in `0..<n` drawn as CPython's `_randbelow` draws it (rejection on
    /// `n.bit_length()` bits), so the sequence matches Python's for every `n` below 2³².
    ///
    /// - Parameter n: the exclusive upper bound, 1 ..< 2³².
    public mutating func below(_ n: Int) -> Int {
        nablaPrecondition(n > 0 && n <= Int(UInt32.max), "PythonRandom.below: n must be in 1...\(UInt32.max), got \(n)")
        let bits = Int.bitWidth - n.leadingZeroBitCount
        while true {
            let r = Int(nextUInt32() >> UInt32(32 - bits))
            if r < n { return r }
        }
    }

    /// A float in [0, 1) with 53 random bits, as `random.random()`.
    public mutating func random() -> Double {
        let a = Double(nextUInt32() >> 5), b = Double(nextUInt32() >> 6)
        return (a * 67_108_864 + b) / 9_007_199_254_740_992
    }

    /// Shuffles `elements` in place exactly as `random.shuffle` does (Fisher–Yates from the end).
    ///
    /// - Parameter elements: the array to reorder.
    public mutating func shuffle<T>(_ elements: inout [T]) {
        guard elements.count > 1 else { return }
        for i in stride(from: elements.count - 1, to: 0, by: -1) {
            elements.swapAt(i, below(i + 1))
        }
    }
}
