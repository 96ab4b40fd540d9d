import FoundationEssentials
import Glibc
import CShims
import OCI
import Layering
import ContentStore
import ByteStreams
import Diagnostics
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

    /// Every layer's directory, unpacking those the cache lacks.
    func prepare(_ layers: [Descriptor], blobs: ContentStore) throws -> Prepared {
        var prepared = Prepared(directories: [])
        for (number, layer) in layers.enumerated() {
            // Absolute: the bundle names it through a symlink (a relative --store would not resolve there).
            let directory = PathName.absolute(try cache.cacheDirectory(in: .rootfs, key: layer.digest.encoded))
            if PathName.isDirectory(directory) != true {
                let role = "layer \(number + 1) (\(layer.digest.short))"
                let partial = PathName.parent(of: directory) + "/.\(layer.digest.encoded)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
                let unpacker = try LayerUnpacker(root: partial, whiteouts: .overlay)
                do {
                    prepared.specialFiles += try unpacker.apply(layer: blobs.blobPath(layer.digest), role: role).specialFiles
                } catch {
                    try? unpacker.removeAll()
                    throw error
                }
                // Another run may have made it meanwhile: theirs is as good.
                if rename(partial, directory) != 0 {
                    guard errno == ENOTEMPTY || errno == EEXIST else { throw SystemError.failure("rename into place", path: directory) }
                    try? unpacker.removeAll()
                }
                prepared.unpackedLayers += 1
                prepared.unpackedBytes += layer.size
            }
            utimes(directory, nil)  // its last use, for `gantry store prune`
            prepared.directories.append(directory)
        }
        return prepared
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
