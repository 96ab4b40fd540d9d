import Foundation
import OCI
import ByteStreams
import ContentStore
import Layering

/// Remembers which layer blob a set of unchanged inputs produced, so a rebuild
/// does not re-read or re-compress them. The key covers everything that shapes
/// the tar: image paths, types, modes, owners, link targets, each source file's
/// size, mtime and inode, and the settings; a hit counts only if the blob is
/// still in the store. Entries are the store's `layers` cache records.
struct LayerCache {
    let store: ContentStore
    let enabled: Bool

    static let version = "gantry-layer-cache-v2"

    func key(for fileSet: FileSet, settings: LayerSettings) -> String {
        // Hashed line by line, never held as one string: 100,000 files would make it
        // tens of MB. Each kind is spelled out (string interpolation of an enum goes
        // through reflection, which cost a third of a no-change rebuild).
        let hasher = SHA256Hasher()
        hasher.update(Array("\(Self.version)\n\(settings.compression)\n\(settings.mtime)\n".utf8))
        for entry in fileSet.entries {
            let kind: String
            switch entry.kind {
            case .directory: kind = "dir"
            case .regular(let source): kind = "file:" + source
            case .symlink(let target): kind = "symlink:" + target
            case .hardlink(let first): kind = "hardlink:" + first
            }
            let line = entry.path + "\t" + kind + "\t" + String(entry.mode) + "\t" + String(entry.uid) + ":" + String(entry.gid)
                + "\t" + entry.fingerprint + "\n"
            hasher.update(Array(line.utf8))
        }
        return Digest(sha256: hasher.finish()).encoded
    }

    /// For a rootfs tarball: its path, size, mtime and inode.
    func key(forTarball path: String, settings: LayerSettings) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let text = "\(Self.version)\nrootfs\n\(path)\n\(info.st_dev):\(info.st_ino)|\(info.st_size)|\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)\n\(settings.compression)"
        return Digest(sha256: SHA256Hasher.hash(Array(text.utf8))).encoded
    }

    func lookup(_ key: String) -> LayerBlob? {
        guard enabled, let blob = store.cacheRecord(LayerBlob.self, in: .layers, key: key),
              // Cheap checks only (existence and size); every later read of the blob hashes it.
              store.size(of: blob.descriptor.digest) == blob.descriptor.size else { return nil }
        // Its modification time is when it was last used: what `gantry store prune --older-than` reads.
        store.touchCacheRecord(in: .layers, key: key)
        return blob
    }

    func remember(_ blob: LayerBlob, for key: String) {
        store.saveCacheRecord(blob, in: .layers, key: key)
    }
}
