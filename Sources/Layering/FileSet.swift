import FoundationEssentials
import Glibc
import ByteStreams
import Diagnostics

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

    public init(destination: String, ignore: [String] = [], uid: UInt32 = 0, gid: UInt32 = 0,
                allowExternalSymlinks: Bool = false) {
        self.destination = destination
        self.ignore = ignore
        self.uid = uid
        self.gid = gid
        self.allowExternalSymlinks = allowExternalSymlinks
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
/// a single file, mapped to a destination and sorted so the tar is reproducible.
public struct FileSet: Sendable {
    public let source: String
    public let options: FileSetOptions
    public let entries: [FileEntry]

    /// Walks `source`. Errors name the offending path; nothing is written.
    public init(source: String, options: FileSetOptions) throws {
        self.source = source
        self.options = options
        let checkedDestination = try ImagePath.normalizeDestination(options.destination, what: "layer destination")
        var info = stat()
        guard stat(source, &info) == 0 else {
            throw Failure(.missingInput, "layer source \(source) does not exist or cannot be read: \(String(cString: strerror(errno)))")
        }
        var collected: [FileEntry] = []
        let destination = FileSet.normalize(checkedDestination)
        let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        let targetPath: String
        if isDirectory {
            targetPath = destination
        } else if options.destination.hasSuffix("/") {
            targetPath = FileSet.join(destination, PathName.lastComponent(of: source))
        } else {
            targetPath = destination
        }
        collected += FileSet.parentDirectories(of: targetPath, including: isDirectory)
            .map { FileEntry(path: $0, kind: .directory, size: 0, mode: 0o755, uid: 0, gid: 0, stamp: nil) }
        if isDirectory {
            if !targetPath.isEmpty, var root = collected.last, root.path == targetPath {
                root.uid = options.uid
                root.gid = options.gid
                collected[collected.count - 1] = root
            }
            guard access(source, R_OK | X_OK) == 0 else {
                throw SystemError.failure("read directory", path: source)
            }
            let rules = try IgnoreRules.load(directory: source, extra: options.ignore)
            var walker = Walker(root: source, targetRoot: targetPath, rules: rules, options: options)
            walker.entries = collected  // appended to, not copied
            collected = []
            try walker.walk(relative: "", matches: nil)
            collected = walker.entries
        } else {
            let walker = Walker(root: PathName.parent(of: source), targetRoot: "",
                                rules: try IgnoreRules(patterns: []), options: options)
            if let entry = try walker.entry(for: source, relative: PathName.lastComponent(of: source),
                                            imagePath: targetPath, info: info) {
                collected.append(entry)
            }
        }
        // Sorted as indices, then put in that order in place: sorting the entries
        // themselves moved each ~100-byte struct (and retained its strings) at every
        // step of the merge, a third of a no-change rebuild of 100,000 files; a
        // gathered copy would cost tens of MB at the peak.
        var order = collected.indices.sorted { FileSet.bytewisePrecedes(collected[$0].path, collected[$1].path) }
        FileSet.permute(&collected, by: &order)
        FileSet.linkHardlinks(&collected)
        entries = collected
    }

    /// Total bytes of file content, for progress and the cache key.
    public var contentSize: Int64 { entries.reduce(0) { $0 + $1.size } }

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

    /// Puts `items` in the order `order` gives (`order[i]`: the index of the item that
    /// belongs at position i), in place, following each cycle with swaps; `order` is used up.
    static func permute<T>(_ items: inout [T], by order: inout [Int]) {
        for start in items.indices where order[start] != start {
            var position = start
            while order[position] != start {
                let source = order[position]
                items.swapAt(position, source)
                order[position] = position
                position = source
            }
            order[position] = position
        }
    }

    static func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : b.isEmpty ? a : a + "/" + b }

    /// `srv/app` → `srv`, `srv/app` (the latter only for a directory source).
    static func parentDirectories(of path: String, including last: Bool) -> [String] {
        let parts = path.split(separator: "/").map(String.init)
        let count = last ? parts.count : max(parts.count - 1, 0)
        return (0..<count).map { parts[0...$0].joined(separator: "/") }
    }

    /// Regular files sharing an inode: the first in sorted order keeps the data,
    /// later ones become hard links to it, so the content is stored once.
    static func linkHardlinks(_ entries: inout [FileEntry]) {
        var firstByInode: [String: String] = [:]
        for index in entries.indices {
            guard case .regular = entries[index].kind, let inode = entries[index].sharedInode else { continue }
            if let first = firstByInode[inode] {
                entries[index].kind = .hardlink(to: first)
                entries[index].size = 0
            } else {
                firstByInode[inode] = entries[index].path
            }
        }
    }
}

/// Recursive directory walk that applies ignore rules and the symlink policy.
struct Walker {
    let root: String
    let targetRoot: String
    let rules: IgnoreRules
    let options: FileSetOptions
    var entries: [FileEntry] = []
    let reader = Reader()

    /// Walks the directory `relative`; `matches` are its ignore-rule matches (nil for the root).
    mutating func walk(relative: String, matches parentMatches: IgnoreRules.Matches?) throws {
        let directory = relative.isEmpty ? root : root + "/" + relative
        guard let handle = opendir(directory) else { throw SystemError.failure("read directory", path: directory) }
        defer { closedir(handle) }
        // Children are looked up relative to the open directory (fstatat, faccessat):
        // resolving each full path again cost a third of a no-change rebuild of 100,000 files.
        let directoryFD = dirfd(handle)
        // Unsorted: the entries are sorted once, by full path, when the walk is done.
        for name in try Walker.names(in: handle, directory: directory) {
            let childRelative = relative.isEmpty ? name : relative + "/" + name
            let childPath = root + "/" + childRelative
            var info = stat()
            guard fstatat(directoryFD, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { throw SystemError.failure("read", path: childPath) }
            let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
            let matches = rules.matches(childRelative, parent: parentMatches)
            if rules.excludes(matches) {
                // An excluded directory is skipped whole unless a '!' rule could re-include part of it.
                if isDirectory && rules.hasExceptions {
                    let before = entries.count
                    try walk(relative: childRelative, matches: matches)
                    // Something below was re-included: its parent directory must be in the
                    // layer too, owned like the rest, or a runtime creates it root-owned.
                    if entries.count > before, let directory = try entry(for: childPath, relative: childRelative,
                                                                          imagePath: FileSet.join(targetRoot, childRelative), info: info,
                                                                          at: (directoryFD, name)) {
                        entries.append(directory)
                    }
                }
                continue
            }
            let imagePath = FileSet.join(targetRoot, childRelative)
            if let entry = try entry(for: childPath, relative: childRelative, imagePath: imagePath, info: info,
                                     at: (directoryFD, name)) {
                entries.append(entry)
            }
            if isDirectory { try walk(relative: childRelative, matches: matches) }
        }
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
                             mode: executable ? 0o755 : 0o644, uid: options.uid, gid: options.gid,
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
            Warnings.emit("skipping \(path): sockets, FIFOs and device files are not stored in layers")
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
