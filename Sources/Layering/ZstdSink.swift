import ByteStreams
import Diagnostics
import CZstd

/// Compresses a stream with zstd (libzstd) into `next`: one frame with a checksum.
///
/// Always in zstd's multi-threaded mode, even with one worker: in that mode the
/// frame depends on the level and the input only, never on how many workers
/// compressed it (single-threaded mode would give other bytes), so a layer has
/// the same digest on every machine. The workers are libzstd's own threads.
public final class ZstdSink: CompressingSink {
    private let next: ByteSink
    private let context: OpaquePointer
    private let output: UnsafeMutableRawBufferPointer
    static let jobSize: Int32 = 1 << 20

    public init(level: Int32, threads: Int, next: ByteSink) throws {
        guard let context = ZSTD_createCCtx() else {
            throw Failure(.internalFailure, "zstd: cannot create a compression context (out of memory?)")
        }
        self.context = context
        self.next = next
        output = UnsafeMutableRawBufferPointer.allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)
        try Self.check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level), "compression level \(level)")
        try Self.check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1), "checksum flag")
        try Self.check(ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, Int32(max(1, min(threads, 256)))),
                       "worker threads (libzstd built without multi-threading?)")
        // A fixed job size (part of the format's input, so the bytes stay the same):
        // libzstd's default for level 3 is 8 MiB a job, buffered several times over
        // per worker, over 100 MiB of memory for one layer.
        try Self.check(ZSTD_CCtx_setParameter(context, ZSTD_c_jobSize, Self.jobSize), "job size")
    }

    deinit {
        ZSTD_freeCCtx(context)
        output.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while input.pos < input.size {
            _ = try compress(&input, ZSTD_e_continue)
        }
    }

    /// Flushes what the workers hold and ends the frame.
    public func finish() throws {
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try compress(&input, ZSTD_e_end) != 0 {}
    }

    /// One call of ZSTD_compressStream2; writes what it produced; returns what it says remains to flush.
    private func compress(_ input: inout ZSTD_inBuffer, _ directive: ZSTD_EndDirective) throws -> Int {
        var out = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let remaining = ZSTD_compressStream2(context, &out, &input, directive)
        try Self.check(remaining, "compression")
        if out.pos > 0 { try next.write(UnsafeRawBufferPointer(rebasing: output[0..<out.pos])) }
        return remaining
    }

    private static func check(_ code: Int, _ what: String) throws {
        guard ZSTD_isError(code) != 0 else { return }
        throw Failure(.internalFailure, "zstd: \(what) failed: \(String(cString: ZSTD_getErrorName(code)))")
    }
}
