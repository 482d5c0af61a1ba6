// libFuzzer entry point for the ModelConfig reader: any input must give a value or a thrown error, never a
// crash, a hang or a huge allocation. Built by .ci/run with `swift build --sanitize=fuzzer`.
import Foundation
import Nabla
import NablaNN

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelConfig(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let data = Data(bytes: bytes, count: size)
    _ = try? Model.fromConfiguration(data, file: "fuzz")
    return 0
}
