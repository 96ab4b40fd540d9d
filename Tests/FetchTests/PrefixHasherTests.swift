import Foundation
import Testing
import TestSupport
import ByteStreams
@testable import Fetch

/// The hash of a ranged download follows its finished prefix, whatever order
/// the parts end in, and stops cleanly when the download fails.
@Suite struct PrefixHasherTests {
    let scratch: ScratchDirectory
    init() throws { scratch = try ScratchDirectory() }

    @Test func partsFinishingOutOfOrderGiveTheWholeFilesDigest() throws {
        let bytes = testBytes(10_000, seed: 3)
        let path = try scratch.write("parts", bytes)
        let hasher = try PrefixHasher(path: path, size: 10_000)
        for (start, end) in [(4000, 8000), (8000, 10_000), (0, 4000)] {
            hasher.partFinished(start: Int64(start), end: Int64(end))
        }
        #expect(try hasher.digest() == SHA256Hasher.hash(bytes))
    }

    @Test func aStoppedDownloadEndsTheHashWithoutAResult() throws {
        let path = try scratch.write("partial", testBytes(10_000, seed: 4))
        let hasher = try PrefixHasher(path: path, size: 10_000)
        hasher.partFinished(start: 4000, end: 8000)  // the first part never finishes
        hasher.stop()
        #expect(throws: (any Error).self) { try hasher.digest() }
    }
}
