import Foundation
import OCI
import ByteStreams
import ContentStore
import Layering
import Diagnostics

/// Reads a base image from an OCI image layout directory into the store.
struct LayoutReader {
    let store: ContentStore
    let platform: Platform
    /// Move blob files into the store instead of copying (they are ours to take).
    var adoptBlobs = false

    func read(directory: String, tag: String?) throws -> BaseImage {
        let indexPath = directory + "/index.json"
        guard FileManager.default.fileExists(atPath: indexPath) else {
            throw Failure(.missingInput, "base oci:\(directory) is not an OCI image layout (no index.json); check the path")
        }
        let index = try CanonicalJSON.decode(Index.self, from: try FileReader.readSmallFile(indexPath), source: indexPath)
        let chosen = try ManifestSelection.byTag(index.manifests, tag: tag, location: "oci:\(directory)")
        let blobs = BlobLookup(adopt: adoptBlobs) { digest in "\(directory)/blobs/\(digest.algorithm)/\(digest.encoded)" }
        return try ManifestSelection(store: store, platform: platform, blobs: blobs)
            .load(chosen, location: "oci:\(directory)" + (tag.map { ":\($0)" } ?? ""))
    }
}

/// Finds a blob file by digest in some source (a layout directory, an unpacked archive).
struct BlobLookup {
    /// Whether the files may be moved into the store rather than copied.
    let adopt: Bool
    let path: (Digest) -> String
}

/// Picks the manifest a base reference means and copies what it needs into the store.
public struct ManifestSelection {
    let store: ContentStore
    let platform: Platform
    let blobs: BlobLookup

    /// The manifest named `tag` in an index, or its only manifest when no tag is given.
    public static func byTag(_ manifests: [Descriptor], tag: String?, location: String) throws -> Descriptor {
        let tags = manifests.compactMap { $0.annotations?[AnnotationKey.refName] }
        if let tag {
            guard let found = manifests.last(where: { $0.annotations?[AnnotationKey.refName] == tag }) else {
                let known = tags.isEmpty ? "it has no tags" : "its tags: \(tags.joined(separator: ", "))"
                throw Failure(.missingInput, "base \(location) has no tag '\(tag)' (\(known)); name an existing tag")
            }
            return found
        }
        guard manifests.count == 1, let only = manifests.first else {
            let known = tags.isEmpty ? "" : " (tags: \(tags.joined(separator: ", ")))"
            throw Failure(.usage, "base \(location) holds \(manifests.count) images\(known); name one with :TAG")
        }
        return only
    }

    /// Copies the manifest (resolving an index to this build's platform), config and
    /// layers into the store, verifying each against its digest.
    func load(_ descriptor: Descriptor, location: String) throws -> BaseImage {
        try copy(descriptor)
        let bytes = try store.read(descriptor.digest)
        let kind = try CanonicalJSON.decode(ManifestKind.self, from: bytes, source: "manifest \(descriptor.digest)")
        if kind.isIndex {
            let index = try CanonicalJSON.decode(Index.self, from: bytes, source: "index \(descriptor.digest)")
            let candidates = index.manifests.filter { MediaType.isManifest($0.mediaType) }
            guard let match = candidates.first(where: { $0.platform?.satisfies(platform) ?? false }) else {
                let offered = candidates.compactMap { $0.platform?.description }.joined(separator: ", ")
                throw Failure(.missingInput, "base \(location) has no image for \(platform) (it has: \(offered.isEmpty ? "none" : offered)); choose another base or --platform")
            }
            return try load(match, location: location)
        }
        let manifest = try CanonicalJSON.decode(Manifest.self, from: bytes, source: "manifest \(descriptor.digest)")
        try copy(manifest.config)
        let config = try CanonicalJSON.decode(ImageConfig.self, from: try store.read(manifest.config.digest),
                                              source: "config \(manifest.config.digest)")
        guard config.rootfs.diffIDs.count == manifest.layers.count else {
            throw Failure(.invalidInput, "base \(location): config lists \(config.rootfs.diffIDs.count) diff_ids for \(manifest.layers.count) layers; the image is corrupt")
        }
        var layers: [LayerBlob] = []
        for (layer, diffID) in zip(manifest.layers, config.rootfs.diffIDs) {
            try copy(layer)
            var ociLayer = layer
            ociLayer.mediaType = MediaType.ociLayerType(for: layer.mediaType)
            layers.append(LayerBlob(descriptor: ociLayer, diffID: diffID, uncompressedSize: -1))
        }
        return BaseImage(config: config, layers: layers, name: nil, digest: descriptor.digest)
    }

    private func copy(_ descriptor: Descriptor) throws {
        if store.contains(descriptor.digest) { return }
        let path = blobs.path(descriptor.digest)
        guard FileManager.default.fileExists(atPath: path) else {
            throw Failure(.missingInput, "blob \(descriptor.digest) is missing from \(path); the base image is incomplete")
        }
        if blobs.adopt {
            try store.adopt(file: path, expected: descriptor)
        } else {
            try store.ingest(file: path, expected: descriptor)
        }
    }
}
