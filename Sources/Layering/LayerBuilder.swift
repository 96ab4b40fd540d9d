import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import Diagnostics

/// What building a layer produced: the blob's descriptor and the digest of its
/// uncompressed tar (the config's `diff_ids` entry).
public struct LayerBlob: Sendable, Hashable, Codable {
    public var descriptor: Descriptor
    public var diffID: Digest
    public var uncompressedSize: Int64

    public init(descriptor: Descriptor, diffID: Digest, uncompressedSize: Int64) {
        self.descriptor = descriptor
        self.diffID = diffID
        self.uncompressedSize = uncompressedSize
    }
}

/// Settings shared by every layer of a build.
public struct LayerSettings: Sendable, Hashable {
    public var compression: Compression
    /// Every entry's mtime: SOURCE_DATE_EPOCH, or 0.
    public var mtime: Int64
    public var threads: Int

    public init(compression: Compression = .default, mtime: Int64 = 0, threads: Int = 1) {
        self.compression = compression
        self.mtime = mtime
        self.threads = threads
    }
}

/// Turns a FileSet into a layer blob in one streaming pass:
/// files → tar (libarchive) → SHA-256 (diffID) → gzip → SHA-256 + size (digest) → `output`.
public enum LayerBuilder {
    /// The buffers of a layer's hashing threads (see `BackgroundDigestingSink`).
    public static let hashBufferSize = 128 << 10

    /// `observe` sees every entry as it goes into the tar (the cache key is made
    /// from the same walk when it was not needed before building); `fileBytes`
    /// gets a copy of every regular file's bytes as they are read (a one-file
    /// model's own digest, from the same read).
    public static func build(_ fileSet: FileSet, settings: LayerSettings, into output: ByteSink,
                             reportSkipped: Bool = false, fileBytes: ByteSink? = nil,
                             observe: ((FileEntry) -> Void)? = nil) throws -> LayerBlob {
        try stream(settings: settings, into: output) { tar in
            try fileSet.forEachEntry(reportSkipped: reportSkipped) { entry in
                observe?(entry)
                try write(entry, to: tar, mtime: settings.mtime, copyingBytesTo: fileBytes)
            }
        }
    }

    /// Runs `produce` against a tar writer whose bytes flow through the hashing
    /// and compression chain into `output`.
    public static func stream(settings: LayerSettings, into output: ByteSink,
                              _ produce: (TarWriter) throws -> Void) throws -> LayerBlob {
        // Both SHA-256s run on threads of their own: on the building thread they were
        // two thirds of a big layer's CPU time, which the upload then waited for.
        let blobDigest = try BackgroundDigestingSink(next: output, bufferSize: hashBufferSize)
        let compressor = try settings.compression.sink(threads: settings.threads, next: blobDigest)
        let tarDigest = try BackgroundDigestingSink(next: compressor ?? blobDigest, bufferSize: hashBufferSize)
        let tar = try TarWriter(sink: tarDigest)
        try produce(tar)
        try tar.finish()
        try compressor?.finish()
        let diffID = Digest(sha256: tarDigest.finish())
        let digest = compressor == nil ? diffID : Digest(sha256: blobDigest.finish())
        let descriptor = Descriptor(mediaType: settings.compression.mediaType, digest: digest, size: blobDigest.count)
        return LayerBlob(descriptor: descriptor, diffID: diffID, uncompressedSize: tarDigest.count)
    }

    /// One entry into the tar, a regular file's bytes read from its source path.
    public static func write(_ entry: FileEntry, to tar: TarWriter, mtime: Int64, copyingBytesTo copy: ByteSink? = nil) throws {
        switch entry.kind {
        case .directory:
            try tar.writeHeader(path: entry.path, type: .directory, size: 0, mode: entry.mode,
                                uid: entry.uid, gid: entry.gid, mtime: mtime)
        case .symlink(let target):
            try tar.writeHeader(path: entry.path, type: .symlink(target), size: 0, mode: entry.mode,
                                uid: entry.uid, gid: entry.gid, mtime: mtime)
        case .hardlink(let target):
            try tar.writeHeader(path: entry.path, type: .hardlink(target), size: 0, mode: entry.mode,
                                uid: entry.uid, gid: entry.gid, mtime: mtime)
        case .regular(let source):
            try tar.writeHeader(path: entry.path, type: .regular, size: entry.size, mode: entry.mode,
                                uid: entry.uid, gid: entry.gid, mtime: mtime)
            var copied: Int64 = 0
            try FileReader.forEachChunk(of: source) { chunk in
                // Never write past the size in the header: that would corrupt the tar.
                let room = Int(min(Int64(chunk.count), entry.size - copied))
                if room < chunk.count {
                    throw Failure(.invalidInput, "\(source) grew while the layer was being built; build again once it is stable")
                }
                try tar.writeData(chunk)
                try copy?.write(chunk)
                copied += Int64(chunk.count)
            }
            guard copied == entry.size else {
                throw Failure(.invalidInput, "\(source) shrank while the layer was being built (\(copied) of \(entry.size) bytes); build again once it is stable")
            }
        }
    }
}
