import Glibc
import Diagnostics

/// Reads a file in fixed-size chunks: memory stays at one buffer whatever the size.
public enum FileReader {
    /// 256 KiB: as fast as 1 MiB reads from the page cache or disk (the kernel reads
    /// ahead either way), for a quarter of the memory.
    public static let chunkSize = 256 << 10

    /// Calls `body` with each chunk of the file at `path`, in order.
    public static func forEachChunk(of path: String, chunkSize: Int = chunkSize,
                                    _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError.failure("open", path: path) }
        defer { close(fd) }
        try forEachChunk(of: fd, path: path, chunkSize: chunkSize, body)
    }

    public static func forEachChunk(of fd: Int32, path: String, chunkSize: Int = chunkSize,
                                    _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let got = read(fd, buffer.baseAddress, chunkSize)
            if got < 0 {
                if errno == EINTR { continue }
                throw SystemError.failure("read", path: path)
            }
            if got == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
        }
    }

    /// The whole file, for small documents only (manifests, configs, index.json).
    public static func readSmallFile(_ path: String, limit: Int = 64 << 20) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try forEachChunk(of: path, chunkSize: 64 << 10) { chunk in
            bytes.append(contentsOf: chunk)
            if bytes.count > limit {
                throw Failure(.invalidInput, "\(path) is larger than \(limit >> 20) MiB, more than a file of this kind holds; check the path")
            }
        }
        return bytes
    }

    /// The last `count` bytes of a file (all of it when shorter): a log's tail
    /// without reading what comes before it.
    public static func readTail(_ path: String, count: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError.failure("open", path: path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemError.failure("read", path: path) }
        let start = max(0, Int(info.st_size) - count)
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) - start)
        var filled = 0
        while filled < bytes.count {
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, $0.count - filled, off_t(start + filled)) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw SystemError.failure("read", path: path) }
            if got == 0 { break }  // shortened meanwhile
            filled += got
        }
        return Array(bytes[0..<filled])
    }

    /// All of standard input (a password, a YAML document), up to `limit` bytes.
    public static func readStandardInput(limit: Int = 64 << 20) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try forEachChunk(of: STDIN_FILENO, path: "standard input", chunkSize: 64 << 10) { chunk in
            bytes.append(contentsOf: chunk)
            if bytes.count > limit {
                throw Failure(.invalidInput, "standard input is larger than \(limit >> 20) MiB; pass a smaller document")
            }
        }
        return bytes
    }

    /// SHA-256 and size of a file, streamed.
    public static func digest(of path: String) throws -> (sha256: [UInt8], size: Int64) {
        let sink = DigestingSink(next: nil)
        try forEachChunk(of: path) { try sink.write($0) }
        return (sink.finish(), sink.count)
    }
}
