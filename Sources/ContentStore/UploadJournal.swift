import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import Diagnostics

/// In-flight chunked uploads, one small record per blob and destination in
/// `<store>/uploads/`, so that a push killed part-way (kill -9, a lost agent) is
/// continued by the next push of the same blob to the same repository instead of
/// starting again from byte 0. Records older than a week are ignored: registries
/// purge idle upload sessions (distribution: `uploadpurging`, 168 h by default).
public struct UploadJournal: Sendable {
    public struct Record: Codable, Sendable, Equatable {
        public var registry: String
        public var repository: String
        public var digest: Digest
        /// The newest `Location` of the session (it may carry registry state such as `_state`).
        public var location: String
        /// Bytes the registry has confirmed.
        public var offset: Int64
        public var updated: Double
    }

    public static let maximumAge: TimeInterval = 7 * 86400

    let directory: String
    public let registry: String
    public let repository: String

    public init(store: ContentStore, registry: String, repository: String) {
        directory = store.stateRoot + "/uploads"
        self.registry = registry
        self.repository = repository
    }

    private func path(_ digest: Digest) -> String {
        let key = SHA256Hasher.hash(Array("\(registry)\n\(repository)\n\(digest)".utf8)).hex
        return "\(directory)/\(key).json"
    }

    public func load(_ digest: Digest) -> Record? {
        guard let bytes = try? FileReader.readSmallFile(path(digest), limit: 1 << 16),
              let record = try? JSONDecoder().decode(Record.self, from: Data(bytes)),
              record.digest == digest, record.registry == registry, record.repository == repository else { return nil }
        guard Date().timeIntervalSince1970 - record.updated < Self.maximumAge else { remove(digest); return nil }
        return record
    }

    /// Best effort: a record that cannot be written only costs a restart from zero.
    public func save(_ digest: Digest, location: String, offset: Int64) {
        let record = Record(registry: registry, repository: repository, digest: digest, location: location,
                            offset: offset, updated: Date().timeIntervalSince1970)
        guard let bytes = try? CanonicalJSON.encode(record) else { return }
        if !FileManager.default.fileExists(atPath: directory) { try? ContentStore.makeDirectory(directory) }
        // 0600: an upload URL is a capability to write into the repository.
        try? AtomicFile.write(bytes, to: path(digest), mode: 0o600, durable: false)
    }

    public func remove(_ digest: Digest) {
        unlink(path(digest))
    }
}
