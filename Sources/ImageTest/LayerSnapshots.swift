import FoundationEssentials
import Glibc
import CShims
import OCI
import Layering
import ContentStore
import ByteStreams
import Diagnostics
import Threads
import SystemSupport

/// Layers unpacked once each into the store (`cache/rootfs/<layer hex>/`, in
/// overlayfs's format: whiteouts as 0/0 character devices, opaque directories
/// marked) and stacked by an overlay mount for each run, with the run's writes
/// in an upper directory of the bundle — as containerd's overlay snapshotter
/// does. A rebuilt app unpacks only its new layer; the base, the dependencies
/// and the model are already there. Root only (mknod, trusted.* attributes,
/// mount); rootless runs unpack in full.
struct LayerSnapshots {
    let cache: ContentStore

    struct Prepared {
        /// Bottom to top.
        var directories: [String]
        var unpackedLayers = 0
        var unpackedBytes: Int64 = 0
        var specialFiles = 0
    }

    /// Every layer's directory, unpacking those the cache lacks: side by side, since
    /// each goes into a directory of its own (the base's ten thousand files need not
    /// wait for nothing; a small app layer is done while the base still unpacks).
    func prepare(_ layers: [Descriptor], blobs: ContentStore) throws -> Prepared {
        // Absolute: the bundle names them through symlinks (a relative --store would not resolve there).
        let directories = try layers.map { PathName.absolute(try cache.cacheDirectory(in: .rootfs, key: $0.digest.encoded)) }
        let missing = layers.indices.filter { PathName.isDirectory(directories[$0]) != true }
        let special = Locked(0)
        let store = blobs
        try WorkerPool.forEach(missing, width: Self.parallelLayers, name: "unpack") { number in
            let found = try Self.unpack(layers[number], number: number, into: directories[number], from: store)
            special.withLock { $0 += found }
        }
        var prepared = Prepared(directories: directories)
        prepared.unpackedLayers = missing.count
        prepared.unpackedBytes = missing.reduce(Int64(0)) { $0 + layers[$1].size }
        prepared.specialFiles = special.value
        for directory in directories { utimes(directory, nil) }  // its last use, for `gantry store prune`
        return prepared
    }

    /// Layers unpacked at once; each also inflates on a thread of its own.
    static let parallelLayers = 2

    /// One layer into a directory beside `directory`, renamed into place once whole;
    /// how many special files it skipped.
    private static func unpack(_ layer: Descriptor, number: Int, into directory: String, from blobs: ContentStore) throws -> Int {
        let role = "layer \(number + 1) (\(layer.digest.short))"
        let partial = PathName.parent(of: directory) + "/.\(layer.digest.encoded)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
        let unpacker = try LayerUnpacker(root: partial, whiteouts: .overlay)
        let special: Int
        do {
            special = try unpacker.apply(layer: blobs.blobPath(layer.digest), role: role).specialFiles
        } catch {
            try? unpacker.removeAll()
            throw error
        }
        // Another run may have made it meanwhile: theirs is as good.
        if rename(partial, directory) != 0 {
            guard errno == ENOTEMPTY || errno == EEXIST else { throw SystemError.failure("rename into place", path: directory) }
            try? unpacker.removeAll()
        }
        return special
    }

    /// Mounts `lower` (bottom to top) at `rootfs`, writes going to `bundle/upper`.
    /// The lower directories are named through short symlinks in the bundle: the
    /// mount options must fit in one page.
    static func mount(_ lower: [String], at rootfs: String, bundle: String) throws {
        for directory in ["l", "upper", "work"] {
            guard mkdir("\(bundle)/\(directory)", 0o755) == 0 else { throw SystemError.failure("create directory", path: "\(bundle)/\(directory)") }
        }
        var names: [String] = []
        for (index, directory) in lower.enumerated() {
            let link = "\(bundle)/l/\(index)"
            guard symlink(directory, link) == 0 else { throw SystemError.failure("create symlink", path: link) }
            names.insert(link, at: 0)  // overlayfs lists the top layer first
        }
        if names.isEmpty {
            guard mkdir("\(bundle)/l/empty", 0o755) == 0 else { throw SystemError.failure("create directory", path: "\(bundle)/l/empty") }
            names = ["\(bundle)/l/empty"]
        }
        let options = "lowerdir=\(names.joined(separator: ":")),upperdir=\(bundle)/upper,workdir=\(bundle)/work"
        guard options.utf8.count < 4000 else {
            throw Failure(.unavailable, "\(lower.count) layers do not fit in one overlay mount's options")
        }
        guard mkdir(rootfs, 0o755) == 0 || errno == EEXIST else { throw SystemError.failure("create directory", path: rootfs) }
        guard gantry_mount_overlay(rootfs, options) == 0 else {
            throw Failure(.unavailable, "cannot mount an overlay at \(rootfs): \(String(cString: strerror(errno)))")
        }
    }
}
