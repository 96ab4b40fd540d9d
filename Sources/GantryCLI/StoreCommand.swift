import FoundationEssentials
import Glibc
import ArgumentParser
import OCI
import ContentStore
import ByteStreams
import Diagnostics
import SystemSupport

/// `gantry store ls|check|prune`: see and reclaim what the content store holds.
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Show, verify and prune the content store.",
        subcommands: [ListStoreCommand.self, CheckStoreCommand.self, PruneStoreCommand.self])
}

struct ListStoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List the store's images, tags, sizes, caches and leftovers.")

    @OptionGroup var store: StoreOptions

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let store = try self.store.openForInspection()
        let inventory = try StoreInventory(store: store)
        let tagged = inventory.tagged
        let cached = inventory.caches.reduce(into: Set<Digest>()) { $0.formUnion($1.digests) }
        let unreferenced = inventory.blobs.values.filter { !tagged.contains($0.digest) && !cached.contains($0.digest) }
        if json {
            let document: [String: JSONValue] = [
                "store": .string(store.root),
                "images": .array(inventory.tags.map { tag in
                    .object(["tag": .string(tag.name), "digest": .string(tag.descriptor.digest.description),
                             "size": .integer(size(of: tag.closure, in: inventory)),
                             "missing": .array(tag.missing.sorted().map { .string($0.description) }),
                             "inRegistry": .array(tag.remote.sorted().map { .string($0.description) })])
                }),
                "caches": .array(inventory.caches.map { entry in
                    .object(["kind": .string(entry.kind), "path": .string(entry.path), "size": .integer(entry.size),
                             "lastUsed": .string(rfc3339(secondsSince1970: Int64(entry.modified.timeIntervalSince1970.rounded(.down)))),
                             "blobs": .array(entry.digests.sorted().map { .string($0.description) })])
                }),
                "blobs": .object(["count": .integer(Int64(inventory.blobs.count)), "bytes": .integer(inventory.blobBytes),
                                  "unreferenced": .integer(Int64(unreferenced.count)),
                                  "unreferencedBytes": .integer(unreferenced.reduce(0) { $0 + $1.size })]),
                "leftovers": .array(inventory.leftovers.map { .object(["kind": .string($0.kind.rawValue), "path": .string($0.path), "size": .integer($0.size)]) }),
                "totalBytes": .integer(inventory.totalBytes),
            ]
            print(String(decoding: try CanonicalJSON.encode(JSONValue.object(document)), as: UTF8.self))
            return
        }
        print("store  \(store.root)")
        print("images")
        if inventory.tags.isEmpty { print("  (none)") }
        for tag in inventory.tags.sorted(by: { $0.name < $1.name }) {
            var note = tag.missing.isEmpty ? "" : "  (\(tag.missing.count) blob(s) missing: run 'gantry store check')"
            if !tag.remote.isEmpty { note += "  (\(tag.remote.count) layer(s) left in the registry)" }
            print("  \(pad(tag.name, 32)) \(tag.descriptor.digest.short)  \(pad(ByteCount.format(size(of: tag.closure, in: inventory)), 10))\(note)")
        }
        print("caches")
        let kinds = Dictionary(grouping: inventory.caches, by: \.kind)
        if kinds.isEmpty { print("  (none)") }
        for kind in kinds.keys.sorted() {
            let entries = kinds[kind] ?? []
            let bytes = entries.reduce(Int64(0)) { total, entry in
                total + (entry.isDirectory ? entry.size : entry.digests.compactMap { inventory.blobs[$0]?.size }.reduce(0, +))
            }
            print("  \(pad(kind, 10)) \(pad("\(entries.count) entr\(entries.count == 1 ? "y" : "ies")", 12)) \(ByteCount.format(bytes))")
        }
        print("blobs  \(inventory.blobs.count) (\(ByteCount.format(inventory.blobBytes))), \(unreferenced.count) unreferenced (\(ByteCount.format(unreferenced.reduce(0) { $0 + $1.size })))")
        for kind in [StoreInventory.Leftover.Kind.ingest, .quarantine, .temporary] {
            let items = inventory.leftovers.filter { $0.kind == kind }
            guard !items.isEmpty else { continue }
            let what = kind == .ingest ? "abandoned ingest files" : kind == .quarantine ? "quarantined blobs" : "stray temp files"
            print("\(pad(kind.rawValue, 6)) \(items.count) \(what) (\(ByteCount.format(items.reduce(0) { $0 + $1.size })))")
        }
        print("total  \(ByteCount.format(inventory.totalBytes)); 'gantry store prune' removes what no tag or cache entry needs")
    }

    private func size(of digests: Set<Digest>, in inventory: StoreInventory) -> Int64 {
        digests.compactMap { inventory.blobs[$0]?.size }.reduce(0, +)
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

struct CheckStoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Hash every blob; move damaged ones to quarantine/ and report images that lack blobs.",
        discussion: "Exits 0 when the store is sound, 65 when a blob was damaged or an image is incomplete.")

    @OptionGroup var store: StoreOptions

    func run() throws {
        let store = try self.store.openForInspection()
        let started = Date()
        let check = try StoreCheck(store: store)
        for (digest, movedTo) in check.damaged {
            print("damaged  \(digest)  moved to \(movedTo ?? "(could not move it)")")
        }
        for (tag, digests) in check.missing {
            print("missing  \(tag): \(digests.map(\.short).joined(separator: ", "))")
        }
        let seconds = cFormat("%.1f", Date().timeIntervalSince(started))
        print("checked \(check.checkedBlobs) blobs (\(ByteCount.format(check.checkedBytes))) in \(seconds)s: \(check.damaged.count) damaged, \(check.missing.count) incomplete image(s)")
        guard check.isHealthy else {
            throw Failure(.invalidInput, "the store \(store.root) has \(check.damaged.count) damaged blob(s) and \(check.missing.count) incomplete image(s); damaged blobs were moved to \(store.quarantineDirectory) and the next build recreates them (pulled bases are pulled again)")
        }
    }
}

