import Foundation
import Testing
import HTTP
import HTTPTesting
import OCI
import ByteStreams
import ContentStore
import Diagnostics
@testable import Registry

/// A small image served by a scripted registry: an index of two platforms, each a
/// manifest with a config and one layer.
struct TestImage {
    let layer: [UInt8]
    let layerDescriptor: Descriptor
    let config: [UInt8]
    let configDescriptor: Descriptor
    let manifest: [UInt8]
    let manifestDescriptor: Descriptor
    let index: [UInt8]
    let indexDigest: Digest

    init(platform: Platform = Platform(os: "linux", architecture: "arm64")) throws {
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
    func serveManifests(_ transport: ScriptedTransport) {
        transport.on("GET", "/v2/library/python/manifests/3.12", reply: .answer(200, headers: ["Content-Type": MediaType.ociIndex], body: index))
        transport.on("GET", "/v2/library/python/manifests/\(manifestDescriptor.digest)",
                     reply: .answer(200, headers: ["Content-Type": MediaType.ociManifest, "Docker-Content-Digest": manifestDescriptor.digest.description], body: manifest))
        transport.on("GET", "/v2/library/python/blobs/\(configDescriptor.digest)", reply: .answer(200, body: config))
    }
}

@Suite struct ImagePullerTests {
    let scratch: ScratchDirectory
    let store: ContentStore
    init() throws {
        scratch = try ScratchDirectory()
        store = try ContentStore(root: scratch.path + "/store")
    }

    func puller(_ registry: ScriptedRegistry) -> ImagePuller {
        ImagePuller(store: store, session: registry.session, parallelBlobs: 1, observer: nil)
    }

    @Test func anIndexResolvesToThePlatformAndACorruptBlobIsFetchedAgain() throws {
        let registry = ScriptedRegistry()
        let image = try TestImage()
        image.serveManifests(registry.transport)
        var spoilt = image.layer
        spoilt[10] ^= 0xFF
        registry.transport.on("GET", "/blobs/\(image.layerDescriptor.digest)", reply: .answer(200, body: spoilt))
        registry.transport.on("GET", "/blobs/\(image.layerDescriptor.digest)", reply: .answer(503))
        registry.transport.on("GET", "/blobs/\(image.layerDescriptor.digest)", reply: .answer(200, body: image.layer))
        let pulled = try puller(registry).pull(try Reference(parsing: "registry.test/library/python:3.12"),
                                               platform: Platform(os: "linux", architecture: "arm64"))
        #expect(pulled.descriptor.digest == image.manifestDescriptor.digest)
        #expect(try store.read(image.layerDescriptor.digest) == image.layer)
        #expect(registry.recordedWaits.count == 2)
    }

    @Test func aPlatformTheIndexLacksIsNamedWithWhatItHas() throws {
        let registry = ScriptedRegistry()
        let image = try TestImage()
        image.serveManifests(registry.transport)
        #expect {
            try puller(registry).pull(try Reference(parsing: "registry.test/library/python:3.12"), platform: Platform(os: "linux", architecture: "s390x"))
        } throws: { error in
            (error as? Failure)?.kind == .missingInput && "\(error)".contains("has no image for linux/s390x (it has: linux/amd64, linux/arm64)")
        }
    }

    @Test func aManifestWhoseBytesDoNotMatchTheDigestAskedForIsRefused() throws {
        let registry = ScriptedRegistry()
        let image = try TestImage()
        let asked = Digest(sha256: SHA256Hasher.hash(Array("something else".utf8)))
        registry.transport.on("GET", "/manifests/\(asked)", reply: .answer(200, headers: ["Content-Type": MediaType.ociManifest], body: image.manifest))
        #expect {
            try puller(registry).pull(try Reference(parsing: "registry.test/library/python@\(asked)"), platform: .host)
        } throws: { error in
            (error as? Failure)?.kind == .invalidInput && "\(error)".contains("refusing it")
        }
    }

    @Test func aDigestHeaderThatDisagreesWithTheBytesIsRefused() throws {
        let registry = ScriptedRegistry()
        let image = try TestImage()
        registry.transport.on("GET", "/manifests/latest", reply: .answer(200, headers: ["Docker-Content-Digest": image.indexDigest.description], body: image.manifest))
        #expect(throws: Failure.self) {
            try puller(registry).pull(try Reference(parsing: "registry.test/library/python"), platform: .host)
        }
    }

    @Test func aBlobThatKeepsArrivingCorruptFailsAfterTheBudget() throws {
        let registry = ScriptedRegistry(attempts: 3)
        let image = try TestImage()
        image.serveManifests(registry.transport)
        registry.transport.on("GET", "/blobs/\(image.layerDescriptor.digest)", times: 3, reply: .answer(200, body: Array(image.layer.reversed())))
        #expect {
            try puller(registry).pull(try Reference(parsing: "registry.test/library/python:3.12"), platform: Platform(os: "linux", architecture: "arm64"))
        } throws: { error in
            "\(error)".contains("arrived as")
        }
        #expect(!store.contains(image.layerDescriptor.digest))
    }
}

