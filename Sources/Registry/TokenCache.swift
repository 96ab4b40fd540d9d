import FoundationEssentials
import Glibc
import Synchronization

/// Bearer tokens per registry and scope until they expire. Shared by the upload
/// threads of one push.
final class TokenCache: Sendable {
    private struct Entry { var token: String; var expires: Date }
    private let entries = Mutex<[String: Entry]>([:])

    /// A live token for `scope`: one obtained for it, else one obtained for a scope
    /// that covers it (a `pull,push` token serves a later `pull` of the same repository).
    func token(for scope: String) -> String? {
        entries.withLock { entries in
            let now = Date()
            if let entry = entries[scope], entry.expires > now { return entry.token }
            return entries.first { held, entry in entry.expires > now && Self.scope(held, covers: scope) }?.value.token
        }
    }

    /// Whether every part of `wanted` (space-separated `type:name:actions`) is
    /// granted by a part of `held` naming the same resource with at least its actions.
    static func scope(_ held: String, covers wanted: String) -> Bool {
        func parts(_ text: String) -> [(resource: Substring, actions: Set<Substring>)] {
            text.split(separator: " ").compactMap { part in
                guard let colon = part.lastIndex(of: ":") else { return nil }
                return (part[..<colon], Set(part[part.index(after: colon)...].split(separator: ",")))
            }
        }
        let grants = parts(held)
        let asks = parts(wanted)
        return !asks.isEmpty && asks.allSatisfy { ask in
            grants.contains { $0.resource == ask.resource && ask.actions.isSubset(of: $0.actions) }
        }
    }

    /// Keeps a token until a few seconds before it expires (distribution's default lifetime is 60 s).
    func store(_ token: String, for scope: String, lifetime: Double) {
        let entry = Entry(token: token, expires: Date().addingTimeInterval(max(1, lifetime - 5)))
        entries.withLock { $0[scope] = entry }
    }
}
