import Diagnostics

/// A `DigestingSink` whose SHA-256 runs on a thread of its own: bytes go to
/// `next` on the caller's thread and a copy goes to the hashing thread through a
/// few fixed buffers. A download that hashed in its receive callback took as long
/// as receiving plus hashing (1 GiB: ~1.5 s + ~0.8 s one after the other); here
/// the two overlap. Memory: `bufferCount` × `bufferSize`, whatever the size.
public final class BackgroundDigestingSink: ByteSink, @unchecked Sendable {
    // Buffers move between the writer (filling) and the hasher (hashing) under
    // `condition`; each buffer is touched by one side at a time, hence @unchecked.
    public static let bufferSize = 256 << 10
    static let bufferCount = 4

    private let next: ByteSink?
    /// Called on the hashing thread after each buffer, with how many bytes are hashed
    /// so far: work that can trail the writer (starting a file's writeback).
    private let afterHashing: (@Sendable (Int64) -> Void)?
    private let condition = Condition()
    private var free: [UnsafeMutableRawBufferPointer] = []
    private var full: [(buffer: UnsafeMutableRawBufferPointer, count: Int)] = []
    private var filling: UnsafeMutableRawBufferPointer?
    private var filled = 0
    private var ended = false
    private let digest = Pending<[UInt8]>()
    private var finished = false
    public private(set) var count: Int64 = 0

    public init(next: ByteSink?, afterHashing: (@Sendable (Int64) -> Void)? = nil) throws {
        self.next = next
        self.afterHashing = afterHashing
        free = (0..<Self.bufferCount).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 16) }
        do {
            try DedicatedThread.start(name: "hash") { [self] in hashUntilEnded() }
        } catch {
            free.forEach { $0.deallocate() }
            throw error
        }
    }

    deinit {
        // A download that failed never called finish: stop the thread, then free everything.
        if !finished { _ = finish() }
        free.forEach { $0.deallocate() }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try next?.write(bytes)
        count += Int64(bytes.count)
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let buffer = filling ?? takeFreeBuffer()
            let take = min(Self.bufferSize - filled, bytes.count - offset)
            (buffer.baseAddress! + filled).copyMemory(from: base + offset, byteCount: take)
            filled += take
            offset += take
            filling = buffer
            if filled == Self.bufferSize { handOver() }
        }
    }

    /// The SHA-256 of everything written; call once, at the end.
    public func finish() -> [UInt8] {
        guard !finished else { return digest.wait() }
        finished = true
        if filling != nil { handOver() }
        condition.lock()
        ended = true
        condition.broadcast()
        condition.unlock()
        return digest.wait()
    }

    private func takeFreeBuffer() -> UnsafeMutableRawBufferPointer {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty { condition.wait() }
        return free.removeLast()
    }

    private func handOver() {
        guard let buffer = filling else { return }
        condition.lock()
        full.append((buffer, filled))
        condition.broadcast()
        condition.unlock()
        filling = nil
        filled = 0
    }

    private func hashUntilEnded() {
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
