import Diagnostics

/// Paths inside an image, checked lexically (no file system is consulted): a layer
/// must never name anything outside the image's root. kaniko's CVE-2022-1998-style
/// escapes and tar "zip slip" entries come from accepting `..` here.
public enum ImagePath {
    /// Normalizes an absolute destination like `/app/./x/../y/` to `/app/y/` (a
    /// trailing `/` is kept: it means "into this directory"). A path that is not
    /// absolute, or whose `..` would climb above `/`, is refused.
    public static func normalizeDestination(_ path: String, what: String = "destination") throws -> String {
        guard path.hasPrefix("/") else {
            throw Failure(.usage, "\(what) '\(path)' must be an absolute path in the image, like /app")
        }
        guard !path.utf8.contains(0) else {
            throw Failure(.usage, "\(what) '\(path)' contains a NUL byte")
        }
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                guard !parts.isEmpty else {
                    throw Failure(.usage, "\(what) '\(path)' leaves the image's root directory through '..'; name a path under /")
                }
                parts.removeLast()
                continue
            }
            parts.append(part)
        }
        let joined = "/" + parts.joined(separator: "/")
        return path.hasSuffix("/") && joined != "/" ? joined + "/" : joined
    }

    /// Whether `name` is safe as a tar entry name (or hard-link target) of a layer:
    /// relative, without a `..` component, no NUL. A leading `./` is fine.
    public static func isSafeEntryName(_ name: String) -> Bool {
        if name.isEmpty || name.hasPrefix("/") || name.utf8.contains(0) { return false }
        return !name.split(separator: "/", omittingEmptySubsequences: true).contains("..")
    }

    /// Throws unless `name` is a safe entry name; `role` says where it was found.
    public static func checkEntryName(_ name: String, role: String) throws {
        guard isSafeEntryName(name) else {
            throw Failure(.invalidInput, "\(role): tar entry '\(name)' is absolute or climbs out with '..'; refusing to use it")
        }
    }
}
