import Foundation
import OCI
import ByteStreams
import ContentStore
import Layering

/// Remembers which layer blob a set of unchanged inputs produced, so a rebuild
/// does not re-read or re-compress them. The key covers everything that shapes
/// the tar: image paths, types, modes, owners, link targets, each source file's
/// size, mtime and inode, and the settings; a hit counts only if the blob is
/// still in the store. Entries live in `<store>/cache/layers/<key>.json`.
struct LayerCache {
    let store: ContentStore
    let enabled: Bool

    static let version = "gantry-layer-cache-v1"

    func key(for fileSet: FileSet, settings: LayerSettings) -> String {
        var text = "\(Self.version)\n\(settings.compression)\n\(settings.mtime)\n"
        for entry in fileSet.entries {
            text += "\(entry.path)\t\(entry.kind)\t\(entry.mode)\t\(entry.uid):\(entry.gid)\t\(entry.fingerprint)\n"
        }
        return Digest(sha256: SHA256Hasher.hash(Array(text.utf8))).encoded
    }

    /// For a rootfs tarball: its path, size, mtime and inode.
    func key(forTarball path: String, settings: LayerSettings) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let text = "\(Self.version)\nrootfs\n\(path)\n\(info.st_dev):\(info.st_ino)|\(info.st_size)|\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)\n\(settings.compression)"
        return Digest(sha256: SHA256Hasher.hash(Array(text.utf8))).encoded
    }

    func lookup(_ key: String) -> LayerBlob? {
        guard enabled, let bytes = try? FileReader.readSmallFile(path(key)),
              let blob = try? JSONDecoder().decode(LayerBlob.self, from: Data(bytes)),
              // Cheap checks only (existence and size); every later read of the blob hashes it.
              store.size(of: blob.descriptor.digest) == blob.descriptor.size else { return nil }
        // Its modification time is when it was last used: what `gantry store prune --older-than` reads.
        utimes(path(key), nil)
        return blob
    }

    func remember(_ blob: LayerBlob, for key: String) {
        guard let bytes = try? CanonicalJSON.encode(blob) else { return }
        try? FileManager.default.createDirectory(atPath: store.root + "/cache/layers", withIntermediateDirectories: true)
        // A cache entry that fails to write only costs a rebuild next time.
        try? AtomicFile.write(bytes, to: path(key))
    }

    private func path(_ key: String) -> String { "\(store.root)/cache/layers/\(key).json" }
}
