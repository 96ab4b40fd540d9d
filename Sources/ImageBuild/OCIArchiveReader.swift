import Foundation
import Layering
import OCI
import ByteStreams
import ContentStore
import Diagnostics

/// Reads a base image from an OCI archive (a tar of an image layout): blobs are
/// streamed from the tar into the store's ingest area and verified, then the
/// image is selected as from a layout.
struct OCIArchiveReader {
    let store: ContentStore
    let platform: Platform

    func read(file: String) throws -> BaseImage {
        guard FileManager.default.fileExists(atPath: file) else {
            throw Failure(.missingInput, "base oci-archive:\(file) does not exist; check the path")
        }
        // Unpack into a private directory beside the store's ingest files, so that
        // blob selection (index → platform → manifest) works as for a layout.
        let scratch = store.scratchPath(for: .archive)
        try FileManager.default.createDirectory(atPath: scratch + "/blobs/sha256", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try unpack(file, into: scratch)
        // The unpacked blobs are moved into the store, not copied: each is written once.
        return try LayoutReader(store: store, platform: platform, adoptBlobs: true).read(directory: scratch, tag: nil)
    }

    /// Extracts only `index.json` and `blobs/sha256/*` (names checked), nothing else.
    private func unpack(_ file: String, into directory: String) throws {
        let reader = try TarReader(path: file, role: "base oci-archive")
        while let entry = try reader.nextEntry() {
            guard let name = TarReader.path(of: entry), TarReader.fileType(of: entry) == 0o100000 else { continue }
            let isBlob = name.hasPrefix("blobs/sha256/") && (try? Digest("sha256:" + name.dropFirst(13))) != nil
            guard name == "index.json" || isBlob else { continue }
            let sink = try FileDescriptorSink(creating: directory + "/" + name)
            try reader.readData { try sink.write($0) }
            try sink.sync()  // it may be renamed into the store as it is
            try sink.close()
        }
    }
}
