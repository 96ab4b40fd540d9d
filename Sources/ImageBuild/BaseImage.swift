import OCI
import Layering

/// The image a build starts from, with all of its blobs already in the store.
public struct BaseImage: Sendable {
    /// The base's config; nil for scratch and rootfs bases, which have none.
    public var config: ImageConfig?
    /// The base's layers with their diffIDs, in order; reused as they are, never re-compressed.
    public var layers: [LayerBlob]
    /// For the manifest's org.opencontainers.image.base.* annotations, when the base has a name.
    public var name: String?
    public var digest: Digest?

    public static let scratch = BaseImage(config: nil, layers: [], name: nil, digest: nil)
}
