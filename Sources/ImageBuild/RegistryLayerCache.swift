import FoundationEssentials
import Glibc
import HTTP
import OCI
import ByteStreams
import ContentStore
import Layering
import Registry
import Fetch
import Diagnostics

/// `--cache-repo`: a layer cache kept in a registry repository, for build agents
/// that start with an empty store (hosted Azure Pipelines and GitHub runners).
/// Each entry is a small OCI manifest tagged `layer-<key>` (`RemoteLayerKey`):
/// its one layer is the cached layer (so the registry keeps the blob), and its
/// annotations give the layer's diff_id and, for a model layer, the model's digest.
/// One tag per key: agents writing at once never lose each other's entries.
/// Looking an entry up is one GET; a hit builds, downloads and uploads nothing.
public struct RegistryLayerCache: Sendable {
    let repository: Reference
    let settings: RegistrySettings
    let store: ContentStore

    static let configMediaType = "application/vnd.gantry.layer-cache.v1+json"
    static let config: [UInt8] = Array("{}".utf8)
    enum Key {
        static let diffID = "io.gantry.cache.diff-id"
        static let uncompressedSize = "io.gantry.cache.uncompressed-size"
        static let modelDigest = "io.gantry.cache.model.digest"
        static let modelSize = "io.gantry.cache.model.size"
        /// The small files of a model set's shared layer: "sha256:… SIZE NAME" lines.
        static let modelFiles = "io.gantry.cache.model.files"
    }

    /// A cached layer, and the model it holds when it is a model layer.
    struct Hit: Sendable {
        var layer: LayerBlob
        var model: CachedModel?
    }

    public init(repository: Reference, settings: RegistrySettings, store: ContentStore) {
        self.repository = repository
        self.settings = settings
        self.store = store
    }

    static func tag(_ key: String) -> String { "layer-" + key }

    /// gantry's own entries have its config media type; a plain image someone
    /// tagged `layer-…` in the cache repository does not.
    static func isGantryEntry(_ manifest: Manifest) -> Bool {
        manifest.config.mediaType == configMediaType
    }

    static func foreignEntryWarning(_ repository: Reference, key: String) -> String {
        "tag \(tag(key)) in the layer cache \(repository.name) is not a gantry layer-cache entry (another tool wrote it); left as it is, and the layer is built instead of taken from it"
    }

