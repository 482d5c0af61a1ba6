// libFuzzer entry point for the interactions reader (MovieLens `::` files, u.data, CSV with named
// columns) and the item-title reader's parsing path: any input must give rows or a thrown error,
// never a crash, a hang or a huge allocation; what loads must also split.
import Foundation
import Nabla
import NablaData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInteractions(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = Array(UnsafeBufferPointer(start: bytes, count: size))
    for format in Interactions.Format.allCases {
        for implicit in [false, true] {
            guard let d = try? Interactions(bytes: raw, source: "fuzz", format: format, implicit: implicit) else { continue }
            _ = d.split(.random(testFraction: 0.2, seed: 1))
            _ = d.split(.leaveLastOut)
            _ = d.split(.temporal(testFraction: 0.3))
        }
    }
    return 0
}
