// libFuzzer entry point for the shared text layer as the label/text reader uses it: any input must
// give rows or a thrown error, never a crash, a hang or a huge allocation.
import Foundation
import Nabla
import NablaData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLabelledText(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = Array(UnsafeBufferPointer(start: bytes, count: size))
    for header in [DelimitedTable.Header.auto, .present] {
        if let table = try? DelimitedTable(bytes: raw, source: "fuzz", header: header) {
            _ = try? LabelledTexts(table: table)
            _ = try? LabelledTexts(table: table, labelColumn: "1", textColumn: "0")
        }
    }
    return 0
}