struct PruneStoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove what no tag needs: unreferenced blobs, abandoned and quarantined files, and (with flags) old cache entries.",
        discussion: """
        Tagged images (gantry:last-build, --tag names) are always kept. Blobs that a cache entry names are kept
        unless --older-than or --keep-storage lets that entry go. Waits for other gantry processes using the store.
        """)

    @OptionGroup var store: StoreOptions

    @Option(help: "Also remove cache entries not used for this long: 90s, 30m, 12h, 7d.")
    var olderThan: String?

    @Option(help: "Also remove least recently used cache entries until the store is at most this size: 500MB, 10GiB.")
    var keepStorage: String?

    @Flag(help: "Show what would be removed, and remove nothing.")
    var dryRun = false

    func run() throws {
        let age = try olderThan.map { try Self.duration($0) }
        let limit = try keepStorage.map { try Self.size($0) }
        let store = try self.store.openUnlocked()
        let plan = try store.withExclusiveLock(waiting: {
            StandardError.write("prune: waiting for other gantry processes using \(store.root) to finish\n")
        }) {
            let plan = StorePrunePlan(inventory: try StoreInventory(store: store), olderThan: age, keepStorage: limit)
            if !dryRun { try plan.apply(to: store) }
            return plan
        }
        let verb = dryRun ? "would remove" : "removed"
        for entry in plan.caches { print("\(verb) cache \(entry.kind) \(PathName.lastComponent(of: entry.path))") }
        for leftover in plan.leftovers { print("\(verb) \(leftover.kind.rawValue) \(leftover.path)") }
        print("\(verb) \(plan.blobs.count) blob(s), \(plan.caches.count) cache entr\(plan.caches.count == 1 ? "y" : "ies"), \(plan.leftovers.count) leftover file(s): \(ByteCount.format(plan.bytes))")
    }

    /// `90s`, `30m`, `12h`, `7d`, `2w` (a bare number is seconds).
    static func duration(_ text: String) throws -> TimeInterval {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800]
        let unit = text.last.flatMap { units[$0] }
        guard let value = Double(unit == nil ? text : String(text.dropLast())), value >= 0, value.isFinite else {
            throw Failure(.usage, "--older-than '\(text)' is not a duration; use e.g. 90s, 30m, 12h, 7d")
        }
        return value * (unit ?? 1)
    }

    /// `500MB`, `10GiB`, `2g`, `1048576` (bytes); decimal and binary units.
    static func size(_ text: String) throws -> Int64 {
        let units: [String: Double] = ["": 1, "b": 1, "k": 1e3, "kb": 1e3, "kib": 1024, "m": 1e6, "mb": 1e6, "mib": 1_048_576,
                                       "g": 1e9, "gb": 1e9, "gib": Double(1 << 30), "t": 1e12, "tb": 1e12, "tib": Double(1 << 40)]
        let lowered = text.lowercased().trimmingWhitespace()
        let number = lowered.prefix { $0.isNumber || $0 == "." }
        let suffix = lowered.dropFirst(number.count).trimmingWhitespace()
        guard let value = Double(number), let unit = units[suffix], value * unit < 9e18 else {
            throw Failure(.usage, "--keep-storage '\(text)' is not a size; use e.g. 500MB, 10GiB")
        }
        return Int64(value * unit)
    }
}
