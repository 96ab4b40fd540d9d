import FoundationEssentials
import Glibc
import Synchronization
import OCI
import ByteStreams
import Diagnostics

/// Every read of a blob from the store is checked against its digest: a flipped bit
/// on disk must never be pushed, exported or built upon. A damaged blob is moved to
/// `quarantine/` (so the next build recreates it: its cache entry no longer finds
/// it) and the operation stops with an error naming the blob and the store.
extension ContentStore {
    /// Blobs whose bytes this process wrote or hashed: reading them again to verify
    /// would only cost time. Blobs never change in place, so the knowledge holds.
    private static let verifiedInThisProcess = Mutex<Set<String>>([])

    func markVerified(_ digest: Digest) {
        let key = "\(root)|\(digest)"
        Self.verifiedInThisProcess.withLock { _ = $0.insert(key) }
    }

    public func isVerifiedInThisProcess(_ digest: Digest) -> Bool {
        let key = "\(root)|\(digest)"
        return Self.verifiedInThisProcess.withLock { $0.contains(key) }
    }

    /// Streams a blob to `body` in chunks while hashing it. A mismatch is found after
    /// the last chunk: callers write into something not yet committed (a temp file,
    /// an upload not yet closed) and the throw keeps it from being committed.
    public func readVerified(_ descriptor: Descriptor, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let path = blobPath(descriptor.digest)
        guard contains(descriptor.digest) else {
            throw Failure(.missingInput, "blob \(descriptor.digest) is not in the store \(root); build the image again")
        }
        let hashing = DigestingSink(next: nil)
        try FileReader.forEachChunk(of: path) { chunk in
            try hashing.write(chunk)
            try body(chunk)
        }
        try settle(descriptor, actual: Digest(sha256: hashing.finish()), size: hashing.count)
    }

    /// Hashes a blob unless this process already has; throws (after quarantining it) when damaged.
    public func verify(_ descriptor: Descriptor) throws {
        if isVerifiedInThisProcess(descriptor.digest) && size(of: descriptor.digest) == descriptor.size { return }
        try readVerified(descriptor) { _ in }
    }

    /// Compares what was read with what the name promises; quarantines on a mismatch.
    func settle(_ descriptor: Descriptor, actual: Digest, size: Int64) throws {
        guard actual == descriptor.digest, size == descriptor.size || descriptor.size < 0 else {
            throw damaged(descriptor.digest, found: "\(size) bytes hashing to \(actual.short), expected \(descriptor.size) bytes")
        }
        markVerified(descriptor.digest)
    }

    /// Moves a damaged blob out of the way and returns the error to throw.
    func damaged(_ digest: Digest, found: String) -> Failure {
        let moved = quarantine(digest)
        let where_ = moved.map { "moved it to \($0)" } ?? (isReadOnlyLayout ? "left it where it is" : "could not move it to \(quarantineDirectory)")
        return Failure(.invalidInput, "blob \(digest) in the store \(root) is damaged (\(found)); \(where_); build again to recreate it, or run 'gantry store check'")
    }

    /// `quarantine/sha256-<hex>-<unix time>`: kept for inspection until `gantry store prune`.
    @discardableResult
    public func quarantine(_ digest: Digest) -> String? {
        guard !isReadOnlyLayout else { return nil }  // a user's layout is never changed
        let directory = quarantineDirectory
        guard (try? ContentStore.makeDirectory(directory)) != nil else { return nil }
        let target = "\(directory)/\(digest.algorithm)-\(digest.encoded)-\(Int(Date().timeIntervalSince1970))"
        return rename(blobPath(digest), target) == 0 ? target : nil
    }

    public var quarantineDirectory: String { stateRoot + "/quarantine" }

    /// The blob's size on disk, or -1 when it is missing.
    public func size(of digest: Digest) -> Int64 {
        var info = stat()
        return stat(blobPath(digest), &info) == 0 ? Int64(info.st_size) : -1
    }
}
