import Foundation

/// A discrete Fourier transform of one length, planned once and reused: radix-2 for powers of two,
/// Bluestein's chirp-z for every other length (the transform of a length-n signal through a
/// power-of-two convolution), so any length works. Computed in Double.
///
/// ```swift
/// let fft = FFT(count: 400)
/// let (re, im) = fft.realForward(signal)     // bins 0...200 of a length-400 real signal
/// ```
public final class FFT: @unchecked Sendable {
    /// The transform length.
    public let count: Int
    private let radix2: Radix2?
    private let bluestein: Bluestein?

    /// The plan for `count`, made once per length and shared (features for a data set ask for the same
    /// length thousands of times).
    /// - Parameters:
    ///   - count: the transform length (positive).
    public static func shared(count: Int) -> FFT { AudioPlans.value(for: "fft \(count)") { FFT(count: count) } }

    /// - Parameters:
    ///   - count: the transform length (positive).
    public init(count: Int) {
        nablaPrecondition(count > 0, "FFT: the length must be positive, got \(count)")
        self.count = count
        if count & (count - 1) == 0 {
            radix2 = Radix2(count)
            bluestein = nil
        } else {
            radix2 = nil
            bluestein = Bluestein(count)
        }
    }

    /// The complex transform X[k] = Σ x[n]·e^(−2πikn/N) of `re` + i·`im`, in place.
    /// - Parameters:
    ///   - re: real parts, `count` of them.
    ///   - im: imaginary parts, `count` of them.
    public func forward(_ re: inout [Double], _ im: inout [Double]) {
        nablaPrecondition(re.count == count && im.count == count, "FFT: expected \(count) values, got \(re.count) and \(im.count)")
        if let radix2 { radix2.run(&re, &im, inverse: false) } else { bluestein!.run(&re, &im) }
    }

    /// Bins 0...count/2 of the transform of a real signal.
    /// - Parameters:
    ///   - x: `count` real samples.
    public func realForward(_ x: [Double]) -> (re: [Double], im: [Double]) {
        var re = x, im = [Double](repeating: 0, count: count)
        forward(&re, &im)
        let bins = count / 2 + 1
        return (Array(re[..<bins]), Array(im[..<bins]))
    }
}

/// The iterative Cooley–Tukey transform of a power-of-two length, twiddles and bit reversal precomputed.
final class Radix2: @unchecked Sendable {
    let n: Int
    let cosines: [Double], sines: [Double]
    let reversed: [Int]

    init(_ n: Int) {
        self.n = n
        cosines = (0..<Swift.max(n / 2, 1)).map { cos(2 * Double.pi * Double($0) / Double(n)) }
        sines = (0..<Swift.max(n / 2, 1)).map { sin(2 * Double.pi * Double($0) / Double(n)) }
        var bits = 0
        while 1 << bits < n { bits += 1 }
        reversed = (0..<n).map { i in
            var r = 0
            for b in 0..<bits where i & (1 << b) != 0 { r |= 1 << (bits - 1 - b) }
            return r
        }
    }

    func run(_ re: inout [Double], _ im: inout [Double], inverse: Bool) {
        re.withUnsafeMutableBufferPointer { r in
            im.withUnsafeMutableBufferPointer { i in run(r.baseAddress!, i.baseAddress!, inverse: inverse) }
        }
    }

    func run(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>, inverse: Bool) {
        for k in 0..<n {
            let j = reversed[k]
            if j > k { swap(&re[k], &re[j]); swap(&im[k], &im[j]) }
        }
        let sign: Double = inverse ? 1 : -1
        cosines.withUnsafeBufferPointer { cs in
            sines.withUnsafeBufferPointer { sn in
                var half = 1
                while half < n {
                    let step = n / (2 * half)
                    var start = 0
                    while start < n {
                        for k in 0..<half {
                            let wr = cs[k * step], wi = sign * sn[k * step]
                            let a = start + k, b = a + half
                            let tr = re[b] * wr - im[b] * wi, ti = re[b] * wi + im[b] * wr
                            re[b] = re[a] - tr
                            im[b] = im[a] - ti
                            re[a] += tr
                            im[a] += ti
                        }
                        start += 2 * half
                    }
                    half *= 2
                }
            }
        }
    }
}

/// Bluestein's algorithm: X[k] = conj(w[k])·Σ (x[n]·conj(w[n]))·w[k−n] with w[n] = e^(iπn²/N), the sum a
/// convolution done with power-of-two transforms of length ≥ 2N − 1.
final class Bluestein: @unchecked Sendable {
    let n: Int, m: Int
    let inner: Radix2
    let chirpRe: [Double], chirpIm: [Double]
    /// The transform of the chirp filter w[k], wrapped to length m.
    let filterRe: [Double], filterIm: [Double]

    init(_ n: Int) {
        self.n = n
        var m = 1
        while m < 2 * n - 1 { m *= 2 }
        self.m = m
        inner = Radix2(m)
        // n² mod 2N keeps the angle exact for long transforms.
        let angles = (0..<n).map { Double.pi * Double((($0 * $0) % (2 * n))) / Double(n) }
        chirpRe = angles.map { cos($0) }
        chirpIm = angles.map { sin($0) }
        var fr = [Double](repeating: 0, count: m), fi = [Double](repeating: 0, count: m)
        for k in 0..<n {
            fr[k] = chirpRe[k]
            fi[k] = chirpIm[k]
            if k > 0 { fr[m - k] = chirpRe[k]; fi[m - k] = chirpIm[k] }
        }
        inner.run(&fr, &fi, inverse: false)
        filterRe = fr
        filterIm = fi
    }

    func run(_ re: inout [Double], _ im: inout [Double]) {
        var ar = [Double](repeating: 0, count: m), ai = [Double](repeating: 0, count: m)
        for k in 0..<n {   // x·conj(w)
            ar[k] = re[k] * chirpRe[k] + im[k] * chirpIm[k]
            ai[k] = im[k] * chirpRe[k] - re[k] * chirpIm[k]
        }
        inner.run(&ar, &ai, inverse: false)
        for k in 0..<m {
            let r = ar[k] * filterRe[k] - ai[k] * filterIm[k], i = ar[k] * filterIm[k] + ai[k] * filterRe[k]
            ar[k] = r
            ai[k] = i
        }
        inner.run(&ar, &ai, inverse: true)
        let scale = 1 / Double(m)
        for k in 0..<n {   // conj(w)·(a ∗ w) / m
            let r = ar[k] * scale, i = ai[k] * scale
            re[k] = r * chirpRe[k] + i * chirpIm[k]
            im[k] = i * chirpRe[k] - r * chirpIm[k]
        }
    }
}

/// Plans and tables the audio features reuse (FFT plans, mel filterbanks, DFT matrices), made once per
/// key and shared between threads.
enum AudioPlans {
    nonisolated(unsafe) private static var values: [String: Any] = [:]
    private static let lock = Lock()

    static func value<T>(for key: String, make: () -> T) -> T {
        if let v = lock.withLock({ values[key] }) as? T { return v }
        let v = make()
        lock.withLock { values[key] = v }
        return v
    }
}
