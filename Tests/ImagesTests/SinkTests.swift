import Foundation
import Testing
import TestSupport
import OCI
import ContentStore
import Registry
import Diagnostics
@testable import Images

/// A two-platform image (shared layer, one config each) in a store, as an index.
struct TwoPlatformImage {
    let amd64: TestImage
    let arm64: TestImage
    let index: Descriptor

    init(in store: ContentStore) throws {
        amd64 = try TestImage(platform: Platform(os: "linux", architecture: "amd64"))
        arm64 = try TestImage(platform: Platform(os: "linux", architecture: "arm64"))
        for image in [amd64, arm64] {
            try store.put(image.layer, mediaType: image.layerDescriptor.mediaType)
            try store.put(image.config, mediaType: MediaType.ociConfig)
            try store.put(image.manifest, mediaType: MediaType.ociManifest)
        }
        index = try store.put(try CanonicalJSON.encode(Index(manifests: [amd64.manifestDescriptor, arm64.manifestDescriptor])),
                              mediaType: MediaType.ociIndex)
    }
}

@Suite struct SinkTests {
    let scratch: ScratchDirectory
    let store: ContentStore
    let image: TwoPlatformImage

    init() throws {
        scratch = try ScratchDirectory()
        store = try ContentStore(root: scratch.path + "/store")
        image = try TwoPlatformImage(in: store)
    }

    var stored: StoredImage {
        get throws { try StoreSource(store: store, root: image.index, description: "test index").read(platform: nil) }
    }

    @Test func anIndexIsReadWithEveryManifest() throws {
        let read = try stored
        guard case .index(let index) = read else { Issue.record("expected an index"); return }
        #expect(index.manifests.map(\.config.platform.description) == ["linux/amd64", "linux/arm64"])
        // The layer both platforms share is listed once.
        #expect(read.blobs.count == 1 + 2 * 2 + 1)
    }

    @Test func anIndexRoundTripsThroughALayoutAndPicksAPlatform() throws {
        let directory = scratch.path + "/layout"
        let sink = LayoutSink(directory: directory, tag: "multi")
        try sink.checkWritable()
        try sink.write(try stored, from: store)
        let other = try ContentStore(root: scratch.path + "/other")
        let source = LayoutSource(directory: directory, tag: "multi", store: other)
        let whole = try source.read(platform: nil)
        #expect(whole.root.digest == image.index.digest && whole.manifests.count == 2)
        let arm = try source.image(for: Platform(os: "linux", architecture: "arm64", variant: "v8"))
        #expect(arm.digest == image.arm64.manifestDescriptor.digest)
        #expect(arm.config?.platform.architecture == "arm64")
        #expect(throws: Failure.self) { try source.image(for: Platform(os: "linux", architecture: "riscv64")) }
    }

    @Test func anIndexRoundTripsThroughAnOCIArchive() throws {
        let file = scratch.path + "/multi.tar"
        try ArchiveSink(file: file, format: .oci).write(try stored, from: store)
        let other = try ContentStore(root: scratch.path + "/other")
        let read = try OCIArchiveSource(file: file, store: other).read(platform: nil)
        #expect(read.root.digest == image.index.digest)
        #expect(read.blobs.allSatisfy { other.contains($0.digest) })
        // The archive's blobs were moved into the store: no scratch is left.
        #expect(try FileManager.default.contentsOfDirectory(atPath: other.root + "/ingest").isEmpty)
    }

    @Test func aDockerArchiveRefusesAnIndexAndWritesNothing() throws {
        let file = scratch.path + "/multi-docker.tar"
        #expect {
            try ArchiveSink(file: file, format: .docker(nil)).write(try stored, from: store)
        } throws: { error in
            (error as? Failure)?.kind == .usage && "\(error)".contains("a docker-archive holds one platform")
        }
        #expect(!FileManager.default.fileExists(atPath: file))
    }

    @Test func aLayoutThatCannotBeCompletedIsRemoved() throws {
        let directory = scratch.path + "/broken"
        unlink(store.blobPath(image.arm64.configDescriptor.digest))
        #expect(throws: (any Error).self) { try LayoutSink(directory: directory, tag: nil).write(.index(try indexWithoutReading()), from: store) }
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    /// The index's parts as they were put in the store (reading them again would fail on the missing config).
    private func indexWithoutReading() throws -> ImageIndex {
        let index = Index(manifests: [image.amd64.manifestDescriptor, image.arm64.manifestDescriptor])
        let parts = try [image.amd64, image.arm64].map { test in
            ImageManifest(descriptor: test.manifestDescriptor,
                          manifest: try CanonicalJSON.decode(Manifest.self, from: test.manifest, source: "test"),
                          config: try CanonicalJSON.decode(ImageConfig.self, from: test.config, source: "test"))
        }
        return ImageIndex(descriptor: image.index, index: index, manifests: parts)
    }

    /// Blobs first, each manifest by digest, then the index, then the tag.
    @Test func anIndexIsPushedChildrenFirst() throws {
        let registry = ScriptedRegistry()
        registry.transport.on("HEAD", "/blobs/", times: 3, reply: .answer(200))
        registry.transport.on("PUT", "/manifests/", times: 4, reply: .answer(201))
        var settings = RegistrySettings()
        settings.upload.parallelBlobs = 1
        let pusher = ImagePusher(store: store, session: registry.session, settings: settings.upload, observer: nil)
        let result = try pusher.push(manifest: image.index, to: try Reference(parsing: "registry.test/team/app:multi"), extraTags: [])
        #expect(result.digest == image.index.digest && result.blobs.count == 3)
        #expect(registry.trace.filter { $0.hasPrefix("PUT") } == [
            "PUT /v2/team/app/manifests/\(image.amd64.manifestDescriptor.digest)",
            "PUT /v2/team/app/manifests/\(image.arm64.manifestDescriptor.digest)",
            "PUT /v2/team/app/manifests/\(image.index.digest)",
            "PUT /v2/team/app/manifests/multi",
        ])
        let indexPut = registry.transport.log.first { $0.path.hasSuffix(image.index.digest.description) }
        #expect(indexPut?.header("Content-Type") == MediaType.ociIndex)
    }
}
