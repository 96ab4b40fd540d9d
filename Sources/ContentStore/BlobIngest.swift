import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import Diagnostics

/// A blob being written into the store. Bytes go to a private temp file; `commit`
/// syncs it and renames it to its digest name. Anything not committed (an error,
/// a thrown write, a dropped ingest) is deleted, so the store never holds half a blob.
public final class BlobIngest: ByteSink {
    private let store: ContentStore
    private let file: FileDescriptorSink
    private let tempPath: String
    private var done = false

    init(store: ContentStore) throws {
        self.store = store
        tempPath = "\(store.ingestDirectory)/\(getpid())-\(UUID().uuidString).tmp"
        file = try FileDescriptorSink(creating: tempPath, exclusive: true, describedAs: "a blob in the store \(store.root)")
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try file.write(bytes)
    }

    /// A second name for the file being written, for a reader that must keep
    /// reading it after `commit` renames it (an upload streaming the blob while it
    /// is written). The reader unlinks it when done.
    public func linkPartial(to path: String) throws {
        guard link(tempPath, path) == 0 else { throw SystemError.failure("link", path: path) }
    }

    /// Moves the blob into place under `digest`, which the caller computed from
    /// exactly the bytes it wrote (a `DigestingSink` in front of this ingest).
    public func commit(digest: Digest) throws {
        guard !done else { return }
        done = true
        do {
            try file.sync()
            try file.close()
            let target = store.blobPath(digest)
            guard rename(tempPath, target) == 0 else { throw SystemError.failure("store blob", path: target) }
            store.markVerified(digest)
        } catch {
            unlink(tempPath)
            throw error
        }
    }

    /// Drops the temp file.
    public func abort() {
        guard !done else { return }
        done = true
        try? file.close()
        unlink(tempPath)
    }

    deinit { abort() }
}
