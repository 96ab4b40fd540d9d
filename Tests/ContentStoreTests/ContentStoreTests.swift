import Foundation
import Testing
import ByteStreams
import OCI
@testable import ContentStore
import SystemSupport

@Suite struct ContentStoreTests {
    static func makeStore() throws -> ContentStore {
        try ContentStore(root: NSTemporaryDirectory() + "gantry-store-" + UUID().uuidString)
    }

    static func ingestFiles(_ store: ContentStore) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: store.root + "/ingest")
    }

    @Test func createsAnOCILayout() throws {
        let store = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let layout = try String(contentsOfFile: store.root + "/oci-layout", encoding: .utf8)
        #expect(layout == #"{"imageLayoutVersion":"1.0.0"}"#)
        #expect(try store.index.read().manifests.isEmpty)
    }

    @Test func committedBlobLandsUnderItsDigestAndAbortLeavesNothing() throws {
        let store = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let descriptor = try store.put(Array("hello".utf8), mediaType: "text/plain")
        #expect(try store.read(descriptor.digest) == Array("hello".utf8))
        let ingest = try store.beginIngest()
        try ingest.write(Array("partial".utf8))
        ingest.abort()
        #expect(try Self.ingestFiles(store).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root + "/blobs/sha256") == [descriptor.digest.encoded])
    }

    @Test func droppedIngestIsCleanedUp() throws {
        let store = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        do {
            let ingest = try store.beginIngest()
            try ingest.write(Array("never committed".utf8))
        }
        #expect(try Self.ingestFiles(store).isEmpty)
    }

    @Test func ingestOfAFileVerifiesItsDigest() throws {
        let store = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let file = store.root + "/../gantry-blob-" + UUID().uuidString
        try "content".write(toFile: file, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let wrong = Descriptor(mediaType: "x", digest: Digest(sha256: SHA256Hasher.hash(Array("other".utf8))), size: 7)
        #expect(throws: (any Error).self) { try store.ingest(file: file, expected: wrong) }
        #expect(!store.contains(wrong.digest))
        #expect(try Self.ingestFiles(store).isEmpty)
    }

    /// A user's layout read in place: gantry's state goes to its own store (issue 23).
    @Test func aLayoutOpenedForReadingGetsNothingWrittenIntoIt() throws {
        let store = try Self.makeStore(), layout = try Self.makeStore()
        defer { for root in [store.root, layout.root] { try? FileManager.default.removeItem(atPath: root) } }
        let blob = try layout.put(Array("layer".utf8), mediaType: "x")
        try FileManager.default.removeItem(atPath: layout.root + "/ingest")
        let before = try FileManager.default.contentsOfDirectory(atPath: layout.root).sorted()
        let reading = try ContentStore(readingLayout: layout.root, stateIn: store)
        try reading.verify(blob)
        reading.saveCacheRecord(["k": "v"], in: .pushed, key: "record")
        try reading.holdSharedLock()
        #expect(try FileManager.default.contentsOfDirectory(atPath: layout.root).sorted() == before)
        #expect(store.cacheRecord([String: String].self, in: .pushed, key: "record") == ["k": "v"])
        #expect(throws: (any Error).self) { try ContentStore(readingLayout: store.root + "/nowhere", stateIn: store) }
    }

    @Test func concurrentTagUpdatesAreAllKept() throws {
        let store = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let descriptor = try store.put(Array("{}".utf8), mediaType: MediaType.ociManifest)
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            try? store.tag("tag\(index)", descriptor)
        }
        let names = Set(try store.index.read().manifests.compactMap { $0.annotations?[AnnotationKey.refName] })
        #expect(names == Set((0..<16).map { "tag\($0)" }))
    }
}

@Suite struct PathNameTests {
    @Test(arguments: [("l", ".", "l"), ("a/b", "a", "b"), ("/a", "/", "a"), ("a/b/", "a", "b"), ("./x.tar", ".", "x.tar")])
    func splitsPaths(_ path: String, _ parent: String, _ name: String) {
        #expect(PathName.parent(of: path) == parent)
        #expect(PathName.lastComponent(of: path) == name)
    }
}
