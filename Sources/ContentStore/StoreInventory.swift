import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import Diagnostics

/// What a store holds, read from disk without changing anything: blobs, tags,
/// cache records, and what crashed or damaged work left behind. `gantry store ls`
/// prints it; `StorePrunePlan` decides from it what may go.
public struct StoreInventory: Sendable {
    public struct Blob: Sendable {
        public var digest: Digest
        public var size: Int64
        public var modified: Date
    }

    public struct Tag: Sendable {
        public var name: String
        public var descriptor: Descriptor
        /// The tag's manifest (or index) and everything it names that is in the store.
        public var closure: Set<Digest>
        /// Blobs the manifests name that the store does not have.
        public var missing: Set<Digest>
        /// Layers of a registry base that a build left in the registry (a push to
        /// it mounts them; other outputs fetch them when they need the bytes).
        public var remote: Set<Digest> = []
    }

    /// A cache record (`cache/<kind>/<name>.json`, naming blobs) or a cached
    /// directory (`cache/python/<key>/`). Its mtime is its last use.
    public struct CacheEntry: Sendable {
        public var kind: String
        public var path: String
        public var size: Int64
        public var modified: Date
        public var digests: Set<Digest>
        public var isDirectory: Bool
    }

    /// A file no live process owns: an abandoned ingest temp file, a quarantined blob,
    /// a stray temp file of an atomic write.
    public struct Leftover: Sendable {
        public enum Kind: String, Sendable { case ingest, quarantine, temporary }
        public var kind: Kind
        public var path: String
        public var size: Int64
    }

    public var blobs: [Digest: Blob] = [:]
    public var tags: [Tag] = []
    public var caches: [CacheEntry] = []
    public var leftovers: [Leftover] = []
    /// Ingest files of processes still running (never touched).
    public var inProgress: Int64 = 0

