import FoundationEssentials
import Glibc
import Diagnostics

/// Exclusion rules in .dockerignore syntax (docker docs "dockerignore-file";
/// moby/patternmatcher): one pattern a line, `#` comments, `!` re-includes, `*`
/// and `?` stay inside one path component, `**` spans any number, and a pattern
/// that matches a directory excludes everything below it. The last matching
/// pattern wins.
public struct IgnoreRules: Sendable {
    struct Pattern: Sendable {
        let text: String
        let negated: Bool
        let glob: GlobPattern
    }

    /// Excluded from every FileSet unless a `!` pattern brings them back.
    public static let defaultPatterns = [".git", "**/.git", "**/__pycache__"]

    private(set) var patterns: [Pattern] = []

    public init(patterns lines: [String], source: String = "ignore rules") throws {
        for (number, raw) in lines.enumerated() {
            // Docker trims white space, which takes the CR of CRLF files with it
            // (moby/patternmatcher ignorefile.ReadAll); a UTF-8 BOM opens some files.
            let unmarked = number == 0 && raw.unicodeScalars.first == "\u{FEFF}" ? String(raw.unicodeScalars.dropFirst()) : raw
            var line = unmarked.trimmingWhitespaceAndNewlines()
            if line.isEmpty || line.hasPrefix("#") { continue }
            var negated = false
            if line.hasPrefix("!") {
                negated = true
                line = String(line.dropFirst()).trimmingWhitespace()
            }
            let cleaned = IgnoreRules.clean(line)
            if cleaned.isEmpty || cleaned == "." { continue }
            do {
                patterns.append(Pattern(text: cleaned, negated: negated, glob: try GlobPattern(cleaned)))
            } catch {
                throw Failure(.invalidInput, "\(source):\(number + 1): invalid pattern '\(raw)'; check its [ ] brackets", cause: error)
            }
        }
    }

    /// Default patterns, then `.gantryignore` or else `.dockerignore` from `directory`, then `extra`.
    public static func load(directory: String, extra: [String]) throws -> IgnoreRules {
        var rules = try IgnoreRules(patterns: defaultPatterns)
        for name in [".gantryignore", ".dockerignore"] {
            let path = directory + "/" + name
            if FileManager.default.fileExists(atPath: path) {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw Failure(.missingInput, "cannot read \(path) as UTF-8 text")
                }
                // "\r\n" is one Character in Swift: split on any line ending, as Docker's scanner does.
                let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
                rules.patterns += try IgnoreRules(patterns: lines, source: path).patterns
                break
            }
        }
        rules.patterns += try IgnoreRules(patterns: extra, source: "ignore list").patterns
        return rules
    }

    /// Whether `path` (relative, `/`-separated) is excluded: its matches are built
    /// from the top directory down, as a walk builds them.
    public func excludes(_ path: String) -> Bool {
        guard !patterns.isEmpty else { return false }
        var matches: Matches?
        var prefix = ""
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
            matches = self.matches(prefix, parent: matches)
        }
        return matches.map(excludes) ?? false
    }

    /// True when some `!` pattern might re-include something below an excluded
    /// directory, so the walk has to look inside it.
    public var hasExceptions: Bool { patterns.contains { $0.negated } }

    /// Which patterns match a path or one of its parent directories. A walk keeps a
    /// directory's set and derives its children's from it, so each path is matched
    /// once per pattern rather than once per pattern and parent.
    public struct Matches: Sendable {
        fileprivate var matched: [Bool]
    }

    /// The set for `path`, whose parent directory's set is `parent` (nil for a top-level name).
    public func matches(_ path: String, parent: Matches?) -> Matches {
        var matched = parent?.matched ?? Array(repeating: false, count: patterns.count)
        var scalars: [Unicode.Scalar]?  // made only for a pattern the suffix test lets through
        for index in patterns.indices where !matched[index] && patterns[index].glob.mayMatch(path) {
            let path = scalars ?? Array(path.unicodeScalars)
            scalars = path
            matched[index] = patterns[index].glob.matches(path, 0..<path.count)
        }
        return Matches(matched: matched)
    }

    /// Whether a path with these matches is excluded: the last matching pattern decides.
    public func excludes(_ matches: Matches) -> Bool {
        guard let last = matches.matched.lastIndex(of: true) else { return false }
        return !patterns[last].negated
    }

    /// Like Go's filepath.Clean, then without a leading `/` (patterns are relative to the context).
    static func clean(_ pattern: String) -> String {
        var parts: [String] = []
        for part in pattern.split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            parts.append(String(part))
        }
        return parts.joined(separator: "/")
    }
}
