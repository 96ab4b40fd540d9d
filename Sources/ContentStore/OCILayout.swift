import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import Diagnostics
import SystemSupport

/// A user's OCI image layout (`oci:DIR`): `oci-layout`, `index.json` and
/// `blobs/sha256/<hex>`, exactly what the image-layout spec names. Reading one
/// writes nothing into it, so a read-only layout can be pushed or tested. Writing
/// adds each blob through a hidden temp file beside its final name, renamed once
/// complete and verified (removed on any failure), and `index.json` is replaced
/// atomically under a lock on the directory — so a finished layout holds nothing
/// but the spec's files, and gantry's own records stay in its store.
public struct OCILayout: BlobStore {
    public let directory: String

    /// The layout at `directory` as it is, unchecked: for a reader that reads
    /// `index.json` itself (an unpacked archive need not carry `oci-layout`).
    public init(at directory: String) {
        self.directory = directory
    }

    /// The layout at `directory`, which must exist (`oci-layout` and `index.json`).
    public init(existing directory: String) throws {
        guard FileManager.default.fileExists(atPath: directory + "/oci-layout"),
              FileManager.default.fileExists(atPath: directory + "/index.json") else {
            throw Failure(.missingInput, "\(directory) is not an OCI image layout (it needs oci-layout and index.json)")
        }
        self.directory = directory
    }

    /// The layout at `directory`, created (with an empty index) where it is missing.
    public init(creatingAt directory: String) throws {
        self.directory = directory
        for path in [directory, directory + "/blobs", directory + "/blobs/sha256"] {
            guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw SystemError.failure("create directory", path: path) }
        }
        let layoutFile = directory + "/oci-layout"
        if !FileManager.default.fileExists(atPath: layoutFile) {
            try AtomicFile.write(Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: layoutFile)
        }
        if !FileManager.default.fileExists(atPath: directory + "/index.json") {
            try index.update { _ in }
        }
    }

    public var location: String { "the layout \(directory)" }

    public var index: IndexFile { IndexFile(path: directory + "/index.json") }

    public func blobPath(_ digest: Digest) -> String {
        "\(directory)/blobs/\(digest.algorithm)/\(digest.encoded)"
    }

    public func has(_ digest: Digest) -> Bool {
        FileManager.default.fileExists(atPath: blobPath(digest))
    }

    public func readVerified(_ blob: Descriptor, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard has(blob.digest) else {
            throw Failure(.missingInput, "blob \(blob.digest) is missing from \(blobPath(blob.digest)); the image in \(directory) is incomplete")
        }
        let hashing = DigestingSink(next: nil)
        try FileReader.forEachChunk(of: blobPath(blob.digest)) { chunk in
            try hashing.write(chunk)
            try body(chunk)
        }
        let actual = Digest(sha256: hashing.finish())
        guard actual == blob.digest, hashing.count == blob.size || blob.size < 0 else {
            // The user's file: reported, never moved.
            throw Failure(.invalidInput, "blob \(blob.digest) in \(location) does not match its descriptor (expected \(blob.size) bytes, got \(hashing.count) bytes hashing to \(actual.short)); the layout is damaged, write it again")
        }
    }

    /// A layout's blobs are not remembered as verified: someone else may change them.
    public func verify(_ blob: Descriptor) throws {
        try readVerified(blob) { _ in }
    }

    public func ingest(_ blob: Descriptor, from source: some BlobStore) throws {
        if has(blob.digest) { return }
        try AtomicFile.write(to: blobPath(blob.digest)) { sink in
            try source.readVerified(blob) { try sink.write($0) }
        }
    }

    /// Copies a file in as a blob; it must hash to `expected` (checked before it is named).
    public func ingest(file path: String, expected: Descriptor) throws {
        if has(expected.digest) { return }
        try AtomicFile.write(to: blobPath(expected.digest)) { sink in
            let digesting = DigestingSink(next: sink)
            try FileReader.forEachChunk(of: path) { try digesting.write($0) }
            let actual = Digest(sha256: digesting.finish())
            guard actual == expected.digest, digesting.count == expected.size else {
                throw Failure(.invalidInput, "\(path) does not match its descriptor (expected \(expected.digest), \(expected.size) bytes; got \(actual), \(digesting.count) bytes)")
            }
        }
    }

    /// Stores a small document (config, manifest) and returns its descriptor.
    @discardableResult
    public func put(_ bytes: [UInt8], mediaType: String) throws -> Descriptor {
        let descriptor = Descriptor(mediaType: mediaType, digest: Digest(sha256: SHA256Hasher.hash(bytes)), size: Int64(bytes.count))
        if !has(descriptor.digest) { try AtomicFile.write(bytes, to: blobPath(descriptor.digest)) }
        return descriptor
    }
}
