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

    /// The key of a file set (see `KeyBuilder`), and how many entries the walk
    /// found (the app layer's history names it).
    func key(for fileSet: FileSet, settings: LayerSettings, content: Digest? = nil) throws -> (key: String, entries: Int) {
        var key = KeyBuilder(settings: settings, content: content)
        try fileSet.forEachEntry { key.add($0) }
        return key.finish()
    }

    /// False when no lookup can hit (no records at all, or `--no-cache`): the
    /// build then computes the key from the walk that writes the layer, and the
    /// files are walked once instead of twice (100,000 files: ~0.4 s).
    var mayHit: Bool { enabled && store.hasCacheRecords(in: .layers) }

    /// A layer's key, fed one entry at a time. Bytes go to the hasher through one
    /// reusable buffer: no string per file (building one per entry was a quarter
    /// of a no-change rebuild of 100,000 files), never the whole listing in memory.
    struct KeyBuilder {
        private var bytes = KeyBytes()
        /// `content`: the SHA-256 of a single-file set's file when it is known (the
        /// model), keyed instead of the file's path and stamp, so a touched or moved
        /// model whose bytes are the same still hits.
        private let content: Digest?
        private(set) var entries = 0

        init(settings: LayerSettings, content: Digest?) {
            self.content = content
            bytes.appendText("\(LayerCache.version)\n\(settings.compression)\n\(settings.mtime)\n")
        }

        mutating func add(_ entry: FileEntry) {
            entries += 1
            bytes.appendText(entry.path)
            switch entry.kind {
            case .directory: bytes.appendTag(0x01)
            case .regular(let source):
                bytes.appendTag(0x02)
                bytes.appendText(content?.description ?? source)
            case .symlink(let target): bytes.appendTag(0x03); bytes.appendText(target)
            case .hardlink(let first): bytes.appendTag(0x04); bytes.appendText(first)
            }
            bytes.appendNumber(UInt64(entry.mode))
            bytes.appendNumber(UInt64(entry.uid))
            bytes.appendNumber(UInt64(entry.gid))
            if let stamp = entry.stamp, content == nil {
                bytes.appendNumber(stamp.device)
                bytes.appendNumber(stamp.inode)
                bytes.appendNumber(UInt64(bitPattern: stamp.size))
                bytes.appendNumber(UInt64(bitPattern: Int64(stamp.modifiedSeconds)))
                bytes.appendNumber(UInt64(bitPattern: Int64(stamp.modifiedNanoseconds)))
                bytes.appendNumber(UInt64(stamp.mode))
            } else {
                bytes.appendTag(0x00)
            }
        }

        mutating func finish() -> (key: String, entries: Int) {
            (Digest(sha256: bytes.finish()).encoded, entries)
        }
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
