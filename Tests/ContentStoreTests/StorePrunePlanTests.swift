import Foundation
import Testing
import ByteStreams
import OCI
@testable import ContentStore
import SystemSupport

/// What prune keeps (issue 22: every layer-cache record was dropped, since the
/// diffID it names is never a blob).
@Suite struct StorePrunePlanTests {
    struct LayerRecord: Codable { var descriptor: Descriptor; var diffID: Digest; var uncompressedSize: Int64 }
    struct FactsRecord: Codable { var layer: Digest }
    struct RemoteRecord: Codable { var registry: String; var repository: String }

    @Test func layerRecordsWhoseBlobIsThereAreKeptAndKeepTheirBlob() throws {
        let store = try ContentStoreTests.makeStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let layer = try store.put(Array("layer bytes".utf8), mediaType: MediaType.ociLayerGzip)
        let diffID = Digest(sha256: SHA256Hasher.hash(Array("the uncompressed tar".utf8)))
        store.saveCacheRecord(LayerRecord(descriptor: layer, diffID: diffID, uncompressedSize: 20), in: .layers, key: "kept")
        let gone = Descriptor(mediaType: MediaType.ociLayerGzip, digest: Digest(sha256: SHA256Hasher.hash(Array("gone".utf8))), size: 4)
        store.saveCacheRecord(LayerRecord(descriptor: gone, diffID: diffID, uncompressedSize: 4), in: .layers, key: "stale")
        // Records about blobs elsewhere (a registry) or about a layer they do not need.
        store.saveCacheRecord(FactsRecord(layer: gone.digest), in: .facts, key: gone.digest.encoded)
        store.saveCacheRecord(RemoteRecord(registry: "r", repository: "x"), in: .remote, key: gone.digest.encoded)

        let plan = StorePrunePlan(inventory: try StoreInventory(store: store))
        let removed = plan.caches.map { PathName.lastComponent(of: $0.path) }
        #expect(removed == ["stale.json"])
        #expect(plan.blobs.isEmpty)  // the kept record keeps its blob
        try plan.apply(to: store)
        #expect(store.contains(layer.digest))
        #expect(store.cacheRecord(LayerRecord.self, in: .layers, key: "kept") != nil)
        #expect(store.cacheRecord(FactsRecord.self, in: .facts, key: gone.digest.encoded) != nil)
    }

    @Test func tagUpdatesLeaveNoLockFileInTheLayout() throws {
        let store = try ContentStoreTests.makeStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let descriptor = try store.put(Array("{}".utf8), mediaType: MediaType.ociManifest)
        try store.tag("a", descriptor)
        let names = try FileManager.default.contentsOfDirectory(atPath: store.root)
        #expect(!names.contains("index.json.lock"), "\(names)")
    }

    @Test func abandonedIngestFilesGoWhenAProcessIsAloneWithTheStore() throws {
        let store = try ContentStoreTests.makeStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        // A PID that cannot be running (above pid_max's ceiling).
        let abandoned = store.root + "/ingest/4194400-00000000.tmp"
        try Data("half a layer".utf8).write(to: URL(fileURLWithPath: abandoned))
        try store.holdSharedLock()
        #expect(!FileManager.default.fileExists(atPath: abandoned))
    }
}
