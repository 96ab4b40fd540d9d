import FoundationEssentials
import Glibc
import ByteStreams
import Diagnostics
import SystemSupport

/// How the files of a layer are mapped and owned in the image.
public struct FileSetOptions: Sendable, Hashable {
    /// Absolute path in the image: the directory's contents go below it, or a
    /// single file goes to it (into it when it ends with `/`).
    public var destination: String
    /// Patterns added after `.gantryignore`/`.dockerignore`.
    public var ignore: [String]
    public var uid: UInt32
    public var gid: UInt32
    /// Keep symlinks whose target lies outside the source (absolute, or `..` past the root).
    public var allowExternalSymlinks: Bool
    /// Permission bits for every regular file (`COPY --chmod`); nil: 0755 when the
    /// source is executable, else 0644. Directories stay 0755 either way.
    public var fileMode: UInt32?

    public init(destination: String, ignore: [String] = [], uid: UInt32 = 0, gid: UInt32 = 0,
                allowExternalSymlinks: Bool = false, fileMode: UInt32? = nil) {
        self.destination = destination
        self.ignore = ignore
        self.uid = uid
        self.gid = gid
        self.allowExternalSymlinks = allowExternalSymlinks
        self.fileMode = fileMode
    }
}

/// One entry of a layer, already normalized for the tar: image path, type, mode, owner.
public struct FileEntry: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case directory
        case regular(source: String)
        case symlink(target: String)
        /// A second name for a file stored earlier in the same layer.
        case hardlink(to: String)
    }

    /// Path in the image without the leading `/`, e.g. `app/main.py`.
    public var path: String
    public var kind: Kind
    public var size: Int64
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// What the cache compares to decide a file is unchanged (device, inode, size,
    /// mtime, mode), kept as numbers: a string per file is megabytes at 100,000 files.
    public var stamp: FileStamp?
    /// `device:inode` of a regular file with more than one name, else nil.
    public var sharedInode: String? = nil
}

extension FileEntry {
    /// An entry not read from a directory (a .deb's file): no stamp, no shared inode.
    public init(path: String, kind: Kind, size: Int64 = 0, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0) {
        self.init(path: path, kind: kind, size: size, mode: mode, uid: uid, gid: gid, stamp: nil)
    }
}

/// A source file's identity and version as `stat` reports them.
public struct FileStamp: Sendable, Hashable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modifiedSeconds: Int
    public var modifiedNanoseconds: Int
    public var mode: UInt32

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedSeconds = Int(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int(info.st_mtim.tv_nsec)
        mode = UInt32(info.st_mode)
    }
}

/// The files that make one layer: a directory tree (filtered by ignore rules) or
/// a single file, mapped to a destination, listed in byte order of their image
/// paths so the tar is reproducible.
///
/// Streamed: `forEachEntry` walks the source each time it is called and holds
/// only the directory being listed at each depth, never the whole listing, so
/// memory does not grow with the number of files (only with the largest single
/// directory, whose names must be sorted).
public struct FileSet: Sendable {
    public let source: String
    public let options: FileSetOptions
    /// The source's path in the image (without the leading `/`).
    let targetPath: String
    let isDirectory: Bool
    let rules: IgnoreRules

    /// Checks `source` and the destination; the walk happens in `forEachEntry`.
    /// Errors name the offending path; nothing is written.
    public init(source: String, options: FileSetOptions) throws {
        self.source = source
        self.options = options
        let checkedDestination = try ImagePath.normalizeDestination(options.destination, what: "layer destination")
        var info = stat()
        guard stat(source, &info) == 0 else {
            throw Failure(.missingInput, "layer source \(source) does not exist or cannot be read: \(String(cString: strerror(errno)))")
        }
        let destination = FileSet.normalize(checkedDestination)
        isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        if !isDirectory && options.destination.hasSuffix("/") {
            targetPath = FileSet.join(destination, PathName.lastComponent(of: source))
        } else {
            targetPath = destination
        }
        if isDirectory {
            guard access(source, R_OK | X_OK) == 0 else {
                throw SystemError.failure("read directory", path: source)
            }
            rules = try IgnoreRules.load(directory: source, extra: options.ignore)
        } else {
            rules = try IgnoreRules(patterns: [])
        }
    }

