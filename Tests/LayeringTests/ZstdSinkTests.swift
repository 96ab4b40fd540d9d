import Foundation
import Testing
import ByteStreams
import Diagnostics
@testable import Layering
import TestTools

/// zstd layers: the same bytes whatever the thread count (gantry always runs
/// libzstd in its multi-threaded mode), read back by Debian's zstd tool.
@Suite struct ZstdSinkTests {
    static func compress(_ input: [UInt8], level: Int32, threads: Int, chunk: Int = 70_000) throws -> [UInt8] {
        let out = CollectingSink()
        try feed(input, to: try ZstdSink(level: level, threads: threads, next: out), chunk: chunk)
        return out.bytes
    }

    @Test(arguments: [Int32(1), 3, 9])
    func sameBytesForAnyThreadCountAndZstdReadsThem(_ level: Int32) throws {
        let one = try Self.compress(GzipSinkTests.input, level: level, threads: 1)
        let two = try Self.compress(GzipSinkTests.input, level: level, threads: 2, chunk: 1 << 20)
        let four = try Self.compress(GzipSinkTests.input, level: level, threads: 4, chunk: 4096)
        #expect(one == two && one == four)
        #expect(one.count < GzipSinkTests.input.count)
        let (status, decompressed) = try run("zstd", ["-dc"], stdin: Data(one))
        #expect(status == 0)
        #expect(Array(decompressed) == GzipSinkTests.input)
    }

    @Test func emptyInputIsAValidFrame() throws {
        let frame = try Self.compress([], level: 3, threads: 2)
        let (status, decompressed) = try run("zstd", ["-dc"], stdin: Data(frame))
        #expect(status == 0 && decompressed.isEmpty)
    }

    @Test func parsingAndMediaType() throws {
        #expect(try Compression(parsing: "zstd") == .zstd(level: 3))
        #expect(try Compression(parsing: "zstd:19") == .zstd(level: 19))
        #expect(Compression.zstd(level: 3).description == "zstd")
        #expect(Compression.zstd(level: 7).description == "zstd:7")
        #expect(Compression.zstd(level: 3).mediaType == "application/vnd.oci.image.layer.v1.tar+zstd")
        for bad in ["zstd:0", "zstd:20", "zstd:x"] {
            #expect(throws: Failure.self) { _ = try Compression(parsing: bad) }
        }
    }
}
