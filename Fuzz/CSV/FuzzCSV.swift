// libFuzzer entry point for the CSV reader: any input must give a value or a thrown error, never a
// crash, a hang or a huge allocation. Built by .ci/run with `swift build --sanitize=fuzzer`.
import Foundation
import Nabla
import NablaData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let data = Data(bytes: bytes, count: size)
    _ = try? CSVDataset(data: data, source: "fuzz")
    return 0
}
