import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import Diagnostics

/// Where everything lives in a store, in one place. Other modules ask for a cache
/// record, a cached directory or a scratch path and never build store paths
/// themselves, so that `gantry store ls|check|prune` and the code that writes the
/// store agree on what each file is.
///
/// ```
/// oci-layout, index.json, blobs/sha256/<hex>   the OCI image layout (other tools read it)
/// ingest/<pid>-<uuid>.tmp                        a blob being written (BlobIngest)
/// ingest/<purpose>-<pid>-<id>[.part]             scratch of a running command (a download, an unpacked archive)
/// cache/<area>/<key>.json                        what unchanged inputs produced (layers, models)
/// cache/python/<key>/                            installed Python packages
/// cache/rootfs/<layer hex>/                      a layer unpacked for gantry test's overlay
/// cache/<name>.json                              small records of the commands (the last push)
/// uploads/<key>.json                             chunked uploads to continue (UploadJournal)
/// quarantine/                                    blobs that failed verification
/// store.lock                                     held by every command (StoreLock)
/// ```
extension ContentStore {
    /// The kinds of cache under `cache/`.
    public enum CacheArea: String, Sendable, CaseIterable {
        /// Layer blobs by the fingerprint of their inputs (`LayerCache`).
        case layers
        /// Model digests by source version (`ModelCache`).
        case models
        /// Installed Python packages by requirements and platform (`PythonDependencies`).
        case python
        /// Where a layer lives that a build used from a registry without its bytes (Registry's `RemoteBlobLocation`).
        case remote
        /// Blobs pushed to a repository and accepted there (Registry's `PushedBlobs`).
        case pushed
        /// Layers unpacked once each, in overlayfs's format, for `gantry test` (ImageTest's `LayerSnapshots`).
        case rootfs
        /// What each base layer holds that a build asks about: its C library and OS packages (ImageBuild's `BaseFacts`).
        case facts
        /// OS-package resolutions by what they were resolved from, naming the .debs and indexes they use (DebianPackages).
        case packages
    }

    /// What a scratch path in `ingest/` is for; its name carries the owner's PID so
    /// that `gantry store prune` can tell abandoned scratch from scratch in use.
    public enum ScratchPurpose: String, Sendable, CaseIterable {
        case model, archive
        /// A model file set as a directory of links to its blobs (`ModelFetcher`).
        case modelSet = "modelset"
        /// A second name of a layer being written, read by the upload streaming it.
        case stream
        /// gpgv's keyring and home while a repository's Release is checked, and the
        /// files of the .debs an OS-packages layer is written from (DebianPackages).
        case packages
        /// pip's resolution report while gantry lock resolves requirements.
        case python
    }

    var cacheRoot: String { stateRoot + "/cache" }
    var ingestDirectory: String { stateRoot + "/ingest" }

    private func cachePath(_ area: CacheArea, _ key: String) -> String { "\(cacheRoot)/\(area.rawValue)/\(key)" }

    /// A small JSON record of `area`; nil when missing or unreadable (a lost record
    /// only costs a rebuild or a download).
    public func cacheRecord<T: Decodable>(_ type: T.Type, in area: CacheArea, key: String) -> T? {
        guard let bytes = try? FileReader.readSmallFile(cachePath(area, key) + ".json") else { return nil }
        return try? JSONDecoder().decode(type, from: Data(bytes))
    }

    /// Writes a record atomically. Best effort: a record that cannot be written only costs rework.
    public func saveCacheRecord<T: Encodable>(_ value: T, in area: CacheArea, key: String) {
        guard let bytes = try? CanonicalJSON.encode(value) else { return }
        try? FileManager.default.createDirectory(atPath: "\(cacheRoot)/\(area.rawValue)", withIntermediateDirectories: true)
        try? AtomicFile.write(bytes, to: cachePath(area, key) + ".json", durable: false)
    }

    /// Whether `area` holds any record at all: a store that has none (a fresh build
    /// agent) cannot hit, so a build need not compute a key before building.
    public func hasCacheRecords(in area: CacheArea) -> Bool {
        guard let handle = opendir("\(cacheRoot)/\(area.rawValue)") else { return false }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let isRecord = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let name = raw.prefix { $0 != 0 }
                return name.count > 5 && name.first != UInt8(ascii: ".") && name.suffix(5).elementsEqual(".json".utf8)
            }
            if isRecord { return true }
        }
        return false
    }

    /// Drops a record (best effort).
    public func removeCacheRecord(in area: CacheArea, key: String) {
        unlink(cachePath(area, key) + ".json")
    }

    /// Marks a record as used now: its modification time is what
    /// `gantry store prune --older-than` reads.
    public func touchCacheRecord(in area: CacheArea, key: String) {
        utimes(cachePath(area, key) + ".json", nil)
    }

    /// The directory for a cached tree of `area` (it may not exist yet); its parent is created.
    public func cacheDirectory(in area: CacheArea, key: String) throws -> String {
        try FileManager.default.createDirectory(atPath: "\(cacheRoot)/\(area.rawValue)", withIntermediateDirectories: true)
        return cachePath(area, key)
    }

    /// A fresh private path in `ingest/` (on the store's file system, so a finished
    /// file can be renamed into place) for this process's `purpose`.
    public func scratchPath(for purpose: ScratchPurpose, suffix: String = "") -> String {
        "\(ingestDirectory)/\(purpose.rawValue)-\(getpid())-\(UUID().uuidString.prefix(8))\(suffix)"
    }

    /// A small named record of the commands (`cache/<name>.json`), e.g. the last push.
    public func record<T: Decodable>(_ type: T.Type, named name: String) -> T? {
        guard let bytes = try? FileReader.readSmallFile("\(cacheRoot)/\(name).json") else { return nil }
        return try? JSONDecoder().decode(type, from: Data(bytes))
    }

    public func removeRecord(named name: String) {
        unlink("\(cacheRoot)/\(name).json")
    }

    public func saveRecord<T: Encodable>(_ value: T, named name: String) throws {
        try ContentStore.makeDirectory(cacheRoot)
        try AtomicFile.write(try CanonicalJSON.encode(value), to: "\(cacheRoot)/\(name).json", durable: false)
    }
}
