import FoundationEssentials
import Glibc
import ByteStreams
import Diagnostics
import Threads

/// Hashes a file that parallel ranged GETs fill in, following the finished prefix:
/// parts finish roughly in order, so the SHA-256 runs beside the download (reading
/// back pages it just wrote, still in the page cache) instead of re-reading the
/// whole file after it. Runs on its own thread; the parts report when they end.
final class PrefixHasher: @unchecked Sendable {
    // All state is touched only under `condition`, hence @unchecked.
    private let condition = Condition()
    /// Finished parts not yet hashed: start → end (exclusive).
    private var finished: [Int64: Int64] = [:]
    private var stopped = false
    private let result = Pending<Result<[UInt8], any Error>>()

    /// Starts hashing `size` bytes of `path` as parts finish.
    init(path: String, size: Int64) throws {
        try DedicatedThread.start(name: "download-hash") { [self] in result.fulfil(Result { try hash(path: path, size: size) }) }
    }

    func partFinished(start: Int64, end: Int64) {
        condition.lock()
        finished[start] = end
        condition.broadcast()
        condition.unlock()
    }

    /// The download failed: the hash thread ends without finishing.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
        _ = result.wait()
    }

    /// The SHA-256 of the whole file, once every part has finished.
    func digest() throws -> [UInt8] { try result.wait().get() }

    private struct Stopped: Error {}

    private func hash(path: String, size: Int64) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError.failure("open", path: path) }
        defer { close(fd) }
        let hasher = SHA256Hasher()
        // 256 KiB, as libcurl's receive buffer: a set downloads 4 files side by side,
        // each with a hasher, and 1 MiB blocks cost 3 MiB of peak RSS for no speed.
        let blockSize = 256 << 10
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 16)
        defer { buffer.deallocate() }
        var hashed: Int64 = 0
        while hashed < size {
            let end = try nextEnd(after: hashed)
            while hashed < end {
                let want = Int(min(Int64(blockSize), end - hashed))
                let got = pread(fd, buffer.baseAddress, want, off_t(hashed))
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else { throw SystemError.failure("read", path: path) }
                hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
                hashed += Int64(got)
            }
        }
        return hasher.finish()
    }

    /// Waits until the part starting at `offset` has finished; its end.
    private func nextEnd(after offset: Int64) throws -> Int64 {
        condition.lock()
        defer { condition.unlock() }
        while finished[offset] == nil && !stopped { condition.wait() }
        guard let end = finished.removeValue(forKey: offset) else { throw Stopped() }
        return end
    }
}
