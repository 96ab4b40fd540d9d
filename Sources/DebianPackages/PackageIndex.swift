import Diagnostics

/// Every package version the repositories offer for one architecture (plus
/// `all`), by name and by what they provide: what the resolver chooses from.
public struct PackageIndex: Sendable {
    public private(set) var byName: [String: [DebianPackage]] = [:]
    /// Virtual names: the packages that provide them, with the version provided (`Provides: x (= 1)`).
    public private(set) var providers: [String: [(package: DebianPackage, version: DebianVersion?)]] = [:]
    public let architecture: String

    public init(architecture: String) { self.architecture = architecture }

    public mutating func add(_ package: DebianPackage) throws {
        guard package.architecture == architecture || package.architecture == "all" else { return }
        byName[package.name, default: []].append(package)
        guard !package.provides.isEmpty else { return }
        let provided: [[PackageRelation]]
        do { provided = try PackageRelation.parseField(package.provides, architecture: architecture) } catch {
            throw Failure(.invalidInput, "package \(package.label) has a Provides field gantry cannot read: \(error)")
        }
        for relation in provided.flatMap({ $0 }) {
            providers[relation.name, default: []].append((package, relation.constraint?.version))
        }
    }

    /// Reads a `Packages` index (compressed or not) stanza by stanza, keeping only
    /// the fields the resolver and the layer need.
    public mutating func load(index path: String, repository: String, describedAs what: String) throws {
        var fields: [String: String] = [:]
        var lastKept: String?
        func finish() throws {
            if !fields.isEmpty, let package = DebianPackage(fields: { fields[$0.lowercased()] }, repository: repository) {
                try add(package)
            }
            fields.removeAll(keepingCapacity: true)
            lastKept = nil
        }
        try CompressedText.forEachLine(of: path, describedAs: what) { line in
            if line.isEmpty { try finish(); return }
            if line.first == " " || line.first == "\t" {
                if let lastKept { fields[lastKept, default: ""] += "\n" + line }
                return
            }
            guard let colon = line.firstIndex(of: ":") else { return }
            let name = line[..<colon].lowercased()
            guard DebianPackage.keptFields.contains(name) else { lastKept = nil; return }
            fields[name] = String(line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
            lastKept = name
        }
        try finish()
    }

    /// The candidate of a name: its highest version, as apt picks with equal pins.
    public func candidate(_ name: String) -> DebianPackage? {
        byName[name]?.max { $0.version < $1.version }
    }
}
