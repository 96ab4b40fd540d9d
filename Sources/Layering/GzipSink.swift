import CZlib
import ByteStreams
import Diagnostics
import Threads

/// gzip that gives the same bytes whatever the thread count (pigz's scheme):
/// the input is cut into fixed 1 MiB blocks, each deflated on its own with the
/// previous 32 KiB as dictionary and ended with a sync flush (the last with
/// Z_FINISH); the raw deflate pieces are concatenated in order under one gzip
/// header, with the CRC-32 and length of the whole input in the trailer.
/// Blocks are compressed by up to `threads` workers; memory is bounded by the
/// blocks in flight (`threads + 1` of them, up to 2 MiB each: input and output),
/// never by the layer size.
public final class GzipSink: CompressingSink {
    static let blockSize = 1 << 20
    static let dictionarySize = 32 << 10
    /// Header per RFC 1952: no file name, mtime 0, no extra flags, OS 255
    /// ("unknown") so the bytes do not depend on the build machine.
    static let header: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]

    private let next: ByteSink
    private let compression: Compression
    private let pool: WorkerPool?
    private let maxInFlight: Int
    private var block: [UInt8] = []
    private var dictionary: [UInt8] = []
    private var inFlight: [Pending<Result<[UInt8], Failure>>] = []
    private var crc: UInt = crc32(0, nil, 0)
    private var inputLength: UInt64 = 0
    private var startedOutput = false

    public init(compression: Compression, threads: Int, next: ByteSink) {
        self.next = next
        self.compression = compression
        let threads = max(1, threads)
        pool = threads > 1 ? WorkerPool(threads: threads, name: "gzip") : nil
        // One block more than workers: while the caller waits for the oldest, every
        // worker still has a block (100,000 small files: 0.3 s faster than one per
        // worker, for 1.5 MiB). Stored blocks never reach the workers.
        maxInFlight = threads + 1
        block.reserveCapacity(GzipSink.blockSize)
    }

    deinit { pool?.shutdown() }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if !startedOutput {
            startedOutput = true
            try next.write(GzipSink.header)
        }
        if let base = bytes.baseAddress, bytes.count > 0 {
            crc = crc32(crc, base.assumingMemoryBound(to: Bytef.self), uInt(bytes.count))
        }
        inputLength &+= UInt64(bytes.count)
        var offset = 0
        while offset < bytes.count {
            let take = min(GzipSink.blockSize - block.count, bytes.count - offset)
            block.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + take)]))
            offset += take
            if block.count == GzipSink.blockSize { try submit(last: false) }
        }
    }

    /// Compresses what is left, writes the trailer and flushes.
    public func finish() throws {
        if !startedOutput {
            startedOutput = true
            try next.write(GzipSink.header)
        }
        try submit(last: true)
        while !inFlight.isEmpty { try drainOldest() }
        var trailer = [UInt8]()
        let crc32Value = UInt32(truncatingIfNeeded: crc)
        let size = UInt32(truncatingIfNeeded: inputLength)  // ISIZE is the length mod 2^32
        for shift in stride(from: 0, to: 32, by: 8) { trailer.append(UInt8(truncatingIfNeeded: crc32Value >> UInt32(shift))) }
        for shift in stride(from: 0, to: 32, by: 8) { trailer.append(UInt8(truncatingIfNeeded: size >> UInt32(shift))) }
        try next.write(trailer)
        pool?.shutdown()
    }

    private func submit(last: Bool) throws {
        let dictionary = self.dictionary
        self.dictionary = block.count >= GzipSink.dictionarySize
            ? Array(block.suffix(GzipSink.dictionarySize))
            : Array((self.dictionary + block).suffix(GzipSink.dictionarySize))
        let level = GzipSink.level(for: block, compression: compression)
        if level == 0 {
            // Weights that do not compress are stored as they are: written straight
            // from the block, on this thread (no worker, no output buffer: copying is
            // all there is to do). Earlier blocks go out first to keep the order.
            while !inFlight.isEmpty { try drainOldest() }
            try GzipSink.writeStored(block, last: last, to: next)
            block.removeAll(keepingCapacity: true)
            return
        }
        guard let pool else {
            let output = try GzipSink.deflateBlock(block, dictionary: dictionary, level: level, last: last).get()
            block.removeAll(keepingCapacity: true)
            try next.write(output)
            return
        }
        let input = block
        block.removeAll(keepingCapacity: true)
        let pending = Pending<Result<[UInt8], Failure>>()
        pool.submit { pending.fulfil(GzipSink.deflateBlock(input, dictionary: dictionary, level: level, last: last)) }
        inFlight.append(pending)
        while inFlight.count >= maxInFlight { try drainOldest() }
    }

    private func drainOldest() throws {
        let output = try inFlight.removeFirst().wait().get()
        try next.write(output)
    }

    /// The level a block is deflated at. `auto` deflates a 16 KiB sample at level 1
    /// and stores the block (level 0) when that saves under 15 %: float32 weights
    /// save ~7 % for ~25 MB/s of CPU a core, far slower than sending the bytes.
    static func level(for input: [UInt8], compression: Compression) -> Int32 {
        switch compression {
        case .gzip(let level), .zstd(let level): return level
        case .none: return 0
        case .auto(let level):
            let sample = Array(input.prefix(16 << 10))
            guard sample.count >= 4096 else { return level }
            guard let compressed = try? deflateRaw(sample, dictionary: [], level: 1, last: true) else { return level }
            return Double(compressed.count) > Double(sample.count) * 0.85 ? 0 : level
        }
    }

    /// What zlib's deflate (1.2.9 and later) writes at level 0 for a whole block
    /// given at once with room to spare: stored blocks of at most 65,535 bytes
    /// (3 header bits padded to a byte, LEN, NLEN, the bytes), the last one final
    /// under Z_FINISH; after a sync flush, one empty stored block. Written here
    /// so that nothing is copied through zlib's window (the unit tests check these
    /// bytes against zlib's own).
    static func writeStored(_ input: [UInt8], last: Bool, to sink: ByteSink) throws {
        func header(final: Bool, length: Int) -> [UInt8] {
            let length = UInt16(length)
            return [final ? 1 : 0, UInt8(length & 0xff), UInt8(length >> 8), UInt8(~length & 0xff), UInt8(~length >> 8)]
        }
        try input.withUnsafeBytes { bytes in
            var offset = 0
            repeat {
                let length = min(65_535, bytes.count - offset)
                let final = last && offset + length == bytes.count
                if length == 0 && !final { break }
                try sink.write(header(final: final, length: length))
                try sink.write(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
                offset += length
                if final { return }
            } while offset < bytes.count
            try sink.write(header(final: false, length: 0))  // the sync flush
        }
    }

    static func deflateBlock(_ input: [UInt8], dictionary: [UInt8], level: Int32, last: Bool) -> Result<[UInt8], Failure> {
        Result { try deflateRaw(input, dictionary: dictionary, level: level, last: last) }
            .mapError { $0 as? Failure ?? Failure(.internalFailure, "zlib: \($0)") }
    }

    /// One raw deflate piece (no zlib or gzip framing). A sync flush leaves it
    /// byte-aligned and not final, so the next piece can follow it directly.
    static func deflateRaw(_ input: [UInt8], dictionary: [UInt8], level: Int32, last: Bool) throws -> [UInt8] {
        var stream = z_stream()
        // windowBits -15: raw deflate; memLevel 8 is zlib's default.
        let initialized = deflateInit2_(&stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initialized == Z_OK else { throw zlibFailure("deflateInit2", initialized) }
        defer { deflateEnd(&stream) }
        if !dictionary.isEmpty {
            let set = dictionary.withUnsafeBufferPointer { deflateSetDictionary(&stream, $0.baseAddress, uInt($0.count)) }
            guard set == Z_OK else { throw zlibFailure("deflateSetDictionary", set) }
        }
        let bound = Int(deflateBound(&stream, uLong(input.count))) + 64
        let flush = last ? Z_FINISH : Z_SYNC_FLUSH
        // Uninitialized: zero-filling a buffer deflate overwrites costs a pass over it.
        return try [UInt8](unsafeUninitializedCapacity: bound) { outBuffer, initialized in
            // zlib's next_in is not const but deflate never writes through it: reading
            // the caller's block in place saves a 1 MiB copy per block in flight.
            let code = input.withUnsafeBufferPointer { inBuffer in
                stream.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress)
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                // The output buffer is larger than deflateBound, so one call completes.
                return CZlib.deflate(&stream, flush)
            }
            initialized = outBuffer.count - Int(stream.avail_out)
            // Complete means: Z_FINISH ended the stream; a sync flush consumed all input with room to spare.
            let complete = last ? code == Z_STREAM_END : (code == Z_OK && stream.avail_in == 0 && stream.avail_out > 0)
            guard complete else { throw zlibFailure("deflate", code) }
        }
    }

    private static func zlibFailure(_ call: String, _ code: Int32) -> Failure {
        Failure(.internalFailure, "zlib \(call) failed (code \(code)) while compressing a layer; this is a bug in gantry or zlib, please report it")
    }
}
