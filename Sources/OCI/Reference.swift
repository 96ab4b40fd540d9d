import Diagnostics

/// An image reference `[registry/]repository[:tag][@digest]`, parsed by the rules
/// of distribution's reference grammar (reference/regexp.go): docker.io is the
/// default registry and single-name Docker Hub repositories live under `library/`.
public struct Reference: Hashable, Sendable, CustomStringConvertible {
    public static let defaultRegistry = "docker.io"

    public var registry: String
    public var repository: String
    public var tag: String?
    public var digest: Digest?

    public init(parsing text: String) throws {
        func invalid(_ why: String) -> Failure {
            Failure(.usage, "invalid image reference '\(text)': \(why)")
        }
        guard !text.isEmpty else { throw invalid("it is empty") }
        var rest = Substring(text)
        if let at = rest.firstIndex(of: "@") {
            do { digest = try Digest(String(rest[rest.index(after: at)...])) }
            catch { throw invalid("the part after '@' is not a sha256 digest") }
            rest = rest[..<at]
        }
        // A tag follows the last ':' that comes after the last '/' (a ':' before
        // that belongs to a registry port).
        let lastSlash = rest.lastIndex(of: "/")
        if let colon = rest.lastIndex(of: ":"), lastSlash.map({ colon > $0 }) ?? true {
            let tag = String(rest[rest.index(after: colon)...])
            guard Reference.isValidTag(tag) else {
                throw invalid("tag '\(tag)' must be 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'")
            }
            self.tag = tag
            rest = rest[..<colon]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if components.count > 1, Reference.looksLikeRegistry(components[0]) {
            registry = components.removeFirst()
            guard Reference.isValidRegistry(registry) else { throw invalid("registry '\(registry)' is not a host[:port]") }
        } else {
            registry = Reference.defaultRegistry
        }
        if registry == Reference.defaultRegistry, components.count == 1 {
            components.insert("library", at: 0)
        }
        for component in components where !Reference.isValidPathComponent(component) {
            throw invalid("repository component '\(component)' must be lowercase letters and digits separated by '.', '_', '__' or '-'")
        }
        repository = components.joined(separator: "/")
        guard repository.utf8.count + registry.utf8.count + 1 <= 255 else {
            throw invalid("the name is longer than 255 characters")
        }
    }

    /// `registry/repository`, without tag or digest.
    public var name: String { "\(registry)/\(repository)" }

    public var description: String {
        var text = name
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    static func looksLikeRegistry(_ component: String) -> Bool {
        component.contains(".") || component.contains(":") || component == "localhost"
    }

    static func isValidRegistry(_ host: String) -> Bool {
        let parts = host.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let hostname = parts.first, !hostname.isEmpty else { return false }
        if parts.count == 2 {
            guard let port = Int(parts[1]), (1...65535).contains(port) else { return false }
        }
        return hostname.allSatisfy { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "[" || $0 == "]" }
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    public static func isValidPathComponent(_ component: String) -> Bool {
        let bytes = Array(component.utf8)
        guard let first = bytes.first, let last = bytes.last, isAlnum(first), isAlnum(last) else { return false }
        var index = 0
        while index < bytes.count {
            if isAlnum(bytes[index]) { index += 1; continue }
            var separator: [UInt8] = []
            while index < bytes.count, !isAlnum(bytes[index]) { separator.append(bytes[index]); index += 1 }
            let valid = separator == [46] || separator == [95] || separator == [95, 95] || separator.allSatisfy { $0 == 45 }
            if !valid { return false }
        }
        return true
    }

    /// `[\w][\w.-]{0,127}`
    public static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard (1...128).contains(bytes.count) else { return false }
        func word(_ c: UInt8) -> Bool { isAlnum(c) || (c >= 65 && c <= 90) || c == 95 }
        return word(bytes[0]) && bytes.allSatisfy { word($0) || $0 == 46 || $0 == 45 }
    }

    private static func isAlnum(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }
}
