/// Something bytes are pushed into, in order: a file, a hasher, a compressor.
/// Pipelines are chains of sinks so that no stage holds a whole blob.
public protocol ByteSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

extension ByteSink {
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

/// Passes bytes through to `next` while hashing and counting them: one pass gives
/// both the stored blob and its digest and size.
public final class DigestingSink: ByteSink {
    private let next: ByteSink?
    private let hasher = SHA256Hasher()
    public private(set) var count: Int64 = 0

    public init(next: ByteSink?) { self.next = next }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bytes)
        count += Int64(bytes.count)
        try next?.write(bytes)
    }

    /// The SHA-256 of everything written so far; call once, at the end.
    public func finish() -> [UInt8] { hasher.finish() }
}
