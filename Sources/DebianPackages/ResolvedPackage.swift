import HTTP

/// A package chosen for the image, as recorded: enough to download it again and
/// check it (its URL and SHA-256), and to name it in the SBOM and a lock.
public struct ResolvedPackage: Sendable, Codable, Hashable {
    public var name: String
    public var version: String
    public var architecture: String
    public var url: String
    public var size: Int64
    public var sha256: String

    public init(_ package: DebianPackage) {
        name = package.name
        version = package.version.description
        architecture = package.architecture
        // As apt does, the index's file name is quoted for the URL (a `%` or a space in it is a byte of the name).
        url = package.repository + "/" + PercentEncoding.path(package.filename)
        size = package.size
        sha256 = package.sha256
    }

    /// A package as a lock file names it (gantry.lock): installed from `url`, checked against `sha256` and `size`.
    public init(name: String, version: String, architecture: String, url: String, size: Int64, sha256: String) {
        self.name = name
        self.version = version
        self.architecture = architecture
        self.url = url
        self.size = size
        self.sha256 = sha256
    }

    /// The file name the repository gives it, e.g. `curl_7.88.1-10+deb12u8_amd64.deb`.
    public var fileName: String { url.split(separator: "/").last.map(String.init) ?? name }
}
