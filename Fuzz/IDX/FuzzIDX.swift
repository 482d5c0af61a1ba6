// libFuzzer entry point for the IDX reader (plain and gzip): any input must give a value or a thrown
// error, never a crash, a hang or a huge allocation. Built by .ci/run with `swift build --sanitize=fuzzer`.
import Foundation
import Nabla
import NablaData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let data = Data(bytes: bytes, count: size)
    _ = try? IDX.decode(data, source: "fuzz")
    return 0
}
