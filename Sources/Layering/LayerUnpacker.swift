import Glibc
import CArchive
import CShims
import ByteStreams
import Diagnostics
import SystemSupport

/// Applies image layers, in order, to a root file system directory (the rootfs
/// of a bundle `gantry test` runs): whiteouts (`.wh.name`) remove what lower
/// layers made, opaque markers (`.wh..wh..opq`) empty a directory of what lower
/// layers put in it, and hard links, symlinks, modes, modification times and
/// (as root) owners are made as the tar says. Times matter: Python trusts a
/// `.pyc` only while its source keeps the time recorded in it.
///
/// Whatever a layer contains, nothing is written outside the root: names that
/// are absolute or climb with `..` are refused by `TarReader`, and every path is
/// opened with openat2's RESOLVE_IN_ROOT, so a symlink a lower layer planted (`etc
/// -> /`, `up -> ../../..`) resolves inside the root, as it will in the container.
/// The last component is created with the *at calls relative to its opened
/// parent, never followed (O_NOFOLLOW, unlinked first).
public final class LayerUnpacker {
    /// What whiteouts do.
    public enum Whiteouts: Sendable {
        /// Remove what lower layers made (the layers are applied one on another).
        case apply
        /// Record them as overlayfs does, for a directory that holds one layer alone
        /// and becomes an overlay lower directory: a 0/0 character device for
        /// `.wh.name`, the `trusted.overlay.opaque` attribute for an opaque marker.
        /// Needs root (mknod, trusted.* attributes).
        case overlay
    }

    public let root: String
    private let rootFD: Int32
    private let whiteouts: Whiteouts
    /// Owners are applied only as root; otherwise files belong to the caller (rootless).
    private let applyOwners = geteuid() == 0

    /// What one layer held that a root file system cannot or should not take.
    public struct Skipped: Sendable, Equatable {
        /// Device nodes, FIFOs and sockets (the runtime provides /dev).
        public var specialFiles = 0
    }

    /// Opens (creating it when missing) the directory `root`.
    public init(root: String, whiteouts: Whiteouts = .apply) throws {
        self.whiteouts = whiteouts
        guard mkdir(root, 0o755) == 0 || errno == EEXIST else { throw SystemError.failure("create directory", path: root) }
        let fd = open(root, gantry_o_path() | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError.failure("open directory", path: root) }
        self.root = root
        rootFD = fd
    }

    deinit { close(rootFD) }

