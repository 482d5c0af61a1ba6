import Nabla
import Testing

@Suite("Shape errors name the op and the shapes")
struct ShapeErrorTests {
    @Test("matmul inner dimensions")
    func matmulMessage() throws {
        let e = try #require(throws: ShapeError.self) { try Shape.matmul([3], [2, 2]) }
        #expect(e.description == "matmul: [3] and [2, 2] do not fit: inner dimensions 3 and 2 differ")
        let batch = try #require(throws: ShapeError.self) { try Shape.matmul([2, 3, 4], [5, 4, 2]) }
        #expect(batch.description == "matmul: [2, 3, 4] and [5, 4, 2] do not fit: batch dimensions [2] and [5] cannot be broadcast")
        #expect(try Shape.matmul([7, 1, 3, 4], [5, 4, 2]) == [7, 5, 3, 2])
        #expect(try Shape.matmul([4], [4]) == [])
    }

    @Test("broadcasting")
    func broadcastMessage() throws {
        let e = try #require(throws: ShapeError.self) { try Shape.broadcast([3, 4], [2, 4], op: "add") }
        #expect(e.description == "add: [3, 4] and [2, 4] cannot be broadcast: dimension 0 is 3 and 2")
        #expect(try Shape.broadcast([2, 1, 4], [3, 1], op: "add") == [2, 3, 4])
    }

    #if !os(Windows)
    @Test("a core op stops with the same message on a shape mistake")
    func trapMessage() async throws {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = matmul(Tensor([1, 2, 3]), Tensor([[1, 2], [3, 4]]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("matmul: [3] and [2, 2] do not fit: inner dimensions 3 and 2 differ"))
    }

    @Test("an elementwise op names both shapes")
    func trapBroadcast() async throws {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([3, 4]) + Tensor.zeros([2, 4])
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("add: [3, 4] and [2, 4] cannot be broadcast"))
    }
    #endif
}
