import Foundation
import Testing
import TestSupport
import OCI
import ByteStreams
import ContentStore
import Registry
import Diagnostics
@testable import Images

/// Reading bases from a registry through the source seam (scripted answers).
@Suite struct RegistrySourceTests {
    let scratch: ScratchDirectory
    let store: ContentStore
    init() throws {
        scratch = try ScratchDirectory()
        store = try ContentStore(root: scratch.path + "/store")
    }

    func source(_ registry: ScriptedRegistry, _ reference: String) throws -> RegistrySource {
        RegistrySource(reference: try Reference(parsing: reference),
                       puller: ImagePuller(store: store, session: registry.session, parallelBlobs: 1, observer: nil))
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
        let pulled = try source(registry, "registry.test/library/python:3.12").image(for: Platform(os: "linux", architecture: "arm64"))
        #expect(pulled.digest == image.manifestDescriptor.digest)
        #expect(pulled.name == "registry.test/library/python:3.12")
        #expect(pulled.layers.map(\.descriptor.digest) == [image.layerDescriptor.digest])
        #expect(try store.read(image.layerDescriptor.digest) == image.layer)
        #expect(registry.recordedWaits.count == 2)
    }

    @Test func aPlatformTheIndexLacksIsNamedWithWhatItHas() throws {
        let registry = ScriptedRegistry()
        let image = try TestImage()
        image.serveManifests(registry.transport)
        #expect {
            try source(registry, "registry.test/library/python:3.12").image(for: Platform(os: "linux", architecture: "s390x"))
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
            try source(registry, "registry.test/library/python@\(asked)").image(for: Platform.host)
        } throws: { error in
            (error as? Failure)?.kind == .invalidInput && "\(error)".contains("refusing it")
        }
    }

    @Test func aDigestHeaderThatDisagreesWithTheBytesIsRefused() throws {
        let registry = ScriptedRegistry()
        let image = try TestImage()
        registry.transport.on("GET", "/manifests/latest", reply: .answer(200, headers: ["Docker-Content-Digest": image.indexDigest.description], body: image.manifest))
        #expect(throws: Failure.self) {
            try source(registry, "registry.test/library/python").image(for: Platform.host)
        }
    }

    @Test func aBlobThatKeepsArrivingCorruptFailsAfterTheBudget() throws {
        let registry = ScriptedRegistry(attempts: 3)
        let image = try TestImage()
        image.serveManifests(registry.transport)
        registry.transport.on("GET", "/blobs/\(image.layerDescriptor.digest)", times: 3, reply: .answer(200, body: Array(image.layer.reversed())))
        #expect {
            try source(registry, "registry.test/library/python:3.12").image(for: Platform(os: "linux", architecture: "arm64"))
        } throws: { error in
            "\(error)".contains("arrived as")
        }
        #expect(!store.contains(image.layerDescriptor.digest))
    }
}

