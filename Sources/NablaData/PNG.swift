import CZlib
import Foundation
import Nabla

/// A small RGB raster that writes itself as a PNG (8-bit truecolour, zlib-compressed), with a 5×7
/// pixel font for labels — enough for figures without any image library.
///
/// ```swift
/// var img = RGBImage(width: 200, height: 100, background: (255, 255, 255))
/// img.drawText("class 7", x: 4, y: 4, scale: 2, color: (0, 0, 0))
/// try img.pngData().write(to: URL(fileURLWithPath: "out.png"))
/// ```
public struct RGBImage: Sendable {
    public let width: Int, height: Int
    public private(set) var pixels: [UInt8]

    public init(width: Int, height: Int, background: (UInt8, UInt8, UInt8) = (255, 255, 255)) {
        self.width = width
        self.height = height
        pixels = Array((0..<(width * height)).flatMap { _ in [background.0, background.1, background.2] })
    }

    public mutating func set(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = c.0; pixels[i + 1] = c.1; pixels[i + 2] = c.2
    }

    public func get(_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8) {
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Draws a [H, W] map scaled by `scale`, each value in [0, 1] coloured by `colormap`.
    public mutating func drawMap(_ map: [[Double]], x0: Int, y0: Int, scale: Int, colormap: (Double) -> (UInt8, UInt8, UInt8)) {
        for (y, row) in map.enumerated() {
            for (x, v) in row.enumerated() {
                let c = colormap(Swift.min(Swift.max(v, 0), 1))
                for dy in 0..<scale { for dx in 0..<scale { set(x0 + x * scale + dx, y0 + y * scale + dy, c) } }
            }
        }
    }

    /// Greyscale: 0 black, 1 white.
    public static func grey(_ v: Double) -> (UInt8, UInt8, UInt8) { let g = UInt8(v * 255); return (g, g, g) }

    /// A heat colormap: black → red → yellow → white.
    public static func heat(_ v: Double) -> (UInt8, UInt8, UInt8) {
        let r = Swift.min(1, v * 3), g = Swift.min(1, Swift.max(0, v * 3 - 1)), b = Swift.min(1, Swift.max(0, v * 3 - 2))
        return (UInt8(r * 255), UInt8(g * 255), UInt8(b * 255))
    }

    public mutating func drawText(_ text: String, x: Int, y: Int, scale: Int = 2, color: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        var cx = x
        for ch in text.lowercased() {
            let rows = Font5x7.glyphs[ch] ?? Font5x7.glyphs["?"]!
            for (ry, bits) in rows.enumerated() {
                for rx in 0..<5 where bits & (1 << (4 - rx)) != 0 {
                    for dy in 0..<scale { for dx in 0..<scale { set(cx + rx * scale + dx, y + ry * scale + dy, color) } }
                }
            }
            cx += 6 * scale
        }
    }

    /// The PNG file bytes.
    public func pngData() -> Data {
        var raw = [UInt8]()
        raw.reserveCapacity(height * (width * 3 + 1))
        for y in 0..<height {
            raw.append(0)   // filter: none
            raw.append(contentsOf: pixels[(y * width * 3)..<((y + 1) * width * 3)])
        }
        var compressedLength = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedLength))
        compress2(&compressed, &compressedLength, raw, uLong(raw.count), 9)
        compressed.removeSubrange(Int(compressedLength)...)
        var out = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        func chunk(_ type: String, _ body: [UInt8]) {
            var be = UInt32(body.count).bigEndian
            out.append(Data(bytes: &be, count: 4))
            let typed = Array(type.utf8) + body
            out.append(contentsOf: typed)
            var crc = UInt32(truncatingIfNeeded: crc32(0, typed, uInt(typed.count))).bigEndian
            out.append(Data(bytes: &crc, count: 4))
        }
        func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        chunk("IHDR", be32(width) + be32(height) + [8, 2, 0, 0, 0])
        chunk("IDAT", compressed)
        chunk("IEND", [])
        return out
    }
}

/// A 5×7 bitmap font (rows top to bottom, 5 bits each, most significant bit on the left).
enum Font5x7 {
    static let glyphs: [Character: [UInt8]] = [
        "0": [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E], "1": [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        "2": [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F], "3": [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        "4": [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02], "5": [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        "6": [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E], "7": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        "8": [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E], "9": [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        "a": [0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F], "b": [0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E],
        "c": [0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E], "d": [0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F],
        "e": [0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E], "g": [0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x0E],
        "h": [0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11], "i": [0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E],
        "l": [0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E], "m": [0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11],
        "n": [0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11], "o": [0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E],
        "p": [0x00, 0x00, 0x1E, 0x11, 0x1E, 0x10, 0x10], "r": [0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10],
        "s": [0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E], "t": [0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06],
        "u": [0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D], "x": [0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11],
        "y": [0x00, 0x00, 0x11, 0x11, 0x0F, 0x01, 0x0E], "f": [0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08],
        "w": [0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A], "v": [0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04],
        "k": [0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12], "j": [0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0C],
        "q": [0x00, 0x00, 0x0D, 0x13, 0x0F, 0x01, 0x01], "z": [0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F],
        ".": [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C], ":": [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        "=": [0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00], "(": [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ")": [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08], "-": [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        " ": [0, 0, 0, 0, 0, 0, 0], "?": [0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04], "%": [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
    ]
}