    public init(store: ContentStore) throws {
        let blobDirectory = store.root + "/blobs/sha256"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: blobDirectory)) ?? [] {
            guard let digest = try? Digest("sha256:" + name), let info = Self.stat(blobDirectory + "/" + name) else { continue }
            blobs[digest] = Blob(digest: digest, size: Int64(info.st_size), modified: Self.date(info.st_mtim))
        }
        for descriptor in try store.index.read().manifests {
            let name = descriptor.annotations?[AnnotationKey.refName] ?? descriptor.digest.description
            var walk = Walk()
            walk.follow(descriptor, store: store)
            tags.append(Tag(name: name, descriptor: descriptor, closure: walk.closure, missing: walk.missing, remote: walk.remote))
        }
        caches = Self.cacheEntries(store: store)
        leftovers = Self.leftovers(store: store, inProgress: &inProgress)
    }

    /// Blobs reachable from any tag.
    public var tagged: Set<Digest> { tags.reduce(into: Set<Digest>()) { $0.formUnion($1.closure) } }

    public var blobBytes: Int64 { blobs.values.reduce(0) { $0 + $1.size } }

    /// Everything the store occupies that this inventory counts.
    public var totalBytes: Int64 {
        blobBytes + caches.filter(\.isDirectory).reduce(0) { $0 + $1.size } + leftovers.reduce(0) { $0 + $1.size } + inProgress
    }

    // MARK: reading

    /// The part of a `remote` record this module reads (Registry writes it).
    private struct RemoteLocation: Decodable { var repository: String }

    /// Follows a manifest or index to every blob it names (lenient: a damaged or
    /// foreign document just ends the walk there; `gantry store check` reports it).
    struct Walk {
        var closure = Set<Digest>(), missing = Set<Digest>(), remote = Set<Digest>()

        mutating func follow(_ descriptor: Descriptor, store: ContentStore) {
            guard store.contains(descriptor.digest) else { missing.insert(descriptor.digest); return }
            guard closure.insert(descriptor.digest).inserted else { return }
            guard MediaType.isIndex(descriptor.mediaType) || MediaType.isManifest(descriptor.mediaType),
                  let bytes = try? FileReader.readSmallFile(store.blobPath(descriptor.digest)) else { return }
            if MediaType.isIndex(descriptor.mediaType) {
                guard let index = try? CanonicalJSON.decode(Index.self, from: bytes, source: descriptor.digest.description) else { return }
                for child in index.manifests { follow(child, store: store) }
                return
            }
            guard let manifest = try? CanonicalJSON.decode(Manifest.self, from: bytes, source: descriptor.digest.description) else { return }
            let baseLayers = self.baseLayers(of: manifest, store: store)
            for blob in [manifest.config] + manifest.layers {
                if store.contains(blob.digest) {
                    closure.insert(blob.digest)
                } else if baseLayers.contains(blob.digest) || store.cacheRecord(RemoteLocation.self, in: .remote, key: blob.digest.encoded) != nil {
                    remote.insert(blob.digest)
                } else {
                    missing.insert(blob.digest)
                }
            }
        }

        /// The layers of the registry base a build recorded (org.opencontainers.image.base.*),
        /// when its manifest is in the store; that manifest is kept with the image.
        private mutating func baseLayers(of manifest: Manifest, store: ContentStore) -> Set<Digest> {
            guard manifest.annotations?[AnnotationKey.baseName] != nil,
                  let text = manifest.annotations?[AnnotationKey.baseDigest], let digest = try? Digest(text),
                  store.contains(digest), let bytes = try? FileReader.readSmallFile(store.blobPath(digest)),
                  let base = try? CanonicalJSON.decode(Manifest.self, from: bytes, source: text) else { return [] }
            closure.insert(digest)
            return Set(base.layers.map(\.digest))
        }
    }

    static func cacheEntries(store: ContentStore) -> [CacheEntry] {
        let cacheRoot = store.cacheRoot
        var entries: [CacheEntry] = []
        for kind in ((try? FileManager.default.contentsOfDirectory(atPath: cacheRoot)) ?? []).sorted() {
            let directory = cacheRoot + "/" + kind
            guard let info = stat(directory), info.st_mode & S_IFMT == S_IFDIR else { continue }
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() where !name.hasPrefix(".") {
                let path = directory + "/" + name
                guard let entry = stat(path) else { continue }
                if entry.st_mode & S_IFMT == S_IFDIR {
                    entries.append(CacheEntry(kind: kind, path: path, size: diskUsage(path), modified: date(entry.st_mtim),
                                              digests: [], isDirectory: true))
                } else if name.hasSuffix(".json") {
                    let digests = (try? FileReader.readSmallFile(path, limit: 1 << 20))
                        .flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0)) }
                        .map { blobsNeeded(by: $0, in: kind) } ?? []
                    entries.append(CacheEntry(kind: kind, path: path, size: Int64(entry.st_size), modified: date(entry.st_mtim),
                                              digests: digests, isDirectory: false))
                }
            }
        }
        return entries
    }

    /// The blobs a record of `area` stands for: it is worth keeping only while they
    /// are in the store, and it keeps them there. Not every digest a record names is
    /// a blob: a layer record's diffID (the digest of the uncompressed tar) never is,
    /// a `facts` record describes a layer it does not need, and `remote` and `pushed`
    /// records are about blobs that live in a registry. Reading every `sha256:`
    /// string as a blob made `prune` drop every layer record (issue 22).
    static func blobsNeeded(by record: JSONValue, in area: String) -> Set<Digest> {
        func field(_ path: [String]) -> JSONValue? {
            var value = record
            for key in path {
                guard case .object(let fields) = value, let next = fields[key] else { return nil }
                value = next
            }
            return value
        }
        let path: [String]
        switch ContentStore.CacheArea(rawValue: area) {
        case .layers: path = ["descriptor", "digest"]  // LayerBlob
        case .models:
            // A downloaded model is a blob; a local file's record (it has a `stamp`) may
            // describe the file where it lies, with no blob of its own.
            if field(["stamp"]) != nil { return [] }
            path = ["digest"]
        case .packages:
            // A resolution names the Packages indexes and .debs it was made from.
            guard case .array(let blobs)? = field(["blobs"]) else { return [] }
            return Set(blobs.compactMap { if case .string(let text) = $0 { return try? Digest(text) } else { return nil } })
        default: return []
        }
        guard case .string(let text)? = field(path), let digest = try? Digest(text) else { return [] }
        return [digest]
    }

    static func leftovers(store: ContentStore, inProgress: inout Int64) -> [Leftover] {
        var found: [Leftover] = []
        let ingest = store.ingestDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: ingest)) ?? [] {
            let path = ingest + "/" + name
            let size = diskUsage(path)
            if let pid = ownerProcess(of: name), processIsRunning(pid) { inProgress += size; continue }
            found.append(Leftover(kind: .ingest, path: path, size: size))
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: store.quarantineDirectory)) ?? [] {
            let path = store.quarantineDirectory + "/" + name
            found.append(Leftover(kind: .quarantine, path: path, size: diskUsage(path)))
        }
        // AtomicFile's hidden temp files (`.NAME.PID-XXXX.tmp`) beside index.json and in cache/*.
        let cacheKinds = ((try? FileManager.default.contentsOfDirectory(atPath: store.cacheRoot)) ?? []).map { store.cacheRoot + "/" + $0 }
        for directory in [store.root, store.cacheRoot] + cacheKinds {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(".") && name.hasSuffix(".tmp") {
                let parts = name.split(separator: ".")
                let pid = parts.count >= 3 ? Int32(parts[parts.count - 2].split(separator: "-").first ?? "") : nil
                if let pid, processIsRunning(pid) { continue }
                let path = directory + "/" + name
                found.append(Leftover(kind: .temporary, path: path, size: diskUsage(path)))
            }
        }
        return found
    }

    /// The process that owns an ingest file: `PID-UUID.tmp`, `model-PID-X.part`, `archive-PID-X/`.
    static func ownerProcess(of name: String) -> Int32? {
        var rest = Substring(name)
        for purpose in ContentStore.ScratchPurpose.allCases where rest.hasPrefix(purpose.rawValue + "-") {
            rest = rest.dropFirst(purpose.rawValue.count + 1)
        }
        return Int32(rest.prefix { $0.isNumber })
    }

    static func processIsRunning(_ pid: Int32) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }

    static func stat(_ path: String) -> stat? {
        var info = Glibc.stat()
        return lstat(path, &info) == 0 ? info : nil
    }

    static func date(_ time: timespec) -> Date {
        Date(timeIntervalSince1970: Double(time.tv_sec) + Double(time.tv_nsec) / 1e9)
    }

    /// Bytes of a file, or of everything below a directory (symlinks not followed).
    static func diskUsage(_ path: String) -> Int64 {
        guard let info = stat(path) else { return 0 }
        guard info.st_mode & S_IFMT == S_IFDIR else { return Int64(info.st_size) }
        let children = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return children.reduce(0) { total, name in
            let child = path + "/" + name
            guard let entry = stat(child) else { return total }
            switch entry.st_mode & S_IFMT {
            case S_IFDIR: return total + diskUsage(child)
            case S_IFREG: return total + Int64(entry.st_size)
            default: return total  // symlinks hold no data of their own
            }
        }
    }
}
