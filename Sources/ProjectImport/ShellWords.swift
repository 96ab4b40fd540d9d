/// The word rules Docker applies to instruction arguments (buildkit's shell
/// lexer, the parts a translation needs): `$VAR`, `${VAR}`, `${VAR:-default}`
/// and `${VAR:+alternative}` substitution, and words split on blanks with
/// single quotes, double quotes and backslash escapes.
enum ShellWords {
    /// A quote opened at `offset` (characters into the text) and never closed.
    struct UnclosedQuote: Error {
        var quote: Character
        var offset: Int
    }

    /// Substitutes variables; an unknown one is empty (`:-` gives its default), `\$` is a `$`.
    static func expand(_ text: String, _ variables: [String: String]) -> String {
        var unknown: [(name: String, offset: Int)] = []
        return expand(text, variables, unknown: &unknown)
    }

    /// The same, listing each variable that has no value and no default, with its offset.
    static func expand(_ text: String, _ variables: [String: String], unknown: inout [(name: String, offset: Int)]) -> String {
        var result = ""
        let all = Array(text)
        var characters = all[...]
        var inSingleQuotes = false
        while let character = characters.popFirst() {
            if character == "'" { inSingleQuotes.toggle() }
            if character == "\\", let next = characters.first, next == "$" {
                result.append("$")
                characters = characters.dropFirst()
                continue
            }
            guard character == "$", !inSingleQuotes, let next = characters.first else { result.append(character); continue }
            let offset = characters.startIndex - 1
            if next == "{" {
                guard let close = characters.firstIndex(of: "}") else { result.append(character); continue }
                let inner = String(characters[characters.index(after: characters.startIndex)..<close])
                characters = characters[characters.index(after: close)...]
                if let range = inner.firstRange(of: ":-") {
                    let value = variables[String(inner[..<range.lowerBound])] ?? ""
                    result += value.isEmpty ? expand(String(inner[range.upperBound...]), variables) : value
                } else if let range = inner.firstRange(of: ":+") {
                    let value = variables[String(inner[..<range.lowerBound])] ?? ""
                    result += value.isEmpty ? "" : expand(String(inner[range.upperBound...]), variables)
                } else {
                    if variables[inner] == nil { unknown.append((inner, offset)) }
                    result += variables[inner] ?? ""
                }
            } else if next.isLetter || next == "_" {
                let name = characters.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                characters = characters.dropFirst(name.count)
                if variables[String(name)] == nil { unknown.append((String(name), offset)) }
                result += variables[String(name)] ?? ""
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// Blank-separated words; quotes group (and are removed), a backslash takes the next character.
    /// Lenient: an unclosed quote runs to the end (`strictSplit` refuses it).
    static func split(_ text: String) -> [String] {
        (try? strictSplit(text)) ?? lenientSplit(text)
    }

    private static func lenientSplit(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map { String($0).filter { $0 != "\"" && $0 != "'" } }
    }

    /// Blank-separated words, or `UnclosedQuote` where a quote is never closed.
    static func strictSplit(_ text: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var quoteOffset = 0
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            if let open = quote {
                if character == open { quote = nil; continue }
                if character == "\\", open == "\"", let next = characters.first, next == "\"" || next == "\\" || next == "$" {
                    current.append(next)
                    characters = characters.dropFirst()
                    continue
                }
                current.append(character)
                continue
            }
            switch character {
            case " ", "\t", "\n":
                if inWord { words.append(current); current = ""; inWord = false }
            case "\"", "'":
                quote = character
                quoteOffset = characters.startIndex - 1
                inWord = true
            case "\\":
                if let next = characters.popFirst() { current.append(next) }
                inWord = true
            default:
                current.append(character)
                inWord = true
            }
        }
        if let quote { throw UnclosedQuote(quote: quote, offset: quoteOffset) }
        if inWord { words.append(current) }
        return words
    }
}
