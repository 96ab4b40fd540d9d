import Foundation
import Testing
import ByteStreams
import Diagnostics
@testable import Layering
import TestTools

/// Collects everything written, for small test streams.
final class CollectingSink: ByteSink {
    var bytes: [UInt8] = []
    func write(_ chunk: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: chunk) }
}

/// Feeds `input` to a compressor in pieces of `chunk` bytes, then ends the stream.
func feed(_ input: [UInt8], to sink: CompressingSink, chunk: Int) throws {
    var offset = 0
    while offset < input.count {
        let end = min(offset + chunk, input.count)
        try input[offset..<end].withUnsafeBytes { try sink.write($0) }
        offset = end
    }
    try sink.finish()
}

@Suite struct GzipSinkTests {
    /// zlib's return codes are checked: a level zlib refuses is an error, not an empty block.
    @Test func refusedDeflateSettingsAreAnError() throws {
        #expect(throws: Failure.self) { try GzipSink.deflateRaw(Array(repeating: 7, count: 4096), dictionary: [], level: 42, last: true) }
        let piece = try GzipSink.deflateRaw(Array(repeating: 7, count: 4096), dictionary: [], level: 6, last: true)
        #expect(!piece.isEmpty && piece.count < 4096)
    }

    /// 3.5 MiB: text, then pseudo-random bytes, so blocks differ in kind and the tail is partial.
    static let input: [UInt8] = {
        var bytes = Array(String(repeating: "model weights and flask routes\n", count: 60_000).utf8)
        var state: UInt64 = 0x9E3779B97F4A7C15
        while bytes.count < 3_670_016 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            bytes.append(UInt8(truncatingIfNeeded: state >> 33))
        }
        return bytes
    }()

    static func compress(_ input: [UInt8], _ compression: Compression, threads: Int, chunk: Int = 70_000) throws -> [UInt8] {
        let out = CollectingSink()
        try feed(input, to: GzipSink(compression: compression, threads: threads, next: out), chunk: chunk)
        return out.bytes
    }

    @Test(arguments: [Compression.auto(level: 6), .gzip(level: 1), .gzip(level: 0)])
    func sameBytesForAnyThreadCountAndGzipReadsThem(_ compression: Compression) throws {
        let one = try Self.compress(Self.input, compression, threads: 1)
        let four = try Self.compress(Self.input, compression, threads: 4, chunk: 1 << 20)
        #expect(one == four)
        let (status, decompressed) = try run("gzip", ["-dc"], stdin: Data(one))
        #expect(status == 0)
        #expect(Array(decompressed) == Self.input)
    }

    @Test func autoStoresIncompressibleBlocksAndCompressesText() throws {
        let text = Array(String(repeating: "hello gantry ", count: 100_000).utf8)
        let random = Array(Self.input.suffix(1 << 20))
        #expect(try Self.compress(text, .default, threads: 1).count < text.count / 10)
        let stored = try Self.compress(random, .default, threads: 1)
        #expect(stored.count >= random.count)           // level 0: framing only
        #expect(stored.count < random.count + 1024)
    }

    @Test func autoStoresFloat32Weights() throws {
        // Normally distributed float32 values, like trained weights: gzip saves ~7 %.
        var state: UInt64 = 42
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        var weights: [UInt8] = []
        weights.reserveCapacity(1 << 20)
        while weights.count < 1 << 20 {
            let value = Float(sqrt(-2 * log(uniform())) * cos(2 * Double.pi * uniform()) * 0.05)
            withUnsafeBytes(of: value.bitPattern.littleEndian) { weights.append(contentsOf: $0) }
        }
        let gzip6 = try Self.compress(weights, .gzip(level: 6), threads: 1)
        #expect(gzip6.count < weights.count)                 // it does compress a little…
        #expect(gzip6.count > weights.count * 85 / 100)     // …but by under 15 %
        #expect(try Self.compress(weights, .default, threads: 1).count >= weights.count)  // so auto stores it
    }

    @Test func headerHasNoNameNoTimeAndFixedOS() throws {
        let bytes = try Self.compress(Array("x".utf8), .default, threads: 1)
        #expect(Array(bytes.prefix(10)) == [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])
    }

    @Test func emptyInputIsValidGzip() throws {
        let bytes = try Self.compress([], .default, threads: 2)
        let (status, decompressed) = try run("gzip", ["-dc"], stdin: Data(bytes))
        #expect(status == 0 && decompressed.isEmpty)
    }

    /// gantry writes level-0 blocks itself; the bytes must be zlib's, whatever the
    /// size (around the 65,535-byte stored-block limit), dictionary and flush.
    @Test(arguments: [0, 1, 1000, 65_534, 65_535, 65_536, 131_070, 131_071, 1 << 20])
    func storedBlocksAreZlibsBytes(_ size: Int) throws {
        let input = Array(Self.input.suffix(size))
        for last in [false, true] {
            for dictionary in [[], Array(Self.input.prefix(32 << 10))] {
                let out = CollectingSink()
                try GzipSink.writeStored(input, last: last, to: out)
                let zlib = try GzipSink.deflateRaw(input, dictionary: dictionary, level: 0, last: last)
                #expect(out.bytes == zlib, "size \(size), last \(last), dictionary \(dictionary.count)")
            }
        }
    }
}
