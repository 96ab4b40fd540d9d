import Foundation
import HTTP
import OCI
import ByteStreams
import Diagnostics

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

/// Parallel ranged GETs: fixed-size parts, `width` at a time, each resumed from
/// the bytes it already has when its connection drops.
struct RangedDownload {
    let endpoint: RemoteEndpoint
    let options: HTTPOptions
    let path: String
    let size: Int64
    let partSize: Int64
    let width: Int

    func run() throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError.failure("create", path: path) }
        defer { close(fd) }
        guard ftruncate(fd, off_t(size)) == 0 else { throw SystemError.failure("write", path: path) }
        let parts = stride(from: Int64(0), to: size, by: Int(partSize)).map { ($0, min($0 + partSize, size) - 1) }
        let endpoint = self.endpoint, options = self.options, path = self.path
        try ParallelWork.run(parts, width: width) { part in
            let transport = try HTTPTransport(options: options)
            try RangedDownload.fetch(part, endpoint: endpoint, transport: transport, fd: fd, path: path)
        }
        guard fsync(fd) == 0 else { throw SystemError.failure("write", path: path) }
    }

    static func fetch(_ part: (Int64, Int64), endpoint: RemoteEndpoint, transport: HTTPTransport, fd: Int32, path: String) throws {
        let sink = OffsetFileSink(descriptor: fd, path: path, offset: part.0)
        var failures = 0
        while sink.offset <= part.1 {
            let range = "bytes=\(sink.offset)-\(part.1)"
            do {
                let partSink = PartSink(next: sink, remaining: part.1 - sink.offset + 1)
                let response = try transport.perform(try endpoint.request("GET", range: range), destination: .sink(partSink))
                if response.status == 206 { continue }  // loop ends when the part is complete
                if RetryPolicy.isTransient(status: response.status) {
                    failures += 1
                } else if response.status == 200 {
                    throw RangesIgnored()
                } else {
                    throw endpoint.failure(response)
                }
            } catch let error as TransportError where error.isRetryable {
                failures += 1  // dropped mid-part: the next request starts where this one stopped
            }
            guard failures < endpoint.retry.attempts else {
                throw Failure(.unavailable, "model source \(endpoint.source) kept failing at byte \(sink.offset) of \(path.isEmpty ? "the file" : "the download"); try again later")
            }
            Thread.sleep(forTimeInterval: endpoint.retry.delay(afterAttempt: failures, retryAfter: nil))
        }
    }
}

/// One GET streamed to the file while hashing; a dropped connection is resumed
/// with a Range request when the source supports ranges.
struct StreamDownload {
    let endpoint: RemoteEndpoint
    let transport: HTTPTransport
    let path: String
    let expectedSize: Int64?
    let resumable: Bool

    func run() throws -> Digest {
        let file = try FileDescriptorSink(creating: path, exclusive: false, describedAs: "the download of \(endpoint.source)")
        let digesting = DigestingSink(next: file)
        var failures = 0
        while true {
            let range = digesting.count > 0 ? "bytes=\(digesting.count)-" : nil
            do {
                let response = try transport.perform(try endpoint.request("GET", range: range), destination: .sink(digesting))
                if response.status == 200 || response.status == 206 {
                    if let expectedSize, digesting.count < expectedSize {
                        failures += 1  // the server closed early: a truncated body
                    } else {
                        break
                    }
                } else if RetryPolicy.isTransient(status: response.status) {
                    failures += 1
                } else {
                    throw endpoint.failure(response)
                }
            } catch let error as TransportError where error.isRetryable {
                failures += 1
            }
            guard failures < endpoint.retry.attempts, resumable || digesting.count == 0 else {
                throw Failure(.unavailable, "download of \(endpoint.source) was cut off at \(digesting.count) of \(expectedSize.map(String.init) ?? "?") bytes and could not be resumed; try again")
            }
            Thread.sleep(forTimeInterval: endpoint.retry.delay(afterAttempt: failures, retryAfter: nil))
        }
        if let expectedSize, digesting.count != expectedSize {
            throw Failure(.unavailable, "download of \(endpoint.source) gave \(digesting.count) bytes, expected \(expectedSize); try again")
        }
        try file.sync()
        try file.close()
        return Digest(sha256: digesting.finish())
    }
}
