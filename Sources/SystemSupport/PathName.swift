import Glibc

/// Splitting file paths into directory and name.
///
/// Foundation's `NSString.deletingLastPathComponent` traps on some short paths
/// (a one-character name, swift-corelibs-foundation 6.3), so gantry does it here.
public enum PathName {
    /// What is at `path`, symlinks followed: nil when nothing is (or it cannot be
    /// looked at), else whether it is a directory.
    public static func isDirectory(_ path: String) -> Bool? {
        var info = stat()
        guard fstatat(AT_FDCWD, path, &info, 0) == 0 else { return nil }
        return info.st_mode & S_IFMT == S_IFDIR
    }

    /// The user's home directory from the password database, for when $HOME is unset.
    public static var homeDirectory: String {
        guard let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir else { return "/" }
        return String(cString: directory)
    }

    /// `a/b/c` → `a/b`; `c` → `.`; `/c` → `/`; trailing slashes are ignored.
    public static func parent(of path: String) -> String {
        let trimmed = trimTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        let parent = trimTrailingSlashes(String(trimmed[..<slash]))
        return parent.isEmpty ? "/" : parent
    }

    /// `a/b/c` → `c`; `c/` → `c`.
    public static func lastComponent(of path: String) -> String {
        let trimmed = trimTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return trimmed }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    /// `path` from the root: relative paths are taken from the working directory
    /// (for keys that must not depend on where gantry was started).
    public static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        guard let cwd = getcwd(nil, 0) else { return path }
        defer { free(cwd) }
        return String(cString: cwd) + "/" + path
    }

    private static func trimTrailingSlashes(_ path: String) -> String {
        var result = Substring(path)
        while result.count > 1, result.hasSuffix("/") { result = result.dropLast() }
        return String(result)
    }
}
