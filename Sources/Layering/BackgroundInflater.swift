import Glibc
import CZlib
import Threads
import Diagnostics
import SystemSupport

/// Inflates a gzip file on a thread of its own into a few fixed buffers that one
/// reader (libarchive, through `TarReader`) takes in order. Unpacking a layer then
/// costs about the larger of inflating and creating its files instead of their sum
/// (a Python base: ~1 s of zlib and ten thousand files, one after the other on one
/// thread). Several gzip members one after another read as one stream, as gzip -d
/// reads them; bytes after the last member that are not another member end it.
/// Memory: `bufferCount` × `bufferSize`, the read buffer and zlib's 32 KiB window.
final class BackgroundInflater: @unchecked Sendable {
    // The buffers move between the inflating thread (filling) and the reader
    // (reading) under `condition`; each is touched by one side at a time.
    static let bufferSize = 512 << 10
    static let bufferCount = 3
    static let readSize = 256 << 10

    private let descriptor: Int32
    private let condition = Condition()
    private var free: [UnsafeMutableRawBufferPointer]
    private var full: [(buffer: UnsafeMutableRawBufferPointer, count: Int)] = []
    /// The buffer the reader holds until it asks for the next one.
    private var lent: UnsafeMutableRawBufferPointer?
    private var ended = false
    private var failure: String?
    /// The reader is gone (done, or failed): the thread stops at its next buffer.
    private var abandoned = false

    /// Whether `path` starts with gzip's magic bytes.
    static func isGzip(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var magic: (UInt8, UInt8) = (0, 0)
        return pread(fd, &magic, 2, 0) == 2 && magic == (0x1f, 0x8b)
    }

    /// Opens `path` and starts inflating it.
    init(path: String) throws {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SystemError.failure("open", path: path) }
        free = (0..<Self.bufferCount).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 16) }
        do {
            // The thread holds the inflater until it has stopped: the buffers outlive it.
            try DedicatedThread.start(name: "inflate") { [self] in self.inflateAll() }
        } catch {
            close(descriptor)
            free.forEach { $0.deallocate() }
            free = []
            throw error
        }
    }

    deinit {
        close(descriptor)
        (free + full.map(\.buffer) + [lent].compactMap { $0 }).forEach { $0.deallocate() }
    }

    /// The next piece of the inflated stream, valid until the next call or
    /// `abandon`; empty at its end. Throws what stopped the inflating.
    func next() throws -> UnsafeRawBufferPointer {
        condition.lock()
        defer { condition.unlock() }
        if let lent {
            free.append(lent)
            self.lent = nil
            condition.broadcast()
        }
        while full.isEmpty && !ended && failure == nil { condition.wait() }
        if let failure { throw Failure(.invalidInput, failure) }
        guard !full.isEmpty else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let (buffer, count) = full.removeFirst()
        lent = buffer
        return UnsafeRawBufferPointer(rebasing: buffer[0..<count])
    }

    /// Why the inflating stopped early, if it did.
    var failureMessage: String? {
        condition.lock()
        defer { condition.unlock() }
        return failure
    }

    /// The reader will not ask again: the thread stops without inflating the rest.
    func abandon() {
        condition.lock()
        abandoned = true
        condition.broadcast()
        condition.unlock()
    }

    // MARK: the inflating thread

    private func inflateAll() {
        var stream = z_stream()
        let initialized = inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initialized == Z_OK else { return finish(failing: "cannot start inflating (zlib \(initialized))") }
        defer { inflateEnd(&stream) }
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.readSize, alignment: 16)
        defer { input.deallocate() }
        var atEnd = false
        var memberEnded = false
        while true {
            guard let output = takeFreeBuffer() else { return }  // abandoned
            var filled = 0
            while filled < output.count {
                if stream.avail_in == 0 && !atEnd {
                    let got = read(descriptor, input.baseAddress, input.count)
                    if got < 0 {
                        if errno == EINTR { continue }
                        return finish(failing: "cannot read it: \(String(cString: strerror(errno)))", returning: output)
                    }
                    atEnd = got == 0
                    stream.next_in = input.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    stream.avail_in = uInt(got)
                }
                if memberEnded {
                    // Another member follows only if its magic does; else what is left is not ours to read.
                    guard stream.avail_in > 0 else {
                        if atEnd { return finish(handing: output, filled) }
                        continue
                    }
                    guard stream.next_in.pointee == 0x1f else { return finish(handing: output, filled) }
                    guard inflateReset(&stream) == Z_OK else { return finish(failing: "cannot inflate its next gzip member", returning: output) }
                    memberEnded = false
                }
                if stream.avail_in == 0 && atEnd {
                    return finish(failing: "truncated: its gzip stream ends early", returning: output)
                }
                stream.next_out = (output.baseAddress! + filled).assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(output.count - filled)
                let status = inflate(&stream, Z_NO_FLUSH)
                filled = output.count - Int(stream.avail_out)
                switch status {
                case Z_OK, Z_BUF_ERROR: break
                case Z_STREAM_END: memberEnded = true
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "zlib \(status)"
                    return finish(failing: "invalid gzip data (\(reason))", returning: output)
                }
            }
            handOver(output, filled)
        }
    }

    private func takeFreeBuffer() -> UnsafeMutableRawBufferPointer? {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty && !abandoned { condition.wait() }
        return abandoned ? nil : free.removeLast()
    }

    private func handOver(_ buffer: UnsafeMutableRawBufferPointer, _ count: Int) {
        condition.lock()
        full.append((buffer, count))
        condition.broadcast()
        condition.unlock()
    }

    /// The end of the stream: the last piece (if any) goes to the reader.
    private func finish(handing buffer: UnsafeMutableRawBufferPointer, _ count: Int) {
        condition.lock()
        if count > 0 { full.append((buffer, count)) } else { free.append(buffer) }
        ended = true
        condition.broadcast()
        condition.unlock()
    }

    private func finish(failing message: String, returning buffer: UnsafeMutableRawBufferPointer? = nil) {
        condition.lock()
        if let buffer { free.append(buffer) }
        failure = message
        condition.broadcast()
        condition.unlock()
    }
}
