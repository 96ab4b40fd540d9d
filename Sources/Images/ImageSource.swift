import OCI
import ContentStore
import Diagnostics

/// Where a build's base comes from: a registry, an OCI layout or archive, a root
/// filesystem tarball (ImageBuild's `RootfsSource`: it builds a layer), or nothing.
/// Each copies what it needs into the store and yields the image for one platform.
public protocol ImageSource {
    /// The location as the user wrote it, for messages.
    var description: String { get }
    /// The image for `platform` (an index resolved to that platform's manifest), its blobs in the store.
    func image(for platform: Platform) throws -> BaseImage
}

/// A source that holds manifests: a registry, an OCI layout, an OCI archive. It
/// knows how to get a descriptor's bytes into the store; walking from the root to
/// the manifest(s) wanted, picking a platform and pairing layers with diff_ids is
/// shared here, so every such source reads images the same way.
public protocol ManifestSource: ImageSource {
    var store: ContentStore { get }
    /// The name recorded as the base's org.opencontainers.image.base.name (and where
    /// a push mounts its layers from), when it has one: registry bases.
    var baseName: String? { get }
    /// The manifest or index the location names, its bytes now in the store.
    func root() throws -> Descriptor
    /// Brings manifests and blobs into the store, verified; those it has are skipped.
    func fetch(_ descriptors: [Descriptor]) throws
    /// As a build's base: leave the layers where they are (a registry, where a push
    /// mounts them), fetching only the manifest and config.
    var layersOnDemand: Bool { get }
}

extension ManifestSource {
    public var layersOnDemand: Bool { false }

    /// The image at the location: for `platform`, the one manifest; without, all
    /// of an index's manifests (a multi-platform image as it is).
    public func read(platform: Platform?) throws -> StoredImage {
        let (root, index) = try rootDocument()
        guard let index else { return .manifest(try load(root, layers: true)) }
        if let platform {
            return .manifest(try load(try manifest(in: index, for: platform), layers: true))
        }
        let children = index.manifests.filter { MediaType.isManifest($0.mediaType) }
        guard !children.isEmpty else { throw Failure(.invalidInput, "\(description): index \(root.digest.short) lists no image manifests") }
        return .index(ImageIndex(descriptor: root, index: index, manifests: try children.map { try load($0, layers: true) }))
    }

    public func image(for platform: Platform) throws -> BaseImage {
        let (root, index) = try rootDocument()
        let chosen = try index.map { try manifest(in: $0, for: platform) } ?? root
        return try BaseImage(try load(chosen, layers: !layersOnDemand), name: baseName, location: description)
    }

    /// The manifest for `platform` in `index`, looking into the indexes it nests
    /// (an index of indexes, as some publishers write) when its own manifests have none.
    private func manifest(in index: Index, for platform: Platform, depth: Int = 0) throws -> Descriptor {
        do {
            return try PlatformResolver.manifest(in: index, for: platform, location: description)
        } catch {
            let nested = index.manifests.filter { MediaType.isIndex($0.mediaType) }
            guard !nested.isEmpty else { throw error }
            guard depth < 4 else {
                throw Failure(.invalidInput, "\(description): indexes nest more than 4 deep; point the base at the index that lists the image manifests")
            }
            var offered: [String] = PlatformResolver.platforms(of: index).map(\.description)
            for child in nested {
                try fetch([child])
                let inner = try CanonicalJSON.decode(Index.self, from: try store.read(child.digest), source: "index \(child.digest) of \(description)")
                if let found = try? manifest(in: inner, for: platform, depth: depth + 1) { return found }
                offered += PlatformResolver.platforms(of: inner).map(\.description)
            }
            throw Failure(.missingInput, "\(description) has no image for \(platform) (it has: \(offered.isEmpty ? "none" : offered.joined(separator: ", ")), in \(nested.count) nested index(es)); choose another base or --platform")
        }
    }

    /// The root descriptor, and the index when the root is one (its bytes read and checked once).
    private func rootDocument() throws -> (Descriptor, Index?) {
        let root = try self.root()
        let bytes = try store.read(root.digest)
        let kind = try CanonicalJSON.decode(ManifestKind.self, from: bytes, source: "manifest \(root.digest) of \(description)")
        guard kind.isIndex else { return (root, nil) }
        return (root, try CanonicalJSON.decode(Index.self, from: bytes, source: "index \(root.digest) of \(description)"))
    }

    /// One manifest: itself, its config, then (when asked) its layers; each document read once.
    private func load(_ descriptor: Descriptor, layers: Bool) throws -> ImageManifest {
        try fetch([descriptor])
        let manifest = try CanonicalJSON.decode(Manifest.self, from: try store.read(descriptor.digest), source: "manifest \(descriptor.digest) of \(description)")
        try fetch([manifest.config])
        let config = try CanonicalJSON.decode(ImageConfig.self, from: try store.read(manifest.config.digest),
                                              source: "config \(manifest.config.digest) of \(description)")
        if layers { try fetch(manifest.layers) }
        return ImageManifest(descriptor: descriptor, manifest: manifest, config: config)
    }

    /// The manifest for `platform` (nil: the index's first Linux image) and its
    /// config, without layers.
    public func manifestAndConfig(platform: Platform?) throws -> InspectedImage {
        let (root, index) = try rootDocument()
        guard let index else { return InspectedImage(root: root, platforms: [], image: try load(root, layers: false)) }
        let chosen = try platform.map { try manifest(in: index, for: $0) }
            ?? PlatformResolver.preferredManifest(in: index, location: description)
        return InspectedImage(root: root, platforms: PlatformResolver.platforms(of: index), image: try load(chosen, layers: false))
    }
}

/// `scratch`: no base at all.
public struct ScratchSource: ImageSource {
    public init() {}
    public var description: String { "scratch" }
    public func image(for platform: Platform) throws -> BaseImage { .scratch }
}

/// A manifest and config read without the layers (for `gantry inspect` and
/// `gantry deploy`), with the platforms of the index it came from, if any.
public struct InspectedImage: Sendable {
    /// What the location names: the manifest itself, or the index.
    public var root: Descriptor
    /// The platforms of the index; empty for a single image.
    public var platforms: [Platform]
    public var image: ImageManifest
}

/// An image already in a store: the last build, a tagged build, or an `oci:`
/// layout opened as a store. Nothing is copied; a missing blob is an error.
public struct StoreSource: ManifestSource {
    public let store: ContentStore
    public let rootDescriptor: Descriptor
    public let description: String

    public init(store: ContentStore, root: Descriptor, description: String) {
        self.store = store
        rootDescriptor = root
        self.description = description
    }

    public var baseName: String? { nil }
    public func root() throws -> Descriptor { rootDescriptor }

    public func fetch(_ descriptors: [Descriptor]) throws {
        for descriptor in descriptors where !store.contains(descriptor.digest) {
            throw Failure(.missingInput, "blob \(descriptor.digest.short) of \(description) is not in \(store.root); build the image again")
        }
    }
}
