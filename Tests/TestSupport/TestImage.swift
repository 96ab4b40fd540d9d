import Foundation
import HTTP
import OCI
import ByteStreams

/// A small image served by a scripted registry: an index of two platforms, each a
/// manifest with a config and one layer.
public struct TestImage {
    public let layer: [UInt8]
    public let layerDescriptor: Descriptor
    public let config: [UInt8]
    public let configDescriptor: Descriptor
    public let manifest: [UInt8]
    public let manifestDescriptor: Descriptor
    public let index: [UInt8]
    public let indexDigest: Digest

    public init(platform: Platform = Platform(os: "linux", architecture: "arm64")) throws {
        layer = testBytes(3000, seed: 7)
        layerDescriptor = Descriptor(mediaType: MediaType.ociLayerGzip, digest: Digest(sha256: SHA256Hasher.hash(layer)), size: 3000)
        var imageConfig = ImageConfig(platform: platform)
        imageConfig.rootfs = RootFS(diffIDs: [Digest(sha256: SHA256Hasher.hash(Array("diff".utf8)))])
        config = try CanonicalJSON.encode(imageConfig)
        configDescriptor = Descriptor(mediaType: MediaType.ociConfig, digest: Digest(sha256: SHA256Hasher.hash(config)), size: Int64(config.count))
        manifest = try CanonicalJSON.encode(Manifest(config: configDescriptor, layers: [layerDescriptor]))
        manifestDescriptor = Descriptor(mediaType: MediaType.ociManifest, digest: Digest(sha256: SHA256Hasher.hash(manifest)),
                                        size: Int64(manifest.count), platform: platform)
        let other = Descriptor(mediaType: MediaType.ociManifest, digest: Digest(sha256: SHA256Hasher.hash(Array("other".utf8))), size: 5,
                               platform: Platform(os: "linux", architecture: "amd64"))
        index = try CanonicalJSON.encode(Index(manifests: [other, manifestDescriptor]))
        indexDigest = Digest(sha256: SHA256Hasher.hash(index))
    }

    /// Answers for the index by tag, the arm64 manifest by digest, and the config.
    public func serveManifests(_ transport: ScriptedTransport) {
        transport.on("GET", "/v2/library/python/manifests/3.12", reply: .answer(200, headers: ["Content-Type": MediaType.ociIndex], body: index))
        transport.on("GET", "/v2/library/python/manifests/\(manifestDescriptor.digest)",
                     reply: .answer(200, headers: ["Content-Type": MediaType.ociManifest, "Docker-Content-Digest": manifestDescriptor.digest.description], body: manifest))
        transport.on("GET", "/v2/library/python/blobs/\(configDescriptor.digest)", reply: .answer(200, body: config))
    }
}