    /// Calls `body` with every entry in tar order: the destination's parent
    /// directories, then the tree. Regular files that share an inode are stored
    /// once: the first in order keeps the data, later ones are hard links to it.
    /// `reportSkipped`: warn about sockets, FIFOs and devices (once per build, not
    /// on every walk).
    public func forEachEntry(reportSkipped: Bool = true, _ body: (FileEntry) throws -> Void) throws {
        var firstByInode: [String: String] = [:]
        func emit(_ entry: FileEntry) throws {
            var entry = entry
            if case .regular = entry.kind, let inode = entry.sharedInode {
                if let first = firstByInode[inode] {
                    entry.kind = .hardlink(to: first)
                    entry.size = 0
                } else {
                    firstByInode[inode] = entry.path
                }
            }
            try body(entry)
        }
        let parents = FileSet.parentDirectories(of: targetPath, including: isDirectory)
        for (index, parent) in parents.enumerated() {
            // The source directory itself is owned like its contents; the parents above it by root.
            let owned = isDirectory && index == parents.count - 1
            try emit(FileEntry(path: parent, kind: .directory, size: 0, mode: 0o755,
                               uid: owned ? options.uid : 0, gid: owned ? options.gid : 0, stamp: nil))
        }
        if isDirectory {
            let walker = Walker(root: source, targetRoot: targetPath, rules: rules, options: options, reportSkipped: reportSkipped)
            try walker.walk(relative: "", matches: nil, emit)
        } else {
            let walker = Walker(root: PathName.parent(of: source), targetRoot: "", rules: rules, options: options,
                                reportSkipped: reportSkipped)
            var info = stat()
            guard stat(source, &info) == 0 else { throw SystemError.failure("read", path: source) }
            if let entry = try walker.entry(for: source, relative: PathName.lastComponent(of: source),
                                            imagePath: targetPath, info: info) {
                try emit(entry)
            }
        }
    }

    /// Every entry, in order: for tests and small trees (a build streams them).
    public func entries() throws -> [FileEntry] {
        var entries: [FileEntry] = []
        try forEachEntry { entries.append($0) }
        return entries
    }

    static func normalize(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." && !$0.isEmpty }.joined(separator: "/")
    }

    /// Byte order of the UTF-8 paths (tar order), compared with memcmp: the generic
    /// UTF-8 view comparison was a tenth of a no-change rebuild of 100,000 files.
    static func bytewisePrecedes(_ a: String, _ b: String) -> Bool {
        // Native strings are contiguous UTF-8: compared in place, no copy.
        let inPlace = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in
                let common = min(x.count, y.count)
                let order = common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common)
                return order != 0 ? order < 0 : x.count < y.count
            }
        }
        if let result = inPlace ?? nil { return result }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    static func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : b.isEmpty ? a : a + "/" + b }

    /// `srv/app` → `srv`, `srv/app` (the latter only for a directory source).
    static func parentDirectories(of path: String, including last: Bool) -> [String] {
        let parts = path.split(separator: "/").map(String.init)
        let count = last ? parts.count : max(parts.count - 1, 0)
        return (0..<count).map { parts[0...$0].joined(separator: "/") }
    }
}

/// Recursive directory walk that applies ignore rules and the symlink policy.
struct Walker {
    let root: String
    let targetRoot: String
    let rules: IgnoreRules
    let options: FileSetOptions
    var reportSkipped = true
    let reader = Reader()

