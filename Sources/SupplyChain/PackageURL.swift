import OCI
import HTTP
import Layering
import ImageContents

/// Package URLs (github.com/package-url/purl-spec), the identifiers scanners match
/// SBOM entries by: `pkg:deb/debian/bash@5.2.15-2?arch=amd64`,
/// `pkg:pypi/flask@3.1.3`, `pkg:oci/app@sha256%3A…?repository_url=…`.
enum PackageURL {
    static func deb(_ package: OSPackage, distribution: String = "debian") -> String {
        var purl = "pkg:deb/\(distribution)/\(encode(package.name))@\(encode(package.version))"
        var qualifiers: [String] = []
        if let arch = package.architecture { qualifiers.append("arch=\(encode(arch))") }
        if let source = package.source { qualifiers.append("upstream=\(encode(source))") }
        if !qualifiers.isEmpty { purl += "?" + qualifiers.joined(separator: "&") }
        return purl
    }

    static func apk(_ package: OSPackage) -> String {
        "pkg:apk/alpine/\(encode(package.name))@\(encode(package.version))" + (package.architecture.map { "?arch=\(encode($0))" } ?? "")
    }

    /// PyPI names are normalized: lower case, runs of `-_.` as one `-` (PEP 503).
    static func pypi(_ package: PythonPackage) -> String {
        var name = ""
        var lastWasSeparator = false
        for character in package.name.lowercased() {
            if character == "-" || character == "_" || character == "." {
                if !lastWasSeparator { name.append("-") }
                lastWasSeparator = true
            } else {
                name.append(character)
                lastWasSeparator = false
            }
        }
        return "pkg:pypi/\(encode(name))@\(encode(package.version))"
    }

    /// An OCI image by digest; its repository as a qualifier when known.
    static func oci(repository: String?, digest: Digest, architecture: String? = nil) -> String {
        let name = repository.map { String($0.split(separator: "/").last ?? Substring($0)) } ?? "image"
        var qualifiers: [String] = []
        if let architecture { qualifiers.append("arch=\(encode(architecture))") }
        if let repository { qualifiers.append("repository_url=\(encode(repository, keeping: "/:"))") }
        return "pkg:oci/\(encode(name))@\(encode(digest.description))" + (qualifiers.isEmpty ? "" : "?" + qualifiers.joined(separator: "&"))
    }

    /// Percent-encodes everything but unreserved characters and `+` (purl's rule
    /// for segments and qualifier values), and whatever `kept` names.
    static func encode(_ text: String, keeping kept: String = "") -> String {
        PercentEncoding.encode(text) { PercentEncoding.isUnreserved($0) || $0 == UInt8(ascii: "+") || kept.utf8.contains($0) }
    }
}
