import ArgumentParser
import ContentStore

/// `--store DIR`, shared by every command that reads or writes the content store.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("store"), help: "Content store directory (default: $XDG_CACHE_HOME/gantry or ~/.cache/gantry).")
    var directory: String?

    /// Opens (creating if needed) the store.
    func open() throws -> ContentStore {
        try ContentStore(root: directory ?? ContentStore.defaultRoot)
    }
}
