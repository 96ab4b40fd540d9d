import Synchronization
import HTTP

/// One session per registry for a whole command (go-containerregistry's Pusher
/// keeps one writer per repository the same way): the credentials are resolved
/// once — a credential helper is a process per lookup — and the tokens obtained
/// by one step (a layer streamed during the build) serve the next (the push, the
/// signature, the referrers). Before, each step made its own session: one
/// `build --push --sign --sbom --provenance` ran the helper 13 times and asked
/// for 15 tokens for 3 scopes.
public final class RegistrySessionPool: Sendable {
    private let sessions = Mutex<[String: RegistrySession]>([:])

    public init() {}

    /// The pool of the command this process runs: every `RegistrySettings` the CLI
    /// makes for it (a build's, then its push's) shares it.
    public static let command = RegistrySessionPool()

    /// The session for `key`, made by `make` the first time (under the lock, so
    /// that threads asking at once resolve the credentials once).
    func session(key: String, make: () throws -> RegistrySession) throws -> RegistrySession {
        try sessions.withLock { sessions in
            if let known = sessions[key] { return known }
            let made = try make()
            sessions[key] = made
            return made
        }
    }

    func replace(key: String, with session: RegistrySession) {
        sessions.withLock { $0[key] = session }
    }
}
