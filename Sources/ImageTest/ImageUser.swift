import Recipes
import Diagnostics

/// The user an image's process runs as: its `User` (`name`, `uid`, `uid:gid`,
/// `name:group`) resolved against the image's own /etc/passwd and /etc/group, as
/// container runtimes do; empty means root.
struct ImageUser: Equatable {
    var uid: UInt32
    var gid: UInt32
    /// From the passwd entry, for HOME when the image sets none.
    var home: String? = nil

    /// `passwd` and `group` are the files' text (nil when the image has none).
    static func resolve(_ text: String?, passwd: String?, group: String?) throws -> ImageUser {
        let users = entries(passwd), groups = entries(group)
        let spec = text ?? ""
        if spec.isEmpty {
            return ImageUser(uid: 0, gid: 0, home: users.first { $0.count > 2 && $0[2] == "0" }.flatMap { $0.count > 5 ? $0[5] : nil } ?? "/root")
        }
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userPart = parts[0]
        let entry: [String]?
        let uid: UInt32
        if let number = UInt32(userPart) {
            uid = number
            entry = users.first { $0.count > 3 && $0[2] == userPart }
        } else {
            guard let found = users.first(where: { $0.first == userPart && $0.count > 3 }), let number = UInt32(found[2]) else {
                throw Failure(.invalidInput, "the image's user '\(userPart)' is not in its /etc/passwd; use a uid (user: \"1000:1000\") or add the user to the base")
            }
            uid = number
            entry = found
        }
        var gid = entry.flatMap { UInt32($0[3]) } ?? 0
        if parts.count == 2 {
            if let number = UInt32(parts[1]) {
                gid = number
            } else {
                guard let found = groups.first(where: { $0.first == parts[1] && $0.count > 2 }), let number = UInt32(found[2]) else {
                    throw Failure(.invalidInput, "the image's group '\(parts[1])' is not in its /etc/group; use a gid (user: \"1000:1000\")")
                }
                gid = number
            }
        }
        return ImageUser(uid: uid, gid: gid, home: entry.flatMap { $0.count > 5 ? $0[5] : nil })
    }

    /// Colon-separated fields of each non-comment line.
    private static func entries(_ text: String?) -> [[String]] {
        (text ?? "").split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
    }
}
