import OCI
import ByteStreams
import ContentStore
import Diagnostics

/// A build from a registry base downloads only the base's manifest and config: its
/// layers stay in the registry, where a push to the same registry mounts them. This
/// brings them into the store when something needs their bytes after all (an
/// `oci:` or archive output, a push to another registry), from where the image's
/// own org.opencontainers.image.base.* annotations say the base came from, each
/// verified against its digest.
public struct BaseLayerBackfill: Sendable {
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
    /// blob that is not one of its base's layers was lost from the store: an error.
    public func fetch(_ blobs: [Descriptor], of manifest: Manifest) throws {
        let missing = blobs.filter { !store.contains($0.digest) }
        guard !missing.isEmpty else { return }
        guard let baseName = manifest.annotations?[AnnotationKey.baseName], let base = try? Reference(parsing: baseName),
              let digestText = manifest.annotations?[AnnotationKey.baseDigest], let baseDigest = try? Digest(digestText) else {
            throw Self.lost(missing[0], store: store)
        }
        let puller = ImagePuller(store: store, session: try settings.session(for: base.registry),
                                 parallelBlobs: settings.upload.parallelBlobs, observer: observer)
        // The base manifest stays in the store with the image; fetched again by digest if it was pruned.
        try puller.fetch([Descriptor(mediaType: MediaType.ociManifest, digest: baseDigest, size: 0)], repository: base.repository)
        let baseManifest = try CanonicalJSON.decode(Manifest.self, from: try store.read(baseDigest), source: "base manifest \(baseDigest) of \(base)")
        let baseLayers = Set(baseManifest.layers.map(\.digest))
        if let lost = missing.first(where: { !baseLayers.contains($0.digest) }) { throw Self.lost(lost, store: store) }
        try puller.fetch(missing, repository: base.repository)
    }

    /// Whether a blob the store lacks may be one a build left in the registry.
    public static func mayBeRemote(_ manifest: Manifest) -> Bool {
        manifest.annotations?[AnnotationKey.baseName] != nil && manifest.annotations?[AnnotationKey.baseDigest] != nil
    }

    static func lost(_ blob: Descriptor, store: ContentStore) -> Failure {
        Failure(.missingInput, "blob \(blob.digest.short) of the image is not in the store \(store.root); build the image again")
    }
}