@Suite struct ImagePusherTests {
    let scratch: ScratchDirectory
    let store: ContentStore
    let image: TestImage
    init() throws {
        scratch = try ScratchDirectory()
        store = try ContentStore(root: scratch.path + "/store")
        image = try TestImage()
        try store.put(image.layer, mediaType: MediaType.ociLayerGzip)
        try store.put(image.config, mediaType: MediaType.ociConfig)
        try store.put(image.manifest, mediaType: MediaType.ociManifest)
    }

    func pusher(_ registry: ScriptedRegistry) -> ImagePusher {
        var settings = UploadSettings()
        settings.parallelBlobs = 1
        return ImagePusher(store: store, session: registry.session, settings: settings, observer: nil)
    }

    @Test func blobsThenTheManifestByDigestThenEachTag() throws {
        let registry = ScriptedRegistry()
        let manifest = image.manifest
        registry.transport.on("HEAD", "/blobs/", times: 2, reply: .answer(200))
        registry.transport.on("PUT", "/manifests/") { request in
            request.header("Content-Type") == MediaType.ociManifest && request.body == manifest ? .answer(201) : .answer(400)
        }
        registry.transport.on("PUT", "/manifests/", times: 2, reply: .answer(201))
        let result = try pusher(registry).push(manifest: image.manifestDescriptor, to: try Reference(parsing: "registry.test/team/app:1.0"), extraTags: ["latest"])
        #expect(result.reference == "registry.test/team/app@\(image.manifestDescriptor.digest)")
        #expect(result.tags == ["1.0", "latest"])
        #expect(result.blobs.map(\.action) == ["present", "present"])
        #expect(registry.trace.filter { $0.hasPrefix("PUT") } == [
            "PUT /v2/team/app/manifests/\(image.manifestDescriptor.digest)", "PUT /v2/team/app/manifests/1.0", "PUT /v2/team/app/manifests/latest",
        ])
    }

    @Test func aManifestStoredUnderAnotherDigestIsAnError() throws {
        let registry = ScriptedRegistry()
        registry.transport.on("HEAD", "/blobs/", times: 2, reply: .answer(200))
        registry.transport.on("PUT", "/manifests/", reply: .answer(201, headers: ["Docker-Content-Digest": image.indexDigest.description]))
        #expect {
            try pusher(registry).push(manifest: image.manifestDescriptor, to: try Reference(parsing: "registry.test/team/app:1.0"), extraTags: [])
        } throws: { error in
            (error as? Failure)?.kind == .invalidInput && "\(error)".contains("stored the manifest under")
        }
    }

    @Test func aRefusedNameIsAUsageErrorWithTheRegistrysCode() throws {
        let registry = ScriptedRegistry()
        registry.transport.on("HEAD", "/blobs/", times: 2, reply: .answer(200))
        let body = #"{"errors":[{"code":"NAME_INVALID","message":"invalid repository name","detail":{"name":"team/App"}}]}"#
        registry.transport.on("PUT", "/manifests/", reply: .answer(400, body: Array(body.utf8)))
        #expect {
            try pusher(registry).push(manifest: image.manifestDescriptor, to: try Reference(parsing: "registry.test/team/app:1.0"), extraTags: [])
        } throws: { error in
            guard let registryError = error as? RegistryError else { return false }
            return registryError.kind == .usage && registryError.codes == ["NAME_INVALID"] && registryError.status == 400
                && registryError.entries.first?.detail == #"{"name":"team/App"}"#
                && "\(error)".contains("refused the name for manifest")
        }
    }
}

@Suite struct RegistryErrorTests {
    func error(_ status: Int, _ body: String, credentials: Bool = true) -> RegistryError {
        RegistryError(HTTPResponse(status: status, headers: [:], body: Array(body.utf8), url: "https://registry.test/v2/"),
                      operation: "blob sha256:1234 in team/app", registry: "registry.test", hasCredentials: credentials)
    }

    @Test func codesDecideTheExitCodeAndStayInspectable() {
        #expect(error(403, #"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#).kind == .authentication)
        #expect(error(404, #"{"errors":[{"code":"BLOB_UNKNOWN"}]}"#).kind == .missingInput)
        #expect(error(400, #"{"errors":[{"code":"TAG_INVALID"},{"code":"NAME_INVALID"}]}"#).codes == ["TAG_INVALID", "NAME_INVALID"])
        #expect(error(413, "").kind == .invalidInput)
        #expect(error(503, "<html>busy</html>").kind == .unavailable)
        #expect(error(503, "<html>busy</html>").description.contains("(<html>busy</html>)"))
        #expect(error(401, "", credentials: false).description.contains("found no credentials"))
        #expect(error(401, "").description.contains("refused the credentials"))
    }

    @Test func itStaysFindableUnderAWrappingFailure() {
        let wrapped = Failure("pushing team/app", wrapping: error(403, #"{"errors":[{"code":"DENIED"}]}"#))
        #expect(wrapped.kind == .authentication)
        #expect(wrapped.underlying(RegistryError.self)?.codes == ["DENIED"])
    }
}
