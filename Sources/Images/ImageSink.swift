import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import ContentStore
import Diagnostics
import SystemSupport

/// Where a stored image goes: an OCI layout, an OCI archive, a docker-archive, a
/// registry, or a name in the store. Each takes a single image or an index, and
/// leaves nothing half-written behind when it fails.
public protocol ImageSink {
    /// The location as the user wrote it, for messages.
    var description: String { get }
    /// Checks, before any work, that the image can be written there.
    func checkWritable() throws
    /// Writes the image, whose blobs are all in `store`.
    func write(_ image: StoredImage, from store: ContentStore) throws
}

/// A name in the store's own index (`gantry build --tag`, the last build).
public struct StoreSink: ImageSink {
    public let store: ContentStore
    public let name: String

    public init(store: ContentStore, name: String) {
        self.store = store
        self.name = name
    }

    public var description: String { "\(name) in the store \(store.root)" }
    public func checkWritable() throws {}

    public func write(_ image: StoredImage, from source: ContentStore) throws {
        guard source.root == store.root else {
            throw Failure(.internalFailure, "an image from \(source.root) cannot be tagged in the store \(store.root)")
        }
        try store.tag(name, image.root)
    }
}

/// Checks on output paths shared by the sinks and the commands that write files.
public enum OutputPath {
    /// Fails unless the directory that would hold `path` exists.
    public static func checkParentExists(of path: String, what: String) throws {
        let parent = PathName.parent(of: path)
        guard PathName.isDirectory(parent) == true else {
            throw Failure(.cannotCreateOutput, "\(what): directory \(parent) does not exist; create it first")
        }
    }

    /// Fails unless a file or directory can be created at `path`.
    static func checkCreatable(_ path: String, what: String) throws {
        try checkParentExists(of: path, what: what)
        let parent = PathName.parent(of: path)
        guard access(parent, W_OK | X_OK) == 0 else {
            throw Failure(.cannotCreateOutput, "\(what): directory \(parent) is not writable; choose another place")
        }
    }
}

extension ImageLocation {
    /// The sink for an output location (`--output`); registries are pushed to with
    /// `--push`, and the other locations cannot be written.
    public func sink() throws -> any ImageSink {
        switch self {
        case .ociLayout(let directory, let tag): return LayoutSink(directory: directory, tag: tag)
        case .ociArchive(let file): return ArchiveSink(file: file, format: .oci)
        case .dockerArchive(let file, let reference): return ArchiveSink(file: file, format: .docker(reference))
        case .scratch, .rootfs, .registry:
            throw Failure(.usage, "cannot write an image to \(self); use oci:DIR[:TAG], oci-archive:FILE or docker-archive:FILE[:REPO:TAG], or --push REF for a registry")
        }
    }
}
