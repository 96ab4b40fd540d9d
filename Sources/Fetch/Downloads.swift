import FoundationEssentials
import Glibc
import HTTP
import OCI
import ByteStreams
import Diagnostics
import Threads

/// Writes at a moving offset of an open file (parts of a ranged download land
/// where they belong, whatever order they finish in).
final class OffsetFileSink: ByteSink {
    let descriptor: Int32
    let path: String
    private(set) var offset: Int64

    init(descriptor: Int32, path: String, offset: Int64) {
        self.descriptor = descriptor
        self.path = path
        self.offset = offset
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let written = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset))
            if written < 0 {
                if errno == EINTR { continue }
                throw SystemError.failure("write", path: path)
            }
            done += written
            offset += Int64(written)
        }
    }
}

/// A server that says `Accept-Ranges: bytes` yet answers a ranged GET with the
/// whole object (200): the download falls back to one plain GET.
struct RangesIgnored: Error {}

/// Lets through at most the bytes of one part: a 200 with the whole object in
/// answer to a ranged GET is stopped after one part's worth, not written past it.
final class PartSink: ByteSink {
    private let next: OffsetFileSink
    private var remaining: Int64

    init(next: OffsetFileSink, remaining: Int64) {
        self.next = next
        self.remaining = remaining
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard Int64(bytes.count) <= remaining else { throw RangesIgnored() }
        remaining -= Int64(bytes.count)
        try next.write(bytes)
    }
}

/// A failed attempt of a download, worth another try; what its retry budget
/// reports when it runs out.
struct DownloadInterrupted: Error { let underlying: any Error }

/// Parallel ranged GETs: fixed-size parts, `width` at a time, each resumed from
/// the bytes it already has when its connection drops.
struct RangedDownload {
    let endpoint: RemoteEndpoint
    let options: HTTPOptions
    let connect: HTTPClientFactory
    let path: String
    let size: Int64
    let partSize: Int64
    let width: Int

    /// Downloads every part and returns the file's digest, hashed as the parts land.
    func run() throws -> Digest {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError.failure("create", path: path) }
        defer { close(fd) }
        guard ftruncate(fd, off_t(size)) == 0 else { throw SystemError.failure("write", path: path) }
        let parts = stride(from: Int64(0), to: size, by: Int(partSize)).map { ($0, min($0 + partSize, size) - 1) }
        let endpoint = self.endpoint, options = self.options, connect = self.connect, path = self.path
        let hasher = try PrefixHasher(path: path, size: size)
        do {
            try WorkerPool.forEach(parts, width: width, name: "download") { part in
                try RangedDownload.fetch(part, endpoint: endpoint, transport: try connect(options), fd: fd, path: path)
                // Written back now, part by part, so the final fsync does not wait for the whole file.
                FileDescriptorSink.startWriteback(fd, offset: part.0, length: part.1 + 1 - part.0)
                hasher.partFinished(start: part.0, end: part.1 + 1)
            }
        } catch {
            hasher.stop()
            throw error
        }
        let digest = Digest(sha256: try hasher.digest())
        guard fsync(fd) == 0 else { throw SystemError.failure("write", path: path) }
        return digest
    }

    /// One part, bytes `part.0...part.1`: each attempt asks for what is still missing.
    static func fetch(_ part: (Int64, Int64), endpoint: RemoteEndpoint, transport: any HTTPClient, fd: Int32, path: String) throws {
        let sink = OffsetFileSink(descriptor: fd, path: path, offset: part.0)
        do {
            try endpoint.retry.run { _ -> AttemptOutcome<Void> in
                let before = sink.offset
                do {
                    let partSink = PartSink(next: sink, remaining: part.1 - sink.offset + 1)
                    let response = try transport.perform(try endpoint.request("GET", range: "bytes=\(sink.offset)-\(part.1)"),
                                                         destination: .sink(partSink))
                    if response.status == 206 {
                        if sink.offset > part.1 { return .done(()) }
                        // A short body: ask again for the rest.
                        return .retry(DownloadInterrupted(underlying: endpoint.failure(response)), progressed: sink.offset > before)
                    }
                    if response.status == 200 { throw RangesIgnored() }
                    guard RetryPolicy.isTransient(status: response.status) else { throw endpoint.failure(response) }
                    return .retry(DownloadInterrupted(underlying: endpoint.failure(response)),
                                  retryAfter: response.header("Retry-After"), progressed: sink.offset > before)
                } catch where RetryPolicy.isTransient(error) {
                    // Dropped mid-part: the next request starts where this one stopped.
                    return .retry(DownloadInterrupted(underlying: error), progressed: sink.offset > before)
                }
            }
        } catch let interrupted as DownloadInterrupted {
            throw Failure(.unavailable, "model source \(endpoint.source) kept failing at byte \(sink.offset) of \(path.isEmpty ? "the file" : "the download"); try again later",
                          cause: interrupted.underlying)
        }
    }
}

