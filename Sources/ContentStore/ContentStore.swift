import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import Diagnostics
import SystemSupport

/// The local image store and build cache: an OCI image layout directory
/// (image-layout.md: `oci-layout`, `index.json`, `blobs/sha256/<hex>`), so any
/// OCI tool can read it (`skopeo inspect oci:STORE:TAG`).
///
/// Blobs arrive through a temp file under `ingest/` and are renamed into place
/// only once complete, synced and digested: a crash never leaves a partial blob
/// under a digest name. Renames are atomic, so concurrent builds sharing a store
/// only need a lock for `index.json` (see `IndexFile`).
public struct ContentStore: BlobStore {
    /// The image layout: `oci-layout`, `index.json`, `blobs/`.
    public let root: String
    /// Where gantry's own state lives — `cache/`, `ingest/`, `uploads/`,
    /// `quarantine/`, `store.lock`: the store itself, or for a user's layout opened
    /// with `init(readingLayout:stateIn:)`, gantry's store, so that nothing is written
    /// into the user's directory.
    public let stateRoot: String
    /// A user's layout, opened to read: blobs are verified but never moved.
    public let isReadOnlyLayout: Bool

    /// `$XDG_CACHE_HOME/gantry`, else `~/.cache/gantry`.
    public static var defaultRoot: String {
        let environment = ProcessInfo.processInfo.environment
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty { return cache + "/gantry" }
        let home = environment["HOME"] ?? PathName.homeDirectory
        return home + "/.cache/gantry"
    }

    /// Opens the store at `root`, creating the layout if it does not exist yet.
    public init(root: String) throws {
        self.root = root
        stateRoot = root
        isReadOnlyLayout = false
        try ContentStore.makeDirectory(root)  // says so when the path is a file
        _ = try OCILayout(creatingAt: root)    // the layout itself: one way to make it
        try ContentStore.makeDirectory(ingestDirectory)
    }

    /// A user's OCI layout (`push --image oci:DIR`, `test oci:DIR`), read in place:
    /// nothing is created or written in it — a layout without write permission can
    /// be pushed — and whatever a command records (pushed blobs, upload journals)
    /// goes to `store`'s state.
    public init(readingLayout directory: String, stateIn store: ContentStore) throws {
        root = try OCILayout(existing: directory).directory

        stateRoot = store.stateRoot
        isReadOnlyLayout = true
    }

    public func blobPath(_ digest: Digest) -> String {
        "\(root)/blobs/\(digest.algorithm)/\(digest.encoded)"
    }

    public func contains(_ digest: Digest) -> Bool {
        FileManager.default.fileExists(atPath: blobPath(digest))
    }

    public func has(_ digest: Digest) -> Bool { contains(digest) }

    public var location: String { isReadOnlyLayout ? "the layout \(root)" : "the store \(root)" }

    /// Starts writing a new blob; see `BlobIngest`.
    public func beginIngest() throws -> BlobIngest {
        try refuseWritesToUserLayout()
        return try BlobIngest(store: self)
    }

