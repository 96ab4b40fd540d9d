import Glibc
import OCI
import Diagnostics
import SystemSupport

/// Content-addressed blobs as the rest of gantry needs them, and nothing more:
/// is a blob there, read it verified, take one in from another store, link one
/// across. Two kinds implement it — gantry's own store (`ContentStore`: a layout
/// plus gantry's state, damaged blobs quarantined) and a user's image layout
/// (`OCILayout`: read in place, written only with what the image-layout spec
/// names) — so exporting, importing and pushing move blobs the same way whichever
/// side is the user's.
public protocol BlobStore: Sendable {
    /// How messages name it: "the store /root/.cache/gantry", "the layout ./out".
    var location: String { get }
    /// Where the blob's file is (or would be): uploads send file ranges from it and
    /// the unpacker reads it, so both kinds keep each blob in a file of its own.
    func blobPath(_ digest: Digest) -> String
    func has(_ digest: Digest) -> Bool
    /// Streams the blob to `body` while hashing it; throws after the last chunk when
    /// the bytes do not match the descriptor, so a caller writing somewhere not yet
    /// committed never commits a damaged blob.
    func readVerified(_ blob: Descriptor, _ body: (UnsafeRawBufferPointer) throws -> Void) throws
    /// Hashes the blob unless this process already has; throws when it is damaged.
    func verify(_ blob: Descriptor) throws
    /// Copies `blob` from `source`, verified on the way; nothing stays behind when it is damaged.
    func ingest(_ blob: Descriptor, from source: some BlobStore) throws
}

extension BlobStore {
    /// Gives this store `blob` from `source` at the cost of a hard link where both
    /// are on one file system (blobs never change in place), else a verified copy.
    /// The source is verified first either way: a link must not pass on damage.
    public func link(_ blob: Descriptor, from source: some BlobStore) throws {
        if has(blob.digest) { return }
        try source.verify(blob)
        let target = blobPath(blob.digest)
        if Glibc.link(source.blobPath(blob.digest), target) == 0 { return }
        guard errno == EXDEV || errno == EPERM || errno == EMLINK else {
            throw SystemError.failure("write", path: target)
        }
        try ingest(blob, from: source)
    }
}
