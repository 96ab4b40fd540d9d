import FoundationEssentials
import Glibc
import CArchive
import ByteStreams
import Layering
import Diagnostics

/// The files of the chosen packages, merged as dpkg would leave them on the
/// base: each .deb's data entries (names confined to the root by `TarReader`),
/// paths followed through the base's directory symlinks (a merged-/usr base's
/// `lib` → `usr/lib`: a `lib/` entry would replace that symlink in the image),
/// a directory the base or an earlier package has kept as it is, and package
/// records as distroless writes them (`var/lib/dpkg/status.d/NAME` with its
/// `.md5sums`) so scanners and gantry's SBOM see the packages. File contents wait
/// in `scratch` until the layer is written; entries come out sorted.
public struct PackageTree {
    /// Symlinks of the base, path (no leading `/`) → target, as dpkg would follow them.
    public let baseSymlinks: [String: String]
    public let scratch: String
    public private(set) var entries: [String: FileEntry] = [:]
    private var owner: [String: String] = [:]
    /// Paths two packages both ship (the later one's file is kept, as with Replaces).
    public private(set) var overwritten: [String] = []
    private var fileCount = 0

    public init(baseSymlinks: [String: String], scratch: String) {
        self.baseSymlinks = baseSymlinks
        self.scratch = scratch
    }

    /// Adds the package `name`: its data entries and its status.d record.
    public mutating func add(_ deb: DebArchive, named name: String) throws -> DebArchive.Control {
        let dataPath = "\(scratch)/data-\(name).tar"
        defer { unlink(dataPath) }
        let control = try deb.unpack(dataTo: dataPath)
        let reader = try TarReader(path: dataPath, role: "package \(deb.name)")
        while let entry = try reader.nextEntry() {
            guard let raw = TarReader.path(of: entry) else { continue }
            let relative = Self.trimmed(raw)
            if relative.isEmpty { continue }
            let path = resolve(relative)
            let mode = UInt32(archive_entry_perm(entry))
            let uid = UInt32(clamping: archive_entry_uid(entry)), gid = UInt32(clamping: archive_entry_gid(entry))
            let kind: FileEntry.Kind
            var size: Int64 = 0
            if let target = archive_entry_hardlink(entry) {
                kind = .hardlink(to: resolve(Self.trimmed(String(cString: target))))
            } else {
                switch TarReader.fileType(of: entry) {
                case 0o040000:
                    // A directory the base has as a symlink stays one; one already here keeps its metadata.
                    if baseSymlinks[relative] != nil || entries[path] != nil { continue }
                    kind = .directory
                case 0o100000:
                    fileCount += 1
                    let source = "\(scratch)/\(fileCount)"
                    let sink = try FileDescriptorSink(creating: source, exclusive: true, describedAs: source)
                    try reader.readData { try sink.write($0) }
                    try sink.close()
                    size = Int64(archive_entry_size(entry))
                    kind = .regular(source: source)
                case 0o120000:
                    kind = .symlink(target: archive_entry_symlink(entry).map { String(cString: $0) } ?? "")
                default:
                    continue  // devices and fifos: dpkg packages do not ship them
                }
            }
            try add(FileEntry(path: path, kind: kind, size: size, mode: mode, uid: uid, gid: gid), by: name)
        }
        try addRecord(named: name, control: control)
        return control
    }

    /// Adds a small generated file (a package record, an alternatives link).
    public mutating func addFile(_ path: String, content: String, by owner: String) throws {
        fileCount += 1
        let source = "\(scratch)/\(fileCount)"
        try Data(content.utf8).write(to: URL(fileURLWithPath: source))
        try add(FileEntry(path: path, kind: .regular(source: source), size: Int64(content.utf8.count), mode: 0o644), by: owner)
    }

    public mutating func addSymlink(_ path: String, target: String, by owner: String) throws {
        try add(FileEntry(path: resolve(path), kind: .symlink(target: target), mode: 0o777), by: owner)
    }

    public func has(_ path: String) -> Bool { entries[resolve(Self.trimmed(path))] != nil }

    private mutating func add(_ entry: FileEntry, by package: String) throws {
        try ImagePath.checkEntryName(entry.path, role: "package \(package)")
        if let previous = owner[entry.path], previous != package, case .regular = entry.kind {
            overwritten.append("\(entry.path) (\(previous), \(package))")
        }
        entries[entry.path] = entry
        owner[entry.path] = package
    }

    private mutating func addRecord(named name: String, control: DebArchive.Control) throws {
        try addFile("var/lib/dpkg/status.d/\(name)", content: control.control, by: name)
        if let md5sums = control.files["md5sums"] {
            try addFile("var/lib/dpkg/status.d/\(name).md5sums", content: md5sums, by: name)
        }
    }

    /// Every entry, parents first, sorted by path; directories that hold entries
    /// but no package lists (and the base has not as a symlink) added as 0755 root.
    public func sortedEntries() -> [FileEntry] {
        var all = entries
        for path in entries.keys {
            var parent = Self.parentDirectory(path)
            while !parent.isEmpty, all[parent] == nil, baseSymlinks[parent] == nil {
                all[parent] = FileEntry(path: parent, kind: .directory, mode: 0o755)
                parent = Self.parentDirectory(parent)
            }
        }
        return all.values.sorted { $0.path < $1.path }
    }

    /// `a/b/c` → `a/b`; `c` → "" (the root).
    static func parentDirectory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    /// `./usr/bin/` → `usr/bin`.
    static func trimmed(_ path: String) -> String {
        var text = Substring(path)
        while text.hasPrefix("./") { text = text.dropFirst(2) }
        while text.hasPrefix("/") { text = text.dropFirst() }
        while text.hasSuffix("/") { text = text.dropLast() }
        return text == "." ? "" : String(text)
    }

    /// The path with its directories followed through the base's symlinks (up to
    /// 16 hops; a target that would leave the root is not followed).
    func resolve(_ path: String) -> String {
        var components = path.split(separator: "/").map(String.init)
        var index = 0, hops = 0
        while index < components.count - 1 && hops < 16 {
            let prefix = components[0...index].joined(separator: "/")
            guard let target = baseSymlinks[prefix] else { index += 1; continue }
            hops += 1
            var resolved = target.hasPrefix("/") ? [] : Array(components[0..<index])
            for part in target.split(separator: "/") {
                if part == "." { continue }
                if part == ".." { if resolved.isEmpty { return path } else { resolved.removeLast() } ; continue }
                resolved.append(String(part))
            }
            components = resolved + components[(index + 1)...]
            index = 0
        }
        return components.joined(separator: "/")
    }
}
