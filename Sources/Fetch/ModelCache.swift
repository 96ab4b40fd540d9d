import Foundation
import OCI
import ByteStreams
import ContentStore

/// Which digest a source's current version (ETag / Last-Modified and size) gave,
/// kept in `<store>/cache/models/<sha256 of the redacted source>.json`.
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
        guard let bytes = try? FileReader.readSmallFile(path(source)) else { return nil }
        return try? JSONDecoder().decode(Record.self, from: Data(bytes))
    }

    func remember(source: String, version: RemoteVersion, digest: Digest, size: Int64) {
        guard let bytes = try? CanonicalJSON.encode(Record(version: version, digest: digest, size: size)) else { return }
        try? FileManager.default.createDirectory(atPath: store.root + "/cache/models", withIntermediateDirectories: true)
        try? AtomicFile.write(bytes, to: path(source))  // losing it only costs a download
    }

    private func path(_ source: String) -> String {
        "\(store.root)/cache/models/\(SHA256Hasher.hash(Array(source.utf8)).hex).json"
    }
}
