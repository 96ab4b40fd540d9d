import Foundation
import Testing
@testable import ByteStreams

@Suite struct BackgroundDigestingSinkTests {
    final class Collecting: ByteSink {
        var bytes: [UInt8] = []
        func write(_ chunk: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: chunk) }
    }

    /// Whatever the pieces (empty, small, exactly a buffer, many buffers), the digest
    /// is the bytes' SHA-256 and the next sink gets the bytes unchanged.
    @Test(arguments: [0, 1, 1000, BackgroundDigestingSink.defaultBufferSize, 3 * BackgroundDigestingSink.defaultBufferSize + 7])
    func digestAndBytesMatchWhateverThePieces(_ piece: Int) throws {
        var state: UInt64 = 11
        let input: [UInt8] = (0..<(3 << 20) + 5).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        let next = Collecting()
        let sink = try BackgroundDigestingSink(next: next)
        var offset = 0
        while offset < input.count {
            let end = piece == 0 ? input.count : min(input.count, offset + piece)
            try input[offset..<end].withUnsafeBytes { try sink.write($0) }
            offset = end
        }
        #expect(sink.count == Int64(input.count))
        #expect(sink.finish() == SHA256Hasher.hash(input))
        #expect(sink.finish() == SHA256Hasher.hash(input))  // asked again: the same answer
        #expect(next.bytes == input)
    }

    @Test func nothingWrittenIsTheEmptyDigest() throws {
        #expect(try BackgroundDigestingSink(next: nil).finish() == SHA256Hasher.hash([]))
    }

    /// A download that fails drops its sink without finishing: its thread ends.
    @Test func droppedWithoutFinishingEndsItsThread() throws {
        func hashThreads() -> Int {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
            return tasks.filter { (try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8)) == "hash\n" }.count
        }
        let before = hashThreads()
        for _ in 0..<20 {
            let sink = try BackgroundDigestingSink(next: nil)
            try [UInt8](repeating: 1, count: 600_000).withUnsafeBytes { try sink.write($0) }
        }
        var left = hashThreads()
        for _ in 0..<100 where left > before {
            usleep(10_000)
            left = hashThreads()
        }
        #expect(left <= before, "\(left - before) hashing threads outlived their sinks")
    }
}
