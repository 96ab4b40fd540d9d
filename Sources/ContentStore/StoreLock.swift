import FoundationEssentials
import Glibc
import Synchronization
import Diagnostics

/// `<store>/store.lock`: every gantry process that uses a store holds a shared
/// flock on it for as long as it runs; `gantry store prune` takes it exclusively,
/// so it never deletes a blob that a running build has written but not yet tagged.
/// The kernel drops the lock when a process exits, however it exits (kill -9 too).
extension ContentStore {
    private static let heldLocks = Mutex<[String: Int32]>([:])

    var lockPath: String { stateRoot + "/store.lock" }

    /// Takes the shared lock for the rest of this process (idempotent). Commands
    /// that only look (`store ls`, `store check`) pass `cleaning: false`: they show
    /// abandoned files rather than remove them.
    public func holdSharedLock(cleaning: Bool = true) throws {
        let path = lockPath
        try Self.heldLocks.withLock { held in
            if held[path] != nil { return }
            let descriptor = try ContentStore.openLock(path)
            // Alone with the store (the exclusive lock is free at once): whatever
            // `ingest/` holds was left by a process that died mid-write (kill -9, a
            // crash, a full disk), so it goes now rather than at the next prune. The
            // lock, not the PIDs in the names, is what proves nobody writes there: a
            // gantry in another PID namespace sharing the store holds the lock too.
            if cleaning, flock(descriptor, LOCK_EX | LOCK_NB) == 0 {
                removeAbandonedScratch()
            }
            while flock(descriptor, LOCK_SH) != 0 {
                guard errno == EINTR else { close(descriptor); throw SystemError.failure("lock", path: path) }
            }
            held[path] = descriptor
        }
    }

    /// Abandoned ingest files and temp files of atomic writes (never quarantined
    /// blobs: those are kept for `gantry store check` and prune). Best effort.
    private func removeAbandonedScratch() {
        var inProgress: Int64 = 0
        for leftover in StoreInventory.leftovers(store: self, inProgress: &inProgress) where leftover.kind != .quarantine {
            try? FileManager.default.removeItem(atPath: leftover.path)
        }
    }

    /// Runs `body` holding the store exclusively. When other gantry processes use the
    /// store, `waiting` is called once, then this waits for them to finish.
    public func withExclusiveLock<T>(waiting: () -> Void, _ body: () throws -> T) throws -> T {
        let path = lockPath
        let descriptor = try ContentStore.openLock(path)
        defer { close(descriptor) }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK else { throw SystemError.failure("lock", path: path) }
            waiting()
            while flock(descriptor, LOCK_EX) != 0 {
                guard errno == EINTR else { throw SystemError.failure("lock", path: path) }
            }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }

    private static func openLock(_ path: String) throws -> Int32 {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw SystemError.failure("create", path: path) }
        return descriptor
    }
}
