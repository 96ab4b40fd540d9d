/// The OS packages of an image, read from its package manager's database:
/// Debian's dpkg `status` (and distroless's `status.d/` stanzas), Alpine's apk
/// `installed`. Only installed packages count (dpkg "install ok installed").
public struct OSPackage: Sendable, Equatable, Codable {
    public enum Manager: String, Sendable, Codable { case deb, apk }
    public var manager: Manager
    public var name: String
    public var version: String
    public var architecture: String?
    /// The source package, when it differs (dpkg `Source:`), for the purl's `upstream`.
    public var source: String?
    public var license: String?

    public init(manager: Manager, name: String, version: String, architecture: String? = nil,
                source: String? = nil, license: String? = nil) {
        self.manager = manager
        self.name = name
        self.version = version
        self.architecture = architecture
        self.source = source
        self.license = license
    }
}

public enum PackageDatabases {
    /// The paths, inside an image, of the databases this reads.
    public static func isDatabase(_ path: String) -> Bool {
        path == "var/lib/dpkg/status" || path == "lib/apk/db/installed"
            || (path.hasPrefix("var/lib/dpkg/status.d/") && !path.hasSuffix(".md5sums"))
    }

    /// dpkg's status file (RFC 822-like stanzas separated by blank lines).
    public static func dpkgPackages(_ text: String) -> [OSPackage] {
        stanzas(text).compactMap { fields in
            guard let name = fields["Package"], let version = fields["Version"] else { return nil }
            // status.d stanzas (distroless) carry no Status: they are installed by construction.
            if let status = fields["Status"], !status.hasSuffix(" installed") { return nil }
            // "Source: name (version)" names the source package; the version part is dropped.
            let source = fields["Source"].map { String($0.split(separator: " ").first ?? "") }.flatMap { $0.isEmpty || $0 == name ? nil : $0 }
            return OSPackage(manager: .deb, name: name, version: version, architecture: fields["Architecture"], source: source)
        }
    }

    /// apk's installed database (`P:` name, `V:` version, `A:` arch, `L:` license).
    public static func apkPackages(_ text: String) -> [OSPackage] {
        var packages: [OSPackage] = []
        for block in text.split(separator: "\n\n", omittingEmptySubsequences: true) {
            var fields: [Character: String] = [:]
            for line in block.split(whereSeparator: \.isNewline) where line.count > 2 && line.dropFirst().first == ":" {
                if let key = line.first, fields[key] == nil { fields[key] = String(line.dropFirst(2)) }
            }
            guard let name = fields["P"], let version = fields["V"] else { continue }
            packages.append(OSPackage(manager: .apk, name: name, version: version, architecture: fields["A"], license: fields["L"]))
        }
        return packages
    }

    /// Stanzas of `Field: value` lines; continuation lines (leading space) are skipped.
    static func stanzas(_ text: String) -> [[String: String]] {
        var result: [[String: String]] = []
        var current: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty || line == "\r" {
                if !current.isEmpty { result.append(current) }
                current = [:]
                continue
            }
            guard line.first != " ", line.first != "\t", let colon = line.firstIndex(of: ":") else { continue }
            let key = String(line[..<colon])
            var value = line[line.index(after: colon)...]
            while value.first == " " { value = value.dropFirst() }
            if current[key] == nil { current[key] = String(value.hasSuffix("\r") ? value.dropLast() : value) }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}
