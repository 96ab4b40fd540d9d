import Foundation

/// Bearer tokens per registry and scope until they expire. Shared by the upload
/// threads of one push, hence the lock.
final class TokenCache: @unchecked Sendable {
    private struct Entry { var token: String; var expires: Date }
    private var entries: [String: Entry] = [:]
    private let lock = NSLock()

    func token(for scope: String) -> String? {
        lock.lock(); defer { lock.unlock() }
        guard let entry = entries[scope], entry.expires > Date() else { return nil }
        return entry.token
    }

    /// Keeps a token until a few seconds before it expires (distribution's default lifetime is 60 s).
    func store(_ token: String, for scope: String, lifetime: Double) {
        lock.lock(); defer { lock.unlock() }
        entries[scope] = Entry(token: token, expires: Date().addingTimeInterval(max(1, lifetime - 5)))
    }

    func invalidate(_ scope: String) {
        lock.lock(); defer { lock.unlock() }
        entries[scope] = nil
    }
}
