import Glibc
import Diagnostics
import CShims

/// Writes to an open file descriptor, retrying short writes and EINTR, and turns
/// a failure (ENOSPC above all) into an error that names the file.
public final class FileDescriptorSink: ByteSink {
    public let descriptor: Int32
    /// What errors call the file: the real destination when `path` is a temp file.
    public let path: String
    private var closed = false
    private var written: Int64 = 0
    private var flushedUpTo: Int64 = 0
    /// Start writing back to disk every this many bytes, so that the final fsync
    /// does not wait for a whole multi-GB blob at once (disk I/O overlaps compute).
    static let writebackInterval: Int64 = 16 << 20

    /// False: the owner starts writeback itself (from another thread).
    private let startsWriteback: Bool

    /// Creates (or truncates) `path` with `mode`. `name` is used in errors.
    public init(creating path: String, exclusive: Bool = false, describedAs name: String? = nil, mode: mode_t = 0o644,
                startsWriteback: Bool = true) throws {
        self.startsWriteback = startsWriteback
        var flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC
        if exclusive { flags |= O_EXCL }
        self.path = name ?? path
        let fd = open(path, flags, mode)
        guard fd >= 0 else { throw SystemError.failure("create", path: self.path) }
        descriptor = fd
    }

    /// Takes over `descriptor` (an open file; closed by `close` or deinit), e.g. one
    /// created relative to a directory descriptor. No early writeback.
    public init(adopting descriptor: Int32, describedAs name: String) {
        self.descriptor = descriptor
        self.path = name
        startsWriteback = false
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        // After close the descriptor number may belong to another file already.
        guard !closed else { throw Failure(.internalFailure, "write to \(path) after it was closed") }
        guard var pointer = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = Glibc.write(descriptor, pointer, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw SystemError.failure("write", path: path)
            }
            remaining -= written
            pointer += written
            self.written += Int64(written)
        }
        if startsWriteback && self.written - flushedUpTo >= Self.writebackInterval {
            // Asynchronous: only queues the pages for writeback; errors surface at fsync.
            _ = gantry_start_writeback(descriptor, off_t(flushedUpTo), off_t(self.written - flushedUpTo))
            flushedUpTo = self.written
        }
    }

    /// Queues `length` bytes at `offset` of `descriptor` for writeback without waiting
    /// (for writers that do not go through a sink, such as a ranged download's parts).
    public static func startWriteback(_ descriptor: Int32, offset: Int64, length: Int64) {
        _ = gantry_start_writeback(descriptor, off_t(offset), off_t(length))
    }

    /// Flushes to stable storage, so that a rename after it never exposes a file
    /// whose data a crash could still lose.
    public func sync() throws {
        guard fsync(descriptor) == 0 else { throw SystemError.failure("write", path: path) }
    }

    public func close() throws {
        guard !closed else { return }
        closed = true
        guard Glibc.close(descriptor) == 0 else { throw SystemError.failure("write", path: path) }
    }

    deinit { if !closed { _ = Glibc.close(descriptor) } }
}
