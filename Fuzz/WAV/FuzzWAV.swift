// libFuzzer entry point for the WAV reader: any input must give a clip or a thrown error, never a
// crash, a hang or a huge allocation. Built by .ci/run with `swift build --sanitize=fuzzer`.
import Foundation
import Nabla

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWAV(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let data = Data(bytes: bytes, count: size)
    _ = try? WAVFile.decode(data, file: "fuzz")
    return 0
}
