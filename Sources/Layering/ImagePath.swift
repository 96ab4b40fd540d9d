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
    /// relative, without a `..` component, no NUL, and not a whiteout of `.` or
    /// `..` (`.wh..`, `.wh...`: a reader would remove the directory itself or its
    /// parent). A leading `./` is fine.
    public static func isSafeEntryName(_ name: String) -> Bool {
        if name.isEmpty || name.hasPrefix("/") || name.utf8.contains(0) { return false }
        let parts = name.split(separator: "/", omittingEmptySubsequences: true)
        if parts.contains("..") { return false }
        if let last = parts.last, let hidden = whiteoutTarget(of: last), hidden == "." || hidden == ".." { return false }
        return true
    }

    /// What the last path component `base` hides when it is a whiteout
    /// (image-spec layer.md, "Whiteouts": `.wh.` + the name of one entry of the
    /// same directory), nil when it is not one. The opaque marker `.wh..wh..opq`
    /// is not a whiteout of a name; a bare `.wh.` names nothing ("").
    public static func whiteoutTarget<S: StringProtocol>(of base: S) -> String? {
        guard base.hasPrefix(whiteoutPrefix), base != opaqueMarker else { return nil }
        return String(base.dropFirst(whiteoutPrefix.count))
    }

    public static let whiteoutPrefix = ".wh."
    public static let opaqueMarker = ".wh..wh..opq"

    /// Throws unless `name` is a safe entry name; `role` says where it was found.
    public static func checkEntryName(_ name: String, role: String) throws {
        guard isSafeEntryName(name) else {
            let last = name.split(separator: "/").last.map(String.init) ?? ""
            if let hidden = whiteoutTarget(of: last), hidden == "." || hidden == ".." {
                throw Failure(.invalidInput, "\(role): tar entry '\(name)' is a whiteout of '\(hidden)' (it would remove a directory above the entry); refusing the layer: rebuild it without that entry")
            }
            throw Failure(.invalidInput, "\(role): tar entry '\(name)' is absolute or climbs out with '..'; refusing to use it")
        }
    }
}
