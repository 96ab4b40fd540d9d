import OCI

/// An image whose every part is in a store: one manifest, or an index of several
/// (a multi-platform image). What sources yield and sinks write.
public enum StoredImage: Sendable {
    case manifest(ImageManifest)
    case index(ImageIndex)

    /// The descriptor a tag points at: the manifest's, or the index's.
    public var root: Descriptor {
        switch self {
        case .manifest(let image): return image.descriptor
        case .index(let index): return index.descriptor
        }
    }

    /// The manifests it holds (one for a single image).
    public var manifests: [ImageManifest] {
        switch self {
        case .manifest(let image): return [image]
        case .index(let index): return index.manifests
        }
    }

    /// Every blob, each once, parents before children: root, then per manifest its
    /// manifest (for an index), config and layers.
    public var blobs: [Descriptor] {
        var seen = Set<Digest>()
        var all = [root]
        for image in manifests {
            if case .index = self { all.append(image.descriptor) }
            all.append(image.manifest.config)
            all += image.manifest.layers
        }
        return all.filter { seen.insert($0.digest).inserted }
    }
}

/// One image manifest with its config, read from the store.
public struct ImageManifest: Sendable {
    public var descriptor: Descriptor
    public var manifest: Manifest
    public var config: ImageConfig

    public init(descriptor: Descriptor, manifest: Manifest, config: ImageConfig) {
        self.descriptor = descriptor
        self.manifest = manifest
        self.config = config
    }
}

/// An index and the manifests it lists, each read from the store.
public struct ImageIndex: Sendable {
    public var descriptor: Descriptor
    public var index: Index
    public var manifests: [ImageManifest]

    public init(descriptor: Descriptor, index: Index, manifests: [ImageManifest]) {
        self.descriptor = descriptor
        self.index = index
        self.manifests = manifests
    }
}
