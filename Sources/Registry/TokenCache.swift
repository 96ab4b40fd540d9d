import FoundationEssentials
import Glibc
import Synchronization

/// Bearer tokens per registry and scope until they expire. Shared by the upload
/// threads of one push.
final class TokenCache: Sendable {
    private struct Entry { var token: String; var expires: Date }
    private let entries = Mutex<[String: Entry]>([:])

    func token(for scope: String) -> String? {
        entries.withLock { entries in
            guard let entry = entries[scope], entry.expires > Date() else { return nil }
            return entry.token
        }
    }

    /// Keeps a token until a few seconds before it expires (distribution's default lifetime is 60 s).
    func store(_ token: String, for scope: String, lifetime: Double) {
        let entry = Entry(token: token, expires: Date().addingTimeInterval(max(1, lifetime - 5)))
        entries.withLock { $0[scope] = entry }
    }

    func invalidate(_ scope: String) {
        entries.withLock { $0[scope] = nil }
    }
}
