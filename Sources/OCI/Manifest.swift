/// An image manifest (manifest.md), OCI or Docker v2 schema 2; both share this shape.
public struct Manifest: Hashable, Sendable, Codable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var artifactType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(mediaType: String = MediaType.ociManifest, config: Descriptor, layers: [Descriptor],
                annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}

/// An image index or Docker manifest list (image-index.md).
public struct Index: Hashable, Sendable, Codable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var artifactType: String?
    public var manifests: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = MediaType.ociIndex
        self.manifests = manifests
        self.annotations = annotations
    }
}

/// The first fields of any manifest-like document, enough to tell which it is.
public struct ManifestKind: Decodable, Sendable {
    public var mediaType: String?
    public var manifests: [Descriptor]?
    public var config: Descriptor?

    /// True for an index or manifest list, by media type or, failing that, by shape.
    public var isIndex: Bool {
        if let mediaType { return MediaType.isIndex(mediaType) }
        return manifests != nil && config == nil
    }
}
