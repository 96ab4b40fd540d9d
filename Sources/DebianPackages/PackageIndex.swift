import Glibc
import ByteStreams
import Diagnostics

/// Every package version the repositories offer for one architecture (plus
/// `all`), by name and by what they provide: what the resolver chooses from.
///
/// A Debian suite offers ~60,000 packages and the resolver reads a few hundred:
/// loading keeps only each version's name, version, architecture and Provides,
/// with where its stanza lies in a decompressed copy of the index; the whole
/// stanza is read from there when the resolver asks for that version (parsing
/// every field of bookworm's three suites up front peaked at 113 MiB).
public final class PackageIndex {
    public let architecture: String
    private var entries: [String: [Entry]] = [:]
    private var provided: [String: [(entry: Entry, version: DebianVersion?)]] = [:]
    /// Decompressed indexes and the repository each came from.
    private var files: [(path: String, repository: String)] = []
    /// Versions already read in full (and every version added in memory).
    private var full: [Location: DebianPackage] = [:]
    private var added = 0

    struct Location: Hashable { var file: Int; var offset: Int64; var length: Int }

    struct Entry {
        var name: String
        var version: DebianVersion
        var location: Location
    }

    public init(architecture: String) { self.architecture = architecture }

    /// Adds a version held in memory (tests, and indexes built by hand).
    public func add(_ package: DebianPackage) throws {
        guard package.architecture == architecture || package.architecture == "all" else { return }
        added += 1
        let location = Location(file: -1, offset: Int64(added), length: 0)
        full[location] = package
        try note(Entry(name: package.name, version: package.version, location: location), provides: package.provides, label: package.label)
    }

    private func note(_ entry: Entry, provides: String, label: String) throws {
        entries[entry.name, default: []].append(entry)
        guard !provides.isEmpty else { return }
        let relations: [[PackageRelation]]
        do { relations = try PackageRelation.parseField(provides, architecture: architecture) } catch {
            throw Failure(.invalidInput, "package \(label) has a Provides field gantry cannot read: \(error)")
        }
        for relation in relations.joined() { provided[relation.name, default: []].append((entry, relation.constraint?.version)) }
    }

    /// Reads a `Packages` index (compressed or not) stanza by stanza into a
    /// decompressed copy at `copyPath`, noting where each stanza is.
    public func load(index path: String, repository: String, copyPath: String, describedAs what: String) throws {
        let copy = try FileDescriptorSink(creating: copyPath, exclusive: true, describedAs: copyPath)
        let file = files.count
        files.append((copyPath, repository))
        var offset: Int64 = 0, start: Int64 = 0
        var name: String?, version: String?, arch: String?, provides = ""
        var lastWasProvides = false
        func finish(at end: Int64) throws {
            defer { name = nil; version = nil; arch = nil; provides = ""; lastWasProvides = false }
            guard let name, let text = version, let parsed = DebianVersion(text) else { return }
            let architecture = arch ?? "all"
            guard architecture == self.architecture || architecture == "all" else { return }
            try note(Entry(name: name, version: parsed, location: Location(file: file, offset: start, length: Int(end - start))),
                     provides: provides, label: "\(name)=\(text)")
        }
        try CompressedText.forEachLine(of: path, describedAs: what, copy: copy) { line, length in
            defer { offset += Int64(length) }
            if line.isEmpty {
                try finish(at: offset)
                start = offset + Int64(length)
                return
            }
            if line.first == " " || line.first == "\t" {
                if lastWasProvides { provides += line }
                return
            }
            lastWasProvides = false
            guard let colon = line.firstIndex(of: ":") else { return }
            let value = { String(line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }) }
            switch line[..<colon].lowercased() {
            case "package": name = value()
            case "version": version = value()
            case "architecture": arch = value()
            case "provides": provides = value(); lastWasProvides = true
            default: break
            }
        }
        try finish(at: offset)
        try copy.close()
    }

    /// A version in full: its stanza read from the index copy (once).
    private func package(_ entry: Entry) throws -> DebianPackage {
        if let known = full[entry.location] { return known }
        let (path, repository) = files[entry.location.file]
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SystemError.failure("open", path: path) }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: entry.location.length)
        let got = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, entry.location.length, off_t(entry.location.offset)) }
        guard got == entry.location.length, let stanza = ControlStanza.parse(String(decoding: bytes, as: UTF8.self)).first,
              let package = DebianPackage(stanza: stanza, repository: repository) else {
            throw Failure(.internalFailure, "the stanza of \(entry.name)=\(entry.version) could not be read back from \(path); this is a bug in gantry")
        }
        full[entry.location] = package
        return package
    }

    /// Every version offered under a name.
    public func versions(of name: String) throws -> [DebianPackage] {
        try (entries[name] ?? []).map(package)
    }

    /// The candidate of a name: its highest version, as apt picks with equal pins.
    public func candidate(_ name: String) throws -> DebianPackage? {
        guard let best = entries[name]?.max(by: { $0.version < $1.version }) else { return nil }
        return try package(best)
    }

    /// The versions that provide a virtual name, with the version they provide (`Provides: x (= 1)`).
    public func providers(of name: String) throws -> [(package: DebianPackage, version: DebianVersion?)] {
        try (provided[name] ?? []).map { (try package($0.entry), $0.version) }
    }
}