    /// Applies the layer blob at `path` (tar, tar+gzip or tar+zstd: libarchive
    /// detects which). `role` names it in errors ("layer 3 (sha256:…)").
    @discardableResult
    public func apply(layer path: String, role: String) throws -> Skipped {
        let reader = try TarReader(path: path, role: role, inflateAside: true)
        var skipped = Skipped()
        // What this layer made: an opaque marker hides lower layers' entries, not these.
        var madeHere = Set<String>()
        // Directory times are set last: every entry made inside one changes its time.
        var directoryTimes: [(name: String, time: timespec)] = []
        while let entry = try reader.nextEntry() {
            guard let name = TarReader.path(of: entry).map(FileSet.normalize), !name.isEmpty else { continue }
            let parent = Self.parent(of: name)
            let base = PathName.lastComponent(of: name)
            if base == ImagePath.opaqueMarker {
                switch whiteouts {
                case .apply: try emptyDirectory(parent, keeping: madeHere, role: role)
                case .overlay: try markOpaque(parent, role: role)
                }
                continue
            }
            if let target = ImagePath.whiteoutTarget(of: base) {
                guard !target.isEmpty else { continue }  // names nothing: never the directory itself
                // TarReader refused `.wh..` and `.wh...`; removeExisting refuses them again.
                let hidden = FileSet.join(parent, target)
                switch whiteouts {
                case .apply: try remove(hidden, role: role)
                case .overlay: try makeWhiteout(hidden, role: role)
                }
                continue
            }
            let directory = try openDirectory(parent, creating: true, role: role)
            defer { close(directory) }
            let mode = mode_t(archive_entry_mode(entry) & 0o7777)
            // A hard link first: libarchive does not always give it a file type.
            let linkTarget = archive_entry_hardlink(entry).map { FileSet.normalize(String(cString: $0)) }
            switch linkTarget == nil ? TarReader.fileType(of: entry) : 0o100000 {
            case 0o040000:  // directory
                try makeDirectory(base, in: directory, mode: mode, name: name, role: role)
            case 0o100000:  // regular file
                if let linkTarget {
                    try link(base, in: directory, to: linkTarget, name: name, role: role)
                } else {
                    try writeFile(base, in: directory, mode: mode, reader: reader, name: name, role: role)
                }
            case 0o120000:  // symlink
                let target = archive_entry_symlink(entry).map { String(cString: $0) } ?? ""
                try removeExisting(base, in: directory, role: role)
                guard symlinkat(target, directory, base) == 0 else { throw failure("create symlink", name, role) }
            default:
                skipped.specialFiles += 1
                continue
            }
            if applyOwners {
                let uid = uid_t(truncatingIfNeeded: archive_entry_uid(entry)), gid = gid_t(truncatingIfNeeded: archive_entry_gid(entry))
                guard fchownat(directory, base, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 else { throw failure("set the owner of", name, role) }
                // A change of owner clears set-user-ID and set-group-ID bits: give them back.
                if mode & 0o6000 != 0 && TarReader.fileType(of: entry) != 0o120000 {
                    guard fchmodat(directory, base, mode, 0) == 0 else { throw failure("set the mode of", name, role) }
                }
            }
            let time = timespec(tv_sec: archive_entry_mtime(entry), tv_nsec: Int(archive_entry_mtime_nsec(entry)))
            if TarReader.fileType(of: entry) == 0o040000 && linkTarget == nil {
                directoryTimes.append((name, time))
            } else {
                try setTime(time, of: base, in: directory, name: name, role: role)
            }
            madeHere.insert(name)
        }
        for (name, time) in directoryTimes.reversed() {
            let parent = try openDirectory(Self.parent(of: name), creating: false, role: role)
            defer { close(parent) }
            try setTime(time, of: PathName.lastComponent(of: name), in: parent, name: name, role: role)
        }
        return skipped
    }

    private func setTime(_ time: timespec, of base: String, in directory: Int32, name: String, role: String) throws {
        let times = [time, time]  // access and modification, as the tar has one
        guard utimensat(directory, base, times, AT_SYMLINK_NOFOLLOW) == 0 else { throw failure("set the time of", name, role) }
    }

    // MARK: entries

    private func makeDirectory(_ base: String, in directory: Int32, mode: mode_t, name: String, role: String) throws {
        var info = stat()
        if fstatat(directory, base, &info, AT_SYMLINK_NOFOLLOW) == 0 && info.st_mode & S_IFMT != S_IFDIR {
            try removeExisting(base, in: directory, role: role)
        }
        guard mkdirat(directory, base, 0o700) == 0 || errno == EEXIST else { throw failure("create directory", name, role) }
        // Not root, a directory the caller cannot write (0555) would stop later layers
        // writing in it; the caller is root in the rootless container, whom modes do not bind anyway.
        guard fchmodat(directory, base, applyOwners ? mode : mode | 0o700, 0) == 0 else { throw failure("set the mode of", name, role) }
    }

    private func writeFile(_ base: String, in directory: Int32, mode: mode_t, reader: TarReader, name: String, role: String) throws {
        try removeExisting(base, in: directory, role: role)
        let fd = openat(directory, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("create", name, role) }
        let file = FileDescriptorSink(adopting: fd, describedAs: "\(name) in \(root) (\(role))")
        try reader.readData { try file.write($0) }
        guard fchmod(fd, mode) == 0 else { throw failure("set the mode of", name, role) }
        try file.close()
    }

    private func link(_ base: String, in directory: Int32, to target: String, name: String, role: String) throws {
        let source = try openDirectory(Self.parent(of: target), creating: false, role: role)
        defer { close(source) }
        try removeExisting(base, in: directory, role: role)
        // linkat without AT_SYMLINK_FOLLOW links the name itself, never what a symlink points at.
        guard linkat(source, PathName.lastComponent(of: target), directory, base, 0) == 0 else {
            throw failure("create hard link to \(target) as", name, role)
        }
    }

    // MARK: whiteouts

    private func remove(_ name: String, role: String) throws {
        let directory: Int32
        do { directory = try openDirectory(Self.parent(of: name), creating: false, role: role) } catch { return }  // nothing there to hide
        defer { close(directory) }
        try removeExisting(PathName.lastComponent(of: name), in: directory, role: role)
    }

    /// overlayfs's whiteout: a character device 0/0 in place of the name.
    private func makeWhiteout(_ name: String, role: String) throws {
        let directory = try openDirectory(Self.parent(of: name), creating: true, role: role)
        defer { close(directory) }
        let base = PathName.lastComponent(of: name)
        try removeExisting(base, in: directory, role: role)
        guard mknodat(directory, base, S_IFCHR | 0o000, 0) == 0 else { throw failure("create the whiteout", name, role) }
    }

    /// overlayfs's opaque directory: lower layers' entries are hidden, this layer's stay.
    private func markOpaque(_ name: String, role: String) throws {
        close(try openDirectory(name, creating: true, role: role))
        let fd = gantry_open_in_root(rootFD, name.isEmpty ? "." : name, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
        guard fd >= 0 else { throw failure("open directory", name, role) }
        defer { close(fd) }
        guard gantry_set_xattr(fd, "trusted.overlay.opaque", "y", 1) == 0 else { throw failure("mark opaque", name, role) }
    }

    private func emptyDirectory(_ name: String, keeping madeHere: Set<String>, role: String) throws {
        let directory = try openDirectory(name, creating: true, role: role)
        defer { close(directory) }
        for child in try Self.names(in: directory, name: name) where !madeHere.contains(FileSet.join(name, child)) {
            try removeExisting(child, in: directory, role: role)
        }
    }

    /// Removes `base` in `directory` if it exists, a whole tree for a directory
    /// (symlinks are removed, never followed).
    private func removeExisting(_ base: String, in directory: Int32, role: String) throws {
        // One name of `directory`, never the directory itself or its parent: the
        // last line of defence against a hostile name reaching an unlink.
        guard !base.isEmpty, base != ".", base != "..", !base.contains("/") else {
            throw Failure(.invalidInput, "\(role): refusing to remove '\(base)' in \(root): not a single name inside the directory")
        }
        var info = stat()
        guard fstatat(directory, base, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return }
            throw failure("look at", base, role)
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            // Its entries can be removed only while it is writable (a 0555 directory, not root).
            if !applyOwners && info.st_mode & 0o700 != 0o700 { _ = fchmodat(directory, base, 0o700, 0) }
            let child = openat(directory, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else { throw failure("open directory", base, role) }
            defer { close(child) }
            for name in try Self.names(in: child, name: base) { try removeExisting(name, in: child, role: role) }
            guard unlinkat(directory, base, AT_REMOVEDIR) == 0 else { throw failure("remove directory", base, role) }
        } else {
            guard unlinkat(directory, base, 0) == 0 else { throw failure("remove", base, role) }
        }
    }

    /// The bytes of the file `name` in the root (its symlinks resolved inside the
    /// root), nil when it is missing, not a regular file or larger than `limit`:
    /// how `gantry test` reads the image's /etc/passwd.
    public func readFile(_ name: String, limit: Int) -> [UInt8]? {
        let fd = gantry_open_in_root(rootFD, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) <= limit else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var filled = 0
        while filled < bytes.count {
            let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { return nil }
            filled += got
        }
        return bytes
    }

    /// Removes the root directory and everything in it (a test bundle's rootfs),
    /// never following a symlink out of it.
    public func removeAll() throws {
        let parent = open(PathName.parent(of: root), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else { throw SystemError.failure("open directory", path: PathName.parent(of: root)) }
        defer { close(parent) }
        try removeExisting(PathName.lastComponent(of: root), in: parent, role: "removing \(root)")
    }

    // MARK: paths inside the root

    /// Opens the directory `name` (relative to the root, "" for the root itself)
    /// with every symlink resolved inside the root; missing ones are created when
    /// `creating` (a layer may list a file before, or without, its parents).
    /// A symlink whose target is missing is followed to create the target (inside
    /// the root), as runtimes do; `depth` stops symlink loops.
    private func openDirectory(_ name: String, creating: Bool, role: String, depth: Int = 0) throws -> Int32 {
        let fd = gantry_open_in_root(rootFD, name.isEmpty ? "." : name, gantry_o_path() | O_DIRECTORY | O_CLOEXEC, 0)
        if fd >= 0 { return fd }
        if errno == ENOSYS {
            throw Failure(.unavailable, "this kernel has no openat2 (Linux 5.6 or later is needed to unpack layers safely)")
        }
        guard creating, errno == ENOENT, !name.isEmpty, depth < 40 else { throw failure("open directory", name, role) }
        let parentName = Self.parent(of: name)
        let parent = try openDirectory(parentName, creating: true, role: role, depth: depth + 1)
        defer { close(parent) }
        let base = PathName.lastComponent(of: name)
        if mkdirat(parent, base, 0o755) != 0 {
            guard errno == EEXIST else { throw failure("create directory", name, role) }
            // There already: a symlink to a directory that does not exist yet.
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlinkat(parent, base, &buffer, buffer.count - 1)
            guard length > 0 else { throw failure("open directory", name, role) }
            let target = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let resolved = Self.resolveLexically(target.hasPrefix("/") ? target : FileSet.join(parentName, target))
            close(try openDirectory(resolved, creating: true, role: role, depth: depth + 1))
        }
        let created = gantry_open_in_root(rootFD, name, gantry_o_path() | O_DIRECTORY | O_CLOEXEC, 0)
        guard created >= 0 else { throw failure("open directory", name, role) }
        return created
    }

    static func names(in directory: Int32, name: String) throws -> [String] {
        // fdopendir takes ownership of the descriptor it is given: hand it a copy.
        let copy = openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard copy >= 0, let handle = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            throw SystemError.failure("read directory", path: name)
        }
        defer { closedir(handle) }
        return try Walker.names(in: handle, directory: name)
    }

    /// A path inside the root with `.` and `..` taken lexically, `..` stopping at
    /// the root (as RESOLVE_IN_ROOT does): `a/../../b` → `b`.
    static func resolveLexically(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == ".." { _ = parts.popLast() } else if part != "." { parts.append(part) }
        }
        return parts.joined(separator: "/")
    }

    /// `a/b` → `a`; `a` → "" (the root).
    static func parent(of name: String) -> String {
        name.lastIndex(of: "/").map { String(name[..<$0]) } ?? ""
    }

    private func failure(_ action: String, _ name: String, _ role: String) -> Failure {
        Failure(.io, "\(role): cannot \(action) \(name) in \(root): \(String(cString: strerror(errno)))")
    }
}

