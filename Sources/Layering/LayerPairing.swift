import OCI
import Diagnostics

extension LayerBlob {
    /// A manifest's layers paired with its config's diff_ids, in order, with media
    /// types in their OCI form (a Docker base's layers are reused as they are, but
    /// described as OCI layers). The uncompressed size is unknown (-1).
    public static func pair(_ manifest: Manifest, with config: ImageConfig, location: String) throws -> [LayerBlob] {
        guard config.rootfs.diffIDs.count == manifest.layers.count else {
            throw Failure(.invalidInput, "\(location): config lists \(config.rootfs.diffIDs.count) diff_ids for \(manifest.layers.count) layers; the image is corrupt")
        }
        return zip(manifest.layers, config.rootfs.diffIDs).map { layer, diffID in
            var oci = layer
            oci.mediaType = MediaType.ociLayerType(for: layer.mediaType)
            return LayerBlob(descriptor: oci, diffID: diffID, uncompressedSize: -1)
        }
    }
}
