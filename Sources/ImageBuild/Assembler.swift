import FoundationEssentials
import Glibc
import ByteStreams
import OCI
import ContentStore
import Layering
import Images
import Recipes
import Diagnostics
import SystemSupport

/// A layer added by this build, with the history line that describes it.
public struct BuiltLayer: Sendable {
    public var blob: LayerBlob
    public var createdBy: String
}

/// The finished image: manifest and config stored, with their descriptors.
public struct AssembledImage: Sendable {
    public var manifestDescriptor: Descriptor
    public var manifest: Manifest
    public var config: ImageConfig

    /// As sinks take it.
    public var stored: StoredImage {
        .manifest(ImageManifest(descriptor: manifestDescriptor, manifest: manifest, config: config))
    }
}

/// Writes the config and manifest for base + new layers into the store.
struct Assembler {
    let store: ContentStore

    func assemble(base: BaseImage, layers: [BuiltLayer], settings: ImageSettings,
                  platform: Platform, created: String, annotations extra: [String: String] = [:]) throws -> AssembledImage {
        var config = base.config ?? ImageConfig(platform: platform)
        config.architecture = platform.architecture
        config.os = platform.os
        config.variant = platform.variant
        config.created = created
        var container = config.config ?? ContainerConfig()
        try settings.apply(to: &container)
        config.config = container

        // A rootfs base has no config of its own: its layer gets a history line here.
        var history = config.history ?? []
        if base.config == nil {
            history += base.layers.map { _ in HistoryEntry(created: created, createdBy: "gantry: base root filesystem") }
        }
        for layer in layers {
            history.append(HistoryEntry(created: created, createdBy: layer.createdBy))
        }
        config.history = history
        config.rootfs = RootFS(diffIDs: base.layers.map(\.diffID) + layers.map(\.blob.diffID))

        let configDescriptor = try store.put(try CanonicalJSON.encode(config), mediaType: MediaType.ociConfig)
        var annotations = extra
        if let name = base.name { annotations[AnnotationKey.baseName] = name }
        if let digest = base.digest, base.name != nil { annotations[AnnotationKey.baseDigest] = digest.description }
        let manifest = Manifest(config: configDescriptor,
                                layers: base.layers.map(\.descriptor) + layers.map(\.blob.descriptor),
                                annotations: annotations.isEmpty ? nil : annotations)
        let manifestDescriptor = try store.put(try CanonicalJSON.encode(manifest), mediaType: MediaType.ociManifest)
        return AssembledImage(manifestDescriptor: manifestDescriptor, manifest: manifest, config: config)
    }

    /// The index of a multi-platform build: each image's manifest with its platform, in order.
    func index(of images: [AssembledImage]) throws -> StoredImage {
        let manifests = images.map { image in
            var descriptor = image.manifestDescriptor
            descriptor.platform = image.config.platform
            return descriptor
        }
        let descriptor = try store.put(try CanonicalJSON.encode(Index(manifests: manifests)), mediaType: MediaType.ociIndex)
        let stored = images.map { ImageManifest(descriptor: $0.manifestDescriptor, manifest: $0.manifest, config: $0.config) }
        return .index(ImageIndex(descriptor: descriptor, index: Index(manifests: manifests), manifests: stored))
    }

    /// RFC 3339 time of a Unix timestamp (SOURCE_DATE_EPOCH), in UTC.
    static func timestamp(_ seconds: Int64) -> String {
        rfc3339(secondsSince1970: seconds)
    }
}
