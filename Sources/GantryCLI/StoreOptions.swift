import ArgumentParser
import ContentStore

/// `--store DIR`, shared by every command that reads or writes the content store.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("store"), help: "Content store directory (default: $XDG_CACHE_HOME/gantry or ~/.cache/gantry).")
    var directory: String?

    /// Opens (creating if needed) the store, holding its shared lock until the
    /// process ends, so `gantry store prune` waits instead of deleting under us.
    func open() throws -> ContentStore {
        let store = try openUnlocked()
        try store.holdSharedLock()
        return store
    }

    /// As `open`, for commands that only look at the store: what dead processes
    /// left is shown, not removed (`store ls`, `store check`).
    func openForInspection() throws -> ContentStore {
        let store = try openUnlocked()
        try store.holdSharedLock(cleaning: false)
        return store
    }

    func openUnlocked() throws -> ContentStore {
        if let directory {
            // Made with its parents, as the default one is: `--store $RUNNER_TEMP/a/b`
            // on a fresh agent should just work.
            try ContentStore.makeParentDirectories(of: directory)
            return try ContentStore(root: directory)
        }
        // The XDG base directory spec: a missing ~/.cache is created. A fresh user
        // (a container's, a CI agent's) has none, and failing there helps nobody.
        try ContentStore.makeParentDirectories(of: ContentStore.defaultRoot)
        return try ContentStore(root: ContentStore.defaultRoot)
    }
}
