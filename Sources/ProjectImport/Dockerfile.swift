import FoundationEssentials
import Diagnostics

/// A Dockerfile read as Docker's parser reads it (moby/buildkit's
/// `frontend/dockerfile/parser`): parser directives (`# syntax=`, `# escape=`)
/// before anything else, the escape character continuing a line, comment and
/// blank lines inside a continuation skipped, case-insensitive keywords, flags
/// (`--chown=…`), JSON (exec) form when the arguments are a JSON array of
/// strings and shell form otherwise, and heredocs (`RUN <<EOF … EOF`, `<<-` strips
/// leading tabs). Read, never run.
public struct Dockerfile: Sendable {
    public struct Instruction: Sendable, Equatable {
        /// Upper case: `FROM`, `RUN`, `COPY`…
        public var keyword: String
        /// Leading `--name=value` flags (`--chown`, `--from`, `--platform`, `--interval`…).
        public var flags: [String: String]
        public var arguments: Arguments
        /// Heredoc bodies, in order, by their delimiter word.
        public var heredocs: [Heredoc]
        /// The line the instruction starts on (1-based).
        public var line: Int
        /// The column its arguments start at on that line (1-based), for messages.
        public var column: Int = 1
    }

    /// `<<NAME` and the lines up to `NAME`.
    public struct Heredoc: Sendable, Equatable {
        public var name: String
        public var body: String
    }

    public enum Arguments: Sendable, Equatable {
        /// `["python3", "app.py"]`
        case exec([String])
        /// Everything after the keyword (and flags) as written, continuations joined.
        case shell(String)

        public var text: String {
            switch self {
            case .exec(let words): return words.joined(separator: " ")
            case .shell(let text): return text
            }
        }
    }

    public var directives: [String: String] = [:]
    public var instructions: [Instruction] = []
    /// How messages name the file.
    public let path: String

    static let keywords: Set<String> = ["ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
                                        "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"]
    /// Instructions whose arguments may be JSON (exec) form.
    static let jsonForms: Set<String> = ["CMD", "ENTRYPOINT", "RUN", "SHELL", "VOLUME", "COPY", "ADD"]
    static let flagged: Set<String> = ["FROM", "RUN", "COPY", "ADD", "HEALTHCHECK"]

    public init(text: String, path: String) throws {
        self.path = path
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        var escape: Character = "\\"
        var index = 0
        // Directives: `# key=value` lines at the very top; anything else ends them.
        while index < lines.count, let (key, value) = Self.directive(lines[index]) {
            guard directives[key] == nil else { throw error(line: index + 1, column: 1, "only one \(key) parser directive can be used") }
            directives[key] = value
            if key == "escape" {
                guard value == "\\" || value == "`" else { throw error(line: index + 1, column: 1, "invalid escape token '\(value)' does not match ` or \\") }
                escape = Character(value)
            }
            index += 1
        }
        while index < lines.count {
            let first = index
            let trimmed = lines[index].trimmingLeadingSpace
            index += 1
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            // A logical line: continuations joined, comment and blank lines inside skipped.
            var logical = ""
            var current = trimmed
            while true {
                let (body, continues) = Self.stripContinuation(current, escape: escape)
                logical += body
                guard continues else { break }
                while index < lines.count, lines[index].trimmingLeadingSpace.hasPrefix("#") || lines[index].trimmingLeadingSpace.isEmpty {
                    index += 1
                }
                guard index < lines.count else { break }
                current = lines[index]
                index += 1
            }
            let indent = lines[first].count - trimmed.count
            instructions.append(try instruction(logical, line: first + 1, indent: indent, lines: lines, next: &index))
        }
    }

    /// A parse or translation error in Docker's `file:line:column` form.
    func error(line: Int, column: Int, _ message: String) -> Failure {
        Failure(.invalidInput, "\(path):\(line):\(column): dockerfile parse error: \(message); fix the Dockerfile (docker build would refuse it too)")
    }

