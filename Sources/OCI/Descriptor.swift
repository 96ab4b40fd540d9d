/// A reference to content by media type, digest and size (descriptor.md).
public struct Descriptor: Hashable, Sendable, Codable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var urls: [String]?
    public var annotations: [String: String]?
    public var platform: Platform?
    public var artifactType: String?

    public init(mediaType: String, digest: Digest, size: Int64,
                annotations: [String: String]? = nil, platform: Platform? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
    }
}

/// Well-known annotation keys (annotations.md).
public enum AnnotationKey {
    public static let refName = "org.opencontainers.image.ref.name"
    /// containerd's (and `docker save`'s) full image name in an archive's index.json.
    public static let containerdImageName = "io.containerd.image.name"
    public static let created = "org.opencontainers.image.created"
    public static let source = "org.opencontainers.image.source"
    public static let revision = "org.opencontainers.image.revision"
    public static let baseName = "org.opencontainers.image.base.name"
    public static let baseDigest = "org.opencontainers.image.base.digest"
    /// A file's name (what oras names a pulled layer's file).
    public static let title = "org.opencontainers.image.title"
}
