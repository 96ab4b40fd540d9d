import FoundationEssentials
import Glibc
import OCI
import Diagnostics

/// What `gantry store prune` removes, decided from an inventory (so `--dry-run`
/// shows exactly what a real run deletes). Never anything a tag reaches. Always:
/// blobs that no tag and no cache record names, cache records whose blobs are
/// gone, abandoned ingest files, stray temp files and quarantined blobs. Then
/// cache entries unused for longer than `olderThan`, and, while the store is
/// larger than `keepStorage`, the least recently used cache entries (like
/// buildkit's `prune --keep-duration` / `--keep-storage`).
public struct StorePrunePlan: Sendable {
    public var blobs: [StoreInventory.Blob] = []
    public var caches: [StoreInventory.CacheEntry] = []
    public var leftovers: [StoreInventory.Leftover] = []

    public var bytes: Int64 {
        blobs.reduce(0) { $0 + $1.size } + caches.reduce(0) { $0 + $1.size } + leftovers.reduce(0) { $0 + $1.size }
    }

    public init(inventory: StoreInventory, olderThan: TimeInterval? = nil, keepStorage: Int64? = nil, now: Date = Date()) {
        let tagged = inventory.tagged
        var kept: [StoreInventory.CacheEntry] = []
        for entry in inventory.caches {
            let stale = !entry.isDirectory && !entry.digests.isEmpty && !entry.digests.isSubset(of: Set(inventory.blobs.keys))
            let unused = olderThan.map { entry.modified < now.addingTimeInterval(-$0) } ?? false
            if stale || unused { caches.append(entry) } else { kept.append(entry) }
        }
        leftovers = inventory.leftovers

        func referenced(_ entries: [StoreInventory.CacheEntry]) -> Set<Digest> {
            entries.reduce(into: tagged) { $0.formUnion($1.digests) }
        }
        var inUse = referenced(kept)
        if let keepStorage {
            // Least recently used first, until what stays fits.
            kept.sort { $0.modified < $1.modified }
            func remaining() -> Int64 {
                inventory.blobs.values.filter { inUse.contains($0.digest) }.reduce(0) { $0 + $1.size }
                    + kept.filter(\.isDirectory).reduce(0) { $0 + $1.size } + inventory.inProgress
            }
            while remaining() > keepStorage, !kept.isEmpty {
                caches.append(kept.removeFirst())
                inUse = referenced(kept)
            }
        }
        blobs = inventory.blobs.values.filter { !inUse.contains($0.digest) }.sorted { $0.digest < $1.digest }
    }

    /// Deletes what the plan lists. Call with the store's exclusive lock held.
    public func apply(to store: ContentStore) throws {
        for path in caches.map(\.path) + leftovers.map(\.path) where FileManager.default.fileExists(atPath: path) {
            do { try FileManager.default.removeItem(atPath: path) } catch { throw SystemError.failure("remove", path: path) }
        }
        for blob in blobs {
            let path = store.blobPath(blob.digest)
            guard unlink(path) == 0 || errno == ENOENT else { throw SystemError.failure("remove", path: path) }
        }
    }
}
