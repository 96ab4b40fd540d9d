import FoundationEssentials
import Glibc
import Threads

/// A file another thread is still writing, as a reader sees it: how many bytes
/// are there so far, and — once the writer is done — the final size and digest,
/// or that it failed. A reader blocks until the bytes it wants exist (an upload
/// that sends a layer's chunks while the layer is being compressed).
public final class GrowingFile: @unchecked Sendable {
    // All state is touched only under `condition`, hence @unchecked.
    private let condition = Condition()
    private var written: Int64 = 0
    private var end: End?

    public enum End: Sendable, Equatable {
        /// Every byte is written and stored: `size` bytes hashing to `digest`.
        case complete(size: Int64, digest: String)
        /// The writer gave up; the bytes must not be used.
        case failed
    }

    /// What a reader may use now.
    public struct Progress: Sendable {
        public var written: Int64
        public var end: End?
    }

    public init() {}

    public func advance(to count: Int64) {
        update { $0.written = max($0.written, count) }
    }

    public func complete(size: Int64, digest: String) {
        update { $0.written = size; $0.end = .complete(size: size, digest: digest) }
    }

    public func fail() {
        update { if $0.end == nil { $0.end = .failed } }
    }

    /// Blocks until at least `count` bytes are written, or the writer is done.
    public func wait(for count: Int64) -> Progress {
        condition.lock()
        defer { condition.unlock() }
        while written < count && end == nil { condition.wait() }
        return Progress(written: written, end: end)
    }

    private func update(_ change: (GrowingFile) -> Void) {
        condition.lock()
        change(self)
        condition.broadcast()
        condition.unlock()
    }
}

/// Passes bytes to `next` and then tells `file` how far the written bytes reach
/// (`next` writes straight to the file: nothing is buffered in between).
public final class GrowthReportingSink: ByteSink {
    private let next: ByteSink
    private let file: GrowingFile
    private var count: Int64 = 0

    public init(next: ByteSink, file: GrowingFile) {
        self.next = next
        self.file = file
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try next.write(bytes)
        count += Int64(bytes.count)
        file.advance(to: count)
    }
}