    /// Stores a small document (config, manifest) and returns its descriptor.
    @discardableResult
    public func put(_ bytes: [UInt8], mediaType: String) throws -> Descriptor {
        let digest = Digest(sha256: SHA256Hasher.hash(bytes))
        if !contains(digest) {
            let ingest = try beginIngest()
            try ingest.write(bytes)
            try ingest.commit(digest: digest)
        }
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count))
    }

    /// Reads a small blob whole, checking it against its digest.
    public func read(_ digest: Digest) throws -> [UInt8] {
        let path = blobPath(digest)
        guard contains(digest) else {
            throw Failure(.missingInput, "blob \(digest) is not in the store \(root)")
        }
        let bytes = try FileReader.readSmallFile(path)
        let actual = Digest(sha256: SHA256Hasher.hash(bytes))
        guard actual == digest else {
            throw damaged(digest, found: "\(bytes.count) bytes hashing to \(actual.short)")
        }
        markVerified(digest)
        return bytes
    }

    /// Copies a blob from any file into the store, verifying digest and size on the way.
    public func ingest(file path: String, expected: Descriptor) throws {
        if contains(expected.digest) { return }
        _ = try ingest(file: path, mediaType: expected.mediaType) { actual in
            guard actual.digest == expected.digest, actual.size == expected.size else {
                throw Failure(.invalidInput, "\(path) does not match its descriptor (expected \(expected.digest), \(expected.size) bytes; got \(actual.digest), \(actual.size) bytes)")
            }
        }
    }

    /// Copies a file into the store in one pass, hashing it on the way; `accept`
    /// sees the digest and size before the blob is committed and may refuse it
    /// (a pin that does not match), in which case nothing stays behind.
    public func ingest(file path: String, mediaType: String, accept: (Descriptor) throws -> Void = { _ in }) throws -> Descriptor {
        let ingest = try beginIngest()
        defer { ingest.abort() }  // does nothing once committed
        let digesting = DigestingSink(next: ingest)
        try FileReader.forEachChunk(of: path) { try digesting.write($0) }
        let descriptor = Descriptor(mediaType: mediaType, digest: Digest(sha256: digesting.finish()), size: digesting.count)
        try accept(descriptor)
        if contains(descriptor.digest) { return descriptor }
        try ingest.commit(digest: descriptor.digest)
        return descriptor
    }

    /// Copies a blob of another store or layout into this one, verifying it as it is
    /// read (a damaged blob in another store is quarantined there; nothing is committed here).
    public func ingest(_ blob: Descriptor, from source: some BlobStore) throws {
        if contains(blob.digest) { return }
        let ingest = try beginIngest()
        try source.readVerified(blob) { try ingest.write($0) }
        try ingest.commit(digest: blob.digest)
    }

    /// Moves a file on the store's file system into the store after verifying it,
    /// saving a copy (used for blobs unpacked from an archive into `ingest/`).
    public func adopt(file path: String, expected: Descriptor) throws {
        let (sha256, size) = try FileReader.digest(of: path)
        let actual = Digest(sha256: sha256)
        guard actual == expected.digest, size == expected.size else {
            throw Failure(.invalidInput, "\(path) does not match its descriptor (expected \(expected.digest), \(expected.size) bytes; got \(actual), \(size) bytes)")
        }
        try adopt(file: path, hashedAs: expected)
    }

    /// Moves a file into the store under a digest this process computed from the
    /// very bytes it wrote (a download hashed in flight), without reading it again;
    /// only the size is checked. The file must be synced and on the store's file system.
    public func adopt(file path: String, hashedAs blob: Descriptor) throws {
        try refuseWritesToUserLayout()
        var info = stat()
        guard stat(path, &info) == 0 else { throw SystemError.failure("read", path: path) }
        guard Int64(info.st_size) == blob.size else {
            throw Failure(.invalidInput, "\(path) has \(info.st_size) bytes, not the \(blob.size) that were hashed")
        }
        guard rename(path, blobPath(blob.digest)) == 0 else { throw SystemError.failure("store blob", path: blobPath(blob.digest)) }
        markVerified(blob.digest)
    }

    /// A user's layout opened to read is never written (a programming error, reported as one).
    private func refuseWritesToUserLayout() throws {
        guard !isReadOnlyLayout else {
            throw Failure(.cannotCreateOutput, "\(location) is a user's layout opened to read; gantry adds nothing to it")
        }
    }

    public var index: IndexFile { IndexFile(path: root + "/index.json") }

    /// Names a manifest in `index.json` (annotation org.opencontainers.image.ref.name),
    /// replacing whatever had that name.
    public func tag(_ name: String, _ manifest: Descriptor) throws {
        try refuseWritesToUserLayout()
        try index.tag(name, manifest)
    }

    /// Creates the directories above `path` that are missing (0700: they hold a user's caches).
    public static func makeParentDirectories(of path: String) throws {
        let parent = PathName.parent(of: path)
        guard parent != path, parent != "/", PathName.isDirectory(parent) == nil else { return }
        try makeParentDirectories(of: parent)
        guard mkdir(parent, 0o700) == 0 || errno == EEXIST else {
            throw SystemError.failure("create directory", path: parent)
        }
    }

    static func makeDirectory(_ path: String) throws {
        // Symlinks followed: a store root that is a symlink to a directory is fine.
        if let isDirectory = PathName.isDirectory(path) {
            guard isDirectory else {
                throw Failure(.cannotCreateOutput, "store path \(path) exists and is not a directory; choose another --store")
            }
            return
        }
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw SystemError.failure("create directory", path: path)
        }
    }
}

