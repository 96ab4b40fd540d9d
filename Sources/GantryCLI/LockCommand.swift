import FoundationEssentials
import ArgumentParser
import ImageBuild
import Locking
import ContentStore
import ByteStreams
import SystemSupport
import Diagnostics

/// `gantry lock`: writes gantry.lock beside the recipe — each platform's base by
/// digest, the OS packages and Python wheels, the model files, with their SHA-256s —
/// and prints what moved since the last one; an existing lock changes only with
/// `--update…`; `--check` only compares (for CI: exit 1 when stale).
struct LockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Pin the build's inputs in gantry.lock (base digests, OS packages, Python wheels, model files) and show what moved.",
        discussion: "Takes the flags of 'gantry build' for the recipe, base and platforms. 'gantry build --locked' builds what the lock names.")

    @OptionGroup var image: BuildOptions
    @OptionGroup var store: StoreOptions
    @OptionGroup var registry: RegistryOptions

    @Flag(help: "Compare with the existing gantry.lock and write nothing; exit 1 when it is stale, listing what moved.")
    var check = false

    @Option(name: .customLong("update"), parsing: .upToNextOption,
            help: "Take only these moves: 'base', 'python', 'packages', 'model', or one name (a wheel, an OS package, a model); every other pin is kept.")
    var updates: [String] = []

    @Flag(name: .customLong("update-all"), help: "Take every input that moved.")
    var updateAll = false

    func run() throws {
        var request = try image.makeRequest()
        request.registry = try registry.settings()
        let path = Self.path(besideRecipe: image.recipePath)
        let existing = try Self.read(path)
        let fresh = try Builder(store: try store.open()).lock(request)
        guard let existing else {
            if check { throw Failure(.missingInput, "\(path) does not exist; run 'gantry lock' and commit it") }
            try AtomicFile.write(Array(try fresh.text().utf8), to: path)
            StandardError.write("wrote \(path)\n")
            return
        }
        let moved = LockDiff.changes(from: existing, to: fresh)
        if check {
            guard moved.isEmpty else {
                for line in moved { print(line) }
                throw Failure(.checksFailed, "\(path) is stale: \(moved.count) input\(moved.count == 1 ? "" : "s") moved since it was written; take them with 'gantry lock --update-all' (or --update python, base, packages, model, NAME) and review the difference")
            }
            StandardError.write("\(path) is current\n")
            return
        }
        guard !moved.isEmpty else { StandardError.write("\(path) is current\n"); return }
        guard updateAll || !updates.isEmpty else {
            for line in moved { print(line) }
            throw Failure(.checksFailed, "\(path) exists and \(moved.count) input\(moved.count == 1 ? "" : "s") moved; take them with 'gantry lock --update-all' or --update KIND|NAME (base, python, packages, model, or a name)")
        }
        let merged = updateAll ? fresh : LockUpdate.merge(old: existing, new: fresh, taking: updates)
        let changes = LockDiff.changes(from: existing, to: merged)
        for line in changes { print(line) }
        try AtomicFile.write(Array(try merged.text().utf8), to: path)
        let left = LockDiff.changes(from: merged, to: fresh).count
        StandardError.write("updated \(path): \(changes.count) change\(changes.count == 1 ? "" : "s")" + (left > 0 ? "; \(left) other move\(left == 1 ? "" : "s") not taken" : "") + "\n")
    }

    /// gantry.lock beside the recipe (the current directory without one).
    static func path(besideRecipe recipe: String?) -> String {
        PathName.parent(of: recipe ?? "gantry.yaml") + "/gantry.lock"
    }

    /// The lock at `path`, nil when there is none.
    static func read(_ path: String) throws -> LockFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try LockFile(text: String(decoding: try FileReader.readSmallFile(path, limit: 64 << 20), as: UTF8.self), path: path)
    }
}