/// One GET streamed to the file while hashing; a dropped connection is resumed
/// with a Range request when the source supports ranges.
struct StreamDownload {
    let endpoint: RemoteEndpoint
    let transport: any HTTPClient
    let path: String
    let expectedSize: Int64?
    let resumable: Bool

    func run() throws -> Digest {
        let file = try FileDescriptorSink(creating: path, exclusive: false, describedAs: "the download of \(endpoint.source)",
                                          startsWriteback: false)
        // Hashed on a thread of its own, beside the receiving, which also starts the
        // writeback of what it has hashed (submitting disk I/O costs the receiving
        // thread time it needs for the network).
        let descriptor = file.descriptor
        let writtenBack = Locked<Int64>(0)
        let digesting = try BackgroundDigestingSink(next: file) { hashed in
            writtenBack.withLock { done in
                guard hashed - done >= 16 << 20 else { return }
                FileDescriptorSink.startWriteback(descriptor, offset: done, length: hashed - done)
                done = hashed
            }
        }
        let cutOff = { (cause: any Error) in
            Failure(.unavailable, "download of \(endpoint.source) was cut off at \(digesting.count) of \(expectedSize.map(String.init) ?? "?") bytes and could not be resumed; try again",
                    cause: cause)
        }
        do {
            try endpoint.retry.run { _ -> AttemptOutcome<Void> in
                let before = digesting.count
                /// Another attempt, unless bytes were written and the source cannot resume.
                func again(_ cause: any Error, retryAfter: String? = nil) throws -> AttemptOutcome<Void> {
                    guard resumable || digesting.count == 0 else { throw cutOff(cause) }
                    return .retry(DownloadInterrupted(underlying: cause), retryAfter: retryAfter, progressed: digesting.count > before)
                }
                do {
                    let response = try transport.perform(try endpoint.request("GET", range: before > 0 ? "bytes=\(before)-" : nil),
                                                         destination: .sink(digesting))
                    if response.status == 200 && before > 0 {
                        // The whole object again after the bytes already written: the file is spoilt.
                        throw Failure(.unavailable, "model source \(endpoint.source) ignored the Range request of a resumed download; try again")
                    }
                    if response.status == 200 || response.status == 206 {
                        guard let expectedSize, digesting.count < expectedSize else { return .done(()) }
                        return try again(endpoint.failure(response))  // the server closed early: a truncated body
                    }
                    guard RetryPolicy.isTransient(status: response.status) else { throw endpoint.failure(response) }
                    return try again(endpoint.failure(response), retryAfter: response.header("Retry-After"))
                } catch where RetryPolicy.isTransient(error) {
                    return try again(error)
                }
            }
        } catch let interrupted as DownloadInterrupted {
            throw cutOff(interrupted.underlying)
        }
        if let expectedSize, digesting.count != expectedSize {
            throw Failure(.unavailable, "download of \(endpoint.source) gave \(digesting.count) bytes, expected \(expectedSize); try again")
        }
        try file.sync()
        try file.close()
        return Digest(sha256: digesting.finish())
    }
}
