import YAML
import ByteStreams
import Diagnostics

/// The Mustache templates of `gantry deploy` (templates/k8s/*.yaml.mustache):
/// variables, sections, inverted sections, comments and the `CONTENT_TYPE`
/// pragma, with the spec's rule that a line holding only a section tag or a
/// comment leaves no blank line. Partials and delimiter changes are refused
/// with a clear error: the manifests do not need them.
///
/// gantry's own small renderer rather than swift-mustache, which imports
/// Foundation (see YAMLParser for why gantry links FoundationEssentials only).
struct MustacheTemplate {
    /// How `{{value}}` is escaped; `{{{value}}}` and `{{& value}}` never are.
    enum ContentType: String {
        /// A double-quoted YAML scalar (a JSON string): any text is safe.
        case yaml = "YAML"
        /// As the Mustache spec says by default.
        case html = "HTML"
        case text = "TEXT"
    }

    indirect enum Part {
        case text(String)
        case variable(name: String, escaped: Bool)
        case section(name: String, inverted: Bool, body: [Part])
    }

    let parts: [Part]
    let contentType: ContentType

    init(_ template: String) throws {
        var parser = MustacheParser(template)
        parts = try parser.parse()
        contentType = parser.contentType
    }

    /// The template in the file at `path`; a syntax error names the file.
    static func load(path: String) throws -> MustacheTemplate {
        let text = String(decoding: try FileReader.readSmallFile(path), as: UTF8.self)
        do { return try MustacheTemplate(text) } catch let failure as Failure {
            throw Failure(.invalidInput, "template \(path): \(failure.message)", cause: failure)
        }
    }

    /// Renders with `context`: values are String, Bool, numbers, arrays and
    /// `[String: Any]` dictionaries, as a JSON-like tree.
    func render(_ context: [String: Any]) -> String {
        var output = ""
        render(parts, stack: [context], into: &output)
        return output
    }

    private func render(_ parts: [Part], stack: [Any], into output: inout String) {
        for part in parts {
            switch part {
            case .text(let text):
                output += text
            case .variable(let name, let escaped):
                guard let value = Self.lookup(name, in: stack), let text = Self.text(of: value) else { continue }
                output += escaped ? escape(text) : text
            case .section(let name, let inverted, let body):
                let value = Self.lookup(name, in: stack)
                if inverted {
                    if !Self.isTruthy(value) { render(body, stack: stack, into: &output) }
                } else if let list = value as? [Any] {
                    for item in list { render(body, stack: stack + [item], into: &output) }
                } else if let value, Self.isTruthy(value) {
                    render(body, stack: value is Bool ? stack : stack + [value], into: &output)
                }
            }
        }
    }

    /// `.` is the current item; `a.b` finds `a` up the stack, then `b` inside it.
    static func lookup(_ name: String, in stack: [Any]) -> Any? {
        if name == "." { return stack.last }
        let keys = name.split(separator: ".").map(String.init)
        guard let first = keys.first else { return nil }
        guard var value = stack.reversed().lazy.compactMap({ ($0 as? [String: Any])?[first] }).first else { return nil }
        for key in keys.dropFirst() {
            guard let next = (value as? [String: Any])?[key] else { return nil }
            value = next
        }
        return value
    }

    static func isTruthy(_ value: Any?) -> Bool {
        switch value {
        case nil: return false
        case let flag as Bool: return flag
        case let list as [Any]: return !list.isEmpty
        default: return true
        }
    }

    static func text(of value: Any) -> String? {
        switch value {
        case let text as String: return text
        case let flag as Bool: return flag ? "true" : "false"
        case let number as Int: return String(number)
        case let number as Double: return String(number)
        default: return nil
        }
    }

    func escape(_ text: String) -> String {
        switch contentType {
        case .text: return text
        case .yaml: return YAMLQuoting.doubleQuoted(text)
        case .html:
            var escaped = ""
            for character in text {
                switch character {
                case "&": escaped += "&amp;"
                case "<": escaped += "&lt;"
                case ">": escaped += "&gt;"
                case "\"": escaped += "&quot;"
                default: escaped.append(character)
                }
            }
            return escaped
        }
    }

}

/// Splits a template into text and tags, and tags into a tree of sections.
struct MustacheParser {
    private let characters: [Character]
    private var position = 0
    private var line = 1
    private(set) var contentType = MustacheTemplate.ContentType.html

    init(_ template: String) { characters = Array(template) }

    mutating func parse() throws -> [MustacheTemplate.Part] {
        let (parts, closing) = try parseParts(until: nil)
        if let closing { throw Failure(.invalidInput, "line \(line): {{/\(closing)}} closes no section") }
        return parts
    }

