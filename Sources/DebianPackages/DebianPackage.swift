/// One binary package version as an index or dpkg's status describes it: what the
/// resolver reads (relations raw, parsed when asked) and where its .deb is.
public struct DebianPackage: Sendable, Hashable {
    public var name: String
    public var version: DebianVersion
    public var architecture: String
    /// `same`, `foreign`, `allowed` or nil (`no`).
    public var multiArch: String?
    public var depends = ""
    public var preDepends = ""
    public var provides = ""
    public var conflicts = ""
    public var breaks = ""
    public var priority: String?
    public var essential = false
    /// The .deb's path below the repository's URI, its size and SHA-256 (hex).
    public var filename = ""
    public var size: Int64 = 0
    public var sha256 = ""
    /// The repository URI the package came from (empty for an installed package).
    public var repository = ""

    public init(name: String, version: DebianVersion, architecture: String) {
        self.name = name
        self.version = version
        self.architecture = architecture
    }

    public static func == (a: DebianPackage, b: DebianPackage) -> Bool {
        a.name == b.name && a.version.description == b.version.description && a.architecture == b.architecture
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(version.description)
        hasher.combine(architecture)
    }

    /// `name=version` as apt and messages write it.
    public var label: String { "\(name)=\(version)" }

    /// Reads the fields it keeps from a stanza; nil without Package and a valid Version.
    public init?(stanza: ControlStanza, repository: String = "") {
        let field = { (name: String) in stanza[name] }
        guard let name = field("Package"), let versionText = field("Version"), let version = DebianVersion(versionText) else { return nil }
        self.init(name: name, version: version, architecture: field("Architecture") ?? "all")
        multiArch = field("Multi-Arch").map { $0.lowercased() }.flatMap { $0 == "no" ? nil : $0 }
        depends = field("Depends") ?? ""
        preDepends = field("Pre-Depends") ?? ""
        provides = field("Provides") ?? ""
        conflicts = field("Conflicts") ?? ""
        breaks = field("Breaks") ?? ""
        priority = field("Priority")
        essential = field("Essential")?.lowercased() == "yes"
        filename = field("Filename") ?? ""
        size = field("Size").flatMap { Int64($0) } ?? 0
        sha256 = field("SHA256")?.lowercased() ?? ""
        self.repository = repository
    }
}