    /// The entry for `key`, or nil (no entry, or one gantry cannot use). A registry
    /// that cannot be reached fails the build: a cache that silently stopped
    /// working would only show as slow builds.
    func lookup(_ key: String) throws -> Hit? {
        let client = try RegistryClient(session: try settings.session(for: repository.registry))
        var request = HTTPRequest(method: "GET", url: client.url("/v2/\(repository.repository)/manifests/\(Self.tag(key))"))
        request.setHeader("Accept", MediaType.ociManifest)
        let response = try client.send(request, scope: RegistryClient.scope(repository.repository, push: false))
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw client.failure(response, "layer cache \(repository.name)") }
        guard let manifest = try? CanonicalJSON.decode(Manifest.self, from: response.body, source: "layer cache entry"),
              Self.isGantryEntry(manifest) else {
            Warnings.emit(Self.foreignEntryWarning(repository, key: key))
            return nil
        }
        guard manifest.layers.count == 1, let annotations = manifest.annotations,
              let diffID = annotations[Key.diffID].flatMap({ try? Digest($0) }),
              let uncompressed = annotations[Key.uncompressedSize].flatMap({ Int64($0) }) else { return nil }
        var hit = Hit(layer: LayerBlob(descriptor: manifest.layers[0], diffID: diffID, uncompressedSize: uncompressed))
        if let text = annotations[Key.modelDigest] {
            guard let digest = try? Digest(text), let size = annotations[Key.modelSize].flatMap({ Int64($0) }) else { return nil }
            hit.model = CachedModel(digest: digest, size: size)
            if let listing = annotations[Key.modelFiles] {
                guard let files = CachedModel.files(parsing: listing) else { return nil }
                hit.model?.files = files
            }
        }
        // Pushes mount the layer from here; anything needing its bytes fetches them from here.
        RemoteBlobLocation(registry: repository.registry, repository: repository.repository).record(hit.layer.descriptor.digest, in: store)
        return hit
    }

    /// Records `layer` under `key`, mounting its blob from `source` (a repository of
    /// the same registry that has it: the image just pushed). An existing entry is left alone.
    /// Records every entry after a push to `pushed` (same registry: the blobs are
    /// mounted from there). Best effort: a failure only costs the next agent a
    /// rebuild, so it is returned as a warning, never thrown.
    public func saveAll(_ entries: [LayerCacheEntry], pushedTo pushed: Reference) -> [String] {
        guard pushed.registry == repository.registry else {
            return ["--cache-repo \(repository.name) is not on the registry pushed to (\(pushed.registry)); the layer cache was read but not updated"]
        }
        var warnings: [String] = []
        for entry in entries {
            do {
                try save(entry.key, layer: entry.layer, model: entry.model, mountingFrom: pushed.repository)
            } catch {
                warnings.append("could not record layer \(entry.layer.descriptor.digest.short) in the layer cache \(repository.name): \(error)")
            }
        }
        return warnings
    }

    func save(_ key: String, layer: LayerBlob, model: CachedModel?, mountingFrom source: String) throws {
        let session = try settings.session(for: repository.registry)
        let client = try RegistryClient(session: session)
        let tagURL = client.url("/v2/\(repository.repository)/manifests/\(Self.tag(key))")
        var get = HTTPRequest(method: "GET", url: tagURL)
        get.setHeader("Accept", [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList].joined(separator: ", "))
        let existing = try client.send(get, scope: RegistryClient.scope(repository.repository, push: false))
        if existing.status == 200 {
            // Ours: recorded by another agent already. Anything else at the tag was put
            // there by another tool: never overwritten, said once.
            let manifest = try? CanonicalJSON.decode(Manifest.self, from: existing.body, source: "layer cache entry")
            if let manifest, Self.isGantryEntry(manifest) { return }
            throw Failure(.invalidInput, Self.foreignEntryWarning(repository, key: key))
        }
        var annotations = [Key.diffID: layer.diffID.description, Key.uncompressedSize: String(layer.uncompressedSize)]
        if let model {
            annotations[Key.modelDigest] = model.digest.description
            annotations[Key.modelSize] = String(model.size)
            if let files = model.files { annotations[Key.modelFiles] = CachedModel.listing(of: files) }
        }
        let config = try store.put(Self.config, mediaType: Self.configMediaType)
        let manifest = Manifest(config: config, layers: [layer.descriptor], annotations: annotations)
        let descriptor = try store.put(try CanonicalJSON.encode(manifest), mediaType: MediaType.ociManifest)
        var pusher = ImagePusher(store: store, session: session, settings: settings.upload, observer: nil)
        pusher.mountHints = [layer.descriptor.digest: source]
        var target = repository
        target.tag = Self.tag(key)
        target.digest = nil
        _ = try pusher.push(manifest: descriptor, to: target, extraTags: [])
    }
}

/// A model's digest and size, as a model layer's cache entry records them; for the
/// layer of a set's small files, each file's too (a fresh agent needs them for the
/// set's digest without downloading the files).
public struct CachedModel: Sendable, Equatable {
    public var digest: Digest
    public var size: Int64
    public var files: [FetchedModel.ModelFile]? = nil

    /// One "sha256:<hex> SIZE NAME" line a file (names never hold a newline: `BlobSetListing.checkName`).
    static func listing(of files: [FetchedModel.ModelFile]) -> String {
        files.map { "\($0.digest) \($0.size) \($0.relativePath)" }.joined(separator: "\n")
    }

    static func files(parsing listing: String) -> [FetchedModel.ModelFile]? {
        var files: [FetchedModel.ModelFile] = []
        for line in listing.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2)
            guard fields.count == 3, let digest = try? Digest(String(fields[0])), let size = Int64(fields[1]) else { return nil }
            files.append(FetchedModel.ModelFile(relativePath: String(fields[2]), digest: digest, size: size, stamp: nil))
        }
        return files
    }
}

/// A layer to record in the registry layer cache once the image is pushed.
public struct LayerCacheEntry: Sendable {
    public var key: String
    public var layer: LayerBlob
    public var model: CachedModel?
}
