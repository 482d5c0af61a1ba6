// libFuzzer entry point for the ONNX reader (the protobuf codec and the graph checks of
// ONNXGraphModel): any input must give a model or a thrown error, never a crash, a hang or a huge
// allocation.
import Foundation
import Nabla
import NablaNN

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzONNX(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = Array(UnsafeBufferPointer(start: bytes, count: size))
    if let model = try? ONNXGraphModel(bytes: raw, source: "fuzz") {
        _ = model.config
        _ = try? model.onnxBytes()
    }
    return 0
}
