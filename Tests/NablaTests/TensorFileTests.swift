import Foundation
import Nabla
import Testing

/// A fresh temporary folder, removed by the caller.
func temporaryDirectory() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-test-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite("Tensor files: safetensors, npy, npz")
struct TensorFileTests {
    static let samples: [String: Tensor] = [
        "f32": Tensor.randomNormal([3, 4], generator: RandomGenerator(seed: 1)),
        "f64": Tensor.randomNormal([2, 1, 3], dtype: .float64, generator: RandomGenerator(seed: 2)),
        "i32": Tensor([[1, -2, 3]], dtype: .int32),
        "flag": Tensor(values: [true, false, true]),
        "scalar": Tensor(2.5),
        "empty": Tensor.zeros([0, 3]),
    ]

    func same(_ a: Tensor, _ b: Tensor) -> Bool {
        a.shape == b.shape && a.dtype == b.dtype && a.toArray(Double.self) == b.toArray(Double.self)
    }

    @Test("every format round-trips every dtype bit for bit")
    func roundTrips() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let st = dir.appendingPathComponent("a.safetensors")
        try SafeTensors.write(Self.samples, metadata: ["format": "nabla", "note": "quotes \" and \\ survive"], to: st)
        let (back, meta) = try SafeTensors.read(from: st)
        #expect(meta == ["format": "nabla", "note": "quotes \" and \\ survive"])
        for (k, v) in Self.samples { #expect(same(back[k]!, v), "\(k)") }
        for (k, v) in Self.samples {
            let url = dir.appendingPathComponent("\(k).npy")
            try NumPyFile.write(v, to: url)
            #expect(same(try NumPyFile.read(from: url), v), "\(k)")
        }
        for compressed in [false, true] {
            let url = dir.appendingPathComponent("a\(compressed).npz")
            try NumPyArchive.write(Self.samples, to: url, compressed: compressed)
            let arrays = try NumPyArchive.read(from: url)
            for (k, v) in Self.samples { #expect(same(arrays[k]!, v), "\(k) compressed=\(compressed)") }
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(AtomicFile.temporaryPrefix) }
        #expect(leftovers.isEmpty)
    }

    @Test("npy headers: versions 1 to 3, Fortran order, big-endian, narrow and wide types")
    func npyVariants() throws {
        func file(_ version: UInt8, _ header: String, _ payload: [UInt8]) -> Data {
            var h = header
            let prefix = version == 1 ? 10 : 12
            while (prefix + h.utf8.count + 1) % 64 != 0 { h += " " }
            h += "\n"
            var d = Data([0x93] + Array("NUMPY".utf8) + [version, 0])
            if version == 1 { d.append(contentsOf: [UInt8(h.utf8.count & 0xFF), UInt8(h.utf8.count >> 8)]) } else {
                d.append(contentsOf: [UInt8(h.utf8.count & 0xFF), UInt8(h.utf8.count >> 8), 0, 0])
            }
            d.append(Data(h.utf8))
            d.append(contentsOf: payload)
            return d
        }
        let fortran = try NumPyFile.decode(file(1, "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }",
                                                [1, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 3, 0, 0, 0, 6, 0, 0, 0]))
        #expect(fortran.toArray(Int32.self) == [1, 2, 3, 4, 5, 6])
        let big = try NumPyFile.decode(file(2, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", [0x3F, 0x80, 0, 0]))
        #expect(big.toArray(Float.self) == [1])
        let half = try NumPyFile.decode(file(3, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", [0x00, 0x3C, 0x00, 0xC0]))
        #expect(half.toArray(Float.self) == [1, -2])
        let wide = try NumPyFile.decode(file(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (), }", [7, 0, 0, 0, 0, 0, 0, 0]))
        #expect(wide.dtype == .int32 && wide.item(Int32.self) == 7)
    }

    /// Each corrupt or hostile input and a phrase its error must contain.
    static let badSafetensors: [(String, [UInt8], String)] = {
        func st(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
            let h = Array(header.utf8)
            let n = length ?? UInt64(h.count)
            return (0..<8).map { UInt8((n >> (8 * UInt64($0))) & 0xFF) } + h + data
        }
        return [
            ("empty file", [], "needs 8 more bytes"),
            ("huge header length", st("{}", length: UInt64.max), "exceeds the file size"),
            ("header past the end", st("{}", length: 1000), "exceeds the file size"),
            ("not JSON", st("{nope"), "not valid JSON"),
            ("not UTF-8", [4, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0xFF, 0xFE, 0x7D], "not UTF-8"),
            ("deep JSON", st(String(repeating: "{\"a\":", count: 50) + "1" + String(repeating: "}", count: 50)), "nests deeper"),
            ("unknown dtype", st("{\"x\":{\"dtype\":\"Q9\",\"shape\":[1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]), "unsupported or missing dtype"),
            ("negative shape", st("{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]), "negative dimension"),
            ("overflowing shape", st("{\"x\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]), "overflows"),
            ("offsets past the end", st("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", data: [0, 0, 0, 0]), "needs 8 bytes, the file holds 4"),
            ("offsets outside the data", st("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", data: [0, 0, 0, 0, 0, 0]), "lie outside"),
            ("size mismatch", st("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]), "needs 8 bytes"),
            ("gap", st("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", data: [0, 0, 0, 0, 0, 0, 0, 0]), "gap"),
            ("overlap", st("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]), "overlap"),
            ("uncovered bytes", st("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0, 9]), "cover 4 of 5"),
            ("bad metadata", st("{\"__metadata__\":{\"a\":1}}"), "not a string"),
            ("bad bool", st("{\"x\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[0,1]}}", data: [7]), "neither 0 nor 1"),
        ]
    }()

    @Test("corrupt and hostile safetensors files give errors that name the problem")
    func badSafetensors() {
        for (what, bytes, phrase) in Self.badSafetensors {
            do {
                _ = try SafeTensors.decode(Data(bytes), file: "bad.safetensors")
                Issue.record("\(what): accepted")
            } catch {
                #expect(error.description.contains(phrase) && error.description.hasPrefix("bad.safetensors"), "\(what): \(error.description)")
            }
        }
    }

    @Test("corrupt npy and npz files give errors that name the problem")
    func badNumPy() throws {
        let good = NumPyFile.encode(Tensor.ones([4, 4]))
        let cases: [(String, Data, String)] = [
            ("bad magic", Data([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), "bad magic"),
            ("truncated data", good.prefix(good.count - 3), "needs 64 bytes, the file holds 61"),
            ("truncated header", good.prefix(20), "truncated"),
            ("huge shape", NumPyFile.encode(Tensor.ones([4, 4])).replacing(Data("(4, 4)".utf8), with: Data("(9999999999, 9)".utf8)), "bytes, the file holds"),
        ]
        for (what, bytes, phrase) in cases {
            #expect(throws: TensorFileError.self, "\(what)") { try NumPyFile.decode(bytes, file: "x.npy") }
            do { _ = try NumPyFile.decode(bytes, file: "x.npy") } catch { #expect(error.description.contains(phrase), "\(what): \(error)") }
        }
        var archive = NumPyArchive.encode(["a": Tensor.ones([8])], compressed: false)
        archive[archive.count / 2] ^= 0xFF
        do { _ = try NumPyArchive.decode(archive, file: "x.npz"); Issue.record("corrupt npz accepted") } catch {
            #expect(error.description.contains("CRC mismatch") || error.description.contains("bad"), "\(error)")
        }
        do { _ = try NumPyArchive.decode(Data("hello".utf8), file: "x.npz"); Issue.record("not a zip accepted") } catch {
            #expect(error.description.contains("not a ZIP archive"))
        }
    }
}

/// Python's `numpy` and `safetensors`, where installed (.ci/run installs them).
enum Python {
    static let available: Bool = {
        (try? run("import numpy, safetensors.numpy").status) == 0
    }()

    static func run(_ script: String) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

@Suite("Files exchanged with Python", .enabled(if: Python.available, "needs python3 with numpy and safetensors (pip install numpy safetensors)"))
struct PythonInteropTests {
    @Test("files written by numpy and safetensors load in Nabla bit for bit")
    func fromPython() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Python.run("""
            import numpy as np
            from safetensors.numpy import save_file
            d = "\(dir.path)"
            rng = np.random.default_rng(0)
            a = rng.normal(size=(3, 5)).astype(np.float32); b = rng.normal(size=(4,)); c = np.arange(6, dtype=np.int32).reshape(2, 3)
            f = np.asfortranarray(rng.normal(size=(3, 2)).astype(np.float32))
            np.save(d + "/a.npy", a); np.save(d + "/f.npy", f)
            np.savez(d + "/s.npz", a=a, b=b, c=c); np.savez_compressed(d + "/z.npz", a=a, b=b, c=c)
            save_file({"a": a, "b": b, "c": c, "m": np.array([True, False])}, d + "/t.safetensors", metadata={"k": "v"})
            print(a.tobytes().hex(), b.tobytes().hex(), c.tobytes().hex(), np.ascontiguousarray(f).tobytes().hex())
            """)
        #expect(r.status == 0, "\(r.output)")
        let hex = r.output.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let a = try NumPyFile.read(from: dir.appendingPathComponent("a.npy"))
        #expect(hexOf(a) == hex[0])
        #expect(hexOf(try NumPyFile.read(from: dir.appendingPathComponent("f.npy"))) == hex[3])
        for name in ["s.npz", "z.npz"] {
            let arrays = try NumPyArchive.read(from: dir.appendingPathComponent(name))
            #expect(hexOf(arrays["a"]!) == hex[0] && hexOf(arrays["b"]!) == hex[1] && hexOf(arrays["c"]!) == hex[2], "\(name)")
        }
        let (t, meta) = try SafeTensors.read(from: dir.appendingPathComponent("t.safetensors"))
        #expect(meta == ["k": "v"])
        #expect(hexOf(t["a"]!) == hex[0] && hexOf(t["b"]!) == hex[1] && hexOf(t["c"]!) == hex[2])
        #expect(t["m"]!.toArray(Bool.self) == [true, false])
    }

    @Test("files written by Nabla load in numpy and safetensors bit for bit")
    func toPython() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = Tensor.randomNormal([3, 5], generator: RandomGenerator(seed: 4)), b = Tensor.randomNormal([4], dtype: .float64)
        let c = Tensor([[1, 2, 3], [4, 5, 6]], dtype: .int32)
        try NumPyFile.write(a, to: dir.appendingPathComponent("a.npy"))
        try NumPyArchive.write(["a": a, "b": b, "c": c], to: dir.appendingPathComponent("s.npz"))
        try NumPyArchive.write(["a": a, "b": b, "c": c], to: dir.appendingPathComponent("z.npz"), compressed: true)
        try SafeTensors.write(["a": a, "b": b, "c": c], metadata: ["k": "v"], to: dir.appendingPathComponent("t.safetensors"))
        let r = try Python.run("""
            import numpy as np
            from safetensors import safe_open
            from safetensors.numpy import load_file
            d = "\(dir.path)"
            out = [np.load(d + "/a.npy").tobytes().hex()]
            for n in ("s", "z"):
                z = np.load(d + "/" + n + ".npz"); out += [z["a"].tobytes().hex(), z["b"].tobytes().hex(), z["c"].tobytes().hex()]
            t = load_file(d + "/t.safetensors"); out += [t["a"].tobytes().hex(), t["b"].tobytes().hex(), t["c"].tobytes().hex()]
            with safe_open(d + "/t.safetensors", framework="numpy") as f: out.append(f.metadata()["k"])
            print(" ".join(out))
            """)
        #expect(r.status == 0, "\(r.output)")
        let got = r.output.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let expected = [hexOf(a)] + Array(repeating: [hexOf(a), hexOf(b), hexOf(c)], count: 3).flatMap { $0 } + ["v"]
        #expect(got == expected)
    }
}

/// The tensor's bytes as lowercase hex (what numpy's `tobytes().hex()` prints).
func hexOf(_ t: Tensor) -> String {
    let bytes: [UInt8]
    switch t.dtype {
    case .float32: bytes = t.toArray(Float.self).flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
    case .float64: bytes = t.toArray(Double.self).flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
    case .int32: bytes = t.toArray(Int32.self).flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
    case .bool: bytes = t.toArray(Bool.self).map { $0 ? 1 : 0 }
    }
    return bytes.map { String(format: "%02x", $0) }.joined()
}