    private static func directive(_ line: String) -> (String, String)? {
        let text = line.trimmingLeadingSpace
        guard text.hasPrefix("#") else { return nil }
        let body = text.dropFirst().trimmingLeadingSpace
        guard let equals = body.firstIndex(of: "=") else { return nil }
        let key = body[..<equals].trimmingTrailingSpace.lowercased()
        guard ["syntax", "escape", "check"].contains(key) else { return nil }
        return (key, String(body[body.index(after: equals)...]).trimmingLeadingSpace.trimmingTrailingSpace)
    }

    /// A line without its trailing escape character (and the spaces after it), and whether it continues.
    private static func stripContinuation(_ line: String, escape: Character) -> (String, Bool) {
        let trimmed = line.trimmingTrailingSpace
        guard trimmed.last == escape else { return (line, false) }
        return (String(trimmed.dropLast()), true)
    }

    private func instruction(_ logical: String, line: Int, indent: Int, lines: [String], next index: inout Int) throws -> Instruction {
        let keywordEnd = logical.firstIndex(where: { $0 == " " || $0 == "\t" }) ?? logical.endIndex
        let keyword = logical[..<keywordEnd].uppercased()
        guard Self.keywords.contains(keyword) else {
            throw error(line: line, column: indent + 1, "unknown instruction: \(logical[..<keywordEnd])")
        }
        var rest = logical[keywordEnd...].trimmingLeadingSpace
        var flags: [String: String] = [:]
        if Self.flagged.contains(keyword) {
            while rest.hasPrefix("--") {
                let end = rest.firstIndex(where: { $0 == " " || $0 == "\t" }) ?? rest.endIndex
                let flag = rest[rest.index(rest.startIndex, offsetBy: 2)..<end]
                let parts = flag.split(separator: "=", maxSplits: 1)
                flags[String(parts[0]).lowercased()] = parts.count > 1 ? String(parts[1]) : ""
                rest = rest[end...].trimmingLeadingSpace
            }
        }
        var heredocs: [Heredoc] = []
        if ["RUN", "COPY", "ADD"].contains(keyword) {
            for (name, stripTabs) in Self.heredocNames(in: rest) {
                var body: [String] = []
                var closed = false
                while index < lines.count {
                    let raw = lines[index]
                    index += 1
                    let text = stripTabs ? String(raw.drop { $0 == "\t" }) : raw
                    if text == name { closed = true; break }
                    body.append(text)
                }
                guard closed else { throw error(line: line, column: 1, "heredoc <<\(name) is not closed by a line '\(name)'") }
                heredocs.append(Heredoc(name: name, body: body.map { $0 + "\n" }.joined()))
            }
        }
        var arguments = Arguments.shell(rest.trimmingTrailingSpace)
        if Self.jsonForms.contains(keyword) || (keyword == "HEALTHCHECK"), rest.hasPrefix("["),
           let words = try? JSONDecoder().decode([String].self, from: Data(rest.utf8)) {
            arguments = .exec(words)
        }
        if keyword == "FROM" || keyword == "WORKDIR" || keyword == "USER", rest.isEmpty {
            throw error(line: line, column: keyword.count + 1, "\(keyword) requires an argument")
        }
        let column = indent + logical.count - rest.count + 1
        return Instruction(keyword: keyword, flags: flags, arguments: arguments, heredocs: heredocs, line: line, column: column)
    }

    /// `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` in a RUN/COPY/ADD line, in order.
    static func heredocNames(in text: String) -> [(String, Bool)] {
        var found: [(String, Bool)] = []
        var rest = Substring(text)
        while let range = rest.firstRange(of: "<<") {
            var after = rest[range.upperBound...]
            let stripTabs = after.hasPrefix("-")
            if stripTabs { after = after.dropFirst() }
            var quote: Character?
            if let first = after.first, first == "\"" || first == "'" { quote = first; after = after.dropFirst() }
            let name = after.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if quote != nil, after.dropFirst(name.count).first != quote { rest = after; continue }
            if !name.isEmpty { found.append((String(name), stripTabs)) }
            rest = after.dropFirst(name.count)
        }
        return found
    }
}

extension StringProtocol {
    var trimmingLeadingSpace: String { String(drop { $0 == " " || $0 == "\t" }) }
    var trimmingTrailingSpace: String { String(String(self).reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed()) }
}
