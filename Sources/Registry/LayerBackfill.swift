import OCI
import ByteStreams
import ContentStore
import Diagnostics

/// Where a layer a build did not download lives: a repository of a registry.
/// Kept as the store's `remote` cache record of the blob (layer-cache hits of
/// `--cache-repo`); base layers need none, their image's annotations say it.
public struct RemoteBlobLocation: Codable, Sendable, Equatable {
    public var registry: String
    public var repository: String

    public init(registry: String, repository: String) {
        self.registry = registry
        self.repository = repository
    }

    public static func recorded(_ digest: Digest, in store: ContentStore) -> RemoteBlobLocation? {
        store.cacheRecord(RemoteBlobLocation.self, in: .remote, key: digest.encoded)
    }

    public func record(_ digest: Digest, in store: ContentStore) {
        store.saveCacheRecord(self, in: .remote, key: digest.encoded)
    }
}

/// A build may leave layers in a registry rather than download them: a registry
/// base's layers (only its manifest and config are fetched) and layers found in
/// the `--cache-repo` layer cache. A push to that registry mounts them; this
/// brings them into the store when something needs their bytes after all (an
/// `oci:` or archive output, a push to another registry), each verified against
/// its digest: from the repository recorded for the blob, or from where the
/// image's own org.opencontainers.image.base.* annotations say its base came from.
public struct LayerBackfill: Sendable {
    public let store: ContentStore
    public let settings: RegistrySettings
    public let observer: TransferObserver?

    public init(store: ContentStore, settings: RegistrySettings, observer: TransferObserver?) {
        self.store = store
        self.settings = settings
        self.observer = observer
    }

    /// Every blob of `manifest` that the store lacks, fetched.
    public func fetchMissing(of manifest: Manifest) throws {
        try fetch([manifest.config] + manifest.layers, of: manifest)
    }

    /// Those of `blobs` (blobs of `manifest`) that the store lacks, fetched; a lacking
    /// blob that no registry is known to hold was lost from the store: an error.
    public func fetch(_ blobs: [Descriptor], of manifest: Manifest) throws {
        var missing = blobs.filter { !store.contains($0.digest) }
        // Layer-cache hits: from the repository recorded for each.
        for blob in missing {
            guard let location = RemoteBlobLocation.recorded(blob.digest, in: store) else { continue }
            try puller(for: location.registry).fetch([blob], repository: location.repository)
        }
        missing = missing.filter { !store.contains($0.digest) }
        guard !missing.isEmpty else { return }
        // Base layers: from the base's repository.
        guard let baseName = manifest.annotations?[AnnotationKey.baseName], let base = try? Reference(parsing: baseName),
              let digestText = manifest.annotations?[AnnotationKey.baseDigest], let baseDigest = try? Digest(digestText) else {
            throw Self.lost(missing[0], store: store)
        }
        try fetch(missing, fromBase: base, digest: baseDigest)
    }

    /// Layers of the base image `base` (manifest `baseDigest`), from its repository;
    /// a blob that is not one of its layers is an error.
    public func fetch(_ blobs: [Descriptor], fromBase base: Reference, digest baseDigest: Digest) throws {
        let missing = blobs.filter { !store.contains($0.digest) }
        guard !missing.isEmpty else { return }
        let puller = try puller(for: base.registry)
        // The base manifest stays in the store with the image; fetched again by digest if it was pruned.
        try puller.fetch([Descriptor(mediaType: MediaType.ociManifest, digest: baseDigest, size: 0)], repository: base.repository)
        let baseManifest = try CanonicalJSON.decode(Manifest.self, from: try store.read(baseDigest), source: "base manifest \(baseDigest) of \(base)")
        let baseLayers = Set(baseManifest.layers.map(\.digest))
        if let lost = missing.first(where: { !baseLayers.contains($0.digest) }) { throw Self.lost(lost, store: store) }
        try puller.fetch(missing, repository: base.repository)
    }

    private func puller(for registry: String) throws -> ImagePuller {
        ImagePuller(store: store, session: try settings.session(for: registry), parallelBlobs: settings.upload.parallelBlobs, observer: observer)
    }

    /// Whether a blob of `manifest` that the store lacks may be one a build left in a registry.
    public static func mayBeRemote(_ blob: Descriptor, of manifest: Manifest, store: ContentStore) -> Bool {
        RemoteBlobLocation.recorded(blob.digest, in: store) != nil
            || (manifest.annotations?[AnnotationKey.baseName] != nil && manifest.annotations?[AnnotationKey.baseDigest] != nil)
    }

    static func lost(_ blob: Descriptor, store: ContentStore) -> Failure {
        Failure(.missingInput, "blob \(blob.digest.short) of the image is not in the store \(store.root); build the image again")
    }
}
