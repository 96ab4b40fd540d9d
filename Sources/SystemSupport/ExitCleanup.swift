import FoundationEssentials
import Glibc
import Synchronization

/// Paths a command made for itself and removes when the process exits normally
/// (`exit`, the end of `main`, the signal handlers that call `exit`), whichever
/// code path ends it: a directory of links handed to several steps of a command
/// has no one owner that could remove it. What a killed process leaves is found
/// by the store's own clean-up of abandoned scratch.
public enum ExitCleanup {
    private static let paths = Mutex<[String]>([])
    private static let installed = Mutex(false)

    /// Removes `path` (a file or a whole directory) at exit.
    public static func remove(_ path: String) {
        installed.withLock { done in
            guard !done else { return }
            done = true
            atexit { ExitCleanup.removeAll() }
        }
        paths.withLock { $0.append(path) }
    }

    /// Removes them now (and forgets them): also for tests.
    public static func removeAll() {
        let pending = paths.withLock { paths in
            defer { paths = [] }
            return paths
        }
        for path in pending.reversed() { try? FileManager.default.removeItem(atPath: path) }
    }
}
