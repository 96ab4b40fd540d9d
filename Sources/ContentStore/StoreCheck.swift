import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import Diagnostics

/// `gantry store check`: hashes every blob, quarantines the damaged ones, and
/// lists what tagged images name but the store lacks.
public struct StoreCheck: Sendable {
    public var checkedBlobs = 0
    public var checkedBytes: Int64 = 0
    /// Damaged blobs and where they were moved.
    public var damaged: [(digest: Digest, movedTo: String?)] = []
    /// Tag name → blobs it needs that are not in the store.
    public var missing: [(tag: String, digests: [Digest])] = []

    public var isHealthy: Bool { damaged.isEmpty && missing.isEmpty }

    public init(store: ContentStore, progress: (Digest, Int64) -> Void = { _, _ in }) throws {
        let before = try StoreInventory(store: store)
        for blob in before.blobs.values.sorted(by: { $0.digest < $1.digest }) {
            progress(blob.digest, blob.size)
            let (sha256, size) = try FileReader.digest(of: store.blobPath(blob.digest))
            checkedBlobs += 1
            checkedBytes += size
            if Digest(sha256: sha256) != blob.digest {
                damaged.append((blob.digest, store.quarantine(blob.digest)))
            }
        }
        // After quarantine, tags whose images lost a blob show it as missing.
        for tag in try StoreInventory(store: store).tags where !tag.missing.isEmpty {
            missing.append((tag.name, tag.missing.sorted()))
        }
    }
}
