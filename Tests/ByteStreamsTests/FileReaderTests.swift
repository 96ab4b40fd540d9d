import Foundation
import Testing
@testable import ByteStreams

@Suite struct FileReaderTests {
    @Test func theTailIsTheLastBytesOrTheWholeShortFile() throws {
        let path = NSTemporaryDirectory() + "gantry-tail-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data((0..<200_000).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: path))
        #expect(try FileReader.readTail(path, count: 1000) == (199_000..<200_000).map { UInt8($0 % 251) })
        #expect(try FileReader.readTail(path, count: 300_000).count == 200_000)
        #expect(throws: (any Error).self) { try FileReader.readTail(path + ".missing", count: 10) }
    }
}
