import FoundationEssentials
import Glibc
import OCI
import ByteStreams
import Diagnostics
import SystemSupport

/// `index.json` of an image layout, read and replaced under an exclusive lock so
/// that concurrent builds never lose each other's tags. The lock is flock on the
/// layout's directory itself: a lock file would be left in a user's layout
/// (`--output oci:DIR`), where the image-layout spec names no such file.
public struct IndexFile: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public func read() throws -> Index {
        guard FileManager.default.fileExists(atPath: path) else { return Index(manifests: []) }
        return try CanonicalJSON.decode(Index.self, from: try FileReader.readSmallFile(path), source: path)
    }

    /// Reads, changes and atomically rewrites the index while holding the lock.
    public func update(_ change: (inout Index) throws -> Void) throws {
        let lockPath = PathName.parent(of: path)
        let lock = open(lockPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard lock >= 0 else { throw SystemError.failure("open directory", path: lockPath) }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw SystemError.failure("lock", path: lockPath) }
        }
        defer { flock(lock, LOCK_UN) }
        var index = try read()
        try change(&index)
        try AtomicFile.write(try CanonicalJSON.encode(index), to: path)
    }

    /// Names a manifest (annotation org.opencontainers.image.ref.name), replacing
    /// whatever had that name; its other annotations are kept.
    public func tag(_ name: String, _ manifest: Descriptor) throws {
        try update { index in
            index.manifests.removeAll { $0.annotations?[AnnotationKey.refName] == name }
            var named = manifest
            var annotations = named.annotations ?? [:]
            annotations[AnnotationKey.refName] = name
            named.annotations = annotations
            index.manifests.append(named)
        }
    }

    /// The manifest descriptor named `name`, if any.
    public func find(_ name: String) throws -> Descriptor? {
        try read().manifests.last { $0.annotations?[AnnotationKey.refName] == name }
    }
}
