import Foundation
import Testing
import ByteStreams
import OCI
import Diagnostics
@testable import ContentStore

/// A user's layout through the `BlobStore` protocol: written with only what the
/// image-layout spec names, read without a single change to it.
@Suite struct OCILayoutTests {
    let scratch = NSTemporaryDirectory() + "gantry-layout-" + UUID().uuidString

    init() throws {
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    /// Every path under `directory` with its size and modification time.
    func snapshot(_ directory: String) throws -> [String] {
        let names = FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []
        return try names.sorted().map { name in
            let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/" + name)
            return "\(name) \(attributes[.size] ?? 0) \(attributes[.modificationDate] ?? 0)"
        }
    }

    @Test func aWrittenLayoutHoldsOnlyWhatTheSpecNames() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let store = try ContentStore(root: scratch + "/store")
        let blob = try store.put(Array("layer bytes".utf8), mediaType: "application/octet-stream")
        let layout = try OCILayout(creatingAt: scratch + "/out")
        try layout.link(blob, from: store)
        let document = try layout.put(Array("{}".utf8), mediaType: MediaType.ociManifest)
        try layout.index.tag("v1", document)

        let names = FileManager.default.enumerator(atPath: layout.directory)?.allObjects as? [String] ?? []
        #expect(Set(names) == ["oci-layout", "index.json", "blobs", "blobs/sha256",
                               "blobs/sha256/\(blob.digest.encoded)", "blobs/sha256/\(document.digest.encoded)"])
        #expect(try layout.index.find("v1")?.digest == document.digest)
        // Hard-linked, not copied: one file, two names.
        let linkCount = try FileManager.default.attributesOfItem(atPath: layout.blobPath(blob.digest))[.referenceCount] as? Int
        #expect(linkCount == 2)
    }

    @Test func readingAndPushingFromALayoutChangesNothingInIt() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let layout = try OCILayout(creatingAt: scratch + "/user")
        let blob = try layout.put(Array("model weights".utf8), mediaType: "application/octet-stream")
        let before = try snapshot(layout.directory)

        // Read as push and test read it: verified reads, and a store that takes blobs from it.
        let store = try ContentStore(root: scratch + "/store")
        let reading = try ContentStore(readingLayout: layout.directory, stateIn: store)
        var read: [UInt8] = []
        try reading.readVerified(blob) { read += $0 }
        try store.ingest(blob, from: layout)

        #expect(read == Array("model weights".utf8))
        #expect(store.has(blob.digest))
        #expect(try snapshot(layout.directory) == before)
        #expect(reading.quarantineDirectory.hasPrefix(store.root))
        // A layout opened to read refuses writes instead of leaving gantry's files in it.
        #expect(throws: Failure.self) { try reading.put(Array("x".utf8), mediaType: "text/plain") }
        #expect(try snapshot(layout.directory) == before)
    }

    @Test func aDamagedBlobInALayoutIsRefusedAndLeftWhereItIs() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let layout = try OCILayout(creatingAt: scratch + "/user")
        let blob = try layout.put(Array("original".utf8), mediaType: "application/octet-stream")
        try Array("tampered".utf8).withUnsafeBytes { bytes in
            try #require(FileManager.default.createFile(atPath: layout.blobPath(blob.digest), contents: Data(bytes)))
        }
        let store = try ContentStore(root: scratch + "/store")

        let error = #expect(throws: Failure.self) { try store.ingest(blob, from: layout) }
        #expect(error?.description.contains("does not match its descriptor") == true)
        #expect(!store.has(blob.digest))
        #expect(try ContentStoreTests.ingestFiles(store).isEmpty)
        #expect(layout.has(blob.digest))  // the user's file: reported, never moved

        // The same damage stops an export into another layout, leaving no temp file.
        let out = try OCILayout(creatingAt: scratch + "/out")
        #expect(throws: Failure.self) { try out.link(blob, from: layout) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.directory + "/blobs/sha256").isEmpty)
    }

    @Test func aDirectoryThatIsNotALayoutIsNamed() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let error = #expect(throws: Failure.self) { try OCILayout(existing: scratch) }
        #expect(error?.description.contains("is not an OCI image layout") == true)
    }
}
