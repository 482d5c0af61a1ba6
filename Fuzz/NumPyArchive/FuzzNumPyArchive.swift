// libFuzzer entry point for the NumPyArchive reader: any input must give a value or a thrown error, never a
// crash, a hang or a huge allocation. Built by .ci/run with `swift build --sanitize=fuzzer`.
import Foundation
import Nabla

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNumPyArchive(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let data = Data(bytes: bytes, count: size)
    _ = try? NumPyArchive.decode(data, file: "fuzz")
    return 0
}