    /// One thing to do, in order, while walking a directory: emit a child's entry,
    /// or walk a child directory's subtree.
    private struct Step {
        enum Action {
            /// `whenSubtreeHasEntries`: an ignored directory, whose entry counts only if
            /// something below it is re-included (these are its matches).
            case emit(FileEntry, whenSubtreeHasEntries: IgnoreRules.Matches?)
            case walk(IgnoreRules.Matches)
        }
        /// Sort key: the child's name, or its name and "/" for its subtree. Every path
        /// below `a` starts with `a/`, so sorting siblings by these keys (byte order)
        /// walks the tree in the byte order of full paths: `a`, `a-b`, `a.c`, `a/x`, `a0`.
        let key: String
        let name: String
        let action: Action
    }

    /// Signals, in a dry walk, that a subtree has at least one entry.
    private struct FoundEntry: Error {}

    /// Emits the entries below the directory `relative`, in byte order of their
    /// paths; `matches` are its ignore-rule matches (nil for the root). Only this
    /// directory's children are held while its subdirectories are walked.
    func walk(relative: String, matches parentMatches: IgnoreRules.Matches?, _ emit: (FileEntry) throws -> Void) throws {
        var steps = try list(relative: relative, matches: parentMatches)
        steps.sort { FileSet.bytewisePrecedes($0.key, $1.key) }
        for step in steps {
            let childRelative = relative.isEmpty ? step.name : relative + "/" + step.name
            switch step.action {
            case .walk(let matches):
                try walk(relative: childRelative, matches: matches, emit)
            case .emit(let entry, let ignored):
                // Something below an ignored directory was re-included: the directory must be
                // in the layer too, owned like the rest, or a runtime creates it root-owned.
                if let ignored, try !hasEntries(relative: childRelative, matches: ignored) { continue }
                try emit(entry)
            }
        }
    }

    /// Whether walking the directory `relative` would emit anything (stops at the first).
    private func hasEntries(relative: String, matches: IgnoreRules.Matches?) throws -> Bool {
        var quiet = self
        quiet.reportSkipped = false
        do {
            try quiet.walk(relative: relative, matches: matches) { _ in throw FoundEntry() }
            return false
        } catch is FoundEntry {
            return true
        }
    }

