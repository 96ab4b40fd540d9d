import OCI
import ByteStreams
import ContentStore

/// Blobs this store pushed to a repository and the registry then accepted in a
/// manifest: the next push of an image that names them skips their HEAD (a
/// one-line rebuild otherwise asks again about every unchanged layer). Verified
/// where it matters: a registry that lost such a blob refuses the manifest
/// (MANIFEST_BLOB_UNKNOWN), and the push forgets the records and goes the full way.
/// Kept as the store's `pushed` cache records; losing one only costs a HEAD.
struct PushedBlobs {
    let store: ContentStore
    let registry: String
    let repository: String

    private struct Record: Codable { var registry: String; var repository: String }

    func contains(_ digest: Digest) -> Bool {
        store.cacheRecord(Record.self, in: .pushed, key: key(digest)) != nil
    }

    func remember(_ digests: [Digest]) {
        for digest in digests { store.saveCacheRecord(Record(registry: registry, repository: repository), in: .pushed, key: key(digest)) }
    }

    func forget(_ digests: [Digest]) {
        for digest in digests { store.removeCacheRecord(in: .pushed, key: key(digest)) }
    }

    private func key(_ digest: Digest) -> String {
        SHA256Hasher.hash(Array("\(registry)/\(repository)@\(digest)".utf8)).hex
    }
}
