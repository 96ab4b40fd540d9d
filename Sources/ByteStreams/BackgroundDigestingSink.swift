import Threads
import Diagnostics

/// A `DigestingSink` whose SHA-256 runs on a thread of its own: bytes go to
/// `next` on the caller's thread and a copy goes to the hashing thread through a
/// few fixed buffers. A download that hashed in its receive callback took as long
/// as receiving plus hashing (1 GiB: ~1.5 s + ~0.8 s one after the other); here
/// the two overlap; a layer's two digests (and a model's own) run beside its
/// tar and compression the same way. Memory: `bufferCount` × `bufferSize`,
/// whatever the size.
public final class BackgroundDigestingSink: ByteSink {
    public static let defaultBufferSize = 256 << 10
    static let bufferCount = 4
    public let bufferSize: Int

    /// What the writer and the hashing thread share. The thread holds only this,
    /// not the sink: a sink dropped without `finish` (a failed download) still
    /// deinitializes, which ends the thread.
    private final class Shared: @unchecked Sendable {
        // Buffers move between the writer (filling) and the hasher (hashing) under
        // `condition`; each buffer is touched by one side at a time, hence @unchecked.
        let condition = Condition()
        var free: [UnsafeMutableRawBufferPointer]
        var full: [(buffer: UnsafeMutableRawBufferPointer, count: Int)] = []
        var ended = false
        let digest = Pending<[UInt8]>()
        let afterHashing: (@Sendable (Int64) -> Void)?

        init(bufferSize: Int, afterHashing: (@Sendable (Int64) -> Void)?) {
            self.afterHashing = afterHashing
            free = (0..<BackgroundDigestingSink.bufferCount).map { _ in
                UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
            }
        }

        deinit { free.forEach { $0.deallocate() } }

        func hashUntilEnded() {
            let hasher = SHA256Hasher()
            var hashed: Int64 = 0
            while true {
                condition.lock()
                while full.isEmpty && !ended { condition.wait() }
                guard !full.isEmpty else {
                    condition.unlock()
                    break
                }
                let (buffer, count) = full.removeFirst()
                condition.unlock()
                hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                hashed += Int64(count)
                afterHashing?(hashed)
                condition.lock()
                free.append(buffer)
                condition.broadcast()
                condition.unlock()
            }
            digest.fulfil(hasher.finish())
        }
    }

    private let next: ByteSink?
    private let shared: Shared
    private var filling: UnsafeMutableRawBufferPointer?
    private var filled = 0
    private var finished = false
    public private(set) var count: Int64 = 0

    /// `afterHashing` is called on the hashing thread after each buffer, with how
    /// many bytes are hashed so far: work that can trail the writer (starting a
    /// file's writeback). A layer's hashers take `bufferSize` 128 KiB: three of
    /// them run at once, and the build's peak stays within 32 MiB.
    public init(next: ByteSink?, bufferSize: Int = defaultBufferSize, afterHashing: (@Sendable (Int64) -> Void)? = nil) throws {
        self.next = next
        self.bufferSize = bufferSize
        let shared = Shared(bufferSize: bufferSize, afterHashing: afterHashing)
        self.shared = shared
        try DedicatedThread.start(name: "hash") { shared.hashUntilEnded() }
    }

    deinit {
        // Not finished (the write failed): end the thread without waiting for it.
        if !finished { end() }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try next?.write(bytes)
        count += Int64(bytes.count)
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let buffer = filling ?? takeFreeBuffer()
            let take = min(bufferSize - filled, bytes.count - offset)
            (buffer.baseAddress! + filled).copyMemory(from: base + offset, byteCount: take)
            filled += take
            offset += take
            filling = buffer
            if filled == bufferSize { handOver() }
        }
    }

    /// The SHA-256 of everything written; the first call ends the stream.
    public func finish() -> [UInt8] {
        if !finished { end() }
        return shared.digest.wait()
    }

    private func end() {
        finished = true
        if filling != nil { handOver() }
        shared.condition.lock()
        shared.ended = true
        shared.condition.broadcast()
        shared.condition.unlock()
    }

    private func takeFreeBuffer() -> UnsafeMutableRawBufferPointer {
        shared.condition.lock()
        defer { shared.condition.unlock() }
        while shared.free.isEmpty { shared.condition.wait() }
        return shared.free.removeLast()
    }

    private func handOver() {
        guard let buffer = filling else { return }
        shared.condition.lock()
        shared.full.append((buffer, filled))
        shared.condition.broadcast()
        shared.condition.unlock()
        filling = nil
        filled = 0
    }
}