    /// The directory's children as steps: their entries made now, while the
    /// directory is open (lookups relative to it: resolving each full path again
    /// cost a third of a no-change rebuild of 100,000 files), then it is closed.
    private func list(relative: String, matches parentMatches: IgnoreRules.Matches?) throws -> [Step] {
        let directory = relative.isEmpty ? root : root + "/" + relative
        guard let handle = opendir(directory) else { throw SystemError.failure("read directory", path: directory) }
        defer { closedir(handle) }
        let directoryFD = dirfd(handle)
        var steps: [Step] = []
        for name in try Walker.names(in: handle, directory: directory) {
            let childRelative = relative.isEmpty ? name : relative + "/" + name
            let childPath = root + "/" + childRelative
            var info = stat()
            guard fstatat(directoryFD, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { throw SystemError.failure("read", path: childPath) }
            let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
            let matches = rules.matches(childRelative, parent: parentMatches)
            let excluded = rules.excludes(matches)
            // An excluded directory is skipped whole unless a '!' rule could re-include part of it.
            if excluded && !(isDirectory && rules.hasExceptions) { continue }
            if let entry = try self.entry(for: childPath, relative: childRelative, imagePath: FileSet.join(targetRoot, childRelative),
                                          info: info, at: (directoryFD, name)) {
                steps.append(Step(key: name, name: name, action: .emit(entry, whenSubtreeHasEntries: excluded ? matches : nil)))
            }
            if isDirectory { steps.append(Step(key: name + "/", name: name, action: .walk(matches))) }
        }
        return steps
    }

    /// Who reads the files: this process's effective user and groups.
    struct Reader {
        let user = geteuid()
        let groups: Set<gid_t> = {
            var list = [gid_t](repeating: 0, count: Int(max(getgroups(0, nil), 0)))
            let count = getgroups(Int32(list.count), &list)
            return Set(list.prefix(max(Int(count), 0))).union([getegid()])
        }()

        /// Whether the permission bits let this process read the file (root reads everything).
        func mayRead(_ info: stat) -> Bool {
            if user == 0 { return true }
            if info.st_uid == user { return info.st_mode & S_IRUSR != 0 }
            if groups.contains(info.st_gid) { return info.st_mode & S_IRGRP != 0 }
            return info.st_mode & S_IROTH != 0
        }
    }

    /// The entry for one file; `location` (an open directory and a name in it) makes
    /// the checks relative lookups instead of whole-path ones.
    func entry(for path: String, relative: String, imagePath: String, info: stat,
               at location: (directory: Int32, name: String)? = nil) throws -> FileEntry? {
        let stamp = FileStamp(info)
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            return FileEntry(path: imagePath, kind: .directory, size: 0, mode: 0o755,
                             uid: options.uid, gid: options.gid, stamp: stamp)
        case S_IFREG:
            // Checked from the mode bits already in hand: access() resolves the path again,
            // which cost as much as the stat itself. (An ACL that denies what the bits allow
            // is still caught, as an error when the file is read.)
            guard reader.mayRead(info) else { throw SystemError.failure("read", path: path, errno: EACCES) }
            let executable = info.st_mode & 0o111 != 0
            return FileEntry(path: imagePath, kind: .regular(source: path), size: Int64(info.st_size),
                             mode: options.fileMode ?? (executable ? 0o755 : 0o644), uid: options.uid, gid: options.gid,
                             stamp: stamp,
                             sharedInode: info.st_nlink > 1 ? "\(info.st_dev):\(info.st_ino)" : nil)
        case S_IFLNK:
            let target = try readLink(path, at: location)
            if !options.allowExternalSymlinks && Walker.escapes(target: target, from: relative) {
                throw Failure(.invalidInput, "symlink \(path) -> \(target) points outside the layer source \(root); replace it with the file, or allow it with 'allowExternalSymlinks: true'")
            }
            return FileEntry(path: imagePath, kind: .symlink(target: target), size: 0, mode: 0o777,
                             uid: options.uid, gid: options.gid, stamp: stamp)
        default:
            if reportSkipped { Warnings.emit("skipping \(path): sockets, FIFOs and device files are not stored in layers") }
            return nil
        }
    }

    /// The entries of a directory from readdir, refusing names that are not UTF-8
    /// (Foundation would silently replace their bytes and then not find the file).
    static func names(in handle: OpaquePointer, directory: String) throws -> [String] {
        var names: [String] = []
        while let entry = readdir(handle) {
            let name: String? = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let bytes = raw.prefix { $0 != 0 }
                return String(validating: bytes, as: UTF8.self)
            }
            guard let name else {
                let shown = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    raw.prefix { $0 != 0 }.map { $0 < 0x80 ? String(UnicodeScalar($0)) : cFormat("\\x%02x", $0) }.joined()
                }
                throw Failure(.invalidInput, "\(directory)/\(shown): the file name is not valid UTF-8; rename it (e.g. convmv -f latin1 -t utf8) or move it out of the layer source")
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    func readLink(_ path: String, at location: (directory: Int32, name: String)?) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = location.map { readlinkat($0.directory, $0.name, &buffer, buffer.count - 1) } ?? readlink(path, &buffer, buffer.count - 1)
        guard length >= 0 else { throw SystemError.failure("read symlink", path: path) }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Lexical check: does `target`, read from the directory of `relative`, leave the root?
    static func escapes(target: String, from relative: String) -> Bool {
        if target.hasPrefix("/") { return true }
        var depth = relative.split(separator: "/").count - 1
        for part in target.split(separator: "/") {
            if part == ".." { depth -= 1 } else if part != "." { depth += 1 }
            if depth < 0 { return true }
        }
        return false
    }
}
