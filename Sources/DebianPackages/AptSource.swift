/// One Debian repository to install from: a URI, a suite, its components, the
/// key its Release must be signed with, and (optionally) the architectures it
/// serves. Read from a base's `/etc/apt/sources.list{,.d/*.list,.d/*.sources}`
/// or from the recipe's `packages.repositories`.
public struct AptSource: Sendable, Hashable, CustomStringConvertible {
    public var uri: String
    public var suite: String
    public var components: [String]
    /// Where the keyring is: a path inside the base (`/usr/share/keyrings/…`),
    /// a local file (recipe), or nil for apt's default trusted keyrings.
    public var signedBy: String?
    /// An ASCII-armored key block written inline in a deb822 `Signed-By:`.
    public var inlineKey: String?
    public var architectures: [String]?

    public init(uri: String, suite: String, components: [String], signedBy: String? = nil,
                inlineKey: String? = nil, architectures: [String]? = nil) {
        self.uri = uri.hasSuffix("/") ? String(uri.dropLast()) : uri
        self.suite = suite
        self.components = components
        self.signedBy = signedBy
        self.inlineKey = inlineKey
        self.architectures = architectures
    }

    public var description: String { "\(uri) \(suite) \(components.joined(separator: " "))" }

    /// Where the suite's files are: `URI/dists/SUITE`, or the flat `URI/SUITE` of a suite ending in `/`.
    public var distsURL: String {
        suite.hasSuffix("/") ? "\(uri)/\(suite.dropLast())" : "\(uri)/dists/\(suite)"
    }

    /// `deb [options] URI SUITE COMPONENT…` lines; `deb-src` and comments skipped.
    public static func parseList(_ text: String) -> [AptSource] {
        var sources: [AptSource] = []
        for rawLine in text.split(separator: "\n") {
            var line = Substring(rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            line = Substring(line.trimmingSpaces)
            guard line.hasPrefix("deb ") || line.hasPrefix("deb\t") else { continue }
            line = line.dropFirst(4)
            var options: [String: String] = [:]
            line = Substring(line.trimmingSpaces)
            if line.hasPrefix("["), let close = line.firstIndex(of: "]") {
                for option in line[line.index(after: line.startIndex)..<close].split(separator: " ") {
                    let pair = option.split(separator: "=", maxSplits: 1)
                    if pair.count == 2 { options[String(pair[0]).lowercased()] = String(pair[1]) }
                }
                line = line[line.index(after: close)...]
            }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard words.count >= 2 else { continue }
            sources.append(AptSource(uri: words[0], suite: words[1], components: Array(words.dropFirst(2)),
                                     signedBy: options["signed-by"], architectures: options["arch"]?.split(separator: ",").map(String.init)))
        }
        return sources
    }

    /// deb822 `.sources` stanzas: `Types`, `URIs`, `Suites`, `Components`,
    /// `Signed-By` (a path or an inline key), `Architectures`, `Enabled`.
    public static func parseDeb822(_ text: String) -> [AptSource] {
        var sources: [AptSource] = []
        for stanza in ControlStanza.parse(text) {
            let types = (stanza["Types"] ?? "").split(whereSeparator: \.isWhitespace)
            guard types.contains("deb"), (stanza["Enabled"] ?? "yes").lowercased() != "no" else { continue }
            let words = { (field: String) in (stanza[field] ?? "").split(whereSeparator: \.isWhitespace).map(String.init) }
            var signedBy: String?
            var inlineKey: String?
            if let value = stanza["Signed-By"] {
                if value.contains("BEGIN PGP PUBLIC KEY BLOCK") {
                    // Continuation lines; a lone "." stands for an empty line.
                    inlineKey = value.split(separator: "\n", omittingEmptySubsequences: false)
                        .map { line in let text = line.trimmingSpaces; return text == "." ? "" : text }
                        .joined(separator: "\n")
                } else {
                    signedBy = value.split(whereSeparator: \.isWhitespace).first.map(String.init)
                }
            }
            let architectures = words("Architectures")
            for uri in words("URIs") {
                for suite in words("Suites") {
                    sources.append(AptSource(uri: uri, suite: suite, components: words("Components"), signedBy: signedBy,
                                             inlineKey: inlineKey, architectures: architectures.isEmpty ? nil : architectures))
                }
            }
        }
        return sources
    }
}
