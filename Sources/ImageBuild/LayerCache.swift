import FoundationEssentials
import Glibc
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

    static let version = "gantry-layer-cache-v3"

    /// `content`: the SHA-256 of a single-file set's file when it is known (the
    /// model), keyed instead of the file's path and stamp, so a touched or moved
    /// model whose bytes are the same still hits.
    /// Also says how many entries the walk found (the app layer's history names it).
    func key(for fileSet: FileSet, settings: LayerSettings, content: Digest? = nil) throws -> (key: String, entries: Int) {
        // Fed to the hasher as bytes through one reusable buffer: no string per file
        // (building one per entry was a quarter of a no-change rebuild of 100,000 files),
        // and never the whole listing in memory.
        var key = KeyBytes()
        key.appendText("\(Self.version)\n\(settings.compression)\n\(settings.mtime)\n")
        var count = 0
        try fileSet.forEachEntry { entry in
            count += 1
            key.appendText(entry.path)
            switch entry.kind {
            case .directory: key.appendTag(0x01)
            case .regular(let source):
                key.appendTag(0x02)
                if let content {
                    key.appendText(content.description)
                } else {
                    key.appendText(source)
                }
            case .symlink(let target): key.appendTag(0x03); key.appendText(target)
            case .hardlink(let first): key.appendTag(0x04); key.appendText(first)
            }
            key.appendNumber(UInt64(entry.mode))
            key.appendNumber(UInt64(entry.uid))
            key.appendNumber(UInt64(entry.gid))
            if let stamp = entry.stamp, content == nil {
                key.appendNumber(stamp.device)
                key.appendNumber(stamp.inode)
                key.appendNumber(UInt64(bitPattern: stamp.size))
                key.appendNumber(UInt64(bitPattern: Int64(stamp.modifiedSeconds)))
                key.appendNumber(UInt64(bitPattern: Int64(stamp.modifiedNanoseconds)))
                key.appendNumber(UInt64(stamp.mode))
            } else {
                key.appendTag(0x00)
            }
        }
        return (Digest(sha256: key.finish()).encoded, count)
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

/// Bytes for a cache key, hashed in 64 KiB pieces. Strings are ended by a 0 byte
/// (paths cannot contain one), numbers are 8 bytes little-endian: no two listings
/// give the same bytes.
private struct KeyBytes {
    private let hasher = SHA256Hasher()
    private var buffer: [UInt8] = []

    init() { buffer.reserveCapacity(1 << 16) }

    mutating func appendText(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        buffer.append(0)
        flushIfFull()
    }

    mutating func appendTag(_ byte: UInt8) {
        buffer.append(byte)
    }

    mutating func appendNumber(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    private mutating func flushIfFull() {
        guard buffer.count >= 1 << 16 else { return }
        hasher.update(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func finish() -> [UInt8] {
        hasher.update(buffer)
        return hasher.finish()
    }
}
