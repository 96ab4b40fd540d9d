import Foundation
import CArchive
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
        let scratch = "\(store.root)/ingest/archive-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch + "/blobs/sha256", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try unpack(file, into: scratch)
        // The unpacked blobs are moved into the store, not copied: each is written once.
        return try LayoutReader(store: store, platform: platform, adoptBlobs: true).read(directory: scratch, tag: nil)
    }

    /// Extracts only `index.json` and `blobs/sha256/*` (names checked), nothing else.
    private func unpack(_ file: String, into directory: String) throws {
        let reader = archive_read_new()!
        defer { archive_read_free(reader) }
        archive_read_support_filter_all(reader)
        archive_read_support_format_tar(reader)
        guard archive_read_open_filename(reader, file, 1 << 20) == ARCHIVE_OK else {
            throw Failure(.invalidInput, "base oci-archive:\(file) cannot be opened as a tar: \(ArchiveErrors.message(reader))")
        }
        var entry: OpaquePointer?
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let status = archive_read_next_header(reader, &entry)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry, let cName = archive_entry_pathname(entry) else {
                throw Failure(.invalidInput, "base oci-archive:\(file) is not a readable tar: \(ArchiveErrors.message(reader))")
            }
            var name = String(cString: cName)
            if name.hasPrefix("./") { name.removeFirst(2) }
            let isBlob = name.hasPrefix("blobs/sha256/") && (try? Digest("sha256:" + name.dropFirst(13))) != nil
            guard name == "index.json" || isBlob, archive_entry_filetype(entry) == 0o100000 /* AE_IFREG */ else { continue }
            let sink = try FileDescriptorSink(creating: directory + "/" + name)
            while true {
                let got = archive_read_data(reader, buffer.baseAddress, buffer.count)
                if got == 0 { break }
                guard got > 0 else {
                    throw Failure(.invalidInput, "base oci-archive:\(file) is truncated: \(ArchiveErrors.message(reader))")
                }
                try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
            }
            try sink.sync()  // it may be renamed into the store as it is
            try sink.close()
        }
    }
}

enum ArchiveErrors {
    static func message(_ archive: OpaquePointer) -> String {
        archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
    }
}
