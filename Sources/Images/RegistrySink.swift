import OCI
import ContentStore
import Registry

/// Pushes to a registry (`--push REF`): blobs, manifests, then the root and tags
/// (see `ImagePusher`).
public struct RegistrySink: ImageSink {
    public let reference: Reference
    public let extraTags: [String]
    public let settings: RegistrySettings
    public let observer: TransferObserver?
    /// Set when pushing from gantry's own store, whose builds may have left base layers in the registry.
    public var backfill: LayerBackfill?

    public init(reference: Reference, extraTags: [String], settings: RegistrySettings, observer: TransferObserver?,
                backfill: LayerBackfill? = nil) {
        self.reference = reference
        self.extraTags = extraTags
        self.settings = settings
        self.observer = observer
        self.backfill = backfill
    }

    public var description: String { reference.description }
    public func checkWritable() throws {}

    public func write(_ image: StoredImage, from store: ContentStore) throws {
        _ = try push(image.root, from: store)
    }

    /// The push, with what happened to each blob (for `--json` and the summary line).
    public func push(_ root: Descriptor, from store: ContentStore) throws -> PushResult {
        let pusher = ImagePusher(store: store, session: try settings.session(for: reference.registry),
                                 settings: settings.upload, observer: observer, backfill: backfill)
        return try pusher.push(manifest: root, to: reference, extraTags: extraTags)
    }
}
