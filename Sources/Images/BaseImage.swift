import OCI
import Layering

/// The image a build starts from, for one platform, with all of its blobs already
/// in the store: what an `ImageSource` gives.
public struct BaseImage: Sendable {
    /// The base's config; nil for scratch and rootfs bases, which have none.
    public var config: ImageConfig?
    /// The base's layers with their diffIDs, in order; reused as they are, never re-compressed.
    public var layers: [LayerBlob]
    /// For the manifest's org.opencontainers.image.base.* annotations, when the base has a name.
    public var name: String?
    public var digest: Digest?

    public init(config: ImageConfig?, layers: [LayerBlob], name: String?, digest: Digest?) {
        self.config = config
        self.layers = layers
        self.name = name
        self.digest = digest
    }

    public static let scratch = BaseImage(config: nil, layers: [], name: nil, digest: nil)

    /// A stored manifest as a base: its layers paired with the config's diff_ids.
    public init(_ image: ImageManifest, name: String?, location: String) throws {
        self.init(config: image.config, layers: try LayerBlob.pair(image.manifest, with: image.config, location: location),
                  name: name, digest: image.descriptor.digest)
    }
}
