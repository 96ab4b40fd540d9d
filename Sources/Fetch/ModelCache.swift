import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import ContentStore

/// Which digest a source's current version (ETag / Last-Modified and size) gave,
/// kept as the store's `models` cache record under the SHA-256 of the redacted
/// source; for a local file, which digest its stat stamp gave.
struct ModelCache {
    let store: ContentStore

    struct Record: Codable {
        var version: RemoteVersion
        var digest: Digest
        var size: Int64

        func matches(_ current: RemoteVersion) -> Bool {
            guard current.size == nil || current.size == size else { return false }
            if let etag = current.etag, let known = version.etag { return etag == known }
            if let modified = current.lastModified, let known = version.lastModified { return modified == known }
            return false  // nothing to compare: download again
        }
    }

    func lookup(source: String) -> Record? {
        store.cacheRecord(Record.self, in: .models, key: key(source))
    }

    func remember(source: String, version: RemoteVersion, digest: Digest, size: Int64) {
        store.saveCacheRecord(Record(version: version, digest: digest, size: size), in: .models, key: key(source))
    }

    /// What a local file's stamp gave last time.
    struct LocalRecord: Codable {
        var stamp: LocalFileStamp
        var digest: Digest
        var size: Int64
    }

    func lookupLocal(path: String) -> LocalRecord? {
        store.cacheRecord(LocalRecord.self, in: .models, key: key("local:" + path))
    }

    func rememberLocal(path: String, stamp: LocalFileStamp, digest: Digest, size: Int64) {
        store.saveCacheRecord(LocalRecord(stamp: stamp, digest: digest, size: size), in: .models, key: key("local:" + path))
    }

    private func key(_ source: String) -> String { SHA256Hasher.hash(Array(source.utf8)).hex }
}
