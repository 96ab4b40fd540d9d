import FoundationEssentials
import CArchive
import Layering
import Diagnostics

/// What a base image's files say about installing packages on it: its dpkg
/// database (`status` and distroless-style `status.d/`), the repositories it
/// declares (`/etc/apt/sources.list`, `sources.list.d/*.list|*.sources`), the
/// keyrings those may name, and its symlinks (a merged-/usr base's `lib` →
/// `usr/lib`). Read once from its layers, bottom to top, whiteouts applied.
public struct BaseSystem: Sendable, Codable, Equatable {
    /// Small files by path without the leading `/`.
    public var files: [String: Data] = [:]
    public var symlinks: [String: String] = [:]

    public init() {}

    /// Files worth keeping: apt's configuration, keyrings, dpkg's records of what is installed.
    static func isKept(_ path: String) -> Bool {
        path == "var/lib/dpkg/status" || path == "etc/apt/sources.list" || path == "etc/apt/trusted.gpg"
            || (path.hasPrefix("var/lib/dpkg/status.d/") && !path.hasSuffix(".md5sums"))
            || ["etc/apt/sources.list.d/", "etc/apt/trusted.gpg.d/", "usr/share/keyrings/", "etc/apt/keyrings/"].contains { path.hasPrefix($0) }
    }

    /// Reads the layers (paths of tar blobs, any compression), bottom first.
    public static func read(layers: [(path: String, role: String)]) throws -> BaseSystem {
        var system = BaseSystem()
        for layer in layers {
            let reader = try TarReader(path: layer.path, role: layer.role)
            while let entry = try reader.nextEntry() {
                guard let raw = TarReader.path(of: entry) else { continue }
                let path = PackageTree.trimmed(raw)
                let last = path.split(separator: "/").last.map(String.init) ?? ""
                let directory = PackageTree.parentDirectory(path)
                if last == ".wh..wh..opq" {
                    system.remove(below: directory, keepingItself: true)
                    continue
                }
                if let hidden = ImagePath.whiteoutTarget(of: last) {
                    system.remove(below: directory.isEmpty ? hidden : directory + "/" + hidden, keepingItself: false)
                    continue
                }
                switch TarReader.fileType(of: entry) {
                case 0o120000:
                    system.files[path] = nil
                    system.symlinks[path] = archive_entry_symlink(entry).map { String(cString: $0) } ?? ""
                case 0o100000 where archive_entry_hardlink(entry) == nil:
                    system.symlinks[path] = nil
                    guard isKept(path) else { system.files[path] = nil; continue }
                    var bytes: [UInt8] = []
                    try reader.readData { chunk in
                        guard bytes.count + chunk.count <= 64 << 20 else {
                            throw Failure(.invalidInput, "\(layer.role): /\(path) is larger than 64 MiB; that is not a dpkg or apt file gantry can read")
                        }
                        bytes.append(contentsOf: chunk)
                    }
                    system.files[path] = Data(bytes)
                default:
                    system.symlinks[path] = nil
                    system.files[path] = nil
                }
            }
        }
        return system
    }

    private mutating func remove(below path: String, keepingItself: Bool) {
        let prefix = path.isEmpty ? "" : path + "/"
        let gone = { (key: String) in key.hasPrefix(prefix) || (!keepingItself && key == path) }
        files = files.filter { !gone($0.key) }
        symlinks = symlinks.filter { !gone($0.key) }
    }

    /// Installed packages: dpkg's status entries marked installed, then status.d records.
    public var installed: [DebianPackage] {
        var texts: [String] = []
        if let status = files["var/lib/dpkg/status"] { texts.append(String(decoding: status, as: UTF8.self)) }
        texts += files.keys.filter { $0.hasPrefix("var/lib/dpkg/status.d/") }.sorted().map { String(decoding: files[$0]!, as: UTF8.self) }
        return texts.flatMap(ControlStanza.parse).compactMap { stanza in
            if let status = stanza["Status"], !status.hasSuffix(" installed") { return nil }
            return DebianPackage(stanza: stanza)
        }
    }

    /// The repositories the base declares, in apt's order (sources.list, then sources.list.d by name).
    public var sources: [AptSource] {
        var found: [AptSource] = []
        if let list = files["etc/apt/sources.list"] { found += AptSource.parseList(String(decoding: list, as: UTF8.self)) }
        for path in files.keys.filter({ $0.hasPrefix("etc/apt/sources.list.d/") }).sorted() {
            let text = String(decoding: files[path]!, as: UTF8.self)
            if path.hasSuffix(".list") { found += AptSource.parseList(text) }
            else if path.hasSuffix(".sources") { found += AptSource.parseDeb822(text) }
        }
        return found
    }

    /// The keyrings apt would check `source` with: its Signed-By (a file of the
    /// base, or inline), else the base's trusted.gpg and trusted.gpg.d.
    public func keys(for source: AptSource) throws -> [(name: String, bytes: [UInt8])] {
        if let inline = source.inlineKey { return [("Signed-By of \(source.uri)", Array(inline.utf8))] }
        if let path = source.signedBy {
            let relative = PackageTree.trimmed(path)
            guard let bytes = files[relative] else {
                throw Failure(.missingInput, "the base's apt source \(source.uri) is signed by \(path), which the base does not have; list the repository with its key in packages.repositories")
            }
            return [(path, Array(bytes))]
        }
        return files.keys.filter { $0 == "etc/apt/trusted.gpg" || ($0.hasPrefix("etc/apt/trusted.gpg.d/") && ($0.hasSuffix(".gpg") || $0.hasSuffix(".asc"))) }
            .sorted().map { ("/" + $0, Array(files[$0]!)) }
    }
}
