import Foundation
import Testing
import HTTP
import TestSupport
import OCI
import ByteStreams
import ContentStore
import Diagnostics
@testable import Registry

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

    @Test func aSecondPushAsksAboutNoBlobUntilTheRegistryRefusesTheManifest() throws {
        let registry = ScriptedRegistry()
        let reference = try Reference(parsing: "registry.test/team/app:1.0")
        let heads = { registry.trace.filter { $0.hasPrefix("HEAD") }.count }
        registry.transport.on("HEAD", "/blobs/", times: 2, reply: .answer(200))
        registry.transport.on("PUT", "/manifests/", times: 2, reply: .answer(201))
        _ = try pusher(registry).push(manifest: image.manifestDescriptor, to: reference, extraTags: [])
        #expect(heads() == 2)
        // Accepted in a manifest, so remembered: the next push sends no HEAD.
        registry.transport.on("PUT", "/manifests/", times: 2, reply: .answer(201))
        let second = try pusher(registry).push(manifest: image.manifestDescriptor, to: reference, extraTags: [])
        #expect(heads() == 2)
        #expect(second.blobs.map(\.action) == ["present", "present"])
        // The registry lost a blob: the manifest is refused, the records are forgotten, every blob is asked about again.
        let refusal = Array(#"{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry"}]}"#.utf8)
        registry.transport.on("PUT", "/manifests/", reply: .answer(400, body: refusal))
        registry.transport.on("HEAD", "/blobs/", times: 2, reply: .answer(200))
        registry.transport.on("PUT", "/manifests/", times: 2, reply: .answer(201))
        _ = try pusher(registry).push(manifest: image.manifestDescriptor, to: reference, extraTags: [])
        #expect(heads() == 4)
        // Another repository has its own records.
        registry.transport.on("HEAD", "/v2/team/other/blobs/", times: 2, reply: .answer(200))
        registry.transport.on("PUT", "/manifests/", times: 2, reply: .answer(201))
        _ = try pusher(registry).push(manifest: image.manifestDescriptor, to: try Reference(parsing: "registry.test/team/other:1"), extraTags: [])
        #expect(heads() == 6)
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