    /// Parts up to the `{{/name}}` that closes `section` (or the end).
    private mutating func parseParts(until section: String?) throws -> ([MustacheTemplate.Part], String?) {
        var parts: [MustacheTemplate.Part] = []
        var text = ""
        while position < characters.count {
            guard startsTag() else {
                if characters[position] == "\n" { line += 1 }
                text.append(characters[position])
                position += 1
                continue
            }
            let tagLine = line
            let tagStart = position
            let (kind, name, end) = try readTag()
            // A section, comment or pragma tag alone on its line takes the whole line with it.
            let standalone = kind != "" && kind != "{" && kind != "&" && isStandalone(tagStart: tagStart, tagEnd: end)
            if standalone {
                while let last = text.last, last == " " || last == "\t" { text.removeLast() }
            }
            position = end
            if standalone { skipRestOfLine() }
            if !text.isEmpty { parts.append(.text(text)); text = "" }
            switch kind {
            case "!":
                break
            case "%":
                try pragma(name, line: tagLine)
            case "#", "^":
                let (body, closing) = try parseParts(until: name)
                guard closing == name else {
                    throw Failure(.invalidInput, "line \(tagLine): section {{\(kind)\(name)}} is never closed; add {{/\(name)}}")
                }
                parts.append(.section(name: name, inverted: kind == "^", body: body))
            case "/":
                guard name == section else {
                    throw Failure(.invalidInput, "line \(tagLine): {{/\(name)}} does not close the open section\(section.map { " '\($0)'" } ?? "")")
                }
                return (parts, name)
            case ">":
                throw Failure(.invalidInput, "line \(tagLine): partials ({{>\(name)}}) are not supported in deploy templates; write the part inline")
            case "=":
                throw Failure(.invalidInput, "line \(tagLine): changing delimiters ({{=…=}}) is not supported in deploy templates")
            case "{", "&":
                parts.append(.variable(name: name, escaped: false))
            default:
                parts.append(.variable(name: name, escaped: true))
            }
        }
        if !text.isEmpty { parts.append(.text(text)) }
        return (parts, nil)
    }

    /// The tag at `position`: its sigil ("" for a variable), trimmed name, and the index after it.
    private func readTag() throws -> (String, String, Int) {
        var index = position + 2
        var kind = ""
        if index < characters.count, "#^/!%>={&".contains(characters[index]) {
            kind = String(characters[index])
            index += 1
        }
        let closer: [Character] = kind == "{" ? ["}", "}", "}"] : ["}", "}"]
        var name = ""
        while index < characters.count {
            if Array(characters[index..<min(index + closer.count, characters.count)]) == closer {
                let trimmed = name.trimming { $0 == " " || $0 == "\t" || $0 == "\n" }
                guard !trimmed.isEmpty || kind == "!" else { throw Failure(.invalidInput, "line \(line): empty tag {{\(kind)}}") }
                return (kind, trimmed, index + closer.count)
            }
            name.append(characters[index])
            index += 1
        }
        throw Failure(.invalidInput, "line \(line): tag {{\(kind)\(name.prefix(20)) is never closed; add \(String(closer))")
    }

    private mutating func pragma(_ text: String, line: Int) throws {
        let fields = text.split(separator: ":", maxSplits: 1).map { $0.trimming { $0 == " " } }
        guard fields.count == 2, fields[0] == "CONTENT_TYPE" else { return }  // other pragmas change nothing here
        guard let type = MustacheTemplate.ContentType(rawValue: fields[1]) else {
            throw Failure(.invalidInput, "line \(line): unknown CONTENT_TYPE '\(fields[1])'; use YAML, TEXT or HTML")
        }
        contentType = type
    }

    private func startsTag() -> Bool {
        position + 1 < characters.count && characters[position] == "{" && characters[position + 1] == "{"
    }

    /// Only spaces or tabs between the line's start and the tag, and between the tag and the line's end.
    private func isStandalone(tagStart: Int, tagEnd: Int) -> Bool {
        var before = tagStart - 1
        while before >= 0, characters[before] == " " || characters[before] == "\t" { before -= 1 }
        guard before < 0 || characters[before] == "\n" else { return false }
        var after = tagEnd
        while after < characters.count, characters[after] == " " || characters[after] == "\t" { after += 1 }
        return after == characters.count || characters[after] == "\n" || characters[after] == "\r"
    }

    private mutating func skipRestOfLine() {
        while position < characters.count, characters[position] == " " || characters[position] == "\t" || characters[position] == "\r" {
            position += 1
        }
        if position < characters.count, characters[position] == "\n" {
            position += 1
            line += 1
        }
    }
}

