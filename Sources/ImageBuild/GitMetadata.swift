import FoundationEssentials
import Glibc
import ByteStreams
import SystemSupport

/// Source and revision of the recipe's git checkout, for the
/// org.opencontainers.image.source/revision labels. Missing git or a directory
/// outside a checkout simply gives no labels.
struct GitMetadata {
    var source: String?
    var revision: String?

    static func read(directory: String) -> GitMetadata {
        GitMetadata(source: run(["-C", directory, "config", "--get", "remote.origin.url"]).map(withoutCredentials),
                    revision: run(["-C", directory, "rev-parse", "HEAD"]))
    }

    /// `https://user:token@host/repo` → `https://host/repo`: a label must never carry a secret.
    static func withoutCredentials(_ url: String) -> String {
        guard let scheme = url.firstRange(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        let slash = url[scheme.upperBound...].firstIndex(of: "/") ?? url.endIndex
        guard at < slash else { return url }
        return String(url[..<scheme.upperBound]) + url[url.index(after: at)...]
    }

    private static func run(_ arguments: [String]) -> String? {
        guard let result = try? Subprocess("git", arguments).run(), result.status == 0 else { return nil }
        let text = result.output.trimmingWhitespaceAndNewlines()
        return text.isEmpty ? nil : text
    }
}
